from __future__ import annotations

import pytest

from airflow_provider_kling.cadence import RenderHistory
from airflow_provider_kling.exceptions import (
    KlingAPIError,
    KlingGenerationFailed,
    KlingTransientError,
    KlingWaitTimeout,
)
from airflow_provider_kling.models import Generation
from airflow_provider_kling.waiting import (
    WaitProgress,
    WaitTarget,
    delay_after,
    format_elapsed,
    result_from_generation,
    wait_timeout,
)


def gen(status, **kw):
    return Generation.from_api({"id": "g1", "status": status, **kw})


COMPLETED = gen("completed", video={"url": "https://cdn/v.mp4?sig=s"}, meta={"usage": {"tokens_used": 10}})


@pytest.mark.parametrize(
    ("generation", "finished"),
    [
        (gen("queued"), None),
        (gen("generating"), None),
        (gen("rendering"), None),
        (gen("completed"), None),  # no URL yet
        (COMPLETED, "result"),
        (gen("error", error="bad prompt"), "Kling generation g1 failed: bad prompt"),
        (gen("failed"), "the API gave no reason"),
    ],
)
def test_result_from_each_state(generation, finished):
    if finished is None:
        assert result_from_generation(generation) is None
    elif finished == "result":
        assert result_from_generation(generation)["usage"] == {"tokens_used": 10.0}
    else:
        with pytest.raises(KlingGenerationFailed, match=finished) as excinfo:
            result_from_generation(generation)
        assert excinfo.value.generation["id"] == "g1"


@pytest.mark.parametrize(
    ("waited", "last", "fragment"),
    [
        (75, gen("generating"), "after 1m15s: the deadline passed while its status was 'generating'"),
        (3, None, "'never fetched'"),
    ],
)
def test_a_wait_timeout_names_the_time_waited_and_the_last_status(waited, last, fragment):
    error = wait_timeout("g1", waited, last)
    assert isinstance(error, KlingWaitTimeout)
    assert fragment in str(error)
    assert error.generation == (last.to_xcom() if last else None)


def test_progress_logs_only_changes():
    progress = WaitProgress(WaitTarget("g1"), started=0)
    assert len(progress.observe(gen("queued"), 1)) == 1
    assert progress.observe(gen("queued"), 16) == []
    assert "status 'generating' after 31s" in progress.observe(gen("generating"), 31)[0]
    lines = progress.observe(COMPLETED, 200)
    assert any(
        "completed in 3m20s: https://cdn/v.mp4 (tokens_used=10; cost $0.00 = 10 credits)" in line for line in lines
    )
    assert all("sig=" not in line for line in lines)


def test_unknown_status_and_missing_url_are_warned_once():
    progress = WaitProgress(WaitTarget("g1"), started=0)
    assert any("Unknown status" in line for line in progress.observe(gen("rendering"), 1))
    assert not any("Unknown status" in line for line in progress.observe(gen("rendering"), 2))
    assert any("without a video URL" in line for line in progress.observe(gen("completed"), 3))
    assert progress.observe(gen("completed"), 4) == []


def test_failure_streaks_are_ridden_out_until_the_budget():
    progress = WaitProgress(WaitTarget("g1"), started=0, failure_budget=60)
    assert progress.poll_failed(KlingTransientError("503"), 100) is False
    assert progress.poll_failed(KlingTransientError("503"), 159) is False
    progress.observe(gen("queued"), 160)  # a success ends the streak
    assert progress.poll_failed(KlingTransientError("503"), 170) is False
    assert progress.poll_failed(KlingTransientError("503"), 230) is True


def test_permanent_poll_failures_stop_at_once():
    progress = WaitProgress(WaitTarget("g1"), started=0)
    assert progress.poll_failed(KlingAPIError("404", status_code=404), 1) is True


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (59.4, "59s"), (60, "1m00s"), (185, "3m05s"), (-3, "0s")])
def test_format_elapsed(seconds, text):
    assert format_elapsed(seconds) == text


def test_the_sparse_window_counts_from_the_last_time_the_generation_was_seen_queued():
    history = RenderHistory()
    progress = WaitProgress.start(
        WaitTarget("g1", "kling-video/v1.6/pro/text-to-video", 0.0), 0.0, poll_interval=10, history=history
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
    assert step.result is not None
    # The render took at most 150 - 30 s; one render is not trusted yet: the prior (60 s) stays.
    assert history.floor("kling-video/v1.6/pro/text-to-video", 10) == pytest.approx(60)
    assert progress.render_upper_bound(150) == 120


def test_a_wait_that_never_saw_its_generation_queued_nor_created_it_polls_every_interval():
    progress = WaitProgress.start(WaitTarget("g1", "kling-video/v1.6/pro/text-to-video"), 0.0, poll_interval=10)
    progress.observe(gen("generating"), 0)
    assert progress.earliest_completion() is None
    assert delay_after(progress, 10, 999, now=0) == 10


def test_status_change_lines_count_polls_in_plain_english():
    progress = WaitProgress(WaitTarget("g1"), 0.0)
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
    progress = WaitProgress(WaitTarget("g1"), 0.0)
    progress.observe(gen("generating"), 0.0)  # no floor known: the plain interval
    assert delay_after(progress, 10, 999, now, poll_started=poll_started) == pytest.approx(expected)


def test_a_poll_counted_from_its_start_never_passes_the_deadline():
    progress = WaitProgress(WaitTarget("g1"), 0.0)
    assert delay_after(progress, 10, 3.0, 100.5, poll_started=100.0) == pytest.approx(2.5)


FAILING = KlingTransientError("HTTP 502 from the gateway")


@pytest.mark.parametrize(
    ("outcome", "now", "ends_with", "delay"),
    [
        (gen("queued"), 100.0, None, 30.0),  # queued at 100: no render ends before 190, sparse
        (gen("generating"), 100.0, None, 30.0),  # created at 80: none ends before 170, sparse
        (COMPLETED, 100.0, "result", 0.0),
        (gen("error", error="nsfw"), 100.0, KlingGenerationFailed, 0.0),
        (gen("queued"), 995.0, None, 5.0),  # never sleeps past the deadline
        (gen("queued"), 1000.0, KlingWaitTimeout, 0.0),  # the deadline passed during the poll
        (FAILING, 100.0, None, 30.0),  # a transient failure is ridden out, on the same schedule
        (KlingAPIError("HTTP 401", status_code=401), 100.0, KlingAPIError, 0.0),  # permanent: stop at once
    ],
)
def test_after_poll_decides_for_the_sync_wait_and_the_trigger_alike(outcome, now, ends_with, delay):
    progress = WaitProgress(WaitTarget("g1", submitted_at=80.0), started=0.0, render_floor=90.0)
    step = progress.after_poll(outcome, poll_interval=10, end_time=1000.0, poll_started=now, now=now)
    assert step.ends_wait is (ends_with is not None)
    if ends_with == "result":
        assert step.result == COMPLETED.to_xcom()
    elif ends_with is not None:
        assert type(step.error) is ends_with
    assert step.delay == pytest.approx(delay)


def test_after_poll_stops_once_failures_outlast_the_budget():
    progress = WaitProgress(WaitTarget("g1"), started=0.0, failure_budget=60)
    first = progress.after_poll(FAILING, poll_interval=10, end_time=1000.0, poll_started=100, now=100)
    assert not first.ends_wait
    assert first.logs[0][1].startswith("Polling generation g1 failed, will keep trying")
    last = progress.after_poll(FAILING, poll_interval=10, end_time=1000.0, poll_started=160, now=160)
    assert last.error is FAILING


@pytest.mark.parametrize("wait_seconds", [5.0, 600.0, 3600.0])
def test_the_defer_timeout_and_the_deadline_read_back_from_it_agree(wait_seconds):
    from airflow_provider_kling.waiting import deadline_of_defer_timeout, defer_timeout

    now = 1_700_000_000.0
    timeout = defer_timeout(wait_seconds)
    assert timeout.total_seconds() > wait_seconds  # Airflow's timeout fires after the trigger's own
    assert deadline_of_defer_timeout(now + timeout.total_seconds()) == pytest.approx(now + wait_seconds)
