"""Putting a downloaded video at its destination without ever exposing a partial file.

* Local destinations (a path or ``file://``): the video is written to a hidden ``.part`` sibling
  on the same filesystem and moved into place with ``os.replace`` (atomic) only after it was
  verified. A failed download deletes its ``.part``; one left by a killed worker is removed by the
  next attempt.
* Object stores (``s3://``, ``gs://`` ... anything Airflow's ``ObjectStoragePath`` supports): the
  video is staged in a local temporary file, verified, then uploaded with the filesystem's
  ``put_file``: one PUT, or a multipart upload that is completed only when every part arrived and
  aborted on any failure. Object stores publish an object only once its upload completes, so a
  failed or killed upload leaves no object (a stream written through ``open("wb")`` would publish
  whatever was buffered when an error closed it).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from airflow_provider_kling.hooks.storage import storage_path

SIDECAR_SUFFIX = ".json"
POSTER_SUFFIX = ".jpg"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def video_file_name(generation_id: str) -> str:
    """A file name for a generation's video; ids are opaque, so only safe characters are kept."""
    slug = _UNSAFE.sub("_", generation_id).strip("._") or "kling-video"
    return f"{slug[:120]}.mp4"


#: An ``ObjectStoragePath`` for a string (local path, ``file://``, ``s3://conn@bucket/key``...) or a path object.
as_storage_path = storage_path


def resolve_destination(destination: Any, generation_id: str) -> Any:
    """The video's full path: ``destination`` itself, or a file named after the generation inside it.

    A destination ending with ``/`` or naming an existing directory is a directory.
    """
    raw = str(destination)
    path = as_storage_path(destination)
    if raw.endswith("/") or (path.exists() and path.is_dir()):
        return path / video_file_name(generation_id)
    return path


def is_local(path: Any) -> bool:
    return path.protocol in ("", "file", "local")


def local_path(path: Any) -> Path:
    return Path(path.path)


def sibling(path: Any, suffix: str) -> Any:
    """``video.mp4`` -> ``video.json`` / ``video.jpg`` in the same folder or bucket prefix."""
    return path.parent / (Path(path.name).stem + suffix)


def read_sidecar(video: Any) -> dict[str, Any] | None:
    """The metadata sidecar of an existing video, if there is a readable one."""
    side = sibling(video, SIDECAR_SUFFIX)
    try:
        if not side.exists():
            return None
        data = json.loads(side.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@contextmanager
def staged_file(destination: Any) -> Iterator[Path]:
    """A local file to write the download into; removed if anything fails before publishing."""
    if is_local(destination):
        target = local_path(destination)
        target.parent.mkdir(parents=True, exist_ok=True)
        for stale in target.parent.glob(f".{target.name}.*.part"):
            stale.unlink(missing_ok=True)  # left by a killed worker
        staged = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}.part"
        staged.touch()
    else:
        handle, name = tempfile.mkstemp(prefix="kling-", suffix=".part")
        os.close(handle)
        staged = Path(name)
    try:
        yield staged
    finally:
        staged.unlink(missing_ok=True)


def publish(staged: Path, destination: Any) -> None:
    """Move or upload a verified staged file to its destination, all or nothing."""
    if is_local(destination):
        with staged.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(staged, local_path(destination))
        return
    # No mkdir: object stores have no folders, and s3fs's would create a missing *bucket*.
    destination.fs.put_file(str(staged), destination.path)


def write_small_file(destination: Any, data: bytes) -> None:
    """Write a sidecar or poster through the same staging, so it is never half-written either."""
    with staged_file(destination) as staged:
        staged.write_bytes(data)
        publish(staged, destination)
