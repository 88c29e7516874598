"""A task's log lines and return values over reported usage, bad figures included: never a crash,
never a made-up number, always JSON."""

from __future__ import annotations

import json

import pytest

from airflow_provider_kling.task_outputs import (
    RETURN_SUMMARY,
    describe_usage,
    ready_line,
    task_end_xcoms,
    task_summary,
)

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("usage", "said"),
    [
        ({}, "usage not reported"),
        ({"credits_used": 980000.0}, "credits_used=980000; cost $0.49 = 980,000 credits"),
        ({"tokens_used": INF}, "tokens_used=inf; cost unknown (tokens_used=inf: not a finite, non-negative number)"),
        ({"usd_spent": NAN}, "usd_spent=nan; cost unknown (usd_spent=nan: not a finite, non-negative number)"),
        ({"usd_spent": -1.0}, "usd_spent=-1; cost unknown (usd_spent=-1: not a finite, non-negative number)"),
        # The XCom form of a bad figure (a short text), as a trigger's event or an upstream task hands it on.
        ({"usd_spent": "inf"}, "usd_spent=inf; cost unknown (usd_spent=inf: not a finite, non-negative number)"),
    ],
)
def test_the_usage_of_a_log_line(usage, said):
    assert describe_usage(usage) == said


@pytest.mark.parametrize("usage", [{"tokens_used": "inf"}, {"tokens_used": INF}, {"usd_spent": -2.0}])
def test_a_summary_of_a_bad_usage_is_json_with_an_unknown_cost(usage):
    result = {"id": "g", "status": "completed", "video_url": "https://cdn/v.mp4?sig=s", "usage": usage}
    summary = task_summary(result, "/videos/g.mp4")
    assert summary["cost"] == "unknown"
    json.dumps(summary, allow_nan=False)
    json.dumps(task_end_xcoms(result, RETURN_SUMMARY)["return_value"], allow_nan=False)
    assert "cost unknown" in ready_line(result)


def test_a_task_ended_in_the_triggerer_records_its_video_with_the_model():
    result = {"id": "g1", "status": "completed", "video_url": "https://cdn/v.mp4?sig=x", "cost": {"usd": 0.49}}
    record = task_end_xcoms(result, RETURN_SUMMARY, "kling-video/v1.6/pro/text-to-video")["kling_video"]
    assert record == {
        "generation_ids": ["g1"],
        "model": "kling-video/v1.6/pro/text-to-video",
        "usd": 0.49,
        "seconds": None,
        "delivered": False,
        "poster": False,
    }
    assert "sig=" not in str(record)  # the record holds no URL
