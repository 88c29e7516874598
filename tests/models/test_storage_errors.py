"""Storage failures sorted into setup (fail now, say the fix), missing, and transient: a table."""

from __future__ import annotations

import pytest

from airflow_provider_kling.models.storage_errors import MISSING, SETUP, TRANSIENT, classify_storage_error


class ClientError(Exception):
    """Shaped like botocore's: the store's error code in ``response``."""

    def __init__(self, code: str, status: int = 400):
        super().__init__(f"An error occurred ({code})")
        self.response = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}


class NoCredentialsError(Exception):
    pass


class EndpointConnectionError(Exception):
    pass


class ReadTimeoutError(Exception):
    pass


def wrapped(outer: BaseException, cause: BaseException) -> BaseException:
    """``outer`` raised ``from cause``, as s3fs translates botocore's errors."""
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("error", "uri", "kind", "says"),
    [
        (
            ValueError("No filesystem registered for scheme s3"),
            "s3://b/k",
            SETUP,
            "apache-airflow-providers-amazon[s3fs]",
        ),
        (ValueError("No filesystem registered for scheme gs"), "gs://b/k", SETUP, "apache-airflow-providers-google"),
        (ValueError("Unsupported filesystem: 'abfs'"), "abfs://b/k", SETUP, "providers-microsoft-azure"),
        (ValueError("Unsupported filesystem: 'foo'"), "foo://b/k", SETUP, "the Airflow provider for foo://"),
        (ImportError("s3fs is required"), "s3://b/k", SETUP, "install apache-airflow-providers-amazon[s3fs]"),
        (NoCredentialsError("Unable to locate credentials"), "s3://b/k", SETUP, "a key and secret"),
        (PermissionError("Forbidden"), "s3://aws@b/k", SETUP, "connection 'aws'"),
        (
            wrapped(PermissionError("denied"), ClientError("SignatureDoesNotMatch", 403)),
            "s3://aws@b/k",
            SETUP,
            "secret",
        ),
        (ClientError("InvalidAccessKeyId", 403), "s3://aws@b/k", SETUP, "check the key"),
        (PermissionError("denied"), "file:///srv/a.png", SETUP, "permission denied for the user running the task"),
        (FileNotFoundError("The specified bucket does not exist"), "s3://b/k", SETUP, "no such bucket"),
        (ClientError("NoSuchBucket", 404), "s3://b/k", SETUP, "no such bucket"),
        (FileNotFoundError("b/k"), "s3://b/k", MISSING, "no such file or key"),
        (ClientError("NoSuchKey", 404), "s3://b/k", MISSING, "no such file"),
        (IsADirectoryError("b/k"), "s3://b/k", MISSING, "no such file"),
        (ClientError("SlowDown", 503), "s3://b/k", TRANSIENT, "SlowDown"),
        (wrapped(OSError("busy"), ClientError("Throttling", 400)), "s3://b/k", TRANSIENT, "Throttling"),
        (ClientError("Whatever", 500), "s3://b/k", TRANSIENT, "busy or failing"),
        (EndpointConnectionError("Could not connect"), "s3://b/k", TRANSIENT, "did not answer"),
        (ReadTimeoutError("read timed out"), "s3://b/k", TRANSIENT, "did not answer"),
        (TimeoutError(), "s3://b/k", TRANSIENT, "did not answer"),
        (ConnectionResetError(), "s3://b/k", TRANSIENT, "did not answer"),
        (RuntimeError("something new"), "s3://b/k", TRANSIENT, "RuntimeError: something new"),
    ],
)
def test_storage_failures_are_sorted(error, uri, kind, says):
    failure = classify_storage_error(error, uri, conn_id="aws" if "aws@" in uri else None)
    assert failure.kind == kind
    assert says in failure.reason


def test_a_path_without_a_connection_is_said_to_use_the_default_credentials():
    failure = classify_storage_error(PermissionError("Forbidden"), "s3://b/k")
    assert "the default credentials (no connection in the path)" in failure.reason
