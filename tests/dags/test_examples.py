"""The example DAGs run by the real ``airflow dags test`` against the simulator.

``airflow dags test`` goes through the real deferral path: the sensor defers, the trigger runs,
the task resumes. Task states are read from the metadata database afterwards.
"""

from __future__ import annotations

import json
import re
import threading

import pytest

from harness.cluster import wait_until
from harness.e2e import dags_test
from harness.simulated import API_KEY, connection_json

pytestmark = pytest.mark.e2e


def finish_after_first_poll(simulator) -> None:
    wait_until(
        lambda: simulator.stats()["fetch_requests"] >= 1, timeout=240, interval=0.2, what="the first status poll"
    )
    simulator.finish_renders()


def test_example_dag_stores_a_video_through_the_triggerer_and_the_key_is_nowhere(airflow_env, simulator, tmp_path):
    # A render that cannot end before the sensor has deferred, however slow the machine (Airflow 3.1.0
    # spends seconds of CPU on each task start); ended once the trigger has polled it, not waited out.
    simulator.configure(generation_seconds=600)
    finisher = threading.Thread(target=finish_after_first_poll, args=(simulator,), daemon=True)
    finisher.start()
    # The `airflow dags test` command itself, in a process of its own (the other runs share a warm one).
    result, output = dags_test(
        airflow_env, simulator, "kling_text_to_video", fresh_process=True, AIRFLOW_VAR_KLING_OUTPUT=str(tmp_path)
    )
    finisher.join(timeout=10)
    assert result.returncode == 0, output[-4000:]
    assert airflow_env.states("kling_text_to_video") == {
        "submit": "success",
        "wait": "success",
        "download": "success",
        "report": "success",
    }
    # The sensor deferred and the trigger ran (inline: `dags test` runs triggers in its own process),
    # polled and logged what it saw: still rendering, or already done when the render was ended after
    # the sensor's own first look (Airflow 3.1 has the sensor look before deferring).
    assert "deferring until it finishes" in output
    assert "[DAG TEST] running trigger in line" in output
    assert re.search(r"status '(queued|generating)' after \d+s \(1 poll\)|completed in \d+s: ", output), output[-4000:]
    videos = list(tmp_path.glob("*.mp4"))
    assert len(videos) == 1
    assert videos[0].read_bytes()[4:8] == b"ftyp"
    assert f"Saved video: file://{videos[0]}" in output
    assert videos[0].with_name(videos[0].name + ".kling.json").exists()
    assert videos[0].with_name(videos[0].name + ".poster.jpg").exists()
    assert simulator.stats()["creates"] == 1
    # The key is in no log, no database row, no file; the scan itself can find things (the id is there).
    assert API_KEY not in output
    assert airflow_env.files_containing(API_KEY) == []
    generation_id = next(iter(simulator.stats()["generations"]))
    assert airflow_env.files_containing(generation_id)


def test_the_quickstart_generates_and_stores_in_one_task(airflow_env, simulator, tmp_path):
    # The DAG ./dev demo runs: one operator, waiting by default, delivering to a file under kling_output.
    simulator.configure(generation_seconds=2)
    result, output = dags_test(airflow_env, simulator, "kling_quickstart", AIRFLOW_VAR_KLING_OUTPUT=str(tmp_path))
    assert result.returncode == 0, output[-3000:]
    assert airflow_env.states("kling_quickstart") == {"fox": "success"}
    (video,) = tmp_path.glob("fox-*.mp4")
    assert video.read_bytes()[4:8] == b"ftyp"
    assert video.with_name(video.name + ".kling.json").exists()
    assert video.with_name(video.name + ".poster.jpg").exists()
    assert simulator.stats()["creates"] == 1


def test_example_dag_on_the_unified_endpoint(airflow_env, simulator, tmp_path):
    simulator.configure(generation_seconds=3)
    result, output = dags_test(
        airflow_env,
        simulator,
        "kling_text_to_video",
        AIRFLOW_CONN_KLING_DEFAULT=connection_json(simulator.url, endpoint="unified"),
        AIRFLOW_VAR_KLING_OUTPUT=str(tmp_path),
    )
    assert result.returncode == 0, output[-3000:]
    assert len(list(tmp_path.glob("*.mp4"))) == 1
    sidecar = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert sidecar["usage"] == {"credits_used": 980000.0}  # the unified response shape


def test_taskflow_example_maps_over_products_and_stores_every_video(airflow_env, simulator, tmp_path):
    simulator.configure(generation_seconds=1)
    result, output = dags_test(airflow_env, simulator, "kling_taskflow", AIRFLOW_VAR_KLING_OUTPUT=str(tmp_path))
    assert result.returncode == 0, output[-4000:]
    clips = [row for row in airflow_env.task_instances("kling_taskflow") if row["task_id"] == "product_clip"]
    assert sorted(row["map_index"] for row in clips) == [0, 1, 2]
    assert all(row["state"] == "success" for row in clips)
    assert len(list((tmp_path / "taskflow").glob("*.mp4"))) == 3
    assert "3 videos, $1.47 spent" in output  # 3 × 5 s at $0.098 a second, as the API reported it
    stats = simulator.stats()
    assert stats["creates"] == 3
    assert stats["creates_without_client_request_id"] == 0
    assert sorted(g["prompt"].split(" around ")[1].split(" on ")[0] for g in stats["generations"].values()) == [
        "a brass desk lamp",
        "a speckled ceramic mug",
        "a waxed canvas tote bag",
    ]


def test_the_consumer_dag_runs_without_events(airflow_env, simulator):
    result, output = dags_test(airflow_env, simulator, "kling_video_consumer")
    assert result.returncode == 0, output[-4000:]
    assert "nothing to do" in output
