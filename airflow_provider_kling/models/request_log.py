"""What the API's request log (``GET /v2/logs``) proves about one create. Pure: no I/O.

The log lists one row per request, newest first, with its ``model`` (``source/alias``), ``status``
(``succeeded`` | ``failed``), ``cost`` and the ``client_request_id`` it was sent with
(``shared/api/account/usage-logs.md``, ``logs-v2.json``). A row counts for a create only when its
client request id is the create's, exactly, and its model is the create's (its id or an alias,
in any case): another model's row carrying the same id (another tool, another deployment) proves
nothing about ours.

* a ``succeeded`` row names the generation the create made (``inference_id``);
* ``failed`` rows prove nothing was made once there is one for every time the create went out
  (a 429 or 503 is resent under the same id; each is a failed row at zero cost). When that count
  is unknown (a retry after the worker died), only after the whole wait without a success;
* anything else (no row, two generations for one id, a failed row that cost money, a row without
  the fields the log documents) proves nothing: the caller fails, saying the create may have been
  billed, and never creates again on its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_provider_kling.models.catalog import get_model, model_id_for
from airflow_provider_kling.models.values import is_money

SUCCEEDED = "succeeded"
FAILED = "failed"
UNKNOWN = "unknown"
#: The longest window the log accepts (``start``..``end``), in seconds.
MAX_WINDOW = 92 * 86400.0
#: Most ``model`` values one request may carry.
MAX_MODELS = 50


@dataclass(frozen=True)
class LoggedCreate:
    """What the log proves a create did.

    :param outcome: :data:`SUCCEEDED` (a generation was made), :data:`FAILED` (nothing was made)
        or :data:`UNKNOWN` (the log cannot prove either).
    :param inference_id: the generation a successful create made.
    :param usd: what it cost, ``None`` when the row's figure is missing or not a finite, non-negative number.
    :param reason: why the outcome is unknown.
    """

    outcome: str
    inference_id: str | None = None
    usd: float | None = None
    reason: str = ""

    @property
    def succeeded(self) -> bool:
        return self.outcome == SUCCEEDED

    @property
    def failed(self) -> bool:
        return self.outcome == FAILED


def unknown(reason: str) -> LoggedCreate:
    return LoggedCreate(UNKNOWN, reason=reason)


def search_window(sent_at: float | None, now: float, slack: float) -> tuple[float, float]:
    """The narrowest ``(start, end)`` the create's row can be in, as epoch seconds.

    From its send to now, widened by ``slack`` for clocks that differ, and at most the 92 days the
    log accepts (then the newest). A send time that is missing, not finite or in the future reads as unknown: the widest window.
    """
    end = now + slack
    if sent_at is None or not math.isfinite(sent_at) or sent_at > end:
        return end - MAX_WINDOW, end
    return max(sent_at - slack, end - MAX_WINDOW), end


def iso(epoch: float) -> str:
    """``2026-07-01T00:00:00Z``: the window bounds as the log reads them (UTC)."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def model_names(model: str) -> list[str]:
    """The ``model`` values to ask the log for: the create's model and every other name the catalog knows for it."""
    known = model_id_for(model)
    names = [model, *([known, *get_model(known).aliases] if known else [])]
    return list(dict.fromkeys(names))[:MAX_MODELS]


@dataclass(frozen=True)
class Page:
    """One page of the log.

    :param rows: its rows (anything that is not an object dropped).
    :param has_more: whether the log says another page follows.
    :param total: how many rows the log says match, when it says so.
    """

    rows: list[dict[str, Any]]
    has_more: bool
    total: int | None


def read_page(body: Any) -> Page | None:
    """A page as the log documents it (``data`` and ``pagination``), ``None`` for any other body."""
    if not isinstance(body, Mapping) or not isinstance(body.get("data"), list):
        return None
    pagination = body.get("pagination")
    if not isinstance(pagination, Mapping):
        return None
    total = pagination.get("total")
    rows = [dict(row) for row in body["data"] if isinstance(row, Mapping)]
    return Page(rows, pagination.get("has_more") is True, total if _is_count(total) else None)


def next_offset(page: Page, offset: int) -> int | None:
    """Where the next page starts; ``None`` when the log is read to the end.

    An empty page ends it whatever ``has_more`` says, so a log that never ends cannot loop.
    """
    if not page.rows or not page.has_more:
        return None
    following = offset + len(page.rows)
    if page.total is not None and following >= page.total:
        return None
    return following


def outcome(
    rows: Iterable[Mapping[str, Any]],
    client_request_id: str,
    models: Sequence[str],
    *,
    sends: int | None,
    final: bool,
) -> LoggedCreate | None:
    """What ``rows`` prove about the create sent with ``client_request_id`` to one of ``models``.

    :param rows: every row read from the log's window.
    :param models: the create's model and its other names (compared in any case).
    :param sends: how many times the create went out under this id, ``None`` when unknown.
    :param final: whether the wait is over (else ``None`` means "read the log again later").
    """
    names = {name.lower() for name in models}
    ours = [
        row
        for row in rows
        if row.get("client_request_id") == client_request_id
        and isinstance(row.get("model"), str)
        and row["model"].lower() in names
    ]
    made = {_id_of(row) for row in ours if row.get("status") == SUCCEEDED}
    if len(made) > 1 or None in made:
        return unknown(f"the log's rows contradict each other: {len(made)} generations for one create")
    if made:
        inference_id = str(made.pop())
        usd = next((usd_of(row) for row in ours if _id_of(row) == inference_id), None)
        return LoggedCreate(SUCCEEDED, inference_id, usd)
    strange = [row for row in ours if row.get("status") != FAILED or usd_of(row) != 0.0 or not _id_of(row)]
    if strange:
        return unknown(f"a row of this create is not one the log documents for a failed request: {_shown(strange[0])}")
    failures = len({_id_of(row) for row in ours})
    if failures and ((sends is not None and failures >= sends) or (sends is None and final)):
        return LoggedCreate(FAILED)
    if not final:
        return None
    if failures:
        return unknown(f"{failures} failed row(s) for {sends} send(s): the last send shows no row")
    return unknown("no row shows it")


def usd_of(row: Mapping[str, Any]) -> float | None:
    """A row's ``cost.usd`` when it is a finite, non-negative number; else ``None`` (unknown, never 0)."""
    cost = row.get("cost")
    value = cost.get("usd") if isinstance(cost, Mapping) else None
    return float(value) if is_money(value) else None


def _id_of(row: Mapping[str, Any]) -> str | None:
    """A row's ``inference_id`` when it is a non-empty string (anything else names no generation)."""
    value = row.get("inference_id")
    return value if isinstance(value, str) and value else None


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _shown(row: Mapping[str, Any]) -> str:
    fields = ("created", "status", "model", "cost", "inference_id")
    return ", ".join(f"{name}={row.get(name)!r}" for name in fields)
