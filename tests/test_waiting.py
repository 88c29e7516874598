from __future__ import annotations

import pytest

from airflow_provider_kling.exceptions import (
    KlingAPIError,
    KlingGenerationFailed,
    KlingPermanentError,
    KlingTransientError,
    KlingWaitTimeout,
)
from airflow_provider_kling.models import Generation, GenerationStatus
from airflow_provider_kling.waiting import (
    WaitProgress,
    delay_after,
    event_for,
    event_for_error,
    format_elapsed,
    next_poll_delay,
    result_from_event,
    result_from_generation,
    timeout_event,
)


def gen(status, **kw):
    return Generation.from_api({"id": "g1", "status": status, **kw})


COMPLETED = gen("completed", video={"url": "https://cdn/v.mp4?sig=s"}, meta={"usage": {"tokens_used": 10}})


@pytest.mark.parametrize(
    ("generation", "event_status"),
    [
        (gen("queued"), None),
        (gen("generating"), None),
        (gen("rendering"), None),
        (gen("completed"), None),  # no URL yet
        (COMPLETED, "success"),
        (gen("error", error="bad prompt"), "failed"),
        (gen("failed"), "failed"),
    ],
)
def test_event_for_each_state(generation, event_status):
    event = event_for(generation)
    assert (event or {}).get("status") == event_status


def test_round_trip_success():
    assert result_from_event(event_for(COMPLETED))["video_url"] == "https://cdn/v.mp4?sig=s"
    assert result_from_generation(COMPLETED)["usage"] == {"tokens_used": 10.0}
    assert result_from_generation(gen("queued")) is None


@pytest.mark.parametrize(
    ("event", "error", "fragment"),
    [
        (event_for(gen("error", error="nsfw")), KlingGenerationFailed, "Kling generation g1 failed: nsfw"),
        (event_for(gen("error")), KlingGenerationFailed, "the API gave no reason"),
        (timeout_event("g1", 75, gen("generating")), KlingWaitTimeout, "after 1m15s"),
        (timeout_event("g1", 3, None), KlingWaitTimeout, "'never fetched'"),
        (event_for_error(KlingAPIError("HTTP 401", status_code=401)), KlingPermanentError, "HTTP 401"),
        (event_for_error(KlingTransientError("HTTP 503")), KlingTransientError, "HTTP 503"),
        (None, KlingTransientError, "Unexpected trigger event"),
        ({"nostatus": 1}, KlingTransientError, "Unexpected trigger event"),
    ],
)
def test_events_become_the_right_errors(event, error, fragment):
    with pytest.raises(error, match=fragment):
        result_from_event(event)


def test_progress_logs_only_changes():
    progress = WaitProgress("g1", started=0)
    assert len(progress.observe(gen("queued"), 1)) == 1
    assert progress.observe(gen("queued"), 16) == []
    assert "status 'generating' after 31s" in progress.observe(gen("generating"), 31)[0]
    lines = progress.observe(COMPLETED, 200)
    assert any("completed in 3m20s: https://cdn/v.mp4 (tokens_used=10)" in line for line in lines)
    assert all("sig=" not in line for line in lines)


def test_unknown_status_and_missing_url_are_warned_once():
    progress = WaitProgress("g1", started=0)
    assert any("Unknown status" in line for line in progress.observe(gen("rendering"), 1))
    assert not any("Unknown status" in line for line in progress.observe(gen("rendering"), 2))
    assert any("without a video URL" in line for line in progress.observe(gen("completed"), 3))
    assert progress.observe(gen("completed"), 4) == []


def test_failure_streaks_are_ridden_out_until_the_budget():
    progress = WaitProgress("g1", started=0, failure_budget=60)
    assert progress.poll_failed(KlingTransientError("503"), 100) is False
    assert progress.poll_failed(KlingTransientError("503"), 159) is False
    progress.observe(gen("queued"), 160)  # a success ends the streak
    assert progress.poll_failed(KlingTransientError("503"), 170) is False
    assert progress.poll_failed(KlingTransientError("503"), 230) is True


def test_permanent_poll_failures_stop_at_once():
    progress = WaitProgress("g1", started=0)
    assert progress.poll_failed(KlingAPIError("404", status_code=404), 1) is True


@pytest.mark.parametrize(
    ("interval", "remaining", "expected"),
    [(15, 100, 15), (15, 4, 4), (0, 100, 0.1), (-5, 100, 0.1), (15, -1, 0)],
)
def test_next_poll_delay(interval, remaining, expected):
    assert next_poll_delay(interval, remaining) == expected


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (59.4, "59s"), (60, "1m00s"), (185, "3m05s"), (-3, "0s")])
def test_format_elapsed(seconds, text):
    assert format_elapsed(seconds) == text


@pytest.mark.parametrize(
    ("interval", "remaining", "status", "rendering_for", "expected"),
    [
        (10, 999, None, None, 10),  # nothing known yet: the user's interval
        (10, 999, GenerationStatus.QUEUED, None, 20),  # queued: 2 x interval
        (15, 999, GenerationStatus.QUEUED, None, 20),  # ... at most 20 s
        (60, 999, GenerationStatus.QUEUED, None, 60),  # ... never denser than the user's interval
        (10, 999, GenerationStatus.GENERATING, 0, 30),  # early rendering: 3 x interval
        (10, 999, GenerationStatus.GENERATING, 75, 15),  # lands exactly at the end of the 90 s window
        (10, 999, GenerationStatus.GENERATING, 90, 10),  # completion likely: dense
        (10, 999, GenerationStatus.UNKNOWN, 200, 10),
        (0.2, 999, GenerationStatus.GENERATING, 0, 0.6),  # scales down for fast setups
        (0.2, 999, GenerationStatus.QUEUED, None, 0.4),
        (10, 4, GenerationStatus.QUEUED, None, 4),  # never past the deadline
    ],
)
def test_adaptive_schedule(interval, remaining, status, rendering_for, expected):
    assert next_poll_delay(interval, remaining, status=status, rendering_for=rendering_for) == pytest.approx(expected)


def test_progress_remembers_when_rendering_started():
    progress = WaitProgress("g1", started=0)
    progress.observe(gen("queued"), 0)
    assert delay_after(progress, 10, 999, now=0) == 20
    progress.observe(gen("generating"), 40)
    progress.observe(gen("generating"), 70)
    assert progress.rendering_since == 40
    assert delay_after(progress, 10, 999, now=70) == 30
    assert delay_after(progress, 10, 999, now=140) == 10


def test_status_change_lines_count_polls_in_plain_english():
    progress = WaitProgress("g1", 0.0)
    assert progress.observe(gen("queued"), 2)[0].endswith("after 2s (1 poll)")
    assert progress.observe(gen("generating"), 40)[0].endswith("after 40s (2 polls)")


@pytest.mark.parametrize(
    ("poll_started", "now", "expected"),
    [
        (None, 100.0, 10.0),  # no start given: the whole interval
        (100.0, 100.0, 10.0),  # an instant answer
        (100.0, 100.4, 9.6),  # a 0.4 s answer: the next poll still starts 10 s after this one did
        (100.0, 112.0, 0.0),  # an answer slower than the interval: poll again at once, never negative
    ],
)
def test_delays_count_from_when_the_poll_started(poll_started, now, expected):
    progress = WaitProgress("g1", 0.0)
    progress.observe(gen("generating"), 0.0)  # rendering since 0 ...
    progress.rendering_since = -1000.0  # ... long enough ago for the plain interval
    assert delay_after(progress, 10, 999, now, poll_started=poll_started) == pytest.approx(expected)


def test_a_poll_counted_from_its_start_never_passes_the_deadline():
    progress = WaitProgress("g1", 0.0)
    assert delay_after(progress, 10, 3.0, 100.5, poll_started=100.0) == pytest.approx(2.5)


FAILING = KlingTransientError("HTTP 502 from the gateway")


@pytest.mark.parametrize(
    ("outcome", "now", "event_status", "delay", "raises"),
    [
        (gen("queued"), 100.0, None, 20.0, False),  # queued: 2 x poll_interval
        (gen("generating"), 100.0, None, 30.0, False),  # early rendering: 3 x poll_interval
        (COMPLETED, 100.0, "success", 0.0, False),
        (gen("error", error="nsfw"), 100.0, "failed", 0.0, False),
        (gen("queued"), 995.0, None, 5.0, False),  # never sleeps past the deadline
        (gen("queued"), 1000.0, "timeout", 0.0, False),  # the deadline passed during the poll
        (FAILING, 100.0, None, 10.0, False),  # a transient failure is ridden out
        (KlingAPIError("HTTP 401", status_code=401), 100.0, "error", 0.0, True),  # permanent: stop at once
    ],
)
def test_after_poll_decides_for_the_sync_wait_and_the_trigger_alike(outcome, now, event_status, delay, raises):
    progress = WaitProgress("g1", started=0.0)
    step = progress.after_poll(outcome, poll_interval=10, end_time=1000.0, poll_started=now, now=now)
    assert (step.event or {}).get("status") == event_status
    assert step.delay == pytest.approx(delay)
    assert (step.error is not None) is raises


def test_after_poll_stops_once_failures_outlast_the_budget():
    progress = WaitProgress("g1", started=0.0, failure_budget=60)
    first = progress.after_poll(FAILING, poll_interval=10, end_time=1000.0, poll_started=100, now=100)
    assert first.event is None
    assert first.logs[0][1].startswith("Polling generation g1 failed, will keep trying")
    last = progress.after_poll(FAILING, poll_interval=10, end_time=1000.0, poll_started=160, now=160)
    assert last.event == {"status": "error", "message": str(FAILING), "retryable": True}


def test_the_deadline_event_names_the_last_status_seen():
    progress = WaitProgress("g1", started=0.0)
    assert progress.deadline_step(1000.0, now=999.0) is None
    progress.after_poll(gen("generating"), poll_interval=10, end_time=1000.0, poll_started=500, now=500)
    event = progress.deadline_step(1000.0, now=1000.0).event
    assert event["status"] == "timeout"
    assert "status was 'generating'" in event["message"]
