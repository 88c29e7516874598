"""Test inputs: images made with Pillow, and a minimal valid request for any catalogued model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow_provider_kling.models.catalog import ModelSpec

#: Media the API is given by URL in tests: sent as is, never read (the simulator cannot fetch them).
VIDEO_URL = "https://cdn.example.com/inputs/dance.mp4"
AUDIO_URL = "https://cdn.example.com/inputs/voice.mp3"
IMAGE_URL = "https://cdn.example.com/inputs/mug.png"


def write_image(path: Path, width: int, height: int, *, fmt: str = "PNG", pad_to: int = 0) -> Path:
    """A solid-colour image; ``pad_to`` appends zero bytes up to that size (still a valid image)."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (width, height), (200, 120, 40)).save(path, format=fmt)
    if pad_to > path.stat().st_size:
        with path.open("ab") as handle:
            handle.write(bytes(pad_to - path.stat().st_size))
    return path


def minimal_params(spec: ModelSpec, image: Any, *, endpoint: str | None = None) -> dict[str, Any]:
    """The smallest body the model's documented schema accepts, built from the catalog alone.

    Required fields get a value of their documented kind (the first enum value, the minimum
    number of list items); a text-to-video model also gets a prompt. Images are ``image``
    (a path, URI or URL); videos and audio are URLs.
    """
    schema = spec.endpoints[endpoint or spec.default_endpoint]
    fields = schema.fields
    params: dict[str, Any] = {"model": spec.id}
    wanted = [name for name in schema.required if name != "model"]
    if spec.mode == "text-to-video" and "prompt" in fields and "prompt" not in wanted:
        wanted.append("prompt")
    for name in wanted:
        params[name] = _value_for(name, fields[name], image)
    return params


def _value_for(name: str, field: dict[str, Any], image: Any) -> Any:
    options = field.get("anyOf") or [field]
    field = next((option for option in options if option.get("type") != "null"), field)
    if "enum" in field:
        return field["enum"][0]
    if name.startswith("video"):
        return VIDEO_URL
    if name.startswith("audio"):
        return AUDIO_URL
    if field.get("type") == "array":
        return [image] * max(1, field.get("minItems", 1))
    if name.endswith("_url") or name.endswith("mask"):
        return image
    if field.get("type") == "string":
        return "a ceramic mug turning slowly on a wooden table"
    raise ValueError(f"no test value for required field {name!r}: {field}")
