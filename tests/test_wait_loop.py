"""The one wait loop, driven with a scripted API and a fake clock (no sleeping, no HTTP)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from airflow_provider_kling.cadence import RenderHistory
from airflow_provider_kling.exceptions import (
    KlingAPIError,
    KlingGenerationFailed,
    KlingTransientError,
    KlingWaitTimeout,
)
from airflow_provider_kling.models import Generation
from airflow_provider_kling.wait_loop import WaitSettings, follow, follow_blocking
from airflow_provider_kling.waiting import WaitTarget

MODEL = "kling-video/v1.6/pro/text-to-video"


def gen(status, **kw):
    return Generation.from_api({"id": "g1", "status": status, **kw})


DONE = gen("completed", video={"url": "https://cdn/v.mp4?sig=s"})


class ScriptedApi:
    """Answers each poll with the next item of ``answers`` (the last one repeats), on a fake clock."""

    def __init__(self, answers, *, seconds_per_poll=0.5):
        self.answers = list(answers)
        self.now = 1000.0
        self.seconds_per_poll = seconds_per_poll
        self.polled_at: list[float] = []
        self.slept: list[float] = []

    async def fetch(self, generation_id, *, deadline=None):
        assert generation_id == "g1"
        self.polled_at.append(self.now)
        self.now += self.seconds_per_poll
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds

    def clock(self):
        return self.now

    def follow(self, *, end_in=600.0, known=None, history=None, target=None, failure_budget=300.0):
        settings = WaitSettings(self.now + end_in, 10.0, failure_budget)
        return asyncio.run(
            follow(
                target or WaitTarget("g1"),
                self.fetch,
                settings,
                logging.getLogger("test"),
                known=known,
                history=history,
                sleep=self.sleep,
                clock=self.clock,
            )
        )


@pytest.mark.parametrize(
    ("answers", "polls", "ends_with"),
    [
        ([DONE], 1, "result"),
        ([gen("queued"), gen("generating"), DONE], 3, "result"),
        ([KlingTransientError("502"), KlingTransientError("reset"), DONE], 3, "result"),
        ([gen("generating"), gen("error", error="bad prompt")], 2, KlingGenerationFailed),
        ([KlingAPIError("401 bad key", status_code=401)], 1, KlingAPIError),
        # every 10 s from t=0 to 590 s, then a last look before the 600 s deadline (at 599.5 s)
        ([gen("generating")], 61, KlingWaitTimeout),
        ([gen("completed")], 61, KlingWaitTimeout),  # "completed" without a URL is not finished
    ],
)
def test_the_loop_ends_with_a_result_or_an_error(answers, polls, ends_with):
    api = ScriptedApi(answers)
    if ends_with == "result":
        assert api.follow()["video_url"] == "https://cdn/v.mp4?sig=s"
    else:
        with pytest.raises(ends_with):
            api.follow()
    assert len(api.polled_at) == polls


def test_polls_start_one_interval_apart_however_slow_the_answer():
    api = ScriptedApi([gen("generating")] * 3 + [DONE], seconds_per_poll=4.0)
    api.follow()
    assert [b - a for a, b in zip(api.polled_at, api.polled_at[1:], strict=False)] == [10.0, 10.0, 10.0]


def test_a_known_finished_generation_ends_the_wait_without_a_poll():
    api = ScriptedApi([gen("generating")])
    assert api.follow(known=DONE)["id"] == "g1"
    assert api.polled_at == []


@pytest.mark.parametrize("known", [gen("generating"), gen("queued")])
def test_a_known_unfinished_generation_is_polled_at_once(known):
    api = ScriptedApi([DONE])
    api.follow(known=known)
    assert api.polled_at == [1000.0]


def test_a_known_failed_generation_fails_without_a_poll():
    api = ScriptedApi([DONE])
    with pytest.raises(KlingGenerationFailed, match="bad prompt"):
        api.follow(known=gen("error", error="bad prompt"))
    assert api.polled_at == []


def test_a_failing_api_is_ridden_out_until_the_failure_budget():
    api = ScriptedApi([KlingTransientError("502")])
    with pytest.raises(KlingTransientError):
        api.follow(failure_budget=60.0)
    # polls every 10 s from t=1000; the streak began at the first failure (t=1000.5) and ends at >= 60 s
    assert len(api.polled_at) == 7


def test_the_render_seen_teaches_the_history_its_model():
    history = RenderHistory()
    assert history.floor(MODEL, 10.0) == 60.0  # the family's prior
    api = ScriptedApi([DONE])  # finished by the first answer, half a second after it was sent
    api.follow(history=history, target=WaitTarget("g1", MODEL, submitted_at=1000.0))
    assert history.floor(MODEL, 10.0) == pytest.approx(0.4)  # 0.8 x the 0.5 s seen


def test_the_blocking_form_waits_with_a_blocking_fetch():
    answers = [gen("generating"), DONE]
    asked = []

    def fetch(generation_id, *, deadline=None):
        asked.append(generation_id)
        return answers.pop(0)

    result = follow_blocking(WaitTarget("g1"), fetch, WaitSettings(9e9, 0.1), logging.getLogger("test"))
    assert result["id"] == "g1"
    assert asked == ["g1", "g1"]
