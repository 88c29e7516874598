"""The one obvious way: one task generates a video, waits for it in the triggerer and stores it.

``KlingTextToVideoOperator`` checks the request and the destination before anything is paid for,
records the generation id before waiting (a retry reattaches, never pays twice), waits without
holding a worker slot, then stores the MP4 with a sidecar (``.kling.json``) and a poster
(``.poster.jpg``) beside it. ``./dev demo`` runs this DAG against the built-in simulator unless
``AIMLAPI_KEY`` is set.

Setup: a ``kling_default`` connection whose password is your AI/ML API key, and optionally a
``kling_output`` Variable (a folder: a path or an object-storage URI such as ``s3://my-bucket/videos``).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import dag

from airflow_provider_kling.operators.kling import KlingTextToVideoOperator

# Seconds between status checks once a video may be done; the demo shortens it for the fast simulator.
POLL_INTERVAL = float(os.environ.get("KLING_POLL_INTERVAL", "10"))


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["kling", "example"],
    params={"prompt": "A red fox trotting through fresh snow at sunrise, cinematic"},
    default_args={"retries": 2, "retry_delay": timedelta(seconds=10)},
)
def kling_quickstart():
    KlingTextToVideoOperator(
        task_id="fox",
        prompt="{{ params.prompt }}",
        duration=5,
        aspect_ratio="16:9",
        destination="{{ var.value.get('kling_output', '/tmp/kling-videos') }}/fox-{{ (dag_run.logical_date or dag_run.run_after) | ts_nodash }}.mp4",
        poll_interval=POLL_INTERVAL,
        timeout=timedelta(minutes=30),
    )


kling_quickstart()
