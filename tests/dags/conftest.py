from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.airflow_env import REPO, AirflowEnv


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowEnv]:
    """One migrated AIRFLOW_HOME for every ``airflow dags test`` run: the example DAGs, the test DAGs
    (failure paths, private inputs), and the pool the batch DAG generates in (it counts deferred
    tasks, like the account)."""
    env = AirflowEnv(
        tmp_path_factory.mktemp("airflow_home"),
        [*sorted((REPO / "dags").glob("*.py")), *sorted((REPO / "tests" / "e2e_dags").glob("kling_*.py"))],
    )
    env.migrate()
    result = env.run("pools", "set", "kling_generations", "2", "Kling account concurrency", "--include-deferred")
    assert result.returncode == 0, result.stderr
    yield env
    env.remove()
