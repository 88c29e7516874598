"""Example: a storyboard a person approves in Airflow's UI before it is published.

storyboard -> KlingStoryboardOperator renders and joins the shots into a video waiting for review
              (``<kling_output>/review/``), with its contact sheet beside it.
review     -> the standard provider's HITLOperator: a person opens the task's "Required Actions"
              in Airflow's UI, sees the poster, watches the video (a link to the storyboard's
              Video tab, which plays it only while it is still the video asked about), reads what
              it cost and its SHA-256, and chooses Publish or Reject (with a reason). Nothing waits
              on a worker meanwhile. Only the users in ``KLING_REVIEWERS`` may answer, when it is set.
act        -> Publish: the video (and its sidecar, poster and contact sheet) is copied to the
              publishing folder (Variable ``kling_publish``, default ``<kling_output>/published/``),
              all or nothing, and only if it is still the video reviewed (same SHA-256): a video
              replaced after the review is refused, as is any other file already published there.
              Reject: nothing is published. Either way the decision, who made it, the reason and
              the SHA-256 reviewed are written to ``<video>.review.json`` beside the video.

Needs Airflow 3.1+ (human-in-the-loop operators) and the ``media`` extra on the workers.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import Param, Variable, dag, get_current_context, task

from airflow_provider_kling.operators.storyboard import KlingStoryboardOperator
from airflow_provider_kling.plugins.links import video_tab_url

POLL_INTERVAL = float(os.environ.get("KLING_POLL_INTERVAL", "10"))
OUTPUT = "{{ var.value.get('kling_output', '/tmp/kling-videos') }}"
SHOTS = [
    {"prompt": "A linen tote bag on a market stall, morning light, slow push in", "duration": 5},
    {"prompt": "A hand picks the tote bag up and swings it over a shoulder", "duration": 5},
]
BODY = """\
{% set board = ti.xcom_pull(task_ids='storyboard') -%}
{% set watch = kling_video_tab(dag.dag_id, run_id, 'storyboard', sha256=board['sha256']) -%}
[![The storyboard's poster: open it to watch the video]({{ kling_video_tab(dag.dag_id, run_id, 'storyboard', \
still='poster') }})]({{ watch }})

**[▶ Watch the video]({{ watch }})** before you choose: it plays only while it is still the video
with the SHA-256 below.

**Storyboard video:** `{{ ti.xcom_pull(task_ids='storyboard')['uri'] }}`

**Contact sheet** (one still per shot): `{{ ti.xcom_pull(task_ids='storyboard')['uri'] ~ '.contact-sheet.jpg' }}`

**Shots:** {{ ti.xcom_pull(task_ids='storyboard')['generation_ids'] | length }};
{% set cost = ti.xcom_pull(task_ids='storyboard')['cost'] -%}
**cost:** {{ ('$%.2f' | format(cost['usd'])) if cost is mapping else (cost or 'not reported') }}

**SHA-256:** `{{ ti.xcom_pull(task_ids='storyboard')['sha256'] }}`

Publish copies exactly this video (this SHA-256) to the publishing folder; Reject publishes nothing
and keeps your reason.
"""
# Who may answer: Airflow user ids, comma separated, read where the DAG is parsed (with the simple
# auth manager a user's id is its name; with FAB, its numeric id). Unset: anyone allowed to answer
# this DAG's Required Actions.
REVIEWERS = [
    {"id": user.strip(), "name": user.strip()}
    for user in os.environ.get("KLING_REVIEWERS", "").split(",")
    if user.strip()
]


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    # The question links to the storyboard's Video tab (the provider's plugin) and embeds its poster.
    user_defined_macros={"kling_video_tab": video_tab_url},
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
        assigned_users=REVIEWERS or None,
        response_timeout=timedelta(days=2),
        retries=0,
    )

    # A retry is safe: the publication is all or nothing, and a copy already published is kept.
    @task(retries=2)
    def act(video: dict, decision: dict) -> dict:
        """Publish exactly the video reviewed, or publish nothing; record the decision beside it."""
        from airflow_provider_kling.delivery import storage
        from airflow_provider_kling.delivery.review import publish_reviewed, record_decision

        log = get_current_context()["task"].log
        chosen = decision["chosen_options"][0]
        reason = (decision.get("params_input") or {}).get("reason") or ""
        by = (decision.get("responded_by_user") or {}).get("name")
        if chosen == "Publish":
            folder = Variable.get("kling_publish", default=None) or (
                storage.as_storage_path(video["uri"]).parent.parent / "published"
            )
            published = publish_reviewed(video["uri"], folder, sha256=video["sha256"], logger=log)
            outcome = {"decision": "published", "by": by, "published": published}
        else:
            outcome = {"decision": "rejected", "by": by, "reason": reason}
            print(f"Rejected by {by or 'a reviewer'}: {reason or 'no reason given'}; nothing published")
        record_decision(video["uri"], outcome, sha256=video["sha256"], logger=log)
        return outcome

    act(storyboard.output, review.output)
    storyboard >> review


kling_storyboard_review()
