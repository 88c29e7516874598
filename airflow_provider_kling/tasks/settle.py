"""Creates whose answer was lost, settled through the API's request log before anything else is paid.

A record holding a client request id and no generation id is a create that may have made (and
billed) a generation. It is never dropped, whoever's it is: this try's (a retry after a worker
died), an earlier request's (the task was edited and cleared since), or a storyboard shot's that is
no longer planned. The request log, searched by its client request id and model, says what it did:
a generation (recorded), a failure (nothing was made: void), or nothing it can prove, and then the
task fails saying it may have been billed; nothing is sent on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_kling.exceptions import KlingCreateLimitError, KlingSubmissionUnknownError
from airflow_provider_kling.tasks.ledger import SubmissionLedger, SubmissionRecord, note_slots, used_slots

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


def settle_left_behind(task: KlingTask, context: Mapping[str, Any], planned: Sequence[str], *, model: str) -> None:
    """Before paying in the ``planned`` slots: settle what slots used before and no longer planned left behind.

    A storyboard records each shot's generation in a slot named by what the shot asks; an edited
    or removed shot leaves its slot behind. What such a slot paid for stays recorded there (a shot
    changed back finds it); a create of it whose answer was lost is settled first. A slot that was
    sent a create since the task instance was last cleared and is no longer planned means the shots
    changed between two automatic tries: nothing more is paid (the ceiling of one task instance's
    tries is its shot count). The planned slots are then listed, before anything is paid in them.

    :param task: the running task.
    :param context: the task context (for the ledger).
    :param planned: the slots this try records generations in.
    :param model: the model to search by when a record names none.
    :raises KlingSubmissionUnknownError: when a left-behind create may have been billed and the log cannot tell.
    :raises KlingCreateLimitError: when the shots changed since the last clear and a changed one was paid for.
    :raises KlingLedgerError: when the ledger cannot be read or written (nothing is sent then).
    """
    max_tries = SubmissionLedger(context).max_tries
    for slot, since in used_slots(context).items():
        ledger = SubmissionLedger(context, slot)
        record = None if slot in planned else ledger.load()
        if record is None:
            continue
        if record.pending:
            record = _settle_left(task, ledger, record, slot, model)
        if record.creates > record.voided and max_tries is not None and since == max_tries:
            raise KlingCreateLimitError(_changed_between_tries(slot, ledger))
    note_slots(context, planned)


def _settle_left(
    task: KlingTask, ledger: SubmissionLedger, record: SubmissionRecord, slot: str, model: str
) -> SubmissionRecord:
    sent_for = f"{slot!r}, which this task no longer plans (its shot was edited or removed)"
    task.log.warning("Create %s, sent for %s, has no recorded answer: looking it up", record.client_request_id, slot)
    settled = settle(task, ledger, record, model=model, sent_for=sent_for)
    if settled.generation_id is not None:
        task.log.warning(
            "Create %s made generation %s for %s: it was paid for and stays recorded there",
            record.client_request_id,
            settled.generation_id,
            sent_for,
        )
    ledger.keep(settled)
    return settled


def _changed_between_tries(slot: str, ledger: SubmissionLedger) -> str:
    return (
        f"Not sent: since this task instance was last cleared it sent a create for ledger slot {slot!r}, whose shot "
        "this try no longer plans. The shots changed between two automatic tries (a template that renders "
        "differently on each try, a DAG deployed while the task retried): a retry never pays for shots it did not "
        "start with. Check the shots, then clear the task to render the storyboard as it is now (what was paid "
        f"for stays recorded). To let this retry go on anyway, {ledger.how_to_forget()}."
    )


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
