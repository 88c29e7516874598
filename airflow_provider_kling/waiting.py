"""Waiting for a generation: the decisions shared by the trigger, the sensor and the operator.

Pure code: it never performs I/O. It says what a fetched generation means (keep waiting, done,
failed), what to log and when to poll next. A wait ends with a result or a Kling error; a trigger
sends either as an event (:mod:`airflow_provider_kling.events`). Trigger, sensor
(poke/reschedule) and operator all use it, so they cannot disagree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from airflow_provider_kling.cadence import RenderHistory, next_poll_delay
from airflow_provider_kling.exceptions import (
    KlingError,
    KlingGenerationFailed,
    KlingTransientError,
    KlingValidationError,
    KlingWaitTimeout,
)
from airflow_provider_kling.models import Generation, GenerationStatus, redact_url
from airflow_provider_kling.task_outputs import describe_usage

DEFAULT_POLL_INTERVAL = 10.0
#: Seconds a wait lasts unless the task says otherwise.
DEFAULT_WAIT_TIMEOUT = 3600.0
#: Seconds a defer timeout is given beyond the wait's own deadline, so the trigger reports a clear
#: timeout event before Airflow's trigger timeout fires.
DEADLINE_SLACK = 60.0


def defer_timeout(wait_seconds: float) -> timedelta:
    """Airflow's timeout for a deferral whose wait ends ``wait_seconds`` from now (the slack added)."""
    return timedelta(seconds=max(1.0, wait_seconds) + DEADLINE_SLACK)


def deadline_of_defer_timeout(timeout_after: float) -> float:
    """The wait's own deadline (epoch seconds) in a deferral Airflow times out at ``timeout_after``.

    The inverse of :func:`defer_timeout`, for waits whose trigger knows only Airflow's timeout.
    """
    return timeout_after - DEADLINE_SLACK


def format_elapsed(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


@dataclass(frozen=True)
class PollStep:
    """What to do after one poll: end the wait with ``result`` or ``error``, or sleep ``delay`` seconds.

    :param result: the finished generation as XCom data, when the wait is over and succeeded.
    :param error: what ended the wait otherwise (``KlingGenerationFailed``, ``KlingWaitTimeout``,
        or the API error that outlasted the failure budget).
    :param delay: seconds until the next poll while neither is set.
    :param logs: ``(level, message)`` lines worth logging about this poll.
    """

    result: dict[str, Any] | None = None
    error: KlingError | None = None
    delay: float = 0.0
    logs: tuple[tuple[int, str], ...] = ()

    @property
    def ends_wait(self) -> bool:
        return self.result is not None or self.error is not None


@dataclass(frozen=True)
class WaitTarget:
    """The generation a wait is for, and what is known of it beside its id.

    :param generation_id: the generation's id.
    :param model: its model, when known: its family (and the renders seen of it) set how sparse the
        first polls are.
    :param submitted_at: epoch seconds of the create request, when the waiting task made it (a
        reattached or sensor wait may not know).
    """

    generation_id: str
    model: str | None = None
    submitted_at: float | None = None


@dataclass
class WaitProgress:
    """Follows one generation across polls and says what is worth logging.

    :param target: the generation being waited for.
    :param started: wall-clock time (epoch seconds) when waiting began.
    :param failure_budget: seconds a streak of failed polls may last before waiting gives up.
    """

    target: WaitTarget
    started: float
    failure_budget: float = 300.0
    render_floor: float = 0.0
    last_status: str | None = None
    polls: int = 0
    failing_since: float | None = None
    last_state: GenerationStatus | None = None
    last_queued_at: float | None = None
    last: Generation | None = None
    history: RenderHistory | None = None
    _warned: set[str] = field(default_factory=set)

    @classmethod
    def start(
        cls,
        target: WaitTarget,
        started: float,
        *,
        poll_interval: float,
        history: RenderHistory | None = None,
        failure_budget: float = 300.0,
    ) -> WaitProgress:
        """A wait that polls sparsely while no render of the target's model can be finished.

        See :func:`next_poll_delay`; the wait teaches ``history`` how long this render took.
        """
        floor = (history or RenderHistory()).floor(target.model, poll_interval)
        return cls(target, started, failure_budget=failure_budget, render_floor=floor, history=history)

    @property
    def generation_id(self) -> str:
        return self.target.generation_id

    @property
    def model(self) -> str | None:
        return self.target.model

    @property
    def submitted_at(self) -> float | None:
        return self.target.submitted_at

    @property
    def render_start_bound(self) -> float | None:
        """The render cannot have started before this (epoch seconds).

        The last time the generation was seen queued, else its creation; ``None`` when neither is
        known (a sensor's first poll).
        """
        return self.last_queued_at if self.last_queued_at is not None else self.submitted_at

    def earliest_completion(self) -> float | None:
        """No render of this model can be finished before this time (``None``: any time now)."""
        bound = self.render_start_bound
        if bound is None or self.render_floor <= 0:
            return None
        return bound + self.render_floor

    def render_upper_bound(self, now: float) -> float | None:
        """Seconds the render took at most, once completion is seen at ``now`` (for learning floors)."""
        bound = self.render_start_bound
        return None if bound is None else max(0.0, now - bound)

    def deadline_step(self, end_time: float, now: float) -> PollStep | None:
        """The step that ends the wait once ``end_time`` has passed; checked before every poll."""
        if now < end_time:
            return None
        return PollStep(
            error=wait_timeout(self.generation_id, now - self.started, self.last),
            logs=((logging.INFO, f"Deadline reached for generation {self.generation_id}"),),
        )

    def after_poll(
        self,
        outcome: Generation | KlingError,
        *,
        poll_interval: float,
        end_time: float,
        poll_started: float,
        now: float,
    ) -> PollStep:
        """The one decision after each poll, for the sync wait and the trigger alike.

        :param outcome: what the poll fetched, or the error it raised after the retry policy.
        :param poll_interval: the task's ``poll_interval``.
        :param end_time: the absolute deadline (epoch seconds).
        :param poll_started: when the poll began (delays count from then).
        :param now: when it ended.
        :returns: the result or error that ends the wait, or how long to sleep before the next poll.
        """
        logs: tuple[tuple[int, str], ...]
        if isinstance(outcome, KlingError):
            if self.poll_failed(outcome, now):
                failed = f"Polling generation {self.generation_id} failed: {outcome}"
                return PollStep(error=outcome, logs=((logging.ERROR, failed),))
            logs = ((logging.WARNING, f"Polling generation {self.generation_id} failed, will keep trying: {outcome}"),)
            result = None
        else:
            self.last = outcome
            logs = tuple((logging.INFO, line) for line in self.observe(outcome, now))
            try:
                result = result_from_generation(outcome)
            except KlingGenerationFailed as err:
                return PollStep(error=err, logs=logs)
        if result is None:
            deadline = self.deadline_step(end_time, now)
            if deadline is not None:
                return PollStep(error=deadline.error, logs=logs + deadline.logs)
            return PollStep(
                delay=delay_after(self, poll_interval, end_time - now, now, poll_started=poll_started), logs=logs
            )
        if self.history is not None:  # learnt last: the one thing a finished poll teaches the cadence
            self.history.record(self.model, self.render_upper_bound(now))
        return PollStep(result=result, logs=logs)

    def poll_failed(self, error: KlingError, now: float) -> bool:
        """Record a poll that failed even after the retry policy; True when waiting should stop.

        Permanent errors stop at once. Transient ones are ridden out -- a flaky API must not fail a
        four-minute wait -- until a streak of failures has lasted ``failure_budget`` seconds.
        """
        if not isinstance(error, KlingTransientError):
            return True
        if self.failing_since is None:
            self.failing_since = now
        return now - self.failing_since >= self.failure_budget

    def observe(self, generation: Generation, now: float) -> list[str]:
        """Record one fetched state; return log lines (only when something changed)."""
        self.polls += 1
        self.failing_since = None
        self.last_state = generation.status
        if generation.status is GenerationStatus.QUEUED:
            self.last_queued_at = now
        lines: list[str] = []
        if generation.raw_status == self.last_status and generation.status is not GenerationStatus.COMPLETED:
            return lines  # most polls: still rendering, nothing new to say
        elapsed = format_elapsed(now - self.started)
        if generation.raw_status != self.last_status:
            lines.append(
                f"Generation {self.generation_id}: status {generation.raw_status!r} after {elapsed} "
                f"({self.polls} {'poll' if self.polls == 1 else 'polls'})"
            )
            self.last_status = generation.raw_status
        if generation.status is GenerationStatus.UNKNOWN and "unknown" not in self._warned:
            self._warned.add("unknown")
            lines.append(f"Unknown status {generation.raw_status!r}: treating it as still running until the deadline")
        if (
            generation.status is GenerationStatus.COMPLETED
            and generation.video_url is None
            and "no-url" not in self._warned
        ):
            self._warned.add("no-url")
            lines.append("The API reports 'completed' without a video URL yet: waiting for the URL")
        if generation.status is GenerationStatus.COMPLETED and generation.video_url:
            lines.append(
                f"Generation {self.generation_id} completed in {elapsed}: {redact_url(generation.video_url)} "
                f"({describe_usage(generation.usage)})"
            )
        return lines


def result_from_generation(generation: Generation) -> dict[str, Any] | None:
    """The finished generation as XCom data, ``None`` while it runs.

    :raises KlingGenerationFailed: when the API reported ``status: error``.
    """
    if not generation.is_finished:
        return None
    if generation.status is GenerationStatus.COMPLETED:
        return generation.to_xcom()
    reason = generation.error or "the API gave no reason"
    raise KlingGenerationFailed(generation.id, reason, generation=generation.to_xcom())


def wait_timeout(generation_id: str, waited: float, last: Generation | None) -> KlingWaitTimeout:
    """The error of a wait whose deadline passed, naming the last status seen."""
    last_status = last.raw_status if last else "never fetched"
    return KlingWaitTimeout(
        f"Gave up waiting for generation {generation_id} after {format_elapsed(waited)}: "
        f"the deadline passed while its status was {last_status!r}. The generation keeps running (and is billed) "
        "on the API side; a retry of this task reattaches to it.",
        generation=last.to_xcom() if last else None,
    )


def delay_after(
    progress: WaitProgress, poll_interval: float, remaining: float, now: float, *, poll_started: float | None = None
) -> float:
    """The adaptive delay for a wait in progress.

    :param poll_started: when the poll just made began. The delay counts from then, so a slow answer
        (a busy API, or a triggerer answering a thousand polls at once) does not stretch the interval:
        polls start ``next_poll_delay`` apart, never closer.
    """
    possible_at = progress.earliest_completion()
    start = now if poll_started is None else poll_started
    until_possible = None if possible_at is None else possible_at - start
    return max(0.0, next_poll_delay(poll_interval, remaining, until_possible=until_possible) - (now - start))


def checked_generation_id(value: Any) -> str:
    """The generation id to wait for; a templated id that rendered empty (or "None") is an error.

    :raises KlingValidationError: naming what arrived instead of an id.
    """
    if not isinstance(value, str) or not value.strip() or value.strip() == "None":
        raise KlingValidationError(
            [f"generation_id must be a non-empty string (usually pulled from the submit task's XCom), got {value!r}"]
        )
    return value.strip()
