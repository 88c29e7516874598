"""``GET /v2/logs`` as the contract says (shared/api/account/usage-logs.md, logs-v2.json, api-key-usage.md)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from harness.simulated import API_KEY

HEADERS = {"Authorization": f"Bearer {API_KEY}"}
PRO = "kling-video/v1.6/pro/text-to-video"
STANDARD = "kling-video/v1.6/standard/text-to-video"
TURBO = "klingai/video-v3-turbo-pro-text-to-video"
TURBO_ALIAS = "kling-video/v3/turbo/pro/text-to-video"


def create(simulator, model: str, client_id: str, prompt: str = "a fox") -> None:
    path = "/v2/generate/video/kling/generation" if model.startswith("kling-video/v1") else "/v2/video/generations"
    response = requests.post(
        f"{simulator.url}{path}",
        json={"model": model, "prompt": prompt},
        headers={**HEADERS, "X-Client-Request-Id": client_id},
        timeout=10,
    )
    assert response.status_code in (200, 201), response.text


def logs(simulator, expect: int = 200, **params):
    params.setdefault("period", "1h")
    response = requests.get(f"{simulator.url}/v2/logs", params=params, headers=HEADERS, timeout=10)
    assert response.status_code == expect, response.text
    return response.json()


def iso(moment: datetime) -> str:
    return moment.isoformat()


NOW = datetime.now(timezone.utc)


@pytest.mark.parametrize(
    "params",
    [
        {"period": None},  # neither period nor start + end
        {"start": iso(NOW - timedelta(hours=1)), "end": iso(NOW)},  # both (with the default period)
        {"period": None, "start": iso(NOW)},  # start without end
        {"period": "0h"},
        {"period": "7w"},
        {"period": "93d"},  # over 92 days
        {"period": None, "start": iso(NOW), "end": iso(NOW - timedelta(seconds=1))},  # end before start
        {"period": None, "start": iso(NOW - timedelta(days=92, seconds=1)), "end": iso(NOW)},
        {"period": None, "start": "yesterday", "end": iso(NOW)},
        {"status": "succeeded,failed"},
        {"status": "ok"},
        {"limit": 0},
        {"limit": 101},
        {"limit": "ten"},
        {"offset": -1},
        {"model": [f"m{n}" for n in range(51)]},
    ],
)
def test_a_query_the_contract_refuses_is_a_400(simulator, params):
    params = {key: value for key, value in {"period": "1h", **params}.items() if value is not None}
    response = requests.get(f"{simulator.url}/v2/logs", params=params, headers=HEADERS, timeout=10)
    assert response.status_code == 400, response.text


def test_the_widest_window_and_a_time_without_offset_are_accepted(simulator):
    create(simulator, PRO, "a")
    naive_now = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(minutes=1)  # read as UTC
    body = logs(simulator, period=None, start=iso(naive_now - timedelta(days=92)), end=iso(naive_now))
    assert [row["client_request_id"] for row in body["data"]] == ["a"]
    assert logs(simulator, period="92d")["pagination"]["total"] == 1


def test_the_model_filter_matches_exactly_by_id_or_bare_alias_repeated_never_split_on_commas(simulator):
    create(simulator, PRO, "pro")
    create(simulator, STANDARD, "standard")
    create(simulator, TURBO_ALIAS, "turbo")  # a documented second name: the row names the model's id

    def seen(**params):
        return sorted(row["client_request_id"] for row in logs(simulator, **params)["data"])

    assert seen() == ["pro", "standard", "turbo"]
    assert seen(model=PRO) == ["pro"]
    assert seen(model="v1.6/pro/text-to-video") == ["pro"]  # the bare alias (source/alias)
    assert seen(model=PRO.upper()) == []  # matched exactly
    assert seen(model=[PRO, STANDARD]) == ["pro", "standard"]  # repeat the parameter for several
    assert seen(model=f"{PRO},{STANDARD}") == []  # one model literally named "a,b": an empty page
    assert seen(model=TURBO) == ["turbo"]
    assert seen(model=TURBO_ALIAS) == []  # rows carry the id; the caller passes the aliases it knows
    assert [row["model"] for row in logs(simulator, model=TURBO)["data"]] == [TURBO]


def test_rows_of_another_model_carrying_the_same_client_request_id_are_filtered_by_model(simulator):
    create(simulator, PRO, "shared:id", prompt="ours")
    create(simulator, STANDARD, "shared:id", prompt="theirs")
    rows = logs(simulator, model=PRO)["data"]
    assert [(row["model"], row["client_request_id"]) for row in rows] == [(PRO, "shared:id")]
    assert len(logs(simulator)["data"]) == 2


def test_a_long_log_is_paged_newest_first_with_has_more_and_total(simulator):
    for n in range(230):
        create(simulator, PRO if n % 2 else STANDARD, f"row:{n}")
    seen, offset = [], 0
    while True:
        body = logs(simulator, model=PRO, limit=50, offset=offset)
        page = body["pagination"]
        assert (page["limit"], page["offset"], page["total"]) == (50, offset, 115)
        seen += [row["client_request_id"] for row in body["data"]]
        if not page["has_more"]:
            break
        offset += 50
    assert seen == [f"row:{n}" for n in range(229, 0, -2)]  # every odd row, newest first, once
    assert logs(simulator, model=PRO, limit=100, offset=200) == {
        "data": [],
        "pagination": {"limit": 100, "offset": 200, "total": 115, "has_more": False},
    }


def test_status_filters_repeat_and_failed_requests_cost_nothing(simulator):
    create(simulator, PRO, "ok")
    response = requests.post(
        f"{simulator.url}/v2/generate/video/kling/generation",
        json={"model": PRO, "prompt": "a fox [sim:create-fails]"},
        headers={**HEADERS, "X-Client-Request-Id": "boom"},
        timeout=10,
    )
    assert response.status_code == 500
    failed = logs(simulator, status="failed")["data"]
    assert [(row["client_request_id"], row["cost"]) for row in failed] == [("boom", {"usd": 0.0, "credits": 0})]
    assert len(logs(simulator, status=["succeeded", "failed"])["data"]) == 2
