"""The spend guard of a batch: each row priced before anything is paid for, the plan held to its limits."""

from __future__ import annotations

import math
from typing import Any

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.pricing import parse_cap, usd
from airflow_provider_kling.models.values import describe, is_money

#: How many of the priciest rows a refused plan names.
PRICIEST_SHOWN = 5


def price_plan(batch: dict[str, Any], hook: Any) -> None:
    """Add each row's price to the plan, from the catalogue.

    ``quote``: ``low``, ``high`` in USD, ``basis`` (how, or why there is none) and ``bad`` (the figure
    that is not a finite, non-negative number when that is why there is none, e.g. ``price=nan``).
    """
    for row in batch["todo"]:
        result = hook.price(row["request"], allow_unknown_model=True)
        row["quote"] = {"low": result.low, "high": result.high, "basis": result.describe(), "bad": result.bad}


def plan_total(batch: dict[str, Any]) -> float:
    """The most the plan's priced rows can cost, in USD.

    A row whose price is not a finite, non-negative number is unpriced: it can never lower the total.
    """
    return sum(row_high(row) or 0.0 for row in batch["todo"])


def row_high(row: dict[str, Any]) -> float | None:
    """A row's top price when it is a finite, non-negative number, else ``None`` (unpriced)."""
    high = (row.get("quote") or {}).get("high")
    return float(high) if is_money(high) else None


def check_spend(
    batch: dict[str, Any], max_generations: int, *, max_usd: Any = None, balance: float | None = None
) -> None:
    """Refuse, before anything is paid for, a plan over its count, its dollar budget or the balance.

    :param max_generations: the most videos one run may start.
    :param max_usd: the most the whole plan may cost (needs :func:`price_plan` first; every row priced).
    :param balance: the account's balance in USD (``GET /v2/billing``), which must cover the plan; one
        that is not a finite, non-negative number is refused. So is a plan with a row whose price is
        a bad number (the catalogue's ``price=nan``, say): the balance cannot be checked against it.
        A row with no quote by design (a ``variable`` price: the avatars, charged by their audio's
        length) is not counted; the API refuses a create the balance cannot pay for. Nor is a row
        marked ``planned_before`` (see :func:`..plan.plan_batch`): the balance covered it when the
        run first planned it, and it may be paid for already.
    :raises KlingValidationError: naming the count or the total, the limit, the priciest rows (or the
        rows with a bad price, their model and the value) and how to proceed.
    """
    count = len(batch["todo"])
    if count > max_generations:
        raise KlingValidationError(
            [
                f"this run would start {count} generations, more than max_generations={max_generations}; "
                "nothing was submitted. If the prompt list is right, raise max_generations (kling_batch's argument; "
                "where the DAG passes it a param, trigger the run with a higher one, "
                f"e.g. --conf '{{\"max_generations\": {count}}}'), or split the list"
            ]
        )
    cap = parse_cap(max_usd)
    if cap is not None:
        _check_budget(batch, cap)
    if balance is not None:
        _check_balance(batch, balance)


def _check_budget(batch: dict[str, Any], cap: float) -> None:
    total = plan_total(batch)
    unpriced = [row for row in batch["todo"] if row_high(row) is None]
    if unpriced:
        rows = ", ".join(
            f"row {row['row']} ({(row.get('quote') or {}).get('basis', 'not priced')})"
            for row in unpriced[:PRICIEST_SHOWN]
        )
        raise KlingValidationError(
            [f"max_usd={usd(cap)} needs a price for every row; nothing was submitted. No price: {rows}"]
        )
    if total > cap:
        raise KlingValidationError(
            [
                f"this run would cost up to {usd(total)}, more than max_usd={usd(cap)}; nothing was submitted. "
                f"{_priciest(batch)} If the prompt list is right, raise max_usd (kling_batch's argument; where the "
                "DAG passes it a param, trigger the run with a higher budget, "
                f"e.g. --conf '{{\"max_usd\": {math.ceil(total)}}}'), or split the list"
            ]
        )


def _check_balance(batch: dict[str, Any], balance: Any) -> None:
    if not is_money(balance):
        raise KlingValidationError(
            [
                f"the account's balance is {describe(balance)}, not a finite, non-negative number of US dollars; "
                "nothing was submitted"
            ]
        )
    # A row this run planned before it was cleared was covered by the balance then, and may be paid for
    # already (it reattaches): counted again, it would refuse the clear of a run the balance paid for.
    new = [row for row in batch["todo"] if not row.get("planned_before")]
    total = sum(row_high(row) or 0.0 for row in new)
    if total > balance:
        again = len(batch["todo"]) - len(new)
        raise KlingValidationError(
            [
                f"this run would cost up to {usd(total)} but the account's balance is {usd(balance)}; nothing was "
                f"submitted: top up, or split the list. {_priciest(batch)}"
                + (f" ({again} row(s) planned before the run was cleared are not counted again)" if again else "")
            ]
        )
    bad = [(row, why) for row in batch["todo"] if (why := _bad_price(row))]
    if bad:
        rows = "; ".join(
            f"row {row['row']} ({row['output']}, {row['request'].get('model')}): {why}"
            for row, why in bad[:PRICIEST_SHOWN]
        )
        more = f"; and {len(bad) - PRICIEST_SHOWN} more" if len(bad) > PRICIEST_SHOWN else ""
        raise KlingValidationError(
            [
                f"the account's balance cannot be checked against a price that is not a finite, non-negative "
                f"number, and such a price is never counted as $0; nothing was submitted. {rows}{more}. Try again "
                "once the API's price catalogue is right, or leave those rows out"
            ]
        )


def _bad_price(row: dict[str, Any]) -> str | None:
    """The figure that leaves a row unpriced because it is a bad number (``price=nan``); ``None`` otherwise."""
    quote = row.get("quote") or {}
    if quote.get("bad"):
        return str(quote["bad"])
    high = quote.get("high")
    return None if high is None or is_money(high) else f"price={describe(high)}"


def _priciest(batch: dict[str, Any]) -> str:
    rows = sorted(batch["todo"], key=lambda row: -(row_high(row) or 0.0))[:PRICIEST_SHOWN]
    named = "; ".join(
        f"row {row['row']} ({row['output']}, {row['request'].get('model')}): {usd(row_high(row) or 0.0)}"
        for row in rows
    )
    return f"The priciest rows: {named}."
