"""The one retry policy, shared by the sync hook, the async hook and the trigger.

Pure decisions, no I/O: which failures are worth another try, how long to wait (exponential
backoff with jitter, ``Retry-After`` honoured), and when to give up (attempts, total budget,
the caller's deadline). The I/O loops that use it are a few lines each in the hook.

Create requests (POST) are special: a second POST is a second paid video, so a failed POST is
retried only when the failure proves no generation was created (``safe_to_resend``): the
connection was never made, or the API said 429/503 before doing anything.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from airflow_provider_kling.exceptions import (
    KlingAPIError,
    KlingError,
    KlingServerError,
    KlingSubmissionUnknownError,
    KlingTransientError,
)
from airflow_provider_kling.models.api_error import parse_error_body

#: Statuses with which the API (or its gateway) refuses a request before acting on it.
REFUSED_BEFORE_PROCESSING = frozenset({429, 503})

_HINTS: dict[int, str] = {
    400: "the API rejected the request body",
    401: "the API key was refused; check the connection's password",
    403: "the account is out of credits or not allowed to use this model",
    404: "no such generation (or path); check the generation id and the connection's host",
    429: "rate or concurrency limit reached",
}


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Read ``Retry-After`` as seconds (``"7"``) or an HTTP date; ``None`` when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def error_for_response(
    status_code: int,
    body: str,
    *,
    content_type: str | None = None,
    retry_after: str | None = None,
    what: str = "Kling API request",
) -> KlingError:
    """Build the exception that describes a non-2xx answer, permanent or transient by status."""
    parsed = parse_error_body(body, content_type)
    hint = _HINTS.get(status_code)
    request_ref = f" (requestId {parsed.request_id})" if parsed.request_id else ""
    message = f"{what} failed with HTTP {status_code}: {parsed.message}{request_ref}"
    if hint:
        message += f" -- {hint}"
    if status_code == 429 or status_code >= 500:
        return KlingServerError(
            message,
            status_code=status_code,
            request_id=parsed.request_id,
            retry_after=parse_retry_after(retry_after),
            safe_to_resend=status_code in REFUSED_BEFORE_PROCESSING,
        )
    return KlingAPIError(message, status_code=status_code, request_id=parsed.request_id)


def unknown_submission(cause: KlingError) -> KlingSubmissionUnknownError:
    """The error for a POST that failed after it may have created a (billed) generation."""
    return KlingSubmissionUnknownError(
        "The create request failed after it was sent, so a generation may have been created and billed "
        f"({cause}). It is not retried automatically because a second request would pay for a second video. "
        "Check the generations in your AI/ML API dashboard; to generate anyway, clear this task."
    )


@dataclass(frozen=True)
class RetryDecision:
    """What to do after a failure: wait ``delay`` seconds and try again, or give up."""

    retry: bool
    delay: float = 0.0
    reason: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up on one API call.

    :param max_attempts: attempts in total, the first one included.
    :param base_delay: the first backoff step in seconds; each step doubles it.
    :param max_delay: the longest backoff step (a larger ``Retry-After`` is still honoured).
    :param budget: seconds from the first attempt after which no new attempt starts.
    :param jitter: the share of each step that is randomised (0 = none, 1 = full jitter).
    """

    max_attempts: int = 8
    base_delay: float = 1.0
    max_delay: float = 30.0
    budget: float = 300.0
    jitter: float = 0.5

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait after failed attempt number ``attempt`` (1-based), before jitter bounds."""
        step = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        spread = step * self.jitter
        return step - spread + (rng or random).uniform(0, spread)

    def decide(
        self,
        error: BaseException,
        *,
        attempt: int,
        elapsed: float,
        idempotent: bool,
        remaining: float | None = None,
        rng: random.Random | None = None,
    ) -> RetryDecision:
        """Decide whether failed attempt number ``attempt`` deserves another try.

        :param error: what the attempt raised.
        :param attempt: how many attempts have been made (1 after the first failure).
        :param elapsed: seconds since the first attempt started.
        :param idempotent: False for the create POST: then only ``safe_to_resend`` errors retry.
        :param remaining: seconds left before the caller's own deadline, if it has one.
        """
        if not isinstance(error, KlingTransientError):
            return RetryDecision(False, reason="not a transient error")
        if not idempotent and not error.safe_to_resend:
            return RetryDecision(False, reason="the request may have been processed; resending could duplicate it")
        if attempt >= self.max_attempts:
            return RetryDecision(False, reason=f"gave up after {attempt} attempts")
        delay = self.backoff(attempt, rng)
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        if elapsed + delay > self.budget:
            return RetryDecision(False, reason=f"retry budget of {self.budget:g}s spent")
        if remaining is not None and delay >= remaining:
            return RetryDecision(False, reason="the deadline comes before the next attempt")
        return RetryDecision(True, delay=delay, reason=f"attempt {attempt} failed, retrying in {delay:.1f}s")


@dataclass
class RetryState:
    """Tracks one call's attempts against a policy; the sync and async loops both drive it.

    :param policy: the policy to apply.
    :param idempotent: whether the call may be repeated freely (GET) or not (create POST).
    :param deadline: an absolute ``time.monotonic()`` instant no wait may pass.
    """

    policy: RetryPolicy
    idempotent: bool = True
    deadline: float | None = None
    attempt: int = 0
    started: float = field(default_factory=time.monotonic)

    def after_failure(self, error: BaseException) -> RetryDecision:
        """Record a failed attempt and say whether (and after how long) to try again."""
        self.attempt += 1
        now = time.monotonic()
        remaining = None if self.deadline is None else self.deadline - now
        return self.policy.decide(
            error,
            attempt=self.attempt,
            elapsed=now - self.started,
            idempotent=self.idempotent,
            remaining=remaining,
        )


#: The default for API calls: about five minutes of patience for a flaky API.
DEFAULT_RETRY_POLICY = RetryPolicy()
