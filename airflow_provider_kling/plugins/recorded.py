"""The video a task instance recorded: looked up from what the product stored, never from a request's path."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from sqlalchemy import select

from airflow_provider_kling.delivery import storage
from airflow_provider_kling.delivery.ownership import is_recorded_file, product_sidecar
from airflow_provider_kling.delivery.storage import as_storage_path
from airflow_provider_kling.models.ownership import delivering_dag
from airflow_provider_kling.models.video_records import VIDEO_RECORD_XCOM_KEY
from airflow_provider_kling.task_outputs import PROGRESS_XCOM_KEY, delivered_uri


@dataclass(frozen=True)
class RecordedVideo:
    """A delivered video the product wrote, with its sidecar.

    :param path: where it is (an ``ObjectStoragePath``).
    :param size: its size in bytes, as the sidecar records it and the storage confirms.
    :param sidecar: the product's sidecar beside it.
    """

    path: Any
    size: int
    sidecar: dict[str, Any]


class NotRecorded(LookupError):
    """Nothing the product delivered is recorded for that task instance (the message says what is missing)."""


def is_kling_task(operator: str | None, xcom_keys: Iterable[str] = ()) -> bool:
    """Whether a task instance is one of the provider's tasks.

    Its operator (class name, or a decorator's name) is one of the provider's, or it recorded a
    ``kling_video`` (as a subclass of yours by another name does).
    """
    named = bool(operator) and (str(operator).startswith("Kling") or operator == "@task.kling_video")
    return named or VIDEO_RECORD_XCOM_KEY in xcom_keys


@dataclass(frozen=True)
class TaskFacts:
    """What one Kling task instance recorded, as the tab reads it.

    :param instance: its DAG, run, task and map index.
    :param xcoms: its ``return_value``, ``kling_video`` record and storyboard progress, by key.
    """

    instance: tuple[str, str, str, int]
    operator: str
    state: Any
    start_date: datetime | None
    xcoms: dict[str, Any]

    @property
    def return_value(self) -> Any:
        return self.xcoms.get("return_value")


def task_facts(session: Any, dag_id: str, run_id: str, task_id: str, map_index: int) -> TaskFacts:
    """One Kling task instance: its state and what it recorded.

    A task is a Kling one when its operator is one of the provider's (by name) or it recorded a
    ``kling_video`` (a subclass of yours by another name does).

    :raises NotRecorded: no such task instance, or it is not a Kling task.
    """
    found = session.execute(
        select(TaskInstance.operator, TaskInstance.state, TaskInstance.start_date).where(
            TaskInstance.dag_id == dag_id,
            TaskInstance.run_id == run_id,
            TaskInstance.task_id == task_id,
            TaskInstance.map_index == map_index,
        )
    ).first()
    if found is None:
        raise NotRecorded("there is no such task instance (DAG, run, task and map index)")
    query = XComModel.get_many(run_id=run_id, key=None, dag_ids=dag_id, task_ids=task_id, map_indexes=map_index)
    xcoms = {row.key: xcom_value(row) for row in session.scalars(query) if row.key in TAB_XCOMS}
    if not is_kling_task(found.operator, xcoms):
        raise NotRecorded(f"this task instance is a {found.operator}, not a Kling task: it has no video")
    return TaskFacts((dag_id, run_id, task_id, map_index), str(found.operator), found.state, found.start_date, xcoms)


def xcom_value(row: Any) -> Any:
    """An XCom row's value; ``None`` when it cannot be read (a value stored raw that names a class, say)."""
    try:
        return XComModel.deserialize_value(row)
    except Exception:  # what a Kling task stores always reads back: anything else is not its record
        return None


def run_records(session: Any, facts: TaskFacts) -> list[Any]:
    """The ``kling_video`` records of every task of the task instance's DAG run (at most :data:`MAX_RUN_RECORDS`)."""
    dag_id, run_id = facts.instance[0], facts.instance[1]
    query = XComModel.get_many(run_id=run_id, key=VIDEO_RECORD_XCOM_KEY, dag_ids=dag_id)
    return [xcom_value(row) for row in session.scalars(query.limit(MAX_RUN_RECORDS))]


#: The most records of one run the tab reads to name a download's model (a batch of 1,000 rows has 2,000).
MAX_RUN_RECORDS = 5000
#: The XComs the tab reads: the video's place, the task's record of it, a storyboard's progress.
TAB_XCOMS = ("return_value", VIDEO_RECORD_XCOM_KEY, PROGRESS_XCOM_KEY)

#: Where a delivered video may be: a local path or one of the object stores Airflow's providers serve.
STORAGE_SCHEMES = ("file", "s3", "gs", "gcs", "abfs", "az", "adl")


def recorded_video(value: Any, dag_id: str) -> RecordedVideo:
    """The delivered video named by a Kling task's return value, checked to be one the product wrote for ``dag_id``.

    A task's return value can name any path (a DAG author chooses it, an XCom can be edited): the
    video is served only when its sidecar says a task of this DAG delivered it, so the right to read
    one DAG never shows another DAG's videos.

    :raises NotRecorded: no video is named, it is gone, what is there is not what the sidecar
        records, or another DAG's task delivered it.
    """
    path, sidecar = _recorded_sidecar(value, dag_id)
    with said_on_the_page(STORAGE_FAILED):
        try:
            stat = path.stat()
        except OSError:
            raise NotRecorded("the video this task delivered is gone since it was recorded") from None
        size = getattr(stat, "st_size", None)
        if type(size) is not int or size != sidecar.get("size") or not _is_recorded(path, sidecar, size, stat):
            raise NotRecorded("the file where this task delivered its video is not the one its sidecar records")
    return RecordedVideo(path, size, sidecar)


def recorded_still(value: Any, dag_id: str, kind: str) -> Any:
    """The poster or contact sheet beside the video a Kling task delivered, if the product wrote it there.

    Only the still itself is checked against the sidecar (not the video: a page of posters does not
    hash a thousand videos).

    :param kind: ``poster`` or ``contact_sheet``.
    :raises NotRecorded: as :func:`recorded_video`, or that still is not there as the sidecar records it.
    """
    path, sidecar = _recorded_sidecar(value, dag_id)
    with said_on_the_page(STORAGE_FAILED):
        still = storage.companion(path, kind)
        if not is_recorded_file(still, sidecar):
            raise NotRecorded(f"this task's video has no {kind.replace('_', ' ')} the product wrote")
    return still


def _recorded_sidecar(value: Any, dag_id: str) -> tuple[Any, dict[str, Any]]:
    """Where a task's return value says its video is, and the product's sidecar there (of this DAG)."""
    uri = delivered_uri(value)
    if uri is None:
        raise NotRecorded("this task instance recorded no delivered video (it kept none, or is not a Kling task)")
    if not (uri.startswith("/") or uri.split("://", 1)[0] in STORAGE_SCHEMES):
        raise NotRecorded("the video this task recorded is not in a storage this page reads from")
    with said_on_the_page(STORAGE_FAILED):
        path = as_storage_path(uri)
        sidecar = product_sidecar(path)
    if sidecar is None:
        raise NotRecorded("the video this task delivered is gone, or its sidecar is: nothing is served")
    delivered_in = delivering_dag(sidecar)
    if delivered_in is None:
        raise NotRecorded(
            "the video's sidecar does not record which DAG delivered it: deliver it again to watch it here"
        )
    if delivered_in != dag_id:  # which DAG is not said: readers of this one may not know of it
        raise NotRecorded("this video was delivered by a task of another DAG: it plays only in that DAG's tasks")
    return path, sidecar


@contextmanager
def said_on_the_page(what_failed: str) -> Iterator[None]:
    """Any error (S3 down, the API out of reach, no provider) as :class:`NotRecorded`: a line, never a 500.

    :param what_failed: the start of that line; the error's type follows, never its text (it may hold a URL).
    """
    try:
        yield
    except NotRecorded:
        raise
    except Exception as err:
        raise NotRecorded(f"{what_failed} ({type(err).__name__})") from None


STORAGE_FAILED = "the storage holding this video could not be read"


_VERIFIED: dict[tuple[str, int, tuple[Any, ...], str], bool] = {}


def _is_recorded(path: Any, sidecar: dict[str, Any], size: int, stat: Any) -> bool:
    """:func:`is_recorded_file`, remembered per file version: a player's Range requests do not rehash it."""
    # A file rewritten with the same size and its time restored (cp -p) has another inode or ctime.
    version = tuple(getattr(stat, name, None) for name in ("st_mtime", "st_ino", "st_ctime_ns"))
    key = (str(path), size, version, str(sidecar.get("sha256")))
    if key not in _VERIFIED:
        if len(_VERIFIED) > 4096:
            _VERIFIED.clear()
        _VERIFIED[key] = is_recorded_file(path, sidecar)
    return _VERIFIED[key]
