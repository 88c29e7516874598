"""Names that moved between Airflow 3.1 and 3.3 (like the official providers' ``version_compat``)."""

from __future__ import annotations

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
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "TaskDeferred",
    "context_merge",
    "determine_kwargs",
]
