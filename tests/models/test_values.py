"""What counts as a money figure: a finite, non-negative JSON number, and nothing else."""

from __future__ import annotations

import json

import pytest

from airflow_provider_kling.models.values import is_money

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
