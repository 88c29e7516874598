"""Submit once: validate, reattach to a generation an earlier try already paid for, or create one.

The id is logged and recorded (:mod:`.ledger`) the moment the create request returns, before
anything else can fail, so no retry or killed worker ever pays for a second video.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_kling.exceptions import KlingAPIError
from airflow_provider_kling.models import CreateRequest, Generation, request_fingerprint
from airflow_provider_kling.tasks.base import GENERATION_ID_XCOM_KEY
from airflow_provider_kling.tasks.ledger import SubmissionLedger, SubmissionRecord, can_reuse, generation_to_reattach

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_kling.tasks.base import KlingTask


@dataclass(frozen=True)
class Submitted:
    """A generation this task instance owns: freshly submitted, or reattached to.

    :param generation_id: the generation's id.
    :param body: the validated create body it was made from (media as the user named them).
    :param generation: its state when reattached to (``None`` right after a fresh create).
    :param endpoint: the path it was created on (``legacy`` or ``unified``).
    :param created_at: epoch seconds of the create request that made it (``None`` when reattached).
    :param usage: what the create answer already reported in ``meta.usage`` (recorded at once).
    """

    generation_id: str
    body: dict[str, Any]
    generation: Generation | None = None
    endpoint: str | None = None
    created_at: float | None = None
    usage: dict[str, float] = field(default_factory=dict)

    @property
    def model(self) -> str | None:
        model = self.body.get("model")
        return model if isinstance(model, str) else None


def submit_once(
    task: KlingTask, context: Context, params: Mapping[str, Any], *, allow_unknown_model: bool = False
) -> Submitted:
    """Validate ``params`` and make sure exactly one generation exists for this task instance.

    :param task: the running task (its hook and log are used).
    :param context: the task context (for the ledger and XCom).
    :param params: the request parameters, ``None`` meaning unset.
    :param allow_unknown_model: accept a model this provider version does not list.
    """
    # Files are read and checked before anything is sent (and before a reattach look-up).
    request, inline = task.hook.prepare_submission(params, allow_unknown_model=allow_unknown_model)
    body = request.body
    ledger = SubmissionLedger(context)
    fingerprint = request_fingerprint(body)
    submitted = _reattach(task, ledger, fingerprint, request)
    if submitted is None:
        created_at = time.time()
        created = task.hook.create_generation(request, inline_media=inline)
        generation_id, usage = created.generation.id, created.generation.usage
        # Logged before it is recorded, so it can be recovered from the log whatever happens next.
        task.log.info(
            "Submitted Kling generation %s (model %s, %s path)%s",
            generation_id,
            request.model,
            created.request.endpoint,
            f"; usage reported at once: {usage_text(usage)}" if usage else "",
        )
        try:
            ledger.save(SubmissionRecord(generation_id, fingerprint))
        except Exception:
            # Failing here would let a retry submit (and bill) a second video: keep going instead.
            task.log.exception(
                "Could not record generation %s in the %s; a retry could not reattach", generation_id, ledger.backend
            )
        submitted = Submitted(
            generation_id, body, endpoint=created.request.endpoint, created_at=created_at, usage=dict(usage)
        )
    context["ti"].xcom_push(key=GENERATION_ID_XCOM_KEY, value=submitted.generation_id)
    task.reserve_video_link(context)
    return submitted


def usage_text(usage: Mapping[str, float]) -> str:
    """``credits_used=3900000, usd_spent=1.95`` for a log line."""
    return ", ".join(f"{key}={value:g}" for key, value in sorted(usage.items()))


def _reattach(task: KlingTask, ledger: SubmissionLedger, fingerprint: str, request: CreateRequest) -> Submitted | None:
    known_id = generation_to_reattach(ledger.load(), fingerprint)
    if known_id is None:
        return None
    try:
        generation = task.hook.get_generation(known_id)
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
    return Submitted(known_id, request.body, generation, endpoint=request.endpoint)
