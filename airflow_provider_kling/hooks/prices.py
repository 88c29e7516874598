"""The API's live price catalogue, ``GET /v1/models?include=pricing``: fetched without a key, cached.

Each process keeps its copy; a copy is also kept on disk with its ``ETag`` (under
``$AIRFLOW_HOME/cache/kling``, or ``KLING_CACHE_DIR``), so a fresh task process does not fetch the
whole catalogue again. A copy older than the connection's ``prices_max_age`` is revalidated with
``If-None-Match`` (a 304 costs no body). When the catalogue cannot be reached, the last copy is used
and the log says so; with no copy at all there is no price, and the reason says why.

A catalogue in which any rate is not a finite, non-negative number (:func:`.pricing_problems`) is
used in this process only (its bad models have no quote) and never written to disk; a disk copy that
holds such a rate is not trusted, so the next process fetches the catalogue again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_kling.models.catalog import get_model, is_catalogued
from airflow_provider_kling.models.pricing import Quote, pricing_problems, quote, unknown
from airflow_provider_kling.models.request import CreateRequest

log = logging.getLogger(__name__)
CATALOGUE_PATH = "/v1/models"


@dataclass
class CatalogueCopy:
    """One copy of the catalogue: every name (ids and aliases) -> its pricing block."""

    etag: str | None
    fetched_at: float
    prices: dict[str, Any] = field(default_factory=dict)


_PROCESS_COPIES: dict[str, CatalogueCopy] = {}


def reset_process_copies() -> None:
    """Forget this process's copies (the disk copies stay)."""
    _PROCESS_COPIES.clear()


def cache_dir() -> Path:
    configured = os.environ.get("KLING_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(os.environ.get("AIRFLOW_HOME", Path.home() / "airflow")) / "cache" / "kling"


class PriceCatalogue:
    """Prices of one API host.

    :param base_url: the API's base URL (the connection's host).
    :param max_age: seconds a copy is used before it is revalidated.
    :param verify: TLS verification, as the connection says.
    :param timeout: (connect, read) seconds.
    :param logger: where to say that a stale copy is used.
    """

    def __init__(
        self,
        base_url: str,
        *,
        max_age: float,
        verify: bool | str = True,
        timeout: tuple[float, float] = (10.0, 30.0),
        logger: Any = log,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_age = max_age
        self.verify = verify
        self.timeout = timeout
        self.log = logger
        self.file = cache_dir() / f"prices-{hashlib.sha256(self.base_url.encode()).hexdigest()[:16]}.json"

    def pricing(self, model: str, aliases: tuple[str, ...] = ()) -> tuple[Mapping[str, Any] | None, str]:
        """(the model's pricing block, ``""``) or (``None``, why there is none)."""
        copy, problem = self._copy()
        if copy is None:
            return None, problem
        for name in (model, *aliases):
            found = copy.prices.get(name.lower())
            if found is not None:
                return found, ""
        return None, f"the price catalogue at {self.base_url} does not list {model}"

    def _copy(self) -> tuple[CatalogueCopy | None, str]:
        copy = _PROCESS_COPIES.get(self.base_url) or self._read_disk()
        if copy is not None and time.time() - copy.fetched_at < self.max_age:
            _PROCESS_COPIES[self.base_url] = copy
            return copy, ""
        try:
            fresh = self._fetch(copy)
        except Exception as err:  # any failure to reach or read it: the last copy, if there is one
            reason = f"{type(err).__name__}: {err}"
            if copy is None:
                return (
                    None,
                    f"the price catalogue at {self.base_url} could not be reached ({reason}) and no copy is cached",
                )
            age = time.time() - copy.fetched_at
            self.log.warning("Price catalogue unreachable (%s): using the copy from %.0f s ago", reason, age)
            return copy, ""
        _PROCESS_COPIES[self.base_url] = fresh
        problems = catalogue_problems(fresh.prices)
        if problems:
            self.log.warning(
                "The price catalogue at %s publishes rates that are not usable numbers (%s): those models have "
                "no quote, and this copy is not cached on disk",
                self.base_url,
                "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else ""),
            )
        else:
            self._write_disk(fresh)
        return fresh, ""

    def _fetch(self, copy: CatalogueCopy | None) -> CatalogueCopy:
        import requests

        headers = {"If-None-Match": copy.etag} if copy is not None and copy.etag else {}
        # No Authorization header: the catalogue needs no key, and the key goes only where it must.
        response = requests.get(
            self.base_url + CATALOGUE_PATH,
            params={"include": "pricing"},
            headers=headers,
            timeout=self.timeout,
            verify=self.verify,
        )
        if response.status_code == 304 and copy is not None:
            return CatalogueCopy(copy.etag, time.time(), copy.prices)
        response.raise_for_status()
        return CatalogueCopy(response.headers.get("ETag"), time.time(), prices_by_name(response.json()))

    def _read_disk(self) -> CatalogueCopy | None:
        try:
            data = json.loads(self.file.read_text())
            copy = CatalogueCopy(data.get("etag"), float(data["fetched_at"]), dict(data["prices"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if not math.isfinite(copy.fetched_at) or catalogue_problems(copy.prices):
            return None  # an age of NaN or infinity, or a rate that is not a number: fetch it again
        return copy

    def _write_disk(self, copy: CatalogueCopy) -> None:
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            staged = self.file.with_suffix(f".{os.getpid()}.part")
            staged.write_text(json.dumps({"etag": copy.etag, "fetched_at": copy.fetched_at, "prices": copy.prices}))
            staged.replace(self.file)
        except OSError as err:  # a cache is a nicety: never fail a task over it
            self.log.info("Price catalogue not cached on disk (%s)", err)


def prices_by_name(body: Any) -> dict[str, Any]:
    """Every id and alias of ``GET /v1/models`` (lower-cased, as the API matches them) -> its pricing."""
    prices: dict[str, Any] = {}
    items = body.get("data") if isinstance(body, Mapping) else None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping) or not isinstance(item.get("pricing"), Mapping):
            continue
        for name in [item.get("id"), *(item.get("aliases") or [])]:
            if isinstance(name, str):
                prices[name.lower()] = dict(item["pricing"])
    return prices


def catalogue_problems(prices: Mapping[str, Any]) -> list[str]:
    """``["<model>: price=nan is not a finite, non-negative number", …]``: every unusable entry."""
    problems = []
    for name, pricing in prices.items():
        found = pricing_problems(pricing) if isinstance(pricing, Mapping) else ["its pricing is not an object"]
        problems += [f"{name}: {problem}" for problem in found]
    return problems


def quote_request(catalogue: PriceCatalogue, request: CreateRequest) -> Quote:
    """Quote a validated create request from ``catalogue``, with its model's documented defaults."""
    if not is_catalogued(request.model):
        pricing, why = catalogue.pricing(request.model)
        return quote(request.model, pricing, request.body) if pricing else unknown(request.model, why)
    spec = get_model(request.model)
    pricing, why = catalogue.pricing(spec.id, spec.aliases)
    if pricing is None:
        return unknown(spec.id, why)
    fields = spec.fields(request.endpoint)
    defaults = {name: field["default"] for name, field in fields.items() if "default" in field}
    allowed = {name: list(field["enum"]) for name, field in fields.items() if "enum" in field}
    allowed.update({name: [False, True] for name, field in fields.items() if field.get("type") == "boolean"})
    return quote(spec.id, pricing, request.body, defaults=defaults, allowed=allowed)
