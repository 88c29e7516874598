"""Submit once, then wait: the task-side flow shared by the operator and the TaskFlow decorator.

``submit_once`` validates, reattaches to a generation an earlier try already paid for, or submits
and records the id before anything else can fail. ``wait_or_defer`` returns at once when a
reattached generation is already finished (which also avoids a scheduler race with very fast
triggers), otherwise defers to :class:`KlingGenerationTrigger` or polls in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_kling.exceptions import KlingAPIError
from airflow_provider_kling.ledger import SubmissionLedger, SubmissionRecord, can_reuse, generation_to_reattach
from airflow_provider_kling.models import Generation, build_create_body, redact_url, request_fingerprint
from airflow_provider_kling.operators.kling import (
    GENERATION_ID_XCOM_KEY,
    VIDEO_URL_XCOM_KEY,
    defer_for_generation,
    wait_deadline,
)
from airflow_provider_kling.waiting import describe_usage, result_from_event, result_from_generation

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_kling.hooks.kling import KlingHook


@dataclass(frozen=True)
class Submitted:
    """A generation this task instance owns: freshly submitted, or reattached to."""

    generation_id: str
    body: dict[str, Any]
    generation: Generation | None = None


def submit_once(task: Any, context: Context, params: dict[str, Any], *, allow_unknown_model: bool = False) -> Submitted:
    """Validate ``params`` and make sure exactly one generation exists for this task instance.

    :param task: the running operator; provides ``hook`` and ``log``.
    :param context: the task context (for the ledger and XCom).
    :param params: the request parameters, ``None`` meaning unset.
    :param allow_unknown_model: accept a model this provider version does not list.
    """
    body = build_create_body(params, allow_unknown_model=allow_unknown_model)
    hook: KlingHook = task.hook
    ledger = SubmissionLedger(context)
    fingerprint = request_fingerprint(body)
    submitted = _reattach(task, hook, ledger, fingerprint, body)
    if submitted is None:
        generation_id = hook.submit_body(body)
        # Logged before it is recorded, so it can be recovered from the log whatever happens next.
        task.log.info("Submitted Kling generation %s (model %s)", generation_id, body["model"])
        try:
            ledger.save(SubmissionRecord(generation_id, fingerprint))
        except Exception:
            # Failing here would let a retry submit (and bill) a second video: keep going instead.
            task.log.exception(
                "Could not record generation %s in the %s; a retry could not reattach", generation_id, ledger.backend
            )
        submitted = Submitted(generation_id, body)
    ti = context["ti"]
    ti.xcom_push(key=GENERATION_ID_XCOM_KEY, value=submitted.generation_id)
    reserve_video_link(context)
    return submitted


def reserve_video_link(context: Context) -> None:
    """Store an empty extra link until the video exists (a missing XCom is logged as an error)."""
    context["ti"].xcom_push(key=VIDEO_URL_XCOM_KEY, value="")


def _reattach(
    task: Any, hook: KlingHook, ledger: SubmissionLedger, fingerprint: str, body: dict[str, Any]
) -> Submitted | None:
    known_id = generation_to_reattach(ledger.load(), fingerprint)
    if known_id is None:
        return None
    try:
        generation = hook.get_generation(known_id)
    except KlingAPIError as err:
        if err.status_code != 404:
            raise
        task.log.warning(
            "Generation %s recorded by an earlier try is unknown to the API (404); submitting anew", known_id
        )
        return None
    if not can_reuse(generation.status):
        task.log.warning("Generation %s from an earlier try failed (%s); submitting anew", known_id, generation.error)
        return None
    task.log.info(
        "Reattaching to generation %s submitted by an earlier try (status %r); no new request, no new charge",
        known_id,
        generation.raw_status,
    )
    return Submitted(known_id, body, generation)


def wait_or_defer(task: Any, context: Context, submitted: Submitted, *, method_name: str) -> dict[str, Any]:
    """Return the finished generation, deferring (raises ``TaskDeferred``) while it renders."""
    end_time = wait_deadline(context, task.timeout)
    # A generation reattached to may already be finished; one created a moment ago cannot be, so
    # asking the API again right away would only spend a request.
    result = result_from_generation(submitted.generation) if submitted.generation else None
    if result is None and task.deferrable:
        defer_for_generation(
            task,
            generation_id=submitted.generation_id,
            kling_conn_id=task.kling_conn_id,
            end_time=end_time,
            poll_interval=task.poll_interval,
            method_name=method_name,
        )
    if result is None:
        result = task.hook.wait_for_generation(
            submitted.generation_id, end_time=end_time, poll_interval=task.poll_interval
        )
    return finish(task, context, result)


def finish_from_event(task: Any, context: Context, event: dict[str, Any] | None) -> dict[str, Any]:
    return finish(task, context, result_from_event(event))


def finish(task: Any, context: Context, result: dict[str, Any]) -> dict[str, Any]:
    """Record the finished generation (extra link, log line) and return it."""
    if result.get("video_url"):
        context["ti"].xcom_push(key=VIDEO_URL_XCOM_KEY, value=result["video_url"])
    task.log.info(
        "Generation %s is ready: %s (%s)",
        result.get("id"),
        redact_url(result.get("video_url")),
        describe_usage(result.get("usage") or {}),
    )
    return result
