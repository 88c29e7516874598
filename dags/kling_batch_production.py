"""Nightly batch: one video per row of a prompt list, within the account's concurrency limit.

Rows (JSONL, one object per line): ``output`` (file name, required), optionally ``model`` (any
model of the README's Models table; default ``kling-video/v1.6/pro/text-to-video``) and any field
of that model (``prompt``, ``duration``, ``aspect_ratio``, ``camera_control``, ``image_url`` as a
URL or storage path, ``multi_prompt`` ...). See ``dags/data/kling_batch_prompts.jsonl``.

* **Validation first**: every row is checked before anything is paid for. A bad row is *skipped
  and reported* (row number, field, what is allowed) so one typo does not cost the whole night;
  set the DAG param ``fail_on_invalid_rows`` to fail the run instead.
* **Concurrency**: each row's generate task waits deferred in the pool ``kling_generations``. Create
  it once with ``--include-deferred`` so waiting generations hold a slot and no more than the
  account's limit are in flight::

      airflow pools set kling_generations 4 "Kling account concurrency" --include-deferred

  A 429 "too many concurrent tasks" anyway is retried with backoff (nothing was created).
* **Re-runs are free**: a row whose video already exists at its destination (same file, with its
  metadata sidecar) is skipped with a log line, unless the param ``overwrite`` is true.
  A *cleared* run keeps every row at the map index its first plan gave it (the plan task records
  the order), delivered meanwhile or not, so each reattaches to what it paid for.
* **Each row delivered as soon as it is ready**: every row is its own mapped task group
  (generate -> download), so a video is stored minutes after its render ends, not after the last
  row's. A failed row fails only its own group.
* **Spend guard**: every row is priced from the API's catalogue before anything is sent. A plan of
  more than ``max_generations`` videos (param, default 200), one costing more than ``max_usd``
  (param, dollars for the whole run; every row must then have a price), or one the account's
  balance does not cover is refused before any request, naming the total and the priciest rows;
  so is a row whose price is a bad number (NaN ...). A ``variable`` price (the avatars) is not
  counted against the balance.
  ``dry_run=true`` validates, prices and plans every row, writes the report of what would be
  generated (row, model, duration, destination, quote; status ``planned``) and submits nothing.
* **Report**: ``report.json`` and ``report.csv`` next to the videos (status, model, generation id,
  destination, duration, cost in dollars and credits per row, totals; failed rows with the API's
  error), summarised in the log, and ``report.html``: the same rows with each video's poster and
  link, readable straight from the folder. It runs even when some rows failed. The three files are
  written whole and only over this product's own earlier report: a file of yours of one of those
  names makes the plan refuse the run, before anything is paid for.

Output folder: the Variable ``kling_output`` (any object-storage URI), default ``/tmp/kling-videos``,
plus ``batch/<logical date>/``.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import Param, dag

from airflow_provider_kling.batch import kling_batch

PROMPTS_FILE = Path(__file__).parent / "data" / "kling_batch_prompts.jsonl"
# Seconds between status polls once a video is likely done (sparser before); tests use a short one.
POLL_INTERVAL = float(os.environ.get("KLING_BATCH_POLL_INTERVAL", "15"))


@dag(
    schedule="@daily",
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["kling", "example", "batch"],
    params={
        "prompts_file": Param(str(PROMPTS_FILE), type="string"),
        "overwrite": Param(False, type="boolean"),
        "fail_on_invalid_rows": Param(False, type="boolean"),
        "max_generations": Param(200, type="integer", minimum=0, description="refuse a plan with more videos"),
        "max_usd": Param(None, type=["null", "number"], description="refuse a plan that may cost more dollars"),
        "dry_run": Param(False, type="boolean", description="validate and report the plan; submit nothing"),
    },
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
)
def kling_batch_production():
    kling_batch(
        rows="{{ params.prompts_file }}",
        destination="{{ var.value.get('kling_output', '/tmp/kling-videos') }}/batch/{{ (dag_run.logical_date or dag_run.run_after) | ds }}/",
        max_usd="{{ params.max_usd }}",
        max_generations="{{ params.max_generations }}",
        overwrite="{{ params.overwrite }}",
        fail_on_invalid_rows="{{ params.fail_on_invalid_rows }}",
        dry_run="{{ params.dry_run }}",
        pool="kling_generations",
        poll_interval=POLL_INTERVAL,
    )


kling_batch_production()
