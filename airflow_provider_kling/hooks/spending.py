"""The hook's account calls: the price of a request before paying, and the balance (a mixin of ``KlingHook``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any

from airflow_provider_kling.hooks.prices import PriceCatalogue, quote_request
from airflow_provider_kling.models import CreateRequest
from airflow_provider_kling.models.cost import balance_from
from airflow_provider_kling.models.pricing import Quote


class AccountSpending:
    """Prices and the balance, for :class:`~airflow_provider_kling.hooks.kling.KlingHook`."""

    # The hook's own: its settings and log, a GET with the key, a request checked for its model.
    settings: Any
    log: Any
    api_get: Callable[..., Any]
    _prepare: Callable[..., CreateRequest]

    @cached_property
    def prices(self) -> PriceCatalogue:
        """The API's price catalogue (fetched without the key, cached per process and on disk)."""
        settings = self.settings
        return PriceCatalogue(
            settings.base_url,
            max_age=settings.prices_max_age,
            verify=settings.verify,
            timeout=(settings.connect_timeout, settings.read_timeout),
            logger=self.log,
        )

    def price(self, params: Mapping[str, Any], *, allow_unknown_model: bool = False) -> Quote:
        """What a generation of ``params`` would cost, from the API's price catalogue (nothing is created).

        :raises KlingValidationError: ``params`` are not a valid request for their model.
        """
        return self._quote(self._prepare(params, allow_unknown_model=allow_unknown_model))

    def balance(self) -> float:
        """The account's balance in USD (``GET /v2/billing``; a video's charge lands once it completes).

        :raises KlingResponseError: the balance is not a finite, non-negative number (see :func:`.balance_from`).
        """
        return balance_from(self.api_get("/v2/billing", {}, what="Kling balance request"))

    def _quote(self, request: CreateRequest) -> Quote:
        """What ``request`` will cost, from the live price catalogue (no request to create anything)."""
        return quote_request(self.prices, request)
