"""Scratch folders on the worker's disk that a killed worker does not leave behind.

A task writes what it downloads for an object store, the clips it joins and the frames it reads
into a folder of its own. ``TemporaryDirectory`` removes such a folder on every path but one: a
worker killed meanwhile (OOM, SIGKILL, a lost node's pod restarted) leaves it, and with it clips
of hundreds of megabytes, in ``/tmp`` for good. Here each folder lives under one private place per
user (``<tmp>/airflow-provider-kling-<uid>``, 0700) and is held by a lock for as long as it is in
use; the next task to make one removes the folders nobody holds any more.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)


#: A folder younger than this is never swept: its task may not hold it yet (made, not yet locked).
#: Airflow retries a killed task after ``retry_delay`` (5 minutes unless set), well past it.
SWEEP_AFTER_SECONDS = 10.0


def scratch_root() -> Path | None:
    """The private place of the worker's user for scratch folders; ``None`` when it cannot be trusted.

    Anyone may create a name under ``/tmp``: a place that is not a directory of ours, closed to
    everyone else, is not used; nor is one in a temporary directory where someone else could
    rename it and put a link in its stead between our look and our sweep (a directory others may
    write to without the sticky bit ``/tmp`` has). The folders then go to the temporary directory
    as they are, and nothing is swept.
    """
    parent = Path(tempfile.gettempdir()).absolute()
    root = parent / f"airflow-provider-kling-{os.getuid()}"
    try:
        if not _only_we_can_rename_in(parent.stat()):
            return None
        with contextlib.suppress(FileExistsError):
            root.mkdir(mode=0o700)
        info = root.lstat()
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077
    return root if private else None


def _only_we_can_rename_in(folder: os.stat_result) -> bool:
    """Whether nobody but us (and root) can rename the entries we make in ``folder``."""
    if folder.st_uid not in (0, os.getuid()):
        return False
    shared = folder.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return not shared or bool(folder.st_mode & stat.S_ISVTX)


@contextlib.contextmanager
def scratch_folder(prefix: str) -> Iterator[Path]:
    """A new private folder (0700) for this task's scratch files, removed with them on every path.

    :param prefix: the start of the folder's name, saying what it holds (``storyboard-``...).
    """
    root = scratch_root()
    if root is not None:
        remove_abandoned(root)
    folder, handle = _new_held_folder(prefix, root)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(handle)


def remove_abandoned(root: Path) -> None:
    """Remove the scratch folders under ``root`` that no live task holds (left by killed workers)."""
    with os.scandir(root) as entries:
        names = [entry.name for entry in entries]
    for name in names:
        try:
            handle = os.open(root / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY)
        except OSError:
            continue  # gone meanwhile, or not a folder: nothing this module made
        if _just_made(handle) or not _locked_now(handle):
            os.close(handle)
            continue  # a live task holds it, or may be about to (or this filesystem cannot tell)
        try:
            shutil.rmtree(root / name, ignore_errors=True)
            log.info("Removed %s, a scratch folder left by a worker that was stopped", root / name)
        finally:
            os.close(handle)


def _just_made(handle: int) -> bool:
    return time.time() - os.fstat(handle).st_mtime < SWEEP_AFTER_SECONDS


def _locked_now(handle: int) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _new_held_folder(prefix: str, root: Path | None) -> tuple[Path, int]:
    """A new folder under ``root`` and its open descriptor, locked for as long as it is open."""
    while True:
        folder = Path(tempfile.mkdtemp(prefix=prefix, dir=root or Path(tempfile.gettempdir()).absolute()))
        try:
            handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except FileNotFoundError:
            continue  # another task's sweep took it for abandoned before we held it: make another
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            continue  # a sweep is removing it right now: make another
        except OSError:
            return folder, handle  # no locks on this filesystem: no sweep can take it either
        if os.fstat(handle).st_nlink:
            return folder, handle
        os.close(handle)  # swept between its creation and our lock: make another
