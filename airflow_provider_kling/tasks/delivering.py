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

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_kling.tasks.base import KlingTask


def check_can_deliver(destination: Any, wait_for_completion: bool) -> None:
    """A destination needs a task that waits for its video: refused when the DAG is parsed otherwise."""
    if destination is not None and not wait_for_completion:
        raise KlingValidationError(
            ["destination needs wait_for_completion=True: the video is stored once it is made, by the same task"]
        )


def check_destination_before_paying(
    destination: Any, overwrite: bool, inputs: list[Any], *, one_file: str | None = None
) -> Callable[[], None] | None:
    """Check ``destination`` now, before any request; the check to make before paying for a new generation.

    A destination that cannot work, or whose files would land on the inputs or the user's files,
    fails now. A file destination already holding a video this product delivered cannot take a
    new one without ``overwrite``: the returned check refuses then, when
    :func:`~airflow_provider_kling.tasks.submit.submit_once` is about to pay (``before_create``).
    A retry that reattaches to its own generation pays nothing and is not asked (its delivery
    keeps or completes what it finds); a folder destination names each video after its generation.

    :param one_file: see :func:`~airflow_provider_kling.delivery.destination.check_destination`.
    :returns: ``None`` when any new generation can be stored there.
    """
    if not destination:
        return None
    from airflow_provider_kling.delivery.destination import already_delivered

    if not already_delivered(destination, inputs=inputs, one_file=one_file) or overwrite:
        return None

    def refuse_to_pay() -> None:
        raise KlingValidationError(
            [
                f"destination {str(destination)!a} already holds a video airflow-provider-kling delivered, and "
                "this run would pay for a new one it could not store there: pass overwrite=True to replace it, "
                "or choose another destination"
            ]
        )

    return refuse_to_pay


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
        delivered_by=task.delivered_by(context),
        logger=task.log,
    )
    task.record_delivery(context, delivery)
    return delivery.uri
