"""The order a run gave its mapped rows, remembered across clears, so that each row keeps its map index.

The ledger (:mod:`.ledger`) keeps what a mapped task instance paid for by map index: on Airflow
>= 3.3 the task state store is scoped to (dag run, task, map index); on 3.1/3.2 a Variable is named
after the task instance, map index included. A task that plans a mapped list (a batch's rows, a
folder's photos) skips what is already delivered; when a person clears the run after some rows
were delivered, the rows left would move down onto other rows' map indexes, each meeting another
row's record, and a row paid for but not yet delivered would be paid for again.

So the planning task records the order it gave its rows here, in the same kind of store as the
ledger (its own task state store, else a Variable named after it), which lives exactly as long as
the records of the rows it planned; a new plan of the same run keeps each recorded row at its place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import Variable

from airflow_provider_kling.exceptions import KlingLedgerError
from airflow_provider_kling.tasks.ledger import VARIABLE_FAILURE_HINT

STATE_KEY = "kling_mapped_order"


class MappedOrder:
    """Reads and writes the order of the rows the running (planning) task instance mapped.

    :param context: the planning task's Airflow context.
    """

    def __init__(self, context: Mapping[str, Any]) -> None:
        self._store = context.get("task_state_store")
        ti = context.get("ti")
        parts = [getattr(ti, attr, None) for attr in ("dag_id", "run_id", "task_id", "map_index")]
        self._variable_key = ":".join([STATE_KEY, *(str(part) for part in parts)])
        #: Where the order is kept, for messages.
        self.backend = "task state store" if self._store is not None else f"Variable {self._variable_key!r}"

    def load(self) -> list[str] | None:
        """The rows' keys in the order this run mapped them; ``None`` before its first plan.

        :raises KlingLedgerError: when the store cannot be read, or holds something else than a list
            of keys: which row had which place (and paid record) is then unknown.
        """
        try:
            stored = (
                self._store.get(STATE_KEY)
                if self._store is not None
                else Variable.get(self._variable_key, default=None)
            )
            if isinstance(stored, str):
                stored = json.loads(stored)
        except Exception as err:
            raise KlingLedgerError(self._unusable("read from", f"{type(err).__name__}: {err}")) from err
        if stored is None:
            return None
        if not (isinstance(stored, list) and all(isinstance(key, str) for key in stored)):
            raise KlingLedgerError(self._unusable("read from", "it holds no list of rows"))
        if len(set(stored)) != len(stored):  # one row at two places: the second would meet another's record
            raise KlingLedgerError(self._unusable("read from", "it names a row twice"))
        return stored

    def keep(self, keys: Sequence[str]) -> None:
        """Record ``keys`` as the rows' order, and read it back.

        :raises KlingLedgerError: when it cannot be kept (nothing was sent: the rows are mapped after this).
        """
        try:
            if self._store is not None:
                self._store.set(STATE_KEY, list(keys))
            else:
                Variable.set(
                    self._variable_key,
                    json.dumps(list(keys)),
                    description="Order of the rows a Kling batch run mapped (airflow-provider-kling); safe to "
                    "delete once the run is done",
                )
        except Exception as err:
            raise KlingLedgerError(self._unusable("kept in", f"{type(err).__name__}: {err}")) from err
        if self.load() != list(keys):
            raise KlingLedgerError(self._unusable("kept in", "it was written but reads back otherwise"))

    def _unusable(self, how: str, cause: str) -> str:
        return (
            f"Nothing was sent: the order of this run's rows could not be {how} the {self.backend} ({cause}). "
            "Each row keeps its place (its map index, where what it paid for is recorded) only through it. "
            f"Fix the {self.backend}{VARIABLE_FAILURE_HINT if self._store is None else ''}, then clear the task"
        )
