"""Kling's rules for media inputs, and where a model's body takes them: pure, no I/O.

The image rules are the ones Kling states for its image inputs (the OpenAPI files carry none of
them): JPG/JPEG or PNG, at most 20 MB, the shorter side at least 300 px, an aspect ratio between
2:5 and 5:2. Formats are read from the bytes, never from the file name.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from airflow_provider_kling.models.catalog import get_model, is_catalogued
from airflow_provider_kling.models.media_values import media_value_problem

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MIN_IMAGE_SIDE = 300
ASPECT_RANGE: tuple[float, float] = (2 / 5, 5 / 2)
IMAGE_FORMATS: tuple[str, ...] = ("JPEG", "PNG")


@dataclass(frozen=True)
class MediaFacts:
    """What the bytes of one media input are.

    :param kind: ``image``, ``video`` or ``audio`` (what the field takes).
    :param size: bytes.
    :param format: ``PNG``, ``JPEG``, ``MP4`` ... or ``None`` when unrecognised.
    :param width: pixels (images only).
    :param height: pixels (images only).
    """

    kind: str
    size: int
    format: str | None
    width: int | None = None
    height: int | None = None

    def summary(self) -> str:
        """``412 KB, PNG 1024×1024`` — for the log line naming the input."""
        dims = f" {self.width}×{self.height}" if self.width and self.height else ""
        return f"{human_size(self.size)}, {self.format or 'unknown format'}{dims}"


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def inspect_media(kind: str, data: bytes) -> MediaFacts:
    """Read the format (and an image's size in pixels) from the bytes themselves."""
    if kind == "image":
        return _inspect_image(data)
    return MediaFacts(kind, len(data), _container_format(data))


def _inspect_image(data: bytes) -> MediaFacts:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as image:  # reads the header only, not the pixels
            return MediaFacts("image", len(data), image.format, image.width, image.height)
    except (UnidentifiedImageError, OSError, ValueError):
        return MediaFacts("image", len(data), None)


def _container_format(data: bytes) -> str | None:
    head = data[:16]
    if head[4:8] == b"ftyp":
        return "MP4"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "MP3"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "WAV"
    if head.startswith((b"OggS", b"fLaC")):
        return head[:4].decode()
    return None


def media_problems(model: str, location: str, source: str, facts: MediaFacts) -> list[str]:
    """Every Kling rule ``facts`` breaks, each naming the model, the field and the file."""
    where = f"{location} of {model} ({source})"
    if facts.kind != "image":
        if facts.format is None:
            wanted = "an MP4/MOV video" if facts.kind == "video" else "an MP3, WAV, M4A or OGG audio file"
            return [f"{where} is not {wanted} by its bytes"]
        return []
    if facts.format not in IMAGE_FORMATS:
        found = f"a {facts.format} image" if facts.format else "not an image"
        return [f"{where} is {found} by its bytes; Kling takes JPG/JPEG or PNG"]
    problems = []
    if facts.size > MAX_IMAGE_BYTES:
        problems.append(f"{where} is {human_size(facts.size)}; Kling takes images of at most 20 MB")
    width, height = facts.width or 0, facts.height or 0
    if min(width, height) < MIN_IMAGE_SIDE:
        problems.append(f"{where} is {width}×{height}; Kling needs the shorter side to be at least {MIN_IMAGE_SIDE} px")
    low, high = ASPECT_RANGE
    if height and not low <= width / height <= high:
        problems.append(f"{where} is {width}×{height}; Kling takes aspect ratios between 2:5 and 5:2")
    return problems


#: Where a model the catalog does not know (``allow_unknown_model``) is assumed to take media.
UNKNOWN_MODEL_MEDIA = {"image_url": "image", "tail_image_url": "image", "video_url": "video", "audio_url": "audio"}


def media_of(model: str) -> Mapping[str, str]:
    """The media map of ``model`` (see :func:`media_locations`): the catalog's, else :data:`UNKNOWN_MODEL_MEDIA`."""
    return get_model(model).media if is_catalogued(model) else UNKNOWN_MODEL_MEDIA


def media_locations(body: Mapping[str, Any], media: Mapping[str, str]) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path into ``body``, kind) of every media value present, e.g. ``(("image_list", 1), "image")``.

    :param media: the catalog's media map (``{"image_list[]": "image", "elements[].frontal_image_url": ...}``).
    """
    for pattern, kind in media.items():
        for path in _expand(body, _parts(pattern)):
            yield path, kind


def value_at(body: Mapping[str, Any], path: tuple[Any, ...]) -> Any:
    """The value at ``path`` (from :func:`media_locations`) in ``body``."""
    node: Any = body
    for part in path:
        node = node[part]
    return node


def media_value_problems(model: str, body: Mapping[str, Any], media: Mapping[str, str]) -> list[str]:
    """Every media value of ``body`` that cannot be read as media at all (a misspelt ``data:`` URI ...).

    Each names the model and the field; checked with the rest of the request, before any file is read.
    """
    found = (
        media_value_problem(model, location_name(path), value_at(body, path))
        for path, _ in media_locations(body, media)
    )
    return [problem for problem in found if problem]


def _parts(pattern: str) -> list[str]:
    parts: list[str] = []
    for name in pattern.split("."):
        if name.endswith("[]"):
            parts += [name[:-2], "[]"]
        else:
            parts.append(name)
    return parts


def _expand(node: Any, parts: list[str], prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if not parts:
        if isinstance(node, str) or _is_path_object(node):
            yield prefix
        return
    head, rest = parts[0], parts[1:]
    if head == "[]":
        if isinstance(node, list):
            for index, item in enumerate(node):
                yield from _expand(item, rest, (*prefix, index))
        return
    if isinstance(node, Mapping) and head in node:
        yield from _expand(node[head], rest, (*prefix, head))


def _is_path_object(value: Any) -> bool:
    """An ``ObjectStoragePath`` or ``pathlib.Path`` (anything path-like that is not a string)."""
    return hasattr(value, "__fspath__") or type(value).__name__ == "ObjectStoragePath"


def location_name(path: tuple[Any, ...]) -> str:
    """``("elements", 0, "frontal_image_url")`` -> ``elements[0].frontal_image_url``."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name
