"""Joining clips of different sizes, frame rates and sound into one verified MP4, and the exact
last frame that starts the next shot; clips rendered by ffmpeg and by the simulator."""

from __future__ import annotations

import io
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from airflow_provider_kling.delivery import stitch as stitching
from airflow_provider_kling.delivery.stitch import (
    ClipInfo,
    StitchError,
    StitchPlan,
    StitchTimeout,
    clip_info,
    expected_seconds,
    last_frame,
    plan_for,
    stitch,
    verify_stitched,
)
from airflow_provider_kling.exceptions import KlingTransientError
from airflow_provider_kling.simulator.video import clip_colour, render, shape_of
from harness.frames import centre_colours, close, rgb, runs
from harness.user_files import files_left

pytest.importorskip("imageio_ffmpeg", reason="stitching needs the media extra (imageio-ffmpeg)")


def make_clip(folder: Path, name: str, colour: str, size: str, fps: int, seconds: float, sound: bool) -> Path:
    from airflow_provider_kling.delivery.stitch import ffmpeg

    command = [ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", f"color=c={colour}:s={size}:r={fps}:d={seconds}"]
    if sound:
        command += ["-f", "lavfi", "-t", str(seconds), "-i", "sine=f=440:r=44100", "-c:a", "aac"]
    command += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(folder / name)]
    subprocess.run(command, check=True, capture_output=True)
    return folder / name


@pytest.fixture
def mixed_clips(tmp_path: Path) -> list[Path]:
    """Three shots as different models would make them: sizes, frame rates, sound or none."""
    return [
        make_clip(tmp_path, "a.mp4", "red", "320x180", 24, 3, sound=True),
        make_clip(tmp_path, "b.mp4", "blue", "90x160", 2, 2, sound=False),
        make_clip(tmp_path, "c.mp4", "green", "160x90", 30, 2, sound=False),
    ]


def test_clip_info_reads_size_rate_length_and_sound(mixed_clips):
    assert clip_info(mixed_clips[0]) == ClipInfo(320, 180, 24.0, 3.0, True)
    assert clip_info(mixed_clips[1]) == ClipInfo(90, 160, 2.0, 2.0, False)


@pytest.mark.parametrize("crossfade", [0.0, 0.5])
def test_mixed_clips_join_into_one_uniform_verified_video(mixed_clips, tmp_path, crossfade):
    infos = [clip_info(path) for path in mixed_clips]
    plan = plan_for(infos, crossfade=crossfade)
    assert plan == StitchPlan(320, 180, 30.0, crossfade)  # the first shot's frame, the highest rate
    out = tmp_path / "joined.mp4"
    stitch(mixed_clips, out, plan, infos)
    joined = verify_stitched(out, plan, infos)
    assert joined.audio  # silence where a shot had none, so the track runs the whole length
    assert joined.seconds == pytest.approx(7.0 - 2 * crossfade, abs=2 / 30)
    # The shots in order; the portrait one letterboxed, not stretched (its centre is still blue).
    assert runs(centre_colours(out), [(254, 0, 0), (0, 0, 254), (0, 128, 0)]) in ([0, 1, 2], [0, -1, 1, -1, 2])
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".joined")] == []


def test_a_crossfade_below_a_millisecond_is_a_cut(mixed_clips, tmp_path):
    infos = [clip_info(path) for path in mixed_clips]
    plan = plan_for(infos, crossfade=0.00001)  # written 1e-05, which ffmpeg cannot read
    assert plan.crossfade == 0.0
    stitch(mixed_clips, tmp_path / "joined.mp4", plan, infos)
    assert verify_stitched(tmp_path / "joined.mp4", plan, infos).seconds == pytest.approx(7.0, abs=3 / 30)


def test_clips_without_sound_join_without_a_sound_track(tmp_path):
    clips = [
        make_clip(tmp_path, f"{n}.mp4", colour, "160x90", 2, 2, sound=False)
        for n, colour in enumerate(["red", "green", "blue"])
    ]
    infos = [clip_info(path) for path in clips]
    plan = plan_for(infos)
    stitch(clips, tmp_path / "joined.mp4", plan, infos)
    assert verify_stitched(tmp_path / "joined.mp4", plan, infos).audio is False


def test_simulator_shots_appear_in_storyboard_order(tmp_path):
    prompts = ["a mug on a table", "steam rising", "a hand lifts the mug"]
    palette = [rgb(clip_colour(p)) for p in prompts]
    paths = []
    for n, prompt in enumerate(prompts):
        paths.append(tmp_path / f"shot-{n}.mp4")
        paths[-1].write_bytes(render(shape_of({"prompt": prompt, "duration": "5"})) or b"")
    infos = [clip_info(path) for path in paths]
    plan = plan_for(infos)
    stitch(paths, tmp_path / "story.mp4", plan, infos)
    verify_stitched(tmp_path / "story.mp4", plan, infos)
    assert runs(centre_colours(tmp_path / "story.mp4"), palette) == [0, 1, 2]


def test_the_last_frame_is_exact_and_starts_the_next_shot(tmp_path):
    import base64

    first = tmp_path / "first.mp4"
    first.write_bytes(render(shape_of({"prompt": "shot one", "duration": "5"})) or b"")
    frame = last_frame(first)
    picture = Image.open(io.BytesIO(frame))
    assert picture.format == "PNG"
    assert close(picture.getpixel((80, 45)), rgb(clip_colour("shot one")))
    # Sent inline as the next shot's image, it is that shot's first frame.
    second = tmp_path / "second.mp4"
    body = {"prompt": "shot two", "image_url": base64.b64encode(frame).decode(), "duration": "5"}
    second.write_bytes(render(shape_of(body)) or b"")
    colours = centre_colours(second)
    assert close(colours[0], centre_colours(first)[-1])
    assert close(colours[1], rgb(clip_colour("shot two")))


@pytest.mark.parametrize(
    ("clips", "crossfade", "message"),
    [
        ([], 0.0, "no clips"),
        ([ClipInfo(160, 90, 2.0, 2.0, False)] * 2, 2.0, "shorter than the shortest clip (2.00 s)"),
        ([ClipInfo(160, 90, 2.0, 2.0, False)] * 2, -1.0, "at least 0"),
        ([ClipInfo(160, 90, 2.0, 2.0, False)] * 2, float("nan"), "at least 0"),
        ([ClipInfo(160, 90, 2.0, 2.0, False)] * 2, 1.9996, "shorter than the shortest clip (2.00 s)"),
    ],
)
def test_a_plan_that_cannot_be_joined_says_why(clips, crossfade, message):
    with pytest.raises(StitchError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan_for(clips, crossfade=crossfade)


def test_a_joined_video_shorter_than_its_clips_is_refused(mixed_clips, tmp_path):
    infos = [clip_info(path) for path in mixed_clips]
    plan = plan_for(infos)
    stitch(mixed_clips[:2], tmp_path / "short.mp4", plan, infos[:2])  # the third shot went missing
    with pytest.raises(StitchError, match=r"lasts 5.00 s, not 7.00 s"):
        verify_stitched(tmp_path / "short.mp4", plan, infos)
    assert expected_seconds(infos, plan) == 7.0


def test_a_file_that_is_not_a_video_is_named(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_text("<html>not a video</html>")
    with pytest.raises(StitchError, match="junk.mp4"):
        clip_info(junk)


@pytest.mark.parametrize(
    ("limit", "says"),
    [
        ("PROBE_TIMEOUT", "ffmpeg was stopped after 0.001 s decoding a.mp4"),
        ("STITCH_TIMEOUT", "ffmpeg was stopped after 0.001 s joining 3 clips into joined.mp4"),
        ("FRAME_TIMEOUT", "ffmpeg was stopped after 0.001 s reading the last frame of a.mp4"),
    ],
)
def test_an_ffmpeg_run_past_its_limit_is_stopped_named_and_leaves_nothing(
    mixed_clips, tmp_path, monkeypatch, limit, says
):
    infos = [clip_info(path) for path in mixed_clips]
    scratch = tmp_path / "scratch"  # where last_frame's own temporary folder goes
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.setattr(stitching, limit, 0.001)
    runs_of = {
        "PROBE_TIMEOUT": lambda: clip_info(mixed_clips[0]),
        "STITCH_TIMEOUT": lambda: stitch(mixed_clips, tmp_path / "joined.mp4", plan_for(infos), infos),
        "FRAME_TIMEOUT": lambda: last_frame(mixed_clips[0]),
    }
    with pytest.raises(StitchTimeout, match=says) as raised:
        runs_of[limit]()
    # Transient: the task is retried (its shots are reattached to, nothing is paid again).
    assert isinstance(raised.value, KlingTransientError)
    assert isinstance(raised.value, StitchError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4", "b.mp4", "c.mp4", "scratch"]
    assert files_left(scratch) == []
