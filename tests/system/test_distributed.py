"""The provider on a real deployment: scheduler, dag-processor, api-server, two triggerers, workers.

Each scenario asserts on the simulator's counts (one generation per task, whatever happened) and
on Airflow's task states, and prints what it measured.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from harness.cluster import SlotSampler, wait_until
from harness.deployment import Deployment

BATCH_DAG = "kling_batch_production"
FANOUT_DAG = "kling_system_fanout"


def generate_rows(path: Path, count: int, tag: str) -> dict[int, str]:
    names = {i: f"{tag}-{i:03d}" for i in range(count)}
    rows = [{"output": name, "prompt": f"System batch {tag}: product shot {i}"} for i, name in names.items()]
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    return names


def assert_one_generation_per_task(stats: dict[str, Any], expected: int) -> None:
    assert stats["creates"] == expected, stats["creates"]
    assert stats["creates_without_client_request_id"] == 0  # every create can be found in the request log
    duplicates = {key: n for key, n in stats["creates_by_key"].items() if n != 1}
    assert not duplicates, f"generations paid for more than once: {duplicates}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def delivery_lags(
    deployment: Deployment, dag_id: str, run_id: str, key_of: dict[int, str], stats: dict[str, Any]
) -> list[float]:
    """Per row: when its download task ended minus when the simulator finished rendering its video."""
    finished = {g["external_task_id"]: g["finishes_at"] for g in stats["generations"].values()}
    rows = deployment.airflow.sql(
        "SELECT map_index, end_date FROM task_instance WHERE dag_id = %s AND run_id = %s AND task_id = 'row.download'",
        (dag_id, run_id),
    )
    return [end.timestamp() - finished[key_of[index]] for index, end in rows if end is not None]


def stored_before(deployment: Deployment, dag_id: str, run_id: str, moment: float) -> int:
    """How many rows' download tasks had ended (video stored) by ``moment`` (epoch seconds)."""
    rows = deployment.airflow.sql(
        "SELECT end_date FROM task_instance WHERE dag_id = %s AND run_id = %s AND task_id = 'row.download'",
        (dag_id, run_id),
    )
    return sum(1 for (end,) in rows if end is not None and end.timestamp() < moment)


def delivery_stages(
    deployment: Deployment, dag_id: str, run_id: str, key_of: dict[int, str], stats: dict[str, Any]
) -> dict[str, list[float]]:
    """Per row, the seconds each hand-over took from render end to stored video (where the lag goes)."""
    finished = {g["external_task_id"]: g["finishes_at"] for g in stats["generations"].values()}
    rows = deployment.airflow.sql(
        "SELECT g.map_index, g.end_date, d.queued_dttm, d.start_date, d.end_date FROM task_instance g"
        " JOIN task_instance d ON d.dag_id = g.dag_id AND d.run_id = g.run_id AND d.map_index = g.map_index"
        " WHERE g.dag_id = %s AND g.run_id = %s AND g.task_id = 'row.generate' AND d.task_id = 'row.download'",
        (dag_id, run_id),
    )
    stages: dict[str, list[float]] = {"noticed": [], "scheduled": [], "started": [], "stored": []}
    for index, generated, queued, started, ended in rows:
        if None in (generated, queued, started, ended):
            continue
        marks = [finished[key_of[index]], generated.timestamp(), queued.timestamp(), started.timestamp()]
        for name, begin, end in zip(stages, marks, [*marks[1:], ended.timestamp()], strict=True):
            stages[name].append(end - begin)
    return stages


def states_of(deployment: Deployment, dag_id: str, run_id: str, task_id: str) -> Counter[str]:
    return Counter(ti["state"] for ti in deployment.airflow.task_instances(dag_id, run_id) if ti["task_id"] == task_id)


def test_fifty_mapped_generations_stay_under_the_pool_cap_without_holding_worker_slots(
    fresh: Deployment, tmp_path: Path
) -> None:
    limit, count = 10, 50
    fresh.simulator.configure(generation_seconds=10.0, max_concurrent=limit)
    # What the batch DAG's docs tell users to create: waiting generations hold their pool slot.
    fresh.airflow.rest(
        "POST",
        "/api/v2/pools",
        {"name": "kling_generations", "slots": limit, "include_deferred": True, "description": "account limit"},
    )
    prompts = tmp_path / "prompts.jsonl"
    key_of = generate_rows(prompts, count, "fifty")
    started = time.monotonic()
    run_id = fresh.airflow.trigger(BATCH_DAG, {"prompts_file": str(prompts)})
    sampler = SlotSampler(fresh.airflow, fresh.simulator, BATCH_DAG, run_id, key_of, task_id="row.generate")
    sampler.start()
    try:
        state = fresh.airflow.wait_for_run(BATCH_DAG, run_id, timeout=480)
    finally:
        sampler.stop()
    elapsed = time.monotonic() - started
    stats = fresh.simulator.stats()
    print(
        f"\n{count} generations, pool {limit}: run {state} in {elapsed:.0f} s; creates {stats['creates']}, "
        f"status polls {stats['fetch_requests']}, max in flight {stats['max_in_flight']}, "
        f"429 refusals {stats['faults'].get('429_concurrency', 0)}; render-seconds {sampler.render_seconds:.0f}, "
        f"worker slot-seconds while a video rendered {sampler.slot_seconds_while_rendering:.1f}, "
        f"generate slot-seconds in all {sampler.running_slot_seconds:.1f}"
    )
    assert state == "success", fresh.airflow.task_instances(BATCH_DAG, run_id)
    assert states_of(fresh, BATCH_DAG, run_id, "row.generate") == {"success": count}
    assert states_of(fresh, BATCH_DAG, run_id, "row.download") == {"success": count}
    assert_one_generation_per_task(stats, count)
    assert set(stats["creates_by_key"]) == set(key_of.values())
    # The pool (include_deferred) is what keeps the account under its limit: the simulator refuses
    # a create beyond it with 429, and never had to.
    assert stats["max_in_flight"] <= limit
    assert stats["faults"].get("429_concurrency", 0) == 0
    # The cap was binding (not trivially met by a slow start) ...
    assert sampler.max_rendering >= limit - 2
    # ... and while videos render, nobody holds a worker slot: every generate task was seen deferred
    # during its own render; what is left on a worker is the moment between the create request and
    # the hand-over to the triggerer. Waiting on the worker would make the share 100%; the figure
    # is printed (a few % on a quiet machine, ~10% with CI's load), the bound leaves room for load.
    assert sampler.deferred_while_rendering == set(key_of), set(key_of) - sampler.deferred_while_rendering
    assert sampler.slot_seconds_while_rendering <= 0.25 * sampler.render_seconds
    # Each row is stored as soon as its own render ends, not after the last row's (one task group
    # per row): whole waves of rows are already stored while the last ones still render. The lags
    # are printed (speed is for benchmarks: they depend on the machine's load).
    stored = delivery_lags(fresh, BATCH_DAG, run_id, key_of, stats)
    print(f"render end -> video stored: p50 {percentile(stored, 0.5):.1f} s, p95 {percentile(stored, 0.95):.1f} s")
    for stage, lags in delivery_stages(fresh, BATCH_DAG, run_id, key_of, stats).items():
        print(f"  {stage}: p50 {percentile(lags, 0.5):.1f} s, p95 {percentile(lags, 0.95):.1f} s")
    last_render_end = max(g["finishes_at"] for g in stats["generations"].values())
    stored_early = stored_before(fresh, BATCH_DAG, run_id, last_render_end)
    print(f"rows stored before the last render ended: {stored_early} of {count}")
    assert stored_early >= limit, stored_early
    report = json.loads(next(fresh.output.glob("batch/*/report.json")).read_text())
    assert report["totals"]["delivered"] == count
    for name in key_of.values():
        assert (next(fresh.output.glob(f"batch/*/{name}.mp4"))).stat().st_size > 0
    # Each generate task's return value (the finished generation) reached the report task downstream.
    assert report["totals"]["usage"] == {"credits_used": 980000.0 * count}  # 5 s at $0.098 each
    assert all(row["duration"] is not None for row in report["rows"])


def test_thirty_percent_faults_for_the_whole_run_still_one_generation_each(fresh: Deployment) -> None:
    count = 10
    fresh.simulator.configure(generation_seconds=8.0, fault_rate=0.3, seed=7)
    started = time.monotonic()
    run_id = fresh.airflow.trigger(FANOUT_DAG, {"count": count, "label": "faults"})
    state = fresh.airflow.wait_for_run(FANOUT_DAG, run_id, timeout=300)
    stats = fresh.simulator.stats()
    tries = Counter(ti["try_number"] for ti in fresh.airflow.task_instances(FANOUT_DAG, run_id))
    print(
        f"\n30% faults: run {state} in {time.monotonic() - started:.0f} s; create requests {stats['create_requests']}, "
        f"creates {stats['creates']}, status polls {stats['fetch_requests']}, faults {stats['faults']}, tries {dict(tries)}"
    )
    assert state == "success", fresh.airflow.task_instances(FANOUT_DAG, run_id)
    assert states_of(fresh, FANOUT_DAG, run_id, "generate") == {"success": count}
    assert_one_generation_per_task(stats, count)
    assert sum(stats["faults"].values()) >= 10, "the fault switch did not inject enough faults to prove anything"


def test_worker_killed_right_after_the_create_request_reattaches_on_retry(fresh: Deployment) -> None:
    airflow = fresh.airflow
    if not airflow.celery:
        pytest.skip("needs a Celery worker to kill (Redis not reachable, LocalExecutor in use)")
    fresh.simulator.configure(generation_seconds=600.0)  # ended once the retry is polling (below)
    run_id = airflow.trigger("kling_system_poll_in_place")

    def submitted_and_polling() -> bool:
        stats = fresh.simulator.stats()
        return stats["creates"] == 1 and stats["fetch_requests"] >= 1

    # The task polls on the worker (deferrable=False): a status request proves the create request
    # returned and the id was recorded. Kill the worker and everything it forked, mid-task.
    wait_until(submitted_and_polling, timeout=180, interval=0.2, what="the create request and a first poll")
    victim = next(name for name, c in airflow.components.items() if name.startswith("worker") and c.running())
    airflow.components[victim].kill()
    killed_at = time.monotonic()
    airflow.start_worker(f"worker-after-{victim}")

    def retry_polling() -> bool:
        [ti] = airflow.task_instances("kling_system_poll_in_place", run_id)
        return ti["try_number"] >= 2 and ti["state"] == "running" and fresh.simulator.stats()["fetch_requests"] > polls

    polls = fresh.simulator.stats()["fetch_requests"]
    # The retry reattached to the generation still rendering (it polls it); no need to wait out the render.
    wait_until(retry_polling, timeout=240, interval=0.5, what="the retry polling the same generation")
    fresh.simulator.finish_renders()
    state = airflow.wait_for_run("kling_system_poll_in_place", run_id, timeout=300)
    stats = fresh.simulator.stats()
    [ti] = airflow.task_instances("kling_system_poll_in_place", run_id)
    print(
        f"\nworker SIGKILLed after the POST: run {state} {time.monotonic() - killed_at:.0f} s after the kill, "
        f"try {ti['try_number']}, create requests {stats['create_requests']}, creates {stats['creates']}"
    )
    assert state == "success", airflow.logs("scheduler")
    assert ti["try_number"] >= 2, "the kill did not cost the task a try: the scenario proved nothing"
    assert stats["create_requests"] == 1
    assert_one_generation_per_task(stats, 1)
    logs = "\n".join(
        p.read_text() for p in airflow.home.glob(f"logs/dag_id=kling_system_poll_in_place/run_id={run_id}/**/*.log")
    )
    assert "Reattaching to generation" in logs


def test_a_triggerer_killed_while_generations_wait_is_replaced_by_the_other(fresh: Deployment) -> None:
    airflow, count = fresh.airflow, 12
    # Renders that cannot end by themselves before the kill, however slow the machine; ended right after it.
    fresh.simulator.configure(generation_seconds=600.0)
    run_id = airflow.trigger(FANOUT_DAG, {"count": count, "label": "triggerer"})
    victim, by_triggerer = airflow.kill_busiest_triggerer(
        lambda: states_of(fresh, FANOUT_DAG, run_id, "generate").get("deferred", 0), count
    )
    killed_at = time.monotonic()
    fresh.simulator.finish_renders()
    state = airflow.wait_for_run(FANOUT_DAG, run_id, timeout=300)
    airflow.start_triggerer(f"{victim}-again")  # later scenarios get two triggerers again
    stats = fresh.simulator.stats()
    print(
        f"\nSIGKILL {victim} holding {max(by_triggerer.values())} of {count} waits (split {by_triggerer}): "
        f"run {state} {time.monotonic() - killed_at:.0f} s later; creates {stats['creates']}"
    )
    assert state == "success", airflow.task_instances(FANOUT_DAG, run_id)
    generates = [ti for ti in airflow.task_instances(FANOUT_DAG, run_id) if ti["task_id"] == "generate"]
    assert [ti["state"] for ti in generates] == ["success"] * count
    # First tries all: the waits moved to the surviving triggerer, no task had to be retried.
    assert {ti["try_number"] for ti in generates} == {1}
    assert_one_generation_per_task(stats, count)
    assert not airflow.components[victim].running()


def test_worker_killed_mid_storyboard_resumes_without_paying_for_a_finished_shot(fresh: Deployment) -> None:
    airflow, dag_id = fresh.airflow, "kling_system_storyboard_in_place"
    if not airflow.celery:
        pytest.skip("needs a Celery worker to kill (Redis not reachable, LocalExecutor in use)")
    fresh.simulator.configure(generation_seconds=600.0)  # each render ends when the test says so
    run_id = airflow.trigger(dag_id)

    def created_then_polled(creates: int) -> None:
        wait_until(
            lambda: fresh.simulator.stats()["creates"] == creates,
            timeout=180,
            interval=0.3,
            what=f"shot {creates} created",
        )
        polls = fresh.simulator.stats()["fetch_requests"]
        wait_until(
            lambda: fresh.simulator.stats()["fetch_requests"] > polls,
            timeout=60,
            interval=0.3,
            what=f"shot {creates} polled",
        )

    created_then_polled(1)
    fresh.simulator.finish_renders()
    created_then_polled(2)
    # Shot 1 is paid for and finished, shot 2 is rendering: the worker dies.
    victim = next(name for name, c in airflow.components.items() if name.startswith("worker") and c.running())
    airflow.components[victim].kill()
    airflow.start_worker(f"worker-after-{victim}")

    def retry_polling() -> bool:
        [ti] = airflow.task_instances(dag_id, run_id)
        return ti["try_number"] >= 2 and ti["state"] == "running" and fresh.simulator.stats()["fetch_requests"] > polls

    polls = fresh.simulator.stats()["fetch_requests"]
    wait_until(retry_polling, timeout=240, interval=0.5, what="the retry polling shot 2")
    fresh.simulator.finish_renders()
    wait_until(lambda: fresh.simulator.stats()["creates"] == 3, timeout=120, interval=0.3, what="shot 3 created")
    fresh.simulator.finish_renders()
    state = airflow.wait_for_run(dag_id, run_id, timeout=240)
    stats = fresh.simulator.stats()
    [ti] = airflow.task_instances(dag_id, run_id)
    print(f"\nworker SIGKILLed mid-storyboard: run {state}, try {ti['try_number']}, creates {stats['creates']}")
    assert state == "success", airflow.logs("scheduler")[-3000:]
    assert ti["try_number"] >= 2, "the kill did not cost the task a try: the scenario proved nothing"
    assert_one_generation_per_task(stats, 3)  # shots 1 and 2 reattached, not paid again
    video = next(fresh.output.glob(f"storyboards/{run_id.replace(':', '_')}.mp4"))
    sidecar = json.loads(video.with_name(video.name + ".kling.json").read_text())
    assert [shot["generation_id"] for shot in sidecar["shots"]] == list(stats["generations"])
