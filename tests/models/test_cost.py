"""The cost of a video from what the API reported: dollars where stated, credits converted only where
not, and *unknown* (never a crash, never a guess, never NaN in JSON) when a figure is bad."""

from __future__ import annotations

import json
import math

import pytest

from airflow_provider_kling.exceptions import KlingResponseError
from airflow_provider_kling.models.cost import (
    UNKNOWN,
    amount_text,
    balance_from,
    cost_of,
    cost_usd,
    credits_to_usd,
    describe_cost,
    json_usage,
    total_of,
    usage_from_headers,
    usd_to_credits,
)
from tests.models.test_values import BAD_FIGURES

NAN, INF = float("nan"), float("inf")
#: The issue's bad values, as the API's JSON would carry them.
BAD = [NAN, INF, -INF, json.loads("1e999"), -1, "0.5", True]


def test_credits_and_dollars():
    assert usd_to_credits(1.95) == 3_900_000
    assert credits_to_usd(3_900_000) == pytest.approx(1.95)


@pytest.mark.parametrize(
    ("usage", "cost", "said"),
    [
        ({"credits_used": 980000}, {"usd": 0.49, "credits": 980000}, "cost $0.49 = 980,000 credits"),
        (
            {"credits_used": 3900000, "usd_spent": 1.95},
            {"usd": 1.95, "credits": 3900000},
            "cost $1.95 = 3,900,000 credits",
        ),
        ({"usd_spent": 0.84}, {"usd": 0.84, "credits": 1680000}, "cost $0.84 = 1,680,000 credits"),
        (
            {"tokens_used": 1960000},
            {"usd": 0.98, "credits": 1960000},
            "cost $0.98 = 1,960,000 credits",
        ),  # 2025-11 spelling
        ({}, None, "cost not reported"),
        ({"usd_spent": None}, None, "cost not reported"),
        # The dollar figure is the cost: credits that disagree are reported as they are, not converted.
        ({"credits_used": 1, "usd_spent": 0.49}, {"usd": 0.49, "credits": 1}, "cost $0.49 = 1 credits"),
    ],
)
def test_the_cost_of_a_video_in_dollars_and_credits(usage, cost, said):
    assert cost_of(usage) == cost
    assert describe_cost(usage) == said


@pytest.mark.parametrize("bad", BAD, ids=repr)
@pytest.mark.parametrize("key", ["usd_spent", "credits_used", "tokens_used"])
def test_a_bad_figure_makes_the_cost_unknown(key, bad):
    cost = cost_of({key: bad})
    assert cost == UNKNOWN
    assert describe_cost({key: bad}).startswith(f"cost unknown ({key}=")


@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_a_stated_but_bad_dollar_figure_is_not_replaced_by_converted_credits(bad):
    assert cost_of({"usd_spent": bad, "credits_used": 980000}) == UNKNOWN


@pytest.mark.parametrize("bad", BAD, ids=repr)
def test_bad_credits_beside_a_good_dollar_figure_leave_the_dollars_as_the_cost(bad):
    assert cost_of({"usd_spent": 0.49, "credits_used": bad}) == {"usd": 0.49, "credits": 980000}


def test_a_dollar_figure_too_large_to_count_in_credits_is_unknown_not_a_crash():
    assert cost_of({"usd_spent": 1e303}) == UNKNOWN
    assert (
        describe_cost({"usd_spent": 1e303})
        == "cost unknown (a figure too large to count: not a finite, non-negative number)"
    )


@pytest.mark.parametrize(
    ("headers", "usage"),
    [
        (
            {"x-aimlapi-credits-used": "980000", "x-aimlapi-usd-spent": "0.490000000"},
            {"credits_used": 980000.0, "usd_spent": 0.49},
        ),
        ({}, {}),
        ({"x-aimlapi-usd-spent": "  "}, {}),  # empty: not reported
        ({"x-aimlapi-usd-spent": "-1"}, {"usd_spent": -1.0}),
        ({"x-aimlapi-usd-spent": "inf"}, {"usd_spent": INF}),
        ({"x-aimlapi-usd-spent": "1e999"}, {"usd_spent": INF}),
        ({"x-aimlapi-usd-spent": "lots"}, {"usd_spent": NAN}),
    ],
)
def test_cost_headers_are_read_as_stated_and_a_bad_one_stays_bad(headers, usage):
    read = usage_from_headers(headers)
    assert read.keys() == usage.keys()
    for key, value in usage.items():
        assert read[key] == value or (math.isnan(read[key]) and math.isnan(value))


@pytest.mark.parametrize("header", ["nan", "NaN", "inf", "-Infinity", "1e999", "-1", "lots"])
def test_a_bad_dollar_header_makes_the_cost_unknown_even_beside_good_credits(header):
    usage = usage_from_headers({"x-aimlapi-usd-spent": header, "x-aimlapi-credits-used": "980000"})
    assert cost_of(usage) == UNKNOWN


@pytest.mark.parametrize(
    ("usage", "kept"),
    [
        ({"tokens_used": INF}, {"tokens_used": "inf"}),
        ({"usd_spent": NAN, "credits_used": 980000.0}, {"usd_spent": "nan", "credits_used": 980000.0}),
        ({"usd_spent": -1.0}, {"usd_spent": "-1"}),
        ({"credits_used": 10**400}, {"credits_used": "inf"}),
        ({"usd_spent": "0.5"}, {"usd_spent": "0.5"}),
        ({"usd_spent": True}, {"usd_spent": "True"}),
        ({"usd_spent": "inf"}, {"usd_spent": "inf"}),  # already in its XCom form: kept as it is
    ],
)
def test_usage_for_xcom_keeps_a_bad_figure_as_a_short_text(usage, kept):
    assert json_usage(usage) == kept
    json.dumps(json_usage(usage), allow_nan=False)  # JSON, no NaN or Infinity
    assert cost_of(json_usage(usage)) == cost_of(usage)  # read back from XCom: the same cost


@pytest.mark.parametrize(
    ("figures", "total"),
    [
        ([0.49, 0.98, None], pytest.approx(1.47)),
        ([], 0.0),
        ([None], 0.0),
        *[([5.0, bad], UNKNOWN) for bad in BAD_FIGURES if bad is not None],
        ([1e308, 1e308], UNKNOWN),  # a sum beyond any float
    ],
)
def test_one_bad_or_negative_figure_makes_a_total_unknown_never_lower(figures, total):
    assert total_of(figures) == total


@pytest.mark.parametrize(
    ("cost", "dollars", "text"),
    [
        ({"usd": 0.49, "credits": 980000}, 0.49, "$0.49"),
        (None, None, "not reported"),
        (UNKNOWN, UNKNOWN, "unknown"),
        ({"usd": "nan"}, UNKNOWN, "unknown"),
        ({}, UNKNOWN, "unknown"),
    ],
)
def test_the_dollars_of_a_cost_for_a_report(cost, dollars, text):
    assert cost_usd(cost) == dollars
    assert amount_text(cost_usd(cost)) == text


@pytest.mark.parametrize("bad", [*BAD, None, "12"], ids=repr)
def test_a_balance_that_is_not_a_finite_non_negative_number_is_refused_naming_it(bad):
    with pytest.raises(KlingResponseError, match=r"current_balance=.* not a finite, non-negative number"):
        balance_from({"current_balance": bad, "currency": "USD"})


def test_a_balance_is_read_in_dollars():
    assert balance_from({"current_balance": 12.5, "currency": "USD"}) == 12.5
    with pytest.raises(KlingResponseError, match="current_balance=None"):
        balance_from(["not", "an", "object"])
