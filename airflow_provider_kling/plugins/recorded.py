"""The video a task instance recorded: looked up from what the product stored, never from a request's path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from sqlalchemy import select

from airflow_provider_kling.delivery.ownership import product_sidecar
from airflow_provider_kling.delivery.storage import as_storage_path
from airflow_provider_kling.task_outputs import delivered_uri


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


def is_kling_task(operator: str | None) -> bool:
    """Whether a task instance's operator (its class name, or a decorator's name) is one of the provider's."""
    return bool(operator) and (str(operator).startswith("Kling") or operator == "@task.kling_video")


def task_return_value(session: Any, dag_id: str, run_id: str, task_id: str, map_index: int) -> Any:
    """The ``return_value`` XCom of one Kling task instance.

    :raises NotRecorded: no such task instance, or it is not a Kling task.
    """
    operator = session.scalar(
        select(TaskInstance.operator).where(
            TaskInstance.dag_id == dag_id,
            TaskInstance.run_id == run_id,
            TaskInstance.task_id == task_id,
            TaskInstance.map_index == map_index,
        )
    )
    if operator is None:
        raise NotRecorded("there is no such task instance (DAG, run, task and map index)")
    if not is_kling_task(operator):
        raise NotRecorded(f"this task instance is a {operator}, not a Kling task: it has no video")
    query = XComModel.get_many(
        run_id=run_id, key="return_value", dag_ids=dag_id, task_ids=task_id, map_indexes=map_index
    )
    row = session.scalars(query.limit(1)).first()
    return None if row is None else XComModel.deserialize_value(row)


def recorded_video(value: Any) -> RecordedVideo:
    """The delivered video named by a Kling task's return value, checked to be the one the product wrote.

    :raises NotRecorded: no video is named, it is gone, or what is there is not what the sidecar records.
    """
    uri = delivered_uri(value)
    if uri is None:
        raise NotRecorded("this task instance recorded no delivered video (it kept none, or is not a Kling task)")
    path = as_storage_path(uri)
    sidecar = product_sidecar(path)
    if sidecar is None:
        raise NotRecorded("the video this task delivered is gone, or its sidecar is: nothing is served")
    try:
        size = path.stat().st_size
    except OSError:
        raise NotRecorded("the video this task delivered is gone since it was recorded") from None
    if size != sidecar.get("size"):
        raise NotRecorded("the file where this task delivered its video is not the one its sidecar records")
    return RecordedVideo(path, size, sidecar)
