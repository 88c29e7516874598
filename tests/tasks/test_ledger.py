"""The ledger: where a task instance's records are kept, and a store that cannot keep them.

The record itself (what it holds, whose it is) is tested in tests/models/test_submission.py."""

from __future__ import annotations

import pytest

from airflow_provider_kling.exceptions import KlingLedgerError
from airflow_provider_kling.tasks.ledger import SubmissionLedger, SubmissionRecord
from harness.airflow_context import FakeStateStore, FakeTaskInstance, ForgetfulStore, RefusingStore

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
