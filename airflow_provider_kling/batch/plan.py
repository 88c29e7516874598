"""Planning a batch: each JSONL row validated and sorted into what to generate, skip or reject."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from airflow_provider_kling.exceptions import KlingError, KlingValidationError
from airflow_provider_kling.models import DEFAULT_MODEL, build_create_body
from airflow_provider_kling.models.catalog import get_model, is_catalogued
from airflow_provider_kling.models.named_fields import request_params, split_named
from airflow_provider_kling.models.row_places import keep_places

_OUTPUT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def plan_batch(
    text: str, *, output: str, overwrite: bool = False, planned: Sequence[str] | None = None
) -> dict[str, Any]:
    """Validate every JSONL row and sort it into ``todo``, ``existing`` (already delivered) or ``invalid``.

    Two rows may not share an output name, nor names equal but for case (one file where case is ignored).

    :param text: the prompt list, one JSON object per line (blank lines and ``#`` comments allowed).
    :param output: the folder (path or URI) the videos go to.
    :param overwrite: generate rows again even when this product already delivered their video (a
        row whose destination holds a file the product did not write is invalid either way).
    :param planned: the output names of ``todo`` as this run planned them before it was cleared
        (``None`` for its first plan; see :mod:`airflow_provider_kling.tasks.mapped_order`). Each
        keeps its place (map index, where what its row paid for is recorded), delivered meanwhile
        or not, and is marked ``planned_before``; rows new to the run come after them.
    :raises KlingStorageSetupError: when a file where the batch writes its report (``report.json``,
        ``report.csv``, ``report.html`` in ``output``) is not the product's, naming it.
    :raises KlingValidationError: when a row of ``planned`` is gone from the list or invalid now:
        without it, the rows after it would move onto other rows' records.
    """
    todo: list[dict[str, Any]] = []
    invalid: list[dict[str, Any]] = []
    existing: list[dict[str, Any]] = []
    seen: dict[str, tuple[int, str]] = {}
    earlier = set(planned or ())
    folder = output.rstrip("/")
    _check_report_files(folder)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        row, error = _parse_row(line, seen)
        name = row.get("output") if row else None
        request: dict[str, Any] = {}
        if error is None:
            assert row is not None
            assert isinstance(name, str)
            request, error = _request_of(row, name)
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
        if delivered and not overwrite and name not in earlier:
            existing.append(entry)
            continue
        metadata = {"row": number, "output": name, "prompt": request.get("prompt")}
        todo.append({**entry, "request": request, "metadata": metadata, "planned_before": name in earlier})
    todo, gone = keep_places(planned, todo, key=lambda row: row["output"])
    if gone:
        raise KlingValidationError([_place_lost(list(planned or ()), name, invalid) for name in gone])
    return {"output": folder, "todo": todo, "existing": existing, "invalid": invalid}


def _request_of(row: dict[str, Any], name: str) -> tuple[dict[str, Any], str | None]:
    """The row's create body, or why it has none."""
    try:
        # A row takes the operators' names too (image, tail_image ...), each field once.
        named, fields = split_named({key: value for key, value in row.items() if key != "output"})
        params = request_params(fields.get("model", DEFAULT_MODEL), named, fields)
        if "model" not in fields:
            del params["model"]  # the default model, as for a row without one
        if _takes_external_task_id(params.get("model")):
            # external_task_id = the output name: the row stays traceable in the API's dashboard.
            params["external_task_id"] = name
        return build_create_body(params), None
    except KlingValidationError as err:
        return {}, "; ".join(err.problems)


def _place_lost(planned: list[str], name: str, invalid: list[dict[str, Any]]) -> str:
    now = next((f"is invalid now (row {row['row']}: {row['error']})" for row in invalid if row["output"] == name), None)
    return (
        f"output {name!r} had map index {planned.index(name)} in this run's plan before the run was cleared, and "
        f"{now or 'the prompt list no longer has it'}: what it paid for is recorded under that map index, and "
        "planning without it would move the rows after it onto other rows' records (paying for them again). "
        "Put the row back as it was, or trigger a new run"
    )


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
    if name is None:
        return row, 'output is missing: each row names its video\'s file ("output": "mug" makes mug.mp4)'
    if isinstance(name, str) and name.lower().endswith(".mp4"):
        return row, f"output={name!r} is the name without .mp4: the video is <output>.mp4 (write {name[:-4]!r})"
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


def _check_report_files(folder: str) -> None:
    from airflow_provider_kling.delivery.reports import check_report_files

    check_report_files(folder)
