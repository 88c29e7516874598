"""The one wait loop: poll a generation until :class:`~.waiting.WaitProgress` ends the wait.

The trigger runs it on the triggerer's event loop with the async hook; a task that waits in its
own process (``deferrable=False``) runs the very same loop with the sync hook
(:func:`follow_blocking`). The API client is the caller's ``fetch``, so this module does no I/O of
its own: tests drive it with a fake clock and a scripted fetch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from airflow_provider_kling.cadence import RenderHistory
from airflow_provider_kling.exceptions import KlingError
from airflow_provider_kling.models import Generation
from airflow_provider_kling.waiting import PollStep, WaitProgress, WaitTarget, result_from_generation


class WaitLog(Protocol):
    """Where a wait's lines go: a ``logging.Logger`` or a task's or trigger's ``self.log``."""

    def log(self, level: int, msg: Any, /, *args: Any) -> Any: ...


class Fetch(Protocol):
    """The API client's fetch, such as ``KlingHook.get_generation``.

    ``deadline`` is a ``time.monotonic()`` instant no retry of the request may pass.
    """

    def __call__(self, generation_id: str, *, deadline: float | None = None) -> Generation: ...


class AsyncFetch(Protocol):
    """:class:`Fetch` for an event loop, such as ``KlingAsyncHook.aget_generation``."""

    def __call__(self, generation_id: str, *, deadline: float | None = None) -> Awaitable[Generation]: ...


@dataclass(frozen=True)
class WaitSettings:
    """How a wait goes: until when, how often, how long a failing API is ridden out.

    :param end_time: absolute deadline, epoch seconds.
    :param poll_interval: seconds between polls once a render can be finished.
    :param failure_budget: seconds a streak of failed polls may last (the retry policy's budget).
    :param started: epoch seconds when waiting began (for elapsed-time logs); ``None``: now.
    """

    end_time: float
    poll_interval: float
    failure_budget: float = 300.0
    started: float | None = None


async def follow(
    target: WaitTarget,
    fetch: AsyncFetch,
    settings: WaitSettings,
    log: WaitLog,
    *,
    known: Generation | None = None,
    history: RenderHistory | None = None,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Poll ``target`` until it finishes; return it as XCom data.

    :param target: the generation to wait for.
    :param fetch: the caller's API client, see :class:`AsyncFetch`.
    :param settings: see :class:`WaitSettings`.
    :param log: where the wait's lines go (status changes, failed polls, the result).
    :param known: its state as already fetched, if any: a finished one ends the wait without a poll.
    :param history: the process's :class:`~.cadence.RenderHistory` (sets and learns the poll schedule).
    :param sleep: awaits the delay between polls.
    :param clock: epoch seconds now.
    :raises KlingGenerationFailed: on ``status: error``.
    :raises KlingWaitTimeout: when the deadline passes first.
    :raises KlingError: an API error that outlasted the failure budget, or a permanent one.
    """
    if known is not None and known.is_finished:
        return result_from_generation(known) or {}
    started = settings.started if settings.started is not None else clock()
    progress = WaitProgress.start(
        target, started, poll_interval=settings.poll_interval, history=history, failure_budget=settings.failure_budget
    )
    step = PollStep(delay=0.0)  # the first poll is due now
    while not step.ends_wait:
        await sleep(step.delay)
        poll_started = clock()
        past_deadline = progress.deadline_step(settings.end_time, poll_started)
        if past_deadline is not None:
            step = past_deadline
        else:
            outcome: Generation | KlingError
            try:
                deadline = time.monotonic() + settings.end_time - poll_started
                outcome = await fetch(progress.generation_id, deadline=deadline)
            except KlingError as err:
                outcome = err
            step = progress.after_poll(
                outcome,
                poll_interval=settings.poll_interval,
                end_time=settings.end_time,
                poll_started=poll_started,
                now=clock(),
            )
        for level, line in step.logs:
            log.log(level, "%s", line)
    if step.error is not None:
        raise step.error
    return dict(step.result or {})


def follow_blocking(
    target: WaitTarget,
    fetch: Fetch,
    settings: WaitSettings,
    log: WaitLog,
    *,
    known: Generation | None = None,
    history: RenderHistory | None = None,
) -> dict[str, Any]:
    """:func:`follow` in a process that waits itself, with a blocking ``fetch`` (the sync hook).

    Nothing else runs on this short-lived event loop, so a blocking request in it holds up nothing.
    The parameters are :func:`follow`'s.
    """

    async def fetch_now(generation_id: str, *, deadline: float | None = None) -> Generation:
        return fetch(generation_id, deadline=deadline)

    return asyncio.run(follow(target, fetch_now, settings, log, known=known, history=history))
