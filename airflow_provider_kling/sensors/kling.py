"""KlingGenerationSensor: wait for a generation to finish."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_kling.tasks.base import KlingTask
from airflow_provider_kling.waiting import DEFAULT_POLL_INTERVAL

if TYPE_CHECKING:
    from airflow.sdk import Context


class KlingGenerationSensor(KlingTask, BaseSensorOperator):
    """
    Wait for a Kling generation and return it (id, status, video url, duration, usage) as XCom.

    Deferrable by default: the wait happens in the triggerer and holds no worker slot. With
    ``deferrable=False`` it pokes (``mode="poke"``) or reschedules (``mode="reschedule"``).
    ``status: error`` fails the task at once with the API's message and without retries; transient
    API errors are retried and otherwise ridden out until ``timeout``.

    .. seealso::
        ``dags/kling_text_to_video.py``. Give the sensor ``retries >= 1``: on some Airflow releases a
        trigger that fires within seconds of deferring is reported as a state mismatch.

    :param generation_id: the generation to wait for (templated), typically
        ``"{{ ti.xcom_pull(task_ids='submit') }}"``.
    :param kling_conn_id: the Kling connection.
    :param deferrable: wait in the triggerer (default).
    :param poke_interval: seconds between status polls.
    :param timeout: seconds before giving up (honoured while deferred too).
    """

    template_fields: Sequence[str] = ("generation_id", "kling_conn_id")
    ui_color = "#e6f0ff"

    def __init__(
        self,
        *,
        generation_id: str,
        kling_conn_id: str = "kling_default",
        deferrable: bool = True,
        poke_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = 3600.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.generation_id = generation_id
        self.kling_conn_id = kling_conn_id
        self.deferrable = deferrable

    def _check_generation_id(self) -> str:
        from airflow_provider_kling.exceptions import KlingValidationError

        if not isinstance(self.generation_id, str) or not self.generation_id.strip() or self.generation_id == "None":
            raise KlingValidationError(
                [
                    f"generation_id must be a non-empty string (usually pulled from the submit task's XCom), got {self.generation_id!r}"
                ]
            )
        return self.generation_id.strip()

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        from airflow_provider_kling.tasks.failures import airflow_failure_semantics
        from airflow_provider_kling.tasks.wait import defer_for_generation, finish, wait_deadline
        from airflow_provider_kling.waiting import result_from_generation

        with airflow_failure_semantics(timeout_is_final=True):
            generation_id = self._check_generation_id()
            self.reserve_video_link(context)
            # One synchronous look first: a finished generation returns without a trigger round trip.
            result = result_from_generation(self.hook.get_generation(generation_id))
            if result is not None:
                return finish(self, context, result)
            defer_for_generation(
                self,
                generation_id=generation_id,
                end_time=wait_deadline(self, context, self.timeout),
                poll_interval=self.poke_interval,
                method_name="execute_complete",
            )

    def poke(self, context: Context) -> PokeReturnValue | bool:
        from airflow_provider_kling.exceptions import KlingTransientError
        from airflow_provider_kling.tasks.failures import airflow_failure_semantics
        from airflow_provider_kling.tasks.wait import finish
        from airflow_provider_kling.waiting import result_from_generation

        with airflow_failure_semantics(timeout_is_final=True):
            generation_id = self._check_generation_id()
            try:
                generation = self.hook.get_generation(generation_id, deadline=time.monotonic() + self.poke_interval * 4)
            except KlingTransientError as err:
                # A flaky API must not fail a long wait: try again at the next poke, until timeout.
                self.log.warning("Could not fetch generation %s this time: %s", generation_id, err)
                return False
            self.log.info("Generation %s: status %r", generation_id, generation.raw_status)
            result = result_from_generation(generation)
            if result is None:
                return False
            return PokeReturnValue(is_done=True, xcom_value=finish(self, context, result))

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: return the finished generation or fail clearly."""
        from airflow_provider_kling.tasks.failures import airflow_failure_semantics
        from airflow_provider_kling.tasks.wait import finish_from_event

        with airflow_failure_semantics(timeout_is_final=True):
            return finish_from_event(self, context, event)
