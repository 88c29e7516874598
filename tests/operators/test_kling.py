"""KlingTextToVideoOperator without a database, against the simulator over real HTTP."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.video_records import VIDEO_RECORD_XCOM_KEY
from airflow_provider_kling.operators.kling import KlingTextToVideoOperator
from airflow_provider_kling.task_outputs import GENERATION_ID_XCOM_KEY, VIDEO_URL_XCOM_KEY
from airflow_provider_kling.triggers.kling import KlingGenerationTrigger
from airflow_provider_kling.version_compat import AirflowException, AirflowFailException, TaskDeferred
from harness.airflow_context import FakeStateStore, FakeTaskInstance, cleared, make_context
from harness.simulated import API_KEY, connection_json


def operator(**kwargs) -> KlingTextToVideoOperator:
    return KlingTextToVideoOperator(
        task_id="submit", **{"prompt": "a snail racing a leaf", "wait_for_completion": False, **kwargs}
    )


def test_submit_returns_the_id_and_records_it_before_anything_else(simulator):
    op = operator(duration="10", aspect_ratio="1:1")
    context = make_context(op)
    generation_id = op.execute(context)
    assert simulator.stats()["creates"] == 1
    assert context["ti"].xcoms[GENERATION_ID_XCOM_KEY] == generation_id
    # What the Videos page lists: the model now, the cost when a task sees the generation finish.
    record = context["ti"].xcoms[VIDEO_RECORD_XCOM_KEY]
    assert (record["generation_ids"], record["model"], record["usd"]) == ([generation_id], op.model, None)
    stored = context["task_state_store"].get("kling_generation")
    assert stored["generation_id"] == generation_id
    body = simulator.stats()["generations"][generation_id]
    assert body["prompt"] == "a snail racing a leaf"


def test_a_retry_after_a_successful_submit_reattaches_instead_of_paying_again(simulator, capsys):
    store = FakeStateStore()
    first = operator().execute(make_context(operator(), store=store))
    # The worker died after the POST; Airflow retries with fresh XComs but the same state store.
    second = operator().execute(
        make_context(operator(), store=store, ti=FakeTaskInstance(task_id="submit", try_number=2))
    )
    assert second == first
    assert simulator.stats()["creates"] == 1
    assert "Reattaching to generation" in capsys.readouterr().out


def test_changed_parameters_are_a_new_generation(simulator):
    store = FakeStateStore()
    first = operator().execute(make_context(operator(), store=store))
    # A person edits the prompt and clears the task.
    edited = operator(prompt="something else")
    second = edited.execute(make_context(edited, store=store, ti=cleared(FakeTaskInstance(task_id="submit"))))
    assert first != second
    assert simulator.stats()["creates"] == 2


def test_a_failed_earlier_generation_is_submitted_anew_after_a_manual_clear(simulator):
    store = FakeStateStore()
    failing = operator(prompt="x [sim:error]")
    first = failing.execute(make_context(failing, store=store))
    simulator.finish_renders()
    again = make_context(failing, store=store, ti=cleared(FakeTaskInstance(task_id="submit")))
    assert failing.execute(again) != first
    assert simulator.stats()["creates"] == 2


def test_a_recorded_id_unknown_to_the_api_is_not_paid_for_again(simulator):
    store = FakeStateStore()
    operator().execute(make_context(operator(), store=store))
    simulator.reset()  # the API no longer knows the id (e.g. the connection now points elsewhere)
    # The API named that id when it made the generation: it may have been billed. A person decides.
    with pytest.raises(AirflowFailException, match="unknown to the API .* may have been billed") as failure:
        operator().execute(make_context(operator(), store=store))
    assert simulator.stats()["create_requests"] == 0
    assert "delete the key 'kling_generation'" in str(failure.value)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"duration": 7}, "duration=7 is not allowed for kling-video/v1.6/pro/text-to-video; allowed values: 5, 10"),
        ({"aspect_ratio": "4:3"}, "aspect_ratio='4:3'"),
        ({"prompt": ""}, "prompt must not be empty"),
        ({"camera_control": {"type": "simple"}}, "camera_control.config is required"),
        ({"model": "kling/v7"}, "is not a Kling video model this provider knows"),
    ],
)
def test_bad_input_fails_without_retry_and_without_a_request(simulator, kwargs, fragment):
    op = operator(**kwargs)
    with pytest.raises(AirflowFailException, match=fragment):
        op.execute(make_context(op))
    assert simulator.stats()["create_requests"] == 0


def test_wrong_key_fails_without_retry(simulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, api_key="bad"))
    op = operator()
    with pytest.raises(AirflowFailException, match="HTTP 401"):
        op.execute(make_context(op))


def test_a_connection_reset_after_creating_is_recovered_from_the_request_log_with_one_create(simulator):
    # It used to fail ("may have been created and billed"); the request log now says what was made.
    simulator.configure(post_ambiguous_rate=1.0, fault_kinds=["reset"])
    op = operator()
    generation_id = op.execute(make_context(op))
    stats = simulator.stats()
    assert (stats["create_requests"], stats["creates"]) == (1, 1)
    assert generation_id in stats["generations"]


def test_wait_for_completion_defers_with_a_secret_free_trigger(simulator):
    op = operator(wait_for_completion=True, poll_interval=3, timeout=600)
    context = make_context(op)
    with pytest.raises(TaskDeferred) as excinfo:
        op.execute(context)
    trigger = excinfo.value.trigger
    assert isinstance(trigger, KlingGenerationTrigger)
    assert excinfo.value.method_name == "execute_complete"
    _, kwargs = trigger.serialize()
    assert API_KEY not in json.dumps(kwargs)
    assert kwargs["generation_id"] == context["ti"].xcoms[GENERATION_ID_XCOM_KEY]
    assert kwargs["poll_interval"] == 3
    assert 590 < kwargs["end_time"] - time.time() <= 600
    assert excinfo.value.timeout > timedelta(seconds=600)


def test_a_timedelta_is_as_good_as_seconds_for_every_wait_argument(simulator):
    # Before: accepted when the DAG was parsed, then "float + timedelta" once the task waited.
    op = operator(wait_for_completion=True, poll_interval=timedelta(seconds=3), timeout=timedelta(minutes=10))
    with pytest.raises(TaskDeferred) as excinfo:
        op.execute(make_context(op))
    _, kwargs = excinfo.value.trigger.serialize()
    assert kwargs["poll_interval"] == 3
    assert 590 < kwargs["end_time"] - time.time() <= 600


@pytest.mark.parametrize(
    ("argument", "value"),
    [("timeout", timedelta(minutes=-5)), ("timeout", float("nan")), ("poll_interval", 0), ("poll_interval", "10")],
)
def test_a_wait_argument_that_is_no_span_of_time_fails_when_the_dag_is_parsed(argument, value):
    # Not templated, so known at parse time: refused there, as Airflow refuses a bad execution_timeout.
    with pytest.raises(KlingValidationError, match=rf"{argument} must be a number of seconds or a timedelta"):
        operator(**{argument: value})


def test_execution_timeout_shortens_the_deadline(simulator):
    op = operator(wait_for_completion=True, timeout=3600, execution_timeout=timedelta(seconds=90))
    with pytest.raises(TaskDeferred) as excinfo:
        op.execute(make_context(op))
    assert excinfo.value.trigger.end_time - time.time() <= 90


def test_a_generation_already_finished_returns_without_deferring(simulator):
    store = FakeStateStore()
    operator().execute(make_context(operator(), store=store))
    simulator.finish_renders()
    op = operator(wait_for_completion=True)
    context = make_context(op, store=store)
    result = op.execute(context)
    assert result["status"] == "completed"
    assert context["ti"].xcoms[VIDEO_URL_XCOM_KEY] == result["video_url"]
    assert simulator.stats()["creates"] == 1
    record = context["ti"].xcoms[VIDEO_RECORD_XCOM_KEY]
    assert (record["model"], record["usd"], record["seconds"]) == (op.model, 0.49, result["duration"])
    assert record["delivered"] is False  # kept only at the API


def test_non_deferrable_wait_polls_in_place(simulator):
    op = operator(wait_for_completion=True, deferrable=False, poll_interval=0.2)
    result = op.execute(make_context(op))
    assert result["status"] == "completed"
    assert result["usage"] == {"credits_used": 980000.0}


def test_non_deferrable_wait_fails_clearly_on_status_error(simulator):
    op = operator(prompt="x [sim:error]", wait_for_completion=True, deferrable=False, poll_interval=0.2)
    context = make_context(op)
    with pytest.raises(AirflowFailException, match="failed: .*The prompt was rejected by the content policy"):
        op.execute(context)
    # The Video tab shows the API's message: the task's record says why it failed, and which generation.
    record = context["ti"].xcoms[VIDEO_RECORD_XCOM_KEY]
    assert "The prompt was rejected by the content policy" in record["error"]
    assert record["generation_ids"] == [context["ti"].xcoms[GENERATION_ID_XCOM_KEY]]


def test_non_deferrable_wait_times_out_as_a_retriable_failure(simulator):
    op = operator(prompt="x [sim:never]", wait_for_completion=True, deferrable=False, poll_interval=0.2, timeout=1)
    with pytest.raises(AirflowException, match="Gave up waiting") as excinfo:
        op.execute(make_context(op))
    assert not isinstance(excinfo.value, AirflowFailException)


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({"status": "failed", "generation": {"id": "g"}, "message": "nsfw"}, AirflowFailException),
        ({"status": "error", "message": "HTTP 401", "retryable": False}, AirflowFailException),
        ({"status": "error", "message": "HTTP 503", "retryable": True}, AirflowException),
        ({"status": "timeout", "message": "Gave up", "generation": None}, AirflowException),
    ],
)
def test_execute_complete_maps_events_to_fail_or_retry(event, error):
    op = operator(wait_for_completion=True)
    with pytest.raises(error) as excinfo:
        op.execute_complete(make_context(op), event)
    if error is AirflowException:
        assert not isinstance(excinfo.value, AirflowFailException)


def test_execute_complete_success_pushes_the_video_link():
    op = operator(wait_for_completion=True)
    context = make_context(op)
    generation = {"id": "g", "status": "completed", "video_url": "https://cdn/v.mp4", "usage": {}, "duration": 5}
    assert op.execute_complete(context, {"status": "success", "generation": generation}) == generation
    assert context["ti"].xcoms[VIDEO_URL_XCOM_KEY] == "https://cdn/v.mp4"


def test_templated_fields_cover_every_text_parameter():
    assert {"prompt", "negative_prompt", "external_task_id", "camera_control"} <= set(
        KlingTextToVideoOperator.template_fields
    )


def test_init_never_validates_so_a_bad_literal_cannot_break_dag_parsing():
    op = KlingTextToVideoOperator(task_id="t", prompt="x", duration=7)
    assert op.duration == 7


def test_the_video_link_key_is_the_one_airflow_derives_from_the_class_name():
    # The trigger writes the link's XCom by this key without importing the class: they must agree.
    from airflow.sdk import BaseOperatorLink

    from airflow_provider_kling.operators.kling import KlingVideoLink

    assert KlingVideoLink().xcom_key == BaseOperatorLink.xcom_key.fget(KlingVideoLink())


@pytest.mark.parametrize(("argument", "value"), [("timeout", -5), ("timeout", "30"), ("poll_interval", timedelta(0))])
def test_a_mapped_tasks_wait_argument_is_checked_when_the_dag_is_parsed_too(argument, value):
    with pytest.raises(KlingValidationError, match=rf"{argument} must be a number of seconds or a timedelta"):
        KlingTextToVideoOperator.partial(task_id="mapped", **{argument: value})


def test_a_mapped_task_takes_timedeltas_for_its_waits():
    mapped = KlingTextToVideoOperator.partial(task_id="mapped", timeout=timedelta(minutes=5)).expand(prompt=["a", "b"])
    assert mapped.partial_kwargs["timeout"] == timedelta(minutes=5)
