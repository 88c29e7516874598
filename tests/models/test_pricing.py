"""Quotes from each pricing shape the catalogue publishes: a table."""

from __future__ import annotations

import pytest

from airflow_provider_kling.models.pricing import credits_to_usd, quote, usd_to_credits

PER_SECOND = {"kind": "fixed", "currency": "USD", "units": [{"name": "second", "price": 0.098, "per": 1}]}
PER_VIDEO = {"kind": "fixed", "units": [{"name": "video", "price": 0.49, "per": 1}]}
PER_TEN_SECONDS = {"kind": "fixed", "units": [{"name": "second", "price": 1.0, "per": 10}]}
PER_TOKEN = {"kind": "fixed", "units": [{"name": "token", "measure": "output", "price": 3.25, "per": 1000000}]}
BY_AUDIO = {
    "kind": "variants",
    "dimensions": ["generate_audio"],
    "variants": [
        {"when": {"generate_audio": False}, "price": 0.084, "unit": "second", "per": 1},
        {"when": {"generate_audio": True}, "price": 0.168, "unit": "second", "per": 1},
    ],
}
BY_RESOLUTION = {
    "kind": "variants",
    "dimensions": ["resolution"],
    "variants": [
        {"when": {"resolution": "720p"}, "price": 0.39, "unit": "second", "per": 1},
        {"when": {"resolution": "1080p"}, "price": 0.65, "unit": "second", "per": 1},
    ],
}
VARIABLE = {"kind": "variable"}
DURATIONS = {"duration": [5, 10]}


@pytest.mark.parametrize(
    ("pricing", "body", "defaults", "low", "high"),
    [
        (PER_SECOND, {"duration": 5}, {}, 0.49, 0.49),
        (PER_SECOND, {"duration": 10}, {}, 0.98, 0.98),
        (PER_SECOND, {"duration": "10"}, {}, 0.98, 0.98),  # templated values render as strings
        (PER_SECOND, {}, {"duration": 5}, 0.49, 0.49),  # the documented default
        (PER_SECOND, {}, {}, 0.49, 0.98),  # no default documented: the API decides, 5 or 10 s
        (PER_VIDEO, {"duration": 10}, {}, 0.49, 0.49),
        (PER_TEN_SECONDS, {"duration": 5}, {}, 0.5, 0.5),  # price is per `per` units
        (BY_AUDIO, {"duration": 5, "generate_audio": False}, {}, 0.42, 0.42),
        (BY_AUDIO, {"duration": 5}, {"generate_audio": True}, 0.84, 0.84),
        (BY_AUDIO, {"duration": 15, "generate_audio": "true"}, {}, 2.52, 2.52),
        (BY_RESOLUTION, {"duration": 5, "resolution": "1080p"}, {}, 3.25, 3.25),  # the docs' own example
    ],
)
def test_a_quote_per_pricing_shape(pricing, body, defaults, low, high):
    result = quote("m", pricing, body, defaults=defaults, allowed=DURATIONS)
    assert result.known
    assert (result.low, result.high) == pytest.approx((low, high))


@pytest.mark.parametrize(
    ("pricing", "body", "says"),
    [
        (VARIABLE, {"duration": 5}, "variable"),
        (None, {"duration": 5}, "lists no pricing"),
        (PER_TOKEN, {"duration": 5}, "priced per token"),
        (BY_RESOLUTION, {"duration": 5}, "resolution is not set and the model documents no default"),
        (BY_RESOLUTION, {"duration": 5, "resolution": "4k"}, "no published rate for resolution=4k"),
        ({"kind": "fixed", "units": []}, {"duration": 5}, "lists no units"),
        ({"kind": "auction"}, {"duration": 5}, "unknown pricing kind 'auction'"),
    ],
)
def test_no_quote_is_never_a_guess(pricing, body, says):
    result = quote("m", pricing, body, allowed=DURATIONS)
    assert not result.known
    assert says in result.describe()


def test_a_range_says_so():
    assert (
        quote("m", PER_SECOND, {}, allowed=DURATIONS).describe()
        == "$0.49 to $0.98 for m ($0.098 per second × 5 or 10 s)"
    )


def test_credits_and_dollars():
    assert usd_to_credits(1.95) == 3_900_000
    assert credits_to_usd(3_900_000) == pytest.approx(1.95)


@pytest.mark.parametrize("bad", [0, -1, "zero", "", float("nan"), float("inf"), True])
def test_a_cap_must_be_a_positive_number(bad):
    from airflow_provider_kling.exceptions import KlingValidationError
    from airflow_provider_kling.models.pricing import parse_cap

    if bad == "":
        assert parse_cap(bad) is None
        return
    with pytest.raises(KlingValidationError, match="max_usd must be a positive number of US dollars"):
        parse_cap(bad)


@pytest.mark.parametrize(
    ("pricing", "cap", "refused"),
    [
        (PER_SECOND, 0.49, None),
        (PER_SECOND, 0.48, "$0.49 for m ($0.098 per second × 5 s) is above max_usd=$0.48: not sent"),
        (VARIABLE, 10, "no quote for m: its price is variable"),
    ],
)
def test_a_cap_refuses_a_quote_above_it_or_no_quote(pricing, cap, refused):
    from airflow_provider_kling.models.pricing import over_budget, parse_cap

    why = over_budget(quote("m", pricing, {"duration": 5}), parse_cap(cap))
    assert (why is None) if refused is None else (refused in why)


def test_a_range_is_checked_by_its_top():
    from airflow_provider_kling.models.pricing import over_budget

    assert over_budget(quote("m", PER_SECOND, {}, allowed=DURATIONS), 0.5) is not None


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
    ],
)
def test_the_cost_of_a_video_in_dollars_and_credits(usage, cost, said):
    from airflow_provider_kling.models.pricing import cost_of, describe_cost

    assert cost_of(usage) == cost
    assert describe_cost(usage) == said
