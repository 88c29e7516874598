"""The task side, shared by the operators, the sensor and the TaskFlow decorator.

* :mod:`.base` -- :class:`KlingTask`: the connection, the hook, the extra link and what a task
  records in XCom;
* :mod:`.submit` -- validate, then submit exactly once per task instance (reattach on retries);
* :mod:`.ledger` -- where the submitted id is remembered across tries;
* :mod:`.mapped_order` -- the order a run gave its mapped rows, so a cleared run keeps each at its place;
* :mod:`.wait` -- return a finished generation, defer to the triggerer, or poll in place;
* :mod:`.failures` -- the one place Kling errors become Airflow's fail-or-retry semantics.
"""
