"""The fault suite's core: N generations submitted with KlingHook and awaited with
KlingGenerationTrigger against a simulator failing a share of all requests. Used by
``bench/fault_suite.py`` (200 generations) and a smaller run in the test suite."""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any

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
