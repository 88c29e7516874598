"""Import cost: what the provider adds to a DAG file's imports, and to a task process.

Each measurement is a fresh interpreter that first imports what is loaded anyway (``airflow.sdk``
for DAG parsing; the Task SDK's task runner for a task process), then the modules under test; we
time the second step only and take the median of --runs.

* DAG parsing: our operators and sensor beside the HTTP provider's operator and nothing (the floor).
* A task process (submit, download): ``KlingHook``, which builds on the HTTP provider's ``HttpHook``,
  beside ``HttpHook`` alone and plain ``requests`` (what a hook of our own on ``BaseHook`` needs).

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

PARSING = "import airflow.sdk"
TASK_PROCESS = "import airflow.sdk.execution_time.task_runner"
CASES = {
    "parse: airflow.sdk only (floor)": (PARSING, ""),
    "parse: HttpOperator (http provider)": (PARSING, "import airflow.providers.http.operators.http"),
    "parse: Kling operators + sensor": (
        PARSING,
        "import airflow_provider_kling.operators.kling, airflow_provider_kling.sensors.kling",
    ),
    "parse: Kling TaskFlow decorator": (PARSING, "import airflow_provider_kling.decorators.kling_video"),
    "task: requests only (floor)": (TASK_PROCESS, "import requests"),
    "task: HttpHook (http provider)": (TASK_PROCESS, "import airflow.providers.http.hooks.http"),
    "task: KlingHook (on HttpHook)": (TASK_PROCESS, "import airflow_provider_kling.hooks.kling"),
}
HEAVY = (
    "aiohttp",
    "tenacity",
    "airflow_provider_kling.simulator.app",
    "airflow_provider_kling.hooks.kling",
    "requests",
    "imageio_ffmpeg",
)

PROBE = """
import sys, time
{preload}
before = set(sys.modules)
t = time.perf_counter()
{stmt}
elapsed = time.perf_counter() - t
print(elapsed, ",".join(m for m in {heavy!r} if m in sys.modules and m not in before))
"""


def measure(preload: str, stmt: str, runs: int) -> tuple[float, str]:
    times, loaded = [], ""
    env = {**os.environ, "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(preload=preload, stmt=stmt, heavy=HEAVY)],
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
    print(f"{'case':<38} {'extra import ms (median)':>25}  heavy modules loaded (new ones only)")
    for name, (preload, stmt) in CASES.items():
        ms, loaded = measure(preload, stmt, args.runs)
        rows.append({"case": name, "extra_ms": round(ms, 1), "heavy_loaded": loaded.split(",") if loaded else []})
        print(f"{name:<38} {ms:>25.1f}  {loaded or '-'}")
    print("target: Kling operators + sensor <= 50 ms over airflow.sdk; no aiohttp/simulator/hook at parse time")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"runs": args.runs, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
