"""A ledger that really cannot be written, through the real ``airflow dags test``: nothing is paid.

The ledger is where a task records the create it is about to send. Airflow's own store is broken
here, not ours: on Airflow 3.3+ the task state store writes through the common.io object-storage
backend to a path under a plain file (no folder can be made there, even as root); on 3.1/3.2 the
ledger is a Variable, and an invalid fernet key makes Airflow's own encryption of it fail, as
cryptography >= 51 does on Airflow 3.1.0. Each run gets a fresh ``airflow`` process: both settings
are read once per process.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import pytest

from airflow_provider_kling.version_compat import AIRFLOW_V_3_3_PLUS
from harness.e2e import dags_test

pytestmark = pytest.mark.e2e


def unwritable_ledger(tmp_path: Path) -> tuple[dict[str, str], str]:
    """Settings that break the ledger's store on this Airflow, and the store the failure names."""
    if AIRFLOW_V_3_3_PLUS:
        blocker = tmp_path / "a-file-not-a-folder"
        blocker.write_text("")
        backend = "airflow.providers.common.io.state_store.backend.StateStoreObjectStorageBackend"
        env = {
            "AIRFLOW__WORKERS__STATE_STORE_BACKEND": backend,
            "AIRFLOW__COMMON_IO__STATE_STORE_OBJECTSTORAGE_PATH": f"file://{blocker}/state",
        }
        return env, "task state store"
    return {"AIRFLOW__CORE__FERNET_KEY": "not-a-fernet-key"}, "Variable 'kling_submission:"


@pytest.mark.parametrize(
    ("dag_id", "task_id"),
    [
        ("kling_text_to_video", "submit"),
        pytest.param(
            "kling_storyboard",
            "storyboard",
            marks=pytest.mark.skipif(not find_spec("imageio_ffmpeg"), reason="storyboards need the media extra"),
        ),
    ],
)
def test_a_task_whose_ledger_cannot_be_written_pays_for_nothing(airflow_env, simulator, tmp_path, dag_id, task_id):
    env, store = unwritable_ledger(tmp_path)
    result, output = dags_test(
        airflow_env, simulator, dag_id, fresh_process=True, AIRFLOW_VAR_KLING_OUTPUT=str(tmp_path / "out"), **env
    )
    assert result.returncode != 0
    assert simulator.stats()["create_requests"] == 0, output[-4000:]
    assert f"Nothing was sent: the record of this create could not be kept in the {store}" in output, output[-4000:]
    [row] = [row for row in airflow_env.task_instances(dag_id) if row["task_id"] == task_id]
    assert (row["state"], row["try_number"]) == ("failed", 1)  # retries=2, yet no retry: it would fail again
