"""Example: one prompt in, one Kling video out.

submit   -> KlingTextToVideoOperator creates the generation and returns its id (XCom).
wait     -> KlingGenerationSensor waits in the triggerer (no worker slot held) and returns the
            finished generation: id, status, video_url, duration, usage.
report   -> a plain task that logs where the video is.

Connection: ``kling_default`` (password = your AI/ML API key). ``make demo`` points it at the
built-in simulator unless you set ``AIMLAPI_KEY``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from airflow_provider_kling.operators.kling import KlingTextToVideoOperator
from airflow_provider_kling.sensors.kling import KlingGenerationSensor


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
    submit = KlingTextToVideoOperator(
        task_id="submit",
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
        poke_interval=10,
        timeout=timedelta(minutes=20).total_seconds(),
    )

    @task
    def report(generation: dict) -> str:
        print(f"Video {generation['id']} is ready: {generation['video_url']}")
        print(f"Usage: {generation['usage'] or 'not reported'}")
        return generation["video_url"]

    report(wait.output)


kling_text_to_video()
