"""Minimal stand-ins for Airflow's runtime task instance and task state store.

Unit tests of operators run without a metadata database; these play the parts the Task SDK plays
at run time (XCom push, try number, the per-task-instance state store). Our own code is never
replaced: HTTP goes to the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any


@dataclass
class FakeStateStore:
    values: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any, *, retention: Any = None) -> None:
        self.values[key] = value


class RefusingStore(FakeStateStore):
    """A task state store whose writes fail, as an unwritable object-storage backend's do."""

    def set(self, key: str, value: Any, *, retention: Any = None) -> None:
        raise PermissionError(f"[Errno 13] Permission denied: '/state/{key}'")


class ForgetfulStore(FakeStateStore):
    """A store that accepts writes and keeps none (a Variable shadowed by a secrets backend reads the same)."""

    def set(self, key: str, value: Any, *, retention: Any = None) -> None:
        return None


class UnreadableStore(FakeStateStore):
    """A store that cannot be read: what was paid for is unknown."""

    def get(self, key: str, default: Any = None) -> Any:
        raise TimeoutError("the execution API did not answer")


class LosesTheIdStore(FakeStateStore):
    """Keeps a create's intent, then fails to write the generation id its answer named (as if the worker died)."""

    def set(self, key: str, value: Any, *, retention: Any = None) -> None:
        if isinstance(value, dict) and value.get("generation_id"):
            raise ConnectionError("the metadata database went away")
        super().set(key, value)


@dataclass
class FakeTaskInstance:
    dag_id: str = "dag"
    run_id: str = "run"
    task_id: str = "task"
    map_index: int = -1
    try_number: int = 1
    #: Airflow raises it when a person clears the task instance, never across its automatic retries.
    max_tries: int = 0
    start_date: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    xcoms: dict[str, Any] = field(default_factory=dict)
    #: (task id, key) -> what ``xcom_pull`` returns for other tasks' XComs.
    upstream: dict[tuple[str, str], Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value", **_: Any) -> Any:
        return self.upstream.get((str(task_ids), key))


def cleared(ti: FakeTaskInstance, times: int = 1) -> FakeTaskInstance:
    """``ti`` after a person cleared it ``times`` times: its next try, ``max_tries`` raised as Airflow raises it.

    An automatic retry is ``ti`` with a higher ``try_number`` and the same ``max_tries``.
    """
    return replace(ti, try_number=ti.try_number + times, max_tries=ti.max_tries + times, xcoms={})


class FakeOutletEvents:
    """Like Airflow's ``outlet_events`` accessor: one event (with an ``extra`` dict) per asset."""

    def __init__(self) -> None:
        self.events: dict[tuple[str, str], Any] = {}

    def __getitem__(self, asset: Any) -> Any:
        from types import SimpleNamespace

        return self.events.setdefault((asset.name, asset.uri), SimpleNamespace(extra={}))


def make_context(
    task: Any, *, store: FakeStateStore | None = None, ti: FakeTaskInstance | None = None
) -> dict[str, Any]:
    return {
        "task": task,
        "ti": ti or FakeTaskInstance(task_id=task.task_id),
        "task_state_store": store if store is not None else FakeStateStore(),
    }
