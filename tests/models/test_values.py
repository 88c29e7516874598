"""What counts as a money figure (a finite, non-negative JSON number) and as a span of seconds."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.values import MAX_SECONDS, as_seconds, is_money

#: Every bad figure the API's JSON can carry (``1e999`` reads as infinity), and the look-alikes.
BAD_FIGURES = [
    float("nan"),
    float("inf"),
    float("-inf"),
    json.loads("1e999"),
    10**400,  # an integer beyond any float
    -1,
    -0.01,
    "0.5",  # a string is not a number here, even one that spells one
    "",
    None,
    True,
    False,
    [0.5],
    {"usd": 0.5},
]
GOOD_FIGURES = [0, 0.0, 0.49, 3_900_000, 1e300, json.loads("0.001240000")]


@pytest.mark.parametrize("figure", BAD_FIGURES, ids=repr)
def test_a_bad_figure_is_not_money(figure):
    assert not is_money(figure)


@pytest.mark.parametrize("figure", GOOD_FIGURES, ids=repr)
def test_a_finite_non_negative_number_is_money(figure):
    assert is_money(figure)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (30, 30.0),
        (0.5, 0.5),
        (timedelta(minutes=30), 1800.0),
        (timedelta(milliseconds=300), 0.3),
        (MAX_SECONDS, MAX_SECONDS),
        (timedelta(days=365), MAX_SECONDS),
        (Decimal("30"), 30.0),
        (Fraction(1, 2), 0.5),
    ],
    ids=repr,
)
def test_a_span_is_seconds_or_a_timedelta(value, seconds):
    assert as_seconds(value, "timeout") == seconds


@pytest.mark.parametrize(
    "value",
    [
        0,
        -1,
        timedelta(0),
        timedelta(minutes=-5),
        float("nan"),
        float("inf"),
        10**400,
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("-1"),
        MAX_SECONDS + 1,
        timedelta(days=366),
        "30",
        "PT30M",
        None,
        True,
    ],
    ids=repr,
)
def test_a_span_that_is_not_one_is_refused_naming_the_argument_and_what_is_allowed(value):
    with pytest.raises(KlingValidationError, match=r"timeout must be a number of seconds or a timedelta, above 0"):
        as_seconds(value, "timeout")
