"""The batch report: one line per row and the totals, in dollars when they are known."""

from __future__ import annotations

import json

import pytest

from airflow_provider_kling.batch import build_report
from tests.batch.conftest import GOOD, INF, NAN, NoAPI, delivered, plan, priced


def test_report_totals_and_usage():
    batch = plan(GOOD, '{"output": "b", "prompt": "x", "duration": 7}')
    outcomes = [
        {
            "generation_id": "g1",
            "generation": {"usage": {"tokens_used": 50}, "duration": 5},
            "destination": "file:///v/a.mp4",
        }
    ]
    report = build_report(batch, outcomes, NoAPI())
    assert report["totals"] == {
        "delivered": 1,
        "failed": 0,
        "already_done": 0,
        "invalid": 1,
        "planned": 0,
        "usage": {"tokens_used": 50.0},
        "usd": 0.000025,  # 50 credits
        "quote_usd": 0.0,
    }
    assert [line["status"] for line in report["rows"]] == ["delivered", "invalid"]
    assert report["rows"][0]["credits_used"] == 50


def test_report_duration_when_the_api_reports_none(tmp_path):
    # The unified fetch documents no duration: the delivered file's probe (its sidecar), else the request.
    batch = plan(GOOD, '{"output": "b", "prompt": "x", "duration": 10}', output=str(tmp_path))
    delivered(tmp_path, "a", "g1")
    outcomes = [
        {"generation_id": "g1", "generation": {"duration": None}, "destination": str(tmp_path / "a.mp4")},
        {"generation_id": "g2", "generation": {}, "destination": str(tmp_path / "b.mp4")},
    ]
    report = build_report(batch, outcomes, NoAPI())
    assert [(line["output"], line["duration"]) for line in report["rows"]] == [("a", 5.0), ("b", 10)]


def test_dry_run_report_lists_what_would_be_generated():
    batch = plan(
        GOOD, '{"output": "b", "model": "klingai/video-v3-pro-text-to-video", "prompt": "x"}', '{"output": "c"}'
    )
    report = build_report(batch, [], NoAPI(), dry_run=True)
    lines = {line["output"]: line for line in report["rows"]}
    assert {name: (line["status"], line["model"], line["duration"]) for name, line in lines.items()} == {
        "a": ("planned", "kling-video/v1.6/pro/text-to-video", 5),
        "b": ("planned", "klingai/video-v3-pro-text-to-video", 5),  # the model's documented default
        "c": ("invalid", None, None),
    }
    assert lines["a"]["destination"] == "/tmp/nowhere-kling/a.mp4"
    assert report["totals"]["planned"] == 2


def test_the_dry_run_report_has_each_rows_quote_and_the_total():
    batch = priced(plan(GOOD, '{"output": "b", "prompt": "x", "duration": 10}'), 0.49, 0.98)
    report = build_report(batch, [], NoAPI(), dry_run=True)
    assert [line["quote_usd"] for line in report["rows"]] == [0.49, 0.98]
    assert report["totals"]["quote_usd"] == pytest.approx(1.47)


@pytest.mark.parametrize("bad", [INF, NAN, -1.0, "inf", "-1", "0.5"], ids=repr)
def test_a_row_whose_cost_is_a_bad_number_makes_the_report_totals_unknown(bad):
    batch = plan(GOOD, '{"output": "b", "prompt": "x", "duration": 5}')
    outcomes = [
        {
            "generation_id": "g1",
            "generation": {"usage": {"credits_used": 980000}, "duration": 5},
            "destination": "/v/a.mp4",
        },
        {
            "generation_id": "g2",
            "generation": {"usage": {"credits_used": bad}, "duration": 5},
            "destination": "/v/b.mp4",
        },
    ]
    report = build_report(batch, outcomes, NoAPI())
    json.dumps(report, allow_nan=False)
    assert [line["usd"] for line in report["rows"]] == [0.49, "unknown"]
    assert (report["totals"]["usd"], report["totals"]["usage"]) == ("unknown", {"credits_used": "unknown"})
