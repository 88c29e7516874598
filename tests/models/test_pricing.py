"""Quotes from each pricing shape the catalogue publishes: a table."""

from __future__ import annotations

import json

import pytest

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.pricing import Quote, over_budget, parse_cap, pricing_problems, quote

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


@pytest.mark.parametrize("bad", [0, -1, "zero", "", float("nan"), float("inf"), True])
def test_a_cap_must_be_a_positive_number(bad):
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
    why = over_budget(quote("m", pricing, {"duration": 5}), parse_cap(cap))
    assert (why is None) if refused is None else (refused in why)


def test_a_range_is_checked_by_its_top():
    assert over_budget(quote("m", PER_SECOND, {}, allowed=DURATIONS), 0.5) is not None


NAN, INF = float("nan"), float("inf")
#: The bad values of the issue, as the API's JSON carries them (``1e999`` reads as infinity).
BAD = [NAN, INF, -INF, json.loads("1e999"), -1, "0.5", None, True]


def per_second(price, per=1):
    return {"kind": "fixed", "units": [{"name": "second", "price": price, "per": per}]}


def by_audio(price):
    return {
        "kind": "variants",
        "dimensions": ["generate_audio"],
        "variants": [
            {"when": {"generate_audio": False}, "price": 0.084, "unit": "second", "per": 1},
            {"when": {"generate_audio": True}, "price": price, "unit": "second", "per": 1},
        ],
    }


@pytest.mark.parametrize("bad", BAD, ids=repr)
@pytest.mark.parametrize("shape", [per_second, by_audio], ids=["fixed", "variants"])
def test_a_bad_published_price_is_no_quote_naming_the_model_and_the_value(shape, bad):
    result = quote("kling-video/x", shape(bad), {"duration": 5, "generate_audio": False})
    assert not result.known
    assert (result.low, result.high) == (None, None)
    assert result.describe().startswith(
        f"no quote for kling-video/x: the price catalogue gives it a rate that is not a finite, "
        f"non-negative number: price={bad!r}"
    )
    refused = over_budget(result, 100.0)
    assert refused is not None
    assert f"price={bad!r}" in refused


@pytest.mark.parametrize("bad", [*BAD, 0], ids=repr)
def test_a_bad_per_is_no_quote(bad):
    result = quote("m", per_second(0.098, per=bad), {"duration": 5})
    assert not result.known
    assert f"per={bad!r} (must be above 0)" in result.describe()


@pytest.mark.parametrize(
    "pricing",
    [
        per_second(0.098),
        by_audio(0.168),
        {"kind": "variable"},
        {"kind": "fixed", "units": [{"name": "second", "price": 0, "per": 1}]},  # free is a price
    ],
)
def test_a_catalogue_entry_of_finite_non_negative_numbers_has_no_problem(pricing):
    assert pricing_problems(pricing) == []


@pytest.mark.parametrize(
    ("pricing", "problems"),
    [
        (per_second(NAN), ["price=nan"]),
        (by_audio(-1), ["price=-1"]),
        ({"kind": "fixed", "units": "lots"}, ["units='lots' is not a list of rates"]),
        ({"kind": "fixed", "units": [7]}, ["rate 7 is not an object"]),
    ],
)
def test_what_makes_a_catalogue_entry_unusable(pricing, problems):
    assert pricing_problems(pricing) == problems


@pytest.mark.parametrize("duration", [NAN, INF, -5, "soon", "nan", True], ids=repr)
def test_a_duration_that_is_not_a_number_of_seconds_is_no_quote(duration):
    # An unlisted model's body is not checked against a schema: its duration may be anything.
    result = quote("m", per_second(0.098), {"duration": duration})
    assert not result.known
    assert "is not a number of seconds" in result.describe()


def test_a_price_that_overflows_is_no_quote():
    result = quote("m", per_second(1e308), {"duration": 10})
    assert not result.known
    assert "not a finite amount" in result.describe()


@pytest.mark.parametrize("high", [NAN, INF, -1.0], ids=repr)
def test_a_quote_made_by_hand_with_a_bad_number_never_passes_a_cap(high):
    result = Quote("m", high, high, "by hand")
    assert not result.known
    assert over_budget(result, 5.0) is not None


@pytest.mark.parametrize(
    ("cap", "read"),
    [
        (NAN, None),
        (INF, None),
        (-INF, None),
        (json.loads("1e999"), None),
        (10**400, None),
        (-1, None),
        ("nan", None),
        ("inf", None),
        (True, None),
        ("0.5", 0.5),  # a cap is the user's own input: a templated one renders as text
        (None, "no cap"),
    ],
)
def test_a_cap_over_bad_numbers(cap, read):
    if read == "no cap":
        assert parse_cap(cap) is None
    elif read is None:
        with pytest.raises(KlingValidationError, match="max_usd must be a positive number of US dollars"):
            parse_cap(cap)
    else:
        assert parse_cap(cap) == read


@pytest.mark.parametrize(
    ("pricing", "body", "bad"),
    [
        (per_second(0.098), {"duration": 5}, None),  # a quote
        (VARIABLE, {"duration": 5}, None),  # no quote by design
        (None, {"duration": 5}, None),  # no catalogue entry
        (per_second(0.098), {}, None),  # an unset field without a default
        (per_second(NAN), {"duration": 5}, "price=nan"),
        (by_audio(-1), {"duration": 5, "generate_audio": True}, "price=-1"),
        (per_second(0.098, per=0), {"duration": 5}, "per=0 (must be above 0)"),
        (per_second(1e308), {"duration": 10}, "price=inf"),  # overflows
        (per_second(0.098), {"duration": "nan"}, "duration='nan'"),
    ],
)
def test_no_quote_says_when_a_bad_number_is_why(pricing, body, bad):
    # The batch's balance check refuses a bad number but lets a variable price pass: it must tell them apart.
    assert quote("m", pricing, body).bad == bad
