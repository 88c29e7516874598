"""Every catalogued model, end to end over the hook: a minimal body built from the catalog alone is
validated, its local image read and sent inline, accepted by the simulator (which checks bodies by
its own rules), waited for and downloaded; the video has the shape the request asked for."""

from __future__ import annotations

import base64
import io
import time

import pytest

from airflow_provider_kling.delivery.download import VideoDownloader
from airflow_provider_kling.delivery.media import media_available, probe_and_poster
from airflow_provider_kling.hooks.kling import KlingHook
from airflow_provider_kling.models import GenerationStatus
from airflow_provider_kling.models.catalog import list_models
from harness.inputs import minimal_params, write_image

ALL_MODELS = [spec.id for spec in list_models()]


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    return write_image(tmp_path_factory.mktemp("inputs") / "mug.png", 640, 480)


@pytest.fixture
def fast(simulator):
    simulator.configure(generation_seconds=0.2)
    return simulator


def test_all_models_are_exercised():
    assert len(ALL_MODELS) == 44  # every model an operation of the official files documents


@pytest.mark.parametrize("model_id", ALL_MODELS)
def test_every_model_end_to_end(fast, photo, model_id, capfd):
    spec = next(spec for spec in list_models() if spec.id == model_id)
    hook = KlingHook()
    params = minimal_params(spec, str(photo))
    generation_id = hook.submit_generation(**params)
    logged = capfd.readouterr().out
    generation = wait(hook, generation_id)
    assert generation.status is GenerationStatus.COMPLETED, generation.error
    out = io.BytesIO()
    result = VideoDownloader.for_hook(hook).download(generation.video_url, out)
    assert out.getvalue()[4:8] == b"ftyp"
    assert result.size == len(out.getvalue())
    seen = fast.stats()["generations"][generation_id]
    assert seen["model"] == model_id
    if str(photo) in str(params):
        # The file was read and sent inline; the log names it, never its data.
        assert f"{photo} (2 KB, PNG 640×480, sent inline)" in logged
        assert base64.b64encode(photo.read_bytes()).decode()[:80] not in logged


def wait(hook, generation_id, timeout=20.0):
    end = time.monotonic() + timeout
    while True:
        generation = hook.get_generation(generation_id)
        if generation.status.is_terminal or time.monotonic() > end:
            return generation
        time.sleep(0.1)


@pytest.mark.skipif(not media_available(), reason="the media extra (imageio-ffmpeg) is not installed")
def test_v3_multi_shot_with_generated_audio_on_the_unified_path(fast, tmp_path):
    hook = KlingHook()
    generation_id = hook.submit_generation(
        model="klingai/video-v3-pro-text-to-video",
        multi_prompt=["a lighthouse at dusk", "waves crash on the rocks"],
        generate_audio=True,
        duration="12",
        aspect_ratio="9:16",
    )
    generation = wait(hook, generation_id)
    assert generation.status is GenerationStatus.COMPLETED
    target = download_to(hook, generation.video_url, tmp_path / "v3.mp4")
    probe = probe_and_poster(target)
    assert (probe.width, probe.height) == (90, 160)
    assert probe.duration == pytest.approx(12, abs=0.6)
    assert has_audio_track(target.read_bytes())
    assert fast.stats()["generations"][generation_id]["fields"] == [
        "aspect_ratio",
        "duration",
        "generate_audio",
        "model",
        "multi_prompt",
    ]


@pytest.mark.skipif(not media_available(), reason="the media extra (imageio-ffmpeg) is not installed")
def test_an_image_to_video_clip_keeps_the_photos_aspect_and_silent_models_have_no_sound(fast, tmp_path):
    portrait = write_image(tmp_path / "portrait.jpg", 600, 900, fmt="JPEG")
    hook = KlingHook()
    generation_id = hook.submit_generation(
        model="kling-video/v1.6/pro/image-to-video", image_url=str(portrait), prompt="turn", duration=10
    )
    generation = wait(hook, generation_id)
    target = download_to(hook, generation.video_url, tmp_path / "clip.mp4")
    probe = probe_and_poster(target)
    assert (probe.width, probe.height) == (90, 136)
    assert probe.duration == pytest.approx(10, abs=0.6)
    assert not has_audio_track(target.read_bytes())


def test_an_effects_model_with_its_scene(fast, photo):
    hook = KlingHook()
    generation_id = hook.submit_generation(
        model="klingai/kling-video-v1.6-pro-effects", image_url=str(photo), effect_scene="pet_chef"
    )
    assert wait(hook, generation_id).status is GenerationStatus.COMPLETED
    generation = fast.stats()["generations"][generation_id]
    assert generation["fields"] == ["effect_scene", "model"]  # the inline image is not kept by the simulator


def download_to(hook, url, target):
    with target.open("wb") as out:
        VideoDownloader.for_hook(hook).download(url, out)
    return target


def has_audio_track(mp4: bytes) -> bool:
    return b"soun" in mp4  # the handler type of an audio track's hdlr box
