"""Triggerer cost per waiting video: N concurrent triggers in one event loop, plain HTTP and TLS.

Set up like the triggerer: one process, one asyncio loop, Airflow imported (its logging
configured), each trigger driven by ``async for event in trigger.run()``. The server is the
simulator in another process; it counts requests and distinct client TCP connections. Compared in
the same run, each in a fresh process:

* ``kling``        -- our KlingGenerationTrigger (polls a generation that never finishes);
* ``http_sensor``  -- the HTTP provider's HttpSensorTrigger (a new aiohttp session per poke; polls a
                      404 so that it keeps poking at its interval);
* ``dbt_pattern``  -- the dbt Cloud provider's trigger pattern: a new aiohttp session per poll;
* ``shared_session`` -- one aiohttp session and a sleep, in a process that imported Airflow (as the
                      triggerer has): the floor our trigger is held to;
* ``bare_aiohttp`` -- the same loop without Airflow imported.

Reported per variant: CPU per poll (client process), share of requested polls achieved, new TCP
connections per 1000 polls, event-loop lag p50/p99, RSS per waiting trigger.

    python bench/trigger_polling.py --n 100 --n 1000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from airflow_provider_kling.simulator.process import SimulatorProcess  # noqa: E402
from harness.certs import make_certificate  # noqa: E402

API_KEY = "bench-key"
VARIANTS = ("kling", "http_sensor", "dbt_pattern", "shared_session", "bare_aiohttp")

CHILD = r"""
import asyncio, gc, json, os, sys, time, urllib.request
import psutil

variant, n, interval, warmup, window = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
base, ids = os.environ["BENCH_URL"], json.loads(os.environ["BENCH_IDS"])
if variant != "bare_aiohttp":
    import airflow  # noqa: F401  (configures Airflow's logging, as in the triggerer)
import aiohttp

def stats():
    with urllib.request.urlopen(base + "/_sim/stats?light=1", timeout=30) as r:
        data = json.loads(r.read())
    return data["fetch_requests"], data["connections"]

HEADERS = {"Authorization": "Bearer " + os.environ["BENCH_KEY"]}

async def bare(gid, session):
    while True:
        async with session.get(base + "/v2/generate/video/kling/generation", params={"generation_id": gid}, headers=HEADERS) as r:
            await r.json()
        await asyncio.sleep(interval)

async def dbt_pattern(gid):
    while True:  # the pattern: a fresh ClientSession for every poll
        async with aiohttp.ClientSession(headers=HEADERS) as session:
            async with session.get(base + "/v2/generate/video/kling/generation", params={"generation_id": gid}) as r:
                await r.json()
        await asyncio.sleep(interval)

async def drive(trigger):
    async for _event in trigger.run():
        return

def make_tasks(session):
    if variant == "kling":
        from airflow_provider_kling.triggers.kling import KlingGenerationTrigger
        return [drive(KlingGenerationTrigger(generation_id=g, kling_conn_id="kling_default", end_time=time.time() + 3600, poll_interval=interval)) for g in ids]
    if variant == "http_sensor":
        from airflow.providers.http.triggers.http import HttpSensorTrigger
        return [drive(HttpSensorTrigger(endpoint="v2/generate/video/kling/generation?generation_id=unknown-" + str(i), http_conn_id="bench_http", method="GET", headers=HEADERS, poke_interval=interval)) for i in range(n)]
    if variant == "dbt_pattern":
        return [dbt_pattern(g) for g in ids]
    return [bare(g, session) for g in ids]

async def lag_monitor(samples):
    while True:
        t = time.perf_counter()
        await asyncio.sleep(0.05)
        samples.append(time.perf_counter() - t - 0.05)

async def main():
    proc = psutil.Process()
    gc.collect()
    rss0 = proc.memory_info().rss
    session = aiohttp.ClientSession() if variant in ("shared_session", "bare_aiohttp") else None
    tasks = [asyncio.ensure_future(c) for c in make_tasks(session)]
    lags = []
    monitor = asyncio.ensure_future(lag_monitor(lags))
    await asyncio.sleep(warmup)
    lags.clear()
    req0, conn0 = await asyncio.to_thread(stats)
    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(window)
    cpu1, t1 = time.process_time(), time.perf_counter()
    req1, conn1 = await asyncio.to_thread(stats)
    rss1 = proc.memory_info().rss
    for t in tasks + [monitor]:
        t.cancel()
    await asyncio.gather(*tasks, monitor, return_exceptions=True)
    if session:
        await session.close()
    lags.sort()
    polls = req1 - req0
    print(json.dumps({
        "polls": polls, "expected": n * (t1 - t0) / interval, "cpu_s": cpu1 - cpu0,
        "new_connections": conn1 - conn0, "lag_p50_ms": 1000 * lags[len(lags) // 2],
        "lag_p99_ms": 1000 * lags[int(len(lags) * 0.99)], "rss_per_trigger_kb": (rss1 - rss0) / n / 1024,
    }))

asyncio.run(main())
"""


def run_variant(variant: str, n: int, tls: bool, args: argparse.Namespace, certs: tuple[str, str]) -> dict:
    sim_args = ["--api-key", API_KEY, "--generation-seconds", "1"]
    if tls:
        sim_args += ["--tls-cert", certs[0], "--tls-key", certs[1]]
    with SimulatorProcess(*sim_args) as sim:
        os.environ["AIRFLOW_CONN_KLING_DEFAULT"] = json.dumps(
            {"conn_type": "kling", "host": sim.url, "password": API_KEY}
        )
        from airflow_provider_kling.hooks.kling import KlingHook

        hook = KlingHook()
        ids = [hook.submit_generation(f"bench {i} [sim:never]") for i in range(n)] if variant != "http_sensor" else []
        env = {
            **os.environ,
            "BENCH_URL": sim.url,
            "BENCH_IDS": json.dumps(ids or [str(i) for i in range(n)]),
            "BENCH_KEY": API_KEY,
            "AIRFLOW_CONN_BENCH_HTTP": json.dumps({"conn_type": "http", "host": sim.url}),
        }
        out = subprocess.run(
            [sys.executable, "-c", CHILD, variant, str(n), str(args.interval), str(args.warmup), str(args.window)],
            env=env,
            capture_output=True,
            text=True,
            timeout=args.warmup + args.window + 300,
        )
        if out.returncode != 0:
            raise RuntimeError(f"{variant} failed:\n{out.stderr[-3000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
    polls = max(result["polls"], 1)
    return {
        "variant": variant,
        "n": n,
        "transport": "tls" if tls else "http",
        "cpu_ms_per_poll": round(1000 * result["cpu_s"] / polls, 3),
        "polls_achieved": round(result["polls"] / result["expected"], 3),
        "new_conn_per_1000_polls": round(1000 * result["new_connections"] / polls, 1),
        "lag_p50_ms": round(result["lag_p50_ms"], 2),
        "lag_p99_ms": round(result["lag_p99_ms"], 2),
        "rss_kb_per_trigger": round(result["rss_per_trigger_kb"], 1),
        "polls": result["polls"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, action="append", help="concurrent triggers (repeatable; default 100 and 1000)")
    parser.add_argument("--transport", choices=("http", "tls"), action="append")
    parser.add_argument("--variant", choices=VARIANTS, action="append")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument(
        "--warmup", type=float, default=12.0, help="seconds before measuring (our schedule is dense after 9 x interval)"
    )
    parser.add_argument("--window", type=float, default=15.0)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "trigger_polling.json")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each variant, interleaved (the machine's load drifts)"
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        certs = make_certificate(Path(tmp))
        # Every client here trusts the test CA: aiohttp/urllib via SSL_CERT_FILE, requests via REQUESTS_CA_BUNDLE.
        os.environ["SSL_CERT_FILE"] = os.environ["REQUESTS_CA_BUNDLE"] = certs[0]
        header = f"{'transport':<5} {'N':>5} {'variant':<14} {'CPU ms/poll':>11} {'achieved':>9} {'new conn/1k':>11} {'lag p50':>8} {'lag p99':>8} {'KB/trigger':>10}"
        print(header, flush=True)
        for transport in args.transport or ["http", "tls"]:
            for n in args.n or [100, 1000]:
                for _ in range(args.repeat):
                    for variant in args.variant or VARIANTS:
                        row = run_variant(variant, n, transport == "tls", args, certs)
                        rows.append(row)
                        print(
                            f"{transport:<5} {n:>5} {variant:<14} {row['cpu_ms_per_poll']:>11} {row['polls_achieved']:>9} "
                            f"{row['new_conn_per_1000_polls']:>11} {row['lag_p50_ms']:>8} {row['lag_p99_ms']:>8} {row['rss_kb_per_trigger']:>10}",
                            flush=True,
                        )
    print_ratios(rows)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"interval": args.interval, "window": args.window, "rows": rows}, indent=2))
    print("targets at N=1000: TLS CPU/poll <= 1/5 of http_sensor and <= 1.0x shared_session; >= 98% polls achieved;")
    print("                   <= 2 new conn/1000 polls; <= 50 KB per trigger")
    return 0


def print_ratios(rows: list[dict]) -> None:
    """The trigger's CPU per poll against the shared-session floor, per run pair and as the median."""
    for transport in dict.fromkeys(row["transport"] for row in rows):
        for n in dict.fromkeys(row["n"] for row in rows):

            def costs(variant: str, transport: str = transport, n: int = n) -> list[float]:
                return [
                    r["cpu_ms_per_poll"]
                    for r in rows
                    if (r["transport"], r["n"], r["variant"]) == (transport, n, variant)
                ]

            ours, floor = costs("kling"), costs("shared_session")
            if not ours or not floor:
                continue
            ratios = sorted(a / b for a, b in zip(ours, floor, strict=True))
            each = ", ".join(f"{ratio:.2f}" for ratio in ratios)
            print(
                f"{transport} N={n}: kling / shared_session CPU per poll = {each} (median {ratios[len(ratios) // 2]:.2f}x)"
            )


if __name__ == "__main__":
    sys.exit(main())
