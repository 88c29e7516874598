"""Dollar caps refused before any create, and no paid video lost when a create's answer is lost."""

from __future__ import annotations

import json

import pytest

from airflow_provider_kling.operators.kling import KlingTextToVideoOperator, KlingVideoOperator
from airflow_provider_kling.version_compat import AirflowFailException
from harness.airflow_context import FakeStateStore, FakeTaskInstance, cleared, make_context
from harness.simulated import API_KEY, connection_json

pytestmark = pytest.mark.usefixtures("fresh_prices")


def run(op, **context):
    return op.execute(make_context(op, **context))


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        (
            {"max_usd": 0.5, "duration": 10},
            "$0.98 for kling-video/v1.6/pro/text-to-video ($0.098 per second × 10 s) is above max_usd=$0.50",
        ),
        ({"max_usd": 0.5}, "$0.49 to $0.98 for kling-video/v1.6/pro/text-to-video"),  # the API decides: its top counts
        ({"max_usd": 0}, "max_usd must be a positive number of US dollars, got 0"),
        ({"max_usd": -2}, "max_usd must be a positive number"),
        ({"max_usd": "lots"}, "max_usd must be a positive number"),
    ],
)
def test_a_cap_refuses_before_any_create(simulator, kwargs, says):
    op = KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt="a lighthouse", **kwargs)
    with pytest.raises(AirflowFailException) as failure:
        run(op)
    assert says in str(failure.value)
    assert simulator.stats()["create_requests"] == 0


def test_a_request_under_its_cap_is_sent_and_its_price_logged(simulator, capsys):
    generation_id = run(
        KlingTextToVideoOperator(
            wait_for_completion=False, task_id="t", prompt="a lighthouse", duration=5, max_usd="0.49"
        )
    )
    assert simulator.stats()["creates"] == 1
    out = capsys.readouterr().out
    assert "Price before paying: $0.49 for kling-video/v1.6/pro/text-to-video ($0.098 per second × 5 s)" in out
    assert f"Submitted Kling generation {generation_id}" in out
    assert "cost reported at once: credits_used=980000, usd_spent=0.49" in out


def test_a_variable_price_under_a_cap_is_refused(simulator):
    op = KlingVideoOperator(
        wait_for_completion=False,
        task_id="a",
        model="klingai/avatar-pro",
        parameters={"image_url": "https://x/a.png", "audio_url": "https://x/a.mp3"},
        max_usd=5,
    )
    with pytest.raises(AirflowFailException, match="its price is variable"):
        run(op)
    assert simulator.stats()["create_requests"] == 0


def test_an_unreachable_catalogue_with_no_copy_under_a_cap_is_refused_naming_why(simulator):
    simulator.configure(account_refusals=["catalogue"])  # 503 from the catalogue
    op = KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt="a lighthouse", max_usd=5)
    with pytest.raises(AirflowFailException, match="could not be reached .* and no copy is cached"):
        run(op)
    assert simulator.stats()["create_requests"] == 0


def test_every_create_carries_a_valid_client_request_id(simulator):
    run(KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt="a lighthouse"))
    stats = simulator.stats()
    assert (stats["creates"], stats["creates_without_client_request_id"]) == (1, 0)


def test_a_504_after_creating_is_found_in_the_request_log_and_nothing_is_paid_twice(simulator, capsys):
    simulator.configure(post_ambiguous_rate=1.0, fault_kinds=["504_timeout"], log_delay=1.5)
    generation_id = run(
        KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt="a lighthouse", duration=5)
    )
    stats = simulator.stats()
    assert (stats["create_requests"], stats["creates"]) == (1, 1)
    assert stats["generations"][generation_id]["prompt"] == "a lighthouse"
    out = capsys.readouterr().out
    assert f"made generation {generation_id} ($0.49): reattaching, no second create" in out


def test_a_create_the_log_shows_failed_is_sent_once_more(simulator, capsys):
    simulator.configure(post_error_rate=1.0)
    with pytest.raises(AirflowFailException):
        # 500 answers a create: ambiguous for the client, but the log says nothing was made...
        run(KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt="a lighthouse"))
    stats = simulator.stats()
    assert (stats["create_requests"], stats["creates"]) == (2, 0)  # ...so it was sent once more, and no more
    assert "nothing was created; sending it once more" in capsys.readouterr().out


def test_no_row_in_the_log_fails_once_saying_it_may_have_been_billed_and_what_to_do(simulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, request_log_wait=2))
    simulator.configure(post_ambiguous_rate=1.0, fault_kinds=["504_timeout"], log_delay=600)
    store = FakeStateStore()
    with pytest.raises(AirflowFailException) as failure:
        run(KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt="a lighthouse"), store=store)
    assert simulator.stats()["create_requests"] == 1
    client_id = store.get("kling_generation")["client_request_id"]
    assert_unproven(str(failure.value), client_id, "no row shows it")


def assert_unproven(message: str, client_id: str, reason: str, model: str = "kling-video/v1.6/pro/text-to-video"):
    """The failure of a create the log cannot account for: what may have happened, and what a person does."""
    assert client_id.startswith("kling:t:")
    assert f"The create of {model} with client request id {client_id} may have been billed" in message
    assert "the API's request log cannot prove what it did (" in message
    assert reason in message
    assert "It is not sent again on its own" in message
    assert f"GET /v2/logs, client_request_id {client_id}, model {model}" in message
    assert "GET /v2/billing/transactions" in message
    assert "Once sure nothing was made, let the task send again: delete the key 'kling_generation'" in message


def test_a_retry_after_a_worker_died_between_send_and_record_reattaches_through_the_log(simulator):
    store = FakeStateStore()
    simulator.configure(post_ambiguous_rate=1.0, fault_kinds=["504_timeout"], log_delay=600)
    monkey_wait = connection_json(simulator.url, request_log_wait=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_KLING_DEFAULT", monkey_wait)
        with pytest.raises(AirflowFailException):
            run(KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt="a lighthouse"), store=store)
    assert store.get("kling_generation")["generation_id"] is None  # only the intent was recorded
    simulator.configure(post_ambiguous_rate=0.0, log_delay=0.0)  # the log has caught up
    again = KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt="a lighthouse")
    generation_id = run(again, store=store, ti=FakeTaskInstance(task_id="t", try_number=2))
    stats = simulator.stats()
    assert (stats["create_requests"], stats["creates"]) == (1, 1)
    assert generation_id in stats["generations"]


def test_a_create_refused_before_anything_was_made_leaves_no_intent_to_look_up(simulator, monkeypatch):
    store = FakeStateStore()
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, api_key="wrong"))
    with pytest.raises(AirflowFailException, match="HTTP 401"):
        run(KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt="a lighthouse"), store=store)
    assert store.get("kling_generation") == {  # one create, proven void: nothing to look up
        "generation_id": None,
        "fingerprint": store.get("kling_generation")["fingerprint"],
        "creates": 1,
        "voided": 1,
        "max_tries": 0,
    }
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url))
    again = KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt="a lighthouse")
    run(again, store=store, ti=FakeTaskInstance(task_id="t", try_number=2))
    stats = simulator.stats()
    assert (stats["log_requests"], stats["creates"]) == (0, 1)  # no look-up: straight to one create


def test_a_request_log_that_cannot_be_read_ends_in_the_same_clear_failure(simulator):
    # A key without access to the request log (403): the look-up ends at once, the failure names the id.
    simulator.configure(post_ambiguous_rate=1.0, fault_kinds=["504_timeout"], account_refusals=["logs"])
    store = FakeStateStore()
    with pytest.raises(AirflowFailException) as failure:
        run(KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt="a lighthouse"), store=store)
    assert simulator.stats()["create_requests"] == 1
    client_id = store.get("kling_generation")["client_request_id"]
    assert_unproven(str(failure.value), client_id, "the request log could not be read: Kling request log failed")


def lose_the_answer_of_a_create(simulator, store, prompt="a lighthouse", **config):
    """Try 1: the create is made, its answer lost, and the log shows nothing within the wait: the task fails."""
    simulator.configure(post_ambiguous_rate=1.0, fault_kinds=["504_timeout"], log_delay=600, **config)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, request_log_wait=1))
        with pytest.raises(AirflowFailException, match="may have been billed"):
            run(KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt=prompt), store=store)
    intent = store.get("kling_generation")
    assert intent["generation_id"] is None  # only the intent was recorded
    return intent["client_request_id"]


def retry(store, prompt="a lighthouse"):
    """A person clears the task: try 2, same ledger."""
    again = KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt=prompt)
    return run(again, store=store, ti=cleared(FakeTaskInstance(task_id="t")))


def test_a_retry_whose_create_the_log_does_not_show_never_creates_again(simulator, monkeypatch):
    store = FakeStateStore()
    client_id = lose_the_answer_of_a_create(simulator, store, prompt="a lighthouse [sim:lost-unlogged]")
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, request_log_wait=1))
    simulator.configure(post_ambiguous_rate=0.0, log_delay=0.0)
    with pytest.raises(AirflowFailException) as failure:
        retry(store, prompt="a lighthouse [sim:lost-unlogged]")
    stats = simulator.stats()
    assert (stats["create_requests"], stats["creates"]) == (1, 1)  # it used to create a second, paid video
    assert_unproven(str(failure.value), client_id, "no row shows it")


def test_a_retry_finds_its_row_behind_hundreds_of_newer_rows_of_other_tasks_and_models(simulator):
    store = FakeStateStore()
    client_id = lose_the_answer_of_a_create(simulator, store)
    simulator.configure(post_ambiguous_rate=0.0, log_delay=0.0)
    # Then 300 requests of other tasks to the same model and 250 to another: the row is on page 4 of
    # its model, behind 550 rows in all (the search used to stop after 500, newest first).
    others = send_creates(simulator, 300, "kling-video/v1.6/pro/text-to-video") + send_creates(
        simulator, 250, "kling-video/v1.6/standard/text-to-video"
    )
    assert len(set(others)) == 550
    generation_id = retry(store)
    stats = simulator.stats()
    assert stats["creates_by_key"]["a lighthouse"] == 1
    assert stats["generations"][generation_id]["prompt"] == "a lighthouse"
    assert store.get("kling_generation")["generation_id"] == generation_id
    assert store.get("kling_generation")["client_request_id"] == client_id


def test_another_models_row_carrying_the_same_client_request_id_is_not_taken_for_ours(simulator, monkeypatch):
    store = FakeStateStore()
    client_id = lose_the_answer_of_a_create(simulator, store, prompt="a lighthouse [sim:lost-unlogged]")
    simulator.configure(post_ambiguous_rate=0.0, log_delay=0.0)
    # Another tool (or deployment) on the same key sent a create with the very same id, to another model.
    [theirs] = send_creates(simulator, 1, "kling-video/v1.6/standard/text-to-video", client_id=client_id)
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, request_log_wait=1))
    with pytest.raises(AirflowFailException, match="may have been billed"):
        retry(store, prompt="a lighthouse [sim:lost-unlogged]")  # it used to reattach to their video
    assert store.get("kling_generation")["generation_id"] is None
    assert theirs not in str(store.values)


def send_creates(simulator, count, model, client_id=None):
    """``count`` creates of other tasks (their own client request ids), straight over HTTP."""
    import requests

    ids = []
    with requests.Session() as session:
        for n in range(count):
            answer = session.post(
                f"{simulator.url}/v2/generate/video/kling/generation",
                json={"model": model, "prompt": f"someone else's video {n}"},
                headers={"Authorization": f"Bearer {API_KEY}", "X-Client-Request-Id": client_id or f"other:{n}"},
                timeout=10,
            )
            answer.raise_for_status()
            ids.append(answer.json()["id"])
    return ids


def test_a_create_refused_then_resent_whose_answer_is_lost_is_not_taken_for_failed(simulator, monkeypatch):
    # The account is busy: the create is refused with a 429 (a failed row), resent under the same id once
    # the other video is done, made, and its answer lost before the log shows it. One failed row for two
    # sends proves nothing: the task must not send a third create (it used to, paying twice).
    simulator.configure(max_concurrent=1, generation_seconds=0.3)
    send_creates(simulator, 1, "kling-video/v1.6/pro/text-to-video")
    simulator.configure(post_ambiguous_rate=1.0, fault_kinds=["504_timeout"])
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, request_log_wait=1))
    prompt = "a lighthouse [sim:lost-unlogged]"
    store = FakeStateStore()
    with pytest.raises(AirflowFailException) as failure:
        run(KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt=prompt), store=store)
    stats = simulator.stats()
    assert stats["create_requests"] >= 1 + 2  # the other video's; ours refused, then resent
    assert stats["creates_by_key"][prompt] == 1
    assert_unproven(str(failure.value), store.get("kling_generation")["client_request_id"], "failed row(s) for")


@pytest.mark.parametrize(
    ("text", "named"), [("NaN", "nan"), ("Infinity", "inf"), ("1e999", "inf"), ("-1", "-1"), ('"0.5"', "'0.5'")]
)
def test_a_bad_published_price_under_a_cap_is_refused_before_any_create_naming_the_model_and_value(
    simulator, text, named
):
    # A NaN quote used to pass the cap (NaN > cap is False) and a negative one always did.
    simulator.configure(bad_money={"price": text})
    op = KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt="a lighthouse", duration=5, max_usd=5)
    with pytest.raises(AirflowFailException) as failure:
        run(op)
    assert (
        f"no quote for kling-video/v1.6/pro/text-to-video: the price catalogue gives it a rate that is not a "
        f"finite, non-negative number: price={named}; max_usd=5 needs a price before paying"
    ) in str(failure.value)
    assert simulator.stats()["create_requests"] == 0


def test_a_finished_generation_with_infinite_usage_reaches_xcom_as_unknown(simulator, capsys):
    # The create's dollar header is bad too: the credits beside it must not stand in for it.
    simulator.configure(bad_money={"usage": "1e999", "usd_header": "NaN"})
    op = KlingTextToVideoOperator(
        task_id="t", prompt="a lighthouse", duration=5, wait_for_completion=True, deferrable=False, poll_interval=0.2
    )
    result = run(op)  # int(inf) used to crash here, after the video was paid for
    assert (result["usage"], result["cost"]) == ({"credits_used": "inf"}, "unknown")
    json.dumps(result, allow_nan=False)  # XCom stays JSON: no NaN or Infinity
    out = capsys.readouterr().out
    assert "(credits_used=inf; cost unknown (credits_used=inf: not a finite, non-negative number))" in out
    assert simulator.stats()["creates"] == 1


def test_an_edited_request_first_settles_the_lost_create_of_the_one_before_and_keeps_what_it_made(simulator, capsys):
    # The lost create used to be dropped with its record when the request changed: paid for, and forgotten.
    store = FakeStateStore()
    client_id = lose_the_answer_of_a_create(simulator, store)
    simulator.configure(post_ambiguous_rate=0.0, log_delay=0.0)  # the log has caught up
    edited = retry(store, prompt="a lighthouse at night")  # the prompt edited, the task cleared
    stats = simulator.stats()
    assert (stats["create_requests"], stats["creates"]) == (2, 2)  # one for each request, no more
    [lost] = [g for g, body in stats["generations"].items() if body["prompt"] == "a lighthouse"]
    assert stats["generations"][edited]["prompt"] == "a lighthouse at night"
    assert list(store.get("kling_generation")["earlier"].values()) == [lost]  # paid for: still recorded
    out = capsys.readouterr().out
    assert f"after create {client_id} was sent for it, whose answer was never recorded: looking it up" in out
    assert f"Generation {lost}, made for this task's request before it changed" in out


def test_an_edited_request_is_not_paid_for_while_the_lost_create_of_the_one_before_is_unaccounted_for(
    simulator, monkeypatch
):
    store = FakeStateStore()
    client_id = lose_the_answer_of_a_create(simulator, store, prompt="a lighthouse [sim:lost-unlogged]")
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, request_log_wait=1))
    simulator.configure(post_ambiguous_rate=0.0, log_delay=0.0)
    with pytest.raises(AirflowFailException) as failure:
        retry(store, prompt="a lighthouse at night")  # the prompt edited, the task cleared
    assert simulator.stats()["create_requests"] == 1  # it used to pay for the edited request at once
    message = str(failure.value)
    assert f"client request id {client_id} (sent for this task's request before it changed) may have been billed" in (
        message
    )
    assert "Nothing is sent until it is accounted for" in message
    assert "the retry records it as paid and goes on" in message
    assert store.get("kling_generation")["client_request_id"] == client_id  # still pending, still recorded
