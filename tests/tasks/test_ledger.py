"""The submission record: what survives a retry, and what a retry does with it."""

from __future__ import annotations

import json

import pytest

from airflow_provider_kling.models import GenerationStatus
from airflow_provider_kling.tasks.ledger import SubmissionRecord, can_reuse, create_to_look_up, generation_to_reattach

SENT = SubmissionRecord("g1", "fp", "kling:t:abc", 1_700_000_000.0)
INTENT = SubmissionRecord(None, "fp", "kling:t:abc", 1_700_000_000.0)


@pytest.mark.parametrize("record", [SENT, INTENT, SubmissionRecord("g1", "fp")])
def test_a_record_survives_storage_as_a_dict_or_as_json(record):
    assert SubmissionRecord.from_stored(record.to_stored()) == record
    assert SubmissionRecord.from_stored(json.dumps(record.to_stored())) == record


@pytest.mark.parametrize("stored", [None, "", "not json", [], {}, {"fingerprint": "fp"}, {"generation_id": ""}])
def test_nothing_usable_stored_reads_as_no_record(stored):
    assert SubmissionRecord.from_stored(stored) is None


@pytest.mark.parametrize(
    ("record", "fingerprint", "reattach", "look_up"),
    [
        (None, "fp", None, None),
        (SENT, "fp", "g1", None),  # the same request was answered: reattach
        (SENT, "other", None, None),  # the DAG changed the request: a new generation
        (INTENT, "fp", None, INTENT),  # sent, answer lost: look it up in the request log
        (INTENT, "other", None, None),
        (SubmissionRecord(None, "fp"), "fp", None, None),  # no client id: nothing to look up by
    ],
)
def test_what_a_retry_does_with_the_record(record, fingerprint, reattach, look_up):
    assert generation_to_reattach(record, fingerprint) == reattach
    assert create_to_look_up(record, fingerprint) == look_up


@pytest.mark.parametrize(
    ("status", "reusable"),
    [(GenerationStatus.QUEUED, True), (GenerationStatus.COMPLETED, True), (GenerationStatus.ERROR, False)],
)
def test_a_failed_generation_is_submitted_anew(status, reusable):
    assert can_reuse(status) is reusable
