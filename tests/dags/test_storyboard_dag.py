"""The storyboard example through the real ``airflow dags test``: three shots, each paid once,
joined into one verified MP4 whose frames show the shots in order, each starting from the last
frame of the one before."""

from __future__ import annotations

import json
import re

import pytest

from airflow_provider_kling.simulator.video import clip_colour
from dags.kling_storyboard import SHOTS
from harness.airflow_env import AirflowEnv
from harness.frames import centre_colours, close, rgb, runs
from harness.simulated import connection_json

pytestmark = pytest.mark.e2e
pytest.importorskip("imageio_ffmpeg", reason="storyboards need the media extra (imageio-ffmpeg)")


def test_three_shots_become_one_verified_video_in_order_each_paid_once(airflow_env: AirflowEnv, simulator, tmp_path):
    simulator.configure(generation_seconds=1)
    result = airflow_env.dags_test(
        "kling_storyboard",
        env={
            "AIRFLOW_CONN_KLING_DEFAULT": connection_json(simulator.url),
            "AIRFLOW_VAR_KLING_OUTPUT": str(tmp_path),
            "KLING_POLL_INTERVAL": "0.3",
        },
    )
    output = result.stdout + result.stderr + airflow_env.task_logs()
    assert result.returncode == 0, output[-4000:]
    [video] = list((tmp_path / "storyboards").glob("*.mp4"))
    sidecar = json.loads(video.with_name(video.name + ".kling.json").read_text())
    stats = simulator.stats()
    # One create per shot; shots 2 and 3 are image-to-video from the previous shot's last frame.
    assert stats["creates"] == 3
    assert stats["creates_by_model"] == {
        "kling-video/v1.6/pro/text-to-video": 1,
        "kling-video/v1.6/pro/image-to-video": 2,
    }
    assert [shot["generation_id"] for shot in sidecar["shots"]] == list(stats["generations"])
    assert sidecar["probe"]["duration"] == pytest.approx(15.0, abs=3 / sidecar["probe"]["fps"])
    assert sidecar["cost"]["usd"] == pytest.approx(3 * 0.49)
    # The frames: the three shots' colours in order; shot n+1's first frame is shot n's last.
    colours = centre_colours(video)
    palette = [rgb(clip_colour(shot["prompt"])) for shot in SHOTS]
    assert runs(colours, palette) == [0, 1, 2]
    assert video.with_name(video.name + ".contact-sheet.jpg").read_bytes()[:2] == b"\xff\xd8"
    assert video.with_name(video.name + ".poster.jpg").exists()
    assert re.search(r"Storyboard: shot 2 starts from shot 1's last frame", output)
    assert "Saved the storyboard to" in output
    assert "Saved storyboard video:" in output
    assert not [p for p in video.parent.iterdir() if p.name.startswith(".")]  # nothing partial left
    assert all(close(c, palette[-1]) for c in colours[-3:])
