"""Example: a three-shot product ad, each shot starting where the last one ended, as one MP4.

storyboard -> KlingStoryboardOperator checks all three shots (and their total price) before paying
              for the first, renders them one after the other, each after the first starting from
              the previous shot's last frame (waiting in the triggerer while Kling renders), then
              joins them into one verified MP4 with a poster, a contact sheet and a sidecar listing
              every shot's generation id, length and cost. A retry resumes at the first unfinished
              shot; a finished shot is never paid for twice.
report     -> a plain task that prints where the video went and what it cost.

Setup: as ``kling_text_to_video`` (a ``kling_default`` connection, optionally a ``kling_output``
Variable), plus the ``media`` extra (ffmpeg) on the workers.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import dag, task

from airflow_provider_kling.operators.storyboard import KlingStoryboardOperator

POLL_INTERVAL = float(os.environ.get("KLING_POLL_INTERVAL", "10"))
SHOTS = [
    {"prompt": "A speckled ceramic mug on a sunlit wooden table, steam rising, slow push in", "duration": 5},
    {"prompt": "A hand lifts the mug towards the window, morning light, shallow depth of field", "duration": 5},
    {"prompt": "The mug is set down beside an open notebook, the camera pulls back", "duration": 5},
]


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["kling", "example", "storyboard"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=10)},
)
def kling_storyboard():
    storyboard = KlingStoryboardOperator(
        task_id="storyboard",
        shots=SHOTS,  # or an upstream task's output: a list of shots made at run time
        destination="{{ var.value.get('kling_output', '/tmp/kling-videos') }}/storyboards/{{ run_id | replace(':', '_') }}.mp4",
        continuity="last_frame",
        crossfade=0.0,
        max_usd=5,
        poll_interval=POLL_INTERVAL,
        timeout=timedelta(minutes=20),
    )

    @task
    def report(video: dict) -> str:
        from airflow_provider_kling.models.cost import amount_text, cost_usd

        cost = amount_text(cost_usd(video.get("cost")))  # "$1.47", "unknown" or "not reported"
        print(f"Saved storyboard video: {video['uri']} ({len(video['generation_ids'])} shots, cost {cost})")
        return video["uri"]

    report(storyboard.output)


kling_storyboard()
