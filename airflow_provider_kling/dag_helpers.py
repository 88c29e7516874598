"""Small helpers for DAG files (the example DAGs use them); cheap to import at DAG-parse time."""

from __future__ import annotations

from airflow_provider_kling.version_compat import AIRFLOW_V_3_3_PLUS


def row_label(template: str) -> str | None:
    """A ``map_index_template`` for a task inside a mapped task group, where the Airflow release can render it.

    Before Airflow 3.3 (seen on 3.1.0) it is rendered while the group's arguments are still
    unresolved (``MappedArgument``), which fails the task; there the rows keep their numbers.
    """
    return template if AIRFLOW_V_3_3_PLUS else None
