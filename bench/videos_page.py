"""Server time of the Videos page with 1,000 recorded videos, beside two floors in the same run.

A fresh PostgreSQL metadata database (``airflow db migrate``) gets ``--videos`` ``kling_video``
records (5 DAGs, 2 models, 28 days; every other record a generate/download pair merged into one
video, as a batch row leaves them). Airflow's own API app runs in this process, with the
provider's plugin mounted as the API server mounts it, and answers through Starlette's test client
(no network): what is timed is the server's work.

* ``/api/v2/version``: a request through Airflow's app and its authentication (the floor).
* the page's query alone: the one SELECT of the records, rows fetched and deserialized.
* ``/kling/videos?limit=1000``: the whole page (authorization per DAG, query, merge, two charts, HTML).

    python bench/videos_page.py --videos 1000 --runs 15
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.airflow_env import AIRFLOW
from harness.cluster import POSTGRES

DAGS = [f"nightly_{n}" for n in range(5)]
MODELS = ["kling-video/v1.6/pro/text-to-video", "klingai/video-v3-turbo-pro-text-to-video"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    database = f"kling_bench_{secrets.token_hex(4)}"
    home = Path(tempfile.mkdtemp(prefix="kling-bench-"))
    url = f"{POSTGRES.replace('postgresql://', 'postgresql+psycopg2://')}/{database}"
    os.environ.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=url,
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
        AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_hex(16),
        AIRFLOW__API_AUTH__JWT_ISSUER="kling-bench",
    )
    admin("CREATE DATABASE " + database)
    try:
        started = time.perf_counter()
        subprocess.run([AIRFLOW, "db", "migrate"], check=True, capture_output=True, timeout=600)
        print(f"metadata database migrated in {time.perf_counter() - started:.0f} s")
        records = fill(database, args.videos)
        print(f"{records} kling_video records stored ({args.videos} videos)")
        measure(args.runs, args.videos)
    finally:
        admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def admin(statement: str) -> None:
    import psycopg2

    db = psycopg2.connect(f"{POSTGRES}/postgres")
    db.autocommit = True
    with db.cursor() as cursor:
        cursor.execute(statement)
    db.close()


def fill(database: str, videos: int) -> int:
    """Store the records straight in the xcom table (its foreign keys off for this session only)."""
    import psycopg2

    now = datetime.now(timezone.utc)
    rows = []
    for index in range(videos):
        dag_id, model = DAGS[index % len(DAGS)], MODELS[index % len(MODELS)]
        at = now - timedelta(hours=index * 24 * 28 / videos)
        run_id = f"scheduled__{at:%Y-%m-%dT%H:%M:%S}+00:00"
        record = {"generation_ids": [f"gen-{index}"], "model": model, "usd": 0.49, "seconds": 5, "poster": True}
        if index % 2:  # a batch row: its generate task and its download task
            rows.append((index, dag_id, run_id, "row.generate", index, at, {**record, "delivered": False}))
            rows.append((index, dag_id, run_id, "row.download", index, at, {**record, "delivered": True}))
        else:
            rows.append((index, dag_id, run_id, "text", -1, at, {**record, "delivered": True}))
    with psycopg2.connect(f"{POSTGRES}/{database}") as db, db.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.executemany(
            "INSERT INTO xcom (dag_run_id, dag_id, run_id, task_id, map_index, key, timestamp, value) "
            "VALUES (%s, %s, %s, %s, %s, 'kling_video', %s, %s)",
            [(r[0], r[1], r[2], r[3], r[4], r[5], json.dumps(r[6])) for r in rows],
        )
    db.close()
    return len(rows)


def measure(runs: int, videos: int) -> None:
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    from airflow_provider_kling.plugins.listing import Filters, recorded_videos

    client = TestClient(create_app())
    token = client.get("/auth/token").json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def page() -> None:
        answer = client.get("/kling/videos?limit=1000", headers=headers)
        assert answer.status_code == 200, answer.text[:500]
        assert answer.text.count("<tr><td>") == min(videos, 1000), "the page does not list every video"

    def version() -> None:
        assert client.get("/api/v2/version", headers=headers).status_code == 200

    def query() -> None:
        from airflow.utils.session import create_session

        with create_session() as session:
            today = datetime.now(timezone.utc).date()
            found = recorded_videos(session, DAGS, Filters(today - timedelta(days=30), today, limit=1000))
        assert len(found) == videos

    print(f"\nmedian and p90 of {runs} runs (after one warm-up), server time in this process:")
    print(f"{'':46}{'median':>10}{'p90':>10}")
    for name, call in (
        ("GET /api/v2/version (floor: app + auth)", version),
        ("the page's query alone (SELECT + deserialize)", query),
        (f"GET /kling/videos?limit=1000 ({videos} videos)", page),
    ):
        call()
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        times.sort()
        print(f"{name:46}{statistics.median(times) * 1000:>8.0f}ms{times[int(0.9 * (runs - 1))] * 1000:>8.0f}ms")


if __name__ == "__main__":
    main()
