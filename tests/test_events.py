"""The trigger -> task event contract: every way a wait ends survives the trip as the same kind."""

from __future__ import annotations

import json

import pytest

from airflow_provider_kling.events import (
    event_for_error,
    event_for_result,
    event_for_unexpected,
    result_from_event,
)
from airflow_provider_kling.exceptions import (
    KlingAPIError,
    KlingGenerationFailed,
    KlingPermanentError,
    KlingServerError,
    KlingTransientError,
    KlingValidationError,
    KlingWaitTimeout,
)

RESULT = {"id": "g1", "status": "completed", "video_url": "https://cdn/v.mp4", "usage": {"credits": 10}}


def trip(event: dict) -> dict:
    """What the task receives: the event as the triggerer stores it (JSON)."""
    return json.loads(json.dumps(event))


def test_a_result_comes_back_as_it_left():
    assert result_from_event(trip(event_for_result(RESULT))) == RESULT


@pytest.mark.parametrize(
    ("error", "raised", "message"),
    [
        (
            KlingGenerationFailed("g1", "nsfw", generation={"id": "g1"}),
            KlingGenerationFailed,
            "Kling generation g1 failed: nsfw",
        ),
        (KlingGenerationFailed("g1", "nsfw"), KlingGenerationFailed, "Kling generation g1 failed: nsfw"),
        (KlingWaitTimeout("Gave up after 1m", generation={"id": "g1"}), KlingWaitTimeout, "Gave up after 1m"),
        (KlingAPIError("HTTP 401: bad key", status_code=401), KlingPermanentError, "HTTP 401: bad key"),
        (KlingValidationError(["generation_id must be a non-empty string"]), KlingPermanentError, "non-empty"),
        (KlingServerError("HTTP 503", status_code=503), KlingTransientError, "HTTP 503"),
    ],
)
def test_an_error_comes_back_as_the_same_kind_with_the_same_message(error, raised, message):
    with pytest.raises(raised) as excinfo:
        result_from_event(trip(event_for_error(error)))
    assert str(excinfo.value) == str(error)
    assert message in str(excinfo.value)
    if isinstance(error, KlingGenerationFailed):
        assert excinfo.value.generation_id == "g1"
        assert excinfo.value.api_message == "nsfw"
    if isinstance(error, KlingWaitTimeout):
        assert excinfo.value.generation == {"id": "g1"}


def test_a_transient_error_stays_retryable_and_a_permanent_one_does_not():
    with pytest.raises(KlingTransientError):
        result_from_event(event_for_unexpected(RuntimeError("connection deleted")))
    with pytest.raises(KlingPermanentError) as excinfo:
        result_from_event(event_for_error(KlingAPIError("HTTP 404", status_code=404)))
    assert not isinstance(excinfo.value, KlingTransientError)


@pytest.mark.parametrize("event", [None, {"nostatus": 1}, "success"])
def test_an_event_outside_the_contract_is_a_retryable_error(event):
    with pytest.raises(KlingTransientError, match="Unexpected trigger event"):
        result_from_event(event)
