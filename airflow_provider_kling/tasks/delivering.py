"""Generate and deliver in one task: the ``destination`` a generating task stores its video at.

Every generating operator (and ``@task.kling_video``) takes ``destination``, ``overwrite`` and
``metadata``. The destination is checked before anything is paid for (names, the folder, the
user's files there); once the video is made, the task resumes on a worker and delivers it with
the same guarantees as :class:`~airflow_provider_kling.operators.download.KlingDownloadVideoOperator`.
"""

from __future__ import annotations

from collections.abc import Callable
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


def room_for_a_new_video(destination: Any, overwrite: bool, params: dict[str, Any]) -> Callable[[], None]:
    """The check :func:`~airflow_provider_kling.tasks.submit.submit_once` makes before paying for a new generation.

    A file destination that already holds a video this product delivered is refused then, unless
    ``overwrite``: the new video could not be stored there. A retry that reattaches to its own
    generation pays nothing and is not asked (its delivery keeps or completes what it finds); a
    folder destination names each video after its generation.
    """
    return lambda: check_room_for_a_new_video(destination, overwrite, media_read(params))


def check_room_for_a_new_video(destination: Any, overwrite: bool, inputs: list[Any]) -> None:
    """See :func:`room_for_a_new_video`.

    :raises KlingValidationError: naming the destination and the two ways out.
    """
    if not destination or overwrite:
        return
    from airflow_provider_kling.delivery.destination import already_delivered

    if already_delivered(destination, inputs=inputs):
        raise KlingValidationError(
            [
                f"destination {str(destination)!a} already holds a video airflow-provider-kling delivered, and "
                "this run would pay for a new one it could not store there: pass overwrite=True to replace it, "
                "or choose another destination"
            ]
        )


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
