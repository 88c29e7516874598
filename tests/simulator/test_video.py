"""The simulator's clips can be told apart: a colour per shot, and an image-to-video clip starts
from its input image, so storyboard tests can check shot order and continuity in the frames."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from airflow_provider_kling.simulator.video import clip_colour, render, shape_of
from harness.frames import centre_colours, close, rgb, runs

pytest.importorskip("imageio_ffmpeg", reason="the media extra (imageio-ffmpeg) renders the simulator's clips")


def clip(tmp_path: Path, body: dict, name: str = "clip.mp4") -> Path:
    data = render(shape_of(body))
    assert data is not None
    path = tmp_path / name
    path.write_bytes(data)
    return path


def png(colour: tuple[int, int, int], size: tuple[int, int] = (320, 180)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_each_prompt_has_its_own_colour_for_the_whole_clip(tmp_path):
    fox, owl = clip_colour("a red fox"), clip_colour("an owl at night")
    assert not close(rgb(fox), rgb(owl))
    colours = centre_colours(clip(tmp_path, {"prompt": "a red fox", "duration": "5"}))
    assert len(colours) == 10  # 5 s at 2 fps
    assert all(close(c, rgb(fox)) for c in colours)


def test_an_image_to_video_clip_starts_from_its_input_image(tmp_path):
    body = {"prompt": "shot two", "image_url": png((250, 250, 0)), "duration": "5"}
    colours = centre_colours(clip(tmp_path, body))
    assert close(colours[0], (250, 250, 0))
    assert all(close(c, rgb(clip_colour("shot two"))) for c in colours[1:])
    assert len(colours) == 10


def test_a_multi_prompt_clip_shows_its_shots_in_order_for_their_durations(tmp_path):
    shots = [{"prompt": "one", "duration": 2}, {"prompt": "two", "duration": 3}]
    colours = centre_colours(clip(tmp_path, {"multi_prompt": shots}))
    palette = [rgb(clip_colour("one")), rgb(clip_colour("two"))]
    assert runs(colours, palette) == [0, 1]
    assert sum(close(c, palette[0]) for c in colours) == 4  # 2 s at 2 fps


def test_string_shots_share_the_duration_out(tmp_path):
    colours = centre_colours(clip(tmp_path, {"multi_prompt": ["a", "b", "c"], "duration": "10"}))
    palette = [rgb(clip_colour(p)) for p in ("a", "b", "c")]
    assert runs(colours, palette) == [0, 1, 2]
    assert [sum(close(c, p) for c in colours) for p in palette] == [6, 6, 8]  # 3 s, 3 s, 4 s
