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

from airflow.sdk import ObjectStoragePath, Param, dag, get_current_context, task, task_group

from airflow_provider_kling.dag_helpers import row_label
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
        "max_generations": Param(200, type="integer", minimum=0, description="refuse a plan with more videos"),
        "max_usd": Param(None, type=["null", "number"], description="refuse a plan that may cost more dollars"),
        "dry_run": Param(False, type="boolean", description="validate and report the plan; submit nothing"),
    },
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
)
def kling_batch_production():
    @task(show_return_value_in_logs=False)  # the plan holds every row: inline images, signed URLs
    def plan(output: str) -> dict:
        """Read, validate and price every row; decide what to generate, skip or reject; guard the spend."""
        from airflow_provider_kling.batch import check_spend, plan_batch, plan_total, price_plan
        from airflow_provider_kling.exceptions import KlingError, KlingPermanentError
        from airflow_provider_kling.hooks.kling import KlingHook
        from airflow_provider_kling.tasks.mapped_order import MappedOrder
        from airflow_provider_kling.version_compat import AirflowFailException

        context = get_current_context()
        params = context["params"]
        order = MappedOrder(context)  # each row keeps its map index (and ledger record) when the run is cleared
        text = (
            ObjectStoragePath(params["prompts_file"]).read_text()
            if "://" in params["prompts_file"]
            else Path(params["prompts_file"]).read_text()
        )
        try:
            batch = plan_batch(text, output=output, overwrite=params["overwrite"], planned=order.load())
        except KlingPermanentError as err:  # a file of yours where the report goes, a row's place lost: nothing sent
            raise AirflowFailException(str(err)) from None
        for rejected in batch["invalid"]:
            print(f"Row {rejected['row']} skipped: {rejected['error']}")
        for skipped in batch["existing"]:
            print(
                f"Row {skipped['row']} ({skipped['output']}) already delivered to {skipped['destination']}: not generated again"
            )
        if batch["invalid"] and params["fail_on_invalid_rows"]:
            raise AirflowFailException(f"{len(batch['invalid'])} invalid rows (see above); fail_on_invalid_rows is set")
        try:
            hook = KlingHook()
            price_plan(batch, hook)
            balance = hook.balance() if batch["todo"] else None
            check_spend(batch, params["max_generations"], max_usd=params.get("max_usd"), balance=balance)
            if not params["dry_run"]:
                order.keep([row["output"] for row in batch["todo"]])
        except (
            KlingError
        ) as err:  # refused (count, dollars, balance), the API could not say, no order kept: nothing sent
            raise AirflowFailException(str(err)) from None
        for kept in (row for row in batch["todo"] if row["planned_before"]):
            print(
                f"Row {kept['row']} ({kept['output']}) keeps its map index from this run's plan before it was "
                "cleared: what it paid for is reattached, not paid again"
            )
        print(
            f"{len(batch['todo'])} to generate (up to ${plan_total(batch):.2f}), {len(batch['existing'])} already "
            f"done, {len(batch['invalid'])} invalid" + (" (dry run: nothing is submitted)" if params["dry_run"] else "")
        )
        return batch

    @task(show_return_value_in_logs=False)
    def row_jobs(batch: dict) -> list[dict]:
        """One job per row to generate (none in a dry run)."""
        from airflow_provider_kling.batch import row_jobs

        return [] if get_current_context()["params"]["dry_run"] else row_jobs(batch)

    @task_group
    def row(model: str, parameters: dict, destination: str, metadata: dict) -> None:
        """One row: generate (waiting deferred, in the pool), then store it at once."""
        generate = KlingVideoOperator(
            task_id="generate",
            model=model,
            parameters=parameters,
            wait_for_completion=True,
            poll_interval=POLL_INTERVAL,
            timeout=timedelta(minutes=30),
            pool=POOL,
            map_index_template=row_label("{{ task.parameters.get('external_task_id') or task.model }}"),
        )
        download = KlingDownloadVideoOperator(
            task_id="download",
            generation_id="{{ ti.xcom_pull(task_ids='row.generate', map_indexes=ti.map_index, key='kling_generation_id') }}",
            destination=destination,
            metadata=metadata,
            overwrite=True,  # existing videos were filtered out by plan(); replacing here is explicit
            map_index_template=row_label("{{ task.destination.rsplit('/', 1)[-1] }}"),
        )
        generate >> download

    @task(trigger_rule="all_done")
    def report() -> dict:
        """Per-row outcome, written next to the videos and summarised in the log."""
        from airflow_provider_kling.batch import build_report
        from airflow_provider_kling.delivery.reports import write_report
        from airflow_provider_kling.exceptions import KlingPermanentError
        from airflow_provider_kling.hooks.kling import KlingHook
        from airflow_provider_kling.models.cost import amount_text
        from airflow_provider_kling.version_compat import AirflowFailException

        context = get_current_context()
        ti, dry_run = context["ti"], context["params"]["dry_run"]
        batch = ti.xcom_pull(task_ids="plan")
        if batch is None:  # plan() refused the run (spend guard, invalid rows): nothing was generated
            raise AirflowFailException("nothing to report: the plan was refused (see the plan task's log)")
        outcomes = [
            {
                "generation_id": ti.xcom_pull(task_ids="row.generate", map_indexes=index, key="kling_generation_id"),
                "generation": ti.xcom_pull(task_ids="row.generate", map_indexes=index),
                "destination": ti.xcom_pull(task_ids="row.download", map_indexes=index),
            }
            for index in range(0 if dry_run else len(batch["todo"]))
        ]
        result = build_report(batch, outcomes, KlingHook(), dry_run=dry_run)
        try:
            write_report(batch["output"], result, title=f"Kling batch {context['ds']}")
        except KlingPermanentError as err:  # a file of yours appeared where the report goes: it is left as it is
            raise AirflowFailException(f"{err}; the rows' outcomes are in their own tasks' logs") from None
        totals = result["totals"]
        if dry_run:
            print(
                f"Dry run {context['ds']}: {totals['planned']} would be generated for up to "
                f"{amount_text(totals['quote_usd'])}, {totals['invalid']} invalid"
            )
            for planned in (r for r in result["rows"] if r["status"] == "planned"):
                quote = "no quote" if planned["quote_usd"] is None else f"up to ${planned['quote_usd']:.2f}"
                length = "the API's default length" if planned["duration"] is None else f"{planned['duration']} s"
                print(f"  row {planned['row']} ({planned['output']}): {planned['model']}, {length}, {quote}")
            return totals
        print(
            f"Batch {context['ds']}: {totals['delivered']} delivered, {totals['already_done']} already done, "
            f"{totals['failed']} failed, {totals['invalid']} invalid; spent {amount_text(totals['usd'])} ({totals['usage']})"
        )
        for failed in (r for r in result["rows"] if r["status"] in ("failed", "invalid")):
            print(f"  row {failed['row']} ({failed['output']}): {failed['status']}: {failed['error']}")
        if totals["failed"]:
            # The report is written; now fail the run so someone looks at the failed rows.
            raise AirflowFailException(f"{totals['failed']} row(s) failed; see report.json and the lines above")
        return totals

    batch = plan(OUTPUT)
    rows = row.expand_kwargs(row_jobs(batch))
    [batch, rows] >> report()


kling_batch_production()
