"""The submission record: what survives a retry, whose a record is, and that what was paid for is never dropped."""

from __future__ import annotations

import json
import math

import pytest

from airflow_provider_kling.models import GenerationStatus
from airflow_provider_kling.models.submission import SubmissionRecord, can_reuse, record_for

SENT = SubmissionRecord("g1", "fp", "kling:t:abc", 1_700_000_000.0, creates=1, model="m", max_tries=2)
INTENT = SubmissionRecord(None, "fp", "kling:t:abc", 1_700_000_000.0, creates=1, model="m", max_tries=2)
VOIDED = SubmissionRecord(None, "fp", creates=2, voided=2, max_tries=2)
KEEPS_EARLIER = SubmissionRecord("g2", "b", creates=1, max_tries=2, earlier=(("a", "g0"),))


@pytest.mark.parametrize(
    "record",
    [
        SENT,
        INTENT,
        VOIDED,
        KEEPS_EARLIER,
        SubmissionRecord("g1", "fp", creates=3, voided=2),
        SubmissionRecord(None, "b", earlier=(("a", "g0"),)),  # only what earlier requests made
    ],
)
def test_a_record_survives_storage_as_a_dict_or_as_json(record):
    assert SubmissionRecord.from_stored(record.to_stored()) == record
    assert SubmissionRecord.from_stored(json.dumps(record.to_stored())) == record


@pytest.mark.parametrize(
    "stored",
    [None, "", "not json", [], {}, {"fingerprint": "fp"}, {"generation_id": ""}, {"creates": 0}, {"earlier": []}],
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


@pytest.mark.parametrize("max_tries", ["2", -1, True, 1.5, math.inf, None, [2]])
def test_a_max_tries_that_is_not_a_whole_number_reads_as_unknown(max_tries):
    # Unknown never matches: an odd record can only be taken for another request's, whose creates are settled.
    record = SubmissionRecord.from_stored({"generation_id": "g1", "fingerprint": "fp", "max_tries": max_tries})
    assert record is not None
    assert record.max_tries is None
    assert not record.serves("other", None)


@pytest.mark.parametrize(
    ("earlier", "kept"),
    [
        ({"a": "g0", "b": ""}, (("a", "g0"),)),
        ({"a": None, "": "g9", "c": True}, ()),
        (["a", "g0"], ()),
        ("a=g0", ()),
    ],
)
def test_odd_earlier_generations_are_left_out(earlier, kept):
    record = SubmissionRecord.from_stored({"generation_id": "g1", "fingerprint": "fp", "earlier": earlier})
    assert record is not None
    assert record.earlier == kept


@pytest.mark.parametrize(
    ("stored", "fingerprint", "max_tries", "expected"),
    [
        (None, "fp", None, SubmissionRecord(None, "fp")),
        (None, "fp", 3, SubmissionRecord(None, "fp", max_tries=3)),
        (SENT, "fp", 2, SENT),  # the same request was answered: reattach
        (SENT, "fp", 5, SubmissionRecord("g1", "fp", "kling:t:abc", 1.7e9, 1, model="m", max_tries=5)),  # cleared
        (INTENT, "fp", 2, INTENT),  # sent, answer lost: look it up in the request log
        (VOIDED, "fp", 2, VOIDED),  # the counts of this request carry on
        # An automatic retry (no clear: the same max_tries) carries on whatever it asks for now.
        (SENT, "reworded", 2, SENT),
        (INTENT, "reworded", 2, INTENT),
        (VOIDED, "reworded", 2, VOIDED),
        # Cleared with the request edited: a new count, keeping the generation the old request made.
        (SENT, "other", 3, SubmissionRecord(None, "other", max_tries=3, earlier=(("fp", "g1"),))),
        (VOIDED, "other", 3, SubmissionRecord(None, "other", max_tries=3)),  # nothing was paid: nothing to keep
        # Whether it was cleared is unknown (no max_tries on either side): only the request tells.
        (SubmissionRecord("g1", "fp"), "other", None, SubmissionRecord(None, "other", earlier=(("fp", "g1"),))),
        (
            SubmissionRecord("g1", "fp"),
            "other",
            2,
            SubmissionRecord(None, "other", max_tries=2, earlier=(("fp", "g1"),)),
        ),
        # Changed back to a request made before: its generation again, one create counted.
        (KEEPS_EARLIER, "a", 3, SubmissionRecord("g0", "a", creates=1, max_tries=3, earlier=(("b", "g2"),))),
        (
            KEEPS_EARLIER,
            "c",
            3,
            SubmissionRecord(None, "c", max_tries=3, earlier=(("a", "g0"), ("b", "g2"))),
        ),
    ],
)
def test_whose_a_record_is(stored, fingerprint, max_tries, expected):
    assert record_for(stored, fingerprint, max_tries) == expected


def test_a_pending_create_of_an_earlier_request_is_never_dropped_unsettled():
    with pytest.raises(ValueError, match="create kling:t:abc is pending: settle it"):
        record_for(INTENT, "other", 3)


def test_the_ceiling_is_one_create_plus_one_per_proven_void():
    fresh = SubmissionRecord(None, "fp")
    assert (fresh.creates, fresh.creates_allowed) == (0, 1)
    sent = fresh.intent("kling:t:1", 5.0, fingerprint="fp", model="m")
    assert (sent.creates, sent.creates_allowed, sent.client_request_id, sent.pending) == (1, 1, "kling:t:1", True)
    voided = sent.void()
    assert (voided.creates, voided.creates_allowed, voided.client_request_id, voided.sent_at) == (1, 2, None, None)
    again = voided.intent("kling:t:2", 6.0, fingerprint="reworded", model="m2").made("g2")
    assert again == SubmissionRecord("g2", "reworded", "kling:t:2", 6.0, 2, 1, model="m2")
    assert not again.pending


@pytest.mark.parametrize(
    ("status", "reusable"),
    [(GenerationStatus.QUEUED, True), (GenerationStatus.COMPLETED, True), (GenerationStatus.ERROR, False)],
)
def test_a_failed_generation_is_submitted_anew(status, reusable):
    assert can_reuse(status) is reusable
