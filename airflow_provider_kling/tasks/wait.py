"""Wait for a generation from a task: return it when finished, defer to the triggerer, or poll here."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow_provider_kling.cadence import RENDER_HISTORY
from airflow_provider_kling.models.values import as_seconds
from airflow_provider_kling.tasks.base import KlingTask
from airflow_provider_kling.wait_loop import WaitSettings, follow_blocking
from airflow_provider_kling.waiting import WaitTarget, defer_timeout, format_elapsed

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_kling.models import Generation
    from airflow_provider_kling.tasks.submit import Submitted


def wait_deadline(task: KlingTask, context: Context, timeout: float) -> float:
    """Absolute end of a wait (epoch seconds): ``timeout`` from now, or earlier if ``execution_timeout`` says so."""
    end_time = time.time() + timeout
    start_date = getattr(context["ti"], "start_date", None)
    if task.execution_timeout is not None and start_date is not None:
        end_time = min(end_time, start_date.timestamp() + task.execution_timeout.total_seconds())
    return end_time


def defer_for_generation(
    task: KlingTask,
    target: WaitTarget,
    *,
    end_time: float,
    poll_interval: float,
    method_name: str,
    end_task: str | None = None,
    known: Generation | None = None,
) -> None:
    """Hand the wait to the triggerer (raises ``TaskDeferred``), unless ``known`` says it is over.

    :param end_task: when the task has nothing left to do after a successful wait, the shape of
        the return value the trigger leaves as it ends the task itself (no resume on a worker);
        ``None`` to resume ``method_name`` on a worker.
    :param known: the generation's state as already fetched: a finished one is not waited for
        (this returns), which spares a trigger round trip and a scheduler race with triggers that
        fire within seconds of deferring.
    """
    from airflow_provider_kling.triggers.kling import KlingGenerationTrigger

    if known is not None and known.is_finished:
        return
    task.log.info(
        "Generation %s is still rendering: deferring until it finishes (polled every %gs, deadline in %s)",
        target.generation_id,
        poll_interval,
        format_elapsed(end_time - time.time()),
    )
    task.defer(
        trigger=KlingGenerationTrigger.for_target(
            target, kling_conn_id=task.kling_conn_id, end_time=end_time, poll_interval=poll_interval, end_task=end_task
        ),
        method_name=method_name,
        # A little slack: the trigger enforces end_time itself and reports a clear timeout event.
        timeout=defer_timeout(end_time - time.time()),
    )


def wait_or_defer(
    task: KlingTask,
    context: Context,
    submitted: Submitted,
    *,
    deferrable: bool,
    poll_interval: float,
    timeout: float,
    method_name: str = "execute_complete",
    end_task: str | None = None,
) -> dict[str, Any]:
    """Return the finished generation, deferring (raises ``TaskDeferred``) while it renders.

    A generation reattached to may already be finished: it is returned at once. One created a
    moment ago cannot be, so no request is spent asking.

    :param deferrable: wait in the triggerer; otherwise poll in this process (the trigger's loop,
        :func:`~airflow_provider_kling.wait_loop.follow`, run here with the sync hook).
    :param poll_interval: seconds between status polls.
    :param timeout: seconds to wait (``execution_timeout`` may end it earlier).
    :param method_name: the task method that resumes after the trigger fired (after a failure, or
        always when ``end_task`` is ``None``).
    :param end_task: see :func:`defer_for_generation`.
    """
    end_time = wait_deadline(task, context, timeout)
    if deferrable:
        defer_for_generation(
            task,
            submitted.target,
            end_time=end_time,
            poll_interval=poll_interval,
            method_name=method_name,
            end_task=end_task,
            known=submitted.generation,
        )
    result = follow_blocking(
        submitted.target,
        task.hook.get_generation,
        WaitSettings(end_time, poll_interval, task.hook.retry_policy.budget),
        task.log,
        known=submitted.generation,
        history=RENDER_HISTORY,
    )
    return task.finish(context, result)


class KlingWaitingTask(KlingTask):
    """A Kling task that waits for the generations it submits, with options of its own.

    Subclasses set ``deferrable``, ``poll_interval`` and ``timeout`` (seconds) in ``__init__``.
    """

    deferrable: bool
    poll_interval: float
    timeout: float

    #: Arguments of seconds (or a ``timedelta``), checked when the DAG is parsed.
    span_arguments: tuple[str, ...] = ("poll_interval", "timeout")

    @classmethod
    def partial(cls, **kwargs: Any) -> Any:
        """Like ``BaseOperator.partial``; its spans of time are checked now, as an unmapped task's are.

        Values given to ``.expand()`` are known only when each mapped task runs: checked then,
        before any request.
        """
        for name in cls.span_arguments:
            if name in kwargs and not hasattr(kwargs[name], "resolve"):  # an XComArg: known at run time
                as_seconds(kwargs[name], name)
        return super().partial(**kwargs)

    def wait_for(
        self,
        context: Context,
        submitted: Submitted,
        *,
        method_name: str = "execute_complete",
        end_task: str | None = None,
    ) -> dict[str, Any]:
        """Wait for ``submitted`` with this task's options: see :func:`wait_or_defer`."""
        return wait_or_defer(
            self,
            context,
            submitted,
            deferrable=self.deferrable,
            poll_interval=self.poll_interval,
            timeout=self.timeout,
            method_name=method_name,
            end_task=end_task,
        )
