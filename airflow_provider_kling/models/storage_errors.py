"""Storage failures sorted into what no retry fixes and what a retry may: one decision, no I/O.

Reading an input image or writing a video goes through Airflow's object storage (fsspec, s3fs,
gcsfs ...), whose back ends raise their own exception types and wrap each other's. This module
reads an exception chain by names, messages and error codes only (no back end is imported), and
says what it means for a DAG author:

* ``setup``: no filesystem for the scheme (names the package to install), no such connection,
  missing or refused credentials, no such bucket: fails at once, naming the path and the fix;
* ``missing``: no such file or key (for an input, a validation error naming the field);
* ``transient``: timeouts, throttling, 5xx, dropped connections, and anything unrecognised (as
  before: Airflow's retries apply).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SETUP = "setup"
MISSING = "missing"
TRANSIENT = "transient"

#: URL scheme -> what to install for Airflow's object storage to read it.
PACKAGE_FOR_SCHEME: dict[str, str] = {
    "s3": "apache-airflow-providers-amazon[s3fs]",
    "s3a": "apache-airflow-providers-amazon[s3fs]",
    "gs": "apache-airflow-providers-google",
    "gcs": "apache-airflow-providers-google",
    "abfs": "apache-airflow-providers-microsoft-azure",
    "abfss": "apache-airflow-providers-microsoft-azure",
    "adl": "apache-airflow-providers-microsoft-azure",
    "az": "apache-airflow-providers-microsoft-azure",
    "wasb": "apache-airflow-providers-microsoft-azure",
    "hdfs": "apache-airflow-providers-apache-hdfs",
    "webhdfs": "apache-airflow-providers-apache-hdfs",
    "sftp": "apache-airflow-providers-sftp",
    "ftp": "apache-airflow-providers-ftp",
}
#: Error codes of S3-compatible stores (and their words in s3fs's translated messages).
_CREDENTIAL_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "Forbidden"}
)
_THROTTLE_CODES = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError", "ServiceUnavailable"}
)
_CREDENTIAL_CLASSES = frozenset({"NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"})
_NO_FILESYSTEM = re.compile(r"No filesystem registered for scheme (\w+)|Unsupported filesystem: '?(\w+)'?")


@dataclass(frozen=True)
class StorageFailure:
    """What a storage exception means.

    :param kind: :data:`SETUP`, :data:`MISSING` or :data:`TRANSIENT`.
    :param reason: one line saying what happened and, for a setup error, what to fix.
    """

    kind: str
    reason: str


def classify_storage_error(err: BaseException, uri: str, *, conn_id: str | None = None) -> StorageFailure:
    """Sort ``err`` (raised while reading or writing ``uri``) into setup, missing or transient.

    :param err: the exception, with its ``__cause__``/``__context__`` chain.
    :param uri: the path as the user named it (``s3://aws_default@bucket/key`` ...).
    :param conn_id: the storage connection the path uses, to name it in the fix.
    """
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else "file"
    conn = f"connection {conn_id!r}" if conn_id else "the default credentials (no connection in the path)"
    for link in _chain(err):
        name, text, code = type(link).__name__, str(link), _error_code(link)
        found = _NO_FILESYSTEM.search(text)
        if found or isinstance(link, ImportError):
            missing_scheme = (found.group(1) or found.group(2)) if found else scheme
            package = PACKAGE_FOR_SCHEME.get(missing_scheme.lower(), f"the Airflow provider for {missing_scheme}://")
            return StorageFailure(SETUP, f"no filesystem for {missing_scheme}:// is installed: install {package}")
        if name in _CREDENTIAL_CLASSES or "Unable to locate credentials" in text:
            return StorageFailure(SETUP, f"no credentials for {scheme}://: give {conn} a key and secret")
        if code == "NoSuchBucket" or "bucket does not exist" in text.lower():
            return StorageFailure(SETUP, f"no such bucket: create it, or check the path and {conn}")
        if isinstance(link, PermissionError) and scheme in ("file", "local"):
            return StorageFailure(SETUP, "not readable or writable: permission denied for the user running the task")
        if isinstance(link, PermissionError) or code in _CREDENTIAL_CODES:
            return StorageFailure(SETUP, f"access refused ({_short(text)}): check the key, secret and rights of {conn}")
        if code in _THROTTLE_CODES or _http_status(link) >= 500:
            return StorageFailure(TRANSIENT, f"the storage is busy or failing ({code or _short(text)})")
        if isinstance(link, (FileNotFoundError, IsADirectoryError, NotADirectoryError)) or code in ("NoSuchKey", "404"):
            return StorageFailure(MISSING, "no such file or key")
        if isinstance(link, (TimeoutError, ConnectionError)) or "Timeout" in name or "Connection" in name:
            return StorageFailure(TRANSIENT, f"the storage did not answer ({name}: {_short(text)})")
    return StorageFailure(TRANSIENT, f"{type(err).__name__}: {_short(str(err))}")


def _chain(err: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    link: BaseException | None = err
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__ or link.__context__


def _error_code(err: Any) -> str:
    response = getattr(err, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    return str(error.get("Code", "")) if isinstance(error, dict) else ""


def _http_status(err: Any) -> int:
    response = getattr(err, "response", None)
    metadata = response.get("ResponseMetadata") if isinstance(response, dict) else None
    status = metadata.get("HTTPStatusCode") if isinstance(metadata, dict) else None
    return status if isinstance(status, int) else 0


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
