"""Media inputs from anywhere: URLs are sent as they are, files are read and sent inline.

A media field (``image_url``, ``tail_image_url``, ``image_list``, ``video_url``, ``audio_url``,
element images ...) may hold an ``http(s)://`` URL, a local path, a ``file://``, ``s3://``,
``gs://`` ... URI or an ``ObjectStoragePath``. Files are read through Airflow's object storage,
checked against Kling's rules (:mod:`airflow_provider_kling.models.media_rules`) and sent as raw
base64 (no ``data:`` prefix, as Kling's API documents). The base64 text lives only in the request
body on its way out: the request the task keeps, logs and XCom hold the reference the user gave.
"""

from __future__ import annotations

import base64
import copy
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_provider_kling.exceptions import KlingStorageError, KlingStorageSetupError, KlingValidationError
from airflow_provider_kling.hooks.storage import check_connection, storage_errors, storage_path
from airflow_provider_kling.models import CreateRequest
from airflow_provider_kling.models.media_rules import (
    MAX_IMAGE_BYTES,
    MediaFacts,
    inspect_media,
    location_name,
    media_locations,
    media_of,
    media_problems,
    value_at,
)
from airflow_provider_kling.models.media_values import (
    BASE64,
    DATA_URI,
    PATH,
    URL,
    inline_data,
    media_kind,
    media_value_problem,
    shown_source,
)

log = logging.getLogger(__name__)

#: Read at most this much of a file; anything bigger breaks the 20 MB image rule anyway.
READ_LIMIT = max(MAX_IMAGE_BYTES + 1, 200 * 1024 * 1024)


#: The name this error had before storage failures were sorted into setup and transient ones.
KlingMediaReadError = KlingStorageError


@dataclass(frozen=True)
class MediaInput:
    """One media value of a request and what was done with it.

    :param location: where it sits in the body, e.g. ``image_list[1]``.
    :param source: what the user gave (a URL, path or URI), as it may be shown (a URL without its query).
    :param facts: what its bytes are (``None`` for a URL, sent unread).
    """

    location: str
    source: str
    facts: MediaFacts | None = None

    def describe(self) -> str:
        if self.facts is None:
            return f"{self.location}: {self.source} (URL, sent as is)"
        return f"{self.location}: {self.source} ({self.facts.summary()}, sent inline)"


def media_references(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with path objects (``Path``, ``ObjectStoragePath``) spelt as strings, for validation.

    An ``ObjectStoragePath``'s string keeps its connection id (``s3://aws_conn@bucket/key``), so
    the file is read through the same connection later.
    """
    return {name: _as_reference(value) for name, value in params.items()}


def _as_reference(value: Any) -> Any:
    if isinstance(value, list):
        return [_as_reference(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_reference(item) for key, item in value.items()}
    if isinstance(value, Path) or type(value).__name__ == "ObjectStoragePath":
        return str(value)
    return value


def inline_media(request: CreateRequest, *, logger: logging.Logger | Any = log) -> dict[str, Any]:
    """Read every file-valued media field of ``request``, check it, and return the inline values.

    :returns: top-level field -> value with files replaced by their base64 text, for
        :meth:`KlingHook._create_generation`'s ``inline_media``; empty when every input is a URL.
    :raises KlingValidationError: naming the model, field and file for every input that is
        missing, unreadable as media, or breaks Kling's image rules (before any request).
    :raises KlingStorageSetupError: a storage that cannot work as set up (no filesystem for the
        scheme, no such connection, refused credentials): not retried.
    :raises KlingStorageError: when a storage failed to answer (worth a retry).
    """
    media = media_of(request.model)
    inputs: list[MediaInput] = []
    problems: list[str] = []
    replaced: dict[str, Any] = {}
    for path, kind in media_locations(request.body, media):
        value = str(value_at(request.body, path))
        location = location_name(path)
        source = shown_source(value)
        if media_kind(value) == URL:
            inputs.append(MediaInput(location, source))
            continue
        try:
            data = _media_bytes(value, model=request.model, location=location)
        except KlingValidationError as err:
            problems += err.problems
            continue
        facts = inspect_media(kind, data)
        found = media_problems(request.model, location, source, facts)
        if found:
            problems += found
            continue
        inputs.append(MediaInput(location, source, facts))
        _set_at(replaced, request.body, path, base64.b64encode(data).decode("ascii"))
    if problems:
        raise KlingValidationError(problems)
    for item in inputs:
        logger.info("%s", item.describe())
    return replaced


def _media_bytes(value: str, *, model: str, location: str) -> bytes:
    """The bytes of inline data, or of the file a path names (see :func:`read_media_file`)."""
    kind = media_kind(value)
    if kind in (DATA_URI, BASE64):
        data = inline_data(value)
        if data is None:
            raise KlingValidationError([f"{location} of {model} ({shown_source(value)}) is not valid base64"])
        return data
    if kind != PATH:  # refused when the request was validated; never read as a path, never echoed
        raise KlingValidationError([str(media_value_problem(model, location, value))])
    return read_media_file(value, model=model, location=location)


def read_media_file(source: str, *, model: str, location: str) -> bytes:
    """The bytes of a local path or object-storage URI (its connection checked first).

    :raises KlingValidationError: the file does not exist, is a folder, or cannot be read.
    :raises KlingStorageSetupError: the storage cannot work as set up; the message says what to fix.
    :raises KlingStorageError: the storage failed otherwise (timeouts, throttling, 5xx ...).
    """
    where = f"{location} of {model}"
    try:
        data = _read_local(source) if "://" not in source else _read_stored(source)
    except FileNotFoundError:
        raise KlingValidationError([f"{where}: no such file {source!r}"]) from None
    except (IsADirectoryError, NotADirectoryError):
        raise KlingValidationError([f"{where}: {source!r} is a folder, not a file"]) from None
    except PermissionError:
        raise KlingValidationError([f"{where}: {source!r} is not readable (permission denied)"]) from None
    except (KlingStorageSetupError, KlingStorageError) as err:
        raise type(err)(f"{where}: {err}") from err
    if not data:
        raise KlingValidationError([f"{where}: {source!r} is empty"])
    return data


def _read_local(source: str) -> bytes:
    with Path(source).expanduser().open("rb") as handle:
        return handle.read(READ_LIMIT)


def _read_stored(source: str) -> bytes:
    with storage_errors(source, "read"):
        target = storage_path(source)
        check_connection(target, source)
    with storage_errors(source, "read", target), target.open("rb") as handle:
        return bytes(handle.read(READ_LIMIT))


def _set_at(replaced: dict[str, Any], body: Mapping[str, Any], path: tuple[Any, ...], value: str) -> None:
    """Put ``value`` at ``path`` in a copy of the top-level field, leaving ``body`` untouched."""
    top = path[0]
    if len(path) == 1:
        replaced[top] = value
        return
    if top not in replaced:
        replaced[top] = copy.deepcopy(body[top])
    node = replaced[top]
    for part in path[1:-1]:
        node = node[part]
    node[path[-1]] = value
