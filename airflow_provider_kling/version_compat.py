"""Names that moved between Airflow 3.1 and 3.3 (like the official providers' ``version_compat``)."""

from __future__ import annotations

from airflow import __version__ as _airflow_version
from packaging.version import Version

#: Airflow 3.3 renders a task's templated trigger kwargs in the triggerer, so a wait can start there.
AIRFLOW_V_3_3_PLUS = Version(Version(_airflow_version).base_version) >= Version("3.3.0")

try:  # Airflow >= 3.2
    from airflow.sdk.exceptions import (
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        TaskDeferred,
    )
except ImportError:  # Airflow 3.1
    from airflow.exceptions import (  # type: ignore[no-redef,attr-defined]
        AirflowException,
        AirflowFailException,
        AirflowSensorTimeout,
        TaskDeferred,
    )

try:  # Airflow >= 3.2
    from airflow.sdk.bases.decorator import determine_kwargs
except ImportError:  # Airflow 3.1
    from airflow.utils.operator_helpers import determine_kwargs  # type: ignore[no-redef]

try:
    from airflow.sdk.definitions.context import context_merge
except ImportError:  # pragma: no cover - older layouts
    from airflow.utils.context import context_merge  # type: ignore[no-redef,attr-defined]

__all__ = [
    "AIRFLOW_V_3_3_PLUS",
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "TaskDeferred",
    "context_merge",
    "determine_kwargs",
    "row_label",
]


def row_label(template: str) -> str | None:
    """A ``map_index_template`` for a task inside a mapped task group, where the Airflow release can render it.

    Before Airflow 3.3 (seen on 3.1.0) it is rendered while the group's arguments are still
    unresolved (``MappedArgument``), which fails the task; there the rows keep their numbers.
    """
    return template if AIRFLOW_V_3_3_PLUS else None
