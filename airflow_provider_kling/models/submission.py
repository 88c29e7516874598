"""The submission record: what a task instance sent and what it made, and whose a record is. Pure.

Kept by :mod:`airflow_provider_kling.tasks.ledger` (the task state store, or a Variable). A record
holds the generation id, a fingerprint of the request (files by content), the creates sent and
those proven void (the ceiling), the pending create's client request id, send time and model, and
the task instance's ``max_tries`` when it was written: Airflow raises ``max_tries`` when a person
clears a task instance and leaves it alone across the instance's automatic retries. Whose a record
is (:func:`record_for`):

* written since the last clear: the try's, whatever it asks for now (an automatic retry carries on
  with what its task instance started, and never pays twice);
* else made from the same request: the try's (a clear reattaches);
* else the record of an earlier request (edited, then cleared): a new one starts, keeping the
  generations the earlier requests made (``earlier``, by fingerprint, so a request changed back
  finds its generation). A create of it still pending must be settled first (through the request log).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_kling.models.generation import GenerationStatus


@dataclass(frozen=True)
class SubmissionRecord:
    """What was submitted, or is about to be.

    :param generation_id: the generation made (``None`` while only the intent is recorded).
    :param fingerprint: the fingerprint of the request (media by content).
    :param client_request_id: the id the latest create carried, ``None`` when none may be pending.
    :param sent_at: epoch seconds that create was sent.
    :param creates: creates sent (or about to be) for this fingerprint by this task instance.
    :param voided: of those, how many the ledger proves made nothing billable.
    :param model: the model the latest create named (the request log is searched by it).
    :param max_tries: the task instance's ``max_tries`` when the record was written (a clear raises it).
    :param earlier: ``(fingerprint, generation id)`` of each generation made for an earlier request
        of this task instance (edited, then cleared): paid for, so never forgotten.
    """

    generation_id: str | None
    fingerprint: str
    client_request_id: str | None = None
    sent_at: float | None = None
    creates: int = 0
    voided: int = 0
    model: str | None = None
    max_tries: int | None = None
    earlier: tuple[tuple[str, str], ...] = ()

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
        creates = max(count(stored.get("creates")) or 0, shown)
        voided = min(count(stored.get("voided")) or 0, creates)
        earlier = _generations(stored.get("earlier"))
        if not (shown or creates or earlier):
            return None
        sent_at = stored.get("sent_at")
        return cls(
            generation_id,
            str(stored.get("fingerprint", "")),
            client_id,
            float(sent_at) if isinstance(sent_at, (int, float)) and not isinstance(sent_at, bool) else None,
            creates,
            voided,
            _text(stored.get("model")),
            count(stored.get("max_tries")),
            earlier,
        )

    def to_stored(self) -> dict[str, Any]:
        stored: dict[str, Any] = {"generation_id": self.generation_id, "fingerprint": self.fingerprint}
        if self.client_request_id:
            stored.update(client_request_id=self.client_request_id, sent_at=self.sent_at)
            if self.model:
                stored["model"] = self.model
        stored.update(creates=self.creates, voided=self.voided)
        if self.max_tries is not None:
            stored["max_tries"] = self.max_tries
        if self.earlier:
            stored["earlier"] = dict(self.earlier)
        return stored

    @property
    def creates_allowed(self) -> int:
        """One create per generation, plus one for each the ledger proves made nothing billable."""
        return 1 + self.voided

    @property
    def pending(self) -> bool:
        """Whether a create was sent whose answer (the generation id) was never recorded."""
        return self.generation_id is None and self.client_request_id is not None

    def serves(self, fingerprint: str, max_tries: int | None) -> bool:
        """Whether this record is the one of a try asking for ``fingerprint``.

        It is when it was made from that very request, or when it was written since the task
        instance was last cleared (the same ``max_tries``): an automatic retry carries on with what
        its task instance started, whatever it asks for now.
        """
        return self.fingerprint == fingerprint or (max_tries is not None and self.max_tries == max_tries)

    def intent(self, client_request_id: str, sent_at: float, *, fingerprint: str, model: str) -> SubmissionRecord:
        """The record with one more create of ``fingerprint`` to ``model`` about to be sent with ``client_request_id``."""
        return replace(
            self,
            generation_id=None,
            fingerprint=fingerprint,
            model=model,
            client_request_id=client_request_id,
            sent_at=sent_at,
            creates=self.creates + 1,
        )

    def void(self) -> SubmissionRecord:
        """The record once its latest create is proven to have made nothing billable."""
        return replace(self, generation_id=None, client_request_id=None, sent_at=None, voided=self.voided + 1)

    def made(self, generation_id: str) -> SubmissionRecord:
        return replace(self, generation_id=generation_id)

    def superseded_by(self, fingerprint: str, max_tries: int | None) -> SubmissionRecord:
        """The record of a new request (edited, then cleared), keeping what this one paid for.

        A new request starts a new count; a request that is again one of the earlier ones finds its
        generation (one create, none voided).

        :raises ValueError: while a create of this record is pending: it must be settled first.
        """
        if self.pending:
            raise ValueError(f"create {self.client_request_id} is pending: settle it before starting a new request")
        earlier = dict(self.earlier)
        if self.generation_id is not None:
            earlier.pop(self.fingerprint, None)  # the newest generation of a request is the one kept
            earlier[self.fingerprint] = self.generation_id
        again = earlier.pop(fingerprint, None)
        return SubmissionRecord(
            again,
            fingerprint,
            creates=1 if again else 0,
            max_tries=max_tries,
            earlier=tuple(earlier.items()),
        )


def record_for(stored: SubmissionRecord | None, fingerprint: str, max_tries: int | None = None) -> SubmissionRecord:
    """The record a try asking for ``fingerprint`` goes on with, stamped with the task instance's ``max_tries``.

    The stored one when it :meth:`~SubmissionRecord.serves` the try; else the record of a new
    request, keeping what the stored one paid for (settle a pending create of it first).
    """
    if stored is None:
        return SubmissionRecord(None, fingerprint, max_tries=max_tries)
    if stored.serves(fingerprint, max_tries):
        return replace(stored, max_tries=max_tries)
    return stored.superseded_by(fingerprint, max_tries)


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) else None


def count(value: Any) -> int | None:
    """``value`` when it is a whole number of at least 0 (not a bool), else ``None``."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _generations(value: Any) -> tuple[tuple[str, str], ...]:
    """``fingerprint -> generation id`` pairs as stored; anything else is left out."""
    if not isinstance(value, Mapping):
        return ()
    pairs = ((_text(fingerprint), _text(generation_id)) for fingerprint, generation_id in value.items())
    return tuple((fingerprint, generation_id) for fingerprint, generation_id in pairs if fingerprint and generation_id)


def can_reuse(status: GenerationStatus) -> bool:
    """Reattach to a running or completed generation; a failed one is submitted anew.

    A failed generation fails its task without Airflow retries, so reaching this with one means a
    person cleared the task to try again.
    """
    return status is not GenerationStatus.ERROR
