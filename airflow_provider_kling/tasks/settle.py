"""Creates whose answer was lost, settled through the API's request log before anything else is paid.

A record holding a client request id and no generation id is a create that may have made (and
billed) a generation. It is never dropped, whoever's it is: this try's (a retry after a worker
died) or an earlier request's (the task was edited and cleared since). The request log, searched by its client request id and model, says what it did:
a generation (recorded), a failure (nothing was made: void), or nothing it can prove, and then the
task fails saying it may have been billed; nothing is sent on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_kling.exceptions import KlingSubmissionUnknownError
from airflow_provider_kling.tasks.ledger import SubmissionLedger, SubmissionRecord

if TYPE_CHECKING:
    from airflow_provider_kling.tasks.base import KlingTask


def settle(
    task: KlingTask, ledger: SubmissionLedger, record: SubmissionRecord, *, model: str, sent_for: str | None = None
) -> SubmissionRecord:
    """``record`` with its pending create settled: the generation the request log shows it made, or void.

    :param task: the running task (its hook and log are used).
    :param ledger: where the record is kept (named in the failure).
    :param record: a record whose latest create is pending.
    :param model: the model to search by when the record names none (a record of an earlier build).
    :param sent_for: what the create was sent for, when not for this try's request.
    :raises KlingSubmissionUnknownError: when the log cannot prove what it did (it may have been billed).
    """
    client_id, model = str(record.client_request_id), record.model or model
    found = task.hook.find_create(client_id, model=model, sent_at=record.sent_at)
    if found.failed:
        task.log.info("The request log shows %s failed: nothing was created by it", client_id)
        return record.void()
    if not found.succeeded:
        raise KlingSubmissionUnknownError(unproven(model, client_id, found.reason, ledger, sent_for=sent_for))
    return record.made(str(found.inference_id))


def unproven(model: str, client_id: str, reason: str, ledger: SubmissionLedger, *, sent_for: str | None = None) -> str:
    """Why a create whose answer was lost stops the task, and what a person does about it."""
    if sent_for is None:
        sent, held = "", "It is not sent again on its own: a second create would pay for a second video."
        found = "the retry reattaches to it"
    else:
        sent, held = f" (sent for {sent_for})", "Nothing is sent until it is accounted for."
        found = "the retry records it as paid and goes on"
    return (
        f"The create of {model} with client request id {client_id}{sent} may have been billed: its answer "
        f"never arrived and the API's request log cannot prove what it did ({reason}). {held} Check the API's "
        f"request log (GET /v2/logs, client_request_id {client_id}, model {model}) or your billing (the "
        f"dashboard, GET /v2/billing/transactions). If it made a generation, clear this task once the log shows "
        f"it: {found}. Once sure nothing was made, let the task send again: {ledger.how_to_forget()}, then "
        "clear the task."
    )
