"""The videos the Videos page lists: the ``kling_video`` records of the DAGs a user may read.

Read from the metadata database alone (one query for the DAGs, one for the records): listing 1,000
videos reads no storage. Which DAGs a user may read is Airflow's auth manager's answer, asked as the
Video tab asks it (the right to read a DAG's XComs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
from airflow.models.xcom import XComModel
from sqlalchemy import select

from airflow_provider_kling.models.video_records import VIDEO_RECORD_XCOM_KEY, TaskVideo, merged, read_record
from airflow_provider_kling.plugins.recorded import xcom_value

#: The most videos one page lists.
MOST_VIDEOS = 1000
#: Without dates, the page covers this many days up to today.
DEFAULT_DAYS = 30
#: The most days one page covers (its charts sum every video of them).
MOST_DAYS = 366
#: The days a filter may name (a day past the last could not be followed by the next).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9999, 12, 30)


class BadFilter(ValueError):
    """A filter of the page that cannot be used (the message names it and says what is allowed)."""


@dataclass(frozen=True)
class Filters:
    """What the page shows: one DAG or all, one model or all, the days from ``since`` to ``until``.

    :param limit: how many videos at most (1 to :data:`MOST_VIDEOS`).
    """

    since: date
    until: date
    dag_id: str | None = None
    model: str | None = None
    limit: int = 200

    @classmethod
    def parse(cls, query: dict[str, str], today: date) -> Filters:
        """The filters a page's query string gives; unset ones are all DAGs, all models, the last 30 days.

        :raises BadFilter: a date that is no ``YYYY-MM-DD``, ``since`` after ``until``, a limit out of range.
        """
        until = _day(query.get("until"), "until") or today
        since = _day(query.get("since"), "since") or max(FIRST_DAY, until - timedelta(days=DEFAULT_DAYS - 1))
        if since > until:
            raise BadFilter(f"since ({since}) is after until ({until}): pick since on or before until")
        if (until - since).days >= MOST_DAYS:
            raise BadFilter(f"from {since} to {until} is more than {MOST_DAYS} days: pick fewer days")
        limit_text = query.get("limit") or "200"
        if not re.fullmatch(r"[0-9]{1,7}", limit_text) or not 1 <= int(limit_text) <= MOST_VIDEOS:
            raise BadFilter(f"limit must be a whole number from 1 to {MOST_VIDEOS}, not {limit_text[:20]!r}")
        return cls(since, until, query.get("dag_id") or None, query.get("model") or None, int(limit_text))


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            raise ValueError(text)
        day = date.fromisoformat(text)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(text)
        return day
    except ValueError:
        raise BadFilter(
            f"{name} must be a day written YYYY-MM-DD from {FIRST_DAY} to {LAST_DAY}, not {text[:20]!r}"
        ) from None


def readable_dags(session: Any, user: Any) -> list[str]:
    """The DAGs with recorded videos whose XComs ``user`` may read, by Airflow's auth manager."""
    dag_ids = session.scalars(select(XComModel.dag_id).where(XComModel.key == VIDEO_RECORD_XCOM_KEY).distinct())
    manager = get_auth_manager()
    return sorted(
        dag_id
        for dag_id in dag_ids
        if manager.is_authorized_dag(
            method="GET", access_entity=DagAccessEntity.XCOM, details=DagDetails(id=dag_id), user=user
        )
    )


def recorded_videos(session: Any, dag_ids: list[str], filters: Filters) -> list[TaskVideo]:
    """Every video recorded in ``dag_ids`` within the filters' days (and DAG, and model), newest first."""
    wanted = [d for d in dag_ids if filters.dag_id in (None, d)]
    if not wanted:
        return []
    start = datetime.combine(filters.since, time.min, tzinfo=timezone.utc)
    end = datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=timezone.utc)
    rows = session.execute(
        select(
            XComModel.dag_id,
            XComModel.run_id,
            XComModel.task_id,
            XComModel.map_index,
            XComModel.timestamp,
            XComModel.value,
        ).where(
            XComModel.key == VIDEO_RECORD_XCOM_KEY,
            XComModel.dag_id.in_(wanted),
            XComModel.timestamp >= start,
            XComModel.timestamp < end,
        )
    )
    records = (
        read_record(row.dag_id, row.run_id, row.task_id, row.map_index, row.timestamp, xcom_value(row)) for row in rows
    )
    videos = merged(record for record in records if record is not None)
    return [video for video in videos if filters.model in (None, video.model)]
