"""The generation as the API reports it, read tolerantly.

The documented fetch body is ``{id, status, video: {url} | null, duration, error, meta.usage}``
but spellings drifted across spec versions and models: the v3 omni files document ``video`` as an
object, an array of ``{url}`` or null; ``meta.usage`` holds any of ``credits_used``, ``usd_spent``,
``tokens_used`` (create answers included); ``error`` is a string, ``{name, message}`` or anything.
This module is the one place that knows them. It has no I/O and no Airflow import.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from airflow_provider_kling.exceptions import KlingResponseError
from airflow_provider_kling.models.cost import USAGE_KEYS, cost_of, json_usage, reported_figure
from airflow_provider_kling.models.media_values import scrub_queries
from airflow_provider_kling.models.values import is_money, preview_json


class GenerationStatus(str, enum.Enum):
    """Normalised generation status; ``UNKNOWN`` is treated as still running."""

    QUEUED = "queued"
    GENERATING = "generating"
    COMPLETED = "completed"
    ERROR = "error"
    UNKNOWN = "unknown"

    @classmethod
    def from_api(cls, raw: Any) -> GenerationStatus:
        """Map any status spelling the API family uses onto the four documented ones."""
        if not isinstance(raw, str):
            return cls.UNKNOWN
        return _STATUS_SPELLINGS.get(raw.strip().lower(), cls.UNKNOWN)

    @property
    def is_terminal(self) -> bool:
        return self in (GenerationStatus.COMPLETED, GenerationStatus.ERROR)


_STATUS_SPELLINGS: dict[str, GenerationStatus] = {
    "queued": GenerationStatus.QUEUED,
    "waiting": GenerationStatus.QUEUED,
    "pending": GenerationStatus.QUEUED,
    "submitted": GenerationStatus.QUEUED,
    "generating": GenerationStatus.GENERATING,
    "active": GenerationStatus.GENERATING,
    "processing": GenerationStatus.GENERATING,
    "in_progress": GenerationStatus.GENERATING,
    "running": GenerationStatus.GENERATING,
    "completed": GenerationStatus.COMPLETED,
    "succeeded": GenerationStatus.COMPLETED,
    "success": GenerationStatus.COMPLETED,
    "error": GenerationStatus.ERROR,
    "failed": GenerationStatus.ERROR,
    "failure": GenerationStatus.ERROR,
}


@dataclass(frozen=True)
class Generation:
    """One snapshot of a generation.

    :param id: the generation id (opaque; never parse it).
    :param status: the normalised status.
    :param raw_status: the status exactly as the API spelled it.
    :param video_url: the signed video URL once completed (the first, when the API lists several).
    :param video_urls: every video URL the answer lists, in its order.
    :param duration: video length in seconds when the API reports it.
    :param usage: whichever of ``credits_used``/``tokens_used``/``usd_spent`` were reported, as floats;
        a figure that is not a finite, non-negative number stays as read (NaN, inf, -1; NaN for a
        string or a boolean), so its cost is unknown (:func:`.cost_of`) rather than guessed.
    :param error: the API's error description, made readable.
    """

    id: str
    status: GenerationStatus
    raw_status: str | None = None
    video_url: str | None = None
    duration: float | None = None
    usage: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    video_urls: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, payload: Any, *, requested_id: str | None = None) -> Generation:
        """Read a fetch (or create) response body.

        :param payload: the decoded JSON body.
        :param requested_id: the id we asked for, used when the body omits it.
        :raises KlingResponseError: when the body is not an object or has neither id nor status.
        """
        if not isinstance(payload, Mapping):
            raise KlingResponseError(f"Kling API returned {type(payload).__name__} where a JSON object was expected")
        generation_id = payload.get("id") or payload.get("generation_id") or requested_id
        if generation_id is None or isinstance(generation_id, (dict, list, bool)):
            raise KlingResponseError(f"Kling API response has no generation id: {preview_json(payload)}")
        raw_status = payload.get("status")
        if raw_status is None:
            raise KlingResponseError(f"Kling API response has no status: {preview_json(payload)}")
        video = payload.get("video")
        urls = _video_urls(video)
        duration = payload.get("duration")
        if duration is None and isinstance(video, Mapping):
            duration = video.get("duration")
        return cls(
            id=str(generation_id),
            status=GenerationStatus.from_api(raw_status),
            raw_status=str(raw_status),
            video_url=urls[0] if urls else None,
            # A length is counted like money: a finite, non-negative number, or not reported.
            duration=float(duration) if is_money(duration) else None,
            usage=_read_usage(payload.get("meta")),
            error=describe_generation_error(payload.get("error")),
            video_urls=urls,
        )

    @classmethod
    def from_create_answer(cls, payload: Any) -> Generation:
        """Read a create answer, of which only the id is required.

        The 2025-09 spec documents no body: a missing status means ``queued``; ``meta.usage`` is
        read when it is already there.
        """
        if isinstance(payload, Mapping) and payload.get("status") is None:
            payload = {**payload, "status": GenerationStatus.QUEUED.value}
        return cls.from_api(payload)

    def with_usage(self, extra: Mapping[str, float]) -> Generation:
        """The same snapshot with ``extra`` usage (e.g. an answer's cost headers) where the body reported none of it."""
        merged = {**extra, **self.usage}
        return replace(self, usage=merged) if merged != self.usage else self

    @property
    def is_finished(self) -> bool:
        """Done for good: failed, or completed with a video to fetch."""
        if not self.status.is_terminal:
            return False
        return self.status is GenerationStatus.ERROR or self.video_url is not None

    def to_xcom(self) -> dict[str, Any]:
        """A small JSON-safe summary for XCom and trigger events.

        ``usage`` keeps a figure that is not a finite, non-negative number as a short text (``"inf"``)
        and ``cost`` is then ``"unknown"`` (:mod:`.cost`): no NaN or Infinity ever reaches XCom.
        """
        return {
            "id": self.id,
            "status": self.status.value,
            "video_url": self.video_url,
            "video_urls": list(self.video_urls),
            "duration": self.duration,
            "usage": json_usage(self.usage),
            "cost": cost_of(self.usage),
            "error": self.error,
        }


def _video_urls(video: Any) -> tuple[str, ...]:
    """The URLs of ``video``: an object ``{url}``, an array of them (every one kept), or anything else (none)."""
    items = video if isinstance(video, list) else [video]
    urls = (item.get("url") for item in items if isinstance(item, Mapping))
    return tuple(url for url in urls if isinstance(url, str) and url)


def _read_usage(meta: Any) -> dict[str, float]:
    usage = meta.get("usage") if isinstance(meta, Mapping) else None
    if not isinstance(usage, Mapping):
        return {}
    return {key: reported_figure(usage[key]) for key in USAGE_KEYS if usage.get(key) is not None}


def describe_generation_error(error: Any) -> str | None:
    """Turn the API's ``error`` (a string, ``{name, message}``, or anything) into one readable line.

    A URL the API quotes (an input image it could not fetch) loses its query: the line is logged.
    """
    if error is None or error == "" or error == {}:
        return None
    if isinstance(error, str):
        return scrub_queries(error)
    if isinstance(error, Mapping):
        name, message = error.get("name"), error.get("message")
        if message and name:
            return scrub_queries(f"{name}: {message}")
        if message or name:
            return scrub_queries(str(message or name))
    return preview_json(error)
