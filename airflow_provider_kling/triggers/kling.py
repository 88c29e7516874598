"""KlingGenerationTrigger: waits for a generation in the triggerer, freeing the worker slot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_kling.waiting import DEFAULT_POLL_INTERVAL

if TYPE_CHECKING:
    from airflow_provider_kling.exceptions import KlingError
    from airflow_provider_kling.hooks.kling_async import KlingAsyncHook
    from airflow_provider_kling.models import Generation
    from airflow_provider_kling.waiting import PollStep, WaitProgress


class KlingGenerationTrigger(BaseTrigger):
    """
    Poll one Kling generation until it finishes, fails, or the deadline passes.

    Serializes only ids, the connection id, the poll interval and an absolute deadline, never the
    API key (trigger kwargs are stored as plain JSON in the metadata database). Transient API errors
    are retried with the shared retry policy; exactly one event is yielded:
    ``success``/``failed``/``error``/``timeout`` (see :mod:`airflow_provider_kling.waiting`).

    :param generation_id: the generation to wait for.
    :param kling_conn_id: the Kling connection to poll with.
    :param end_time: absolute deadline, epoch seconds. Enforced here because some Airflow code paths
        (``airflow dags test``) ignore the defer timeout.
    :param poll_interval: seconds between polls.
    :param started: epoch seconds when waiting began (for elapsed-time logs); defaults to now.
    """

    def __init__(
        self,
        *,
        generation_id: str,
        kling_conn_id: str,
        end_time: float,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        started: float | None = None,
    ) -> None:
        super().__init__()
        self.generation_id = generation_id
        self.kling_conn_id = kling_conn_id
        self.end_time = end_time
        self.poll_interval = poll_interval
        self.started = started if started is not None else time.time()

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "generation_id": self.generation_id,
                "kling_conn_id": self.kling_conn_id,
                "end_time": self.end_time,
                "poll_interval": self.poll_interval,
                "started": self.started,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_kling.hooks.async_session import leased_session
        from airflow_provider_kling.waiting import event_for_unexpected

        try:
            # Hold the loop's shared HTTP session for the whole wait: polls reuse kept-alive connections.
            async with leased_session():
                event = await self._wait()
        except Exception as err:
            # Whatever went wrong (a deleted connection, a bug), the task must hear of it: one event.
            self.log.exception("Waiting for generation %s failed unexpectedly", self.generation_id)
            event = event_for_unexpected(err)
        yield TriggerEvent(event)

    async def _wait(self) -> dict[str, Any]:
        """Poll until :meth:`WaitProgress.after_poll` (shared with the sync wait) ends the wait."""
        from airflow_provider_kling.hooks.kling_async import KlingAsyncHook
        from airflow_provider_kling.waiting import WaitProgress

        hook = KlingAsyncHook(self.kling_conn_id)
        progress = WaitProgress(self.generation_id, self.started, failure_budget=hook.retry_policy.budget)
        while True:
            step = progress.deadline_step(self.end_time, time.time()) or await self._poll(hook, progress)
            for level, line in step.logs:
                self.log.log(level, "%s", line)
            if step.event is not None:
                return step.event
            await asyncio.sleep(step.delay)

    async def _poll(self, hook: KlingAsyncHook, progress: WaitProgress) -> PollStep:
        from airflow_provider_kling.exceptions import KlingError

        poll_started = time.time()
        outcome: Generation | KlingError
        try:
            deadline = time.monotonic() + self.end_time - poll_started
            outcome = await hook.aget_generation(self.generation_id, deadline=deadline)
        except KlingError as err:
            outcome = err
        return progress.after_poll(
            outcome,
            poll_interval=self.poll_interval,
            end_time=self.end_time,
            poll_started=poll_started,
            now=time.time(),
        )
