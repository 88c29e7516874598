"""End to end on a real deployment: N mapped generations vs one, same deployment, same run.

Starts the system suite's deployment (PostgreSQL, scheduler, dag-processor, api-server, two
triggerers, Celery workers on Redis or LocalExecutor) and the simulator with fixed
``--generation-seconds``, then runs ``kling_system_fanout`` (mapped ``KlingTextToVideoOperator``,
deferred waits, poll_interval 2 s) with count=1 (the baseline) and count=N, then N mapped no-op
tasks (``kling_system_noop``: Airflow's own cost per task instance). Reports wall time per run, the
ratio to one generation's render time, how long the submissions took to spread, the
completion-detection delay, and worker slot-seconds held while videos rendered.

    python bench/end_to_end.py --count 100 --generation-seconds 60
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_provider_kling.simulator.process import SimulatorProcess
from harness.cluster import POSTGRES, REDIS, REPO, AirflowCluster, SlotSampler, reachable

DAG = "kling_system_fanout"
API_KEY = "sk-bench"


def run_batch(airflow: AirflowCluster, sim: SimulatorProcess, count: int, label: str) -> dict[str, Any]:
    sim.reset()
    started = time.monotonic()
    run_id = airflow.trigger(DAG, {"count": count, "label": label})
    key_of = {i: f"{label} {run_id} video {i}" for i in range(count)}
    sampler = SlotSampler(airflow, sim, DAG, run_id, key_of, key_field="prompt")
    sampler.start()
    try:
        state = airflow.wait_for_run(DAG, run_id, timeout=1800)
    finally:
        sampler.stop()
    wall = time.monotonic() - started
    stats = sim.stats()
    ends = {
        index: end.timestamp()
        for index, end in airflow.sql(
            "SELECT map_index, end_date FROM task_instance WHERE dag_id = %s AND run_id = %s"
            " AND task_id = 'generate' AND end_date IS NOT NULL",
            (DAG, run_id),
        )
    }
    generations = list(stats["generations"].values())
    finishes_at = {g["prompt"]: g["finishes_at"] for g in generations}
    creates = sorted(g["created_at"] for g in generations)
    # Per video: its task's end minus the moment the simulator finished rendering it.
    detection = [end - finishes_at[key_of[index]] for index, end in ends.items() if key_of.get(index) in finishes_at]
    return {
        "count": count,
        "state": state,
        "wall_s": round(wall, 1),
        "creates": stats["creates"],
        "status_polls": stats["fetch_requests"],
        "submission_spread_s": round(creates[-1] - creates[0], 1) if creates else None,
        "task_end_after_render_p50_s": round(statistics.median(detection), 1) if detection else None,
        "task_end_after_render_max_s": round(max(detection), 1) if detection else None,
        "render_seconds": round(sampler.render_seconds, 1),
        "slot_seconds_while_rendering": round(sampler.slot_seconds_while_rendering, 1),
        "generate_slot_seconds": round(sampler.running_slot_seconds, 1),
    }


def run_noop(airflow: AirflowCluster, count: int) -> dict[str, Any]:
    """Airflow alone: the same number of mapped task instances doing nothing."""
    started = time.monotonic()
    run_id = airflow.trigger("kling_system_noop", {"count": count})
    state = airflow.wait_for_run("kling_system_noop", run_id, timeout=1800)
    starts = sorted(
        row[0].timestamp()
        for row in airflow.sql(
            "SELECT start_date FROM task_instance WHERE dag_id = 'kling_system_noop' AND run_id = %s"
            " AND task_id = 'nothing'",
            (run_id,),
        )
    )
    return {
        "count": count,
        "state": state,
        "wall_s": round(time.monotonic() - started, 1),
        "task_start_spread_s": round(starts[-1] - starts[0], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--generation-seconds", type=float, default=60.0)
    parser.add_argument("--worker-slots", type=int, default=16)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "end_to_end.json")
    args = parser.parse_args()
    if not reachable(POSTGRES):
        print(f"PostgreSQL is not reachable at {POSTGRES}: this benchmark needs a real metadata database")
        return 2
    celery = reachable(REDIS)
    sim = SimulatorProcess("--api-key", API_KEY, "--generation-seconds", str(args.generation_seconds))
    workdir = Path(tempfile.mkdtemp(prefix="kling-bench-e2e-"))
    airflow = AirflowCluster(
        workdir,
        [REPO / "tests" / "system" / "dags" / "kling_system.py"],
        {"AIRFLOW_CONN_KLING_DEFAULT": json.dumps({"conn_type": "kling", "host": sim.url, "password": API_KEY})},
        celery=celery,
        worker_slots=args.worker_slots,
    )
    results: list[dict[str, Any]] = []
    try:
        started = time.monotonic()
        airflow.start()
        print(
            f"{'Celery' if celery else 'Local'}Executor, {args.worker_slots} worker slots: healthy in {time.monotonic() - started:.0f} s"
        )
        results.append(run_batch(airflow, sim, 1, "baseline"))
        results.append(run_batch(airflow, sim, args.count, "batch"))
        noop = run_noop(airflow, args.count)
    finally:
        leftovers = airflow.stop()
        sim.stop()
    columns = list(results[0])
    print(f"render time per video: {args.generation_seconds:.0f} s (fixed)")
    print("  ".join(f"{c:>12.12}" for c in columns))
    for row in results:
        print("  ".join(f"{row[c]!s:>12.12}" for c in columns))
    batch, single = results[-1], results[0]
    print(
        f"{args.count} generations: {batch['wall_s']:.0f} s = {batch['wall_s'] / args.generation_seconds:.2f}x one render "
        f"({args.generation_seconds:.0f} s) = {batch['wall_s'] / single['wall_s']:.2f}x one generation run end to end "
        f"on the same deployment ({single['wall_s']:.0f} s); target <= 1.5x; worker slot-seconds while rendering "
        f"{batch['slot_seconds_while_rendering']} of {batch['render_seconds']} render-seconds"
    )
    print(
        f"Airflow alone, {args.count} mapped no-op tasks on the same deployment: {noop['wall_s']:.0f} s "
        f"(task starts spread over {noop['task_start_spread_s']:.0f} s) vs our submissions spread over "
        f"{batch['submission_spread_s']:.0f} s"
    )
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(
        json.dumps({"generation_seconds": args.generation_seconds, "rows": results, "noop": noop}, indent=2)
    )
    if leftovers:
        print(f"processes survived teardown: {leftovers}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
