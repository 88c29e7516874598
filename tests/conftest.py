from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from airflow_provider_kling.simulator.process import SimulatorProcess
from harness.simulated import API_KEY, DEFAULTS, connection_json


@pytest.fixture(scope="session")
def simulator_process() -> Iterator[SimulatorProcess]:
    sim = SimulatorProcess("--api-key", API_KEY, "--generation-seconds", "1")
    yield sim
    sim.stop()


@pytest.fixture
def simulator(simulator_process: SimulatorProcess, monkeypatch: pytest.MonkeyPatch) -> SimulatorProcess:
    """The shared simulator, reset to defaults (1 s generations), wired as ``kling_default``."""
    simulator_process.configure(**{**DEFAULTS, "generation_seconds": 1.0, "api_key": API_KEY})
    simulator_process.reset()
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator_process.url))
    return simulator_process


@pytest.fixture(autouse=True)
def _isolated_airflow_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = os.environ.get("KLING_TEST_AIRFLOW_HOME")
    if home:
        monkeypatch.setenv("AIRFLOW_HOME", home)
