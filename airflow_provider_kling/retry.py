"""The one retry policy, shared by the sync hook, the async hook and the trigger.

Pure decisions, no I/O: how long to wait (exponential backoff with jitter, ``Retry-After``
honoured) and when to give up (attempts, total budget, the caller's deadline). Which HTTP answers
are transient is decided next to the API's error model (:mod:`airflow_provider_kling.models.api_error`).
The I/O loops that use this policy are a few lines each in the hooks and the video download.

Create requests (POST) are special: a second POST is a second paid video, so a failed POST is
retried only when the failure proves no generation was created (``safe_to_resend``): the
connection was never made, or the API said 429/503 before doing anything.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from airflow_provider_kling.exceptions import KlingTransientError


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
        if not error.retry_in_task:
            return RetryDecision(False, reason="trying again at once would give the same answer")
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
