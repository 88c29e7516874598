"""DAG files import our operators while Airflow parses them: heavy modules must not come along."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = [
    "aiohttp",
    "requests",
    "airflow_provider_kling.hooks.kling",
    "airflow_provider_kling.simulator.app",
    "imageio_ffmpeg",
]


@pytest.mark.parametrize(
    "statement",
    [
        "import airflow_provider_kling",
        "import airflow_provider_kling.operators.kling",
        "import airflow_provider_kling.sensors.kling",
        "import airflow_provider_kling.decorators.kling_video",
        "import airflow_provider_kling.get_provider_info",
    ],
)
def test_parse_time_imports_stay_light(statement):
    probe = f"import sys, airflow.sdk\nbefore = set(sys.modules)\n{statement}\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules and m not in before))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_task_that_submits_and_downloads_never_loads_aiohttp(simulator, tmp_path):
    # aiohttp serves the triggerer only; in a worker's task process it would cost ~0.2 CPU-seconds
    # per task for nothing (the HTTP provider's hook, which we no longer build on, imported it).
    # Counted over what a task process has loaded already: Airflow 3.1's own task runner imports
    # aiohttp (through retryhttp), newer ones do not.
    probe = f"""
import sys, time
import airflow.sdk.execution_time.task_runner
before = set(sys.modules)
from airflow_provider_kling.delivery import deliver_video
from airflow_provider_kling.hooks.kling import KlingHook
hook = KlingHook()
generation_id = hook.submit_generation("no aiohttp please")
time.sleep(1.1)
deliver_video(hook, destination={str(tmp_path)!r} + "/", generation_id=generation_id, poster=False)
print(sorted(m for m in ("aiohttp", "airflow.providers.http.hooks.http") if m in sys.modules and m not in before))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert simulator.stats()["creates"] == 1
