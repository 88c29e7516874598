"""A poster or contact-sheet still is taken by ffmpeg within a time limit, like every ffmpeg run."""

from __future__ import annotations

import pytest

from airflow_provider_kling.delivery.media import still_at
from airflow_provider_kling.delivery.stitch import StitchTimeout
from tests.delivery.test_stitch import make_clip

pytest.importorskip("imageio_ffmpeg", reason="stills need the media extra (imageio-ffmpeg)")


def test_a_still_is_a_jpeg_of_the_frame(tmp_path):
    clip = make_clip(tmp_path, "a.mp4", "red", "320x240", 24, 1.0, sound=False)
    assert still_at(clip, 0.5)[:2] == b"\xff\xd8"


def test_a_still_past_its_limit_is_stopped_and_named(tmp_path):
    # It used to escape as subprocess.TimeoutExpired: a bare exception the task could not explain.
    clip = make_clip(tmp_path, "a.mp4", "red", "320x240", 24, 1.0, sound=False)
    with pytest.raises(StitchTimeout, match=r"ffmpeg was stopped after 0.001 s taking a still 0.50 s into a.mp4"):
        still_at(clip, 0.5, timeout=0.001)
