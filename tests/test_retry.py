from __future__ import annotations

import random

import pytest

from airflow_provider_kling.exceptions import (
    KlingAPIError,
    KlingConnectionError,
    KlingDownloadError,
    KlingGenerationFailed,
    KlingResponseError,
    KlingServerError,
    KlingTransientError,
    KlingValidationError,
    KlingVideoContentError,
)
from airflow_provider_kling.models.api_error import error_for_response
from airflow_provider_kling.retry import RetryPolicy, RetryState

# status -> (exception class, retried for GET, retried for the create POST)
STATUS_TABLE = [
    (400, KlingAPIError, False, False),
    (401, KlingAPIError, False, False),
    (403, KlingAPIError, False, False),
    (404, KlingAPIError, False, False),
    (422, KlingAPIError, False, False),
    (429, KlingServerError, True, True),
    (500, KlingServerError, True, False),
    (502, KlingServerError, True, False),
    (503, KlingServerError, True, True),
    (504, KlingServerError, True, False),
]


@pytest.mark.parametrize(("status", "cls", "get_retried", "post_retried"), STATUS_TABLE)
def test_status_classification(status, cls, get_retried, post_retried):
    error = error_for_response(status, '{"message":"x"}')
    assert type(error) is cls
    policy = RetryPolicy(jitter=0)
    assert policy.decide(error, attempt=1, elapsed=0, idempotent=True).retry is get_retried
    assert policy.decide(error, attempt=1, elapsed=0, idempotent=False).retry is post_retried


@pytest.mark.parametrize(
    ("error", "get_retried", "post_retried"),
    [
        (KlingConnectionError("refused", safe_to_resend=True), True, True),
        (KlingConnectionError("reset after send"), True, False),
        (KlingResponseError("not JSON"), True, False),
        (KlingValidationError(["bad"]), False, False),
        (KlingGenerationFailed("g", "nope"), False, False),
        (KlingDownloadError("cut short"), True, False),
        (KlingVideoContentError("an HTML page, not an MP4"), False, False),
        (ValueError("a bug"), False, False),
    ],
)
def test_exception_classification(error, get_retried, post_retried):
    policy = RetryPolicy(jitter=0)
    assert policy.decide(error, attempt=1, elapsed=0, idempotent=True).retry is get_retried
    assert policy.decide(error, attempt=1, elapsed=0, idempotent=False).retry is post_retried


def test_backoff_doubles_up_to_the_cap_without_jitter():
    policy = RetryPolicy(base_delay=1, max_delay=10, jitter=0)
    assert [policy.backoff(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_jitter_stays_within_the_step():
    policy = RetryPolicy(base_delay=4, max_delay=100, jitter=0.5)
    rng = random.Random(1)
    delays = [policy.backoff(2, rng) for _ in range(500)]
    assert min(delays) >= 4
    assert max(delays) <= 8
    assert max(delays) - min(delays) > 3  # actually spread, not constant


def test_retry_after_wins_over_a_shorter_backoff():
    policy = RetryPolicy(base_delay=1, jitter=0)
    decision = policy.decide(KlingTransientError("429", retry_after=9), attempt=1, elapsed=0, idempotent=True)
    assert decision.retry
    assert decision.delay == 9


def test_gives_up_after_max_attempts():
    policy = RetryPolicy(max_attempts=3, jitter=0)
    error = KlingTransientError("x")
    assert policy.decide(error, attempt=2, elapsed=0, idempotent=True).retry
    decision = policy.decide(error, attempt=3, elapsed=0, idempotent=True)
    assert not decision.retry
    assert "3 attempts" in decision.reason


def test_gives_up_when_the_budget_would_be_exceeded():
    policy = RetryPolicy(budget=10, base_delay=4, jitter=0)
    assert policy.decide(KlingTransientError("x"), attempt=1, elapsed=5, idempotent=True).retry
    assert not policy.decide(KlingTransientError("x"), attempt=2, elapsed=5, idempotent=True).retry


def test_never_sleeps_past_the_callers_deadline():
    policy = RetryPolicy(base_delay=4, jitter=0)
    decision = policy.decide(KlingTransientError("x"), attempt=1, elapsed=0, idempotent=True, remaining=3)
    assert not decision.retry
    assert "deadline" in decision.reason


def test_retry_state_counts_attempts():
    state = RetryState(RetryPolicy(max_attempts=2, jitter=0))
    assert state.after_failure(KlingTransientError("x")).retry
    assert not state.after_failure(KlingTransientError("x")).retry
    assert state.attempt == 2
