"""Batch production helpers: plan a prompt list, guard the spend, then report on what happened.

:func:`kling_batch` adds a whole batch to a DAG (plan, a mapped group per row, report); the pieces
it is made of are importable for batch DAGs of your own:

* :mod:`.plan`: :func:`plan_batch` (validate and sort every row), :func:`row_jobs` (one job per row);
* :mod:`.spend`: :func:`price_plan`, :func:`plan_total`, :func:`check_spend` (count, dollars, balance);
* :mod:`.report`: :func:`build_report` (one line per row, and the totals).
"""

from __future__ import annotations

from airflow_provider_kling.batch.group import kling_batch
from airflow_provider_kling.batch.plan import plan_batch, row_jobs
from airflow_provider_kling.batch.report import build_report
from airflow_provider_kling.batch.spend import PRICIEST_SHOWN, check_spend, plan_total, price_plan

__all__ = [
    "PRICIEST_SHOWN",
    "build_report",
    "check_spend",
    "kling_batch",
    "plan_batch",
    "plan_total",
    "price_plan",
    "row_jobs",
]
