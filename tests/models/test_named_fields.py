"""One table of named request fields: what each argument fills on each model, and what is refused."""

from __future__ import annotations

import pytest

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.catalog import get_model, list_models
from airflow_provider_kling.models.named_fields import ALIASES, NAMED_FIELDS, request_params, split_named

I2V = "kling-video/v1.6/pro/image-to-video"
O1 = "klingai/video-o1-image-to-video"
EFFECTS = "klingai/kling-video-v1.6-pro-effects"
EDIT = "klingai/video-o1-video-to-video-edit"
AVATAR = "klingai/avatar-pro"


@pytest.mark.parametrize(
    ("model", "named", "parameters", "expected"),
    [
        (I2V, {"image": "a.png", "tail_image": "b.png"}, {}, {"image_url": "a.png", "tail_image_url": "b.png"}),
        (O1, {"image": "a.png", "tail_image": "b.png"}, {}, {"image_url": "a.png", "last_image_url": "b.png"}),
        (O1, {"last_image_url": "b.png"}, {}, {"last_image_url": "b.png"}),
        (
            EFFECTS,
            {"image_url": "a.png", "effect_scene": "pet_chef"},
            {},
            {"image_url": "a.png", "effect_scene": "pet_chef"},
        ),
        (EDIT, {"video": "s3://b/in.mp4", "keep_audio": True}, {}, {"video_url": "s3://b/in.mp4", "keep_audio": True}),
        (
            AVATAR,
            {"audio": "speech.mp3", "image": "face.png"},
            {},
            {"audio_url": "speech.mp3", "image_url": "face.png"},
        ),
        ("a/model-newer-than-the-catalog", {"tail_image": "b.png"}, {"x": 1}, {"tail_image_url": "b.png", "x": 1}),
        (I2V, {"prompt": None, "duration": 5}, {"prompt": "kept"}, {"prompt": "kept", "duration": 5}),
    ],
)
def test_each_argument_fills_the_request_field_its_model_has(model, named, parameters, expected):
    assert request_params(model, named, parameters) == {"model": model, **expected}


@pytest.mark.parametrize(
    ("named", "parameters", "says"),
    [
        ({"duration": 5}, {"duration": 10}, "duration is set both as duration= and in parameters; set it once"),
        ({"image": "a.png"}, {"image_url": "b.png"}, "image_url is set both as image= and in parameters"),
        ({"image": "a.png", "image_url": "b.png"}, {}, "image and image_url are two names of one field: give one"),
        ({"tail_image": "a", "tail_image_url": "b"}, {}, "tail_image and tail_image_url are two names"),
    ],
)
def test_a_field_given_twice_is_refused_naming_both(named, parameters, says):
    with pytest.raises(KlingValidationError, match=says):
        request_params(I2V, named, parameters)


def test_every_named_field_is_a_field_some_catalogued_model_has():
    fields = {name for spec in list_models() for schema in spec.endpoints.values() for name in schema.fields}
    for argument, request_fields in NAMED_FIELDS.items():
        assert set(request_fields) <= fields, argument
    # What no argument names is what the README says goes in ``parameters`` (model aside).
    unnamed = fields - {f for request_fields in NAMED_FIELDS.values() for f in request_fields} - {"model"}
    assert unnamed == {"provider", "type", "ratio", "mode"}


def test_split_keeps_other_keys_and_folds_other_names():
    assert split_named({"image_url": "a", "prompt": "p", "seed": 3}) == ({"image": "a", "prompt": "p"}, {"seed": 3})
    assert ALIASES["video_url"] == "video"
    assert get_model(O1).accepts("last_image_url")
