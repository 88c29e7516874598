"""What a Kling task leaves behind: its XCom keys, the shapes of its return value, its summary lines.

Defined once here for the task side (operators, sensor, decorator) and for a trigger that ends its
task itself, so both leave the same XComs. Pure: no I/O, no Airflow import.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_kling.models import redact_url
from airflow_provider_kling.models.cost import cost_of, describe_cost, figure_text, json_usage
from airflow_provider_kling.models.video_records import VIDEO_RECORD_XCOM_KEY, video_record

#: XCom keys every Kling task writes (the "Kling video" extra link reads the first).
VIDEO_URL_XCOM_KEY = "kling_video_url"
GENERATION_ID_XCOM_KEY = "kling_generation_id"
#: A storyboard's ``{finished, total}`` shots, updated as each one finishes.
PROGRESS_XCOM_KEY = "kling_storyboard_progress"
#: Pushed beside the id by the submitting task: ``{"model": ..., "submitted_at": ...}``, so a
#: sensor (and its trigger) polls with the model's floors, as the operator that created it would.
GENERATION_FACTS_XCOM_KEY = "kling_generation_facts"


def generation_facts(value: Any) -> tuple[str | None, float | None]:
    """(model, submitted_at) from a :data:`GENERATION_FACTS_XCOM_KEY` value; ``None`` for what is missing."""
    if not isinstance(value, dict):
        return None, None
    model, submitted_at = value.get("model"), value.get("submitted_at")
    return (
        model if isinstance(model, str) and model else None,
        float(submitted_at) if isinstance(submitted_at, (int, float)) and not isinstance(submitted_at, bool) else None,
    )


#: Where Airflow keeps what the "Kling video" extra link shows (``_link_<link class>``): a worker
#: stores it when a task finishes; a task that ends in the triggerer must store it itself.
VIDEO_LINK_XCOM_KEY = "_link_KlingVideoLink"

#: What a trigger that ends its task itself returns (``end_task``): the finished generation as the
#: operator and sensor return it, or the TaskFlow task's summary (see :func:`task_summary`).
RETURN_GENERATION = "generation"
RETURN_SUMMARY = "summary"
RETURN_SHAPES: tuple[str, ...] = (RETURN_GENERATION, RETURN_SUMMARY)


def describe_usage(usage: dict[str, Any]) -> str:
    """``credits_used=980000; cost $0.49 = 980,000 credits`` for a log line.

    A figure that is not a finite, non-negative number is shown as reported, and the cost as unknown.
    """
    if not usage:
        return "usage not reported"
    reported = ", ".join(f"{key}={figure_text(value)}" for key, value in usage.items())
    return f"{reported}; {describe_cost(usage)}"


def ready_line(result: dict[str, Any]) -> str:
    """The log line of a finished wait, wherever it ends (task process or triggerer)."""
    return (
        f"Generation {result.get('id')} is ready: {redact_url(result.get('video_url'))} "
        f"({describe_usage(result.get('usage') or {})})"
    )


def task_summary(result: dict[str, Any], destination: str | None = None) -> dict[str, Any]:
    """The TaskFlow task's return value: the finished generation in brief, and where it was stored."""
    return {
        "id": result["id"],
        "status": result["status"],
        "video_url": result.get("video_url"),
        "destination": destination,
        "duration": result.get("duration"),
        "usage": json_usage(result.get("usage") or {}),
        "cost": cost_of(result.get("usage") or {}),
    }


def task_end_xcoms(result: dict[str, Any], shape: str, model: str | None = None) -> dict[str, Any]:
    """The XComs a task that ends in the triggerer leaves, as the task process would have left them.

    :param result: the finished generation (:meth:`Generation.to_xcom`).
    :param shape: :data:`RETURN_GENERATION` or :data:`RETURN_SUMMARY`.
    :param model: its model, when the trigger knows it (its ``kling_video`` record names it).
    """
    if shape not in RETURN_SHAPES:
        raise ValueError(f"end_task={shape!r}; allowed: {', '.join(RETURN_SHAPES)}")
    value = result if shape == RETURN_GENERATION else task_summary(result)
    url = result.get("video_url") or ""
    record = video_record(
        generation_ids=[result.get("id")], model=model, cost=result.get("cost"), seconds=result.get("duration")
    )
    return {"return_value": value, VIDEO_URL_XCOM_KEY: url, VIDEO_LINK_XCOM_KEY: url, VIDEO_RECORD_XCOM_KEY: record}


def delivered_uri(value: Any) -> str | None:
    """Where a Kling task's return value says it stored its video; ``None`` when it stored none.

    The generating operators and ``@task.kling_video`` name it under ``destination``, the storyboard
    operator under ``uri``, the download operator returns it. A URL (a video kept only at the API)
    is not a stored video.
    """
    if isinstance(value, dict):
        value = value.get("destination") or value.get("uri")
    if not isinstance(value, str) or value.split("://", 1)[0] in ("http", "https"):
        return None
    # A URI or an absolute path; anything else (a submit-only task's generation id) names no file.
    return value if "://" in value or value.startswith("/") else None
