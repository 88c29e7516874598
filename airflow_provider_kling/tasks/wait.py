"""Wait for a generation from a task: return it when finished, defer to the triggerer, or poll here.

A reattached generation may already be finished: then no trigger round trip is made (which also
avoids a scheduler race with triggers that fire within seconds of deferring).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow_provider_kling.cadence import RENDER_HISTORY
from airflow_provider_kling.exceptions import KlingError
from airflow_provider_kling.waiting import (
    PollStep,
    WaitProgress,
    WaitTarget,
    defer_timeout,
    format_elapsed,
    result_from_generation,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_kling.hooks.kling import KlingHook
    from airflow_provider_kling.models import Generation
    from airflow_provider_kling.tasks.base import KlingTask
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
) -> None:
    """Hand the wait to the triggerer (raises ``TaskDeferred``).

    :param end_task: when the task has nothing left to do after a successful wait, the shape of
        the return value the trigger leaves as it ends the task itself (no resume on a worker);
        ``None`` to resume ``method_name`` on a worker.
    """
    from airflow_provider_kling.triggers.kling import KlingGenerationTrigger

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

    :param deferrable: wait in the triggerer; otherwise poll in this process.
    :param poll_interval: seconds between status polls.
    :param timeout: seconds to wait (``execution_timeout`` may end it earlier).
    :param method_name: the task method that resumes after the trigger fired (after a failure, or
        always when ``end_task`` is ``None``).
    :param end_task: see :func:`defer_for_generation`.
    """
    end_time = wait_deadline(task, context, timeout)
    # A generation reattached to may already be finished; one created a moment ago cannot be, so
    # asking the API again right away would only spend a request.
    result = result_from_generation(submitted.generation) if submitted.generation else None
    if result is None and deferrable:
        defer_for_generation(
            task,
            submitted.target,
            end_time=end_time,
            poll_interval=poll_interval,
            method_name=method_name,
            end_task=end_task,
        )
    if result is None:
        result = wait_in_process(task.hook, submitted.target, end_time=end_time, poll_interval=poll_interval)
    return task.finish(context, result)


def wait_in_process(
    hook: KlingHook, target: WaitTarget, *, end_time: float, poll_interval: float, started: float | None = None
) -> dict[str, Any]:
    """Block until the generation finishes (``deferrable=False``); return it as XCom data.

    The decisions (log, stop, sleep how long) are :meth:`WaitProgress.after_poll`'s, the same the
    trigger makes.

    :param hook: the API client.
    :param target: the generation to wait for.
    :param end_time: absolute deadline, epoch seconds.
    :param poll_interval: seconds between polls.
    :param started: epoch seconds when waiting began, for elapsed-time logs.
    :raises KlingGenerationFailed: on ``status: error``.
    :raises KlingWaitTimeout: when ``end_time`` passes first.
    """
    progress = WaitProgress.start(
        target,
        started or time.time(),
        poll_interval=poll_interval,
        history=RENDER_HISTORY,
        failure_budget=hook.retry_policy.budget,
    )
    while True:
        step = progress.deadline_step(end_time, time.time()) or _poll(hook, progress, end_time, poll_interval)
        for level, line in step.logs:
            hook.log.log(level, "%s", line)
        if step.error is not None:
            raise step.error
        if step.result is not None:
            return step.result
        time.sleep(step.delay)


def _poll(hook: KlingHook, progress: WaitProgress, end_time: float, poll_interval: float) -> PollStep:
    poll_started = time.time()
    outcome: Generation | KlingError
    try:
        outcome = hook.get_generation(progress.generation_id, deadline=time.monotonic() + end_time - poll_started)
    except KlingError as err:
        outcome = err
    return progress.after_poll(
        outcome, poll_interval=poll_interval, end_time=end_time, poll_started=poll_started, now=time.time()
    )
