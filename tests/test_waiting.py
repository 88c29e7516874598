from __future__ import annotations

import pytest

from airflow_provider_kling.cadence import RenderHistory, next_poll_delay
from airflow_provider_kling.exceptions import (
    KlingAPIError,
    KlingGenerationFailed,
    KlingPermanentError,
    KlingTransientError,
    KlingWaitTimeout,
)
from airflow_provider_kling.models import Generation
from airflow_provider_kling.waiting import (
    WaitProgress,
    delay_after,
    event_for,
    event_for_error,
    format_elapsed,
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
    assert any(
        "completed in 3m20s: https://cdn/v.mp4 (tokens_used=10; cost $0.00 = 10 credits)" in line for line in lines
    )
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
    ("interval", "remaining", "until_possible", "expected"),
    [
        (10, 999, None, 10),  # nothing known: the user's interval, as a fixed loop
        (10, 999, 5, 10),  # completion possible within one interval: the interval
        (10, 999, 90, 30),  # not yet possible: sparse, 3 x interval ...
        (15, 999, 90, 30),  # ... at most 30 s apart
        (10, 999, 25, 25),  # ... landing exactly when completion becomes possible
        (60, 999, 500, 60),  # never denser than the user's interval
        (0.2, 999, 9, 0.6),  # scales down for fast setups
        (10, 4, 90, 4),  # never past the deadline
    ],
)
def test_adaptive_schedule(interval, remaining, until_possible, expected):
    assert next_poll_delay(interval, remaining, until_possible=until_possible) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("model", "interval", "floor"),
    [
        ("kling-video/v1.6/pro/text-to-video", 10, 60),  # a standard family: renders take minutes
        ("klingai/video-v3-turbo-pro-text-to-video", 10, 15),  # turbo: fast
        ("kling-video/v1.6/pro/text-to-video", 1, 9),  # a 1 s poll interval says renders are quick
        ("kling-video/v9/unknown", 10, 0),  # outside the catalog: no prior
        (None, 10, 0),  # a sensor that does not know its model, in a fresh process
    ],
)
def test_render_floor_priors(model, interval, floor):
    assert RenderHistory().floor(model, interval) == floor


def test_renders_seen_lower_the_floor_at_once_and_set_it_once_trusted():
    standard, turbo = "kling-video/v1.6/pro/text-to-video", "klingai/video-v3-turbo-pro-text-to-video"
    history = RenderHistory()
    history.record(standard, 40.0)  # faster than the family's 60 s prior: lowered at once
    assert history.floor(standard, 10) == pytest.approx(32)
    assert history.floor(turbo, 10) == 15  # other models keep their prior
    assert history.floor(None, 10) == pytest.approx(32)  # a sensor: the shortest render of any model
    history.record(None, 10.0)
    assert history.floor(None, 10) == pytest.approx(8)
    assert history.floor(standard, 10) == pytest.approx(32)

    slow = RenderHistory()
    for _ in range(4):
        slow.record(standard, 150.0)
    assert slow.floor(standard, 10) == 60  # a few slow renders: the prior still holds ...
    slow.record(standard, 150.0)
    assert slow.floor(standard, 10) == 90  # ... five are trusted: 0.8 x 150, capped at 9 poll intervals
    assert slow.floor(standard, 20) == 120


def test_the_sparse_window_counts_from_the_last_time_the_generation_was_seen_queued():
    history = RenderHistory()
    progress = WaitProgress.for_model(
        "g1", 0.0, model="kling-video/v1.6/pro/text-to-video", poll_interval=10, submitted_at=0.0, history=history
    )
    assert progress.earliest_completion() == 60  # created at 0: no render finishes before 60
    progress.observe(gen("queued"), 30)
    assert progress.earliest_completion() == 90  # still queued at 30: not before 90
    assert delay_after(progress, 10, 999, now=30) == 30
    progress.observe(gen("generating"), 60)
    assert delay_after(progress, 10, 999, now=70) == 20  # lands at 90
    assert delay_after(progress, 10, 999, now=90) == 10  # then every interval
    step = progress.after_poll(
        Generation.from_api({"id": "g1", "status": "completed", "video": {"url": "https://v/x.mp4"}}),
        poll_interval=10,
        end_time=999,
        poll_started=150,
        now=150,
    )
    assert step.event is not None
    # The render took at most 150 - 30 s; one render is not trusted yet: the prior (60 s) stays.
    assert history.floor("kling-video/v1.6/pro/text-to-video", 10) == pytest.approx(60)
    assert progress.render_upper_bound(150) == 120


def test_a_wait_that_never_saw_its_generation_queued_nor_created_it_polls_every_interval():
    progress = WaitProgress.for_model("g1", 0.0, model="kling-video/v1.6/pro/text-to-video", poll_interval=10)
    progress.observe(gen("generating"), 0)
    assert progress.earliest_completion() is None
    assert delay_after(progress, 10, 999, now=0) == 10


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
    progress.observe(gen("generating"), 0.0)  # no floor known: the plain interval
    assert delay_after(progress, 10, 999, now, poll_started=poll_started) == pytest.approx(expected)


def test_a_poll_counted_from_its_start_never_passes_the_deadline():
    progress = WaitProgress("g1", 0.0)
    assert delay_after(progress, 10, 3.0, 100.5, poll_started=100.0) == pytest.approx(2.5)


FAILING = KlingTransientError("HTTP 502 from the gateway")


@pytest.mark.parametrize(
    ("outcome", "now", "event_status", "delay", "raises"),
    [
        (gen("queued"), 100.0, None, 30.0, False),  # queued at 100: no render ends before 190, sparse
        (gen("generating"), 100.0, None, 30.0, False),  # created at 80: none ends before 170, sparse
        (COMPLETED, 100.0, "success", 0.0, False),
        (gen("error", error="nsfw"), 100.0, "failed", 0.0, False),
        (gen("queued"), 995.0, None, 5.0, False),  # never sleeps past the deadline
        (gen("queued"), 1000.0, "timeout", 0.0, False),  # the deadline passed during the poll
        (FAILING, 100.0, None, 30.0, False),  # a transient failure is ridden out, on the same schedule
        (KlingAPIError("HTTP 401", status_code=401), 100.0, "error", 0.0, True),  # permanent: stop at once
    ],
)
def test_after_poll_decides_for_the_sync_wait_and_the_trigger_alike(outcome, now, event_status, delay, raises):
    progress = WaitProgress("g1", started=0.0, render_floor=90.0, submitted_at=80.0)
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


def test_a_task_ended_in_the_triggerer_leaves_what_its_process_would():
    from airflow_provider_kling.task_outputs import task_end_xcoms

    result = COMPLETED.to_xcom()
    assert task_end_xcoms(result, "generation") == {
        "return_value": result,
        "kling_video_url": result["video_url"],
        "_link_KlingVideoLink": result["video_url"],  # what the extra link shows, as a worker's finalize stores it
    }
    summary = task_end_xcoms(result, "summary")["return_value"]
    assert summary == {
        "id": result["id"],
        "status": "completed",
        "video_url": result["video_url"],
        "destination": None,
        "duration": result["duration"],
        "usage": result["usage"],
        "cost": {"usd": 5e-06, "credits": 10},
    }
    with pytest.raises(ValueError, match="end_task='both'"):
        task_end_xcoms(result, "both")


def test_a_render_history_can_be_reset_to_a_fresh_processs():
    from airflow_provider_kling.cadence import RenderHistory, render_floor_prior

    history = RenderHistory()
    turbo = "klingai/video-v3-turbo-pro-text-to-video"
    history.record(turbo, 0.5)
    assert history.floor(turbo, 10.0) == pytest.approx(0.4)
    history.reset()
    assert history.floor(turbo, 10.0) == render_floor_prior(turbo, 10.0)
