"""Submit once: validate, reattach to a generation an earlier try already paid for, or create one.

* The id is logged and recorded (:mod:`.ledger`) the moment the create request returns, before
  anything else can fail, so no retry or killed worker ever pays for a second video.
* Before the create, the request is priced from the API's catalogue and refused above ``max_usd``.
* Every create carries an ``X-Client-Request-Id``, recorded first as the ledger's intent. When the
  answer is lost (a gateway 5xx, a reset, a timeout after sending) or a worker died before it was
  recorded, the API's request log says what the create did: a generation (reattach to it), a
  failure (nothing was created: send once more), or nothing within the wait (fail, naming the id).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_kling.exceptions import (
    KlingAPIError,
    KlingSubmissionUnknownError,
    KlingTransientError,
    KlingValidationError,
)
from airflow_provider_kling.models import CreateRequest, Generation, request_fingerprint
from airflow_provider_kling.models.pricing import over_budget, parse_cap, usd
from airflow_provider_kling.models.request_ids import client_request_id
from airflow_provider_kling.task_outputs import GENERATION_FACTS_XCOM_KEY, GENERATION_ID_XCOM_KEY
from airflow_provider_kling.tasks.ledger import (
    SubmissionLedger,
    SubmissionRecord,
    can_reuse,
    create_to_look_up,
    generation_to_reattach,
)
from airflow_provider_kling.waiting import WaitTarget

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
    :param usage: what the create answer already reported (``meta.usage`` or its cost headers).
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

    @property
    def target(self) -> WaitTarget:
        """What a wait for it starts from: the id, the model and when this task sent it."""
        return WaitTarget(self.generation_id, self.model, self.created_at)


def submit_once(
    task: KlingTask,
    context: Context,
    params: Mapping[str, Any],
    *,
    allow_unknown_model: bool = False,
    max_usd: Any = None,
    ledger_slot: str | None = None,
) -> Submitted:
    """Validate ``params`` and make sure exactly one generation exists for this task instance.

    :param task: the running task (its hook and log are used).
    :param context: the task context (for the ledger and XCom).
    :param params: the request parameters, ``None`` meaning unset.
    :param allow_unknown_model: accept a model this provider version does not list.
    :param max_usd: refuse (before any create) a request quoted above this many dollars, or unquotable.
    :param ledger_slot: which of the task instance's generations this is, when it pays for several.
    """
    cap = parse_cap(max_usd)
    # Files are read and checked before anything is sent (and before a reattach look-up).
    request, inline = task.hook.prepare_submission(params, allow_unknown_model=allow_unknown_model)
    ledger = SubmissionLedger(context, ledger_slot)
    fingerprint = request_fingerprint(request.body)
    record = ledger.load()
    submitted = _reattach(task, generation_to_reattach(record, fingerprint), request) or _found_in_log(
        task, create_to_look_up(record, fingerprint), request
    )
    if submitted is None:
        _check_price(task, request, cap)
        submitted = _create(task, ledger, request, inline, fingerprint)
    context["ti"].xcom_push(key=GENERATION_ID_XCOM_KEY, value=submitted.generation_id)
    context["ti"].xcom_push(
        key=GENERATION_FACTS_XCOM_KEY, value={"model": submitted.model, "submitted_at": submitted.created_at}
    )
    task.reserve_video_link(context)
    return submitted


def _check_price(task: KlingTask, request: CreateRequest, cap: float | None) -> None:
    """Log the price before paying; refuse it above ``cap`` (or without a price under one)."""
    quote = task.hook.quote(request)
    task.log.info("Price before paying: %s", quote.describe())
    refused = over_budget(quote, cap) if cap is not None else None
    if refused:
        raise KlingValidationError([refused])


def _create(
    task: KlingTask, ledger: SubmissionLedger, request: CreateRequest, inline: Mapping[str, Any], fingerprint: str
) -> Submitted:
    for attempt in (0, 1):
        client_id = client_request_id(ledger.identity, fingerprint, attempt=attempt)
        sent_at = time.time()
        _save(task, ledger, SubmissionRecord(None, fingerprint, client_id, sent_at))
        try:
            created = task.hook.create_generation(request, inline_media=inline, client_request_id=client_id)
        except (KlingAPIError, KlingTransientError) as err:
            if isinstance(err, KlingAPIError) or err.safe_to_resend:
                # Provably nothing was created: leave no intent for a retry to look up.
                _save(task, ledger, SubmissionRecord(None, fingerprint))
            raise
        except KlingSubmissionUnknownError as err:
            found = _look_up(task, client_id, sent_at, err)
            if not found.succeeded:
                task.log.warning(
                    "The request log shows %s failed: nothing was created; sending it once more", client_id
                )
                continue
            generation_id, endpoint, usage = found.inference_id, None, {"usd_spent": found.usd}
        else:
            generation_id, endpoint = created.generation.id, created.request.endpoint
            usage = created.generation.usage
        # Logged before it is recorded, so it can be recovered from the log whatever happens next.
        task.log.info(
            "Submitted Kling generation %s (model %s, %s path, client request id %s)%s",
            generation_id,
            request.model,
            endpoint or "found in the request log",
            client_id,
            f"; cost reported at once: {usage_text(usage)}" if usage else "",
        )
        _save(task, ledger, SubmissionRecord(generation_id, fingerprint, client_id, sent_at))
        return Submitted(generation_id, request.body, endpoint=endpoint, created_at=sent_at, usage=dict(usage))
    raise KlingSubmissionUnknownError(f"{request.model}: the create failed twice in the request log; not sent again")


def _look_up(task: KlingTask, client_id: str, sent_at: float, cause: KlingSubmissionUnknownError) -> Any:
    task.log.warning("%s; looking for client request id %s in the API's request log", cause, client_id)
    found = task.hook.find_create(client_id, sent_at=sent_at)
    if found is None:
        raise KlingSubmissionUnknownError(
            f"{cause} The API's request log shows no row for client request id {client_id} yet: quote it to "
            "the API's support, or clear this task once the log shows it (a retry looks it up again)."
        ) from cause
    if found.succeeded:
        task.log.info(
            "The request log shows %s made generation %s (%s): reattaching, no second create",
            client_id,
            found.inference_id,
            usd(found.usd),
        )
    return found


def _found_in_log(task: KlingTask, record: SubmissionRecord | None, request: CreateRequest) -> Submitted | None:
    """An earlier try sent a create and died before recording its id: the request log says what it made.

    Spec decision: no row within ``request_log_wait`` means the create never reached the API (the
    earlier try died before sending it): a retry comes at least a retry delay plus that wait after
    the send, longer than the log takes to show a row, so it creates anew rather than block forever.
    """
    if record is None or record.client_request_id is None:
        return None
    task.log.info("An earlier try sent create %s without recording its answer: looking it up", record.client_request_id)
    found = task.hook.find_create(record.client_request_id, sent_at=record.sent_at or time.time())
    if found is None or not found.succeeded:
        task.log.info("The request log shows no generation made by %s: creating one", record.client_request_id)
        return None
    task.log.info("Generation %s was made by the earlier try's create: reattaching", found.inference_id)
    return _reattach(task, found.inference_id, request)


def _save(task: KlingTask, ledger: SubmissionLedger, record: SubmissionRecord) -> None:
    try:
        ledger.save(record)
    except Exception:
        # Failing here would let a retry submit (and bill) a second video: keep going instead.
        task.log.exception("Could not record %s in the %s", record, ledger.backend)


def usage_text(usage: Mapping[str, float]) -> str:
    """``credits_used=3900000, usd_spent=1.95`` for a log line."""
    return ", ".join(f"{key}={value:g}" for key, value in sorted(usage.items()))


def _reattach(task: KlingTask, known_id: str | None, request: CreateRequest) -> Submitted | None:
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
        "Reattaching to generation %s recorded before (status %r); no new request, no new charge",
        known_id,
        generation.raw_status,
    )
    return Submitted(known_id, request.body, generation, endpoint=request.endpoint)
