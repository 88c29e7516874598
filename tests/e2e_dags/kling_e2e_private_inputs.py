"""Every generating entry point given a prompt, inline image data and a presigned image URL.

Used by ``tests/dags/test_lineage.py``: OpenLineage's file transport and the task logs of one
``airflow dags test`` run must hold none of them. The inline image (raw base64 of a PNG) and the
output folder come from the environment; without them the DAG still parses.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import dag, task

from airflow_provider_kling.operators.kling import (
    KlingDownloadVideoOperator,
    KlingImageToVideoOperator,
    KlingTextToVideoOperator,
    KlingVideoOperator,
)
from airflow_provider_kling.operators.storyboard import KlingStoryboardOperator
from airflow_provider_kling.sensors.kling import KlingGenerationSensor

PROMPT = "The lighthouse keeper's daughter reads a letter by the lamp"
SIGNED = (
    "https://shop.s3.amazonaws.com/products/mug.png?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261207%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Expires=3600&X-Amz-Signature=5e1f00d5e1f00d5e1f00d5e1f00d5e1f00d5e1f00d"
)
MAPPED_PROMPT = "{{ 6 * 7 }} " + PROMPT
INLINE = os.environ.get("KLING_E2E_INLINE_IMAGE", "")
OUTPUT = os.environ.get("KLING_E2E_OUTPUT", "/tmp/kling-e2e-private")
I2V = "kling-video/v1.6/pro/image-to-video"
POLL = 0.3


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False)
def kling_e2e_private_inputs():
    KlingTextToVideoOperator(
        task_id="text",
        prompt=PROMPT,
        parameters={"negative_prompt": PROMPT},
        wait_for_completion=True,
        poll_interval=POLL,
    )
    KlingImageToVideoOperator(
        task_id="image", image=INLINE, tail_image=SIGNED, prompt=PROMPT, wait_for_completion=True, poll_interval=POLL
    )
    submitted = KlingVideoOperator(
        wait_for_completion=False,
        task_id="video",
        model=I2V,
        parameters={"prompt": PROMPT, "image_url": f"data:image/png;base64,{INLINE}", "tail_image_url": SIGNED},
    )
    finished = KlingGenerationSensor(task_id="sensor", generation_id=submitted.output, poke_interval=1, timeout=120)
    download = KlingDownloadVideoOperator(
        task_id="download",
        video_url="{{ ti.xcom_pull(task_ids='sensor')['video_url'] }}",  # the CDN's signed URL
        destination=f"{OUTPUT}/download.mp4",
        metadata={"prompt": PROMPT},
        poster=False,
    )
    finished >> download
    KlingStoryboardOperator(
        task_id="storyboard",
        shots=[{"prompt": PROMPT, "image": SIGNED}, {"prompt": f"{PROMPT}, at dawn", "image": INLINE}],
        continuity="none",
        destination=f"{OUTPUT}/storyboard.mp4",
        poll_interval=POLL,
    )

    @task.kling_video(model=I2V, destination=f"{OUTPUT}/taskflow/", poll_interval=POLL)
    def taskflow() -> dict:
        return {"prompt": PROMPT, "image_url": SIGNED}

    taskflow()

    @task(show_return_value_in_logs=False)  # Airflow's own log line would quote the rows
    def rows_from_upstream() -> list[dict]:
        return [{"prompt": MAPPED_PROMPT, "image_url": INLINE}, {"prompt": PROMPT, "image_url": SIGNED}]

    # Values mapped from an upstream task are data, not templates: the first row's prompt is sent as written.
    KlingVideoOperator.partial(task_id="rows", model=I2V, wait_for_completion=True, poll_interval=POLL).expand(
        parameters=rows_from_upstream()
    )


kling_e2e_private_inputs()
