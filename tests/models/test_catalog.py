"""The model catalog: generated from the official OpenAPI files, and it says what they say."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.catalog import aliases, get_model, is_catalogued, list_models, model_id_for
from harness.scripts import load_script

REPO = Path(__file__).resolve().parents[2]
KLING_MODELS = REPO.parent / "shared" / "api" / "kling-models"
needs_specs = pytest.mark.skipif(not KLING_MODELS.exists(), reason=f"the OpenAPI files are not at {KLING_MODELS}")


def build_catalog_module():
    return load_script("build_catalog")


@needs_specs
def test_the_shipped_catalog_is_what_the_specs_generate():
    builder = build_catalog_module()
    shipped = (REPO / "airflow_provider_kling" / "models" / "catalog.json").read_text()
    assert builder.render(builder.build(KLING_MODELS.parent)) == shipped, "run python scripts/build_catalog.py"


@needs_specs
def test_every_model_of_the_index_is_catalogued_on_exactly_its_paths():
    index = [line.split("|") for line in (KLING_MODELS / "INDEX.md").read_text().splitlines()]
    rows = [(cells[1].strip(), cells[3].strip()) for cells in index if len(cells) > 4 and "/" in cells[3]]
    assert len(rows) > 40
    paths_of: dict[str, set[str]] = {}
    for model_id, path in rows:
        paths_of.setdefault(model_id, set()).add(path)
    # The seed model's legacy operation is documented outside kling-models/ (the product's own spec).
    paths_of["kling-video/v1.6/pro/text-to-video"].add("/v2/generate/video/kling/generation")
    assert {spec.id: {e.path for e in spec.endpoints.values()} for spec in list_models()} == paths_of


def documented_creates() -> set[tuple[str, str]]:
    """(model, path) of every POST operation of every OpenAPI file, read here without the builder."""
    files = [*KLING_MODELS.glob("*.json"), *KLING_MODELS.parent.glob("*.openapi.json")]
    found = set()
    for file in files:
        spec = json.loads(file.read_text())
        for path, methods in spec.get("paths", {}).items():
            post = methods.get("post")
            if post is None:
                continue
            schema = post["requestBody"]["content"]["application/json"]["schema"]
            if "$ref" in schema:
                schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
            found.update((model, path) for model in schema["properties"]["model"]["enum"])
    return found


@needs_specs
def test_the_catalogs_paths_are_the_operations_of_the_files_and_nothing_else():
    catalogued = {(spec.id, endpoint.path) for spec in list_models() for endpoint in spec.endpoints.values()}
    assert catalogued == documented_creates()


@needs_specs
def test_a_schema_no_operation_refers_to_documents_nothing():
    # Kling.v2.SubmitGenerationPayloadDTO sits in the legacy file's components, $ref'd by no operation.
    assert not is_catalogued("kling-video/v1.5/standard/text-to-video")
    for model_id in ("klingai/kling-video-v1.6-pro-effects", "kling-video/v1.6/standard/multi-image-to-video"):
        assert list(get_model(model_id).endpoints) == ["unified"]
    legacy = sorted(spec.id for spec in list_models() if "legacy" in spec.endpoints)
    assert legacy == [
        "kling-video/v1.5/standard/image-to-video",
        "kling-video/v1.6/pro/image-to-video",
        "kling-video/v1.6/pro/text-to-video",
        "kling-video/v1.6/standard/image-to-video",
        "kling-video/v1.6/standard/text-to-video",
        "kling-video/v1/pro/image-to-video",
        "kling-video/v1/pro/text-to-video",
        "kling-video/v1/standard/image-to-video",
        "kling-video/v1/standard/text-to-video",
    ]
    assert get_model("kling-video/v1.6/pro/text-to-video").endpoints["legacy"].source == (
        "kling-generation.create.current.openapi.json"
    )


def doc_page_names() -> list[str]:
    text = (KLING_MODELS / "DOC-PAGES.md").read_text()
    return [
        name
        for line in text.splitlines()
        if line.startswith("| ")
        for name in re.findall(r"`([^`]+)`", line.split("|")[2])
    ]


@needs_specs
def test_every_name_a_documentation_page_lists_resolves():
    names = doc_page_names()
    assert len(names) >= 40
    for name in names:
        assert is_catalogued(name), name
        assert model_id_for(name) == get_model(name).id


@pytest.mark.parametrize(
    ("name", "model_id"),
    [
        ("kling-video/v3/turbo/pro/text-to-video", "klingai/video-v3-turbo-pro-text-to-video"),
        ("kling-video/v3/turbo/standard/image-to-video", "klingai/video-v3-standard-turbo-image-to-video"),
        # The v2.6 motion-control page still shows the name its file had before the docs renamed it.
        ("klingai/video-v2-6-pro-motion-control", "klingai/video-v2-6-motion-control"),
        # The v2 master text-to-video page lists the image-to-video id: an id always means its own model.
        ("klingai/v2-master-image-to-video", "klingai/v2-master-image-to-video"),
    ],
)
def test_second_names_resolve_to_the_id_of_the_models_current_file(name, model_id):
    assert get_model(name).id == model_id
    if name != model_id:
        assert name in get_model(model_id).aliases
        assert aliases()[name] == model_id


@pytest.mark.parametrize(
    ("model_id", "endpoint", "field", "rule", "value"),
    [
        ("kling-video/v1.6/pro/text-to-video", "legacy", "duration", "enum", [5, 10]),
        (
            "kling-video/v1.6/pro/text-to-video",
            "unified",
            "camera_control",
            "enum",
            ["down_back", "forward_up", "right_turn_forward", "left_turn_forward"],
        ),
        ("klingai/video-v3-pro-text-to-video", "unified", "duration", "enum", list(range(3, 16))),
        ("klingai/video-v3-turbo-pro-text-to-video", "unified", "prompt", "maxLength", 3072),
        ("kling-video/v1.6/standard/multi-image-to-video", "unified", "image_list", "minItems", 2),
        ("kling-video/v1.6/standard/multi-image-to-video", "unified", "image_list", "maxItems", 4),
        ("kling-video/v1.6/pro/image-to-video", "unified", "cfg_scale", "maximum", 1),
        ("klingai/video-v2-6-pro-text-to-video", "unified", "generate_audio", "default", True),
        ("klingai/video-o1-video-to-video-edit", "unified", "keep_audio", "default", False),
    ],
)
def test_rules_come_from_the_schemas(model_id, endpoint, field, rule, value):
    assert get_model(model_id).fields(endpoint)[field][rule] == value


@pytest.mark.parametrize(
    ("model_id", "mode", "required", "media"),
    [
        (
            "kling-video/v1.6/pro/image-to-video",
            "image-to-video",
            ("model", "image_url", "prompt"),
            {"image_url", "tail_image_url"},
        ),
        ("klingai/avatar-pro", "avatar", ("model", "image_url", "audio_url"), {"image_url", "audio_url"}),
        ("klingai/kling-video-v1.6-pro-effects", "effects", ("model", "image_url", "effect_scene"), {"image_url"}),
        ("klingai/video-v3-motion-control", "motion-control", ("model", "image_url", "video_url"), {"video_url"}),
        ("klingai/video-o1-reference-to-video", "reference-to-video", ("model", "prompt"), {"image_list[]"}),
        ("klingai/video-v3-standard-text-to-video", "text-to-video", ("model",), set()),
    ],
)
def test_modes_required_fields_and_media_inputs(model_id, mode, required, media):
    spec = get_model(model_id)
    assert spec.mode == mode
    assert spec.endpoints[spec.default_endpoint].required == required
    assert media <= set(spec.media)
    assert all(kind in ("image", "video", "audio") for kind in spec.media.values())


def test_nested_media_inputs_are_found_where_they_sit():
    media = get_model("klingai/video-o1-video-to-video-edit").media
    assert media["video_url"] == "video"
    assert media["elements[].frontal_image_url"] == "image"
    assert media["elements[].reference_image_urls[]"] == "image"


def test_the_docs_copy_paste_slip_does_not_win():
    # v1.5-standard-text-to-video.json documents the image-to-video model; its own file decides.
    spec = get_model("kling-video/v1.5/standard/image-to-video")
    assert spec.endpoints["unified"].source == "v1.5-standard-image-to-video.json"


def test_an_unknown_model_names_the_closest_ids():
    with pytest.raises(KlingValidationError, match=r"did you mean 'kling-video/v1\.6/pro/text-to-video'"):
        get_model("kling-video/v1.6/pro/text-to-vide")
    with pytest.raises(KlingValidationError, match="allow_unknown_model=True"):
        get_model("not-a-model")


def test_list_models_filters_by_mode():
    image_models = list_models("image-to-video")
    assert image_models
    assert {spec.mode for spec in image_models} == {"image-to-video"}
    assert [spec.id for spec in list_models()] == sorted(spec.id for spec in list_models())


def test_the_catalog_is_package_data_in_the_wheel():
    # hatch packages everything under airflow_provider_kling/, the JSON included; this keeps it loadable.
    from importlib import resources

    data = json.loads(resources.files("airflow_provider_kling.models").joinpath("catalog.json").read_text())
    assert len(data["models"]) == len(list_models())
