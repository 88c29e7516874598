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

Money never passes on a bad number: a published ``price``/``per``, or a reported cost, that is not a
finite, non-negative JSON number (:func:`.is_money`) is *unknown*: no quote, no cost (:data:`UNKNOWN`),
never a NaN that compares as "under the cap" nor a negative row that lowers a total.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.values import describe, is_money

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
    :param bad: the figure that left it without a quote because it is not a finite, non-negative
        number (``price=nan``); ``None`` when there is none: a quote, or none by design (a
        ``variable`` price) or for want of facts (no catalogue entry, an unset field).

    A quote is known only when both are finite, non-negative numbers: a NaN never passes a cap.
    """

    model: str
    low: float | None
    high: float | None
    basis: str
    bad: str | None = None

    @property
    def known(self) -> bool:
        return is_money(self.low) and is_money(self.high)

    def describe(self) -> str:
        if self.low is None or self.high is None:
            return f"no quote for {self.model}: {self.basis}"
        if not self.known:
            return f"no quote for {self.model}: {describe(self.high)} is not a finite amount ({self.basis})"
        amount = usd(self.high) if self.low == self.high else f"{usd(self.low)} to {usd(self.high)}"
        return f"{amount} for {self.model} ({self.basis})"


def usd(amount: float) -> str:
    """``$0.49``, ``$0.098``, ``$1,250.00``: cents always, up to four decimals when they matter."""
    text = f"{amount:,.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def unknown(model: str, why: str, *, bad: str | None = None) -> Quote:
    """No quote for ``model``, and why; ``bad`` names the figure that is not a finite, non-negative number."""
    return Quote(model, None, None, why, bad)


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
    problems = pricing_problems(pricing)
    if problems:
        return unknown(
            model,
            f"the price catalogue gives it a rate that is not a finite, non-negative number: {', '.join(problems)}",
            bad=", ".join(dict.fromkeys(problems)),
        )
    chooser = _Chooser(body, defaults or {}, allowed or {})
    try:
        if kind == "fixed":
            result = _fixed(model, pricing, chooser)
        elif kind == "variants":
            result = _variants(model, pricing, chooser)
        else:
            return unknown(model, f"unknown pricing kind {kind!r}")
    except _NoQuote as why:
        return unknown(model, str(why), bad=why.bad)
    if not result.known:  # e.g. a huge rate × seconds overflowing
        shown = describe(result.high)
        return unknown(model, f"its price works out to {shown}, not a finite amount", bad=f"price={shown}")
    return result


def pricing_problems(pricing: Mapping[str, Any]) -> list[str]:
    """What makes a catalogue ``pricing`` block unusable (``["price=nan"]``; empty when nothing does).

    Each rate whose ``price`` is not a finite, non-negative number, or whose ``per`` is not a finite
    number above 0.

    :param pricing: one model's ``pricing`` block.
    """
    problems = []
    for key in ("units", "variants"):
        rates = pricing.get(key)
        if rates is None:
            continue
        if not isinstance(rates, list):
            problems.append(f"{key}={describe(rates)} is not a list of rates")
            continue
        problems += [problem for rate in rates if (problem := _rate_problem(rate))]
    return problems


def _rate_problem(rate: Any) -> str | None:
    if not isinstance(rate, Mapping):
        return f"rate {describe(rate)} is not an object"
    price, per = rate.get("price"), rate.get("per", 1)
    if not is_money(price):
        return f"price={describe(price)}"
    if not is_money(per) or per == 0:
        return f"per={describe(per)} (must be above 0)"
    return None


class _NoQuote(Exception):
    """No quote; ``bad`` names the figure that is not a finite, non-negative number, when that is why."""

    def __init__(self, why: str, *, bad: str | None = None) -> None:
        super().__init__(why)
        self.bad = bad


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
    """A rate checked by :func:`pricing_problems` times the request's seconds (or once per video)."""
    price, per = float(rate["price"]), float(rate.get("per", 1))
    if unit in PER_SECOND:
        return price / per * seconds
    if unit in PER_VIDEO:
        return price / per
    raise _NoQuote(f"it is priced per {unit}, which cannot be counted before the request")


def _seconds(chooser: _Chooser, unit: str) -> list[float]:
    if unit not in PER_SECOND:
        return [0.0]
    return [_duration(value) for value in chooser.values("duration")]


def _duration(value: Any) -> float:
    """A duration in seconds: a number or a numeric string (templated values render as strings)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        seconds = math.nan
    if isinstance(value, bool) or not (math.isfinite(seconds) and seconds >= 0):
        raise _NoQuote(f"duration={describe(value)} is not a number of seconds", bad=f"duration={describe(value)}")
    return seconds


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


def parse_cap(max_usd: Any, *, what: str = "max_usd") -> float | None:
    """A dollar cap as given (``None``: no cap); numeric strings are read (templated values).

    :raises KlingValidationError: zero, negative, or not a number.
    """
    if max_usd is None or max_usd == "":
        return None
    try:
        cap = float(max_usd)
    except (TypeError, ValueError, OverflowError):
        cap = float("nan")
    if isinstance(max_usd, bool) or not cap > 0 or cap == float("inf"):
        raise KlingValidationError([f"{what} must be a positive number of US dollars, got {max_usd!r}"])
    return cap


def over_budget(result: Quote, cap: float) -> str | None:
    """Why a request must not be sent under ``cap``, or ``None`` when it fits."""
    if not result.known or result.high is None:
        return f"{result.describe()}; max_usd={cap:g} needs a price before paying (remove the cap to send it unpriced)"
    if result.high > cap:
        return f"{result.describe()} is above max_usd={usd(cap)}: not sent"
    return None
