"""Remembering which generation a task instance paid for, so a retry never pays twice.

The API has no cancel and no lookup by anything but the generation id, so the id must be written
down the moment the create request succeeds, somewhere that survives a retry or a killed worker:

* Airflow >= 3.3: the task state store (``context["task_state_store"]``), kept per task instance
  across tries; the same place ``airflow.sdk.ResumableJobMixin`` uses.
* Airflow 3.1/3.2: an Airflow Variable named after the task instance (XComs are cleared at the
  start of each try, so they cannot be used).

A record (:mod:`airflow_provider_kling.models.submission`) holds the id, a fingerprint of the
request (files by content) and the task instance's ``max_tries``, which a clear raises: an automatic
retry carries on with its record whatever it now asks for; after a clear, the record is the
request's only if the request is the same, so editing the prompt (or a photo) and clearing
generates anew, keeping what the earlier request paid for. It is written twice: an intent before
the create is sent (fingerprint, model, client request id, send time; no id yet), then the id the
moment the answer names it. An intent without an id tells a retry that a create may have been sent
whose answer never arrived: the API's request log, searched by the client request id, says whether
it made a generation (:mod:`.settle`).

No create is sent unless its intent was written and reads back: a store that cannot keep it fails
the task before paying. The record also counts the creates sent for its fingerprint and those
proven to have made nothing billable, the ceiling of :mod:`airflow_provider_kling.tasks.submit`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import Variable

from airflow_provider_kling.exceptions import KlingLedgerError
from airflow_provider_kling.models.submission import SubmissionRecord, can_reuse, count, record_for

STATE_KEY = "kling_generation"
VARIABLE_PREFIX = "kling_submission"
#: The slot listing the others of a task instance that records several generations (a storyboard).
USED_SLOTS = "slots"
#: The cause of a failing ``Variable.set`` we know of (DESIGN.md; apache-airflow 3.1.x, all releases).
VARIABLE_FAILURE_HINT = (
    " (a known cause on Airflow 3.1: with cryptography >= 51 every Variable.set fails, because Airflow 3.1's "
    "airflow/models/crypto.py sets an attribute on cryptography's MultiFernet, which refuses it since 51, and the "
    "execution API answers 500: install cryptography<51, or install with Airflow's constraints file for your release)"
)


__all__ = ["SubmissionLedger", "SubmissionRecord", "can_reuse", "note_slots", "record_for", "used_slots"]


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
        #: The task instance's ``max_tries``: the same across its automatic retries, raised by a clear.
        self.max_tries = count(getattr(ti, "max_tries", None))
        self._state_key = STATE_KEY if slot is None else f"{STATE_KEY}:{slot}"
        self._variable_key = ":".join([VARIABLE_PREFIX, *(str(p) for p in parts)])
        self.backend = "task state store" if self._store is not None else f"Variable {self._variable_key!r}"

    def load(self) -> SubmissionRecord | None:
        """The stored record, ``None`` when there is none.

        :raises KlingLedgerError: when the store cannot be read: what was paid for is then unknown.
        """
        return SubmissionRecord.from_stored(self.load_value())

    def load_value(self) -> Any:
        """What the store holds for this slot, as stored (``None`` for nothing).

        :raises KlingLedgerError: when the store cannot be read.
        """
        try:
            if self._store is not None:
                return self._store.get(self._state_key)
            return Variable.get(self._variable_key, default=None)
        except Exception as err:
            raise KlingLedgerError(self._unusable("read from", f"{type(err).__name__}: {err}")) from err

    def keep(self, record: SubmissionRecord) -> None:
        """Write ``record`` and read it back, or raise: nothing may be sent on a record that is not kept.

        The read-back also catches a store that accepts writes it does not keep (a Variable of the
        same name in a secrets backend shadows the one written, for one).

        :raises KlingLedgerError: naming the store and the cause (permanent: a retry would meet it again).
        """
        self._write(record.to_stored())
        stored = self.load()
        if stored != record:
            raise KlingLedgerError(self._unusable("kept in", f"it was written but reads back as {stored}"))

    def keep_value(self, value: dict[str, Any]) -> None:
        """Write ``value`` (plain JSON data) and read it back, or raise, as :meth:`keep` does."""
        self._write(value)
        stored = self.load_value()
        if isinstance(stored, str):
            stored = json.loads(stored)
        if stored != json.loads(json.dumps(value)):
            raise KlingLedgerError(self._unusable("kept in", f"it was written but reads back as {stored!r}"))

    def _write(self, value: dict[str, Any]) -> None:
        try:
            self.save_value(value)
        except Exception as err:
            raise KlingLedgerError(self._unusable("kept in", f"{type(err).__name__}: {err}")) from err

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
        self.save_value(record.to_stored())

    def save_value(self, value: dict[str, Any]) -> None:
        if self._store is not None:
            self._store.set(self._state_key, value)
            return
        Variable.set(
            self._variable_key,
            json.dumps(value),
            description="Kling generation submitted by this task instance (airflow-provider-kling); safe to delete once the run is done",
        )


def used_slots(context: Mapping[str, Any]) -> dict[str, int | None]:
    """Every slot the running task instance has used (a storyboard's shots, past and present), in the order first used.

    :returns: slot -> the task instance's ``max_tries`` when the slot was first used (``None``: unknown).
    :raises KlingLedgerError: when the store cannot be read.
    """
    stored = SubmissionLedger(context, USED_SLOTS).load_value()
    if isinstance(stored, str):
        try:
            stored = json.loads(stored)
        except ValueError:
            stored = None
    listed = stored.get("slots") if isinstance(stored, Mapping) else None
    used: dict[str, int | None] = {}
    for item in listed if isinstance(listed, list) else []:
        slot, since = item if isinstance(item, list) and len(item) == 2 else (None, None)
        if isinstance(slot, str) and slot and slot not in used:
            used[slot] = count(since)
    return used


def note_slots(context: Mapping[str, Any], slots: Sequence[str]) -> None:
    """Add ``slots`` to the task instance's used slots, with its ``max_tries``, before anything is paid in them.

    :raises KlingLedgerError: when the list cannot be kept (nothing is sent then).
    """
    used = used_slots(context)
    new = [slot for slot in dict.fromkeys(slots) if slot not in used]
    if new:
        max_tries = SubmissionLedger(context).max_tries
        listed = [[slot, since] for slot, since in used.items()] + [[slot, max_tries] for slot in new]
        SubmissionLedger(context, USED_SLOTS).keep_value({"slots": listed})
