"""Which place each row of a mapped list takes when a cleared run plans it again."""

from __future__ import annotations

import pytest

from airflow_provider_kling.models.row_places import keep_places


@pytest.mark.parametrize(
    ("planned", "now", "order", "missing"),
    [
        (None, ["a", "b"], ["a", "b"], []),  # the run's first plan
        ([], ["a", "b"], ["a", "b"], []),
        (["a", "b"], ["b"], ["b"], ["a"]),  # a is gone: b cannot keep its place without it
        (["b", "a"], ["a", "b", "c"], ["b", "a", "c"], []),  # planned places kept, new rows after them
        (["a", "b"], ["c", "b", "a"], ["a", "b", "c"], []),
        (["a", "b", "c"], ["c"], ["c"], ["a", "b"]),
    ],
)
def test_the_rows_planned_before_keep_their_places(planned, now, order, missing):
    entries = [{"name": name} for name in now]
    kept, gone = keep_places(planned, entries, key=lambda entry: entry["name"])
    assert ([entry["name"] for entry in kept], gone) == (order, missing)
