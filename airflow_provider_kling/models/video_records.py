"""What a Kling task records of the video it made (XCom ``kling_video``), and the Videos page's sums.

Every task that finishes a generation or delivers a video pushes one small record: the generation
id(s), the model, the cost in USD, the length, and where it was delivered. The Videos page lists
them and charts what was spent, from the database alone (no storage is read to list 1,000 videos).

A record is read back from an XCom, which a user may edit: every field is checked again on reading
and a field of the wrong shape is dropped (a cost that is no finite, non-negative number is "not
reported", never counted).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from airflow_provider_kling.models.cost import known_usd
from airflow_provider_kling.models.values import is_money, length_seconds

VIDEO_RECORD_XCOM_KEY = "kling_video"
#: Longer text in a record (an edited XCom) is not shown.
MAX_TEXT = 200
MAX_GENERATIONS = 64
MAX_ERROR = 1000
#: No one video costs more: a larger figure in a record (an edited XCom) is no figure.
MAX_USD = 100_000.0


def video_record(
    *,
    generation_ids: Iterable[Any],
    model: Any = None,
    cost: Any = None,
    seconds: Any = None,
    delivered: bool = False,
    poster: bool = False,
    error: str | None = None,
) -> dict[str, Any]:
    """The ``kling_video`` XCom of one task instance (no URL: a signed API URL never goes in it).

    :param cost: the cost as the product records it (``{"usd": ...}``, ``"unknown"`` or ``None``).
    :param delivered: the task stored the video (its return value names it; the Video tab plays it).
    :param error: why the task failed (the API's message for a failed generation), as its log says it.
    """
    record = {
        "generation_ids": [str(i) for i in generation_ids if i],
        "model": model if isinstance(model, str) else None,
        "usd": known_usd(cost),
        "seconds": length_seconds(seconds),
        "delivered": bool(delivered),
        "poster": bool(poster),
    }
    if error:
        record["error"] = str(error)[:MAX_ERROR]
    return record


@dataclass(frozen=True)
class TaskVideo:
    """One video as the page lists it: what its task instance(s) recorded, merged.

    :param dag_id/run_id/task_id/map_index: the task instance to link to (the one that delivered
        the video when one did: its Video tab plays it).
    :param at: when it was recorded (the newest of its records).
    :param usd: its cost, ``None`` when no task recorded a usable figure.
    """

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    at: datetime
    generation_ids: tuple[str, ...] = ()
    model: str | None = None
    usd: float | None = None
    seconds: float | None = None
    delivered: bool = False
    poster: bool = False
    failed: bool = False


def read_record(dag_id: str, run_id: str, task_id: str, map_index: int, at: datetime, value: Any) -> TaskVideo | None:
    """One ``kling_video`` XCom as a :class:`TaskVideo`; ``None`` when it is not a record at all."""
    if not isinstance(value, dict):
        return None
    ids = value.get("generation_ids")
    ids = ids if isinstance(ids, list) and len(ids) <= MAX_GENERATIONS else []
    model = value.get("model")
    seconds = value.get("seconds")
    return TaskVideo(
        dag_id,
        run_id,
        task_id,
        map_index,
        at,
        tuple(dict.fromkeys(i[:MAX_TEXT] for i in ids if isinstance(i, str) and i)),  # each once, in order
        model if isinstance(model, str) and 0 < len(model) <= MAX_TEXT else None,
        value["usd"] if is_money(value.get("usd")) and value["usd"] <= MAX_USD else None,
        length_seconds(seconds),
        value.get("delivered") is True,
        value.get("poster") is True,
        isinstance(value.get("error"), str),
    )


def merged(records: Iterable[TaskVideo]) -> list[TaskVideo]:
    """One entry per video, newest first: the records of the same generation(s) made into one.

    A generation finished by one task and delivered by another (a batch row, a sensor then a
    download) is one video: its model and cost come from whichever task recorded them, its link
    goes to the task that delivered it. A record naming no generation stands alone.
    """
    groups: dict[Any, list[TaskVideo]] = defaultdict(list)
    for index, record in enumerate(records):
        # Within one DAG: a record in another DAG naming the same generation (an edited XCom, or a
        # DAG that stored another's generation) never hides or replaces this DAG's video.
        key = (record.dag_id, tuple(sorted(record.generation_ids))) if record.generation_ids else index
        groups[key].append(record)
    return sorted((_one(group) for group in groups.values()), key=lambda video: video.at, reverse=True)


def _one(group: Sequence[TaskVideo]) -> TaskVideo:
    shown = next((r for r in group if r.delivered), group[0])

    def first(name: str) -> Any:
        return next((getattr(r, name) for r in (shown, *group) if getattr(r, name) is not None), None)

    return TaskVideo(
        shown.dag_id,
        shown.run_id,
        shown.task_id,
        shown.map_index,
        max(r.at for r in group),
        shown.generation_ids,
        first("model"),
        first("usd"),
        first("seconds"),
        shown.delivered,
        shown.poster,
        not shown.delivered and any(r.failed for r in group),
    )


@dataclass(frozen=True)
class Spend:
    """USD per day, by one dimension (DAG or model): the chart's bars and the totals beside them.

    :param days: the days with spending, in order.
    :param usd: per series name, per day, the dollars recorded.
    :param unpriced: videos whose cost no task recorded (not in the sums, said beside them).
    """

    days: tuple[date, ...]
    usd: dict[str, dict[date, float]] = field(default_factory=dict)
    unpriced: int = 0

    def total(self, series: str | None = None) -> float:
        """Dollars of one series, or of all of them."""
        chosen = [self.usd[series]] if series is not None else list(self.usd.values())
        return round(sum(sum(days.values()) for days in chosen), 6)

    def day_total(self, day: date) -> float:
        return round(sum(days.get(day, 0.0) for days in self.usd.values()), 6)


def spend(videos: Iterable[TaskVideo], by: str) -> Spend:
    """What ``videos`` cost per day, split by ``"dag"`` or ``"model"``: each generation paid once.

    A video whose generations were all counted already (a shot of a storyboard stored again, a
    generation another DAG stored too) adds nothing; the larger figure counts first, so a record
    claiming less never hides what was spent.
    """
    usd: dict[str, dict[date, float]] = defaultdict(lambda: defaultdict(float))
    unpriced = 0
    counted: set[str] = set()
    for video in sorted(videos, key=lambda v: (-(v.usd or 0.0), -len(v.generation_ids))):
        if video.generation_ids and counted.issuperset(video.generation_ids):
            continue
        counted.update(video.generation_ids)
        if video.usd is None:
            unpriced += 1
            continue
        name = video.dag_id if by == "dag" else (video.model or "model not recorded")
        usd[name][video.at.date()] += video.usd
    days = tuple(sorted({day for series in usd.values() for day in series}))
    ordered = sorted(usd, key=lambda name: -sum(usd[name].values()))
    return Spend(days, {name: dict(usd[name]) for name in ordered}, unpriced)
