"""The one place where Kling errors become Airflow's fail-or-retry semantics."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from airflow_provider_kling.exceptions import KlingPermanentError, KlingTransientError, KlingWaitTimeout
from airflow_provider_kling.version_compat import AirflowException, AirflowFailException, AirflowSensorTimeout


@contextmanager
def airflow_failure_semantics(*, timeout_is_final: bool) -> Iterator[None]:
    """Re-raise Kling errors as the Airflow exception that does the right thing.

    * permanent (bad input, 4xx, ``status: error``, unknown submission) -> ``AirflowFailException``:
      the task fails at once, DAG ``retries`` are skipped (no retry storm, no second bill);
    * transient after the retry budget -> ``AirflowException``: Airflow may retry the task;
    * deadline -> ``AirflowSensorTimeout`` for a sensor (final), ``AirflowException`` for an
      operator (its retry reattaches to the same generation).

    :param timeout_is_final: whether a missed deadline should skip Airflow retries.
    """
    try:
        yield
    except KlingWaitTimeout as err:
        raise (AirflowSensorTimeout if timeout_is_final else AirflowException)(str(err)) from err
    except KlingPermanentError as err:
        raise AirflowFailException(str(err)) from err
    except KlingTransientError as err:
        raise AirflowException(str(err)) from err
