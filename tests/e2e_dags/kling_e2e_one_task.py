"""Generate and deliver in one task: each generating operator given a ``destination`` (waiting is the default).

Used by ``tests/dags/test_one_task_delivery.py``. The photo and the output folder come from the
environment; without them the DAG still parses.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import dag

from airflow_provider_kling.operators.kling import (
    KlingImageToVideoOperator,
    KlingTextToVideoOperator,
    KlingVideoOperator,
)

PHOTO = os.environ.get("KLING_E2E_PHOTO", "/tmp/kling-e2e-one-task/mug.png")
OUTPUT = os.environ.get("KLING_E2E_OUTPUT", "/tmp/kling-e2e-one-task")
EFFECTS = "klingai/kling-video-v1.6-pro-effects"


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False)
def kling_e2e_one_task():
    KlingTextToVideoOperator(
        task_id="text",
        prompt="A lighthouse at dusk, waves rolling in",
        duration=5,
        destination=f"{OUTPUT}/lighthouse.mp4",
        poll_interval=timedelta(milliseconds=300),
        timeout=timedelta(minutes=5),
    )
    KlingImageToVideoOperator(
        task_id="image",
        image=PHOTO,
        prompt="The mug turns slowly, soft studio light",
        duration=5,
        destination=f"{OUTPUT}/mug-turns.mp4",
        metadata={"sku": "MUG-1"},
        poll_interval=0.3,
    )
    KlingVideoOperator(
        task_id="effects",
        model=EFFECTS,
        image=PHOTO,
        parameters={"effect_scene": "pet_chef"},
        destination=f"{OUTPUT}/effects/",
        poll_interval=0.3,
    )


kling_e2e_one_task()
