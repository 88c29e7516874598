"""Submit once: validate, reattach to a generation an earlier try already paid for, or create one.

* No create is sent unless its intent (fingerprint, client request id, send time, counts) was
  recorded in the ledger (:mod:`.ledger`) and reads back; a store that cannot keep it fails the
  task before paying. The id is logged, then recorded, the moment the create's answer names it.
* A hard ceiling per generation the task needs (a ledger slot: a storyboard has one per shot):
  one create, plus one for each the ledger proves made nothing billable: the API refused it
  before anything was made (a 4xx, or a 429/503/unopened connection after the retry budget), the
  request log shows it failed, or the generation it made ended in ``status: error`` (a failed
  generation is not charged, and a person cleared the task to try again). A recorded id the API
  answers 404 for does not count: the API named that id when the generation was made, so it may
  have been billed (a fetch path that does not know it would otherwise pay once per clear); the
  task fails and says how to let it create anew. A new request after a clear (edited) starts a
  new count; an automatic retry carries on with its task instance's record, whatever it now asks.
* Before the create, the request is priced from the API's catalogue and refused above ``max_usd``.
* Every create carries an ``X-Client-Request-Id`` of its own. When the answer is lost (a gateway
  5xx, a reset, a timeout after sending) or a worker died before it was recorded, the API's
  request log says what the create did: a generation (reattach to it), a failure (nothing was
  made: sent once more, under a new id), or nothing it can prove (fail, saying it may have been
  billed; never sent again on its own).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_kling.exceptions import (
    KlingAPIError,
    KlingConfigurationError,
    KlingCreateLimitError,
    KlingSubmissionUnknownError,
    KlingTransientError,
    KlingValidationError,
)
from airflow_provider_kling.models import CreateRequest, Generation
from airflow_provider_kling.models.pricing import over_budget, parse_cap, usd
from airflow_provider_kling.models.request_ids import client_request_id, content_fingerprint
from airflow_provider_kling.models.request_log import LoggedCreate
from airflow_provider_kling.task_outputs import GENERATION_FACTS_XCOM_KEY, GENERATION_ID_XCOM_KEY, describe_usage
from airflow_provider_kling.tasks.ledger import SubmissionLedger, SubmissionRecord, can_reuse, record_for
from airflow_provider_kling.tasks.settle import settle, unproven
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
    before_create: Callable[[], None] | None = None,
) -> Submitted:
    """Validate ``params`` and make sure exactly one generation exists for this task instance.

    :param task: the running task (its hook and log are used).
    :param context: the task context (for the ledger and XCom).
    :param params: the request parameters, ``None`` meaning unset.
    :param allow_unknown_model: accept a model this provider version does not list.
    :param max_usd: refuse (before any create) a request quoted above this many dollars, or unquotable.
    :param ledger_slot: which of the task instance's generations this is, when it pays for several.
    :param before_create: a last check when a new generation is about to be paid for (none when
        the task reattaches to one): raise to refuse.
    """
    cap = parse_cap(max_usd)
    # Files are read and checked before anything is sent (and before a reattach look-up).
    request, inline = task.hook._prepare_submission(params, allow_unknown_model=allow_unknown_model)
    ledger = SubmissionLedger(context, ledger_slot)
    fingerprint = content_fingerprint(request.body, inline)
    record = _record_for(task, ledger, request, fingerprint)
    submitted, record = _recover(task, ledger, record, request, fingerprint)
    if submitted is None:
        if before_create is not None:
            before_create()
        _check_price(task, request, cap)
        submitted = _create(task, ledger, request, inline, record, fingerprint)
    context["ti"].xcom_push(key=GENERATION_ID_XCOM_KEY, value=submitted.generation_id)
    task.record_video(context, generation_ids=[submitted.generation_id], model=submitted.model)
    context["ti"].xcom_push(
        key=GENERATION_FACTS_XCOM_KEY, value={"model": submitted.model, "submitted_at": submitted.created_at}
    )
    task.reserve_video_link(context)
    return submitted


def _check_price(task: KlingTask, request: CreateRequest, cap: float | None) -> None:
    """Log the price before paying; refuse it above ``cap`` (or without a price under one)."""
    quote = task.hook._quote(request)
    task.log.info("Price before paying: %s", quote.describe())
    refused = over_budget(quote, cap) if cap is not None else None
    if refused:
        raise KlingValidationError([refused])


def _record_for(
    task: KlingTask, ledger: SubmissionLedger, request: CreateRequest, fingerprint: str
) -> SubmissionRecord:
    """The record of this try: the stored one when it serves the try, else a new request's keeping what it paid for.

    A create of the earlier request whose answer was lost is settled through the request log first.
    The record is stamped with the task instance's ``max_tries`` and written back when that changed,
    so that the automatic retries after a clear carry on with it too.
    """
    stored = ledger.load()
    if stored is None or stored.serves(fingerprint, ledger.max_tries):
        record = record_for(stored, fingerprint, ledger.max_tries)
    else:
        record = _superseded(task, ledger, stored, request, fingerprint)
    if stored is not None and record != stored:
        _save(task, ledger, record)
    return record


def _superseded(
    task: KlingTask, ledger: SubmissionLedger, stored: SubmissionRecord, request: CreateRequest, fingerprint: str
) -> SubmissionRecord:
    """The record of a changed request (edited, then cleared), once what the stored one paid for is settled and kept."""
    if stored.pending:
        task.log.warning(
            "The request changed (edited, then the task cleared) after create %s was sent for it, whose answer "
            "was never recorded: looking it up before paying for the new request",
            stored.client_request_id,
        )
        stored = settle(task, ledger, stored, model=request.model, sent_for="this task's request before it changed")
    record = record_for(stored, fingerprint, ledger.max_tries)
    if stored.generation_id is not None:
        task.log.info(
            "Generation %s, made for this task's request before it changed (edited, then the task cleared), stays "
            "recorded: it was paid for. %s",
            stored.generation_id,
            "This request was made before too: reattaching to its generation"
            if record.generation_id
            else "Submitting the changed request anew",
        )
    return record


def _recover(
    task: KlingTask, ledger: SubmissionLedger, record: SubmissionRecord, request: CreateRequest, fingerprint: str
) -> tuple[Submitted | None, SubmissionRecord]:
    """What an earlier try of this request left: a generation to reattach to, or the record to create from."""
    if record.pending:
        task.log.info(
            "An earlier try sent create %s without recording its answer: looking it up", record.client_request_id
        )
        record = settle(task, ledger, record, model=request.model)
        if record.generation_id is None:
            return None, record
        task.log.info("Generation %s was made by the earlier try's create: reattaching", record.generation_id)
        _save(task, ledger, record)
    if record.generation_id is None:
        return None, record
    generation = _recorded_generation(task, ledger, record.generation_id, request)
    if not can_reuse(generation.status):
        task.log.warning(
            "Generation %s from an earlier try failed (%s); submitting anew", record.generation_id, generation.error
        )
        return None, record.void()
    if record.fingerprint != fingerprint:
        task.log.warning(
            "This try asks for another request than the one generation %s was made from, with no clear since "
            "(an automatic retry: the parameters, a template or the function's return changed): carrying on with "
            "it, no new charge. To generate for the new request, clear the task.",
            record.generation_id,
        )
    task.log.info(
        "Reattaching to generation %s recorded before (status %r); no new request, no new charge",
        record.generation_id,
        generation.raw_status,
    )
    return Submitted(record.generation_id, request.body, generation, endpoint=request.endpoint), record


def _recorded_generation(
    task: KlingTask, ledger: SubmissionLedger, generation_id: str, request: CreateRequest
) -> Generation:
    try:
        return task.hook.get_generation(generation_id)
    except KlingAPIError as err:
        if err.status_code != 404:
            raise
        raise KlingSubmissionUnknownError(
            f"Generation {generation_id} of {request.model}, recorded by an earlier try, is unknown to the API "
            f"({err}). The API named that id when it made the generation, so it may have been billed: no new "
            "create is sent on its own. If the connection now points at another host or key, point it back and "
            f"clear the task. To pay for a new video anyway, {ledger.how_to_forget()}, then clear the task."
        ) from err


def _create(
    task: KlingTask,
    ledger: SubmissionLedger,
    request: CreateRequest,
    inline: Mapping[str, Any],
    record: SubmissionRecord,
    fingerprint: str,
) -> Submitted:
    for _ in range(2):  # a create the request log shows failed is sent once more in this try, no more
        if record.creates >= record.creates_allowed:
            raise KlingCreateLimitError(_over_ceiling(request, record, ledger))
        client_id = client_request_id(ledger.identity, secrets.token_hex(12))
        sent_at = time.time()
        record = record.intent(client_id, sent_at, fingerprint=fingerprint, model=request.model)
        ledger.keep(record)  # raises, before anything is sent, when the ledger cannot keep it
        try:
            created = task.hook._create_generation(request, inline_media=inline, client_request_id=client_id)
        except (KlingAPIError, KlingConfigurationError, KlingTransientError) as err:
            if not isinstance(err, KlingTransientError) or err.safe_to_resend:
                _save(task, ledger, record.void())  # refused before anything was made: nothing to look up
            raise
        except KlingSubmissionUnknownError as err:
            found = _look_up(task, ledger, request, client_id, sent_at, err)
            if found.failed:
                task.log.warning(
                    "The request log shows %s failed: nothing was created; sending it once more", client_id
                )
                record = record.void()
                continue
            generation_id, endpoint = str(found.inference_id), None
            usage = {"usd_spent": found.usd} if found.usd is not None else {}
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
            f"; cost reported at once: {describe_usage(usage)}" if usage else "",
        )
        _save(task, ledger, record.made(generation_id), paid=True)
        return Submitted(generation_id, request.body, endpoint=endpoint, created_at=sent_at, usage=dict(usage))
    _save(task, ledger, record)
    raise KlingSubmissionUnknownError(f"{request.model}: the create failed twice in the request log; not sent again")


def _look_up(
    task: KlingTask,
    ledger: SubmissionLedger,
    request: CreateRequest,
    client_id: str,
    sent_at: float,
    cause: KlingSubmissionUnknownError,
) -> LoggedCreate:
    task.log.warning("%s; looking for client request id %s in the API's request log", cause, client_id)
    found = task.hook.find_create(client_id, model=request.model, sent_at=sent_at, sends=cause.sends)
    if found.succeeded:
        task.log.info(
            "The request log shows %s made generation %s (%s): reattaching, no second create",
            client_id,
            found.inference_id,
            usd(found.usd) if found.usd is not None else "cost unknown",
        )
    elif not found.failed:
        raise KlingSubmissionUnknownError(unproven(request.model, client_id, found.reason, ledger)) from cause
    return found


def _over_ceiling(request: CreateRequest, record: SubmissionRecord, ledger: SubmissionLedger) -> str:
    return (
        f"{request.model}: not sent. This task instance already sent {record.creates} create(s) of this request "
        f"and its ledger proves only {record.voided} made nothing billable; another would exceed its ceiling "
        f"of {record.creates_allowed}. Check the API's request log and your billing; to pay for a new video "
        f"anyway, {ledger.how_to_forget()}, then clear the task."
    )


def _save(task: KlingTask, ledger: SubmissionLedger, record: SubmissionRecord, *, paid: bool = False) -> None:
    """Record what happened after a create was sent; a failure is logged, not raised.

    The intent is already kept, so a lost write costs no second payment: a retry finds the intent
    and asks the request log. Failing here instead would give up a video just paid for.
    """
    try:
        ledger.save(record)
    except Exception:
        task.log.exception(
            "Could not record %s in the %s%s",
            record,
            ledger.backend,
            "; going on with the generation: a retry finds it in the request log by its client request id"
            if paid
            else "",
        )
