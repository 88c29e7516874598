"""Build the model catalog (``airflow_provider_kling/models/catalog.json``) from the API's OpenAPI files.

    python scripts/build_catalog.py            # reads ../shared/api, writes the catalog
    python scripts/build_catalog.py --check    # exit 1 if the shipped catalog differs

Every Kling video model's create schema, per create path, with descriptions and examples
stripped: what remains is what a request is checked against (types, enums, ranges, required
fields, defaults, list lengths). Media inputs (image, video and audio URLs, wherever they sit in
the body) are listed per model, so the provider knows which fields may take a file.

Where two files document the same model on the same path, the model's own file wins; each such
decision is written in ``OWN_FILE`` below, with the reason. Any other conflict stops the build.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness.openapi import inline_refs  # noqa: E402

SHARED_API = REPO.parent / "shared" / "api"
CATALOG = REPO / "airflow_provider_kling" / "models" / "catalog.json"
LEGACY_PATH = "/v2/generate/video/kling/generation"
ENDPOINT_OF_PATH = {"/v2/generate/video/kling/generation": "legacy", "/v2/video/generations": "unified"}
#: Keys of the OpenAPI schemas that say nothing a request is checked against.
DROPPED_KEYS = frozenset({"description", "example", "examples", "title"})
#: Besides kling-models/, the legacy path's own text-to-video file (the product was specified from it).
EXTRA_FILES = ("kling-generation.create.current.openapi.json",)
#: The legacy path's full request union, kept in that file's components though no operation $refs it
#: (FACTS.txt). It is the only document of several models on the legacy path (v1.5 standard
#: text-to-video, the v2 masters, effects, multi-image …), which the product has always sent there;
#: it is read last, so a file that documents a model by an operation always wins over it.
LEGACY_UNION = ("kling-generation.create.current.openapi.json", "Kling.v2.SubmitGenerationPayloadDTO")

#: (model, endpoint) -> the file whose schema wins when several files document it.
OWN_FILE: dict[tuple[str, str], str] = {
    # v1.5-standard-text-to-video.json is a copy-paste slip of the docs: it holds this image-to-video
    # model's schema, not a text-to-video one. The model's own file is the truth.
    ("kling-video/v1.5/standard/image-to-video", "unified"): "v1.5-standard-image-to-video.json",
}

#: How a model id names its mode, most specific first.
MODES = (
    "multi-image-to-video",
    "image-to-video",
    "text-to-video",
    "reference-to-video",
    "video-to-video-edit",
    "video-to-video-reference",
    "motion-control",
    "effects",
    "avatar",
)


def mode_of(model: str) -> str:
    for mode in MODES:
        if mode in model:
            return mode
    raise ValueError(f"cannot tell the mode of {model!r}: add it to MODES")


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """``node`` with every local ``$ref`` inlined and the keys in ``DROPPED_KEYS`` removed."""
    return inline_refs(spec, node, drop=DROPPED_KEYS)


def media_fields(schema: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Where a body takes media: ``{"image_url": "image", "elements[].frontal_image_url": "image", ...}``."""
    found: dict[str, str] = {}
    for name, field in (schema.get("properties") or {}).items():
        found.update(_media_at(f"{prefix}{name}", name, field))
    return found


def _media_at(location: str, name: str, field: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for option in field.get("anyOf") or field.get("oneOf") or [field]:
        kind = option.get("type")
        if kind == "array" and isinstance(option.get("items"), dict):
            items = option["items"]
            if items.get("type") == "object":
                found.update(media_fields(items, f"{location}[]."))
            elif _is_media_name(name):
                found[f"{location}[]"] = _kind(name)
        elif kind == "object":
            found.update(media_fields(option, f"{location}."))
        elif _is_media_name(name):
            found[location] = _kind(name)
    return found


def _is_media_name(name: str) -> bool:
    return name.endswith(("_url", "_urls", "_list")) or name in ("static_mask", "mask")


def _kind(name: str) -> str:
    if name.startswith("video"):
        return "video"
    if name.startswith("audio"):
        return "audio"
    return "image"


def create_operations(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(path, request schema) of every documented create (POST) in one OpenAPI file."""
    operations = []
    for path, methods in spec.get("paths", {}).items():
        post = methods.get("post")
        if post is None or path not in ENDPOINT_OF_PATH:
            continue
        schema = post["requestBody"]["content"]["application/json"]["schema"]
        operations.append((path, resolve(spec, schema)))
    return operations


def legacy_union_branches(spec: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The request schemas of the ``anyOf`` union ``name`` in ``spec``'s components, refs inlined."""
    union = spec["components"]["schemas"][name]
    return [resolve(spec, branch) for branch in union["anyOf"]]


def build(shared_api: Path = SHARED_API) -> dict[str, Any]:
    """The catalog, as written to ``catalog.json``."""
    files = sorted((shared_api / "kling-models").glob("*.json")) + [shared_api / name for name in EXTRA_FILES]
    found: dict[tuple[str, str], list[tuple[str, str, dict[str, Any]]]] = {}
    for file in files:
        spec = json.loads(file.read_text())
        for path, schema in create_operations(spec):
            for model in schema.get("properties", {}).get("model", {}).get("enum", []):
                found.setdefault((model, ENDPOINT_OF_PATH[path]), []).append((file.name, path, schema))
    union_file, union_name = LEGACY_UNION
    union_spec = json.loads((shared_api / union_file).read_text())
    for schema in legacy_union_branches(union_spec, union_name):
        for model in schema.get("properties", {}).get("model", {}).get("enum", []):
            found.setdefault((model, "legacy"), [(f"{union_file}#{union_name}", LEGACY_PATH, schema)])
    models: dict[str, Any] = {}
    for (model, endpoint), sources in sorted(found.items()):
        name, path, schema = _pick(model, endpoint, sources)
        entry = models.setdefault(model, {"mode": mode_of(model), "endpoints": {}, "media": {}})
        entry["endpoints"][endpoint] = {"path": path, "source": name, "schema": schema}
        entry["media"].update(media_fields(schema))
    return {
        "source": "the AI/ML API's OpenAPI files (aimlapi/api-docs), shared/api; built by scripts/build_catalog.py",
        "models": models,
    }


def _pick(model: str, endpoint: str, sources: list[tuple[str, str, dict[str, Any]]]) -> tuple[str, str, dict[str, Any]]:
    if len(sources) == 1:
        return sources[0]
    wanted = OWN_FILE.get((model, endpoint))
    for source in sources:
        if source[0] == wanted:
            return source
    names = ", ".join(source[0] for source in sources)
    raise SystemExit(f"{model} on the {endpoint} path is documented by several files ({names}): decide in OWN_FILE")


def render(catalog: dict[str, Any]) -> str:
    return json.dumps(catalog, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared-api", type=Path, default=SHARED_API, help="the folder holding kling-models/")
    parser.add_argument("--check", action="store_true", help="compare with the shipped catalog instead of writing")
    args = parser.parse_args(argv)
    text = render(build(args.shared_api))
    if args.check:
        if CATALOG.read_text() != text:
            print(f"{CATALOG} is out of date: run python scripts/build_catalog.py", file=sys.stderr)
            return 1
        print(f"{CATALOG} matches the OpenAPI files")
        return 0
    CATALOG.write_text(text)
    print(f"wrote {CATALOG} ({len(json.loads(text)['models'])} models)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
