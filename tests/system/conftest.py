"""One real Airflow deployment shared by the system scenarios of a pytest session.

Needs PostgreSQL (``KLING_SYSTEM_POSTGRES``, default ``postgresql://postgres@127.0.0.1:5432``);
uses CeleryExecutor when Redis (``KLING_SYSTEM_REDIS``) answers, LocalExecutor otherwise. Without
PostgreSQL every scenario is skipped, with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_kling.simulator.process import SimulatorProcess
from harness.browser import log_in
from harness.cluster import ADMIN, POSTGRES, REDIS, REPO, AirflowCluster, reachable
from harness.deployment import API_KEY, POLL_INTERVAL, Deployment, port_is_free


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/system/" in str(item.fspath):
            item.add_marker(pytest.mark.system)
            item.add_marker(pytest.mark.timeout(600))


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if not reachable(POSTGRES):
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES}: system tests need a real metadata database")
    celery = reachable(REDIS)
    workdir = tmp_path_factory.mktemp("airflow-system")
    output = workdir / "videos"
    simulator = SimulatorProcess("--api-key", API_KEY, "--generation-seconds", "10")
    airflow = AirflowCluster(
        workdir,
        [
            REPO / "dags" / "kling_quickstart.py",
            REPO / "dags" / "kling_text_to_video.py",
            REPO / "dags" / "kling_batch_production.py",
            REPO / "dags" / "kling_storyboard_review.py",
            REPO / "tests" / "system" / "dags" / "kling_system.py",
        ],
        {
            "AIRFLOW_CONN_KLING_DEFAULT": json.dumps(
                {"conn_type": "kling", "host": simulator.url, "password": API_KEY}
            ),
            "AIRFLOW_VAR_KLING_OUTPUT": str(output),
            "KLING_BATCH_POLL_INTERVAL": POLL_INTERVAL,
            "KLING_POLL_INTERVAL": POLL_INTERVAL,
            # The connection form's "Test" button (off by default in Airflow).
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        },
        celery=celery,
    )
    started = time.monotonic()
    try:
        airflow.start()
        print(f"\n{'Celery' if celery else 'Local'}Executor deployment healthy in {time.monotonic() - started:.1f} s")
        yield Deployment(airflow, simulator, output)
    finally:
        leftovers = airflow.stop()
        simulator.stop()
        assert not leftovers, f"processes survived teardown: {leftovers}"
        assert port_is_free(airflow.api_port), f"api-server port {airflow.api_port} still bound after teardown"


@pytest.fixture
def fresh(deployment: Deployment) -> Deployment:
    """The deployment with the simulator's counters and generations forgotten, default config."""
    deployment.simulator.configure(generation_seconds=10.0, fault_rate=0.0, max_concurrent=0, api_key=API_KEY)
    deployment.simulator.reset()
    return deployment


CHROMIUM = os.environ.get("KLING_CHROMIUM", "/usr/bin/chromium")
# No network beyond loopback here: without these Chromium keeps dialling Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian package 'chromium'; ./dev system installs it as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the 'system' extra) is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, deployment: Deployment) -> Iterator[Any]:
    """A browser tab with the deployment's admin logged in (through Airflow's login page)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    log_in(page, deployment.airflow, ADMIN)
    yield page
    context.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("KLING_UPDATE_SCREENSHOTS") == "1":
        folder = REPO / "docs" / "images"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")
