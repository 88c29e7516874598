"""The order a run gave its mapped rows, kept where the ledger keeps its records."""

from __future__ import annotations

import pytest

from airflow_provider_kling.exceptions import KlingLedgerError
from airflow_provider_kling.tasks.mapped_order import STATE_KEY, MappedOrder
from harness.airflow_context import FakeStateStore, FakeTaskInstance, ForgetfulStore, RefusingStore, UnreadableStore


def order(store):
    return MappedOrder({"task_state_store": store, "ti": FakeTaskInstance(task_id="plan")})


def test_the_order_is_kept_in_the_planning_tasks_state_store_and_read_back():
    store = FakeStateStore()
    assert order(store).load() is None  # the run's first plan
    order(store).keep(["b", "a"])
    assert store.get(STATE_KEY) == ["b", "a"]
    assert order(store).load() == ["b", "a"]


@pytest.mark.parametrize(
    ("store", "cause"),
    [
        (RefusingStore(), "could not be kept in the task state store (PermissionError: [Errno 13]"),
        (ForgetfulStore(), "could not be kept in the task state store (it was written but reads back otherwise)"),
    ],
)
def test_an_order_that_cannot_be_kept_fails_the_plan_before_any_row_is_mapped(store, cause):
    with pytest.raises(KlingLedgerError) as failure:
        order(store).keep(["a"])
    assert str(failure.value).startswith("Nothing was sent: the order of this run's rows " + cause)


@pytest.mark.parametrize(
    ("store", "cause"),
    [
        (UnreadableStore(), "TimeoutError: the execution API did not answer"),
        (FakeStateStore({STATE_KEY: {"a": 0}}), "it holds no list of rows"),
        (FakeStateStore({STATE_KEY: ["a", 7]}), "it holds no list of rows"),
        (FakeStateStore({STATE_KEY: "not json"}), "JSONDecodeError"),
        (FakeStateStore({STATE_KEY: ["a", "b", "a"]}), "it names a row twice"),
    ],
)
def test_an_order_that_cannot_be_read_is_a_permanent_error(store, cause):
    # Which row had which place (and paid record) is then unknown: planning afresh could pay twice.
    with pytest.raises(KlingLedgerError, match=cause):
        order(store).load()


def test_without_a_state_store_the_order_is_a_variable_named_after_the_task_instance():
    assert MappedOrder({"ti": FakeTaskInstance(task_id="plan")}).backend == (
        "Variable 'kling_mapped_order:dag:run:plan:-1'"
    )
