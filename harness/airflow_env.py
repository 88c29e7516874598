"""A throwaway Airflow installation (SQLite AIRFLOW_HOME) for end-to-end tests and the demo."""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parent.parent
AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def prepare_home(home: Path, dag_files: list[Path]) -> tuple[Path, dict[str, str]]:
    """Link ``dag_files`` into ``home/dags``; return that folder and the environment every
    ``airflow`` process of this home gets (this shell's, minus its own Airflow settings)."""
    dags = home / "dags"
    dags.mkdir(parents=True, exist_ok=True)
    for path in dag_files:
        target = dags / path.name
        if not target.exists():
            target.symlink_to(path)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")},
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "NO_COLOR": "1",
        "PYTHONPATH": str(REPO),
    }
    return dags, env


class AirflowEnv:
    """``airflow`` CLI calls against one AIRFLOW_HOME whose DAG folder holds the given files.

    :param home: the AIRFLOW_HOME directory (created).
    :param dag_files: DAG files linked into ``home/dags``.
    """

    def __init__(self, home: Path, dag_files: list[Path], extra_env: dict[str, str] | None = None) -> None:
        self.home = home
        self.dags, base_env = prepare_home(home, dag_files)
        self.env = {**base_env, **(extra_env or {})}
        self._runner: subprocess.Popen[str] | None = None
        self._runs = 0

    def run(
        self, *args: str, timeout: float = 300, env: dict[str, str] | None = None, fresh_process: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """``airflow <args>``; ``dags test`` and ``tasks test`` run in the warm runner (:mod:`harness.dag_runner`)
        unless ``fresh_process`` (or ``KLING_E2E_FRESH_PROCESSES=1``), as typed in a shell, is asked for."""
        fresh_process = fresh_process or os.environ.get("KLING_E2E_FRESH_PROCESSES") == "1"
        if args[:2] in (("dags", "test"), ("tasks", "test")) and not fresh_process:
            return self._run_warm(list(args), env or {}, timeout)
        return subprocess.run(
            [AIRFLOW, *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.home,
        )

    def _run_warm(self, argv: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
        runner = self._runner
        if runner is None or runner.poll() is not None:
            runner = self._runner = subprocess.Popen(
                [sys.executable, "-m", "harness.dag_runner"],
                env=self.env,
                cwd=self.home,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                # A group of its own: what it forks (OpenLineage's listener, Airflow's task
                # processes) goes with it when it is stopped, instead of outliving the tests.
                start_new_session=True,
            )
        assert runner.stdin is not None
        assert runner.stdout is not None
        self._runs += 1
        output = self.home.parent / f"{self.home.name}-run-{self._runs}.log"  # outside AIRFLOW_HOME
        runner.stdin.write(json.dumps({"argv": argv, "env": env, "output": str(output)}) + "\n")
        runner.stdin.flush()
        answer = _read_line(runner.stdout, timeout)
        text = output.read_text(errors="replace") if output.exists() else ""
        if answer is None:
            try:
                died: int | None = runner.wait(timeout=2)  # EOF: it exited; else it is still running
            except subprocess.TimeoutExpired:
                died = None
            self.stop_runner()
            if died is not None:  # the runner itself crashed: report it like a failed command
                return subprocess.CompletedProcess(
                    argv, died or 1, stdout=text, stderr="the warm dags-test runner died"
                )
            raise subprocess.TimeoutExpired(argv, timeout, output=text)
        output.unlink()
        return subprocess.CompletedProcess(argv, json.loads(answer)["returncode"], stdout=text, stderr="")

    def stop_runner(self) -> None:
        if self._runner is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._runner.pid, signal.SIGKILL)
            self._runner.wait()
            self._runner = None

    def migrate(self) -> None:
        result = self.run("db", "migrate")
        if result.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{result.stdout}\n{result.stderr}")

    def dags_test(
        self, dag_id: str, *, env: dict[str, str] | None = None, timeout: float = 300, fresh_process: bool = False
    ) -> subprocess.CompletedProcess[str]:
        return self.run("dags", "test", dag_id, env=env, timeout=timeout, fresh_process=fresh_process)

    def task_logs(self) -> str:
        """Every task log file under AIRFLOW_HOME/logs (Airflow 3.1's ``dags test`` writes them there)."""
        logs = self.home / "logs"
        return "\n".join(p.read_text(errors="replace") for p in sorted(logs.rglob("*.log"))) if logs.exists() else ""

    def task_instances(self, dag_id: str) -> list[dict[str, Any]]:
        """Every try of every task of the DAG's newest run, straight from the metadata database."""
        # closing(): sqlite3's own context manager commits but leaves the connection open.
        with closing(sqlite3.connect(self.home / "airflow.db")) as db:
            db.row_factory = sqlite3.Row
            run_id = db.execute(
                "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
            ).fetchone()["run_id"]
            rows = db.execute(
                "SELECT task_id, map_index, state, try_number FROM task_instance WHERE dag_id = ? AND run_id = ?",
                (dag_id, run_id),
            ).fetchall()
        return [dict(row) for row in rows]

    def states(self, dag_id: str) -> dict[str, str]:
        return {row["task_id"]: row["state"] for row in self.task_instances(dag_id) if row["map_index"] == -1}

    def files_containing(self, needle: str) -> list[str]:
        """Every file under AIRFLOW_HOME whose bytes contain ``needle`` (logs, the SQLite DB...)."""
        hits = []
        for path in self.home.rglob("*"):
            if path.is_file() and not path.is_symlink() and needle.encode() in path.read_bytes():
                hits.append(str(path.relative_to(self.home)))
        return hits

    def remove(self) -> None:
        self.stop_runner()
        shutil.rmtree(self.home, ignore_errors=True)


def _read_line(stream: IO[str], timeout: float) -> str | None:
    """The next line of ``stream``, or ``None`` when none came within ``timeout`` seconds (or it closed)."""
    ready, _, _ = select.select([stream], [], [], timeout)
    line = stream.readline() if ready else ""
    return line or None
