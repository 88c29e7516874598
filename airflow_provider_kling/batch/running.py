"""What a batch's ``plan`` and ``report`` tasks do (see :func:`~airflow_provider_kling.batch.group.kling_batch`)."""

from __future__ import annotations

from typing import Any

from airflow_provider_kling.batch.plan import plan_batch, row_jobs
from airflow_provider_kling.batch.report import build_report
from airflow_provider_kling.batch.spend import check_spend, plan_total, price_plan
from airflow_provider_kling.exceptions import KlingError, KlingPermanentError
from airflow_provider_kling.hooks.kling import KlingHook
from airflow_provider_kling.models.cost import amount_text
from airflow_provider_kling.tasks.mapped_order import MappedOrder
from airflow_provider_kling.version_compat import AirflowFailException

__all__ = ["plan_run", "report_run", "row_jobs"]


def plan_run(text: str, output: str, options: dict[str, Any], kling_conn_id: str) -> dict[str, Any]:
    """Validate, price and order every row; refuse the run (nothing sent) when the spend guard says so.

    :returns: the plan (:func:`plan_batch`'s, with each row's quote) and the run's ``options``.
    """
    from airflow.sdk import get_current_context

    order = MappedOrder(get_current_context())  # each row keeps its map index (and ledger record) when cleared
    try:
        batch = plan_batch(text, output=output, overwrite=options["overwrite"], planned=order.load())
    except KlingPermanentError as err:  # a file of yours where the report goes, a row's place lost: nothing sent
        raise AirflowFailException(str(err)) from None
    for rejected in batch["invalid"]:
        print(f"Row {rejected['row']} skipped: {rejected['error']}")
    for skipped in batch["existing"]:
        print(
            f"Row {skipped['row']} ({skipped['output']}) already delivered to {skipped['destination']}: not generated again"
        )
    if batch["invalid"] and options["fail_on_invalid_rows"]:
        raise AirflowFailException(f"{len(batch['invalid'])} invalid rows (see above); fail_on_invalid_rows is set")
    try:
        hook = KlingHook(kling_conn_id)
        price_plan(batch, hook)
        balance = hook.balance() if batch["todo"] else None
        check_spend(batch, options["max_generations"], max_usd=options["max_usd"], balance=balance)
        if not options["dry_run"]:
            order.keep([row["output"] for row in batch["todo"]])
    except KlingError as err:  # refused (count, dollars, balance), the API could not say, no order kept: nothing sent
        raise AirflowFailException(str(err)) from None
    for kept in (row for row in batch["todo"] if row["planned_before"]):
        print(
            f"Row {kept['row']} ({kept['output']}) keeps its map index from this run's plan before it was "
            "cleared: what it paid for is reattached, not paid again"
        )
    print(
        f"{len(batch['todo'])} to generate (up to ${plan_total(batch):.2f}), {len(batch['existing'])} already "
        f"done, {len(batch['invalid'])} invalid" + (" (dry run: nothing is submitted)" if options["dry_run"] else "")
    )
    return {**batch, "options": options}


def report_run(context: Any, kling_conn_id: str) -> dict[str, Any]:
    """Each row's outcome, written beside the videos and told in the log; fails the run when a row failed."""
    from airflow_provider_kling.delivery.reports import write_report

    ti = context["ti"]
    batch = ti.xcom_pull(task_ids="plan")
    if batch is None:  # the plan refused the run (spend guard, invalid rows): nothing was generated
        raise AirflowFailException("nothing to report: the plan was refused (see the plan task's log)")
    dry_run = batch["options"]["dry_run"]
    outcomes = [
        {
            "generation_id": ti.xcom_pull(task_ids="row.generate", map_indexes=index, key="kling_generation_id"),
            "generation": ti.xcom_pull(task_ids="row.generate", map_indexes=index),
            "destination": ti.xcom_pull(task_ids="row.download", map_indexes=index),
        }
        for index in range(0 if dry_run else len(batch["todo"]))
    ]
    result = build_report(batch, outcomes, KlingHook(kling_conn_id), dry_run=dry_run)
    day = run_day(context)
    try:
        write_report(batch["output"], result, title=f"Kling batch {day}")
    except KlingPermanentError as err:  # a file of yours appeared where the report goes: it is left as it is
        raise AirflowFailException(f"{err}; the rows' outcomes are in their own tasks' logs") from None
    totals = result["totals"]
    if dry_run:
        _tell_dry_run(day, result)
        return totals  # type: ignore[no-any-return]
    print(
        f"Batch {day}: {totals['delivered']} delivered, {totals['already_done']} already done, "
        f"{totals['failed']} failed, {totals['invalid']} invalid; spent {amount_text(totals['usd'])} ({totals['usage']})"
    )
    for failed in (r for r in result["rows"] if r["status"] in ("failed", "invalid")):
        print(f"  row {failed['row']} ({failed['output']}): {failed['status']}: {failed['error']}")
    if totals["failed"]:
        # The report is written; now fail the run so someone looks at the failed rows.
        raise AirflowFailException(f"{totals['failed']} row(s) failed; see report.json and the lines above")
    return totals  # type: ignore[no-any-return]


def run_day(context: Any) -> str:
    """The run's day: its logical date's, or when it was made to run (a run triggered without one)."""
    if context.get("ds"):
        return str(context["ds"])
    return context["dag_run"].run_after.strftime("%Y-%m-%d")


def _tell_dry_run(ds: str, result: dict[str, Any]) -> None:
    totals = result["totals"]
    print(
        f"Dry run {ds}: {totals['planned']} would be generated for up to {amount_text(totals['quote_usd'])}, {totals['invalid']} invalid"
    )
    for planned in (r for r in result["rows"] if r["status"] == "planned"):
        quote = "no quote" if planned["quote_usd"] is None else f"up to ${planned['quote_usd']:.2f}"
        length = "the API's default length" if planned["duration"] is None else f"{planned['duration']} s"
        print(f"  row {planned['row']} ({planned['output']}): {planned['model']}, {length}, {quote}")
