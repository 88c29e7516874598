"""The one mapping from Kling errors to Airflow's fail-or-retry, for an operator and for a sensor."""

from __future__ import annotations

import pytest

from airflow_provider_kling.exceptions import (
    KlingAPIError,
    KlingGenerationFailed,
    KlingServerError,
    KlingStorageError,
    KlingStorageSetupError,
    KlingSubmissionUnknownError,
    KlingValidationError,
    KlingWaitTimeout,
)
from airflow_provider_kling.tasks.failures import airflow_failure_semantics
from airflow_provider_kling.version_compat import AirflowException, AirflowFailException, AirflowSensorTimeout

RETRY, FAIL, SENSOR_TIMEOUT = AirflowException, AirflowFailException, AirflowSensorTimeout


@pytest.mark.parametrize(
    ("error", "operator", "sensor"),
    [
        (KlingValidationError(["duration must be one of 5, 10"]), FAIL, FAIL),
        (KlingAPIError("HTTP 401", status_code=401), FAIL, FAIL),
        (KlingGenerationFailed("g1", "nsfw"), FAIL, FAIL),
        (KlingSubmissionUnknownError("sent, answer lost"), FAIL, FAIL),
        (KlingStorageSetupError("s3://x: no connection 'aws'"), FAIL, FAIL),  # a setup error is not retried
        (KlingServerError("HTTP 503", status_code=503), RETRY, RETRY),
        (KlingStorageError("s3://x: connection reset"), RETRY, RETRY),
        (KlingWaitTimeout("gave up after 1h"), RETRY, SENSOR_TIMEOUT),  # an operator's retry reattaches
    ],
)
def test_each_kling_error_becomes_the_airflow_exception_that_does_the_right_thing(error, operator, sensor):
    for timeout_is_final, expected in ((False, operator), (True, sensor)):
        with pytest.raises(AirflowException) as excinfo, airflow_failure_semantics(timeout_is_final=timeout_is_final):
            raise error
        assert type(excinfo.value) is expected
        assert str(excinfo.value) == str(error)
        assert excinfo.value.__cause__ is error


def test_anything_else_passes_through_untouched():
    with pytest.raises(KeyError), airflow_failure_semantics(timeout_is_final=False):
        raise KeyError("a bug of ours, or of the DAG's")
