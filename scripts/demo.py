"""Run the example DAG end to end: against the simulator, or the real API when a key is set.

Usage: ``./dev demo`` (sets up the venv first). With ``AIMLAPI_KEY`` in the environment the same
DAG talks to https://api.aimlapi.com and spends real credits.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOME = REPO / ".airflow"
DAG_ID = "kling_quickstart"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def airflow_env(connection: str, poll_interval: str | None = None) -> dict[str, str]:
    return {
        **({"KLING_POLL_INTERVAL": poll_interval} if poll_interval else {}),
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_KLING_DEFAULT": connection,
        "AIRFLOW_VAR_KLING_OUTPUT": str(REPO / "output"),
    }


def task_summary() -> list[tuple[str, str, int]]:
    with closing(sqlite3.connect(HOME / "airflow.db")) as db:
        run_id = db.execute("SELECT run_id FROM dag_run WHERE dag_id=? ORDER BY id DESC LIMIT 1", (DAG_ID,)).fetchone()[
            0
        ]
        return db.execute(
            "SELECT task_id, state, try_number FROM task_instance WHERE dag_id=? AND run_id=? ORDER BY start_date",
            (DAG_ID, run_id),
        ).fetchall()


def run_dag(connection: str, poll_interval: str | None = None) -> int:
    env = airflow_env(connection, poll_interval)
    HOME.mkdir(exist_ok=True)
    print(f"Preparing the Airflow metadata database in {HOME} ...", flush=True)
    migrate = subprocess.run([AIRFLOW, "db", "migrate"], env=env, capture_output=True, text=True)
    if migrate.returncode:
        print(migrate.stdout[-3000:], migrate.stderr[-3000:])
        return migrate.returncode
    log_path = HOME / "demo-dags-test.log"
    print(f"Running `airflow dags test {DAG_ID}` (full log: {log_path}) ...", flush=True)
    started = time.monotonic()
    with log_path.open("w") as log:
        result = subprocess.run([AIRFLOW, "dags", "test", DAG_ID], env=env, stdout=log, stderr=subprocess.STDOUT)
    elapsed = time.monotonic() - started
    output = log_path.read_text()
    interesting = (
        "Price before paying",
        "Submitted Kling",
        "Deferring",
        "DEFERRED",
        "status '",
        "is ready",
        "Video ",
        "Usage",
        "Saved",
        "Poster",
    )
    for line in output.splitlines():
        if any(word in line for word in interesting):
            print("  " + line[:220])
    print(f"\nDAG run finished in {elapsed:.0f}s with exit code {result.returncode}. Tasks:")
    for task_id, state, tries in task_summary():
        print(f"  {task_id:<10} {state:<10} (try {tries})")
    produced = sorted((REPO / "output").glob("**/*.mp4")) if (REPO / "output").exists() else []
    if produced:
        print("\nProduced:")
        for path in produced[-1:]:
            print(f"  video:  {path} ({path.stat().st_size} bytes)")
            for sibling in sorted(path.parent.glob(path.stem + ".*")):
                if sibling != path:
                    print(f"  {sibling.suffix[1:] + ':':<7} {sibling}")
    return result.returncode


def main() -> int:
    api_key = os.environ.get("AIMLAPI_KEY", "").strip()
    if api_key:
        print("AIMLAPI_KEY is set: the DAG will call the real AI/ML API (this spends credits).")
        return run_dag(json.dumps({"conn_type": "kling", "password": api_key}))
    from airflow_provider_kling.simulator.process import SimulatorProcess

    with SimulatorProcess("--generation-seconds", "6", "--api-key", "demo-key") as sim:
        print(f"No AIMLAPI_KEY set: using the built-in API simulator at {sim.url}")
        # The simulator renders in seconds, not minutes: check its status every second.
        code = run_dag(json.dumps({"conn_type": "kling", "host": sim.url, "password": "demo-key"}), poll_interval="1")
        stats = sim.stats()
        print(
            f"\nSimulator saw {stats['create_requests']} create request(s), {stats['fetch_requests']} status request(s), "
            f"{stats['video_requests']} video download(s)."
        )
        return code


if __name__ == "__main__":
    sys.exit(main())
