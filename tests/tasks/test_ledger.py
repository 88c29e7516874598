"""The ledger: where a task instance's records are kept, a store that cannot keep them, and the slots it used.

The record itself (what it holds, whose it is) is tested in tests/models/test_submission.py."""

from __future__ import annotations

import pytest

from airflow_provider_kling.exceptions import KlingLedgerError
from airflow_provider_kling.tasks.ledger import SubmissionLedger, SubmissionRecord, note_slots, used_slots
from harness.airflow_context import (
    FakeStateStore,
    FakeTaskInstance,
    ForgetfulStore,
    RefusingStore,
    UnreadableStore,
)

INTENT = SubmissionRecord(None, "fp", "kling:t:abc", 1_700_000_000.0, creates=1, model="m")


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


@pytest.mark.parametrize(("max_tries", "read"), [(0, 0), (4, 4), (None, None), ("4", None), (-1, None), (True, None)])
def test_the_task_instances_max_tries_is_what_tells_a_retry_from_a_clear(max_tries, read):
    ti = FakeTaskInstance(task_id="t", max_tries=max_tries)
    assert SubmissionLedger({"task_state_store": FakeStateStore(), "ti": ti}).max_tries == read


def context(store: FakeStateStore, max_tries: int = 0) -> dict:
    return {"task_state_store": store, "ti": FakeTaskInstance(task_id="t", max_tries=max_tries)}


def test_the_slots_a_task_instance_used_are_listed_once_with_when_they_were_first_used():
    store = FakeStateStore()
    assert used_slots(context(store)) == {}
    note_slots(context(store), ["shot-a-1", "shot-b-1", "shot-a-1"])
    note_slots(context(store, max_tries=1), ["shot-c-1", "shot-b-1"])  # after a clear
    assert used_slots(context(store)) == {"shot-a-1": 0, "shot-b-1": 0, "shot-c-1": 1}
    assert list(used_slots(context(store))) == ["shot-a-1", "shot-b-1", "shot-c-1"]
    assert store.get("kling_generation:slots") == {"slots": [["shot-a-1", 0], ["shot-b-1", 0], ["shot-c-1", 1]]}


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ("not json", {}),
        ('{"slots": "shot-a"}', {}),
        (
            {"slots": [["shot-a", 2], ["shot-a", 3], [1, 0], ["", 0], "shot-b", ["shot-c"], ["shot-d", "2"]]},
            {"shot-a": 2, "shot-d": None},
        ),
        ('{"slots": [["shot-a", -1]]}', {"shot-a": None}),
        (["shot-a"], {}),
    ],
)
def test_an_odd_list_of_slots_reads_as_what_it_holds_of_slot_names(stored, read):
    store = FakeStateStore({"kling_generation:slots": stored})
    assert used_slots(context(store)) == read


@pytest.mark.parametrize(
    ("store", "cause"),
    [
        (RefusingStore(), "PermissionError"),
        (ForgetfulStore(), "it was written but reads back as None"),
        (UnreadableStore(), "TimeoutError"),
    ],
)
def test_a_list_of_slots_that_cannot_be_kept_stops_before_anything_is_paid(store, cause):
    with pytest.raises(KlingLedgerError, match="Nothing was sent") as failure:
        note_slots(context(store), ["shot-a-1"])
    assert cause in str(failure.value)
