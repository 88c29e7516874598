"""kling_batch: the tasks it adds, and its options as given or as rendered from DAG params."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from airflow.sdk import DAG

from airflow_provider_kling.batch import kling_batch
from airflow_provider_kling.batch.group import batch_options
from airflow_provider_kling.exceptions import KlingValidationError

GIVEN = {"max_usd": None, "max_generations": 200, "overwrite": False, "fail_on_invalid_rows": False, "dry_run": False}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, {"max_usd": None, "max_generations": 200, "overwrite": False, "dry_run": False}),
        (
            {"max_usd": "None", "max_generations": "12", "dry_run": "True"},
            {"max_usd": None, "max_generations": 12, "dry_run": True},
        ),
        ({"max_usd": "2.5", "overwrite": "true"}, {"max_usd": 2.5, "overwrite": True}),
        ({"max_usd": 40, "overwrite": True}, {"max_usd": 40.0, "overwrite": True}),
    ],
)
def test_options_are_read_as_given_or_as_rendered(given, expected):
    options = batch_options({**GIVEN, **given})
    assert {key: options[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({"max_usd": "nan"}, "max_usd must be a positive number of US dollars, got 'nan'"),
        ({"max_usd": "inf"}, "max_usd must be a positive number"),
        ({"max_usd": -5}, "max_usd must be a positive number"),
        ({"max_generations": "-1"}, "max_generations must be a whole number, at least 0, got '-1'"),
        ({"max_generations": 2.5}, "max_generations must be a whole number"),
        ({"max_generations": True}, "max_generations must be a whole number"),
        ({"max_generations": "\u00b2"}, "max_generations must be a whole number"),  # "²".isdigit() is True
        ({"max_generations": "\u0663"}, "max_generations must be a whole number"),  # Arabic-Indic three
        ({"dry_run": "yes"}, "dry_run must be true or false, got 'yes'"),
    ],
)
def test_a_bad_option_is_refused_naming_it(given, says):
    with pytest.raises(KlingValidationError, match=says):
        batch_options({**GIVEN, **given})


def test_the_batch_adds_plan_rows_and_report_to_the_dag():
    with DAG("my_batch", schedule=None, start_date=datetime(2025, 1, 1)) as dag:
        kling_batch(rows="/data/prompts.jsonl", destination="s3://media/videos/", max_usd=50, pool="kling")
    assert sorted(dag.task_dict) == ["plan", "report", "row.download", "row.generate", "row_jobs"]
    generate = dag.get_task("row.generate")
    assert generate.pool == "kling"
    assert generate.wait_for_completion
    assert dag.get_task("report").trigger_rule == "all_done"


@pytest.mark.parametrize(
    ("context", "day"),
    [
        ({"ds": "2026-12-07", "dag_run": None}, "2026-12-07"),
        # Triggered with no logical date (Airflow 3's CLI and REST API default): no "ds" at all.
        ({"dag_run": SimpleNamespace(run_after=datetime(2026, 12, 8, 0, 16, tzinfo=timezone.utc))}, "2026-12-08"),
    ],
)
def test_the_report_names_the_run_s_day_with_or_without_a_logical_date(context, day):
    from airflow_provider_kling.batch.running import run_day

    assert run_day(context) == day
