"""Example: one prompt in, one MP4 in your storage out.

submit    -> KlingTextToVideoOperator validates the parameters, creates the generation and returns
             its id. The id is recorded before anything else, so a retry never pays twice.
wait      -> KlingGenerationSensor waits in the triggerer (no worker slot held while Kling renders,
             usually 2-5 minutes) and returns the finished generation: id, status, video_url, usage.
download  -> KlingDownloadVideoOperator streams the MP4 to the destination atomically, verifies it,
             writes a JSON sidecar and a poster frame, and updates the ``kling_videos`` Asset.
report    -> a plain task that prints where everything went.

Setup: a ``kling_default`` connection whose password is your AI/ML API key, and optionally a
``kling_output`` Variable (any path or URI Airflow's object storage understands, e.g. s3://bucket/videos).
``./dev demo`` runs this DAG against the built-in simulator unless ``AIMLAPI_KEY`` is set.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import dag, task

from airflow_provider_kling.operators.kling import KlingDownloadVideoOperator, KlingTextToVideoOperator
from airflow_provider_kling.sensors.kling import KlingGenerationSensor

# Seconds between status checks once a video may be done (sparser while it is queued). Kling takes
# minutes, so 10 s is plenty; the demo and the tests shorten it against the fast simulator.
POLL_INTERVAL = float(os.environ.get("KLING_POLL_INTERVAL", "10"))


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["kling", "example"],
    params={"prompt": "A red fox trotting through fresh snow at sunrise, cinematic, shallow depth of field"},
    default_args={"retries": 2, "retry_delay": timedelta(seconds=10)},
)
def kling_text_to_video():
    # Validated after templating, before any request: a typo in aspect_ratio fails here, for free.
    # This DAG splits the steps (submit, wait, download); kling_quickstart.py does all three in one task.
    submit = KlingTextToVideoOperator(
        task_id="submit",
        wait_for_completion=False,
        prompt="{{ params.prompt }}",
        negative_prompt="blurry, low quality, watermark",
        aspect_ratio="16:9",
        duration=5,
        cfg_scale=0.5,
    )

    # Deferrable by default; retries >= 1 also covers a known Airflow race with very fast triggers.
    wait = KlingGenerationSensor(
        task_id="wait",
        generation_id=submit.output,
        poke_interval=POLL_INTERVAL,
        timeout=timedelta(minutes=20),
    )

    # A folder (trailing slash) stores <generation id>.mp4, with <id>.mp4.kling.json and .mp4.poster.jpg beside it.
    download = KlingDownloadVideoOperator(
        task_id="download",
        generation_id=submit.output,
        destination="{{ var.value.get('kling_output', '/tmp/kling-videos') }}/",
        metadata={"prompt": "{{ params.prompt }}", "dag_run": "{{ run_id }}"},
    )

    @task
    def report(generation: dict, video_uri: str) -> str:
        print(f"Generation {generation['id']} finished; usage: {generation['usage'] or 'not reported'}")
        print(f"Saved video: {video_uri}")
        return video_uri

    wait >> download
    report(wait.output, download.output)


kling_text_to_video()
