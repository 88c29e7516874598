"""The poll cadence: sparse while no render can be finished, then every interval; renders seen lower the floor."""

from __future__ import annotations

import pytest

from airflow_provider_kling.cadence import RenderHistory, next_poll_delay


@pytest.mark.parametrize(
    ("interval", "remaining", "expected"),
    [(15, 100, 15), (15, 4, 4), (0, 100, 0.1), (-5, 100, 0.1), (15, -1, 0)],
)
def test_next_poll_delay(interval, remaining, expected):
    assert next_poll_delay(interval, remaining) == expected


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
