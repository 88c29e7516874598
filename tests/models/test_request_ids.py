"""Client request ids always fit the API's rule (else the API silently drops them)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_kling.models.request_ids import client_request_id, is_valid


@given(st.lists(st.text(), min_size=0, max_size=5), st.text(), st.integers(min_value=0, max_value=99))
def test_every_id_is_valid_whatever_the_names(identity, fingerprint, attempt):
    assert is_valid(client_request_id(identity, fingerprint, attempt=attempt))


def test_an_id_is_stable_per_task_instance_and_request_and_differs_otherwise():
    ti = ("batch_dag", "scheduled__2026-12-04", "row.generate", 3)
    first = client_request_id(ti, "abc")
    assert first == client_request_id(ti, "abc")
    assert first.startswith("kling:row.generate:")
    assert first != client_request_id(ti, "abd")
    assert first != client_request_id(("batch_dag", "scheduled__2026-12-04", "row.generate", 4), "abc")
    assert client_request_id(ti, "abc", attempt=1) == first + ":r1"


@pytest.mark.parametrize("value", ["", "a b", "x" * 129, "é", None])
def test_what_the_api_would_drop(value):
    assert not is_valid(value)
