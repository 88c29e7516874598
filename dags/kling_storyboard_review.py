"""Example: a storyboard a person approves in Airflow's UI before it is published.

storyboard -> KlingStoryboardOperator renders and joins the shots into a video waiting for review
              (``<kling_output>/review/``), with its contact sheet beside it.
review     -> the standard provider's HITLOperator: a person opens the task's "Required Actions"
              in Airflow's UI, sees where the video and its contact sheet are and what they cost,
              and chooses Publish or Reject (with a reason). Nothing waits on a worker meanwhile.
act        -> Publish: the video (and its sidecar, poster and contact sheet) is copied to the
              publishing folder (Variable ``kling_publish``, default ``<kling_output>/published/``).
              Reject: nothing is published; the decision and the reason are written to
              ``<video>.review.json`` beside the video under review.

Needs Airflow 3.1+ (human-in-the-loop operators) and the ``media`` extra on the workers.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import Param, Variable, dag, get_current_context, task

from airflow_provider_kling.operators.storyboard import KlingStoryboardOperator

POLL_INTERVAL = float(os.environ.get("KLING_POLL_INTERVAL", "10"))
OUTPUT = "{{ var.value.get('kling_output', '/tmp/kling-videos') }}"
SHOTS = [
    {"prompt": "A linen tote bag on a market stall, morning light, slow push in", "duration": 5},
    {"prompt": "A hand picks the tote bag up and swings it over a shoulder", "duration": 5},
]
BODY = """\
**Storyboard video:** `{{ ti.xcom_pull(task_ids='storyboard')['uri'] }}`

**Contact sheet** (one still per shot): `{{ ti.xcom_pull(task_ids='storyboard')['uri'] ~ '.contact-sheet.jpg' }}`

**Shots:** {{ ti.xcom_pull(task_ids='storyboard')['generation_ids'] | length }};
{% set cost = ti.xcom_pull(task_ids='storyboard')['cost'] -%}
**cost:** {{ ('$%.2f' | format(cost['usd'])) if cost is mapping else (cost or 'not reported') }}

Publish copies it to the publishing folder; Reject publishes nothing and keeps your reason.
"""


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["kling", "example", "storyboard", "review"],
    default_args={"retries": 1, "retry_delay": timedelta(seconds=10)},
)
def kling_storyboard_review():
    storyboard = KlingStoryboardOperator(
        task_id="storyboard",
        shots=SHOTS,
        destination=OUTPUT + "/review/{{ run_id | replace(':', '_') }}.mp4",
        max_usd=3,
        poll_interval=POLL_INTERVAL,
    )

    review = HITLOperator(
        task_id="review",
        subject="Publish this storyboard video?",
        body=BODY,
        options=["Publish", "Reject"],
        params={
            "reason": Param(None, type=["null", "string"], description="Why (kept beside the video when rejected)")
        },
        response_timeout=timedelta(days=2),
        retries=0,
    )

    @task(retries=0)
    def act(video: dict, decision: dict) -> dict:
        """Publish the approved video, or record why it was rejected; nothing else."""
        from airflow_provider_kling.delivery import storage
        from airflow_provider_kling.delivery.storyboard import publish_copy
        from airflow_provider_kling.models.destinations import REVIEW

        context = get_current_context()
        chosen = decision["chosen_options"][0]
        reason = (decision.get("params_input") or {}).get("reason") or ""
        by = (decision.get("responded_by_user") or {}).get("name")
        under_review = storage.as_storage_path(video["uri"])
        if chosen == "Publish":
            folder = Variable.get("kling_publish", default=None) or under_review.parent.parent / "published"
            published = publish_copy(under_review, folder, logger=context["task"].log)
            return {"decision": "published", "uri": published, "by": by}
        record = {"decision": "rejected", "reason": reason, "by": by, "video": video["uri"]}
        target = storage.companion(under_review, REVIEW)
        storage.write_small_file(target, json.dumps(record, indent=2).encode())
        print(f"Rejected by {by or 'a reviewer'}: {reason or 'no reason given'}; nothing published ({target})")
        return record

    act(storyboard.output, review.output)
    storyboard >> review


kling_storyboard_review()
