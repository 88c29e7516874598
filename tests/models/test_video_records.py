"""The ``kling_video`` records and the Videos page's sums: what is read back, merged and counted."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from airflow_provider_kling.models.video_records import TaskVideo, merged, read_record, spend, video_record

DAY1 = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
DAY2 = datetime(2026, 12, 2, 9, tzinfo=timezone.utc)


def task_video(task_id: str = "t", at: datetime = DAY1, **fields) -> TaskVideo:
    return TaskVideo("nightly", "run", task_id, -1, at, **fields)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (
            {"generation_ids": ["g"], "model": "kling-video/v1.6/pro/text-to-video", "cost": {"usd": 0.49}},
            {"generation_ids": ["g"], "model": "kling-video/v1.6/pro/text-to-video", "usd": 0.49},
        ),
        ({"generation_ids": ["g", None, ""], "cost": "unknown"}, {"generation_ids": ["g"], "usd": None}),
        ({"generation_ids": [], "cost": {"usd": float("nan")}}, {"usd": None}),
        ({"generation_ids": [], "cost": {"usd": -1}}, {"usd": None}),
        ({"generation_ids": [], "seconds": float("inf")}, {"seconds": None}),
        ({"generation_ids": [], "seconds": 5}, {"seconds": 5}),
        ({"generation_ids": [], "seconds": "5"}, {"seconds": None}),
        ({"generation_ids": [], "model": 7}, {"model": None}),
    ],
)
def test_a_record_keeps_only_figures_that_can_be_summed(facts, expected):
    record = video_record(**facts)
    assert {key: record[key] for key in expected} == expected
    assert set(record) == {"generation_ids", "model", "usd", "seconds", "delivered", "poster"}


@pytest.mark.parametrize(
    ("value", "field", "expected"),
    [
        ({"usd": 0.49}, "usd", 0.49),
        ({"usd": "0.49"}, "usd", None),  # an edited XCom: a string is no figure
        ({"usd": float("nan")}, "usd", None),
        ({"usd": float("inf")}, "usd", None),
        ({"usd": -3}, "usd", None),
        ({"usd": True}, "usd", None),
        ({"seconds": 0}, "seconds", None),
        ({"seconds": 10.5}, "seconds", 10.5),
        ({"model": "<script>"}, "model", "<script>"),  # kept as text: the page escapes it
        ({"model": "m" * 201}, "model", None),
        ({"model": ""}, "model", None),
        ({"generation_ids": "g"}, "generation_ids", ()),
        ({"generation_ids": ["g", 3, None]}, "generation_ids", ("g",)),
        ({"generation_ids": ["g"] * 65}, "generation_ids", ()),
        ({"delivered": "yes"}, "delivered", False),
        ({"delivered": True}, "delivered", True),
    ],
)
def test_a_record_read_back_from_xcom_is_checked_again(value, field, expected):
    video = read_record("d", "r", "t", -1, DAY1, value)
    assert video is not None
    assert getattr(video, field) == expected


@pytest.mark.parametrize("value", [None, "g", 3, ["g"]])
def test_what_is_no_record_is_not_listed(value):
    assert read_record("d", "r", "t", -1, DAY1, value) is None


def test_a_generation_finished_by_one_task_and_delivered_by_another_is_one_video():
    submitted = task_video("submit", generation_ids=("g1",), model="m")
    waited = task_video("wait", generation_ids=("g1",), usd=0.49, seconds=5.0)
    delivered = task_video("download", at=DAY2, generation_ids=("g1",), usd=0.49, delivered=True, poster=True)
    other = task_video("other", generation_ids=("g2",), model="m2", usd=0.98)
    [latest, first] = merged([submitted, waited, delivered, other])
    assert (latest.task_id, latest.model, latest.usd, latest.seconds, latest.at) == ("download", "m", 0.49, 5.0, DAY2)
    assert (latest.delivered, latest.poster) == (True, True)
    assert first.task_id == "other"


def test_records_naming_no_generation_each_stand_alone():
    assert len(merged([task_video("a"), task_video("b")])) == 2


def test_a_storyboard_is_its_shots_together_not_each_shot():
    board = task_video("board", generation_ids=("s2", "s1"), usd=0.98, delivered=True)
    shot = task_video("board", generation_ids=("s1",), usd=0.49)
    assert [v.generation_ids for v in merged([board, shot])] == [("s2", "s1"), ("s1",)]


def test_spend_is_usd_per_day_by_dag_or_model_with_totals():
    videos = [
        TaskVideo("nightly", "r", "a", -1, DAY1, ("g1",), "m1", 0.49),
        TaskVideo("nightly", "r", "b", -1, DAY1, ("g2",), "m2", 0.98),
        TaskVideo("ads", "r", "c", -1, DAY2, ("g3",), "m1", 1.4),
        TaskVideo("ads", "r", "d", -1, DAY2, ("g4",), None, None),  # its cost was not reported
    ]
    by_dag = spend(videos, "dag")
    assert by_dag.days == (date(2026, 12, 1), date(2026, 12, 2))
    assert list(by_dag.usd) == ["nightly", "ads"]  # the largest first
    assert by_dag.total("nightly") == pytest.approx(1.47)
    assert by_dag.total() == pytest.approx(2.87)
    assert by_dag.day_total(date(2026, 12, 2)) == pytest.approx(1.4)
    assert by_dag.unpriced == 1
    by_model = spend(videos, "model")
    assert by_model.usd["m1"] == {date(2026, 12, 1): 0.49, date(2026, 12, 2): 1.4}
    assert by_model.total() == by_dag.total()


def test_no_videos_spend_nothing():
    empty = spend([], "dag")
    assert (empty.days, empty.total(), empty.unpriced) == ((), 0, 0)


def test_a_failed_task_records_why_and_the_page_reads_it_failed():
    record = video_record(generation_ids=["g"], error="generation g failed: " + "x" * 2000)
    assert len(record["error"]) == 1000
    assert "error" not in video_record(generation_ids=["g"])
    failed = read_record("nightly", "r", "t", -1, DAY1, record)
    assert failed is not None
    assert failed.failed
    # Delivered by a later try or another task, the video is not "failed".
    delivered = task_video("download", generation_ids=("g",), delivered=True)
    [video] = merged([failed, delivered])
    assert (video.delivered, video.failed) == (True, False)
    [alone] = merged([failed])
    assert alone.failed


def test_a_generation_is_paid_once_whoever_records_it_again():
    board = TaskVideo("ads", "r", "board", -1, DAY1, ("g1", "g2"), "m", 0.98, None, True)
    shot_again = TaskVideo("ads", "r", "download", -1, DAY2, ("g1",), "m", 0.49, None, True)
    repeated = read_record("ads", "r", "t", -1, DAY1, {"generation_ids": ["g3", "g3"], "usd": 0.49})
    assert repeated is not None
    assert repeated.generation_ids == ("g3",)
    videos = merged([board, shot_again, repeated])
    assert len(videos) == 3  # three things to watch
    assert spend(videos, "dag").total() == pytest.approx(1.47)  # g1 + g2 + g3, g1 once


def test_a_record_in_another_dag_neither_hides_nor_lowers_a_video():
    theirs = TaskVideo("dag_b", "r", "download", -1, DAY1, ("gb",), "m", 5.0, None, True)
    edited = TaskVideo("dag_a", "r", "x", -1, DAY2, ("gb",), "m", 0.0, None, True)
    videos = merged([edited, theirs])
    assert {(v.dag_id, v.usd) for v in videos} == {("dag_a", 0.0), ("dag_b", 5.0)}
    assert spend(videos, "dag").total() == pytest.approx(5.0)


@pytest.mark.parametrize("usd", [1e308, 100_000.01])
def test_a_cost_beyond_any_video_is_no_figure(usd):
    video = read_record("d", "r", "t", -1, DAY1, {"generation_ids": ["g"], "usd": usd})
    assert video is not None
    assert video.usd is None
