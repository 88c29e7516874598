from __future__ import annotations

import pytest

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models import (
    CAMERA_AXES,
    CAMERA_TYPES,
    DEFAULT_MODEL,
    build_create_body,
    prepare_request,
    request_fingerprint,
)
from airflow_provider_kling.models.catalog import list_models

ASPECT_RATIOS = ("16:9", "9:16", "1:1")
#: The text-to-video models this provider served before the catalog: their bodies must not change.
#: The text-to-video models a legacy *operation* documents (the seed's file and kling-video-text-to-video.json).
LEGACY_TEXT_MODELS = (
    "kling-video/v1.6/pro/text-to-video",
    "kling-video/v1.6/standard/text-to-video",
    "kling-video/v1/pro/text-to-video",
    "kling-video/v1/standard/text-to-video",
)
#: Text models the legacy request union (no operation refers to it) listed: documented only on the unified path.
UNIFIED_ONLY_TEXT_MODELS = (
    "kling-video/v1.5/pro/text-to-video",
    "klingai/v2-master-text-to-video",
    "klingai/v2.1-master-text-to-video",
)

PROMPT = "a lighthouse in a storm"


def body(**params):
    return build_create_body({"prompt": PROMPT, **params})


def test_minimal_request_sends_only_model_and_prompt():
    assert body() == {"model": DEFAULT_MODEL, "prompt": PROMPT}


def test_unset_fields_are_not_sent_so_the_api_applies_its_defaults():
    result = body(negative_prompt=None, aspect_ratio=None, duration=None, cfg_scale=None, camera_control=None)
    assert set(result) == {"model", "prompt"}


@pytest.mark.parametrize("model", LEGACY_TEXT_MODELS)
def test_models_a_legacy_operation_documents_go_to_the_legacy_path_with_the_unified_one_as_fallback(model):
    request = prepare_request({"prompt": PROMPT, "model": model})
    assert request.endpoint == "legacy"
    assert request.body == {"model": model, "prompt": PROMPT}
    assert request.fallback is not None
    assert request.fallback.endpoint == "unified"
    assert request.fallback.fallback is None


@pytest.mark.parametrize("model", UNIFIED_ONLY_TEXT_MODELS)
def test_models_no_legacy_operation_documents_go_to_the_unified_path_without_fallback(model):
    request = prepare_request({"prompt": PROMPT, "model": model})
    assert request.endpoint == "unified"
    assert request.fallback is None


def test_a_forced_path_has_no_fallback():
    assert prepare_request({"prompt": PROMPT}, endpoint="legacy").fallback is None
    assert prepare_request({"prompt": PROMPT}, endpoint="unified").fallback is None


def test_the_fallback_carries_the_same_request_in_the_other_paths_spelling():
    request = prepare_request({"prompt": PROMPT, "camera_control": {"type": "simple", "config": {"zoom": 5}}})
    assert request.body["camera_control"] == {"type": "simple", "config": dict.fromkeys(CAMERA_AXES, 0) | {"zoom": 5.0}}
    assert request.fallback is not None
    assert request.fallback.body["advanced_camera_control"] == {"movement_type": "zoom", "movement_value": 5}


def test_fields_only_the_legacy_path_takes_leave_no_fallback():
    request = prepare_request({"prompt": PROMPT, "external_task_id": "row-7"})
    assert (request.endpoint, request.fallback) == ("legacy", None)


def test_a_documented_second_name_is_sent_as_the_models_id():
    request = prepare_request({"prompt": PROMPT, "model": "kling-video/v3/turbo/pro/text-to-video"})
    assert request.body["model"] == "klingai/video-v3-turbo-pro-text-to-video"
    assert request.alias == "kling-video/v3/turbo/pro/text-to-video"
    assert prepare_request({"prompt": PROMPT}).alias is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"model": "kling-video/v1.6/pro/text-to-video"}, "prompt"),
        ({"model": "klingai/video-v2-6-pro-text-to-video"}, "prompt"),
        ({"model": "klingai/video-v3-pro-text-to-video"}, "prompt or multi_prompt"),
        ({"model": "kling-video/v1.6/pro/image-to-video"}, "image_url"),
    ],
)
def test_a_missing_field_is_one_line(params, field):
    with pytest.raises(KlingValidationError) as caught:
        prepare_request(params)
    mentions = [problem for problem in caught.value.problems if problem.startswith(f"{field} is required")]
    assert len(mentions) == 1, caught.value.problems


@pytest.mark.parametrize("model", [spec.id for spec in list_models("text-to-video")])
def test_every_text_to_video_model_takes_a_prompt(model):
    assert body(model=model)["model"] == model


@pytest.mark.parametrize("ratio", ASPECT_RATIOS)
def test_every_aspect_ratio_is_accepted(ratio):
    assert body(aspect_ratio=ratio)["aspect_ratio"] == ratio


@pytest.mark.parametrize(("given", "sent"), [(5, 5), (10, 10), ("5", 5), ("10", 10), (5.0, 5), (" 10 ", 10)])
def test_duration_accepts_documented_spellings_and_sends_an_integer(given, sent):
    result = body(duration=given)["duration"]
    assert result == sent
    assert type(result) is int


@pytest.mark.parametrize(("given", "sent"), [(0, 0.0), (1, 1.0), (0.5, 0.5), ("0.25", 0.25), (1.0, 1.0)])
def test_cfg_scale_bounds_are_inclusive(given, sent):
    assert body(cfg_scale=given)["cfg_scale"] == sent


@pytest.mark.parametrize("preset", CAMERA_TYPES[1:])
def test_camera_presets_as_name_or_object(preset):
    assert body(camera_control=preset)["camera_control"] == {"type": preset}
    assert body(camera_control={"type": preset})["camera_control"] == {"type": preset}


@pytest.mark.parametrize("value", [-10, 10, 2.5, "-3"])
def test_simple_camera_fills_every_axis(value):
    result = body(camera_control={"type": "simple", "config": {"zoom": value}})["camera_control"]
    assert result["type"] == "simple"
    assert result["config"] == {"horizontal": 0, "vertical": 0, "pan": 0, "tilt": 0, "roll": 0, "zoom": float(value)}


def test_prompt_of_exactly_the_limit_is_accepted():
    assert len(build_create_body({"prompt": "x" * 2500})["prompt"]) == 2500


def test_unknown_model_opt_out():
    result = build_create_body({"prompt": PROMPT, "model": "klingai/v9-future"}, allow_unknown_model=True)
    assert result["model"] == "klingai/v9-future"


def test_external_task_id_is_sent():
    assert body(external_task_id="row-17")["external_task_id"] == "row-17"


# Each row: parameters, then fragments the error message must contain (field and what is allowed).
BAD_INPUTS = [
    pytest.param({"prompt": None}, ["prompt is required by kling-video/v1.6/pro/text-to-video"], id="prompt-missing"),
    pytest.param({"prompt": ""}, ["prompt must not be empty"], id="prompt-empty"),
    pytest.param({"prompt": "   \n"}, ["prompt must not be empty"], id="prompt-whitespace"),
    pytest.param({"prompt": "x" * 2501}, ["prompt has 2501 characters", "at most 2500"], id="prompt-too-long"),
    pytest.param({"prompt": 42}, ["prompt must be string", "int"], id="prompt-int"),
    pytest.param({"prompt": ["a"]}, ["prompt must be string"], id="prompt-list"),
    pytest.param({"negative_prompt": "y" * 2501}, ["negative_prompt has 2501"], id="negative-too-long"),
    pytest.param({"negative_prompt": 3}, ["negative_prompt must be string"], id="negative-int"),
    pytest.param(
        {"model": "kling-video/v9"},
        ["model 'kling-video/v9' is not a Kling video model this provider knows", "allow_unknown_model"],
        id="model-unknown",
    ),
    pytest.param({"model": ""}, ["model must be a non-empty string"], id="model-empty"),
    pytest.param({"model": 1.6}, ["model must be a non-empty string"], id="model-number"),
    pytest.param(
        {"model": "kling-video/v1.6/pro/text-to-vide"},
        ["did you mean 'kling-video/v1.6/pro/text-to-video'"],
        id="model-close-to-a-real-id",
    ),
    pytest.param({"aspect_ratio": "4:3"}, ["aspect_ratio='4:3'", "'16:9', '9:16', '1:1'"], id="ratio-4:3"),
    pytest.param({"aspect_ratio": "16x9"}, ["aspect_ratio='16x9'"], id="ratio-typo"),
    pytest.param({"aspect_ratio": 16 / 9}, ["aspect_ratio="], id="ratio-float"),
    pytest.param(
        {"duration": 7}, ["duration=7 is not allowed for kling-video/v1.6/pro/text-to-video", "5, 10"], id="duration-7"
    ),
    pytest.param({"duration": 0}, ["duration=0"], id="duration-0"),
    pytest.param({"duration": "five"}, ["duration='five'"], id="duration-word"),
    pytest.param({"duration": 5.5}, ["duration=5.5"], id="duration-fraction"),
    pytest.param({"duration": True}, ["duration=True"], id="duration-bool"),
    pytest.param({"cfg_scale": 1.01}, ["cfg_scale=1.01 is out of range", "allowed: >= 0 and <= 1"], id="cfg-above"),
    pytest.param({"cfg_scale": -0.01}, ["cfg_scale=-0.01 is out of range"], id="cfg-below"),
    pytest.param({"cfg_scale": "high"}, ["cfg_scale must be number", "'high'"], id="cfg-word"),
    pytest.param({"cfg_scale": float("nan")}, ["cfg_scale must be a finite number"], id="cfg-nan"),
    pytest.param({"cfg_scale": False}, ["cfg_scale must be number"], id="cfg-bool"),
    pytest.param(
        {"camera_control": "spin"}, ["camera_control.type='spin'", "'simple', 'down_back'"], id="camera-preset-unknown"
    ),
    pytest.param({"camera_control": 5}, ["camera_control must be a dict"], id="camera-int"),
    pytest.param(
        {"camera_control": {"type": "simple"}}, ["camera_control.config is required"], id="camera-simple-no-config"
    ),
    pytest.param(
        {"camera_control": {"type": "simple", "config": {"zoom": 11}}},
        ["camera_control.config.zoom=11 is out of range", "-10 <= camera_control.config.zoom <= 10"],
        id="camera-axis-above",
    ),
    pytest.param(
        {"camera_control": {"type": "simple", "config": {"pan": -10.5}}}, ["config.pan=-10.5"], id="camera-axis-below"
    ),
    pytest.param(
        {"camera_control": {"type": "simple", "config": {"zoom": 2, "pan": 3}}},
        ["exactly one axis"],
        id="camera-two-axes",
    ),
    pytest.param(
        {"camera_control": {"type": "simple", "config": {"zoom": 0}}}, ["exactly one axis"], id="camera-all-zero"
    ),
    pytest.param(
        {"camera_control": {"type": "simple", "config": {"yaw": 3}}},
        ["unknown axes ['yaw']", "'zoom'"],
        id="camera-bad-axis",
    ),
    pytest.param(
        {"camera_control": {"type": "down_back", "config": {"zoom": 3}}},
        ["config is only used with type 'simple'"],
        id="camera-config-on-preset",
    ),
    pytest.param(
        {"camera_control": {"type": "simple", "config": {"zoom": 2}, "speed": 1}},
        ["unknown keys ['speed']"],
        id="camera-extra-key",
    ),
    pytest.param(
        {"camera_control": {"type": "simple", "config": "zoom"}},
        ["camera_control.config is required"],
        id="camera-config-str",
    ),
    pytest.param({"external_task_id": 17}, ["external_task_id must be string"], id="external-id-int"),
    pytest.param(
        {"aspect": "16:9"},
        ["'aspect' is not a parameter of kling-video/v1.6/pro/text-to-video", "aspect_ratio"],
        id="unknown-key",
    ),
    pytest.param(
        {"model": "kling-video/v1.6/standard/text-to-video", "camera_control": "down_back"},
        ["'camera_control' is not a parameter of kling-video/v1.6/standard/text-to-video"],
        id="standard-no-camera",
    ),
]


@pytest.mark.parametrize(("params", "fragments"), BAD_INPUTS)
def test_bad_input_names_the_field_and_what_is_allowed(params, fragments):
    with pytest.raises(KlingValidationError) as excinfo:
        build_create_body({"prompt": PROMPT, **params})
    message = str(excinfo.value)
    for fragment in fragments:
        assert fragment in message


def test_every_problem_is_reported_at_once():
    with pytest.raises(KlingValidationError) as excinfo:
        build_create_body({"prompt": "", "duration": 7, "aspect_ratio": "4:3", "cfg_scale": 2})
    assert len(excinfo.value.problems) == 4
    assert "\n  - " in str(excinfo.value)


def test_validation_error_is_a_value_error_and_permanent():
    from airflow_provider_kling.exceptions import KlingPermanentError

    with pytest.raises(ValueError, match="duration"):
        body(duration=3)
    assert issubclass(KlingValidationError, KlingPermanentError)


def test_fingerprint_is_stable_and_sensitive():
    a = body(duration=5, aspect_ratio="1:1")
    b = build_create_body({"aspect_ratio": "1:1", "duration": "5", "prompt": PROMPT})
    assert request_fingerprint(a) == request_fingerprint(b)
    assert request_fingerprint(a) != request_fingerprint(body(duration=10, aspect_ratio="1:1"))


@pytest.mark.parametrize(
    ("params", "unified"),
    [
        ({}, {"model": DEFAULT_MODEL, "prompt": PROMPT}),
        ({"external_task_id": "row-1", "duration": 5}, {"model": DEFAULT_MODEL, "prompt": PROMPT, "duration": 5}),
        ({"camera_control": "down_back"}, {"model": DEFAULT_MODEL, "prompt": PROMPT, "camera_control": "down_back"}),
        (
            {"camera_control": {"type": "simple", "config": {"pan": -4}}},
            {
                "model": DEFAULT_MODEL,
                "prompt": PROMPT,
                "advanced_camera_control": {"movement_type": "pan", "movement_value": -4},
            },
        ),
    ],
)
def test_unified_endpoint_body(params, unified):
    from airflow_provider_kling.models import body_for_endpoint

    legacy = body(**params)
    assert body_for_endpoint(legacy, "legacy") == legacy
    assert body_for_endpoint(legacy, "unified") == unified


def test_unified_endpoint_needs_whole_camera_values():
    from airflow_provider_kling.models import body_for_endpoint

    with pytest.raises(KlingValidationError, match="whole numbers from -10 to 10"):
        body_for_endpoint(body(camera_control={"type": "simple", "config": {"zoom": 2.5}}), "unified")
    with pytest.raises(KlingValidationError, match="endpoint='v3' is not allowed"):
        body_for_endpoint(body(), "v3")


@pytest.mark.parametrize(
    ("endpoint", "camera"),
    [
        ("auto", {"advanced_camera_control": {"movement_type": "zoom", "movement_value": 3}}),
        (
            "legacy",
            {
                "camera_control": {
                    "type": "simple",
                    "config": {**dict.fromkeys(("horizontal", "vertical", "pan", "tilt", "roll"), 0), "zoom": 3.0},
                }
            },
        ),
    ],
)
def test_a_model_newer_than_the_catalog_is_sent_with_its_fields_and_a_translated_camera(endpoint, camera):
    request = prepare_request(
        {
            "model": "klingai/video-v9-text-to-video",
            "prompt": PROMPT,
            "seed": 7,
            "camera_control": {"type": "simple", "config": {"zoom": 3}},
        },
        endpoint=endpoint,
        allow_unknown_model=True,
    )
    assert request.endpoint == ("unified" if endpoint == "auto" else endpoint)
    assert request.body == {"model": "klingai/video-v9-text-to-video", "prompt": PROMPT, "seed": 7, **camera}


def test_a_camera_preset_on_a_model_newer_than_the_catalog():
    # Translated once for the unified path (translating twice used to crash on the preset string).
    request = prepare_request(
        {"model": "klingai/video-v9-text-to-video", "prompt": PROMPT, "camera_control": "down_back"},
        allow_unknown_model=True,
    )
    assert request.body["camera_control"] == "down_back"


@pytest.mark.parametrize("spec", list_models(), ids=[spec.id for spec in list_models()])
def test_every_model_reports_each_missing_field_in_one_line(spec):
    try:
        prepare_request({"model": spec.id})
    except KlingValidationError as err:
        problems = err.problems
    else:
        problems = []
    required = [problem.split(" is required", 1)[0] for problem in problems if " is required" in problem]
    assert len(required) == len(set(required)), problems
    fields_named = [word for problem in problems for word in ("prompt", "image_url") if problem.startswith(f"{word} ")]
    assert len(fields_named) == len(set(fields_named)), problems


SIGNED = "https://shop.s3.amazonaws.com/products/mug.png?X-Amz-Credential=AKIAX&X-Amz-Signature=f00d"


@pytest.mark.parametrize(
    "params",
    [
        {"model": "kling-video/v1.6/standard/multi-image-to-video", "image_list": SIGNED},  # not a list
        {"model": "kling-video/v1.6/pro/image-to-video", "image_url": SIGNED, "cfg_scale": [SIGNED]},
    ],
)
def test_a_bad_value_is_quoted_without_its_signature(params):
    with pytest.raises(KlingValidationError) as excinfo:
        prepare_request(params)
    assert "https://shop.s3.amazonaws.com/products/mug.png" in str(excinfo.value)
    assert "X-Amz" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [
        ("kling-video/v1.6/pro/image-to-video", "image_url", " data:image/png;base64," + "iVBORw0KGgo" * 40),
        ("kling-video/v1.6/pro/image-to-video", "tail_image_url", "DATA:image/png;base64," + "iVBORw0KGgo" * 40),
        ("klingai/some-future-model", "image_url", "data: image/png;base64," + "iVBORw0KGgo" * 40),
    ],
)
def test_a_misspelt_data_uri_is_refused_at_validation_naming_model_and_field(model, field, value):
    params = {"model": model, "prompt": "x", "image_url": "https://cdn.example.com/a.png", field: value}
    with pytest.raises(KlingValidationError) as excinfo:
        prepare_request(params, allow_unknown_model=True)
    message = str(excinfo.value)
    assert f"{field} of {model} (<inline data, {len(value)} characters>) looks like a data: URI" in message
    assert "iVBORw0KGgo" not in message


def test_a_request_sent_to_the_other_path_says_why_and_one_on_its_usual_path_does_not():
    from airflow_provider_kling.models import prepare_request

    detoured = prepare_request({"model": "kling-video/v1.6/pro/image-to-video", "image_url": "https://x/a.png"})
    assert detoured.endpoint == "unified"
    assert "prompt is required" in str(detoured.detour)
    usual = prepare_request(
        {"model": "kling-video/v1.6/pro/image-to-video", "image_url": "https://x/a.png", "prompt": "p"}
    )
    assert (usual.endpoint, usual.detour) == ("legacy", None)
