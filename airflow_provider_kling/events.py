"""The trigger -> task event contract: what a trigger yields, and what the resumed task makes of it.

A wait ends with a result (the finished generation as XCom data) or a Kling error. A trigger turns
that into one JSON event (:func:`event_for_result`, :func:`event_for_error`); the task it resumes
turns the event back into the same result or an error of the same kind (:func:`result_from_event`).
Pure code: no I/O. Waits that never meet a trigger (``deferrable=False``) use the result and the
error directly.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_kling.exceptions import (
    KlingError,
    KlingGenerationFailed,
    KlingPermanentError,
    KlingTransientError,
    KlingWaitTimeout,
)

# Event "status" values sent from the trigger to the task.
EVENT_SUCCESS = "success"
EVENT_FAILED = "failed"  # the API reported status: error
EVENT_ERROR = "error"  # the API could not be asked (permanent, or transient after the retry budget)
EVENT_TIMEOUT = "timeout"


def event_for_result(result: dict[str, Any]) -> dict[str, Any]:
    """The event of a finished generation (``Generation.to_xcom()``)."""
    return {"status": EVENT_SUCCESS, "generation": result}


def event_for_error(error: KlingError) -> dict[str, Any]:
    """The event of a wait that ended in ``error``; :func:`result_from_event` raises its kind again."""
    if isinstance(error, KlingGenerationFailed):
        return {
            "status": EVENT_FAILED,
            "generation": error.generation or {"id": error.generation_id},
            "message": error.api_message,
        }
    if isinstance(error, KlingWaitTimeout):
        return {"status": EVENT_TIMEOUT, "message": str(error), "generation": error.generation}
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


def result_from_event(event: dict[str, Any] | None) -> dict[str, Any]:
    """Turn a trigger event into the finished generation, or raise the matching Kling error."""
    if not isinstance(event, dict) or "status" not in event:
        raise KlingTransientError(f"Unexpected trigger event: {event!r}")
    status = event["status"]
    if status == EVENT_SUCCESS:
        return dict(event["generation"])
    if status == EVENT_FAILED:
        generation = event.get("generation") or {}
        raise KlingGenerationFailed(str(generation.get("id", "?")), str(event.get("message")), generation=generation)
    if status == EVENT_TIMEOUT:
        raise KlingWaitTimeout(str(event.get("message")), generation=event.get("generation"))
    if status == EVENT_ERROR and event.get("retryable"):
        raise KlingTransientError(str(event.get("message")))
    raise KlingPermanentError(str(event.get("message")))
