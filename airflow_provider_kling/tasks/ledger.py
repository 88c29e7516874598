"""Remembering which generation a task instance paid for, so a retry never pays twice.

The API has no cancel and no lookup by anything but the generation id, so the id must be written
down the moment the create request succeeds, somewhere that survives a retry or a killed worker:

* Airflow >= 3.3: the task state store (``context["task_state_store"]``), kept per task instance
  across tries; the same place ``airflow.sdk.ResumableJobMixin`` uses.
* Airflow 3.1/3.2: an Airflow Variable named after the task instance (XComs are cleared at the
  start of each try, so they cannot be used).

A record holds the id and a fingerprint of the request body: a retry reattaches only to a
generation made from the same parameters, so editing the prompt and clearing the task generates anew.
It is written twice: an intent before the create is sent (fingerprint, client request id, send
time; no id yet), then the id the moment the answer names it. An intent without an id tells a
retry that a create may have been sent whose answer never arrived: the API's request log, searched
by the client request id, says whether it made a generation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow.sdk import Variable

from airflow_provider_kling.models import GenerationStatus

STATE_KEY = "kling_generation"
VARIABLE_PREFIX = "kling_submission"


@dataclass(frozen=True)
class SubmissionRecord:
    """What was submitted, or is about to be.

    The generation id (``None`` while only the intent is recorded), the fingerprint of the body,
    and the client request id and time of the create that carried it.
    """

    generation_id: str | None
    fingerprint: str
    client_request_id: str | None = None
    sent_at: float | None = None

    @classmethod
    def from_stored(cls, stored: Any) -> SubmissionRecord | None:
        if isinstance(stored, str):
            try:
                stored = json.loads(stored)
            except ValueError:
                return None
        if not isinstance(stored, Mapping) or not (stored.get("generation_id") or stored.get("client_request_id")):
            return None
        sent_at = stored.get("sent_at")
        return cls(
            str(stored["generation_id"]) if stored.get("generation_id") else None,
            str(stored.get("fingerprint", "")),
            str(stored["client_request_id"]) if stored.get("client_request_id") else None,
            float(sent_at) if isinstance(sent_at, (int, float)) else None,
        )

    def to_stored(self) -> dict[str, Any]:
        stored: dict[str, Any] = {"generation_id": self.generation_id, "fingerprint": self.fingerprint}
        if self.client_request_id:
            stored.update(client_request_id=self.client_request_id, sent_at=self.sent_at)
        return stored


def generation_to_reattach(record: SubmissionRecord | None, fingerprint: str) -> str | None:
    """The stored generation worth checking before submitting, if it was made from this request."""
    if record is None or record.fingerprint != fingerprint:
        return None
    return record.generation_id


def create_to_look_up(record: SubmissionRecord | None, fingerprint: str) -> SubmissionRecord | None:
    """An intent of this request with no id: a create may have been sent whose answer was lost."""
    if record is None or record.fingerprint != fingerprint or record.generation_id or not record.client_request_id:
        return None
    return record


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
        if self._store is not None:
            return SubmissionRecord.from_stored(self._store.get(self._state_key))
        return SubmissionRecord.from_stored(Variable.get(self._variable_key, default=None))

    def save(self, record: SubmissionRecord) -> None:
        if self._store is not None:
            self._store.set(self._state_key, record.to_stored())
            return
        Variable.set(
            self._variable_key,
            json.dumps(record.to_stored()),
            description="Kling generation submitted by this task instance (airflow-provider-kling); safe to delete once the run is done",
        )
