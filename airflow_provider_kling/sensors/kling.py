"""KlingGenerationSensor: wait for a generation to finish."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.definitions.mappedoperator import OperatorPartial

from airflow_provider_kling.exceptions import KlingTransientError
from airflow_provider_kling.task_outputs import GENERATION_FACTS_XCOM_KEY, RETURN_GENERATION, generation_facts
from airflow_provider_kling.tasks.base import KlingTask
from airflow_provider_kling.tasks.wait import defer_for_generation, wait_deadline
from airflow_provider_kling.version_compat import AIRFLOW_V_3_3_PLUS
from airflow_provider_kling.waiting import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_WAIT_TIMEOUT,
    WaitTarget,
    checked_generation_id,
    defer_timeout,
    result_from_generation,
)

if TYPE_CHECKING:
    from airflow.sdk import Context


class KlingGenerationSensor(KlingTask, BaseSensorOperator):
    """
    Wait for a Kling generation and return it (id, status, video url, duration, usage) as XCom.

    Deferrable by default: the wait happens in the triggerer and holds no worker slot. On Airflow
    3.3 and newer the wait also *starts* and, when the video is ready, *ends* in the triggerer
    (``start_from_trigger``): a waiting video costs no worker process at all, and the trigger leaves
    the return value and the video link as the task would. A failed generation, a timeout or an
    API error resumes the task on a worker, which fails it with the API's message (``status:
    error``: at once, no retries) or retries it. Mapped sensors do too when ``generation_id`` is
    their one mapped argument and a mapped task's ``.output`` (map index *n* waits for what map
    index *n* sent); other mapped sensors and Airflow 3.1/3.2 start on a worker and defer from
    there. With ``deferrable=False`` it pokes (``mode="poke"``) or reschedules
    (``mode="reschedule"``); transient API errors are ridden out until ``timeout``.

    .. seealso::
        ``dags/kling_text_to_video.py``. Give the sensor ``retries >= 1``: on some Airflow releases a
        trigger that fires within seconds of a worker deferring is reported as a state mismatch.

    :param generation_id: the generation to wait for (templated), typically ``submit.output``
        or ``"{{ ti.xcom_pull(task_ids='submit') }}"``.
    :param kling_conn_id: the Kling connection.
    :param deferrable: wait in the triggerer (default).
    :param poke_interval: seconds between status polls.
    :param timeout: seconds before giving up (honoured while deferred too; ``execution_timeout``
        may end the wait earlier).
    :param start_from_trigger: start (and, on success, end) the wait in the triggerer without any
        worker process; default: on when deferrable on Airflow 3.3+ and ``generation_id`` is a
        literal id or an upstream task's ``.output``. A Jinja ``generation_id`` (or
        ``kling_conn_id``) starts on a worker: Airflow 3.3.2's triggerer cannot pull XComs for templates.
    """

    template_fields: Sequence[str] = ("generation_id", "kling_conn_id")
    ui_color = "#e6f0ff"
    timeout_is_final = True

    def __init__(
        self,
        *,
        generation_id: str,
        kling_conn_id: str = "kling_default",
        deferrable: bool = True,
        poke_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        start_from_trigger: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.generation_id = generation_id
        self.kling_conn_id = kling_conn_id
        self.deferrable = deferrable
        source = _generation_id_source(generation_id)
        # The task whose XCom holds the id (``submit.output``), to read the facts recorded beside it.
        self._upstream_task_id: str | None = ((source or {}).get("generation_id_xcom") or {}).get("task_id")
        wanted = start_from_trigger is not False  # on unless turned off, where it can work
        self.start_from_trigger = bool(
            wanted and deferrable and AIRFLOW_V_3_3_PLUS and source and not _is_template(kling_conn_id)
        )
        if self.start_from_trigger:
            self.start_trigger_args = start_trigger_args(
                source or {}, kling_conn_id=kling_conn_id, poke_interval=self.poke_interval, timeout=self.timeout
            )

    @classmethod
    def partial(cls, **kwargs: Any) -> OperatorPartial:  # type: ignore[override]
        """Like ``BaseOperator.partial``, and mapped waits may start in the triggerer.

        ``.expand(generation_id=<mapped task>.output)`` then starts each map index's wait in the
        triggerer on Airflow 3.3+ (see :func:`start_mapped_waits_in_triggerer`).
        """
        plain = super().partial(**kwargs)
        if not AIRFLOW_V_3_3_PLUS:
            return plain
        plain._expand_called = True  # replaced by its copy below, which is the one expanded
        return _StartInTriggerPartial(operator_class=plain.operator_class, kwargs=plain.kwargs, params=plain.params)

    def _check_generation_id(self) -> str:
        return checked_generation_id(self.generation_id)

    def run_task(self, context: Context) -> Any:
        if not self.deferrable:
            return BaseSensorOperator.execute(self, context)  # poke or reschedule: Airflow's loop

        generation_id = self._check_generation_id()
        self.reserve_video_link(context)
        # One synchronous look first: a finished generation returns without a trigger round trip.
        result = result_from_generation(self.hook.get_generation(generation_id))
        if result is not None:
            return self.finish(context, result)
        model, submitted_at = self._generation_facts(context)
        defer_for_generation(
            self,
            WaitTarget(generation_id, model, submitted_at),
            end_time=wait_deadline(self, context, self.timeout),
            poll_interval=self.poke_interval,
            method_name="execute_complete",
        )

    def _generation_facts(self, context: Context) -> tuple[str | None, float | None]:
        """The model and send time the submitting task recorded beside the id (``submit.output`` only)."""
        if self._upstream_task_id is None:
            return None, None
        facts = context["ti"].xcom_pull(task_ids=self._upstream_task_id, key=GENERATION_FACTS_XCOM_KEY)
        return generation_facts(facts)

    def poke(self, context: Context) -> PokeReturnValue | bool:

        # Turned into Airflow's exceptions here, before Airflow's poke loop applies ``soft_fail`` to them.
        with self.failure_semantics():
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
            return PokeReturnValue(is_done=True, xcom_value=self.finish(context, result))


def start_trigger_args(source: dict[str, Any], *, kling_conn_id: str, poke_interval: float, timeout: Any) -> Any:
    """The trigger the scheduler creates in place of running a sensor on a worker.

    Its kwargs are fixed when the DAG is parsed: the generation id is given as it is, or as the
    XCom the trigger reads itself (``submit.output``). The deadline is the trigger timeout
    (Airflow caps it at ``execution_timeout``), less the slack the trigger keeps for reporting a
    clear timeout of its own.
    """
    from airflow.triggers.base import StartTriggerArgs

    from airflow_provider_kling.triggers.kling import KlingGenerationTrigger

    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    return StartTriggerArgs(
        trigger_cls=f"{KlingGenerationTrigger.__module__}.{KlingGenerationTrigger.__qualname__}",
        trigger_kwargs={
            **source,
            "kling_conn_id": kling_conn_id,
            "poll_interval": float(poke_interval),
            "end_task": RETURN_GENERATION,
        },
        next_method="execute_complete",
        next_kwargs=None,
        timeout=defer_timeout(seconds),
    )


class _StartInTriggerPartial(OperatorPartial):
    """``KlingGenerationSensor.partial(...)``: its ``expand`` lets the waits start in the triggerer."""

    __slots__ = ()

    def _expand(self, expand_input: Any, *, strict: bool) -> Any:
        mapped = super()._expand(expand_input, strict=strict)
        start_mapped_waits_in_triggerer(mapped)
        return mapped


def start_mapped_waits_in_triggerer(mapped: Any) -> None:
    """Let the scheduler start every map index of a mapped sensor in the triggerer (Airflow 3.3+).

    Airflow's scheduler gives each map index the mapped task's ``start_trigger_args`` as they are
    (it does not expand them per index), so they must not depend on the index: this holds when
    the only mapped argument is ``generation_id=<mapped task>.output``, whose trigger reads the
    id at its own map index. Anything else (``expand_kwargs``, a literal list, other mapped
    arguments, a templated connection) starts on a worker and defers from there.
    """
    partial_kwargs = mapped.partial_kwargs
    mapped_kwargs = getattr(mapped.expand_input, "value", None)
    if (
        partial_kwargs.get("start_from_trigger") is False
        or partial_kwargs.get("deferrable") is False
        or type(mapped.expand_input).__name__ != "DictOfListsExpandInput"
        or not isinstance(mapped_kwargs, dict)
        or set(mapped_kwargs) != {"generation_id"}
    ):
        return
    source = _xcom_source(mapped_kwargs["generation_id"], upstream_mapped=True)
    kling_conn_id = partial_kwargs.get("kling_conn_id", "kling_default")
    if source is None or _is_template(kling_conn_id):
        return
    mapped.start_from_trigger = True
    mapped.start_trigger_args = start_trigger_args(
        source,
        kling_conn_id=kling_conn_id,
        poke_interval=partial_kwargs.get("poke_interval", DEFAULT_POLL_INTERVAL),
        timeout=partial_kwargs.get("timeout", DEFAULT_WAIT_TIMEOUT),
    )


def _is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def _generation_id_source(generation_id: Any) -> dict[str, Any] | None:
    """How a trigger started by the scheduler learns the generation id, or ``None`` when it cannot.

    A literal id is passed as it is; ``submit.output`` (the XCom of an unmapped task) is read by
    the trigger itself. A Jinja template is left to a worker: Airflow 3.3.2's triggerer cannot
    serve a template's ``ti.xcom_pull`` (it sends ``GetXComSequenceSlice``, which its supervisor
    refuses), so such a sensor starts on a worker and defers from there, as on older releases.
    """
    if isinstance(generation_id, str):
        return None if _is_template(generation_id) else {"generation_id": generation_id}
    return _xcom_source(generation_id, upstream_mapped=False)


def _xcom_source(generation_id: Any, *, upstream_mapped: bool) -> dict[str, Any] | None:
    """``{"generation_id": None, "generation_id_xcom": ...}`` for ``<task>.output``, else ``None``.

    :param upstream_mapped: the task must be mapped (the trigger reads the XCom at its own map
        index), or must not be (it reads the task's one XCom).
    """
    operator, key = getattr(generation_id, "operator", None), getattr(generation_id, "key", None)
    task_id = getattr(operator, "task_id", None)
    if (
        type(generation_id).__name__ != "PlainXComArg"
        or (type(operator).__name__ == "MappedOperator") != upstream_mapped
        or not isinstance(task_id, str)
        or not isinstance(key, str)
    ):
        return None
    xcom = {"task_id": task_id, "key": key, **({"map_index": "own"} if upstream_mapped else {})}
    return {"generation_id": None, "generation_id_xcom": xcom}
