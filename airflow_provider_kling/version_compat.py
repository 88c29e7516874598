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

__all__ = ["AirflowException", "AirflowFailException", "AirflowSensorTimeout", "TaskDeferred"]
