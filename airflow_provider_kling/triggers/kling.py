"""KlingGenerationTrigger: waits for a generation in the triggerer, freeing the worker slot."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TaskSuccessEvent, TriggerEvent

from airflow_provider_kling.cadence import RENDER_HISTORY
from airflow_provider_kling.events import EVENT_SUCCESS, event_for_error, event_for_result, event_for_unexpected
from airflow_provider_kling.exceptions import KlingError, KlingValidationError
from airflow_provider_kling.task_outputs import GENERATION_FACTS_XCOM_KEY, generation_facts, ready_line, task_end_xcoms
from airflow_provider_kling.wait_loop import WaitSettings, follow
from airflow_provider_kling.waiting import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_WAIT_TIMEOUT,
    WaitTarget,
    checked_generation_id,
    deadline_of_defer_timeout,
)


class KlingGenerationTrigger(BaseTrigger):
    """
    Poll one Kling generation until it finishes, fails, or the deadline passes.

    Serializes only ids, the connection id, the poll interval and the deadline, never the API key
    (trigger kwargs are stored as plain JSON in the metadata database). Transient API errors are
    retried with the shared retry policy; exactly one event is yielded:
    ``success``/``failed``/``error``/``timeout`` (see :mod:`airflow_provider_kling.events`).

    With ``end_task`` a successful wait ends the task right here: the trigger stores the task's
    XComs (its return value and the video link) as the task would have, then yields
    ``TaskSuccessEvent``, so no worker process starts to resume it. Failures, timeouts and errors
    always resume the task on a worker, which decides between failing and retrying.

    :param generation_id: the generation to wait for; ``None`` with ``generation_id_xcom``.
    :param kling_conn_id: the Kling connection to poll with.
    :param end_time: absolute deadline, epoch seconds. Enforced here because some Airflow code paths
        (``airflow dags test``) ignore the defer timeout. ``None`` for a wait that starts in the
        triggerer (its kwargs are fixed when the DAG is parsed): the deadline is then read back
        from the task's trigger timeout (``waiting.deadline_of_defer_timeout``), else ``timeout``
        seconds from the first run.
    :param poll_interval: seconds between polls.
    :param started: epoch seconds when waiting began (for elapsed-time logs); defaults to now.
    :param end_task: ``None`` (resume the task on a worker), or the return value to leave when
        ending the task here: ``"generation"`` (operator, sensor) or ``"summary"`` (TaskFlow task).
    :param timeout: seconds to wait when neither ``end_time`` nor a trigger timeout is known.
    :param generation_id_xcom: ``{"task_id": ..., "key": ...}``: read the id from that XCom of the
        task's run (a wait started by the scheduler, whose kwargs were fixed at parse time); with
        ``"map_index": "own"`` the XCom of the (mapped) task's map index equal to this task's.
    :param model: the generation's model, when known: its family (and the renders this triggerer
        has seen of it) sets how sparse the first polls are.
    :param submitted_at: epoch seconds of the create request, when the waiting task made it.
    """

    def __init__(
        self,
        *,
        generation_id: str | None,
        kling_conn_id: str,
        end_time: float | None = None,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        started: float | None = None,
        end_task: str | None = None,
        timeout: float | None = None,
        generation_id_xcom: dict[str, str] | None = None,
        model: str | None = None,
        submitted_at: float | None = None,
    ) -> None:
        super().__init__()
        self.generation_id = generation_id
        self.kling_conn_id = kling_conn_id
        self.end_time = end_time
        self.poll_interval = poll_interval
        self.started = started if started is not None else time.time()
        self.end_task = end_task
        self.timeout = timeout
        self.generation_id_xcom = generation_id_xcom
        self.model = model
        self.submitted_at = submitted_at

    @classmethod
    def for_target(cls, target: WaitTarget, **kwargs: Any) -> KlingGenerationTrigger:
        """A trigger waiting for ``target`` (its id, model and send time as kwargs of their own)."""
        return cls(generation_id=target.generation_id, model=target.model, submitted_at=target.submitted_at, **kwargs)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "generation_id": self.generation_id,
                "kling_conn_id": self.kling_conn_id,
                "end_time": self.end_time,
                "poll_interval": self.poll_interval,
                "started": self.started,
                "end_task": self.end_task,
                "timeout": self.timeout,
                "generation_id_xcom": self.generation_id_xcom,
                "model": self.model,
                "submitted_at": self.submitted_at,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_kling.hooks.async_session import leased_session

        try:
            # Hold the loop's shared HTTP session for the whole wait: polls reuse kept-alive connections.
            async with leased_session() as session:
                event = await self._wait(session)
        except Exception as err:
            # Whatever went wrong (a deleted connection, a bug), the task must hear of it: one event.
            wanted = self.generation_id or f"from XCom {self.generation_id_xcom}"
            self.log.exception("Waiting for generation %s failed unexpectedly", wanted)
            event = event_for_unexpected(err)
        if self.end_task and event.get("status") == EVENT_SUCCESS and await self._end_task(event["generation"]):
            yield TaskSuccessEvent()
            return
        yield TriggerEvent(event)

    def deadline(self) -> float:
        """The absolute end of this wait (see ``end_time``)."""
        if self.end_time is not None:
            return self.end_time
        trigger_timeout = getattr(self, "timeout_after", None)
        if trigger_timeout is not None:
            return deadline_of_defer_timeout(trigger_timeout.timestamp())
        return self.started + (self.timeout if self.timeout is not None else DEFAULT_WAIT_TIMEOUT)

    async def _wait(self, session: Any) -> dict[str, Any]:
        """The wait's one event: :func:`~airflow_provider_kling.wait_loop.follow`'s result or error.

        :param session: the loop's shared HTTP session, leased by :meth:`run` for the whole wait.
        """
        from airflow_provider_kling.hooks.kling_async import KlingAsyncHook

        try:
            generation_id = checked_generation_id(
                self.generation_id if self.generation_id_xcom is None else await self._pull_generation_id()
            )
        except KlingValidationError as err:
            return event_for_error(err)
        model, submitted_at = self.model, self.submitted_at
        if model is None and self.generation_id_xcom is not None:
            # Read beside the id: the submitting task recorded its model and when it sent it.
            model, submitted_at = generation_facts(await self._pull(GENERATION_FACTS_XCOM_KEY))
        hook = KlingAsyncHook(self.kling_conn_id, session=session)
        try:
            result = await follow(
                WaitTarget(generation_id, model, submitted_at),
                hook.aget_generation,
                WaitSettings(self.deadline(), self.poll_interval, hook.retry_policy.budget, self.started),
                self.log,
                history=RENDER_HISTORY,
            )
        except KlingError as err:
            return event_for_error(err)
        return event_for_result(result)

    async def _pull_generation_id(self) -> Any:
        """The id the upstream task pushed, read through the triggerer's channel to the API server."""
        return await self._pull((self.generation_id_xcom or {}).get("key", "return_value"))

    async def _pull(self, key: str) -> Any:
        """An XCom of the upstream task named in ``generation_id_xcom``."""
        from airflow.sdk.execution_time.xcom import XCom
        from asgiref.sync import sync_to_async

        source, ti = self.generation_id_xcom or {}, self.task_instance
        if ti is None:
            return None
        # A mapped sensor's map index n waits for what map index n of the mapped upstream task sent.
        map_index = ti.map_index if source.get("map_index") == "own" else -1
        return await sync_to_async(XCom.get_one)(
            key=key, dag_id=ti.dag_id, task_id=source["task_id"], run_id=ti.run_id, map_index=map_index
        )

    async def _end_task(self, result: dict[str, Any]) -> bool:
        """Leave the task's XComs as its process would; False when it could not.

        Written through the triggerer's own channel to the API server (the SDK's ``XCom.set``:
        stored exactly like a worker's XComs, so downstream tasks read a dict, not a JSON string as
        with ``TaskSuccessEvent(xcoms=...)``). When it could not, the task resumes on a worker and
        finishes there as usual.
        """
        from asgiref.sync import sync_to_async

        ti: Any = self.task_instance
        if ti is None:  # run outside a triggerer (``airflow dags test`` runs triggers inline): resume as usual
            return False
        try:
            from airflow.sdk.execution_time.xcom import XCom

            for key, value in task_end_xcoms(result, str(self.end_task), self.model).items():
                await sync_to_async(XCom.set)(
                    key, value, dag_id=ti.dag_id, task_id=ti.task_id, run_id=ti.run_id, map_index=ti.map_index
                )
        except Exception:
            self.log.warning("Could not end the task here: it resumes on a worker instead", exc_info=True)
            return False
        self.log.info("%s", ready_line(result))
        return True
