"""Waits that start and end in the triggerer (Airflow 3.3+), on the real deployment.

A sensor's wait starts in the triggerer (the scheduler creates its trigger; no worker runs it),
and a successful wait ends there too: the trigger stores the return value and the video link as
the task would have. Failures come back to a worker, which fails the task with the API's message.
"""

from __future__ import annotations

import time

import pytest

from airflow_provider_kling.version_compat import AIRFLOW_V_3_3_PLUS
from harness.cluster import SlotSampler
from harness.deployment import Deployment
from tests.system.test_distributed import assert_one_generation_per_task

pytestmark = pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="waits start in the triggerer on Airflow 3.3+ only")
EXAMPLE = "kling_text_to_video"


def never_ran_on_a_worker(deployment: Deployment, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> bool:
    """A task instance a worker ran was queued and has a process id; one run by the triggerer has neither."""
    [(queued, pid, hostname)] = deployment.airflow.sql(
        "SELECT queued_dttm, pid, hostname FROM task_instance"
        " WHERE dag_id = %s AND run_id = %s AND task_id = %s AND map_index = %s",
        (dag_id, run_id, task_id, map_index),
    )
    return queued is None and pid is None and not hostname


def xcom(deployment: Deployment, dag_id: str, run_id: str, task_id: str, key: str, map_index: int = -1) -> object:
    entry = deployment.airflow.rest(
        "GET",
        f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
        f"?deserialize=true&map_index={map_index}",
    )
    return entry["value"]


def test_the_example_sensor_waits_and_ends_in_the_triggerer(fresh: Deployment) -> None:
    # Renders of one second: the trigger sees "completed" on its first poll, the case that raced the
    # scheduler ("state mismatch") when a worker deferred. Three runs at once.
    fresh.simulator.configure(generation_seconds=1.0)
    runs = [fresh.airflow.trigger(EXAMPLE) for _ in range(3)]
    states = [fresh.airflow.wait_for_run(EXAMPLE, run_id, timeout=300) for run_id in runs]
    assert states == ["success"] * 3, [fresh.airflow.task_instances(EXAMPLE, run_id) for run_id in runs]
    for run_id in runs:
        [wait] = [ti for ti in fresh.airflow.task_instances(EXAMPLE, run_id) if ti["task_id"] == "wait"]
        assert (wait["state"], wait["try_number"]) == ("success", 1), wait
        assert never_ran_on_a_worker(fresh, EXAMPLE, run_id, "wait")
        generation = xcom(fresh, EXAMPLE, run_id, "wait", "return_value")
        # Stored as a worker stores it: downstream tasks read a dict (the report task indexes it).
        assert isinstance(generation, dict), generation
        assert generation["status"] == "completed"
        assert xcom(fresh, EXAMPLE, run_id, "wait", "kling_video_url") == generation["video_url"]
        links = fresh.airflow.rest("GET", f"/api/v2/dags/{EXAMPLE}/dagRuns/{run_id}/taskInstances/wait/links")
        assert links["extra_links"]["Kling video"] == generation["video_url"]
    assert fresh.simulator.stats()["creates"] == 3  # one per run (the three share a prompt)


def test_a_failed_generation_resumes_on_a_worker_and_fails_once_with_the_apis_message(fresh: Deployment) -> None:
    fresh.simulator.configure(generation_seconds=2.0)
    run_id = fresh.airflow.trigger(EXAMPLE, {"prompt": "a fox in the snow [sim:error]"})
    assert fresh.airflow.wait_for_run(EXAMPLE, run_id, timeout=300) == "failed"
    [wait] = [ti for ti in fresh.airflow.task_instances(EXAMPLE, run_id) if ti["task_id"] == "wait"]
    # status: error is final: no retry although the DAG gives the sensor two.
    assert (wait["state"], wait["try_number"]) == ("failed", 1), wait
    logs = "\n".join(
        path.read_text()
        for path in fresh.airflow.home.glob(f"logs/dag_id={EXAMPLE}/run_id={run_id}/task_id=wait/**/*.log")
    )
    assert "ContentPolicyViolation" in logs


def test_the_sensor_timeout_holds_for_a_wait_started_in_the_triggerer(fresh: Deployment) -> None:
    fresh.simulator.configure(generation_seconds=120.0)
    dag_id = "kling_system_sensor_timeout"
    started = time.monotonic()
    run_id = fresh.airflow.trigger(dag_id)
    assert fresh.airflow.wait_for_run(dag_id, run_id, timeout=300) == "failed"
    [wait] = [ti for ti in fresh.airflow.task_instances(dag_id, run_id) if ti["task_id"] == "wait"]
    # A sensor timeout is final: no retry although the DAG gives two.
    assert (wait["state"], wait["try_number"]) == ("failed", 1), wait
    assert time.monotonic() - started < 90, "the 5 s timeout did not end the wait"
    logs = "\n".join(
        path.read_text()
        for path in fresh.airflow.home.glob(f"logs/dag_id={dag_id}/run_id={run_id}/task_id=wait/**/*.log*")
    )
    assert "Gave up waiting for generation" in logs
    assert fresh.simulator.stats()["creates"] == 1


def test_mapped_sensors_start_and_end_in_the_triggerer_even_when_one_is_killed(fresh: Deployment) -> None:
    # The README's pattern for many videos: mapped submits, then mapped sensors on submit.output.
    # The triggerer holding the started waits is SIGKILLed; another takes them over.
    airflow, dag_id, count = fresh.airflow, "kling_system_mapped_sensors", 20
    # Renders that cannot end by themselves before the kill, however slow the machine; ended right after it.
    fresh.simulator.configure(generation_seconds=600.0)
    run_id = airflow.trigger(dag_id, {"count": count})
    sampler = SlotSampler(airflow, fresh.simulator, dag_id, run_id, key_of={}, key_field="prompt", task_id="wait")
    sampler.start()
    try:

        def sensors_deferred() -> int:
            waits = [ti for ti in airflow.task_instances(dag_id, run_id) if ti["task_id"] == "wait"]
            return sum(1 for ti in waits if ti["state"] == "deferred")

        victim, by_triggerer = airflow.kill_busiest_triggerer(sensors_deferred, count)
        fresh.simulator.finish_renders()
        state = airflow.wait_for_run(dag_id, run_id, timeout=300)
    finally:
        sampler.stop()
    airflow.start_triggerer(f"{victim}-again")
    stats = fresh.simulator.stats()
    per_sensor = sampler.running_slot_seconds / count
    print(
        f"\n{count} mapped sensors: run {state}; SIGKILL {victim} holding {max(by_triggerer.values())} waits; "
        f"worker slot-seconds per mapped sensor {per_sensor:.2f} (all: {sampler.running_slot_seconds:.1f}); "
        f"creates {stats['creates']}, status polls {stats['fetch_requests']}"
    )
    assert state == "success", airflow.task_instances(dag_id, run_id)
    assert per_sensor <= 0.5
    waits = sorted(
        (ti for ti in airflow.task_instances(dag_id, run_id) if ti["task_id"] == "wait"), key=lambda ti: ti["map_index"]
    )
    assert [(ti["map_index"], ti["state"], ti["try_number"]) for ti in waits] == [
        (i, "success", 1) for i in range(count)
    ]
    videos = set()
    for index in range(count):
        assert never_ran_on_a_worker(fresh, dag_id, run_id, "wait", index), index
        generation = xcom(fresh, dag_id, run_id, "wait", "return_value", index)
        # Each map index waited for the video its own submit paid for.
        assert isinstance(generation, dict)
        assert generation["id"] == xcom(fresh, dag_id, run_id, "submit", "return_value", index)
        assert generation["status"] == "completed"
        videos.add(generation["video_url"])
    assert len(videos) == count
    assert_one_generation_per_task(stats, count)
