"""What the request log's rows prove about one create, its window and its pages (pure, table-driven)."""

from __future__ import annotations

import math

import pytest

from airflow_provider_kling.models.request_log import (
    FAILED,
    MAX_WINDOW,
    SUCCEEDED,
    UNKNOWN,
    Page,
    model_names,
    next_offset,
    outcome,
    read_page,
    search_window,
    usd_of,
)

ID = "kling:t:abc"
MODEL = "kling-video/v1.6/pro/text-to-video"


def row(status="succeeded", *, client=ID, model=MODEL, usd=None, inference="g1"):
    usd = (0.0 if status == "failed" else 0.49) if usd is None else usd
    cost = {"usd": usd, "credits": 0}
    return {"status": status, "client_request_id": client, "model": model, "cost": cost, "inference_id": inference}


@pytest.mark.parametrize(
    ("rows", "sends", "final", "expected"),
    [
        ([row()], 1, False, (SUCCEEDED, "g1", 0.49)),
        ([row(model=MODEL.upper())], 1, False, (SUCCEEDED, "g1", 0.49)),  # model names compare in any case
        ([row(), row()], 1, False, (SUCCEEDED, "g1", 0.49)),  # one row read twice (pages shifted)
        ([row("failed", inference="f1"), row()], 2, False, (SUCCEEDED, "g1", 0.49)),  # a 429, then the create
        ([row(usd=math.nan)], 1, False, (SUCCEEDED, "g1", None)),  # a bad cost is unknown, never 0
        ([row(usd="0.49")], 1, False, (SUCCEEDED, "g1", None)),
        ([row("failed")], 1, False, (FAILED, None, None)),
        ([row("failed", inference="f1"), row("failed", inference="f2")], 2, False, (FAILED, None, None)),
        ([row("failed")], None, True, (FAILED, None, None)),  # sends unknown: only once the wait is over
        ([row("failed")], None, False, None),
        ([row("failed"), row("failed")], 2, False, None),  # the same failed row twice is one send, not two
        ([row("failed")], 2, False, None),  # the resend's row may still come
        ([row("failed")], 2, True, (UNKNOWN, None, None)),
        ([], 1, False, None),
        ([], 1, True, (UNKNOWN, None, None)),
        ([row(client="kling:t:abcd"), row(client="KLING:T:ABC")], 1, True, (UNKNOWN, None, None)),  # exact ids only
        ([row(model="klingai/video-v3-omni")], 1, True, (UNKNOWN, None, None)),  # another model's row proves nothing
        ([row(model="openai/gpt-5", status="failed")], 1, True, (UNKNOWN, None, None)),
        ([row(model=None)], 1, True, (UNKNOWN, None, None)),
        ([row(inference="g1"), row(inference="g2")], 1, False, (UNKNOWN, None, None)),  # rows contradict
        ([row(inference=None)], 1, False, (UNKNOWN, None, None)),
        ([row(inference={"id": "g1"})], 1, False, (UNKNOWN, None, None)),  # not a string: names nothing
        ([row(inference=7)], 1, False, (UNKNOWN, None, None)),
        ([row("failed", inference=["f1"])], 1, False, (UNKNOWN, None, None)),
        ([row("failed", usd=0.49)], 1, False, (UNKNOWN, None, None)),  # a failed row that cost money
        ([row("failed", usd=-1)], 1, False, (UNKNOWN, None, None)),
        ([row("failed", inference=None)], 1, False, (UNKNOWN, None, None)),
        ([row("pending")], 1, False, (UNKNOWN, None, None)),
    ],
)
def test_what_the_rows_prove(rows, sends, final, expected):
    found = outcome(rows, ID, [MODEL], sends=sends, final=final)
    if expected is None:
        assert found is None
    else:
        assert (found.outcome, found.inference_id, found.usd) == expected
        assert bool(found.reason) is (found.outcome == UNKNOWN)


def test_an_alias_row_counts_for_its_model():
    alias = "kling-video/v3/turbo/pro/text-to-video"
    names = model_names(alias)
    assert names == [alias, "klingai/video-v3-turbo-pro-text-to-video"]
    found = outcome([row(model="klingai/video-v3-turbo-pro-text-to-video")], ID, names, sends=1, final=False)
    assert found is not None
    assert found.succeeded
    assert model_names("klingai/video-v3-turbo-pro-text-to-video") == [
        "klingai/video-v3-turbo-pro-text-to-video",
        alias,
    ]
    assert model_names("someone/new-model") == ["someone/new-model"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.49, 0.49),
        (0, 0.0),
        (math.inf, None),
        (-math.inf, None),
        (math.nan, None),
        (-0.01, None),
        ("1", None),
        (True, None),
        (None, None),
        (1e999, None),
    ],
)
def test_a_cost_is_a_finite_non_negative_number_or_unknown(value, expected):
    assert usd_of({"cost": {"usd": value}}) == expected
    assert usd_of({"cost": "free"}) is None


NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("sent_at", "expected"),
    [
        (NOW - 60, (NOW - 360, NOW + 300)),  # from the send to now, widened for clock skew
        (NOW - 200 * 86400, (NOW + 300 - MAX_WINDOW, NOW + 300)),  # at most 92 days: the newest
        (None, (NOW + 300 - MAX_WINDOW, NOW + 300)),  # unknown: the widest
        (math.nan, (NOW + 300 - MAX_WINDOW, NOW + 300)),
        (math.inf, (NOW + 300 - MAX_WINDOW, NOW + 300)),
        (NOW + 86400, (NOW + 300 - MAX_WINDOW, NOW + 300)),  # in the future: unknown
    ],
)
def test_the_window_is_the_narrowest_the_log_allows(sent_at, expected):
    start, end = search_window(sent_at, NOW, 300)
    assert (start, end) == expected
    assert 0 <= end - start <= MAX_WINDOW


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"data": [{"a": 1}, "x"], "pagination": {"has_more": True, "total": 9}}, Page([{"a": 1}], True, 9)),
        ({"data": [], "pagination": {"has_more": "yes", "total": -1}}, Page([], False, None)),
        ({"data": [], "pagination": {"has_more": False, "total": True}}, Page([], False, None)),
        ({"data": []}, None),
        ({"pagination": {}}, None),
        ([], None),
        ("<html>", None),
    ],
)
def test_a_page_is_read_as_documented_or_not_at_all(body, expected):
    assert read_page(body) == expected


@pytest.mark.parametrize(
    ("page", "offset", "expected"),
    [
        (Page([{}] * 100, True, 350), 0, 100),
        (Page([{}] * 100, True, None), 200, 300),
        (Page([{}] * 50, True, 350), 300, None),  # total reached
        (Page([{}] * 100, False, 350), 0, None),
        (Page([], True, 350), 100, None),  # an empty page ends it, whatever has_more says
    ],
)
def test_paging_ends_at_the_last_page(page, offset, expected):
    assert next_offset(page, offset) == expected
