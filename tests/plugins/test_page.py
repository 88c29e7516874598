"""The Videos page: its filters, its list and its spend charts, as HTML."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest

from airflow_provider_kling.models.video_records import TaskVideo, spend
from airflow_provider_kling.plugins.listing import BadFilter, Filters
from airflow_provider_kling.plugins.page import spend_chart, videos_page

TODAY = date(2026, 12, 7)
AT = datetime(2026, 12, 6, 22, 15, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, Filters(date(2026, 11, 8), TODAY)),
        ({"since": "2026-12-01"}, Filters(date(2026, 12, 1), TODAY)),
        ({"until": "2026-11-30"}, Filters(date(2026, 11, 1), date(2026, 11, 30))),
        ({"dag_id": "nightly", "model": "m", "limit": "1000"}, Filters(date(2026, 11, 8), TODAY, "nightly", "m", 1000)),
        ({"dag_id": "", "model": ""}, Filters(date(2026, 11, 8), TODAY)),
        ({"until": "1970-01-05"}, Filters(date(1970, 1, 1), date(1970, 1, 5))),  # not before the first day
        ({"since": "9999-12-30"}, None),
    ],
)
def test_the_filters_a_query_gives(query, expected):
    if expected is None:  # since after today's until
        with pytest.raises(BadFilter, match="is after until"):
            Filters.parse(query, TODAY)
        return
    assert Filters.parse(query, TODAY) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"since": "yesterday"},
            "since must be a day written YYYY-MM-DD from 1970-01-01 to 9999-12-30, not 'yesterday'",
        ),
        ({"until": "2026-13-01"}, "until must be a day written YYYY-MM-DD"),
        ({"since": "2026-12-0\uff11"}, "since must be a day"),  # a full-width digit
        ({"since": "2026-12-05", "until": "2026-12-01"}, "since (2026-12-05) is after until (2026-12-01)"),
        ({"limit": "0"}, "limit must be a whole number from 1 to 1000, not '0'"),
        ({"until": "9999-12-31"}, "until must be a day written YYYY-MM-DD from 1970-01-01 to 9999-12-30"),
        ({"since": "0001-01-01", "until": "0001-01-05"}, "until must be a day written YYYY-MM-DD from 1970-01-01"),
        ({"since": "2020-01-01"}, "from 2020-01-01 to 2026-12-07 is more than 366 days: pick fewer days"),
        ({"limit": "1001"}, "limit must be a whole number from 1 to 1000"),
        ({"limit": "-5"}, "limit must be a whole number"),
        ({"limit": "nan"}, "limit must be a whole number"),
        ({"limit": "²"}, "limit must be a whole number"),
    ],
)
def test_a_filter_that_cannot_be_used_is_named(query, message):
    with pytest.raises(BadFilter) as refused:
        Filters.parse(query, TODAY)
    assert message in str(refused.value)


def render(videos, limit=200):
    filters = Filters(date(2026, 12, 1), TODAY, limit=limit)
    choices = {"dag_id": sorted({v.dag_id for v in videos}), "model": ["m"]}
    return videos_page(videos, spend(videos, "dag"), spend(videos, "model"), filters, choices, ("/base", "/base/kling"))


def test_each_video_links_to_its_task_instance_and_shows_its_poster_and_cost():
    delivered = TaskVideo(
        "nightly", "manual__2026-12-06T22:15:00+00:00", "row.download", 3, AT, ("g",), "m", 0.49, 5.0, True, True
    )
    kept = TaskVideo("nightly", "r2", "generate", -1, AT, ("h",), None, None)
    text = render([delivered, kept])
    tab = "/base/dags/nightly/runs/manual__2026-12-06T22%3A15%3A00%2B00%3A00/tasks/row.download/mapped/3/plugin/kling_video"
    assert f"href='{tab}'" in text
    assert (
        "src='/base/kling/task-instance/nightly/manual__2026-12-06T22%3A15%3A00%2B00%3A00/row.download/3/still/poster'"
        in text
    )
    assert "$0.49" in text
    assert "5 s" in text
    assert "href='/base/dags/nightly/runs/r2/tasks/generate'" in text  # no video stored: its task instance
    assert "(kept at the API)" in text
    assert "not reported" in text
    assert "1 with no cost recorded" in text


def test_what_a_record_says_is_escaped_and_quoted():
    hostile = TaskVideo(
        "d",
        "r'><script>alert(1)</script>",
        "t/../x",
        -1,
        AT,
        ("g",),
        "<img src=x onerror=alert(1)>",
        1.0,
        None,
        True,
        True,
    )
    text = render([hostile])
    assert "<script>" not in text
    assert "<img src=x" not in text
    assert "t%2F..%2Fx" in text  # a path segment cannot climb out of its place


def test_the_list_stops_at_the_limit_and_says_so():
    videos = [TaskVideo("d", f"r{i}", "t", -1, AT, (f"g{i}",), "m", 0.1) for i in range(5)]
    text = render(videos, limit=2)
    assert text.count("<tr><td>") == 2
    assert "3 older video(s) not listed" in text
    assert "spent $0.50" in text  # the charts and the total cover every video, not only the listed ones


def test_the_spend_chart_draws_a_bar_per_day_and_series_with_totals():
    videos = [
        TaskVideo("nightly", "r", "a", -1, datetime(2026, 12, 1, tzinfo=timezone.utc), ("1",), "m1", 0.49),
        TaskVideo("ads", "r", "b", -1, datetime(2026, 12, 1, tzinfo=timezone.utc), ("2",), "m1", 0.98),
        TaskVideo("ads", "r", "c", -1, datetime(2026, 12, 3, tzinfo=timezone.utc), ("3",), "m2", 1.4),
    ]
    chart = spend_chart(spend(videos, "dag"), "Spend per day by DAG")
    assert chart.count("<rect") == 3
    heights = [float(h) for h in re.findall(r"height='([0-9.]+)'", chart.split("<svg", 1)[1])[1:]]
    # Stacked: 12-01's two bars ($1.47, the biggest day) fill the chart's 150 px; 12-03's $1.40 nearly.
    assert heights[0] + heights[1] == pytest.approx(150.0, abs=0.2)
    assert heights[2] == pytest.approx(150 * 1.4 / 1.47, abs=0.1)
    assert "ads: $2.38" in chart
    assert "nightly: $0.49" in chart
    assert "Total: $2.87" in chart
    assert "nothing spent" in spend_chart(spend([], "dag"), "t")


def test_a_chart_of_one_day_labels_it_once():
    videos = [TaskVideo("d", "r", "a", -1, datetime(2026, 12, 1, tzinfo=timezone.utc), ("1",), "m", 0.49)]
    assert spend_chart(spend(videos, "dag"), "t").count(">2026-12-01</text>") == 1
