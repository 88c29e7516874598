"""Batch production helpers: plan a prompt list, then report on what happened.

Used by ``dags/kling_batch_production.py``; importable for your own batch DAGs.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from airflow_provider_kling.exceptions import KlingError, KlingValidationError
from airflow_provider_kling.models import DEFAULT_MODEL, build_create_body
from airflow_provider_kling.models.catalog import get_model, is_catalogued
from airflow_provider_kling.models.cost import cost_of, cost_usd, json_usage, total_of
from airflow_provider_kling.models.pricing import parse_cap, usd
from airflow_provider_kling.models.values import describe, is_money

#: How many of the priciest rows a refused plan names.
PRICIEST_SHOWN = 5

_OUTPUT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def plan_batch(text: str, *, output: str, overwrite: bool = False) -> dict[str, Any]:
    """Validate every JSONL row and sort it into ``todo``, ``existing`` (already delivered) or ``invalid``.

    Two rows may not share an output name, nor names equal but for case (one file where case is ignored).

    :param text: the prompt list, one JSON object per line (blank lines and ``#`` comments allowed).
    :param output: the folder (path or URI) the videos go to.
    :param overwrite: generate rows again even when this product already delivered their video (a
        row whose destination holds a file the product did not write is invalid either way).
    """
    todo: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    existing: list[dict[str, Any]] = []
    seen: dict[str, tuple[int, str]] = {}
    folder = output.rstrip("/")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        row, error = _parse_row(line, seen)
        name = row.get("output") if row else None
        if error is None:
            assert row is not None
            assert isinstance(name, str)
            params = {key: value for key, value in row.items() if key != "output"}
            try:
                if _takes_external_task_id(params.get("model")):
                    # external_task_id = the output name: the row stays traceable in the API's dashboard.
                    params["external_task_id"] = name
                request = build_create_body(params)
            except KlingValidationError as err:
                error = "; ".join(err.problems)
        if error is not None:
            invalid.append({"row": number, "output": name if isinstance(name, str) else None, "error": error})
            continue
        assert isinstance(name, str)
        seen[name.casefold()] = (number, name)
        destination = f"{folder}/{name}.mp4"
        entry = {"row": number, "output": name, "destination": destination}
        try:
            delivered = _already_delivered(destination)
        except KlingError as err:  # a file of yours is in the way, or the destination cannot work
            invalid.append({**entry, "error": str(err)})
            continue
        if delivered and not overwrite:
            existing.append(entry)
            continue
        todo.append(
            {**entry, "request": request, "metadata": {"row": number, "output": name, "prompt": request.get("prompt")}}
        )
    return {"output": folder, "todo": todo, "existing": existing, "invalid": invalid}


def price_plan(batch: dict[str, Any], hook: Any) -> None:
    """Add each row's price to the plan (``quote``: ``low``, ``high`` in USD and how), from the catalogue."""
    for row in batch["todo"]:
        result = hook.quote(hook.prepare(row["request"], allow_unknown_model=True))
        row["quote"] = {"low": result.low, "high": result.high, "basis": result.describe()}


def plan_total(batch: dict[str, Any]) -> float:
    """The most the plan's priced rows can cost, in USD.

    A row whose price is not a finite, non-negative number is unpriced: it can never lower the total.
    """
    return sum(_high(row) or 0.0 for row in batch["todo"])


def _high(row: dict[str, Any]) -> float | None:
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
        that is not a finite, non-negative number is refused.
    :raises KlingValidationError: naming the count or the total, the limit, the priciest rows and how
        to proceed.
    """
    count = len(batch["todo"])
    if count > max_generations:
        raise KlingValidationError(
            [
                f"this run would start {count} generations, more than max_generations={max_generations}; "
                "nothing was submitted. If the prompt list is right, trigger the run with a higher limit "
                f"(DAG param max_generations, e.g. --conf '{{\"max_generations\": {count}}}'), or split the list"
            ]
        )
    cap = parse_cap(max_usd)
    total = plan_total(batch)
    unpriced = [row for row in batch["todo"] if _high(row) is None]
    if cap is not None and unpriced:
        rows = ", ".join(
            f"row {row['row']} ({(row.get('quote') or {}).get('basis', 'not priced')})"
            for row in unpriced[:PRICIEST_SHOWN]
        )
        raise KlingValidationError(
            [f"max_usd={usd(cap)} needs a price for every row; nothing was submitted. No price: {rows}"]
        )
    if cap is not None and total > cap:
        raise KlingValidationError(
            [
                f"this run would cost up to {usd(total)}, more than max_usd={usd(cap)}; nothing was submitted. "
                f"{_priciest(batch)} If the prompt list is right, trigger the run with a higher budget (DAG param "
                f"max_usd, e.g. --conf '{{\"max_usd\": {math.ceil(total)}}}'), or split the list"
            ]
        )
    if balance is not None and not is_money(balance):
        raise KlingValidationError(
            [
                f"the account's balance is {describe(balance)}, not a finite, non-negative number of US dollars; "
                "nothing was submitted"
            ]
        )
    if balance is not None and total > balance:
        raise KlingValidationError(
            [
                f"this run would cost up to {usd(total)} but the account's balance is {usd(balance)}; nothing was "
                f"submitted: top up, or split the list. {_priciest(batch)}"
            ]
        )


def _priciest(batch: dict[str, Any]) -> str:
    rows = sorted(batch["todo"], key=lambda row: -(_high(row) or 0.0))[:PRICIEST_SHOWN]
    named = "; ".join(
        f"row {row['row']} ({row['output']}, {row['request'].get('model')}): {usd(_high(row) or 0.0)}" for row in rows
    )
    return f"The priciest rows: {named}."


def row_jobs(batch: dict[str, Any]) -> list[dict[str, Any]]:
    """One job per row to generate: the model, its other fields, where the video goes and its sidecar."""
    return [
        {
            "model": row["request"]["model"],
            "parameters": {key: value for key, value in row["request"].items() if key != "model"},
            "destination": row["destination"],
            "metadata": row["metadata"],
        }
        for row in batch["todo"]
    ]


def _takes_external_task_id(model: Any) -> bool:

    model = DEFAULT_MODEL if model is None else model
    return isinstance(model, str) and is_catalogued(model) and get_model(model).accepts("external_task_id")


def _parse_row(line: str, seen: dict[str, tuple[int, str]]) -> tuple[dict[str, Any] | None, str | None]:
    try:
        row = json.loads(line)
    except ValueError as err:
        return None, f"not a JSON object: {err}"
    if not isinstance(row, dict):
        return None, f"not a JSON object: {type(row).__name__}"
    name = row.get("output")
    if not isinstance(name, str) or not _OUTPUT_NAME.fullmatch(name):
        return row, f"output={name!r} must be a file name of letters, digits, '.', '_' or '-' (at most 100)"
    if name.casefold() in seen:
        number, used = seen[name.casefold()]
        if used == name:
            return row, f"output {name!r} is already used by row {number}"
        return row, (
            f"output {name!r} is row {number}'s {used!r} but for case: on a filesystem that ignores case "
            "they are one file; rename one"
        )
    return row, None


def _already_delivered(destination: str) -> bool:
    """Whether the product delivered a video there (verified); refusing a destination that cannot work.

    :raises KlingError: when a file there is not the product's, or the destination cannot work.
    """
    from airflow_provider_kling.delivery.destination import already_delivered

    return already_delivered(destination)


def build_report(
    batch: dict[str, Any], outcomes: list[dict[str, Any]], hook: Any, *, dry_run: bool = False
) -> dict[str, Any]:
    """One line per row (delivered, failed, already done, invalid; ``planned`` in a dry run) and the totals.

    :param batch: what :func:`plan_batch` returned.
    :param dry_run: nothing was submitted: each row to generate is reported as ``planned``, with its
        model and duration (``outcomes`` is then empty).
    :param outcomes: for each ``todo`` row, in order: ``generation_id``, ``generation`` (the finished
        generation or ``None``) and ``destination`` (or ``None``). A row's ``duration`` is the API's,
        else the delivered file's (probed, with the ``media`` extra), else the one requested.
    :param hook: a KlingHook, to read the API's error for failed rows.
    """
    rows: list[dict[str, Any]] = []
    usages: list[dict[str, Any]] = []
    if dry_run:
        rows += [_line(row, None, None, {}, status="planned") for row in batch["todo"]]
    for planned, outcome in zip([] if dry_run else batch["todo"], outcomes, strict=True):
        generation = outcome.get("generation") or {}
        line = _line(planned, outcome.get("generation_id"), outcome.get("destination"), generation)
        if line["status"] != "delivered":
            line["error"] = _failure_reason(outcome.get("generation_id"), hook)
        elif line["duration"] is None:
            line["duration"] = _delivered_seconds(line["destination"]) or planned["request"].get("duration")
        usages.append(generation.get("usage") or {})
        rows.append(line)
    rows += [_line(row, None, row["destination"], {}, status="already_done") for row in batch["existing"]]
    rows += [_line(row, None, None, {}, status="invalid", error=row["error"]) for row in batch["invalid"]]
    rows.sort(key=lambda line: line["row"])
    count = {
        status: sum(1 for line in rows if line["status"] == status)
        for status in ("delivered", "failed", "already_done", "invalid", "planned")
    }
    # A figure that is not a finite, non-negative number makes its total "unknown": it never lowers one.
    spent = total_of(line["usd"] for line in rows if line["status"] in ("delivered", "failed"))
    quoted = total_of(line["quote_usd"] for line in rows if line["status"] == "planned")
    usage = {key: _rounded(total_of(u.get(key) for u in usages)) for key in dict.fromkeys(k for u in usages for k in u)}
    return {"rows": rows, "totals": {**count, "usage": usage, "usd": _rounded(spent), "quote_usd": _rounded(quoted)}}


def _rounded(total: float | str) -> float | str:
    return round(total, 6) if isinstance(total, float) else total


def _line(
    planned: dict[str, Any],
    generation_id: str | None,
    destination: str | None,
    generation: dict[str, Any],
    *,
    status: str | None = None,
    error: str = "",
) -> dict[str, Any]:
    usage = json_usage(generation.get("usage") or {})
    request = planned.get("request") or {}
    return {
        "row": planned["row"],
        "output": planned.get("output"),
        "status": status or ("delivered" if destination and destination != "None" else "failed"),
        "model": request.get("model"),
        "generation_id": generation_id,
        "destination": destination or (planned.get("destination") if status == "planned" else None),
        "duration": generation.get("duration") or (_planned_seconds(request) if status == "planned" else None),
        "credits_used": usage.get("credits_used", usage.get("tokens_used")),
        "usd_spent": usage.get("usd_spent"),
        "usd": cost_usd(cost_of(usage)),  # dollars, None (not reported) or "unknown"
        "quote_usd": _high(planned) if status == "planned" else None,
        "error": error,
    }


def _planned_seconds(request: dict[str, Any]) -> Any:
    """The duration a request asks for, else its model's documented default (``None``: the API decides)."""
    if request.get("duration") is not None or not is_catalogued(str(request.get("model"))):
        return request.get("duration")
    default = get_model(str(request["model"])).default("duration")
    return int(default) if isinstance(default, str) and default.isdigit() else default


def _delivered_seconds(destination: str) -> float | None:
    """The stored video's length as probed at delivery (its sidecar), for APIs that do not report it.

    The unified fetch (``GET /v2/video/generations``) documents no ``duration``; the file is the truth.
    """
    from airflow_provider_kling.delivery import storage
    from airflow_provider_kling.delivery.ownership import product_sidecar

    sidecar = product_sidecar(storage.as_storage_path(destination)) or {}
    seconds = (sidecar.get("probe") or {}).get("duration")
    return float(seconds) if isinstance(seconds, (int, float)) else None


def _failure_reason(generation_id: str | None, hook: Any) -> str:
    if not generation_id:
        return "not submitted (see the generate task's log)"
    try:
        generation = hook.get_generation(generation_id)
    except KlingError as err:
        return f"could not fetch the generation: {err}"
    if generation.error:
        return generation.error
    return f"generation status {generation.raw_status!r}; see the task logs"
