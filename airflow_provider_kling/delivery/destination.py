"""Whether a destination can take a video: checked before any request, by every entry point.

The download operator checks before it downloads; the TaskFlow decorator and the storyboard
operator before they pay for anything. A destination is refused, naming it and the fix, when:

* its name holds control characters (NUL, newline ...), a name in it is over 255 bytes or the
  path over 4095 once the companions' and staging files' names are added, or a file destination
  does not end in ``.mp4``;
* it has no filesystem or no such connection;
* a local folder cannot be created or written by the worker;
* the video, or a file written beside it, would be one of the task's own inputs;
* a file at the video's path or a companion's is not the product's (``overwrite`` never replaces
  those): the user's own files are never touched.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from airflow_provider_kling.delivery import storage
from airflow_provider_kling.delivery.ownership import Inspection, check_ownership
from airflow_provider_kling.exceptions import KlingStorageSetupError, KlingValidationError
from airflow_provider_kling.hooks.storage import check_connection, storage_errors
from airflow_provider_kling.models.destinations import COMPANION_SUFFIXES, destination_problems, name_problems


def check_destination(destination: Any, *, inputs: Iterable[Any] = (), one_file: str | None = None) -> Any:
    """``destination`` as a storage path, once it is known to work (checked before anything is fetched).

    Refused credentials show at the first look at the destination; a missing bucket at the upload
    (s3fs's look-ups report a missing bucket and refused credentials alike), still before
    anything is published. Either fails at once.

    :param destination: a file path/URI ending in ``.mp4``, or a folder (ending with ``/``).
    :param inputs: the media the task reads (paths, URIs, URLs): none may be overwritten.
    :param one_file: what is written (``"a storyboard"``) when it must be one named file: then a
        folder (ending with ``/``, or an existing one) is refused.
    :raises KlingValidationError: for a name that cannot work, a folder where ``one_file`` goes,
        or an input in the way.
    :raises KlingStorageSetupError: no filesystem for its scheme, no such connection, a folder
        that cannot be written, or a file there that is not the product's.
    """
    return _checked(destination, inputs, one_file)[0]


def inspected_destination(
    destination: Any, *, inputs: Iterable[Any] = (), one_file: str | None = None
) -> tuple[Any, Inspection | None]:
    """:func:`check_destination`'s path and what it found at the video's path (``None`` for a folder)."""
    return _checked(destination, inputs, one_file)


def already_delivered(destination: Any, *, inputs: Iterable[Any] = (), one_file: str | None = None) -> bool:
    """Whether the file ``destination`` holds a video this product delivered (checked as :func:`check_destination`).

    :param inputs: the media the video is made from: none may be overwritten.
    :param one_file: see :func:`check_destination`.
    :raises KlingValidationError: see :func:`check_destination`.
    :raises KlingStorageSetupError: see :func:`check_destination`, e.g. a file there that is not the product's.
    """
    _, inspection = _checked(destination, inputs, one_file)
    return inspection is not None and inspection.facts.video.exists and inspection.facts.video.current


def check_video_target(video: Any, *, inputs: Iterable[Any] = ()) -> Inspection:
    """Refuse a video path whose files would overwrite an input or a file the product did not write.

    :returns: what is there.
    :raises KlingValidationError: when the video or a companion would be one of ``inputs``.
    :raises KlingStorageSetupError: when a file there is not the product's.
    """
    _check_names(video, folder=False)
    written = {_key(video): str(video)}
    written.update({_key(f"{video}{suffix}"): f"{video}{suffix}" for suffix in COMPANION_SUFFIXES.values()})
    for item in inputs:
        key = _key(item)
        if key is not None and key in written:
            raise KlingValidationError(
                [
                    f"destination {video}: {written[key]} would be written over the task's input {item}; "
                    "choose another destination"
                ]
            )
    return check_ownership(video)


def _checked(destination: Any, inputs: Iterable[Any], one_file: str | None) -> tuple[Any, Inspection | None]:
    """The destination's path, checked; and what is at its video's path (``None`` for a folder)."""
    path, inspection = _looked_at(destination, inputs)
    if one_file and inspection is None:
        raise KlingValidationError(
            [f"destination {str(destination)!a} is a folder: {one_file} is written to one .mp4 file; name it"]
        )
    return path, inspection


def _looked_at(destination: Any, inputs: Iterable[Any]) -> tuple[Any, Inspection | None]:
    uri = str(destination)
    problems = name_problems(uri)
    if problems:
        raise KlingValidationError(problems)
    with storage_errors(uri, "deliver to", missing_is_setup=True):
        path = storage.as_storage_path(destination)
    check_connection(path, uri)
    with storage_errors(uri, "deliver to", path, missing_is_setup=True):
        path.fs  # noqa: B018 -- resolves the scheme's filesystem (no request): a missing one is a setup error
        folder = storage.is_folder(destination, path)
        _check_names(path, folder=folder)
        if storage.is_local(path):
            _check_writable(storage.local_path(path) if folder else storage.local_path(path).parent)
        elif folder:
            path.exists()  # one look (a file destination gets its own): refused credentials fail here, before paying
        return path, None if folder else check_video_target(path, inputs=inputs)


def _check_names(path: Any, *, folder: bool) -> None:
    problems = destination_problems(path.path, folder=folder)
    if problems:
        raise KlingValidationError(problems)


def _check_writable(folder: Path) -> None:
    """Refuse a local folder the worker cannot create or write (the nearest existing one decides).

    Tried, not inferred from permission bits (a superuser passes those where no file can be made):
    a hidden file is created there and removed at once.
    """
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise KlingStorageSetupError(f"cannot deliver to {folder}: {existing} is a file, not a folder")
    try:
        handle, probe = tempfile.mkstemp(prefix=".kling-write-check-", dir=existing)
    except OSError as err:
        action = "write in" if existing == folder else f"create {folder} in"
        raise KlingStorageSetupError(
            f"cannot deliver to {folder}: this worker (uid {os.geteuid()}) cannot {action} {existing} "
            f"({err.strerror}); give it write access or choose another destination"
        ) from None
    os.close(handle)
    os.unlink(probe)


def _key(location: Any) -> str | None:
    """A path or URI as compared for sameness: normalised, case ignored (some filesystems ignore it)."""
    text = str(location)
    if text.startswith(("http://", "https://", "data:")) or len(text) > 4096:
        return None
    try:
        return str(storage.as_storage_path(location)).casefold()
    except Exception:  # not a path at all (inline media): it cannot be written over
        return None
