"""A real, distributed Airflow on this machine: PostgreSQL, api-server, scheduler, dag-processor,
two triggerers and Celery workers (LocalExecutor when Redis is absent), plus the simulator.

Every process runs in its own session (process group) so a scenario can SIGKILL one component
with everything it forked, and :meth:`AirflowCluster.stop` can prove nothing is left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from harness.airflow_env import AIRFLOW, REPO, prepare_home

POSTGRES = os.environ.get("KLING_SYSTEM_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("KLING_SYSTEM_REDIS", "redis://127.0.0.1:6379")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reachable(url: str) -> bool:
    """Whether a TCP service (``scheme://host:port``) accepts connections."""
    host_port = url.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
    host, _, port = host_port.partition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


def wait_until(condition: Callable[[], Any], *, timeout: float, interval: float = 0.5, what: str = "") -> Any:
    """Poll ``condition`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what or condition}")
        time.sleep(interval)


@dataclass
class Component:
    """One Airflow process (and whatever it forks), logging to ``log``."""

    name: str
    args: list[str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    stopped_on_purpose: bool = False

    def start(self, base_env: dict[str, str], cwd: Path) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [AIRFLOW, *self.args],
                env={**base_env, **self.env},
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def crashed(self) -> bool:
        return not self.stopped_on_purpose and self.process is not None and self.process.poll() is not None

    def signal_group(self, sig: signal.Signals) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL the process and everything it forked, as a lost machine would."""
        self.stopped_on_purpose = True
        self.signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)

    def stop(self, grace: float = 20) -> None:
        if self.process is None:
            return
        self.stopped_on_purpose = True
        self.signal_group(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace)
        # Children (task processes, celery pool) may outlive their parent: reap the whole group.
        self.signal_group(signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=30)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


#: The deployment's users and their simple-auth-manager roles.
ADMIN = "admin"
OUTSIDER = "outsider"
USERS = {ADMIN: "admin", OUTSIDER: "viewer"}
#: The DAGs a user is limited to (every other user reads all of them): the outsider reads one example.
DAG_ACCESS = {OUTSIDER: ["kling_batch_production"]}
#: Where the deployment's auth manager (``harness.auth_manager``) reads ``DAG_ACCESS``.
ACCESS_ENV = "KLING_SYSTEM_DAG_ACCESS"


class AirflowCluster:
    """Start, drive and tear down one Airflow deployment in ``workdir``.

    :param workdir: AIRFLOW_HOME (logs of every component go to ``workdir/components``).
    :param dag_files: files linked into the DAG folder.
    :param extra_env: environment for every component (connections, Variables, test knobs).
    :param celery: CeleryExecutor on Redis (True) or LocalExecutor (False).
    """

    def __init__(
        self, workdir: Path, dag_files: list[Path], extra_env: dict[str, str], *, celery: bool, worker_slots: int = 16
    ) -> None:
        self.home = workdir
        self.dags, base_env = prepare_home(workdir, dag_files)
        if any(p.parent.name == "dags" and p.parent.parent == REPO for p in dag_files):
            (self.dags / "data").symlink_to(REPO / "dags" / "data")
        (workdir / "components").mkdir(exist_ok=True)
        self.celery = celery
        self.worker_slots = worker_slots
        suffix = secrets.token_hex(4)
        self.database = f"kling_system_{suffix}"
        self.redis_db = 1 + secrets.randbelow(15)
        self.queue = f"kling_system_{suffix}"
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        database_url = f"{POSTGRES.replace('postgresql://', 'postgresql+psycopg2://')}/{self.database}"
        self.env = {
            **base_env,
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor" if celery else "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(max(32, worker_slots * 2)),
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "128",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            # Real users and logins (not the all-admins mode, where every request is an admin's):
            # "outsider" may read only the DAGs DAG_ACCESS gives them.
            "AIRFLOW__CORE__AUTH_MANAGER": "harness.auth_manager.DagLimitedAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{user}:{role}" for user, role in USERS.items()),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self._write_passwords(workdir)),
            ACCESS_ENV: json.dumps(DAG_ACCESS),
            "AIRFLOW__CORE__FERNET_KEY": "",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
            # Airflow 3.1.0 leaves the issuer unset and today's PyJWT refuses a None issuer.
            "AIRFLOW__API_AUTH__JWT_ISSUER": "airflow-provider-kling-system-tests",
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url,
            "AIRFLOW__CELERY__BROKER_URL": f"{REDIS}/{self.redis_db}",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{database_url}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(worker_slots),
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": self.queue,
            "AIRFLOW__LOCAL_EXECUTOR__PARALLELISM": str(worker_slots),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            # Fast failure detection so kill scenarios finish in seconds, not the default 5 minutes.
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "3",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            # The DAG files do not change during a session: parse each once, not every 30 s.
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600",
            # Only the runs a scenario triggers: no scheduled run of a @daily example DAG on unpause.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            **extra_env,
        }
        self.components: dict[str, Component] = {}
        self.triggerer_jobs: dict[str, int] = {}
        self._token: str | None = None
        self._pgids: set[int] = set()

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self._create_database()
        self.cli("db", "migrate", timeout=300)
        self.add("api-server", "api-server", "--port", str(self.api_port), "--host", "127.0.0.1", "--workers", "1")
        self.add("scheduler", "scheduler")
        self.add("dag-processor", "dag-processor")
        self.start_triggerer("triggerer-1")
        self.start_triggerer("triggerer-2")
        if self.celery:
            self.start_worker("worker-1")
        self.wait_healthy()

    def add(self, name: str, *args: str, env: dict[str, str] | None = None) -> Component:
        component = Component(name, list(args), self.home / "components" / f"{name}.log", env or {})
        component.start(self.env, self.home)
        self._pgids.add(component.pid)
        self.components[name] = component
        return component

    def start_triggerer(self, name: str) -> int:
        """Start a triggerer and return its job id (triggerers start one at a time, so the newest
        job row is the one just started)."""
        known = set(self.triggerer_jobs.values())

        def new_job() -> int | None:
            self._check_components()
            rows = self.sql("SELECT id FROM job WHERE job_type = 'TriggererJob' ORDER BY id")
            fresh = [row[0] for row in rows if row[0] not in known]
            return fresh[-1] if fresh else None

        self.add(name, "triggerer", env={"AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port())})
        self.triggerer_jobs[name] = wait_until(new_job, timeout=120, interval=0.5, what=f"{name}'s job")
        return self.triggerer_jobs[name]

    def live_triggerers(self) -> dict[int, str]:
        """Job id -> component name of the triggerers still running."""
        return {job: name for name, job in self.triggerer_jobs.items() if self.components[name].running()}

    def kill_busiest_triggerer(self, deferred: Callable[[], int], count: int) -> tuple[str, dict[int, int]]:
        """Once ``count`` waits are deferred (``deferred()``) and each is held by a triggerer, SIGKILL
        the triggerer holding most of them; return its name and how the waits were split."""
        triggerers = self.live_triggerers()

        def all_held() -> dict[int, int] | None:
            rows = self.sql("SELECT triggerer_id, count(*) FROM trigger WHERE triggerer_id IS NOT NULL GROUP BY 1")
            split = {row[0]: row[1] for row in rows}
            return split if deferred() == count and sum(split.values()) == count else None

        split = wait_until(all_held, timeout=180, interval=0.5, what=f"{count} waits held by triggerers")
        victim = triggerers[max(split, key=split.get)]
        self.components[victim].kill()
        return victim, split

    def start_worker(self, name: str) -> Component:
        worker_env = {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
        return self.add(
            name,
            "celery",
            "worker",
            "--queues",
            self.queue,
            "--celery-hostname",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            env=worker_env,
        )

    def stop(self) -> list[str]:
        """Stop everything, drop the database; return a problem per process group left alive."""
        for component in reversed(list(self.components.values())):
            component.stop()
        leftovers = [f"process group {pgid} still alive" for pgid in sorted(self._pgids) if group_alive(pgid)]
        self._flush_redis()
        self._drop_database()
        return leftovers

    def wait_healthy(self, timeout: float = 180) -> None:
        def healthy() -> bool:
            self._check_components()
            try:
                health = self.rest("GET", "/api/v2/monitor/health", auth=False)
            except (OSError, urllib.error.URLError):
                return False
            parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            return all(health.get(part, {}).get("status") == "healthy" for part in parts)

        wait_until(healthy, timeout=timeout, interval=0.5, what="every component to report healthy")
        if self.celery:
            wait_until(lambda: self.celery_workers_ready(), timeout=timeout, interval=0.5, what="a Celery worker")

    def celery_workers_ready(self) -> bool:
        self._check_components()
        return any(
            "ready." in c.log.read_text(errors="replace")
            for n, c in self.components.items()
            if n.startswith("worker") and c.running()
        )

    def _check_components(self) -> None:
        for name, component in self.components.items():
            if component.crashed():
                assert component.process is not None
                tail = component.log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {component.process.returncode}:\n{tail}")

    # -- driving Airflow ---------------------------------------------------------------------

    def cli(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            [AIRFLOW, *args], env=self.env, cwd=self.home, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise RuntimeError(f"airflow {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def rest(self, method: str, path: str, payload: Any = None, *, auth: bool = True) -> Any:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.api_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
        except urllib.error.HTTPError as err:
            raise RuntimeError(f"{method} {path}: HTTP {err.code}: {err.read()[:2000]!r}") from err
        return json.loads(body) if body else None

    def token(self) -> str:
        """The admin's JWT, as the simple auth manager's login issues it."""
        if self._token is None:
            self._token = self.token_for(ADMIN)
        return self._token

    def token_for(self, user: str) -> str:
        """A fresh JWT of ``user``, logged in with their password."""
        return str(self.rest("POST", "/auth/token", self.credentials(user), auth=False)["access_token"])

    def credentials(self, user: str) -> dict[str, str]:
        return {"username": user, "password": self.passwords[user]}

    def _write_passwords(self, workdir: Path) -> Path:
        # Written before the API server starts: the simple auth manager keeps the passwords it finds.
        self.passwords = {user: secrets.token_urlsafe(12) for user in USERS}
        path = workdir / "passwords.json"
        path.write_text(json.dumps(self.passwords))
        return path

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> None:
        def parsed() -> bool:
            errors = self.rest("GET", "/api/v2/importErrors")["import_errors"]
            if errors:
                raise RuntimeError(f"DAG import errors: {errors}")
            try:
                self.rest("GET", f"/api/v2/dags/{dag_id}")
            except RuntimeError:
                return False
            return True

        wait_until(parsed, timeout=timeout, interval=0.5, what=f"the dag-processor to parse {dag_id}")
        self.rest("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None, *, logical_date: bool = True) -> str:
        """A new run of ``dag_id``; ``logical_date=False`` as Airflow 3's CLI and API make one by default."""
        self.wait_for_dag(dag_id)
        when = datetime.now(timezone.utc).isoformat() if logical_date else None
        run = self.rest("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": when, "conf": conf or {}})
        return str(run["dag_run_id"])

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.rest("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        def finished() -> str | None:
            self._check_components()
            state = self.run_state(dag_id, run_id)
            return state if state in ("success", "failed") else None

        return str(wait_until(finished, timeout=timeout, interval=0.5, what=f"{dag_id} run {run_id} to finish"))

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        rows = self.sql(
            "SELECT task_id, map_index, state, try_number, rendered_map_index FROM task_instance"
            " WHERE dag_id = %s AND run_id = %s ORDER BY task_id, map_index",
            (dag_id, run_id),
        )
        keys = ("task_id", "map_index", "state", "try_number", "rendered_map_index")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    # -- databases ---------------------------------------------------------------------------

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg2

        with psycopg2.connect(f"{POSTGRES}/{self.database}") as db, db.cursor() as cursor:
            cursor.execute(query, params)
            rows = cursor.fetchall() if cursor.description else []
        db.close()
        return rows

    def _admin(self, statement: str) -> None:
        import psycopg2

        db = psycopg2.connect(f"{POSTGRES}/postgres")
        db.autocommit = True
        try:
            with db.cursor() as cursor:
                cursor.execute(statement)
        finally:
            db.close()

    def _create_database(self) -> None:
        self._admin(f"CREATE DATABASE {self.database}")

    def _drop_database(self) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")

    def _flush_redis(self) -> None:
        if not self.celery:
            return
        import redis

        redis.Redis.from_url(f"{REDIS}/{self.redis_db}").flushdb()

    def logs(self, *names: str) -> str:
        """The output of the named components (all by default), for failure messages."""
        chosen = names or tuple(self.components)
        return "\n".join(
            f"===== {n} =====\n{self.components[n].log.read_text(errors='replace')[-4000:]}" for n in chosen
        )


class SlotSampler(threading.Thread):
    """Samples, every ``interval`` seconds, which ``task_id`` task instances hold a worker slot
    (state ``running``) while the simulator is still rendering their video.

    :param key_of: maps a task instance's map index to its generation's ``key_field`` value
        (``external_task_id`` or ``prompt``) in the simulator's stats.
    """

    def __init__(
        self,
        airflow: AirflowCluster,
        simulator: Any,
        dag_id: str,
        run_id: str,
        key_of: dict[int, str],
        key_field: str = "external_task_id",
        task_id: str = "generate",
    ) -> None:
        super().__init__(daemon=True)
        self.airflow, self.simulator, self.dag_id, self.run_id = airflow, simulator, dag_id, run_id
        self.key_of, self.key_field, self.task_id = key_of, key_field, task_id
        self.interval = 0.5
        self.slot_seconds_while_rendering = 0.0
        self.running_slot_seconds = 0.0
        self.render_seconds = 0.0
        self.max_rendering = 0
        # Map indexes seen deferred (no worker slot) while their own video rendered.
        self.deferred_while_rendering: set[int] = set()
        self._halt = threading.Event()

    def run(self) -> None:
        last = time.monotonic()
        while not self._halt.wait(self.interval):
            states = self.airflow.sql(
                "SELECT map_index, state FROM task_instance WHERE dag_id = %s AND run_id = %s"
                " AND task_id = %s AND state IN ('running', 'deferred')",
                (self.dag_id, self.run_id, self.task_id),
            )
            running = {index for index, state in states if state == "running"}
            generations = self.simulator.stats()["generations"].values()
            rendering = {g[self.key_field] for g in generations if g["status"] in ("queued", "generating")}
            held = sum(1 for index in running if self.key_of.get(index) in rendering)
            self.deferred_while_rendering |= {
                index for index, state in states if state == "deferred" and self.key_of.get(index) in rendering
            }
            # The real time since the last sample: a query can take longer than the interval.
            now = time.monotonic()
            elapsed, last = now - last, now
            self.slot_seconds_while_rendering += held * elapsed
            self.running_slot_seconds += len(running) * elapsed
            self.render_seconds += len(rendering) * elapsed
            self.max_rendering = max(self.max_rendering, len(rendering))

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)
