"""What a generation cost, as the API reported it: usage figures -> dollars and credits. Pure, no I/O.

The API reports a cost in an answer's headers (``x-aimlapi-usd-spent``, ``x-aimlapi-credits-used``)
and in ``meta.usage`` (``usd_spent``, ``credits_used`` or the 2025-11 ``tokens_used``), 1 USD =
2,000,000 credits (``shared/api/account``).

Spec decisions:

* Where the API states a dollar figure, that is the cost; credits are converted to dollars only where
  no dollar figure is stated.
* A stated figure that is not a finite, non-negative number (:func:`.is_money`: NaN, infinity,
  ``1e999``, negative, a string, a boolean) makes the cost :data:`UNKNOWN`: it is never replaced by
  the other figure, never added to a total, never shown as a dollar amount.
* Inside a :class:`.Generation` such a figure is a float (NaN for what is not a number at all); in
  XCom, sidecars and reports it is kept as a short text (``"nan"``, ``"inf"``, ``"-1"``) by
  :func:`json_usage`, so every value stays JSON (no ``NaN``/``Infinity``) and nothing adds it up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_kling.exceptions import KlingResponseError
from airflow_provider_kling.models.pricing import usd
from airflow_provider_kling.models.values import describe, is_money, is_number, shorten

#: 1 USD = 2,000,000 credits (the docs' FAQ "how can I track my funds").
CREDITS_PER_USD = 2_000_000
#: A cost (or a total) that was reported but cannot be computed: what XCom, sidecars and reports say.
UNKNOWN = "unknown"
#: The cost headers of every non-streaming JSON answer (request-tracing-and-cost.md) -> usage keys.
COST_HEADERS = {"x-aimlapi-credits-used": "credits_used", "x-aimlapi-usd-spent": "usd_spent"}
#: The ``meta.usage`` keys that carry a cost (``tokens_used`` is the 2025-11 spelling of credits).
USAGE_KEYS: tuple[str, ...] = ("credits_used", "tokens_used", "usd_spent")


def credits_to_usd(credits: float) -> float:
    return credits / CREDITS_PER_USD


def usd_to_credits(amount: float) -> int:
    return round(amount * CREDITS_PER_USD)


def reported_figure(value: Any) -> float:
    """A ``meta.usage`` figure as a float.

    A JSON number as it is (beyond any float: infinity), and NaN for anything else (a string, a
    boolean), so that a figure stated badly reads as unknown.
    """
    if not is_number(value):
        return math.nan
    try:
        return float(value)
    except OverflowError:
        return math.inf


def usage_from_headers(headers: Mapping[str, str]) -> dict[str, float]:
    """``credits_used`` / ``usd_spent`` from an answer's cost headers (lower-case names).

    A header is text: a decimal number is read as it is; one that is present but no number at all
    reads as NaN (its figure unknown); an absent or empty header is not reported.
    """
    usage = {}
    for header, key in COST_HEADERS.items():
        text = str(headers.get(header) or "").strip()
        if not text:
            continue
        try:
            usage[key] = float(text)
        except ValueError:
            usage[key] = math.nan
    return usage


def _credits(usage: Mapping[str, Any]) -> Any:
    credits = usage.get("credits_used")
    return usage.get("tokens_used") if credits is None else credits


def cost_of(usage: Mapping[str, Any]) -> dict[str, Any] | str | None:
    """``{"usd": …, "credits": …}`` from reported usage, ``None`` (not reported) or :data:`UNKNOWN`.

    Unknown when what was reported is not a finite, non-negative number. Read from ``usd_spent`` where stated (credits then as reported, else converted from it), else from
    ``credits_used`` or ``tokens_used`` (both in credits). A bad ``usd_spent`` makes the cost unknown
    even beside good credits: the dollar figure the API states is the cost.

    :param usage: ``Generation.usage``, or its XCom form (:func:`json_usage`).
    """
    spent, credits = usage.get("usd_spent"), _credits(usage)
    if spent is None and credits is None:
        return None
    if spent is None:
        if not is_money(credits):
            return UNKNOWN
        spent = credits_to_usd(float(credits))
    elif not is_money(spent):
        return UNKNOWN
    if is_money(credits):
        return {"usd": round(float(spent), 9), "credits": int(credits)}
    if not math.isfinite(float(spent) * CREDITS_PER_USD):  # a dollar figure too large to count in credits
        return UNKNOWN
    return {"usd": round(float(spent), 9), "credits": usd_to_credits(float(spent))}


def bad_figures(usage: Mapping[str, Any]) -> list[str]:
    """``["usd_spent=inf"]``: each reported figure that is not a finite, non-negative number."""
    return [f"{key}={figure_text(value)}" for key, value in usage.items() if value is not None and not is_money(value)]


def describe_cost(usage: Mapping[str, Any]) -> str:
    """``cost $0.49 = 980,000 credits`` for a log line, or what was reported instead."""
    cost = cost_of(usage)
    if cost is None:
        return "cost not reported"
    if not isinstance(cost, dict):
        bad = ", ".join(bad_figures(usage)) or "a figure too large to count"
        return f"cost unknown ({bad}: not a finite, non-negative number)"
    return f"cost {usd(cost['usd'])} = {cost['credits']:,} credits"


def figure_text(value: Any) -> str:
    """A reported figure in a few characters: ``980000``, ``0.49``, ``inf``, ``nan``, ``-1``."""
    if is_number(value):
        return f"{reported_figure(value):g}"
    return shorten(str(value), 24)


def json_usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    """``usage`` for XCom, a sidecar or a report: JSON, with no NaN or Infinity.

    Each good figure as its number, each bad one as :func:`figure_text` (``{"tokens_used": "inf"}``),
    so that it is never added up.
    """
    return {key: value if is_money(value) else figure_text(value) for key, value in usage.items()}


def total_of(figures: Iterable[Any]) -> float | str:
    """The sum of money figures, ``None`` skipped (not reported).

    :data:`UNKNOWN` when any other figure is not a finite, non-negative number, or the sum is not
    finite: one bad or negative figure can never lower (or hide in) a total.
    """
    total = 0.0
    for figure in figures:
        if figure is None:
            continue
        if not is_money(figure):
            return UNKNOWN
        total += float(figure)
    return total if math.isfinite(total) else UNKNOWN


def cost_usd(cost: Any) -> Any:
    """The dollars of a :func:`cost_of` value: its ``usd``, ``None`` (not reported) or :data:`UNKNOWN`."""
    if cost is None:
        return None
    usd_figure = cost.get("usd") if isinstance(cost, Mapping) else None
    return usd_figure if is_money(usd_figure) else UNKNOWN


def known_usd(cost: Any) -> float | None:
    """The dollars of a :func:`cost_of` value when known, else ``None`` (for a field typed as a number)."""
    figure = cost_usd(cost)
    return float(figure) if is_money(figure) else None


def amount_text(figure: Any) -> str:
    """A dollar figure for people: ``$0.49``; ``unknown`` for one that is not money; ``not reported``."""
    if figure is None:
        return "not reported"
    return usd(float(figure)) if is_money(figure) else UNKNOWN


def balance_from(answer: Any) -> float:
    """The balance in US dollars from a ``GET /v2/billing`` answer (``{current_balance, currency}``).

    :raises KlingResponseError: ``current_balance`` is missing or not a finite, non-negative number:
        the balance is unknown, and nothing may be paid on it.
    """
    balance = answer.get("current_balance") if isinstance(answer, Mapping) else None
    if not is_money(balance):
        raise KlingResponseError(
            f"GET /v2/billing answered current_balance={describe(balance)}, not a finite, non-negative number "
            "of US dollars: the balance is unknown, so nothing is paid on it"
        )
    return float(balance)
