"""``kling_batch``: a whole batch of videos from a prompt list, as the tasks of a DAG.

Plan (read, validate and price every row, guard the spend) -> one mapped task group per row
(generate, waiting deferred; then store the video at once) -> report (``report.json``, ``.csv``,
``.html`` beside the videos, even when rows failed). See the README's "Batches" section and
``dags/kling_batch_production.py``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import ObjectStoragePath, get_current_context, task, task_group

from airflow_provider_kling.batch.plan import row_jobs
from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.pricing import parse_cap
from airflow_provider_kling.models.values import as_seconds
from airflow_provider_kling.operators.kling import KlingDownloadVideoOperator, KlingVideoOperator
from airflow_provider_kling.version_compat import row_label

#: What a batch run may be told, by argument or by a templated DAG param.
OPTIONS = ("max_generations", "max_usd", "overwrite", "fail_on_invalid_rows", "dry_run")


def kling_batch(
    *,
    rows: str,
    destination: str,
    max_usd: float | str | None = None,
    max_generations: int | str = 200,
    overwrite: bool | str = False,
    fail_on_invalid_rows: bool | str = False,
    dry_run: bool | str = False,
    pool: str | None = None,
    poll_interval: float | timedelta = 15,
    timeout: float | timedelta = timedelta(minutes=30),
    kling_conn_id: str = "kling_default",
) -> Any:
    """
    Add a batch's tasks to the DAG being defined: ``plan`` -> ``row`` (mapped: ``generate``, ``download``) -> ``report``.

    Every value but ``pool``, ``poll_interval``, ``timeout`` and ``kling_conn_id`` is templated, so
    a DAG param can set it (``max_usd="{{ params.max_usd }}"``).

    :param rows: the prompt list: a path or URI of a JSONL file, one row per line: ``output`` (the
        file name) and the request's fields (``prompt``, ``model``, ``duration``, ``image`` ...).
    :param destination: the folder (a path or URI ending in ``/``) the videos and the report go to.
    :param max_usd: refuse, before anything is sent, a plan that may cost more US dollars.
    :param max_generations: refuse a plan of more videos.
    :param overwrite: generate rows again whose video this product already delivered.
    :param fail_on_invalid_rows: fail the run on an invalid row instead of skipping and reporting it.
    :param dry_run: validate, price and report the plan; submit nothing.
    :param pool: the pool every row waits in (create it with ``--include-deferred`` to cap the
        generations in flight at your account's limit).
    :param poll_interval: seconds (or a ``timedelta``) between status polls once a video may be done.
    :param timeout: seconds (or a ``timedelta``) each row waits for its video.
    :param kling_conn_id: the Kling connection.
    :returns: the report task's output: the run's totals.
    """
    poll_seconds, timeout_seconds = as_seconds(poll_interval, "poll_interval"), as_seconds(timeout, "timeout")
    options = {
        "max_usd": max_usd,
        "max_generations": max_generations,
        "overwrite": overwrite,
        "fail_on_invalid_rows": fail_on_invalid_rows,
        "dry_run": dry_run,
    }

    @task(task_id="plan", show_return_value_in_logs=False)  # the plan holds every row: inline images, signed URLs
    def plan(rows_file: str, output: str, given: dict) -> dict:
        """Read, validate and price every row; decide what to generate, skip or reject; guard the spend."""
        from airflow_provider_kling.batch.running import plan_run

        return plan_run(read_rows(rows_file), output, batch_options(given), kling_conn_id)

    @task(task_id="row_jobs", show_return_value_in_logs=False)
    def jobs(batch: dict) -> list[dict]:
        """One job per row to generate (none in a dry run)."""
        return [] if batch["options"]["dry_run"] else row_jobs(batch)

    @task_group(group_id="row")
    def row(model: str, parameters: dict, destination: str, metadata: dict) -> None:
        """One row: generate (waiting deferred, in the pool), then store it at once."""
        generate = KlingVideoOperator(
            task_id="generate",
            model=model,
            parameters=parameters,
            kling_conn_id=kling_conn_id,
            pool=pool,
            poll_interval=poll_seconds,
            timeout=timeout_seconds,
            map_index_template=row_label("{{ task.parameters.get('external_task_id') or task.model }}"),
        )
        download = KlingDownloadVideoOperator(
            task_id="download",
            generation_id="{{ ti.xcom_pull(task_ids='row.generate', map_indexes=ti.map_index, key='kling_generation_id') }}",
            destination=destination,
            metadata=metadata,
            kling_conn_id=kling_conn_id,
            overwrite=True,  # existing videos were filtered out by the plan; replacing here is explicit
            map_index_template=row_label("{{ task.destination.rsplit('/', 1)[-1] }}"),
        )
        generate >> download

    @task(task_id="report", trigger_rule="all_done")
    def report() -> dict:
        """Per-row outcome, written next to the videos and summarised in the log."""
        from airflow_provider_kling.batch.running import report_run

        return report_run(get_current_context(), kling_conn_id)

    batch = plan(rows, destination, options)
    rows_done = row.expand_kwargs(jobs(batch))  # type: ignore[arg-type]  # an XComArg, resolved at run time
    done = report()
    [batch, rows_done] >> done
    return done


def read_rows(rows_file: str) -> str:
    """The prompt list's text, from a path or any object-storage URI."""
    return ObjectStoragePath(rows_file).read_text() if "://" in rows_file else Path(rows_file).read_text()


def batch_options(given: dict[str, Any]) -> dict[str, Any]:
    """The run's options as values, whether given as such or rendered from templates (``"True"``, ``"None"``).

    :raises KlingValidationError: naming every option that is not what it must be.
    """
    problems: list[str] = []
    options: dict[str, Any] = {}
    for name in ("overwrite", "fail_on_invalid_rows", "dry_run"):
        value = given.get(name)
        flag = {"true": True, "false": False, "none": False, "": False}.get(str(value).strip().lower())
        if flag is None:
            problems.append(f"{name} must be true or false, got {value!r}")
        options[name] = flag
    count = given.get("max_generations")
    if isinstance(count, str) and re.fullmatch(r"\s*[0-9]+\s*", count):
        count = int(count)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        problems.append(f"max_generations must be a whole number, at least 0, got {count!r}")
    options["max_generations"] = count
    cap = given.get("max_usd")
    try:
        options["max_usd"] = parse_cap(None if str(cap).strip() == "None" else cap)
    except KlingValidationError as err:
        problems += err.problems
    if problems:
        raise KlingValidationError(problems)
    return options
