"""A smaller run of the fault suite in the normal suite; ``bench/fault_suite.py`` runs 200 generations."""

from __future__ import annotations

import pytest

from harness.fault_suite import run_fault_suite


@pytest.fixture(autouse=True)
def _own_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_KLING_DEFAULT", raising=False)


def test_every_generation_completes_with_exactly_one_create_at_30_percent_faults():
    result = run_fault_suite(generations=24, fault_rate=0.3, seed=7, generation_seconds=1.5, poll_interval=0.3)
    assert result["completed"] == 24, result
    assert result["creates"] == 24
    assert result["jobs_with_several_creates"] == 0
    assert result["faults_total"] >= 20, result  # the run really was faulty
    assert result["create_requests"] > 24  # some creates were refused and resent


@pytest.mark.slow
def test_full_fault_suite_200_generations():
    result = run_fault_suite(generations=200, fault_rate=0.3)
    assert result["completed"] == 200, result
    assert result["jobs_with_several_creates"] == 0
