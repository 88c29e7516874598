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
* **Report**: ``report.json`` and ``report.csv`` next to the videos (status, generation id,
  destination, duration, credits/tokens per row; failed rows with the API's error), summarised in
  the log. It runs even when some rows failed.

Output folder: the Variable ``kling_output`` (any object-storage URI), default ``/tmp/kling-videos``,
plus ``batch/<logical date>/``.
"""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import ObjectStoragePath, Param, dag, get_current_context, task

from airflow_provider_kling.operators.kling import KlingDownloadVideoOperator, KlingVideoOperator

PROMPTS_FILE = Path(__file__).parent / "data" / "kling_batch_prompts.jsonl"
POOL = "kling_generations"
# Seconds between status polls once a video is likely done (sparser before); tests use a short one.
POLL_INTERVAL = float(os.environ.get("KLING_BATCH_POLL_INTERVAL", "15"))
OUTPUT = "{{ var.value.get('kling_output', '/tmp/kling-videos') }}/batch/{{ ds }}/"


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
    },
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
)
def kling_batch_production():
    @task
    def plan(output: str) -> dict:
        """Read and validate every row; decide what to generate, skip or reject."""
        from airflow_provider_kling.batch import plan_batch

        params = get_current_context()["params"]
        text = (
            ObjectStoragePath(params["prompts_file"]).read_text()
            if "://" in params["prompts_file"]
            else Path(params["prompts_file"]).read_text()
        )
        batch = plan_batch(text, output=output, overwrite=params["overwrite"])
        for rejected in batch["invalid"]:
            print(f"Row {rejected['row']} skipped: {rejected['error']}")
        for skipped in batch["existing"]:
            print(
                f"Row {skipped['row']} ({skipped['output']}) already delivered to {skipped['destination']}: not generated again"
            )
        if batch["invalid"] and params["fail_on_invalid_rows"]:
            raise ValueError(f"{len(batch['invalid'])} invalid rows (see above); fail_on_invalid_rows is set")
        print(
            f"{len(batch['todo'])} to generate, {len(batch['existing'])} already done, {len(batch['invalid'])} invalid"
        )
        return batch

    @task
    def generation_kwargs(batch: dict) -> list[dict]:
        # A row may name any catalogued model and its fields, media as URLs or storage paths.
        return [
            {
                "model": row["request"]["model"],
                "parameters": {key: value for key, value in row["request"].items() if key != "model"},
            }
            for row in batch["todo"]
        ]

    @task
    def download_kwargs(batch: dict) -> list[dict]:
        return [{"destination": row["destination"], "metadata": row["metadata"]} for row in batch["todo"]]

    batch = plan(OUTPUT)
    generate = KlingVideoOperator.partial(
        task_id="generate",
        wait_for_completion=True,
        poll_interval=POLL_INTERVAL,
        timeout=timedelta(minutes=30).total_seconds(),
        pool=POOL,
        map_index_template="{{ task.parameters.get('external_task_id') or task.model }}",
    ).expand_kwargs(generation_kwargs(batch))

    download = KlingDownloadVideoOperator.partial(
        task_id="download",
        generation_id="{{ ti.xcom_pull(task_ids='generate', map_indexes=ti.map_index, key='kling_generation_id') }}",
        overwrite=True,  # existing videos were filtered out by plan(); replacing here is explicit
        map_index_template="{{ task.destination.rsplit('/', 1)[-1] }}",
        trigger_rule="all_done",  # a failed row must not block the other rows' downloads
    ).expand_kwargs(download_kwargs(batch))
    generate >> download

    @task(trigger_rule="all_done")
    def report(batch: dict) -> dict:
        """Per-row outcome, written next to the videos and summarised in the log."""
        from airflow_provider_kling.batch import build_report
        from airflow_provider_kling.hooks.kling import KlingHook

        ti = get_current_context()["ti"]
        rows = []
        for index, row in enumerate(batch["todo"]):
            rows.append(
                {
                    "row": row["row"],
                    "output": row["output"],
                    "generation_id": ti.xcom_pull(task_ids="generate", map_indexes=index, key="kling_generation_id"),
                    "generation": ti.xcom_pull(task_ids="generate", map_indexes=index),
                    "destination": ti.xcom_pull(task_ids="download", map_indexes=index),
                }
            )
        result = build_report(batch, rows, KlingHook())
        folder = ObjectStoragePath(batch["output"]) if "://" in batch["output"] else None
        target = folder or Path(batch["output"])
        (target / "report.json").write_text(json.dumps(result, indent=2))
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(result["rows"][0]) if result["rows"] else ["row"])
        writer.writeheader()
        writer.writerows(result["rows"])
        (target / "report.csv").write_text(buffer.getvalue())
        totals = result["totals"]
        print(
            f"Batch {get_current_context()['ds']}: {totals['delivered']} delivered, {totals['already_done']} already done, "
            f"{totals['failed']} failed, {totals['invalid']} invalid; usage {totals['usage']}"
        )
        for failed in (r for r in result["rows"] if r["status"] in ("failed", "invalid")):
            print(f"  row {failed['row']} ({failed['output']}): {failed['status']}: {failed['error']}")
        if totals["failed"]:
            # The report is written; now fail the run so someone looks at the failed rows.
            from airflow_provider_kling.version_compat import AirflowFailException

            raise AirflowFailException(f"{totals['failed']} row(s) failed; see report.json and the lines above")
        return totals

    download >> report(batch)


kling_batch_production()
