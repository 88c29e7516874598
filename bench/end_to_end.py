"""End to end on a real deployment: this tree against an earlier one (``--before``), side by side.

For each tree it starts the system suite's deployment (PostgreSQL, scheduler, dag-processor,
api-server, two triggerers, Celery workers on Redis or LocalExecutor) with the simulator, the
earlier tree's code put first on ``PYTHONPATH`` (a ``git worktree`` of ``--before``), and runs:

1. **fan-out**: ``kling_system_fanout`` (mapped ``KlingTextToVideoOperator``, waits deferred,
   ``--generation-seconds`` renders) with count=1 and count=N: wall time and its ratio to one
   render, task processes started per video (Celery workloads received), worker slot-seconds
   held while videos render;
2. **delivery**: the batch example DAG over ``--rows`` rows with varied render times (the
   simulator's realistic timing, scaled): seconds from each row's render end to its video stored
   (its download task's end), p50/p95;
3. **account limit**: the batch DAG over 50 rows, pool ``kling_generations`` of 10 with
   ``include_deferred``, a simulator refusing the 11th concurrent generation: the share of the 10
   slots' time spent rendering, the gap between a render ending and the next create (p50/p95),
   429 refusals.

    python bench/end_to_end.py --count 100 --generation-seconds 60 --before de5015e
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_provider_kling.simulator.process import SimulatorProcess
from harness.cluster import POSTGRES, REDIS, REPO, AirflowCluster, SlotSampler, reachable

FANOUT = "kling_system_fanout"
BATCH = "kling_batch_production"
POOL = "kling_generations"
API_KEY = "sk-bench"


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def workloads_received(airflow: AirflowCluster) -> int:
    """Task processes the workers started so far: one Celery workload each."""
    return sum(
        sum(
            1
            for line in component.log.read_text(errors="replace").splitlines()
            if "execute_workload[" in line and "] received" in line
        )
        for name, component in airflow.components.items()
        if name.startswith("worker")
    )


def counting_processes(airflow: AirflowCluster, run: Callable[[], dict[str, Any]]) -> tuple[dict[str, Any], int]:
    before = workloads_received(airflow)
    result = run()
    time.sleep(2)  # the last workloads' log lines
    return result, workloads_received(airflow) - before


def lags_after_render(
    airflow: AirflowCluster,
    stats: dict[str, Any],
    dag_id: str,
    run_id: str,
    task_ids: tuple[str, ...],
    key_of: dict[int, str],
    key_field: str,
) -> list[float]:
    """Per map index: when the task ended minus when the simulator finished rendering its video."""
    finished = {g[key_field]: g["finishes_at"] for g in stats["generations"].values()}
    rows = airflow.sql(
        "SELECT map_index, end_date FROM task_instance WHERE dag_id = %s AND run_id = %s"
        " AND task_id = ANY(%s) AND end_date IS NOT NULL",
        (dag_id, run_id, list(task_ids)),
    )
    return [end.timestamp() - finished[key_of[index]] for index, end in rows if key_of.get(index) in finished]


def fanout(airflow: AirflowCluster, sim: SimulatorProcess, count: int, label: str) -> dict[str, Any]:
    sim.reset()
    started = time.monotonic()
    run_id = airflow.trigger(FANOUT, {"count": count, "label": label})
    key_of = {i: f"{label} {run_id} video {i}" for i in range(count)}
    sampler = SlotSampler(airflow, sim, FANOUT, run_id, key_of, key_field="prompt")
    sampler.start()
    try:
        state = airflow.wait_for_run(FANOUT, run_id, timeout=1800)
    finally:
        sampler.stop()
    wall = time.monotonic() - started
    stats = sim.stats()
    # Per video: its generate task's end minus the moment the simulator finished rendering it.
    ended = lags_after_render(airflow, stats, FANOUT, run_id, ("generate",), key_of, "prompt")
    creates = sorted(g["created_at"] for g in stats["generations"].values())
    return {
        "count": count,
        "state": state,
        "wall_s": round(wall, 1),
        "creates": stats["creates"],
        "submission_spread_s": round(creates[-1] - creates[0], 1) if creates else None,
        "task_end_after_render_p50_s": percentile(ended, 0.5),
        "task_end_after_render_p95_s": percentile(ended, 0.95),
        "render_seconds": round(sampler.render_seconds, 1),
        "slot_seconds_while_rendering": round(sampler.slot_seconds_while_rendering, 1),
    }


def write_rows(folder: Path, count: int, tag: str) -> tuple[Path, dict[int, str]]:
    names = {i: f"{tag}-{i:03d}" for i in range(count)}
    path = folder / f"{tag}.jsonl"
    path.write_text(
        "".join(json.dumps({"output": n, "prompt": f"bench {tag} product shot {i}"}) + "\n" for i, n in names.items())
    )
    return path, names


def batch_run(airflow: AirflowCluster, sim: SimulatorProcess, prompts: Path) -> tuple[str, str, dict[str, Any]]:
    run_id = airflow.trigger(BATCH, {"prompts_file": str(prompts), "overwrite": True})
    state = airflow.wait_for_run(BATCH, run_id, timeout=1800)
    return run_id, state, sim.stats()


def delivery(airflow: AirflowCluster, sim: SimulatorProcess, rows: int, scale: float, folder: Path) -> dict[str, Any]:
    """Rows with renders of different lengths: how long after its render does each video land?"""
    sim.reset()
    sim.configure(timing="realistic", time_scale=scale, max_concurrent=0, seed=11)
    prompts, names = write_rows(folder, rows, f"delivery-{time.monotonic_ns()}")
    run_id, state, stats = batch_run(airflow, sim, prompts)
    stored = lags_after_render(airflow, stats, BATCH, run_id, ("download", "row.download"), names, "external_task_id")
    return {
        "rows": rows,
        "state": state,
        "stored_after_render_p50_s": percentile(stored, 0.5),
        "stored_after_render_p95_s": percentile(stored, 0.95),
        "stored_after_render_max_s": round(max(stored), 1) if stored else None,
    }


def account_limited(
    airflow: AirflowCluster, sim: SimulatorProcess, rows: int, limit: int, folder: Path, seconds: float
) -> dict[str, Any]:
    """The account's concurrency is the bottleneck: how busy do we keep it?"""
    sim.reset()
    sim.configure(timing="fixed", generation_seconds=seconds, max_concurrent=limit)
    airflow.rest("PATCH", f"/api/v2/pools/{POOL}", {"name": POOL, "slots": limit, "include_deferred": True})
    prompts, _ = write_rows(folder, rows, f"limited-{time.monotonic_ns()}")
    _, state, stats = batch_run(airflow, sim, prompts)
    generations = list(stats["generations"].values())
    creates = sorted(g["created_at"] for g in generations)
    finishes = sorted(g["finishes_at"] for g in generations)
    in_flight = sum(g["finishes_at"] - g["created_at"] for g in generations)
    span = finishes[-1] - creates[0]
    # The k-th create (in time order) beyond the first `limit` took the slot the (k - limit)-th finish freed.
    gaps = [creates[k] - finishes[k - limit] for k in range(limit, len(creates))]
    return {
        "rows": rows,
        "state": state,
        "slots_busy_share": round(in_flight / (limit * span), 3),
        "render_end_to_next_create_p50_s": percentile(gaps, 0.5),
        "render_end_to_next_create_p95_s": percentile(gaps, 0.95),
        "refusals_429": stats["faults"].get("429_concurrency", 0),
        "max_in_flight": stats["max_in_flight"],
    }


def measure_tree(name: str, tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    sim = SimulatorProcess("--api-key", API_KEY, "--generation-seconds", str(args.generation_seconds))
    workdir = Path(tempfile.mkdtemp(prefix=f"kling-bench-e2e-{name}-"))
    output = workdir / "videos"
    env = {
        "AIRFLOW_CONN_KLING_DEFAULT": json.dumps({"conn_type": "kling", "host": sim.url, "password": API_KEY}),
        "AIRFLOW_VAR_KLING_OUTPUT": str(output),
        "KLING_BATCH_POLL_INTERVAL": "2",
    }
    if tree != REPO:
        env["PYTHONPATH"] = str(tree)  # the earlier tree's package comes before the installed one
    airflow = AirflowCluster(
        workdir,
        [tree / "tests" / "system" / "dags" / "kling_system.py", tree / "dags" / "kling_batch_production.py"],
        env,
        celery=reachable(REDIS),
        worker_slots=args.worker_slots,
    )
    result: dict[str, Any] = {"tree": name}
    try:
        started = time.monotonic()
        airflow.start()
        print(f"[{name}] deployment healthy in {time.monotonic() - started:.0f} s", flush=True)
        airflow.rest("POST", "/api/v2/pools", {"name": POOL, "slots": 128, "include_deferred": True})
        if "fanout" in args.scenarios:
            result["fanout"] = measure_fanout(airflow, sim, args)
            print(f"[{name}] fan-out: {result['fanout']}", flush=True)
        if "delivery" in args.scenarios:
            result["delivery"] = delivery(airflow, sim, args.rows, args.time_scale, workdir)
            print(f"[{name}] delivery: {result['delivery']}", flush=True)
        if "account" in args.scenarios:
            result["account_limited"] = account_limited(airflow, sim, 50, 10, workdir, args.generation_seconds)
            print(f"[{name}] account limit: {result['account_limited']}", flush=True)
    finally:
        leftovers = airflow.stop()
        sim.stop()
        if leftovers:
            result["leftovers"] = leftovers
    return result


def measure_fanout(airflow: AirflowCluster, sim: SimulatorProcess, args: argparse.Namespace) -> dict[str, Any]:
    single, single_processes = counting_processes(airflow, lambda: fanout(airflow, sim, 1, "baseline"))
    many, many_processes = counting_processes(airflow, lambda: fanout(airflow, sim, args.count, "batch"))
    return {
        "one_wall_s": single["wall_s"],
        "n": args.count,
        "n_wall_s": many["wall_s"],
        "n_vs_one_render": round(many["wall_s"] / args.generation_seconds, 2),
        "n_vs_one_run": round(many["wall_s"] / single["wall_s"], 2),
        "task_processes_per_video": round((many_processes - 1) / args.count, 2),
        "submission_spread_s": many["submission_spread_s"],
        "task_end_after_render_p50_s": many["task_end_after_render_p50_s"],
        "task_end_after_render_p95_s": many["task_end_after_render_p95_s"],
        "slot_seconds_while_rendering": many["slot_seconds_while_rendering"],
        "render_seconds": many["render_seconds"],
        "states": [single["state"], many["state"]],
        "processes_one_run": single_processes,
    }


def worktree(rev: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix="kling-before-")) / "tree"
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(path), rev], check=True, capture_output=True
    )
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--generation-seconds", type=float, default=60.0)
    parser.add_argument("--rows", type=int, default=40, help="rows of the delivery scenario")
    parser.add_argument("--time-scale", type=float, default=0.25, help="realistic timings x this, delivery scenario")
    parser.add_argument("--worker-slots", type=int, default=16)
    parser.add_argument("--before", default=None, help="an earlier revision to measure side by side")
    parser.add_argument(
        "--scenarios", default="fanout,delivery,account", help="comma-separated: fanout, delivery, account"
    )
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "end_to_end.json")
    args = parser.parse_args()
    if not reachable(POSTGRES):
        print(f"PostgreSQL is not reachable at {POSTGRES}: this benchmark needs a real metadata database")
        return 2
    trees = [("now", REPO)]
    before = worktree(args.before) if args.before else None
    if before is not None:
        trees.insert(0, (f"before ({args.before})", before))
    try:
        results = [measure_tree(name, tree, args) for name, tree in trees]
    finally:
        if before is not None:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(before)], check=False)
    print(
        f"\nrender {args.generation_seconds:.0f} s per video (fan-out, account limit); delivery: realistic x {args.time_scale}"
    )
    sections = [
        (
            "fanout",
            ["n_wall_s", "n_vs_one_render", "n_vs_one_run", "task_processes_per_video", "slot_seconds_while_rendering"],
        ),
        ("delivery", ["stored_after_render_p50_s", "stored_after_render_p95_s", "stored_after_render_max_s"]),
        (
            "account_limited",
            ["slots_busy_share", "render_end_to_next_create_p50_s", "render_end_to_next_create_p95_s", "refusals_429"],
        ),
    ]
    for section, keys in sections:
        if not all(section in r for r in results):
            continue
        print(f"{section:<34}" + "".join(f"{name:>22.22}" for name, _ in trees))
        for key in keys:
            print(f"  {key:<32}" + "".join(f"{r[section].get(key)!s:>22}" for r in results))
    print(
        "goals: N vs one render <= 1.5; task processes per video ~1 (was ~3); slot-seconds while rendering ~0; "
        "stored p95 < 30 s; slots busy >= 0.9 with 0 refusals"
    )
    args.json.parent.mkdir(exist_ok=True)
    args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "results": results}, indent=2))
    return 1 if any("leftovers" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
