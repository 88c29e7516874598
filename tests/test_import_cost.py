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
