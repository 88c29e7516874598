"""Storage paths for inputs and deliveries: their connection checked first, their failures sorted.

A path names its connection in the URL (``s3://aws_default@bucket/key``) or through
``ObjectStoragePath(..., conn_id=...)``. The Amazon provider quietly falls back to anonymous access
when that connection does not exist, so it is looked up here first: a missing one fails at once,
naming it. Every other failure goes through :func:`classify_storage_error`: a setup error no retry
fixes becomes :class:`KlingStorageSetupError`, a transient one :class:`KlingStorageError`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from airflow.sdk import BaseHook

from airflow_provider_kling.exceptions import KlingError, KlingStorageError, KlingStorageSetupError
from airflow_provider_kling.models.storage_errors import MISSING, SETUP, classify_storage_error


def storage_path(location: Any) -> Any:
    """An ``ObjectStoragePath`` for a string (local path, ``file://``, ``s3://conn@bucket/key`` ...) or path object."""
    from airflow.sdk import ObjectStoragePath

    if isinstance(location, ObjectStoragePath):
        return location
    text = os.fspath(location) if isinstance(location, os.PathLike) else str(location)
    if "://" not in text:
        text = "file://" + os.path.abspath(os.path.expanduser(text)) + ("/" if text.endswith("/") else "")
    return ObjectStoragePath(text)


def connection_of(path: Any) -> str | None:
    """The connection id a storage path names, if any (an attribute on Airflow 3.3, a storage option on 3.1)."""
    options = getattr(path, "storage_options", None) or {}
    conn_id = getattr(path, "conn_id", None) or options.get("conn_id")
    return str(conn_id) if conn_id else None


def check_connection(path: Any, uri: str) -> None:
    """Fail at once when ``path`` names a connection that does not exist.

    :raises KlingStorageSetupError: naming the path and the connection to create.
    """
    conn_id = connection_of(path)
    if not conn_id:
        return
    try:
        BaseHook.get_connection(conn_id)
    except Exception as err:
        # Outside a task run, Airflow 3.1 looks past the secrets backends for the task supervisor and
        # fails to import it: the connection was in no backend, which is what a task would be told.
        outside_a_task = isinstance(err, ImportError) and "SUPERVISOR_COMMS" in str(err)
        if not outside_a_task and "isn't defined" not in str(err) and type(err).__name__ != "AirflowNotFoundException":
            raise
        raise KlingStorageSetupError(
            f"{uri}: no connection {conn_id!r} is defined: create it (Admin -> Connections, or "
            f"AIRFLOW_CONN_{conn_id.upper()}) or name an existing one in the path"
        ) from None


@contextmanager
def storage_errors(uri: str, action: str, path: Any = None, *, missing_is_setup: bool = False) -> Iterator[None]:
    """Translate storage exceptions raised inside the block.

    :param uri: the path as the user named it (for the message).
    :param action: what was being done (``read``, ``write`` ...), for the message.
    :param path: the ``ObjectStoragePath`` (its connection is named in fixes).
    :param missing_is_setup: a missing file or key is a setup error (a destination's bucket), not
        re-raised as is (an input's file, which its caller reports as a validation problem).
    :raises KlingStorageSetupError: for what no retry fixes.
    :raises KlingStorageError: for what a retry may fix.
    """
    try:
        yield
    except KlingError:
        raise
    except Exception as err:
        failure = classify_storage_error(err, uri, conn_id=connection_of(path))
        if failure.kind == MISSING and not missing_is_setup:
            raise
        message = f"could not {action} {uri}: {failure.reason}"
        if failure.kind in (SETUP, MISSING):
            raise KlingStorageSetupError(message) from err
        raise KlingStorageError(message) from err
