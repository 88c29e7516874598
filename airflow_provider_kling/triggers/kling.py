"""KlingGenerationTrigger: waits for a generation in the triggerer, freeing the worker slot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_kling.waiting import DEFAULT_POLL_INTERVAL


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

        # Hold the loop's shared HTTP session for the whole wait: polls reuse kept-alive connections.
        async with leased_session():
            async for event in self._poll():
                yield event

    async def _poll(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_kling.exceptions import KlingError
        from airflow_provider_kling.hooks.kling import KlingHook
        from airflow_provider_kling.waiting import (
            WaitProgress,
            delay_after,
            event_for,
            event_for_error,
            timeout_event,
        )

        hook = KlingHook(kling_conn_id=self.kling_conn_id)
        progress = WaitProgress(self.generation_id, self.started, failure_budget=hook.retry_policy.budget)
        last = None
        while (remaining := self.end_time - time.time()) > 0:
            poll_started = time.time()
            try:
                last = await hook.aget_generation(self.generation_id, deadline=time.monotonic() + remaining)
            except KlingError as err:
                if progress.poll_failed(err, time.time()):
                    self.log.error("Polling generation %s failed: %s", self.generation_id, err)
                    yield TriggerEvent(event_for_error(err))
                    return
                self.log.warning("Polling generation %s failed, will keep trying: %s", self.generation_id, err)
            else:
                for line in progress.observe(last, time.time()):
                    self.log.info("%s", line)
                event = event_for(last)
                if event is not None:
                    yield TriggerEvent(event)
                    return
            now = time.time()
            await asyncio.sleep(
                delay_after(progress, self.poll_interval, self.end_time - now, now, poll_started=poll_started)
            )
        self.log.info("Deadline reached for generation %s", self.generation_id)
        yield TriggerEvent(timeout_event(self.generation_id, time.time() - self.started, last))
