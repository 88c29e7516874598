"""Build the model catalog (``airflow_provider_kling/models/catalog.json``) from the API's OpenAPI files.

    python scripts/build_catalog.py            # reads ../shared/api, writes the catalog
    python scripts/build_catalog.py --check    # exit 1 if the shipped catalog differs

Every Kling video model's create schema, per create path, with descriptions and examples
stripped: what remains is what a request is checked against (types, enums, ranges, required
fields, defaults, list lengths). Media inputs (image, video and audio URLs, wherever they sit in
the body) are listed per model, so the provider knows which fields may take a file. Beside each
request schema: the answer the same operation documents, and the two fetch answers, so the
response parser can be tested against every documented shape.

Spec decisions, each made here once:

* A path documents a model only through an *operation*: a POST whose request body names the
  model (inline or by ``$ref``). A schema that merely sits in a file's components documents
  nothing (``Kling.v2.SubmitGenerationPayloadDTO`` of the legacy file: FACTS.txt, "kept for
  context, not $ref'd"); a model only it named is not catalogued.
* Where two files document the same model on the same path, the model's own file wins; each such
  decision is written in ``OWN_FILE`` below, with the reason. Any other conflict stops the build.
* The names a documentation page lists (``kling-models/DOC-PAGES.md``) beside the id of the file
  it embeds are that model's aliases: the API's live catalogue reports them as aliases and keeps
  accepting them. A listed name that is the id of *another* catalogued model stays that model's
  id (the v2 master text-to-video page lists the image-to-video id: a slip of the docs, and
  sending that id means the image-to-video model, whatever page it was copied from).
"""

from __future__ import annotations

import argparse
import json
import re
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
#: The GET answer of each path: the unified fetch (every current page embeds it) and the legacy one.
FETCH_FILES = {
    "unified": ("kling-models/universal-video-fetch.json", "/v2/video/generations"),
    "legacy": ("kling-generation.fetch.current.openapi.json", LEGACY_PATH),
}
DOC_PAGES = "kling-models/DOC-PAGES.md"

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


def create_operations(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """(path, request schema, answer schema or ``None``) of every documented create (POST) in one file."""
    operations = []
    for path, methods in spec.get("paths", {}).items():
        post = methods.get("post")
        if post is None or path not in ENDPOINT_OF_PATH:
            continue
        schema = post["requestBody"]["content"]["application/json"]["schema"]
        operations.append((path, resolve(spec, schema), answer_schema(spec, post)))
    return operations


def answer_schema(spec: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON body schema of an operation's 2xx answer, ``None`` where it documents no body."""
    for code, response in sorted(operation.get("responses", {}).items()):
        schema = (response.get("content") or {}).get("application/json", {}).get("schema")
        if code.startswith("2") and schema is not None:
            return resolve(spec, schema)
    return None


def fetch_answers(shared_api: Path) -> dict[str, Any]:
    """Endpoint -> the documented answer of its GET ``?generation_id=``."""
    answers = {}
    for endpoint, (name, path) in FETCH_FILES.items():
        spec = json.loads((shared_api / name).read_text())
        answers[endpoint] = {"source": Path(name).name, "schema": answer_schema(spec, spec["paths"][path]["get"])}
    return answers


def doc_page_names(shared_api: Path) -> list[tuple[str, list[str], list[str]]]:
    """(page, model names it lists, files its POSTs embed) for every row of DOC-PAGES.md."""
    rows = []
    for line in (shared_api / DOC_PAGES).read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].endswith(".md"):
            continue
        names = re.findall(r"`([^`]+)`", cells[1])
        files = re.findall(r"POST \S+ ([^\s;]+)", cells[2])
        rows.append((cells[0], names, files))
    return rows


def aliases(shared_api: Path, models: dict[str, Any]) -> dict[str, str]:
    """Second name -> model id, from the documentation pages (see the module's spec decisions)."""
    found: dict[str, str] = {}
    for page, names, files in doc_page_names(shared_api):
        owners = set()
        for name in files:
            file = shared_api / "kling-models" / name
            if file.suffix == ".json" and file.exists():
                for _, schema, _ in create_operations(json.loads(file.read_text())):
                    owners.update(schema.get("properties", {}).get("model", {}).get("enum", []))
        for name in names:
            if name in models:
                continue
            if len(owners) != 1:
                raise SystemExit(f"{page} lists {name!r}, but the model of its embedded files is not one: {owners}")
            found[name] = next(iter(owners))
    return dict(sorted(found.items()))


def build(shared_api: Path = SHARED_API) -> dict[str, Any]:
    """The catalog, as written to ``catalog.json``."""
    files = sorted((shared_api / "kling-models").glob("*.json")) + [shared_api / name for name in EXTRA_FILES]
    found: dict[tuple[str, str], list[Source]] = {}
    for file in files:
        spec = json.loads(file.read_text())
        for path, schema, answer in create_operations(spec):
            for model in schema.get("properties", {}).get("model", {}).get("enum", []):
                found.setdefault((model, ENDPOINT_OF_PATH[path]), []).append((file.name, path, schema, answer))
    models: dict[str, Any] = {}
    for (model, endpoint), sources in sorted(found.items()):
        name, path, schema, answer = _pick(model, endpoint, sources)
        entry = models.setdefault(model, {"mode": mode_of(model), "endpoints": {}, "media": {}})
        entry["endpoints"][endpoint] = {"path": path, "source": name, "schema": schema, "answer": answer}
        entry["media"].update(media_fields(schema))
    return {
        "source": "the AI/ML API's OpenAPI files (aimlapi/api-docs), shared/api; built by scripts/build_catalog.py",
        "models": models,
        "aliases": aliases(shared_api, models),
        "fetch_answers": fetch_answers(shared_api),
    }


#: (file name, path, request schema, answer schema) of one documented create.
Source = tuple[str, str, dict[str, Any], "dict[str, Any] | None"]


def _pick(model: str, endpoint: str, sources: list[Source]) -> Source:
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
