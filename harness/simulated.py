"""The simulator as a Kling connection: the key the tests use and the connection JSON for a URL."""

from __future__ import annotations

import json
from dataclasses import asdict

from airflow_provider_kling.simulator.app import SimulatorConfig

API_KEY = "sk-test-0123456789abcdef-SECRET"
#: Every simulator setting at its default, but the key (for ``SimulatorProcess.configure``).
DEFAULTS = {k: v for k, v in asdict(SimulatorConfig()).items() if k != "api_key"}


def connection_json(url: str, api_key: str = API_KEY, **extra: object) -> str:
    """``AIRFLOW_CONN_*`` JSON for a Kling connection to ``url``, with optional extras."""
    conn: dict[str, object] = {"conn_type": "kling", "host": url, "password": api_key}
    if extra:
        conn["extra"] = extra
    return json.dumps(conn)
