"""The submission record: what survives a retry, what a retry does with it, and a store that cannot keep it."""

from __future__ import annotations

import json
import math

import pytest

from airflow_provider_kling.exceptions import KlingLedgerError
from airflow_provider_kling.models import GenerationStatus
from airflow_provider_kling.tasks.ledger import SubmissionLedger, SubmissionRecord, can_reuse, record_for
from harness.airflow_context import FakeStateStore, FakeTaskInstance, ForgetfulStore, RefusingStore

SENT = SubmissionRecord("g1", "fp", "kling:t:abc", 1_700_000_000.0, creates=1)
INTENT = SubmissionRecord(None, "fp", "kling:t:abc", 1_700_000_000.0, creates=1)
VOIDED = SubmissionRecord(None, "fp", creates=2, voided=2)


@pytest.mark.parametrize("record", [SENT, INTENT, VOIDED, SubmissionRecord("g1", "fp", creates=3, voided=2)])
def test_a_record_survives_storage_as_a_dict_or_as_json(record):
    assert SubmissionRecord.from_stored(record.to_stored()) == record
    assert SubmissionRecord.from_stored(json.dumps(record.to_stored())) == record


@pytest.mark.parametrize(
    "stored", [None, "", "not json", [], {}, {"fingerprint": "fp"}, {"generation_id": ""}, {"creates": 0}]
)
def test_nothing_usable_stored_reads_as_no_record(stored):
    assert SubmissionRecord.from_stored(stored) is None


@pytest.mark.parametrize(
    ("stored", "creates", "voided"),
    [
        ({"generation_id": "g1", "fingerprint": "fp"}, 1, 0),  # a record of an earlier build: no counts
        ({"generation_id": None, "fingerprint": "fp", "client_request_id": "c", "sent_at": 1.0}, 1, 0),
        ({"generation_id": "g1", "fingerprint": "fp", "creates": "2", "voided": "9"}, 1, 0),  # strings
        ({"generation_id": "g1", "fingerprint": "fp", "creates": -4, "voided": -1}, 1, 0),
        ({"generation_id": "g1", "fingerprint": "fp", "creates": 1.5, "voided": math.nan}, 1, 0),
        ({"generation_id": "g1", "fingerprint": "fp", "creates": True, "voided": True}, 1, 0),
        ({"generation_id": "g1", "fingerprint": "fp", "creates": 2, "voided": 7}, 2, 2),  # never more voided than sent
    ],
)
def test_odd_or_old_counts_can_only_lower_the_ceiling(stored, creates, voided):
    record = SubmissionRecord.from_stored(stored)
    assert record is not None
    assert (record.creates, record.voided) == (creates, voided)
    assert record.creates_allowed <= 1 + voided


def test_a_hostile_send_time_reads_as_unknown():
    record = SubmissionRecord.from_stored({"client_request_id": "c", "fingerprint": "fp", "sent_at": True})
    assert record is not None
    assert record.sent_at is None


@pytest.mark.parametrize(
    ("stored", "fingerprint", "expected"),
    [
        (None, "fp", SubmissionRecord(None, "fp")),
        (SENT, "fp", SENT),  # the same request was answered: reattach
        (INTENT, "fp", INTENT),  # sent, answer lost: look it up in the request log
        (VOIDED, "fp", VOIDED),  # the counts of this request carry on
        (SENT, "other", SubmissionRecord(None, "other")),  # the request was edited: a new count
        (VOIDED, "other", SubmissionRecord(None, "other")),
    ],
)
def test_the_record_of_a_request_is_the_stored_one_only_for_the_same_fingerprint(stored, fingerprint, expected):
    assert record_for(stored, fingerprint) == expected


def test_the_ceiling_is_one_create_plus_one_per_proven_void():
    fresh = SubmissionRecord(None, "fp")
    assert (fresh.creates, fresh.creates_allowed) == (0, 1)
    sent = fresh.intent("kling:t:1", 5.0)
    assert (sent.creates, sent.creates_allowed, sent.client_request_id) == (1, 1, "kling:t:1")
    voided = sent.void()
    assert (voided.creates, voided.creates_allowed, voided.client_request_id, voided.sent_at) == (1, 2, None, None)
    assert voided.intent("kling:t:2", 6.0).made("g2") == SubmissionRecord("g2", "fp", "kling:t:2", 6.0, 2, 1)


@pytest.mark.parametrize(
    ("status", "reusable"),
    [(GenerationStatus.QUEUED, True), (GenerationStatus.COMPLETED, True), (GenerationStatus.ERROR, False)],
)
def test_a_failed_generation_is_submitted_anew(status, reusable):
    assert can_reuse(status) is reusable


def ledger(store: FakeStateStore, slot: str | None = None) -> SubmissionLedger:
    return SubmissionLedger({"task_state_store": store, "ti": FakeTaskInstance(task_id="t")}, slot)


def test_keep_writes_and_reads_back():
    store = FakeStateStore()
    ledger(store, "shot-2").keep(INTENT)
    assert SubmissionRecord.from_stored(store.get("kling_generation:shot-2")) == INTENT


@pytest.mark.parametrize(
    ("store", "cause"),
    [
        (RefusingStore(), "PermissionError: [Errno 13] Permission denied: '/state/kling_generation'"),
        (ForgetfulStore(), "it was written but reads back as None"),
    ],
)
def test_a_store_that_cannot_keep_the_record_is_a_permanent_error_naming_it(store, cause):
    with pytest.raises(KlingLedgerError) as failure:
        ledger(store).keep(INTENT)
    message = str(failure.value)
    assert message.startswith("Nothing was sent: the record of this create could not be kept in the task state store")
    assert cause in message
    assert "cryptography" not in message  # that hint is about Variables


def test_how_to_forget_names_the_record_a_person_deletes():
    assert "delete the key 'kling_generation:shot-1' of this task instance's state store" in (
        ledger(FakeStateStore(), "shot-1").how_to_forget()
    )
    variable = SubmissionLedger({"ti": FakeTaskInstance(task_id="t")})
    assert variable.backend == "Variable 'kling_submission:dag:run:t:-1'"
    assert "airflow variables delete 'kling_submission:dag:run:t:-1'" in variable.how_to_forget()
