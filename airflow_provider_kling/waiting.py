"""Waiting for a generation: the decisions shared by the trigger, the sensor and the operator.

Pure code: it never performs I/O. It says what a fetched generation means (keep waiting, done,
failed), what to log, when to poll next, and turns the trigger's event back into a result or an
error. Trigger, sensor (poke/reschedule) and operator all use it, so they cannot disagree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_kling.exceptions import (
    KlingError,
    KlingGenerationFailed,
    KlingPermanentError,
    KlingTransientError,
    KlingWaitTimeout,
)
from airflow_provider_kling.models import Generation, GenerationStatus, redact_url

DEFAULT_POLL_INTERVAL = 10.0
MIN_POLL_INTERVAL = 0.1

# The adaptive schedule (see next_poll_delay): sparse while nothing can be finished yet.
QUEUED_FACTOR, QUEUED_CAP = 2.0, 20.0  # queued: every 2 x poll_interval, at most 20 s apart
WARMUP_FACTOR, WARMUP_CAP = 9.0, 90.0  # the first 9 x poll_interval (at most 90 s) of rendering ...
WARMUP_STEP_FACTOR, WARMUP_STEP_CAP = 3.0, 30.0  # ... polled every 3 x poll_interval (at most 30 s)

# Event "status" values sent from the trigger to the task.
EVENT_SUCCESS = "success"
EVENT_FAILED = "failed"  # the API reported status: error
EVENT_ERROR = "error"  # the API could not be asked (permanent, or transient after the retry budget)
EVENT_TIMEOUT = "timeout"


def format_elapsed(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def describe_usage(usage: dict[str, float]) -> str:
    if not usage:
        return "usage not reported"
    return ", ".join(f"{key}={value:g}" for key, value in usage.items())


@dataclass(frozen=True)
class PollStep:
    """What to do after one poll: end the wait with ``event``, or sleep ``delay`` seconds.

    :param event: the one event that ends the wait (see the ``EVENT_*`` statuses), if it is over.
    :param delay: seconds until the next poll otherwise.
    :param logs: ``(level, message)`` lines worth logging about this poll.
    :param error: the error that ended the wait, for callers that re-raise it as it was.
    """

    event: dict[str, Any] | None = None
    delay: float = 0.0
    logs: tuple[tuple[int, str], ...] = ()
    error: KlingError | None = None


@dataclass
class WaitProgress:
    """Follows one generation across polls and says what is worth logging.

    :param generation_id: the generation being waited for.
    :param started: wall-clock time (epoch seconds) when waiting began.
    :param failure_budget: seconds a streak of failed polls may last before waiting gives up.
    """

    generation_id: str
    started: float
    failure_budget: float = 300.0
    last_status: str | None = None
    polls: int = 0
    failing_since: float | None = None
    last_state: GenerationStatus | None = None
    rendering_since: float | None = None
    last: Generation | None = None
    _warned: set[str] = field(default_factory=set)

    def deadline_step(self, end_time: float, now: float) -> PollStep | None:
        """The step that ends the wait once ``end_time`` has passed; checked before every poll."""
        if now < end_time:
            return None
        return PollStep(
            event=timeout_event(self.generation_id, now - self.started, self.last),
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
        :returns: the event that ends the wait, or how long to sleep before the next poll.
        """
        if isinstance(outcome, KlingError):
            if self.poll_failed(outcome, now):
                failed = f"Polling generation {self.generation_id} failed: {outcome}"
                return PollStep(event=event_for_error(outcome), error=outcome, logs=((logging.ERROR, failed),))
            logs: tuple[tuple[int, str], ...] = (
                (logging.WARNING, f"Polling generation {self.generation_id} failed, will keep trying: {outcome}"),
            )
        else:
            self.last = outcome
            logs = tuple((logging.INFO, line) for line in self.observe(outcome, now))
            event = event_for(outcome)
            if event is not None:
                return PollStep(event=event, logs=logs)
        deadline = self.deadline_step(end_time, now)
        if deadline is not None:
            return PollStep(event=deadline.event, logs=logs + deadline.logs)
        delay = delay_after(self, poll_interval, end_time - now, now, poll_started=poll_started)
        return PollStep(delay=delay, logs=logs)

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
        if generation.status is not GenerationStatus.QUEUED and self.rendering_since is None:
            self.rendering_since = now
        lines: list[str] = []
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


def event_for(generation: Generation) -> dict[str, Any] | None:
    """The trigger event a fetched generation calls for, or ``None`` to keep waiting."""
    if not generation.is_finished:
        return None
    if generation.status is GenerationStatus.COMPLETED:
        return {"status": EVENT_SUCCESS, "generation": generation.to_xcom()}
    return {
        "status": EVENT_FAILED,
        "generation": generation.to_xcom(),
        "message": generation.error or "the API gave no reason",
    }


def event_for_error(error: KlingError) -> dict[str, Any]:
    return {"status": EVENT_ERROR, "message": str(error), "retryable": isinstance(error, KlingTransientError)}


def event_for_unexpected(error: BaseException) -> dict[str, Any]:
    """The error event for a failure no one planned for (a bug, a deleted connection...).

    Retryable: a retried task reattaches to the same generation, so trying again costs nothing.
    """
    return {
        "status": EVENT_ERROR,
        "message": f"Waiting for the generation failed unexpectedly: {type(error).__name__}: {error}",
        "retryable": True,
    }


def timeout_event(generation_id: str, waited: float, last: Generation | None) -> dict[str, Any]:
    last_status = last.raw_status if last else "never fetched"
    return {
        "status": EVENT_TIMEOUT,
        "message": (
            f"Gave up waiting for generation {generation_id} after {format_elapsed(waited)}: "
            f"the deadline passed while its status was {last_status!r}. The generation keeps running (and is billed) "
            "on the API side; a retry of this task reattaches to it."
        ),
        "generation": last.to_xcom() if last else None,
    }


def result_from_event(event: dict[str, Any] | None) -> dict[str, Any]:
    """Turn a trigger event into the finished generation, or raise the matching Kling error."""
    if not isinstance(event, dict) or "status" not in event:
        raise KlingTransientError(f"Unexpected trigger event: {event!r}")
    status = event["status"]
    if status == EVENT_SUCCESS:
        return dict(event["generation"])
    if status == EVENT_FAILED:
        generation = event.get("generation") or {}
        raise KlingGenerationFailed(str(generation.get("id", "?")), str(event.get("message")))
    if status == EVENT_TIMEOUT:
        raise KlingWaitTimeout(str(event.get("message")), generation=event.get("generation"))
    if status == EVENT_ERROR and event.get("retryable"):
        raise KlingTransientError(str(event.get("message")))
    raise KlingPermanentError(str(event.get("message")))


def result_from_generation(generation: Generation) -> dict[str, Any] | None:
    """For sync waiting: the finished generation as XCom, ``None`` while running; raises if it failed."""
    event = event_for(generation)
    return None if event is None else result_from_event(event)


def next_poll_delay(
    poll_interval: float,
    remaining: float,
    *,
    status: GenerationStatus | None = None,
    rendering_for: float | None = None,
) -> float:
    """Seconds until the next poll.

    Kling renders take minutes: polling every ``poll_interval`` from the start spends requests (and
    the account's rate limit) on answers that cannot be "completed" yet. So the schedule is:

    * queued: every ``2 x poll_interval`` (at most 20 s apart);
    * the first ``9 x poll_interval`` (at most 90 s) after rendering was first seen: every
      ``3 x poll_interval`` (at most 30 s apart), landing exactly at the end of that window;
    * afterwards, and for unknown statuses or when nothing was fetched yet: every ``poll_interval``.

    Never more often than ``poll_interval``, never past the deadline (``remaining``).
    """
    interval = max(poll_interval, MIN_POLL_INTERVAL)
    if status is GenerationStatus.QUEUED:
        interval = max(interval, min(QUEUED_FACTOR * poll_interval, QUEUED_CAP))
    elif rendering_for is not None:
        warmup = min(WARMUP_FACTOR * poll_interval, WARMUP_CAP)
        if rendering_for < warmup:
            step = min(WARMUP_STEP_FACTOR * poll_interval, WARMUP_STEP_CAP, warmup - rendering_for)
            interval = max(interval, step)
    return max(0.0, min(interval, remaining))


def delay_after(
    progress: WaitProgress, poll_interval: float, remaining: float, now: float, *, poll_started: float | None = None
) -> float:
    """The adaptive delay for a wait in progress.

    :param poll_started: when the poll just made began. The delay counts from then, so a slow answer
        (a busy API, or a triggerer answering a thousand polls at once) does not stretch the interval:
        polls start ``next_poll_delay`` apart, never closer.
    """
    rendering_for = None if progress.rendering_since is None else now - progress.rendering_since
    delay = next_poll_delay(poll_interval, remaining, status=progress.last_state, rendering_for=rendering_for)
    if poll_started is not None:
        delay -= now - poll_started
    return max(0.0, delay)
