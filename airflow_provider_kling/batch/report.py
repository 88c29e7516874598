"""The batch report: one line per row (what happened to it, what it cost) and the totals."""

from __future__ import annotations

from typing import Any

from airflow_provider_kling.batch.spend import row_high
from airflow_provider_kling.exceptions import KlingError
from airflow_provider_kling.models.catalog import get_model, is_catalogued
from airflow_provider_kling.models.cost import cost_of, cost_usd, json_usage, total_of


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
        "quote_usd": row_high(planned) if status == "planned" else None,
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
