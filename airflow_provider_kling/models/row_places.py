"""Which place (map index) each row of a mapped list takes when a cleared run plans it again. Pure.

A mapped task instance's ledger record is kept per map index: a row that moved to another index
would meet another row's record (and pay again). So a run's later plan keeps every row of its
earlier plan at its place, and puts the rows new to the run after them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

Entry = TypeVar("Entry")


def keep_places(
    planned: Sequence[str] | None, entries: Sequence[Entry], key: Callable[[Entry], str]
) -> tuple[list[Entry], list[str]]:
    """``entries`` in the order that keeps each one the run planned before at its place.

    :param planned: the keys in the order the run mapped them before (``None``: its first plan).
    :param entries: what is to be mapped now.
    :param key: an entry's key (a row's output name, a clip's path).
    :returns: the entries planned before, in their planned order, then those new to the run in their
        own order; and the planned keys no entry has now: their places cannot be kept (without a
        row there, every row after it would move down).
    """
    if not planned:
        return list(entries), []
    by_key = {key(entry): entry for entry in entries}
    known = set(planned)
    kept = [by_key[name] for name in planned if name in by_key]
    missing = [name for name in planned if name not in by_key]
    return kept + [entry for entry in entries if key(entry) not in known], missing
