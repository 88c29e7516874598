"""The request-log search against the simulator: the create's model, the narrowest window, every page."""

from __future__ import annotations

import time

import requests

from airflow_provider_kling.hooks.kling import KlingHook
from airflow_provider_kling.hooks.request_logs import MAX_PAGES
from harness.simulated import API_KEY

MODEL = "kling-video/v1.6/pro/text-to-video"
OTHER = "kling-video/v1.6/standard/text-to-video"


def create(session: requests.Session, simulator, model: str, client_id: str) -> str:
    answer = session.post(
        f"{simulator.url}/v2/generate/video/kling/generation",
        json={"model": model, "prompt": f"video of {client_id}"},
        headers={"Authorization": f"Bearer {API_KEY}", "X-Client-Request-Id": client_id},
        timeout=10,
    )
    answer.raise_for_status()
    return str(answer.json()["id"])


def test_a_row_behind_hundreds_of_newer_rows_is_found_on_its_page(simulator):
    with requests.Session() as session:
        ours = create(session, simulator, MODEL, "kling:t:ours")
        for n in range(260):
            create(session, simulator, MODEL if n % 2 else OTHER, f"kling:other:{n}")
    found = KlingHook().find_create("kling:t:ours", model=MODEL, sent_at=time.time() - 60, sends=1, wait=0)
    assert (found.outcome, found.inference_id, found.usd) == ("succeeded", ours, 0.49)
    # Only the model's rows were read: 131 rows, two pages of 100.
    assert simulator.stats()["log_requests"] == 2


def test_a_row_of_another_model_with_our_id_proves_nothing(simulator):
    with requests.Session() as session:
        create(session, simulator, OTHER, "kling:t:ours")
    found = KlingHook().find_create("kling:t:ours", model=MODEL, sent_at=time.time() - 60, sends=1, wait=0)
    assert (found.outcome, found.reason) == ("unknown", "no row shows it")


def test_a_send_time_older_than_the_logs_window_is_clamped_to_what_the_log_accepts(simulator):
    with requests.Session() as session:
        ours = create(session, simulator, MODEL, "kling:t:ours")
    a_year_ago = time.time() - 365 * 86400  # a window over 92 days is a 400
    found = KlingHook().find_create("kling:t:ours", model=MODEL, sent_at=a_year_ago, sends=1, wait=0)
    assert found.inference_id == ours


def test_a_log_that_never_ends_fails_clearly_after_a_bounded_number_of_pages(simulator):
    with requests.Session() as session:
        create(session, simulator, MODEL, "kling:t:someone-else")
    simulator.configure(log_fault="endless")
    found = KlingHook().find_create("kling:t:ours", model=MODEL, sent_at=time.time(), sends=1, wait=0)
    assert found.outcome == "unknown"
    assert f"it holds more than {MAX_PAGES * 100} rows of {MODEL}" in found.reason
    assert "they were not all read" in found.reason
    assert simulator.stats()["log_requests"] == MAX_PAGES


def test_an_empty_page_ends_the_search_whatever_has_more_says(simulator):
    simulator.configure(log_fault="empty_has_more")
    found = KlingHook().find_create("kling:t:ours", model=MODEL, sent_at=time.time(), sends=1, wait=0)
    assert (found.outcome, found.reason) == ("unknown", "no row shows it")
    assert simulator.stats()["log_requests"] == 1


def test_an_unreadable_log_is_unknown_naming_why(simulator):
    simulator.configure(account_refusals=["logs"])
    found = KlingHook().find_create("kling:t:ours", model=MODEL, sent_at=time.time(), sends=1, wait=5)
    assert found.outcome == "unknown"
    assert found.reason.startswith("the request log could not be read: Kling request log failed with HTTP 403")
    assert simulator.stats()["log_requests"] == 1  # a refusal is not read again for the whole wait


def test_a_wait_that_is_not_a_finite_number_reads_the_log_once_instead_of_forever(simulator):
    for wait in (float("nan"), float("inf"), -5.0):
        found = KlingHook().find_create("kling:t:ours", model=MODEL, sent_at=time.time(), sends=1, wait=wait)
        assert (found.outcome, found.reason) == ("unknown", "no row shows it")
    assert simulator.stats()["log_requests"] == 3
