"""Putting a file at its destination without ever exposing a partial one, or touching another's staging.

* Local destinations (a path or ``file://``): a file is written to a hidden staging file beside
  it, ``.<name>.<12 hex digits>.part``, created with the mode any new file of the worker gets
  (``0o666`` less the umask) and held under an exclusive ``flock`` while it lives; it is moved
  into place with ``os.replace`` (atomic) only after it was verified. A failed write deletes it;
  one left by a killed worker is removed by the next write of *that same file*, and only when no
  live writer holds its lock. Another file's staging, or a live writer's, is never touched.
* Object stores (``s3://``, ``gs://`` ... anything Airflow's ``ObjectStoragePath`` supports): the
  file is staged in a private local temporary file, verified, then uploaded with the filesystem's
  ``put_file``: one PUT, or a multipart upload that is completed only when every part arrived and
  aborted on any failure. Object stores publish an object only once its upload completes, so a
  failed or killed upload leaves no object (a stream written through ``open("wb")`` would publish
  whatever was buffered when an error closed it). They have no locks.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import re
import shutil
import stat
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from airflow_provider_kling.delivery.hashing import file_sha256
from airflow_provider_kling.delivery.scratch import scratch_folder
from airflow_provider_kling.exceptions import KlingStorageError
from airflow_provider_kling.hooks.storage import storage_path
from airflow_provider_kling.models.destinations import companion_name

log = logging.getLogger(__name__)
#: Filesystems whose folders cannot be locked (NFS refuses ``flock`` on a folder): publish unlocked there.
_NO_LOCKS = (errno.EBADF, errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP)
#: Filesystems without hard links (some network and FUSE ones): new files are renamed into place there.
_NO_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS)
_READ_CHUNK = 1 << 20

#: An ``ObjectStoragePath`` for a string (local path, ``file://``, ``s3://conn@bucket/key``...) or a path object.
as_storage_path = storage_path


def is_folder(destination: Any, path: Any) -> bool:
    """Whether ``destination`` names a folder: it ends with ``/`` or is an existing directory."""
    return str(destination).endswith("/") or (path.exists() and path.is_dir())


def is_local(path: Any) -> bool:
    return path.protocol in ("", "file", "local")


def local_path(path: Any) -> Path:
    return Path(path.path)


def present(path: Any) -> bool:
    """Whether something is at ``path``, a dangling link included."""
    return is_symlink(path) or path.exists()


def is_symlink(path: Any) -> bool:
    """Whether ``path`` is a local symbolic link (dangling or not): the product never writes one."""
    return is_local(path) and local_path(path).is_symlink()


def is_special_file(path: Any) -> bool:
    """Whether ``path`` is a local FIFO, socket or device: reading one can block forever (never the product's)."""
    if not is_local(path):
        return False  # object stores hold objects only
    try:
        mode = local_path(path).stat().st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def companion(video: Any, kind: str) -> Any:
    """The path of ``video``'s companion ``kind`` (``sidecar``, ``poster``, ``contact_sheet``, ``review``)."""
    return video.parent / companion_name(video.name, kind)


@contextmanager
def staged_file(destination: Any) -> Iterator[Path]:
    """A local file, created empty, to write what goes to ``destination``; removed unless published."""
    if not is_local(destination):
        with scratch_folder("upload-") as folder:
            staged = folder / "object.part"
            staged.touch(mode=0o600)
            yield staged
        return
    target = local_path(destination)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(target)
    staged, handle = _new_staging(target)
    try:
        yield staged
    finally:
        staged.unlink(missing_ok=True)
        os.close(handle)


@contextmanager
def staged_copy(source: Path, destination: Any) -> Iterator[Path]:
    """The local file ``source`` ready to publish at ``destination``.

    Copied into a staging file beside a local destination (so it takes the mode any new file
    there gets, whatever ``source``'s); passed as it is for an object store.
    """
    if not is_local(destination):
        yield source
        return
    with staged_file(destination) as staged:
        with source.open("rb") as reader, staged.open("wb") as writer:
            shutil.copyfileobj(reader, writer, _READ_CHUNK)
        yield staged


def _new_staging(target: Path) -> tuple[Path, int]:
    """A new staging file for ``target`` and its open descriptor, locked for as long as it is open."""
    while True:
        staged = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}.part"
        handle = os.open(staged, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        _lock(handle)
        if os.fstat(handle).st_nlink:
            return staged, handle
        os.close(handle)  # a cleaner took it for stale between its creation and our lock: make another


def remove_stale_staging(target: Path) -> None:
    """Remove the staging files of ``target`` (exactly its own) that no live writer holds."""
    own = re.compile(rf"\.{re.escape(target.name)}\.[0-9a-f]{{12}}\.part")
    with os.scandir(target.parent) as entries:
        stale = [entry.path for entry in entries if own.fullmatch(entry.name)]
    for path in stale:
        try:
            handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue  # published or removed meanwhile, or not a plain file
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(path)  # nobody holds it: left by a killed worker
            log.info("Removed %s, a staging file left by an earlier attempt", path)
        except OSError:
            continue  # a live writer holds it (or it is gone already, or this filesystem cannot tell)
        finally:
            os.close(handle)


def _lock(handle: int, flags: int = fcntl.LOCK_EX) -> bool:
    """Lock ``handle``; ``False`` where the filesystem has no locks."""
    try:
        fcntl.flock(handle, flags)
    except OSError as err:
        if err.errno not in _NO_LOCKS:
            raise
        return False
    return True


@contextmanager
def destination_lock(target: Any) -> Iterator[None]:
    """Hold the folder of a local ``target`` locked: one delivery at a time publishes its files there.

    Object stores have no locks: nothing is held there.
    """
    if not is_local(target):
        yield
        return
    folder = local_path(target).parent
    folder.mkdir(parents=True, exist_ok=True)
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if not _lock(handle):
            log.warning("%s cannot be locked (no flock on this filesystem): publishing unlocked", folder)
        yield
    finally:
        os.close(handle)


def publish(staged: Path, destination: Any, *, new: bool = False) -> None:
    """Move or upload a verified staged file to its destination, all or nothing.

    :param new: nothing is at ``destination``, and nothing may be replaced there: a local file that
        appeared meanwhile (written by someone else) is left as it is and the publication fails.
        Object stores cannot refuse that way.
    :raises KlingStorageError: when a ``new`` file's path was taken meanwhile.
    """
    if is_local(destination):
        with staged.open("rb") as f:
            os.fsync(f.fileno())
        if not (new and _link_new(staged, local_path(destination))):
            os.replace(staged, local_path(destination))
        return
    # No mkdir: object stores have no folders, and s3fs's would create a missing *bucket*.
    destination.fs.put_file(str(staged), destination.path)


def _link_new(staged: Path, target: Path) -> bool:
    """Give ``staged`` the name ``target`` only if nothing has it (a hard link never replaces).

    ``False`` where the filesystem has no hard links.
    """
    try:
        os.link(staged, target)
    except FileExistsError:
        raise KlingStorageError(
            f"{target} appeared while it was being published (written by someone else?): it was left as it "
            "is; the next try checks whose it is"
        ) from None
    except OSError as err:
        if err.errno not in _NO_LINKS:
            raise
        return False
    staged.unlink()
    return True


def write_small_file(destination: Any, data: bytes, *, new: bool = False) -> None:
    """Write a sidecar or poster through the same staging, so it is never half-written either.

    :param new: replace nothing (see :func:`publish`).
    """
    with staged_file(destination) as staged:
        staged.write_bytes(data)
        publish(staged, destination, new=new)


def remove(path: Any) -> None:
    """Delete ``path`` if it is there."""
    if is_local(path):
        local_path(path).unlink(missing_ok=True)
    elif path.exists():
        path.unlink()


def sha256_of(path: Any) -> str:
    """SHA-256 of a stored file (an object is read in 1 MiB chunks)."""
    return file_sha256(local_path(path) if is_local(path) else path)


def storage_checksum(path: Any) -> str | None:
    """The object store's own fingerprint of ``path`` (S3: its ETag); ``None`` for local files.

    fsspec promises that an unchanged checksum means unchanged bytes: it spares reading a stored
    video again to prove it is the one recorded.
    """
    if is_local(path):
        return None
    path.fs.invalidate_cache(path.path)
    return str(path.fs.checksum(path.path))
