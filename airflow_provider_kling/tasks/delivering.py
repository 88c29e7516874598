"""Generate and deliver in one task: the ``destination`` a generating task stores its video at.

Every generating operator (and ``@task.kling_video``) takes ``destination``, ``overwrite`` and
``metadata``. The destination is checked before anything is paid for (names, the folder, the
user's files there); once the video is made, the task resumes on a worker and delivers it with
the same guarantees as :class:`~airflow_provider_kling.operators.download.KlingDownloadVideoOperator`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.lineage import media_read

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_kling.tasks.base import KlingTask


def check_can_deliver(destination: Any, wait_for_completion: bool) -> None:
    """A destination needs a task that waits for its video: refused when the DAG is parsed otherwise."""
    if destination is not None and not wait_for_completion:
        raise KlingValidationError(
            ["destination needs wait_for_completion=True: the video is stored once it is made, by the same task"]
        )


def check_destination_before_paying(destination: Any, params: dict[str, Any]) -> None:
    """A destination that cannot work (or would land on the inputs or the user's files) fails now."""
    if destination:
        from airflow_provider_kling.delivery.deliver import check_destination

        check_destination(destination, inputs=media_read(params))


def deliver_result(
    task: KlingTask,
    context: Context,
    result: dict[str, Any],
    *,
    destination: Any,
    overwrite: bool,
    metadata: dict[str, Any] | None,
) -> str:
    """Store ``result``'s video at ``destination``; its URI. The task's link and outlets point at it.

    :param metadata: extra fields for the sidecar; the task id and map index are added.
    """
    from airflow_provider_kling.delivery import deliver_video

    delivery = deliver_video(
        task.hook,
        destination=destination,
        generation_id=result["id"],
        overwrite=overwrite,
        metadata={**(metadata or {}), "task_id": task.task_id, "map_index": context["ti"].map_index},
        logger=task.log,
    )
    task.record_delivery(context, delivery)
    return delivery.uri
