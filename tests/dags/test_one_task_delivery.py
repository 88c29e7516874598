"""Generate and deliver in one task, through ``airflow dags test``: the text, image and any-model
operators each given a ``destination`` (named fields and timedeltas included) store a verified MP4
with its sidecar, pay once, and name the file in their result."""

from __future__ import annotations

import hashlib
import json

import pytest

from airflow_provider_kling.models.destinations import video_file_name
from harness.e2e import dags_test
from harness.inputs import write_image
from tests.e2e_dags.kling_e2e_one_task import EFFECTS

pytestmark = pytest.mark.e2e
DAG_ID = "kling_e2e_one_task"


def test_each_generating_operator_delivers_its_video_in_the_same_task(airflow_env, simulator, tmp_path):
    simulator.configure(generation_seconds=1)
    photo = write_image(tmp_path / "shop" / "mug.png", 640, 640)
    yours = tmp_path / "out" / "notes.txt"  # a file of yours beside the videos: left as it is
    yours.parent.mkdir()
    yours.write_text("mine")
    result, output = dags_test(
        airflow_env, simulator, DAG_ID, KLING_E2E_PHOTO=str(photo), KLING_E2E_OUTPUT=str(tmp_path / "out")
    )
    assert result.returncode == 0, output[-4000:]
    stats = simulator.stats()
    assert stats["creates"] == 3
    generations = stats["generations"]
    models = {generation["model"] for generation in generations.values()}
    assert EFFECTS in models
    effects_id = next(gid for gid, generation in generations.items() if generation["model"] == EFFECTS)
    videos = {
        "lighthouse.mp4": tmp_path / "out" / "lighthouse.mp4",
        "mug-turns.mp4": tmp_path / "out" / "mug-turns.mp4",
        "effects": next((tmp_path / "out" / "effects").glob("*.mp4")),
    }
    for video in videos.values():
        data = video.read_bytes()
        assert data[4:8] == b"ftyp"
        sidecar = json.loads(video.with_name(video.name + ".kling.json").read_text())
        assert sidecar["sha256"] == hashlib.sha256(data).hexdigest()
        assert sidecar["generation_id"] in generations
        assert sidecar["delivered_by"]["dag_id"] == DAG_ID  # what the Video tab checks
    assert videos["effects"].name == video_file_name(effects_id)  # a folder destination: named after the generation
    sidecar = json.loads((tmp_path / "out" / "mug-turns.mp4.kling.json").read_text())
    assert sidecar["metadata"]["sku"] == "MUG-1"
    assert sidecar["metadata"]["task_id"] == "image"
    assert yours.read_text() == "mine"
    states = {row["task_id"]: row["state"] for row in airflow_env.task_instances(DAG_ID)}
    assert states == dict.fromkeys(("text", "image", "effects"), "success")
    assert output.count("Saved video to") == 3  # each by its own task, on a worker after the wait
