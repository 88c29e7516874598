"""The model catalog: generated from the official OpenAPI files, and it says what they say."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.catalog import get_model, list_models
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
def test_every_model_of_the_index_is_catalogued_on_each_of_its_paths():
    index = [line.split("|") for line in (KLING_MODELS / "INDEX.md").read_text().splitlines()]
    rows = [(cells[1].strip(), cells[3].strip()) for cells in index if len(cells) > 4 and "/" in cells[3]]
    assert len(rows) > 40
    endpoint_of = {"/v2/generate/video/kling/generation": "legacy", "/v2/video/generations": "unified"}
    for model_id, path in rows:
        assert endpoint_of[path] in get_model(model_id).endpoints, (model_id, path)
    # Besides INDEX.md: models only the legacy path's request union documents (see LEGACY_UNION).
    legacy_union_only = {"kling-video/v1.5/standard/text-to-video"}
    assert {model_id for model_id, _ in rows} | legacy_union_only == {spec.id for spec in list_models()}


@needs_specs
def test_the_legacy_union_never_wins_over_a_file_that_documents_the_model():
    spec = get_model("kling-video/v1.6/pro/text-to-video")
    assert spec.endpoints["legacy"].source == "kling-generation.create.current.openapi.json"
    v15 = get_model("kling-video/v1.5/standard/text-to-video")
    assert list(v15.endpoints) == ["legacy"]
    assert v15.endpoints["legacy"].source.endswith("#Kling.v2.SubmitGenerationPayloadDTO")


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
        ("klingai/kling-video-v1.6-pro-effects", "effects", ("model", "effect_scene", "image_url"), {"image_url"}),
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
