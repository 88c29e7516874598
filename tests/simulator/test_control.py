"""The simulator's test hooks: what a test may ask of it besides the API."""

from __future__ import annotations

import requests

from harness.simulated import API_KEY

HEADERS = {"Authorization": f"Bearer {API_KEY}"}
PATH = "/v2/generate/video/kling/generation"
MODEL = "kling-video/v1.6/pro/text-to-video"


def create(simulator, prompt: str) -> str:
    response = requests.post(simulator.url + PATH, json={"model": MODEL, "prompt": prompt}, headers=HEADERS, timeout=10)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def status(simulator, generation_id: str) -> str:
    params = {"generation_id": generation_id}
    return str(requests.get(simulator.url + PATH, params=params, headers=HEADERS, timeout=10).json()["status"])


def test_finish_ends_every_long_render_now_but_not_one_that_never_ends(simulator):
    simulator.configure(generation_seconds=600.0)
    long_renders = [create(simulator, f"a long render {n}") for n in range(2)]
    endless = create(simulator, "an endless render [sim:never]")
    assert {status(simulator, g) for g in [*long_renders, endless]} == {"queued"}

    assert simulator.finish_renders() == 2

    assert [status(simulator, g) for g in long_renders] == ["completed", "completed"]
    assert status(simulator, endless) == "queued"
    assert simulator.finish_renders() == 0


def test_bad_money_writes_its_text_in_each_place_as_it_is(simulator):
    simulator.configure(
        generation_seconds=0.1,
        bad_money={"price": "NaN", "balance": "1e999", "usd_header": "-1", "credits_header": "inf", "usage": '"0.5"'},
    )
    catalogue = requests.get(simulator.url + "/v1/models", params={"include": "pricing"}, timeout=10)
    assert '"price": NaN' in catalogue.text
    balance = requests.get(simulator.url + "/v2/billing", headers=HEADERS, timeout=10)
    assert balance.text == '{"current_balance": 1e999, "currency": "USD"}'
    created = requests.post(simulator.url + PATH, json={"model": MODEL, "prompt": "a"}, headers=HEADERS, timeout=10)
    assert (created.headers["x-aimlapi-usd-spent"], created.headers["x-aimlapi-credits-used"]) == ("-1", "inf")
    simulator.finish_renders()
    params = {"generation_id": created.json()["id"]}
    fetched = requests.get(simulator.url + PATH, params=params, headers=HEADERS, timeout=10)
    assert fetched.json()["meta"] == {"usage": {"tokens_used": "0.5"}}
    assert simulator.stats()["generations"][params["generation_id"]]["usd"] == 0.49  # what is charged is unchanged


def test_bad_money_refuses_a_place_it_does_not_know(simulator):
    response = requests.post(simulator.url + "/_sim/config", json={"bad_money": {"refund": "NaN"}}, timeout=10)
    assert (response.status_code, response.json()) == (400, {"error": "unknown bad_money places ['refund']"})


def test_a_reset_forgets_generations_but_never_gives_an_id_twice(simulator):
    # The API never reuses a generation id; a reset between scenarios must not either (the Videos
    # page merges a generation's records across tasks by its id).
    before = {create(simulator, f"before {n}") for n in range(3)}
    simulator.reset()
    after = {create(simulator, f"after {n}") for n in range(3)}
    assert not before & after
