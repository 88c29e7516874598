"""A price before paying: a request quoted in USD from its model's published pricing. Pure, no I/O.

The API's live catalogue (``GET /v1/models?include=pricing``, ``shared/api/account``) gives each
model a ``pricing`` block, read by its ``kind``:

* ``fixed``: ``units`` of ``{name, price, per}``; ``price`` is the charge for ``per`` units. A video
  is priced per ``second`` (× the request's duration) or per ``video``/``generation``/``request``.
* ``variants``: one rate per combination of the request parameters named in ``dimensions``
  (``{"when": {"generate_audio": true}, "price": 0.14, "unit": "second", "per": 1}``).
* ``variable``: no quote ahead of the request, never a guess.

Spec decisions: a dimension or duration the request leaves unset takes the model's documented
default; with none documented the API decides, so the quote is the range over the values the
schema allows (a budget is checked against its top). A unit that cannot be counted before the
request (tokens, megapixels …) makes the price unknown.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_kling.exceptions import KlingValidationError

#: 1 USD = 2,000,000 credits (the docs' FAQ "how can I track my funds").
CREDITS_PER_USD = 2_000_000
PER_SECOND = frozenset({"second", "seconds", "sec", "s"})
PER_VIDEO = frozenset({"video", "videos", "generation", "generations", "request", "requests", "call"})
#: Dimension names the pricing may use for a request field of another name.
FIELD_OF_DIMENSION = {"audio": "generate_audio", "sound": "generate_audio"}


@dataclass(frozen=True)
class Quote:
    """What a request will cost, or why that cannot be said.

    :param model: the model quoted.
    :param low: the lowest charge in USD (``None``: no quote).
    :param high: the highest charge in USD; equal to ``low`` unless the API decides a dimension.
    :param basis: how it was computed, or why there is no quote, in one line.
    """

    model: str
    low: float | None
    high: float | None
    basis: str

    @property
    def known(self) -> bool:
        return self.high is not None

    def describe(self) -> str:
        if self.low is None or self.high is None:
            return f"no quote for {self.model}: {self.basis}"
        amount = usd(self.high) if self.low == self.high else f"{usd(self.low)} to {usd(self.high)}"
        return f"{amount} for {self.model} ({self.basis})"


def usd(amount: float) -> str:
    """``$0.49``, ``$0.098``, ``$1,250.00``: cents always, up to four decimals when they matter."""
    text = f"{amount:,.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def unknown(model: str, why: str) -> Quote:
    return Quote(model, None, None, why)


def quote(
    model: str,
    pricing: Mapping[str, Any] | None,
    body: Mapping[str, Any],
    *,
    defaults: Mapping[str, Any] | None = None,
    allowed: Mapping[str, Sequence[Any]] | None = None,
) -> Quote:
    """Quote one create request.

    :param model: the model's id.
    :param pricing: its catalogue ``pricing`` block (``None``: the catalogue has none).
    :param body: the request body (``duration``, and any field a variant depends on).
    :param defaults: field -> the model's documented default.
    :param allowed: field -> the values its schema allows, for a field with neither value nor default.
    """
    if not isinstance(pricing, Mapping):
        return unknown(model, "the price catalogue lists no pricing for it")
    kind = pricing.get("kind")
    if kind == "variable":
        return unknown(model, "its price is variable: the API cannot quote it before the request")
    chooser = _Chooser(body, defaults or {}, allowed or {})
    try:
        if kind == "fixed":
            return _fixed(model, pricing, chooser)
        if kind == "variants":
            return _variants(model, pricing, chooser)
    except _NoQuote as why:
        return unknown(model, str(why))
    return unknown(model, f"unknown pricing kind {kind!r}")


class _NoQuote(Exception):
    pass


@dataclass(frozen=True)
class _Chooser:
    """The values a request field may take: its own, the documented default, or every allowed value."""

    body: Mapping[str, Any]
    defaults: Mapping[str, Any]
    allowed: Mapping[str, Sequence[Any]]

    def values(self, name: str) -> list[Any]:
        field = FIELD_OF_DIMENSION.get(name, name)
        if self.body.get(field) is not None:
            return [self.body[field]]
        if self.defaults.get(field) is not None:
            return [self.defaults[field]]
        if self.allowed.get(field):
            return list(self.allowed[field])
        raise _NoQuote(f"{field} is not set and the model documents no default for it")


def _charge(rate: Mapping[str, Any], unit: str, seconds: float) -> float:
    price, per = rate.get("price"), rate.get("per", 1)
    if not isinstance(price, (int, float)) or not isinstance(per, (int, float)) or per <= 0:
        raise _NoQuote(f"a rate without a usable price/per: {dict(rate)}")
    if unit in PER_SECOND:
        return price / per * seconds
    if unit in PER_VIDEO:
        return price / per
    raise _NoQuote(f"it is priced per {unit}, which cannot be counted before the request")


def _seconds(chooser: _Chooser, unit: str) -> list[float]:
    if unit not in PER_SECOND:
        return [0.0]
    return [float(value) for value in chooser.values("duration")]


def _fixed(model: str, pricing: Mapping[str, Any], chooser: _Chooser) -> Quote:
    units = pricing.get("units") or []
    if not units:
        raise _NoQuote("its fixed price lists no units")
    names = {str(rate.get("name") or rate.get("unit") or "").lower() for rate in units}
    durations = _seconds(chooser, "second") if names & PER_SECOND else [0.0]
    totals = [
        sum(_charge(rate, str(rate.get("name") or rate.get("unit") or "").lower(), seconds) for rate in units)
        for seconds in durations
    ]
    return Quote(model, min(totals), max(totals), _basis(units, durations))


def _variants(model: str, pricing: Mapping[str, Any], chooser: _Chooser) -> Quote:
    dimensions = [str(name) for name in pricing.get("dimensions") or []]
    options = [chooser.values(name) for name in dimensions]
    totals = []
    used = []
    for combination in itertools.product(*options):
        wanted = dict(zip(dimensions, combination, strict=True))
        rate = next((v for v in pricing.get("variants") or [] if _matches(v.get("when") or {}, wanted)), None)
        if rate is None:
            raise _NoQuote(f"no published rate for {_spelled(wanted)}")
        unit = str(rate.get("unit") or "").lower()
        for seconds in _seconds(chooser, unit):
            totals.append(_charge(rate, unit, seconds))
            used.append(f"{_spelled(wanted)}: {_basis([rate], [seconds])}")
    if not totals:
        raise _NoQuote("its variants list no rate")
    return Quote(model, min(totals), max(totals), "; ".join(dict.fromkeys(used)))


def _matches(when: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    return all(_same(when.get(name), value) for name, value in wanted.items())


def _same(published: Any, value: Any) -> bool:
    return str(published).strip().lower() == str(value).strip().lower()


def _spelled(values: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{name}={str(value).lower() if isinstance(value, bool) else value}" for name, value in values.items()
    )


def _basis(rates: Sequence[Mapping[str, Any]], durations: Sequence[float]) -> str:
    parts = []
    for rate in rates:
        unit = str(rate.get("name") or rate.get("unit") or "").lower()
        per = rate.get("per", 1)
        each = f"{usd(float(rate.get('price', 0)))} per {'' if per == 1 else f'{per:g} '}{unit}"
        if unit in PER_SECOND:
            seconds = " or ".join(f"{s:g}" for s in sorted(set(durations)))
            each += f" × {seconds} s"
        parts.append(each)
    return " + ".join(parts)


def credits_to_usd(credits: float) -> float:
    return credits / CREDITS_PER_USD


def usd_to_credits(amount: float) -> int:
    return round(amount * CREDITS_PER_USD)


#: The cost headers of every non-streaming JSON answer (request-tracing-and-cost.md) -> usage keys.
COST_HEADERS = {"x-aimlapi-credits-used": "credits_used", "x-aimlapi-usd-spent": "usd_spent"}


def usage_from_headers(headers: Mapping[str, str]) -> dict[str, float]:
    """``credits_used`` / ``usd_spent`` from an answer's cost headers (lower-case names)."""
    usage = {}
    for header, key in COST_HEADERS.items():
        try:
            usage[key] = float(headers[header])
        except (KeyError, TypeError, ValueError):
            continue
    return usage


def parse_cap(max_usd: Any, *, what: str = "max_usd") -> float | None:
    """A dollar cap as given (``None``: no cap); numeric strings are read (templated values).

    :raises KlingValidationError: zero, negative, or not a number.
    """
    if max_usd is None or max_usd == "":
        return None
    try:
        cap = float(max_usd)
    except (TypeError, ValueError):
        cap = float("nan")
    if isinstance(max_usd, bool) or not cap > 0 or cap == float("inf"):
        raise KlingValidationError([f"{what} must be a positive number of US dollars, got {max_usd!r}"])
    return cap


def over_budget(result: Quote, cap: float) -> str | None:
    """Why a request must not be sent under ``cap``, or ``None`` when it fits."""
    if result.high is None:
        return f"{result.describe()}; max_usd={cap:g} needs a price before paying (raise or remove the cap to send it)"
    if result.high > cap:
        return f"{result.describe()} is above max_usd={usd(cap)}: not sent"
    return None


def cost_of(usage: Mapping[str, float]) -> dict[str, Any] | None:
    """``{"usd": …, "credits": …}`` from reported usage; ``None`` when nothing was reported.

    Read from ``usd_spent``, else ``credits_used`` or the 2025-11 spelling ``tokens_used`` (both in
    credits).
    """
    credits = usage.get("credits_used", usage.get("tokens_used"))
    spent = usage.get("usd_spent")
    if spent is None and credits is None:
        return None
    amount = float(spent) if spent is not None else credits_to_usd(float(credits or 0))
    return {"usd": round(amount, 9), "credits": int(credits) if credits is not None else usd_to_credits(amount)}


def describe_cost(usage: Mapping[str, float]) -> str:
    """``cost $0.49 = 980,000 credits`` for a log line, or what was reported instead."""
    cost = cost_of(usage)
    if cost is None:
        return "cost not reported"
    return f"cost {usd(cost['usd'])} = {cost['credits']:,} credits"
