"""Bad input for any model, media files included: one clear error naming the model and the field,
raised before any request (the simulator sees none)."""

from __future__ import annotations

import base64

import pytest

from airflow_provider_kling.exceptions import KlingError, KlingValidationError
from airflow_provider_kling.hooks.kling import KlingHook
from harness.inputs import write_image

I2V = "kling-video/v1.6/pro/image-to-video"
T2V = "kling-video/v1.6/pro/text-to-video"
V3 = "klingai/video-v3-pro-text-to-video"
MULTI = "kling-video/v1.6/standard/multi-image-to-video"
EFFECTS = "klingai/kling-video-v1.6-pro-effects"
TURBO = "klingai/video-v3-turbo-pro-text-to-video"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad-inputs")
    text = folder / "notes.png"
    text.write_text("this is not an image\n")
    good = write_image(folder / "good.png", 640, 640)
    return {
        "good": str(good),
        "good_b64": base64.b64encode(good.read_bytes()).decode(),
        "good_b64_urlsafe": base64.urlsafe_b64encode(good.read_bytes()).decode(),
        "good_b64_bad_length": base64.b64encode(good.read_bytes()).decode().rstrip("=") + "A",
        "text": str(text),
        "huge": str(write_image(folder / "huge.png", 1000, 1000, pad_to=25 * 1024 * 1024)),
        "tiny": str(write_image(folder / "tiny.png", 200, 200)),
        "wide": str(write_image(folder / "wide.png", 3000, 500)),
        "tall": str(write_image(folder / "tall.jpg", 300, 900, fmt="JPEG")),
        "gif": str(write_image(folder / "anim.gif", 400, 400, fmt="GIF")),
        "missing": str(folder / "gone.png"),
        "folder": str(folder),
    }


# (params, fragments of the one error message); "{name}" is replaced by that test file's path.
BAD = [
    pytest.param({"model": I2V, "prompt": "spin"}, ["image_url is required by " + I2V], id="i2v-without-image"),
    pytest.param(
        {"model": T2V, "prompt": "x", "image_url": "{good}"},
        ["'image_url' is not a parameter of " + T2V],
        id="t2v-given-an-image",
    ),
    pytest.param(
        {"model": "kling-video/v2.1/pro/image-to-video", "image_url": "{good}", "tail_image_url": "{good}"},
        ["'tail_image_url' is not a parameter of kling-video/v2.1/pro/image-to-video"],
        id="tail-image-on-a-model-without-it",
    ),
    pytest.param(
        {"model": I2V, "prompt": "x", "image_url": "{good}", "last_image_url": "{good}"},
        ["'last_image_url' is not a parameter of " + I2V],
        id="o1-field-on-v1.6",
    ),
    pytest.param(
        {"model": T2V, "prompt": "x", "duration": 12},
        ["duration=12 is not allowed for " + T2V, "5, 10"],
        id="duration-12-on-v1.6",
    ),
    pytest.param(
        {"model": V3, "prompt": "x", "duration": 16},
        ["duration=16 is not allowed for " + V3, "3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15"],
        id="duration-16-on-v3",
    ),
    pytest.param(
        {"model": EFFECTS, "image_url": "{good}", "effect_scene": "moonwalk"},
        ["effect_scene='moonwalk' is not allowed for " + EFFECTS, "'pet_chef'"],
        id="effect-scene-outside-its-enum",
    ),
    pytest.param(
        {"model": MULTI, "image_list": ["{good}"]},
        ["image_list has 1 items; " + MULTI + " takes 2 to 4"],
        id="multi-image-1",
    ),
    pytest.param(
        {"model": MULTI, "image_list": ["{good}"] * 5},
        ["image_list has 5 items; " + MULTI + " takes 2 to 4"],
        id="multi-image-5",
    ),
    pytest.param(
        {"model": I2V, "prompt": "x", "image_url": "{missing}"},
        ["image_url of " + I2V, "no such file", "gone.png"],
        id="missing-file",
    ),
    pytest.param({"model": I2V, "prompt": "x", "image_url": "{folder}"}, ["is a folder, not a file"], id="a-folder"),
    pytest.param(
        {"model": I2V, "prompt": "x", "image_url": "{text}"},
        ["image_url of " + I2V, "notes.png) is not an image by its bytes", "JPG/JPEG or PNG"],
        id="text-file-named-png",
    ),
    pytest.param(
        {"model": I2V, "prompt": "x", "image_url": "{gif}"}, ["is a GIF image by its bytes"], id="gif-named-gif"
    ),
    pytest.param(
        {"model": I2V, "prompt": "x", "image_url": "{huge}"},
        ["huge.png) is 25.0 MB", "at most 20 MB"],
        id="25-MB-image",
    ),
    pytest.param({"model": I2V, "prompt": "x", "image_url": "{tiny}"}, ["is 200×200", "at least 300 px"], id="200x200"),
    pytest.param(
        {"model": I2V, "prompt": "x", "image_url": "{wide}"}, ["is 3000×500", "between 2:5 and 5:2"], id="3000x500"
    ),
    pytest.param(
        {"model": I2V, "prompt": "x", "image_url": "{tall}"}, ["is 300×900", "between 2:5 and 5:2"], id="300x900-jpeg"
    ),
    pytest.param(
        {"model": MULTI, "image_list": ["{good}", "{tiny}", "{text}"]},
        ["image_list[1] of " + MULTI, "image_list[2] of " + MULTI],
        id="every-bad-list-item-named",
    ),
    pytest.param(
        {"model": I2V, "prompt": "x", "image_url": " data:image/png;base64,{good_b64}"},
        ["image_url of " + I2V + " (<inline data, ", "looks like a data: URI but is not spelt"],
        id="data-uri-after-a-space",
    ),
    pytest.param(
        {"model": I2V, "prompt": "x", "image_url": "DATA:image/png;base64,{good_b64}"},
        ["image_url of " + I2V, "looks like a data: URI", "lower-case 'data:'"],
        id="data-uri-upper-case",
    ),
    pytest.param(
        {"model": MULTI, "image_list": ["{good}", "data:image/png; base64,{good_b64}"]},
        ["image_list[1] of " + MULTI, "looks like a data: URI"],
        id="data-uri-with-a-space-inside-a-list",
    ),
    pytest.param(
        {"model": I2V, "prompt": "x", "image_url": "data:image/png,{good_b64}"},
        ["image_url of " + I2V, "a base64 payload"],
        id="data-uri-without-base64",
    ),
    pytest.param(
        {"model": I2V, "prompt": "x", "image_url": "{good_b64_urlsafe}"},
        ["image_url of " + I2V, "is neither an http(s) URL, a file path"],
        id="url-safe-base64",
    ),
    pytest.param(
        {"model": I2V, "prompt": "x", "image_url": "{good}\x00.png"},
        ["image_url of " + I2V, "holding control characters"],
        id="a-path-with-a-nul",
    ),
    pytest.param(
        {"model": I2V, "prompt": "x", "image_url": "{good_b64_bad_length}"},
        ["image_url of " + I2V, "is not valid base64"],
        id="base64-one-character-too-many",
    ),
    pytest.param(
        {"model": "kling-video/v1.6/pro/image-to-vide", "image_url": "{good}"},
        ["did you mean 'kling-video/v1.6/pro/image-to-video'"],
        id="unknown-model-close-to-a-real-id",
    ),
    pytest.param(
        {"model": T2V, "prompt": "x", "generate_audio": True},
        ["'generate_audio' is not a parameter of " + T2V, "it has: "],
        id="a-field-of-another-model",
    ),
    pytest.param(
        {"model": "klingai/avatar-pro", "image_url": "{good}"},
        ["audio_url is required by klingai/avatar-pro"],
        id="avatar-without-audio",
    ),
    pytest.param(
        {
            "model": "klingai/video-v3-motion-control",
            "image_url": "{good}",
            "video_url": "https://cdn.example.com/dance.mp4",
            "character_orientation": "sideways",
        },
        ["character_orientation='sideways' is not allowed", "'image', 'video'"],
        id="motion-control-orientation",
    ),
    pytest.param(
        {"model": TURBO, "multi_prompt": ["a shot"]},
        ["multi_prompt[0] must be object for " + TURBO],
        id="turbo-shots-are-objects",
    ),
    pytest.param(
        {"model": V3, "aspect_ratio": "1:1"}, ["prompt or multi_prompt is required by " + V3], id="v3-without-text"
    ),
    pytest.param(
        {"model": "klingai/video-o1-reference-to-video", "prompt": "x", "image_list": ["{good}"] * 8},
        ["image_list has 8 items", "takes 1 to 7"],
        id="o1-reference-8-images",
    ),
    pytest.param(
        {
            "model": "klingai/video-o1-video-to-video-edit",
            "prompt": "x",
            "video_url": "https://c/v.mp4",
            "keep_audio": "maybe",
        },
        ["keep_audio must be boolean", "'maybe'"],
        id="keep-audio-not-a-boolean",
    ),
]


def resolve(params, files):
    def one(value):
        if isinstance(value, list):
            return [one(item) for item in value]
        return value.format(**files) if isinstance(value, str) else value

    return {key: one(value) for key, value in params.items()}


@pytest.mark.parametrize(("params", "fragments"), BAD)
def test_bad_input_is_one_clear_error_before_any_request(simulator, files, params, fragments):
    with pytest.raises(KlingValidationError) as excinfo:
        KlingHook().submit_generation(**resolve(params, files))
    message = str(excinfo.value)
    for fragment in fragments:
        assert fragment in message
    assert files["good_b64"][40:80] not in message  # inline data is never echoed
    assert simulator.stats()["create_requests"] == 0


def test_at_least_twenty_rows():
    assert len(BAD) >= 20


def test_an_s3_image_without_a_storage_connection_names_the_path(simulator, monkeypatch):
    # The default credential chain, anonymous: aimed at a closed local port so it fails at once
    # (without the Amazon provider installed it is "no filesystem for s3://" instead).
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(KlingError) as excinfo:
        KlingHook().submit_generation(model=I2V, prompt="x", image_url="s3://no-such-bucket-kling/mug.png")
    assert "image_url of " + I2V in str(excinfo.value)
    assert "s3://no-such-bucket-kling/mug.png" in str(excinfo.value)
    assert simulator.stats()["create_requests"] == 0


def test_a_unified_only_model_forced_to_legacy_is_a_configuration_error(simulator, monkeypatch):
    from harness.simulated import connection_json

    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, endpoint="legacy"))
    with pytest.raises(KlingValidationError, match="klingai/video-v3-pro-text-to-video is not served by the legacy"):
        KlingHook().submit_generation(model=V3, prompt="x")
    assert simulator.stats()["create_requests"] == 0


def test_inline_base64_given_directly_is_checked_and_never_echoed(simulator, files):
    import base64
    from pathlib import Path

    data = base64.b64encode(Path(files["tiny"]).read_bytes()).decode()
    with pytest.raises(KlingValidationError) as excinfo:
        KlingHook().submit_generation(model=I2V, prompt="x", image_url=data)
    assert "<inline data, " in str(excinfo.value)
    assert data[:64] not in str(excinfo.value)
    assert simulator.stats()["create_requests"] == 0
