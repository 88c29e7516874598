"""Running an example DAG through ``airflow dags test`` against the simulator, output included."""

from __future__ import annotations

import re
import subprocess
from typing import Any

from harness.airflow_env import AirflowEnv
from harness.simulated import connection_json

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def dags_test(
    airflow_env: AirflowEnv, simulator: Any, dag_id: str, fresh_process: bool = False, **env: str
) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run ``dag_id`` with the simulator as ``kling_default``; the result and everything it printed and logged."""
    logs_before = airflow_env.task_logs()
    # The simulator renders in seconds: poll every second, not every 10 s as the examples do.
    env = {"AIRFLOW_CONN_KLING_DEFAULT": connection_json(simulator.url), "KLING_POLL_INTERVAL": "0.3", **env}
    result = airflow_env.dags_test(dag_id, env=env, fresh_process=fresh_process)
    new_logs = airflow_env.task_logs().removeprefix(logs_before)
    return result, ANSI.sub("", result.stdout + result.stderr + new_logs)
