"""Remembering which generation a task instance paid for, so a retry never pays twice.

The API has no cancel and no lookup by anything but the generation id, so the id must be written
down the moment the create request succeeds, somewhere that survives a retry or a killed worker:

* Airflow >= 3.3: the task state store (``context["task_state_store"]``), kept per task instance
  across tries; the same place ``airflow.sdk.ResumableJobMixin`` uses.
* Airflow 3.1/3.2: an Airflow Variable named after the task instance (XComs are cleared at the
  start of each try, so they cannot be used).

A record holds the id and a fingerprint of the request body (files by content): a retry reattaches
only to a generation made from the same request, so editing the prompt (or a photo) and clearing
the task generates anew. It is written twice: an intent before the create is sent (fingerprint,
client request id, send time; no id yet), then the id the moment the answer names it. An intent
without an id tells a retry that a create may have been sent whose answer never arrived: the API's
request log, searched by the client request id, says whether it made a generation.

No create is sent unless its intent was written and reads back: a store that cannot keep it fails
the task before paying. The record also counts the creates sent for its fingerprint and those
proven to have made nothing billable, the ceiling of :mod:`airflow_provider_kling.tasks.submit`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from airflow.sdk import Variable

from airflow_provider_kling.exceptions import KlingLedgerError
from airflow_provider_kling.models import GenerationStatus

STATE_KEY = "kling_generation"
VARIABLE_PREFIX = "kling_submission"
#: The cause of a failing ``Variable.set`` we know of (DESIGN.md; apache-airflow 3.1.x, all releases).
VARIABLE_FAILURE_HINT = (
    " (a known cause on Airflow 3.1: with cryptography >= 51 every Variable.set fails, because Airflow 3.1's "
    "airflow/models/crypto.py sets an attribute on cryptography's MultiFernet, which refuses it since 51, and the "
    "execution API answers 500: install cryptography<51, or install with Airflow's constraints file for your release)"
)


@dataclass(frozen=True)
class SubmissionRecord:
    """What was submitted, or is about to be.

    :param generation_id: the generation made (``None`` while only the intent is recorded).
    :param fingerprint: the fingerprint of the request (media by content).
    :param client_request_id: the id the latest create carried, ``None`` when none may be pending.
    :param sent_at: epoch seconds that create was sent.
    :param creates: creates sent (or about to be) for this fingerprint by this task instance.
    :param voided: of those, how many the ledger proves made nothing billable.
    """

    generation_id: str | None
    fingerprint: str
    client_request_id: str | None = None
    sent_at: float | None = None
    creates: int = 0
    voided: int = 0

    @classmethod
    def from_stored(cls, stored: Any) -> SubmissionRecord | None:
        """The record from what the store holds; ``None`` for nothing usable.

        Counts that are missing (a record of an earlier 0.1.0 build) or not whole numbers read as
        the fewest the record shows: one create when it names a generation or a client request
        id, none voided; so an odd record can only lower the ceiling, never raise it.
        """
        if isinstance(stored, str):
            try:
                stored = json.loads(stored)
            except ValueError:
                return None
        if not isinstance(stored, Mapping):
            return None
        generation_id, client_id = _text(stored.get("generation_id")), _text(stored.get("client_request_id"))
        shown = 1 if generation_id or client_id else 0
        creates = max(_count(stored.get("creates")) or 0, shown)
        voided = min(_count(stored.get("voided")) or 0, creates)
        if not (shown or creates):
            return None
        sent_at = stored.get("sent_at")
        return cls(
            generation_id,
            str(stored.get("fingerprint", "")),
            client_id,
            float(sent_at) if isinstance(sent_at, (int, float)) and not isinstance(sent_at, bool) else None,
            creates,
            voided,
        )

    def to_stored(self) -> dict[str, Any]:
        stored: dict[str, Any] = {"generation_id": self.generation_id, "fingerprint": self.fingerprint}
        if self.client_request_id:
            stored.update(client_request_id=self.client_request_id, sent_at=self.sent_at)
        stored.update(creates=self.creates, voided=self.voided)
        return stored

    @property
    def creates_allowed(self) -> int:
        """One create per generation, plus one for each the ledger proves made nothing billable."""
        return 1 + self.voided

    def intent(self, client_request_id: str, sent_at: float) -> SubmissionRecord:
        """The record with one more create about to be sent with ``client_request_id``."""
        return replace(
            self, generation_id=None, client_request_id=client_request_id, sent_at=sent_at, creates=self.creates + 1
        )

    def void(self) -> SubmissionRecord:
        """The record once its latest create is proven to have made nothing billable."""
        return replace(self, generation_id=None, client_request_id=None, sent_at=None, voided=self.voided + 1)

    def made(self, generation_id: str) -> SubmissionRecord:
        return replace(self, generation_id=generation_id)


def record_for(stored: SubmissionRecord | None, fingerprint: str) -> SubmissionRecord:
    """The record of this request: the stored one when it was made from it, else a fresh one.

    A new fingerprint (the request was edited and the task cleared) starts a new count.
    """
    if stored is None or stored.fingerprint != fingerprint:
        return SubmissionRecord(None, fingerprint)
    return stored


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) else None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def can_reuse(status: GenerationStatus) -> bool:
    """Reattach to a running or completed generation; a failed one is submitted anew.

    A failed generation fails its task without Airflow retries, so reaching this with one means a
    person cleared the task to try again.
    """
    return status is not GenerationStatus.ERROR


class SubmissionLedger:
    """Reads and writes the :class:`SubmissionRecord` of the running task instance.

    :param context: the task's Airflow context.
    :param slot: for a task that pays for several generations (a storyboard's shots), which one.
    """

    def __init__(self, context: Mapping[str, Any], slot: str | None = None) -> None:
        self._store = context.get("task_state_store")
        ti = context.get("ti")
        parts = [getattr(ti, attr, None) for attr in ("dag_id", "run_id", "task_id", "map_index")]
        if slot is not None:
            parts.append(slot)
        #: What names the generation's place: the task instance (dag id, run id, task id, map index), and slot.
        self.identity = tuple(parts)
        self._state_key = STATE_KEY if slot is None else f"{STATE_KEY}:{slot}"
        self._variable_key = ":".join([VARIABLE_PREFIX, *(str(p) for p in parts)])
        self.backend = "task state store" if self._store is not None else f"Variable {self._variable_key!r}"

    def load(self) -> SubmissionRecord | None:
        """The stored record, ``None`` when there is none.

        :raises KlingLedgerError: when the store cannot be read: what was paid for is then unknown.
        """
        try:
            stored = (
                self._store.get(self._state_key)
                if self._store is not None
                else Variable.get(self._variable_key, default=None)
            )
        except Exception as err:
            raise KlingLedgerError(self._unusable("read from", f"{type(err).__name__}: {err}")) from err
        return SubmissionRecord.from_stored(stored)

    def keep(self, record: SubmissionRecord) -> None:
        """Write ``record`` and read it back, or raise: nothing may be sent on a record that is not kept.

        The read-back also catches a store that accepts writes it does not keep (a Variable of the
        same name in a secrets backend shadows the one written, for one).

        :raises KlingLedgerError: naming the store and the cause (permanent: a retry would meet it again).
        """
        try:
            self.save(record)
        except Exception as err:
            raise KlingLedgerError(self._unusable("kept in", f"{type(err).__name__}: {err}")) from err
        stored = self.load()
        if stored != record:
            raise KlingLedgerError(self._unusable("kept in", f"it was written but reads back as {stored}"))

    def _unusable(self, how: str, cause: str) -> str:
        return (
            f"Nothing was sent: the record of this create could not be {how} the {self.backend} ({cause}). "
            f"A create is sent only once its record is kept, so that no retry can pay for it twice. "
            f"Fix the {self.backend}{VARIABLE_FAILURE_HINT if self._store is None else ''}, then clear the task."
        )

    def how_to_forget(self) -> str:
        """How a person deletes this record, so that the task may send a create again."""
        if self._store is None:
            return f"delete the Variable {self._variable_key!r} (airflow variables delete '{self._variable_key}')"
        dag_id, run_id, task_id, map_index = self.identity[:4]
        return (
            f"delete the key {self._state_key!r} of this task instance's state store (dag {dag_id!r}, run "
            f"{run_id!r}, task {task_id!r}, map index {map_index}) with the REST API: DELETE /api/v2/dags/"
            "{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/state-store/{key}?map_index={map_index}"
        )

    def save(self, record: SubmissionRecord) -> None:
        if self._store is not None:
            self._store.set(self._state_key, record.to_stored())
            return
        Variable.set(
            self._variable_key,
            json.dumps(record.to_stored()),
            description="Kling generation submitted by this task instance (airflow-provider-kling); safe to delete once the run is done",
        )
