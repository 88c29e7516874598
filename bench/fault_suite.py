"""Fault suite: N generations submitted with KlingHook and awaited with KlingGenerationTrigger
against a simulator failing a share of all requests (5xx with HTML bodies, 429 with and without
Retry-After, resets, answers slower than the client timeout, malformed JSON).

Checks: every generation completes and the simulator created exactly one generation per job.

    python bench/fault_suite.py --generations 200 --fault-rate 0.3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_provider_kling.simulator.process import SimulatorProcess

API_KEY = "fault-suite-key"


async def _run_jobs(n: int, concurrency: int, poll_interval: float, deadline_s: float) -> list[dict[str, Any]]:
    from airflow_provider_kling.hooks.kling import KlingHook
    from airflow_provider_kling.triggers.kling import KlingGenerationTrigger

    hook = KlingHook()
    gate = asyncio.Semaphore(concurrency)

    async def job(i: int) -> dict[str, Any]:
        async with gate:
            generation_id = await asyncio.to_thread(
                hook.submit_generation, f"fault suite job {i}", external_task_id=f"job-{i}"
            )
        trigger = KlingGenerationTrigger(
            generation_id=generation_id,
            kling_conn_id="kling_default",
            end_time=time.time() + deadline_s,
            poll_interval=poll_interval,
        )
        events = [event.payload async for event in trigger.run()]
        return {"job": i, "generation_id": generation_id, "events": events}

    return await asyncio.gather(*(job(i) for i in range(n)))


def run_fault_suite(
    generations: int = 200,
    fault_rate: float = 0.3,
    seed: int = 7,
    generation_seconds: float = 2.0,
    poll_interval: float = 0.5,
    concurrency: int = 16,
) -> dict[str, Any]:
    with SimulatorProcess(
        "--api-key",
        API_KEY,
        "--generation-seconds",
        str(generation_seconds),
        "--fault-rate",
        str(fault_rate),
        "--seed",
        str(seed),
        "--slow-seconds",
        "1.5",
    ) as sim:
        os.environ["AIRFLOW_CONN_KLING_DEFAULT"] = json.dumps(
            {"conn_type": "kling", "host": sim.url, "password": API_KEY, "extra": {"timeout": 1}}
        )
        started = time.monotonic()
        results = asyncio.run(_run_jobs(generations, concurrency, poll_interval, deadline_s=600))
        elapsed = time.monotonic() - started
        stats = sim.stats()
    statuses = [r["events"][0]["status"] if len(r["events"]) == 1 else f"{len(r['events'])} events" for r in results]
    per_job = stats["creates_by_key"]
    return {
        "generations": generations,
        "fault_rate": fault_rate,
        "seed": seed,
        "completed": statuses.count("success"),
        "other_outcomes": sorted(s for s in statuses if s != "success"),
        "creates": stats["creates"],
        "jobs_with_one_create": sum(1 for v in per_job.values() if v == 1),
        "jobs_with_several_creates": sum(1 for v in per_job.values() if v > 1),
        "create_requests": stats["create_requests"],
        "status_requests": stats["fetch_requests"],
        "faults_injected": stats["faults"],
        "faults_total": sum(stats["faults"].values()),
        "tcp_connections": stats["connections"],
        "wall_seconds": round(elapsed, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--generations", type=int, default=200)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    result = run_fault_suite(args.generations, args.fault_rate, args.seed)
    for key, value in result.items():
        print(f"{key:<28} {value}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    ok = (
        result["completed"] == args.generations
        and result["jobs_with_several_creates"] == 0
        and result["creates"] == args.generations
    )
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
