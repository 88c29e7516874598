"""The account side of the simulated API, from ``shared/api/account``: prices, balance, request logs.

* ``GET /v1/models`` (no key): every Kling model with its ``aliases``; ``?include=pricing`` adds the
  ``pricing`` block (``fixed`` per second or per video, ``variants`` by request parameter,
  ``variable`` for the avatars, priced by their audio's length); ``?id=`` matches ids and aliases;
  an ``ETag`` and ``304`` for ``If-None-Match``.
* ``GET /v2/billing``: the balance, which goes down as videos complete (charges land after completion).
* ``GET /v2/logs``: one row per create request, failed ones at zero cost, with the model as its id
  (``source/alias``), the client request id it was sent with and its ``inference_id`` (the
  generation id); a row appears ``log_delay`` seconds after its request, as rows come from an
  analytics pipeline. A window (``period`` or ``start`` + ``end``, at most 92 days), repeated
  ``model`` (``source/alias`` or the bare alias, exact) and ``status`` filters, ``limit`` 1-100 and
  ``offset``, newest first, with ``has_more`` and ``total``; anything else is a 400, as the API's.

The prices are this simulator's own (plausible, not the API's); what it charges is computed here,
apart from the provider's quote.

``bad_money`` (a :class:`.SimulatorConfig` knob) writes a chosen JSON text, ``NaN`` or ``1e999`` say,
in place of the money figures of one place (:data:`BAD_MONEY_PLACES`), so a client can be tested
against answers it must not pay on; everything else stays as the contract says.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from airflow_provider_kling.simulator.models import ALIASES, SIM_MODELS

CREDITS_PER_USD = 2_000_000
#: What ``X-Client-Request-Id`` may be; anything else is silently dropped (request-tracing-and-cost.md).
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def _per_second(price: float) -> dict[str, Any]:
    return {"kind": "fixed", "currency": "USD", "units": [{"name": "second", "price": price, "per": 1}]}


def _by(dimension: str, rates: dict[Any, float]) -> dict[str, Any]:
    variants = [
        {"when": {dimension: value}, "price": price, "unit": "second", "per": 1} for value, price in rates.items()
    ]
    return {"kind": "variants", "currency": "USD", "dimensions": [dimension], "variants": variants}


def price_of(model: str) -> dict[str, Any]:
    """The simulator's pricing block for a model id."""
    if "avatar" in model:
        return {"kind": "variable", "currency": "USD"}
    if "effects" in model:
        return {"kind": "fixed", "currency": "USD", "units": [{"name": "video", "price": 0.49, "per": 1}]}
    if "motion-control" in model:
        return _by("mode", {"std": 0.07, "pro": 0.112})
    if ("video-v3" in model and "turbo" not in model) or "v2-6" in model:
        base = 0.168 if ("omni-1080p" in model or "pro" in model) else 0.126
        return _by("generate_audio", {False: round(base / 2, 4), True: base})
    if "master" in model:
        return _per_second(0.28)
    if "o1" in model or "turbo" in model:
        return _per_second(0.112 if "o1" in model else 0.07)
    return _per_second(0.098 if "/pro/" in model else 0.056)


def charge_usd(body: dict[str, Any], seconds: float) -> float:
    """What a finished generation of ``body`` costs here (0 for a variable price: charged by the audio)."""
    model = str(body.get("model"))
    model = ALIASES.get(model, model)
    pricing = price_of(model)
    if pricing["kind"] == "variable":
        return round(0.05 * seconds, 6)
    if pricing["kind"] == "fixed":
        unit = pricing["units"][0]
        return round(unit["price"] * (seconds if unit["name"] == "second" else 1), 6)
    dimension = pricing["dimensions"][0]
    defaults = {"mode": "std", "generate_audio": True}
    value = body.get(dimension, defaults[dimension])
    rate = next(v for v in pricing["variants"] if str(v["when"][dimension]).lower() == str(value).lower())
    return round(rate["price"] * seconds, 6)


def catalogue(include: str, wanted_id: str | None) -> dict[str, Any]:
    """``GET /v1/models``: ``{"object": "list", "data": [...]}``."""
    aliases_of: dict[str, list[str]] = {}
    for alias, model in ALIASES.items():
        aliases_of.setdefault(model, []).append(alias)
    sections = {part.strip().lower() for part in include.split(",")}
    data = []
    for model in sorted(SIM_MODELS):
        names = {model.lower(), *(alias.lower() for alias in aliases_of.get(model, []))}
        if wanted_id and wanted_id.lower() not in names:
            continue
        item: dict[str, Any] = {
            "id": model,
            "type": "internal/video-generations/submit",
            "aliases": sorted(aliases_of.get(model, [])),
            "tags": ["playground:video"],
            "info": {"name": model, "developer": "Kling AI"},
        }
        if sections & {"pricing", "all"}:
            item["pricing"] = price_of(model)
        data.append(item)
    return {"object": "list", "data": data}


def etag_of(body: dict[str, Any]) -> str:
    digest = hashlib.sha256(dumps(body, sort_keys=True).encode()).hexdigest()[:27]
    return f'W/"{digest}"'


#: Where ``bad_money`` can put its text: every rate's ``price`` in ``GET /v1/models``, the balance's
#: ``current_balance``, the cost headers of create and fetch answers, every figure of ``meta.usage``.
BAD_MONEY_PLACES = frozenset({"price", "balance", "usd_header", "credits_header", "usage"})


@dataclass(frozen=True)
class RawJSON:
    """JSON text written as it is into an answer (``NaN``, ``Infinity``, ``1e999``, ``"0.5"``)."""

    text: str


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps`` that writes each :class:`RawJSON` as its text."""
    raws: list[str] = []

    def placeholder(item: Any) -> str:
        if not isinstance(item, RawJSON):
            raise TypeError(f"{type(item).__name__} is not JSON serializable")
        raws.append(item.text)
        return f"\x00raw-{len(raws) - 1}\x00"

    text = json.dumps(value, default=placeholder, **options)
    for number, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\x00raw-{number}\x00"), raw)
    return text


def with_bad_prices(body: dict[str, Any], text: str) -> dict[str, Any]:
    """The catalogue ``body`` with every rate's ``price`` written as ``text``."""
    for item in body["data"]:
        pricing = item.get("pricing") or {}
        for rate in [*pricing.get("units", []), *pricing.get("variants", [])]:
            rate["price"] = RawJSON(text)
    return body


def valid_client_request_id(value: str | None) -> str | None:
    return value if value is not None and CLIENT_REQUEST_ID.fullmatch(value) else None


@dataclass
class LogRow:
    """One create request as ``GET /v2/logs`` reports it."""

    at: float
    status: str
    model: str
    usd: float
    inference_id: str
    client_request_id: str | None

    def to_api(self) -> dict[str, Any]:
        return {
            "created": datetime.fromtimestamp(self.at, timezone.utc).isoformat().replace("+00:00", "Z"),
            "status": self.status,
            "origin": "api",
            "model": self.model,
            "cost": {"usd": self.usd, "credits": round(self.usd * CREDITS_PER_USD)},
            "tokens": {"input": 0, "output": 0, "total": 0},
            "request_id": None,
            "inference_id": self.inference_id,
            "client_request_id": self.client_request_id,
        }


def parse_time(text: str | None) -> float | None:
    """An ISO-8601 timestamp as epoch seconds; one without a UTC offset is read as UTC (api-key-usage.md)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


#: The longest window ``GET /v2/logs`` accepts.
MAX_LOG_WINDOW = 92 * 86400.0
#: Most ``model`` values one ``GET /v2/logs`` may carry (logs-v2.json).
MAX_LOG_MODELS = 50
LOG_STATUSES = ("succeeded", "failed")
_PERIOD = re.compile(r"([1-9][0-9]*)([hd])")


@dataclass(frozen=True)
class LogQuery:
    """A ``GET /v2/logs`` query as the API reads it (``logs-v2.json``, ``usage-logs.md``)."""

    start: float
    end: float
    models: tuple[str, ...]
    statuses: tuple[str, ...]
    limit: int
    offset: int

    def keeps(self, row: LogRow) -> bool:
        return (
            self.start <= row.at <= self.end
            and (not self.statuses or row.status in self.statuses)
            and (not self.models or any(model_matches(row.model, wanted) for wanted in self.models))
        )


def model_matches(row_model: str, wanted: str) -> bool:
    """``source/alias`` or the bare alias, matched exactly (a comma is part of the name, not a list)."""
    return wanted in (row_model, row_model.partition("/")[2])


def log_query(query: Any, now: float) -> LogQuery | str:
    """The query of a ``GET /v2/logs``, or the message of the 400 it gets."""
    window = _log_window(query.get("period"), query.get("start"), query.get("end"), now)
    if isinstance(window, str):
        return window
    models, statuses = tuple(query.getall("model", [])), tuple(query.getall("status", []))
    if len(models) > MAX_LOG_MODELS:
        return f"model accepts at most {MAX_LOG_MODELS} values"
    if any(status not in LOG_STATUSES for status in statuses):
        return f"status must be one of: {', '.join(LOG_STATUSES)}"
    limit, offset = _whole(query.get("limit", "50")), _whole(query.get("offset", "0"))
    if limit is None or not 1 <= limit <= 100:
        return "limit must be an integer from 1 to 100"
    if offset is None:
        return "offset must be an integer of at least 0"
    return LogQuery(window[0], window[1], models, statuses, limit, offset)


def _log_window(period: str | None, start: str | None, end: str | None, now: float) -> tuple[float, float] | str:
    if period is not None:
        if start is not None or end is not None:
            return "Provide either period or start and end, not both"
        match = _PERIOD.fullmatch(period)
        if match is None:
            return f"period must be a positive integer followed by h or d, got {period!r}"
        seconds = int(match[1]) * (3600 if match[2] == "h" else 86400)
        return (now - seconds, now) if seconds <= MAX_LOG_WINDOW else "The window must not exceed 92 days"
    if start is None or end is None:
        return "Provide either period or both start and end"
    begin, finish = parse_time(start), parse_time(end)
    if begin is None or finish is None:
        return "start and end must be ISO-8601 timestamps"
    if finish < begin:
        return "end must not be earlier than start"
    return (begin, finish) if finish - begin <= MAX_LOG_WINDOW else "The window must not exceed 92 days"


def _whole(text: str) -> int | None:
    return int(text) if text.isdigit() else None
