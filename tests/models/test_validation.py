"""One validation for every catalogued model: each bad input is one clear message naming model and field."""

from __future__ import annotations

import pytest

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.catalog import list_models
from airflow_provider_kling.models.validation import validate_body

V16_T2V = "kling-video/v1.6/pro/text-to-video"
V16_I2V = "kling-video/v1.6/pro/image-to-video"
V3_T2V = "klingai/video-v3-pro-text-to-video"
MULTI = "kling-video/v1.6/standard/multi-image-to-video"
EFFECTS = "klingai/kling-video-v1.6-pro-effects"
IMAGE = "https://example.com/mug.png"


@pytest.mark.parametrize(
    ("model", "params", "endpoint", "fragment"),
    [
        (V16_I2V, {"prompt": "a mug"}, None, f"image_url is required by {V16_I2V}"),
        (V16_T2V, {"prompt": "a mug", "image_url": IMAGE}, None, f"'image_url' is not a parameter of {V16_T2V}; it has:"),
        ("klingai/video-v2-6-pro-image-to-video", {"prompt": "p", "image_url": IMAGE, "tail_image_url": IMAGE}, None,
         "'tail_image_url' is not a parameter of klingai/video-v2-6-pro-image-to-video"),
        (V16_T2V, {"prompt": "p", "duration": 12}, None, f"duration=12 is not allowed for {V16_T2V}; allowed values: 5, 10"),
        (V3_T2V, {"prompt": "p", "duration": 16}, None, f"duration=16 is not allowed for {V3_T2V}; allowed values: 3, 4, 5"),
        (EFFECTS, {"image_url": IMAGE, "effect_scene": "moonwalk"}, None, f"effect_scene='moonwalk' is not allowed for {EFFECTS}"),
        (MULTI, {"image_list": [IMAGE]}, None, f"image_list has 1 items; {MULTI} takes 2 to 4"),
        (MULTI, {"image_list": [IMAGE] * 5}, None, f"image_list has 5 items; {MULTI} takes 2 to 4"),
        (V16_T2V, {"prompt": "p", "generate_audio": True}, None, f"'generate_audio' is not a parameter of {V16_T2V}"),
        (V16_T2V, {"prompt": "p", "cfg_scale": 1.5}, None, f"cfg_scale=1.5 is out of range for {V16_T2V}; allowed: >= 0 and <= 1"),
        ("klingai/video-v3-turbo-pro-text-to-video", {"prompt": "x" * 3073}, None, "prompt has 3073 characters"),
        (V16_T2V, {"prompt": "p", "aspect_ratio": "4:3"}, "legacy", "aspect_ratio='4:3' is not allowed"),
        (V3_T2V, {"prompt": "p"}, "legacy", f"{V3_T2V} is not served by the legacy endpoint"),
        ("klingai/video-v2-6-pro-text-to-video", {"prompt": "p", "generate_audio": "maybe"}, None,
         "generate_audio must be boolean for klingai/video-v2-6-pro-text-to-video, got str 'maybe'"),
        ("kling-video/v1.6/pro/text-to-vido", {"prompt": "p"}, None, f"did you mean {V16_T2V!r}"),
        ("klingai/video-v3-turbo-pro-text-to-video", {"multi_prompt": [{"prompt": "p", "duration": 20}]}, None,
         "multi_prompt[0].duration=20 is not allowed"),
        (V3_T2V, {"multi_prompt": [{"prompt": "p"}]}, None, "multi_prompt[0] must be string for"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_message(model, params, endpoint, fragment):
    with pytest.raises(KlingValidationError) as excinfo:
        validate_body(model, params, endpoint=endpoint)
    assert fragment in str(excinfo.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(KlingValidationError) as excinfo:
        validate_body(V16_T2V, {"prompt": "p", "duration": 7, "aspect_ratio": "4:3", "tail_image_url": IMAGE})
    assert len(excinfo.value.problems) == 3, excinfo.value.problems


@pytest.mark.parametrize(
    ("model", "params", "expected"),
    [
        (V16_T2V, {"prompt": "p", "duration": "10", "cfg_scale": "0.5", "negative_prompt": None},
         {"model": V16_T2V, "prompt": "p", "duration": 10, "cfg_scale": 0.5}),
        ("klingai/video-v2-6-pro-text-to-video", {"prompt": "p", "generate_audio": "false"},
         {"model": "klingai/video-v2-6-pro-text-to-video", "prompt": "p", "generate_audio": False}),
        # The specs spell multi_prompt two ways: v3 pro/standard/omni a list of strings, the turbo models
        # a list of {prompt, duration}. Each is checked as its own schema says.
        (V3_T2V, {"multi_prompt": ["shot one", "shot two"], "duration": 7},
         {"model": V3_T2V, "multi_prompt": ["shot one", "shot two"], "duration": 7}),
        ("klingai/video-v3-turbo-pro-text-to-video", {"multi_prompt": [{"prompt": "shot one", "duration": 3}]},
         {"model": "klingai/video-v3-turbo-pro-text-to-video", "multi_prompt": [{"prompt": "shot one", "duration": 3}]}),
    ],
)  # fmt: skip
def test_good_input_becomes_the_body_templated_strings_read_as_the_schema_says(model, params, expected):
    assert validate_body(model, params) == expected


@pytest.mark.parametrize("spec", list_models(), ids=lambda spec: spec.id)
def test_a_minimal_body_from_the_catalog_passes_for_every_model(spec):
    # The required fields with a value of the documented type: what the per-model e2e test will send.
    fields = spec.fields()
    samples = {"string": IMAGE, "integer": 5, "number": 0.5, "boolean": True}
    body = {}
    for name in spec.endpoints[spec.default_endpoint].required:
        if name == "model":
            continue
        field = fields[name]
        if "enum" in field:
            body[name] = field["enum"][0]
        elif field.get("type") == "array":
            body[name] = [IMAGE] * max(1, field.get("minItems", 1))
        else:
            body[name] = samples.get(field.get("type", "string"), IMAGE)
    assert validate_body(spec.id, body)["model"] == spec.id
