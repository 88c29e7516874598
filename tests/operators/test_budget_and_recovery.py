"""Dollar caps refused before any create, and no paid video lost when a create's answer is lost."""

from __future__ import annotations

import json

import pytest

from airflow_provider_kling.operators.kling import KlingTextToVideoOperator, KlingVideoOperator
from airflow_provider_kling.version_compat import AirflowFailException
from harness.airflow_context import FakeStateStore, FakeTaskInstance, make_context
from harness.simulated import connection_json

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
    op = KlingTextToVideoOperator(task_id="t", prompt="a lighthouse", **kwargs)
    with pytest.raises(AirflowFailException) as failure:
        run(op)
    assert says in str(failure.value)
    assert simulator.stats()["create_requests"] == 0


def test_a_request_under_its_cap_is_sent_and_its_price_logged(simulator, capsys):
    generation_id = run(KlingTextToVideoOperator(task_id="t", prompt="a lighthouse", duration=5, max_usd="0.49"))
    assert simulator.stats()["creates"] == 1
    out = capsys.readouterr().out
    assert "Price before paying: $0.49 for kling-video/v1.6/pro/text-to-video ($0.098 per second × 5 s)" in out
    assert f"Submitted Kling generation {generation_id}" in out
    assert "cost reported at once: credits_used=980000, usd_spent=0.49" in out


def test_a_variable_price_under_a_cap_is_refused(simulator):
    op = KlingVideoOperator(
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
    op = KlingTextToVideoOperator(task_id="t", prompt="a lighthouse", max_usd=5)
    with pytest.raises(AirflowFailException, match="could not be reached .* and no copy is cached"):
        run(op)
    assert simulator.stats()["create_requests"] == 0


def test_every_create_carries_a_valid_client_request_id(simulator):
    run(KlingTextToVideoOperator(task_id="t", prompt="a lighthouse"))
    stats = simulator.stats()
    assert (stats["creates"], stats["creates_without_client_request_id"]) == (1, 0)


def test_a_504_after_creating_is_found_in_the_request_log_and_nothing_is_paid_twice(simulator, capsys):
    simulator.configure(post_ambiguous_rate=1.0, fault_kinds=["504_timeout"], log_delay=1.5)
    generation_id = run(KlingTextToVideoOperator(task_id="t", prompt="a lighthouse", duration=5))
    stats = simulator.stats()
    assert (stats["create_requests"], stats["creates"]) == (1, 1)
    assert stats["generations"][generation_id]["prompt"] == "a lighthouse"
    out = capsys.readouterr().out
    assert f"made generation {generation_id} ($0.49): reattaching, no second create" in out


def test_a_create_the_log_shows_failed_is_sent_once_more(simulator, capsys):
    simulator.configure(post_error_rate=1.0)
    with pytest.raises(AirflowFailException):
        # 500 answers a create: ambiguous for the client, but the log says nothing was made...
        run(KlingTextToVideoOperator(task_id="t", prompt="a lighthouse"))
    stats = simulator.stats()
    assert (stats["create_requests"], stats["creates"]) == (2, 0)  # ...so it was sent once more, and no more
    assert "nothing was created; sending it once more" in capsys.readouterr().out


def test_no_row_in_the_log_fails_once_naming_the_client_request_id(simulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, request_log_wait=2))
    simulator.configure(post_ambiguous_rate=1.0, fault_kinds=["504_timeout"], log_delay=600)
    with pytest.raises(AirflowFailException, match="request log shows no row for client request id kling:t:"):
        run(KlingTextToVideoOperator(task_id="t", prompt="a lighthouse"))
    assert simulator.stats()["create_requests"] == 1


def test_a_retry_after_a_worker_died_between_send_and_record_reattaches_through_the_log(simulator):
    store = FakeStateStore()
    simulator.configure(post_ambiguous_rate=1.0, fault_kinds=["504_timeout"], log_delay=600)
    monkey_wait = connection_json(simulator.url, request_log_wait=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_KLING_DEFAULT", monkey_wait)
        with pytest.raises(AirflowFailException):
            run(KlingTextToVideoOperator(task_id="t", prompt="a lighthouse"), store=store)
    assert store.get("kling_generation")["generation_id"] is None  # only the intent was recorded
    simulator.configure(post_ambiguous_rate=0.0, log_delay=0.0)  # the log has caught up
    again = KlingTextToVideoOperator(task_id="t", prompt="a lighthouse")
    generation_id = run(again, store=store, ti=FakeTaskInstance(task_id="t", try_number=2))
    stats = simulator.stats()
    assert (stats["create_requests"], stats["creates"]) == (1, 1)
    assert generation_id in stats["generations"]


def test_a_create_refused_before_anything_was_made_leaves_no_intent_to_look_up(simulator, monkeypatch):
    store = FakeStateStore()
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, api_key="wrong"))
    with pytest.raises(AirflowFailException, match="HTTP 401"):
        run(KlingTextToVideoOperator(task_id="t", prompt="a lighthouse"), store=store)
    assert store.get("kling_generation") == {
        "generation_id": None,
        "fingerprint": store.get("kling_generation")["fingerprint"],
    }
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url))
    again = KlingTextToVideoOperator(task_id="t", prompt="a lighthouse")
    run(again, store=store, ti=FakeTaskInstance(task_id="t", try_number=2))
    stats = simulator.stats()
    assert (stats["log_requests"], stats["creates"]) == (0, 1)  # no look-up: straight to one create


def test_a_request_log_that_cannot_be_read_ends_in_the_same_clear_failure(simulator):
    # A key without access to the request log (403): the look-up ends at once, the failure names the id.
    simulator.configure(post_ambiguous_rate=1.0, fault_kinds=["504_timeout"], account_refusals=["logs"])
    with pytest.raises(AirflowFailException, match="request log shows no row for client request id kling:t:"):
        run(KlingTextToVideoOperator(task_id="t", prompt="a lighthouse"))
    assert simulator.stats()["create_requests"] == 1


@pytest.mark.parametrize(
    ("text", "named"), [("NaN", "nan"), ("Infinity", "inf"), ("1e999", "inf"), ("-1", "-1"), ('"0.5"', "'0.5'")]
)
def test_a_bad_published_price_under_a_cap_is_refused_before_any_create_naming_the_model_and_value(
    simulator, text, named
):
    # A NaN quote used to pass the cap (NaN > cap is False) and a negative one always did.
    simulator.configure(bad_money={"price": text})
    op = KlingTextToVideoOperator(task_id="t", prompt="a lighthouse", duration=5, max_usd=5)
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
