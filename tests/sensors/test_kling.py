"""KlingGenerationSensor in its three modes, without a database, against the simulator."""

from __future__ import annotations

import time

import pytest
from airflow.sdk import PokeReturnValue

from airflow_provider_kling.hooks.kling import KlingHook
from airflow_provider_kling.models.video_records import VIDEO_RECORD_XCOM_KEY
from airflow_provider_kling.sensors.kling import KlingGenerationSensor
from airflow_provider_kling.task_outputs import VIDEO_URL_XCOM_KEY
from airflow_provider_kling.triggers.kling import KlingGenerationTrigger
from airflow_provider_kling.version_compat import (
    AIRFLOW_V_3_3_PLUS,
    AirflowException,
    AirflowFailException,
    AirflowSensorTimeout,
    TaskDeferred,
)
from harness.airflow_context import make_context


def sensor(generation_id: str, **kwargs) -> KlingGenerationSensor:
    return KlingGenerationSensor(task_id="wait", generation_id=generation_id, **kwargs)


def test_defers_while_rendering(simulator):
    generation_id = KlingHook().submit_generation("deferred")
    task = sensor(generation_id, poke_interval=5, timeout=120)
    with pytest.raises(TaskDeferred) as excinfo:
        task.execute(make_context(task))
    trigger = excinfo.value.trigger
    assert isinstance(trigger, KlingGenerationTrigger)
    assert trigger.generation_id == generation_id
    assert trigger.poll_interval == 5
    assert 110 < trigger.end_time - time.time() <= 120


def test_a_finished_generation_returns_at_once_without_a_trigger(simulator):
    generation_id = KlingHook().submit_generation("quick")
    simulator.finish_renders()
    task = sensor(generation_id)
    context = make_context(task)
    result = task.execute(context)
    assert result["id"] == generation_id
    assert set(result) == {"id", "status", "video_url", "video_urls", "duration", "usage", "cost", "error"}
    assert context["ti"].xcoms[VIDEO_URL_XCOM_KEY] == result["video_url"]
    record = context["ti"].xcoms[VIDEO_RECORD_XCOM_KEY]
    assert (record["generation_ids"], record["usd"], record["model"]) == ([generation_id], 0.49, None)


def test_failed_generation_fails_without_retry_with_the_apis_message(simulator):
    generation_id = KlingHook().submit_generation("bad [sim:error]")
    simulator.finish_renders()
    task = sensor(generation_id)
    with pytest.raises(AirflowFailException, match="The prompt was rejected by the content policy"):
        task.execute(make_context(task))


@pytest.mark.parametrize("bad_id", [None, "", "None", "  "])
def test_missing_generation_id_fails_clearly_without_a_request(simulator, bad_id):
    task = sensor(bad_id)
    with pytest.raises(AirflowFailException, match="generation_id must be a non-empty string"):
        task.execute(make_context(task))
    assert simulator.stats()["fetch_requests"] == 0


@pytest.mark.parametrize("mode", ["poke", "reschedule"])
def test_poke_returns_false_then_the_generation(simulator, mode):
    generation_id = KlingHook().submit_generation("poked")
    task = sensor(generation_id, deferrable=False, mode=mode)
    assert task.poke(make_context(task)) is False
    simulator.finish_renders()
    done = task.poke(make_context(task))
    assert isinstance(done, PokeReturnValue)
    assert done.is_done
    assert done.xcom_value["status"] == "completed"


def test_poke_rides_out_an_api_outage(simulator):
    generation_id = KlingHook().submit_generation("outage")
    simulator.configure(fault_rate=1.0, fault_kinds=["503"])
    task = sensor(generation_id, deferrable=False, poke_interval=0.05)
    assert task.poke(make_context(task)) is False


def test_poke_mode_end_to_end_through_execute(simulator):
    generation_id = KlingHook().submit_generation("poke loop")
    task = sensor(generation_id, deferrable=False, poke_interval=0.2, timeout=30)
    result = task.execute(make_context(task))
    assert result["status"] == "completed"


def test_trigger_timeout_is_a_final_sensor_timeout():
    task = sensor("g")
    with pytest.raises(AirflowSensorTimeout, match="Gave up"):
        task.execute_complete(
            make_context(task), {"status": "timeout", "message": "Gave up waiting", "generation": None}
        )


def test_trigger_transient_error_lets_airflow_retry():
    task = sensor("g")
    with pytest.raises(AirflowException) as excinfo:
        task.execute_complete(make_context(task), {"status": "error", "message": "HTTP 503", "retryable": True})
    assert not isinstance(excinfo.value, (AirflowFailException, AirflowSensorTimeout))


def start_args(**kwargs):
    from airflow.sdk import DAG

    from airflow_provider_kling.operators.kling import KlingTextToVideoOperator

    with DAG("start_from_trigger", schedule=None):
        submit = KlingTextToVideoOperator(wait_for_completion=False, task_id="submit", prompt="a")
        generation_id = kwargs.pop("generation_id", submit.output)
        task = KlingGenerationSensor(task_id="wait", generation_id=generation_id, **kwargs)
    return task.start_from_trigger, (task.start_trigger_args.trigger_kwargs if task.start_from_trigger else None)


@pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="the scheduler starts tasks in the triggerer on Airflow 3.3+")
@pytest.mark.parametrize(
    ("kwargs", "starts", "source"),
    [
        ({}, True, {"generation_id": None, "generation_id_xcom": {"task_id": "submit", "key": "return_value"}}),
        ({"generation_id": "abc-123"}, True, {"generation_id": "abc-123"}),
        # A template's xcom_pull cannot be served by the 3.3.2 triggerer: a worker renders it.
        ({"generation_id": "{{ ti.xcom_pull(task_ids='submit') }}"}, False, None),
        ({"kling_conn_id": "{{ var.value.conn }}"}, False, None),
        ({"deferrable": False}, False, None),
        ({"start_from_trigger": False}, False, None),
    ],
)
def test_when_a_sensor_starts_in_the_triggerer(kwargs, starts, source):
    started, trigger_kwargs = start_args(poke_interval=5, timeout=120, **kwargs)
    assert started is starts
    if starts:
        assert {k: trigger_kwargs[k] for k in source} == source
        assert trigger_kwargs["end_task"] == "generation"
        assert trigger_kwargs["poll_interval"] == 5


def mapped_start_args(expand: str, **partial):
    """``start_from_trigger`` and the trigger kwargs of a mapped sensor (kept by the DAG's serialization)."""
    from airflow.sdk import DAG, task

    try:
        from airflow.serialization.serialized_objects import DagSerialization
    except ImportError:  # Airflow < 3.2
        from airflow.serialization.serialized_objects import SerializedDAG as DagSerialization

    from airflow_provider_kling.operators.kling import KlingTextToVideoOperator

    with DAG("mapped_start_from_trigger", schedule=None) as dag:

        @task
        def prompts() -> list[str]:
            return ["a", "b"]

        submit = KlingTextToVideoOperator.partial(wait_for_completion=False, task_id="submit").expand(prompt=prompts())
        single = KlingTextToVideoOperator(wait_for_completion=False, task_id="single", prompt="a")
        waits = KlingGenerationSensor.partial(task_id="wait", poke_interval=5, timeout=120, **partial)
        if expand == "mapped submit":
            waits.expand(generation_id=submit.output)
        elif expand == "literal ids":
            waits.expand(generation_id=["abc", "def"])
        elif expand == "unmapped submit":  # a list returned by one task
            waits.expand(generation_id=single.output)
        elif expand == "expand_kwargs":
            waits.expand_kwargs([{"generation_id": "abc"}])
    task = dag.get_task("wait")
    # What the scheduler reads: the DAG as serialized.
    assert (
        DagSerialization.from_dict(DagSerialization.to_dict(dag)).get_task("wait").start_from_trigger
        is task.start_from_trigger
    )
    return task.start_from_trigger, (task.start_trigger_args.trigger_kwargs if task.start_from_trigger else None)


@pytest.mark.skipif(not AIRFLOW_V_3_3_PLUS, reason="the scheduler starts tasks in the triggerer on Airflow 3.3+")
@pytest.mark.parametrize(
    ("expand", "partial", "starts"),
    [
        ("mapped submit", {}, True),
        ("mapped submit", {"start_from_trigger": False}, False),
        ("mapped submit", {"deferrable": False}, False),
        ("mapped submit", {"kling_conn_id": "{{ var.value.conn }}"}, False),
        # The scheduler gives every map index the same trigger kwargs: only an id read per map index fits.
        ("literal ids", {}, False),
        ("unmapped submit", {}, False),
        ("expand_kwargs", {}, False),
    ],
)
def test_when_mapped_sensors_start_in_the_triggerer(expand, partial, starts):
    started, trigger_kwargs = mapped_start_args(expand, **partial)
    assert started is starts
    if starts:
        assert trigger_kwargs["generation_id"] is None
        assert trigger_kwargs["generation_id_xcom"] == {"task_id": "submit", "key": "return_value", "map_index": "own"}
        assert (trigger_kwargs["end_task"], trigger_kwargs["poll_interval"]) == ("generation", 5)


@pytest.mark.skipif(AIRFLOW_V_3_3_PLUS, reason="older releases only")
def test_before_airflow_3_3_a_sensor_starts_on_a_worker():
    assert start_args() == (False, None)


@pytest.mark.skipif(AIRFLOW_V_3_3_PLUS, reason="older releases only")
def test_before_airflow_3_3_mapped_sensors_start_on_a_worker():
    assert mapped_start_args("mapped submit") == (False, None)


def test_a_sensor_on_a_submit_output_knows_the_model_and_send_time_the_submitting_task_recorded(simulator):
    from airflow.sdk import DAG

    from airflow_provider_kling.operators.kling import KlingTextToVideoOperator
    from airflow_provider_kling.task_outputs import GENERATION_FACTS_XCOM_KEY
    from harness.airflow_context import FakeTaskInstance

    submitting = KlingTextToVideoOperator(
        wait_for_completion=False, task_id="submit", prompt="facts", model="klingai/video-v3-turbo-pro-text-to-video"
    )
    submit_context = make_context(submitting)
    generation_id = submitting.execute(submit_context)
    facts = submit_context["ti"].xcoms[GENERATION_FACTS_XCOM_KEY]
    assert facts["model"] == "klingai/video-v3-turbo-pro-text-to-video"
    assert time.time() - 30 < facts["submitted_at"] <= time.time()

    with DAG("facts", schedule=None):
        upstream = KlingTextToVideoOperator(wait_for_completion=False, task_id="submit", prompt="facts")
        task = KlingGenerationSensor(task_id="wait", generation_id=upstream.output, start_from_trigger=False)
    task.generation_id = generation_id  # as rendered for the run
    ti = FakeTaskInstance(task_id="wait", upstream={("submit", GENERATION_FACTS_XCOM_KEY): facts})
    with pytest.raises(TaskDeferred) as excinfo:
        task.execute(make_context(task, ti=ti))
    trigger = excinfo.value.trigger
    assert (trigger.model, trigger.submitted_at) == (facts["model"], facts["submitted_at"])


def test_a_sensor_on_a_literal_id_does_not_know_the_model(simulator):
    task = sensor(KlingHook().submit_generation("literal"))
    with pytest.raises(TaskDeferred) as excinfo:
        task.execute(make_context(task))
    assert (excinfo.value.trigger.model, excinfo.value.trigger.submitted_at) == (None, None)
