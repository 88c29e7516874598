"""DAG-parse cost: what importing the provider adds to a DAG file's imports.

Each measurement is a fresh interpreter importing ``airflow.sdk`` and then the modules a DAG file
imports; we time the second step only and take the median of --runs. Compared with the HTTP
provider's operator (the usual anchor) and with nothing (the floor).

    python bench/parse_cost.py --runs 15
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CASES = {
    "airflow.sdk only (floor)": "",
    "HttpOperator (http provider)": "import airflow.providers.http.operators.http",
    "Kling operators + sensor": "import airflow_provider_kling.operators.kling, airflow_provider_kling.sensors.kling",
    "Kling TaskFlow decorator": "import airflow_provider_kling.decorators.kling_video",
}
HEAVY = (
    "aiohttp",
    "airflow_provider_kling.simulator.app",
    "airflow_provider_kling.hooks.kling",
    "requests",
    "imageio_ffmpeg",
)

PROBE = """
import sys, time
import airflow.sdk
t = time.perf_counter()
{stmt}
elapsed = time.perf_counter() - t
print(elapsed, ",".join(m for m in {heavy!r} if m in sys.modules))
"""


def measure(stmt: str, runs: int) -> tuple[float, str]:
    times, loaded = [], ""
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(stmt=stmt, heavy=HEAVY)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        value, loaded = (
            out.stdout.strip().splitlines()[-1].split(" ", 1)
            if " " in out.stdout.strip().splitlines()[-1]
            else (out.stdout.strip().splitlines()[-1], "")
        )
        times.append(float(value))
    return statistics.median(times) * 1000, loaded


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--json", type=Path, default=Path(__file__).parent / "results" / "parse_cost.json")
    args = parser.parse_args()
    rows = []
    print(f"{'case':<32} {'extra import ms (median)':>25}  heavy modules loaded")
    for name, stmt in CASES.items():
        ms, loaded = measure(stmt, args.runs)
        rows.append({"case": name, "extra_ms": round(ms, 1), "heavy_loaded": loaded.split(",") if loaded else []})
        print(f"{name:<32} {ms:>25.1f}  {loaded or '-'}")
    print("target: Kling operators + sensor <= 50 ms over airflow.sdk; no aiohttp/simulator/hook at parse time")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"runs": args.runs, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
