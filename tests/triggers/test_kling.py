"""KlingGenerationTrigger driven the way the triggerer drives it, against the simulator."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from airflow.triggers.base import TriggerEvent

from airflow_provider_kling.cadence import RENDER_HISTORY
from airflow_provider_kling.hooks.async_session import open_sessions
from airflow_provider_kling.hooks.kling import KlingHook
from airflow_provider_kling.triggers.kling import KlingGenerationTrigger
from harness.simulated import API_KEY


def make_trigger(generation_id: str, *, timeout: float = 20, poll_interval: float = 0.2) -> KlingGenerationTrigger:
    return KlingGenerationTrigger(
        generation_id=generation_id,
        kling_conn_id="kling_default",
        end_time=time.time() + timeout,
        poll_interval=poll_interval,
    )


async def collect(trigger: KlingGenerationTrigger) -> list[TriggerEvent]:
    return [event async for event in trigger.run()]


async def submit(prompt: str) -> str:
    return await asyncio.to_thread(KlingHook().submit_generation, prompt)


def test_serialize_round_trip_holds_no_secret():
    trigger = KlingGenerationTrigger(
        generation_id="g:1/x", kling_conn_id="kling_prod", end_time=1_900_000_000.5, poll_interval=7
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_kling.triggers.kling.KlingGenerationTrigger"
    assert set(kwargs) == {
        "generation_id",
        "kling_conn_id",
        "end_time",
        "poll_interval",
        "started",
        "end_task",
        "timeout",
        "generation_id_xcom",
        "model",
        "submitted_at",
    }
    rebuilt = KlingGenerationTrigger(**json.loads(json.dumps(kwargs)))
    assert rebuilt.serialize() == (classpath, kwargs)


async def test_success_event_with_the_finished_generation(simulator):
    generation_id = await submit("a kite over dunes")
    trigger = make_trigger(generation_id)
    assert API_KEY not in json.dumps(trigger.serialize()[1])
    events = await collect(trigger)
    assert len(events) == 1
    payload = events[0].payload
    assert payload["status"] == "success"
    assert payload["generation"]["id"] == generation_id
    assert payload["generation"]["video_url"].startswith(simulator.url)
    assert payload["generation"]["usage"] == {"credits_used": 980000.0}
    assert open_sessions() == 0


async def test_failed_event_carries_the_apis_message(simulator):
    events = await collect(make_trigger(await submit("nope [sim:error]")))
    assert [e.payload["status"] for e in events] == ["failed"]
    assert events[0].payload["message"] == "ContentPolicyViolation: The prompt was rejected by the content policy"


async def test_deadline_yields_one_timeout_event_on_time(simulator):
    generation_id = await submit("forever [sim:never]")
    started = time.monotonic()
    events = await collect(make_trigger(generation_id, timeout=1.5, poll_interval=0.5))
    elapsed = time.monotonic() - started
    assert [e.payload["status"] for e in events] == ["timeout"]
    assert "deadline passed while its status was 'generating'" in events[0].payload["message"]
    assert 1.4 <= elapsed < 3.0


async def test_permanent_api_error_yields_an_error_event(simulator):
    events = await collect(make_trigger("no-such-generation"))
    assert len(events) == 1
    assert events[0].payload["status"] == "error"
    assert events[0].payload["retryable"] is False
    assert "HTTP 404" in events[0].payload["message"]


async def test_rides_out_a_flaky_api(simulator):
    generation_id = await submit("flaky")
    simulator.configure(
        fault_rate=0.4, seed=3, fault_kinds=["500_json", "502_html", "503", "reset", "bad_json", "429_bare"]
    )
    events = await collect(make_trigger(generation_id))
    assert [e.payload["status"] for e in events] == ["success"]
    assert sum(simulator.stats()["faults"].values()) >= 1


async def test_an_api_down_until_the_deadline_reports_a_timeout_not_a_crash(simulator):
    generation_id = await submit("down")
    simulator.configure(fault_rate=1.0, fault_kinds=["503"])
    events = await collect(make_trigger(generation_id, timeout=2))
    assert [e.payload["status"] for e in events] == ["timeout"]


async def test_unknown_status_is_treated_as_running(simulator, capsys):
    events = await collect(make_trigger(await submit("odd [sim:unknown-status]")))
    assert [e.payload["status"] for e in events] == ["success"]
    assert "Unknown status 'rendering': treating it as still running" in capsys.readouterr().out


async def test_legacy_status_spelling_is_understood(simulator, capsys):
    events = await collect(make_trigger(await submit("odd [sim:odd-status]")))
    assert [e.payload["status"] for e in events] == ["success"]
    out = capsys.readouterr().out
    assert "status 'processing'" in out
    assert "Unknown status" not in out


async def test_completed_without_url_keeps_waiting_until_the_deadline(simulator):
    events = await collect(make_trigger(await submit("no url [sim:no-url]"), timeout=2))
    assert [e.payload["status"] for e in events] == ["timeout"]
    assert "'completed'" in events[0].payload["message"]


async def test_many_triggers_share_a_few_kept_alive_connections(simulator):
    ids = [await submit(f"shared {n}") for n in range(8)]
    before = simulator.stats()
    events = await asyncio.gather(*(collect(make_trigger(g, poll_interval=0.1)) for g in ids))
    after = simulator.stats()
    polls = after["fetch_requests"] - before["fetch_requests"]
    new_connections = after["connections"] - before["connections"]
    assert all(e[0].payload["status"] == "success" for e in events)
    assert polls >= 8 * 5
    assert new_connections <= 8  # never more than the concurrent polls, whatever the number of polls
    assert open_sessions() == 0


async def test_logs_tell_the_story_once_per_status_change(simulator, capsys):
    await collect(make_trigger(await submit("story"), poll_interval=0.05))
    out = capsys.readouterr().out
    assert out.count("status 'queued'") == 1
    assert out.count("status 'generating'") == 1
    assert "completed in" in out
    assert "credits_used=980000" in out
    assert API_KEY not in out


@pytest.mark.parametrize("status", ["success", "failed"])
async def test_exactly_one_event_even_when_iterated_further(simulator, status):
    prompt = "one" if status == "success" else "one [sim:error]"
    events = await collect(make_trigger(await submit(prompt)))
    assert len(events) == 1


async def test_an_unexpected_exception_inside_a_poll_still_ends_in_exactly_one_event(simulator):
    # A connection deleted while its generations wait: the lookup raises Airflow's own error, not a
    # Kling one. Before, the trigger died without an event and the task hung until its timeout.
    trigger = KlingGenerationTrigger(
        generation_id="g-1", kling_conn_id="kling_deleted_meanwhile", end_time=time.time() + 20, poll_interval=0.2
    )
    events = await collect(trigger)
    assert len(events) == 1
    event = events[0].payload
    assert event["status"] == "error"
    assert event["retryable"] is True
    # Airflow 3.3 says the connection is not defined; 3.1 outside a triggerer fails the lookup with
    # an ImportError (no supervisor channel). Either way: unexpected, reported, one event.
    assert event["message"].startswith("Waiting for the generation failed unexpectedly: ")
    assert simulator.stats()["fetch_requests"] == 0
    assert open_sessions() == 0


async def test_outside_a_triggerer_a_trigger_asked_to_end_its_task_resumes_it_instead(simulator):
    # `airflow dags test` runs triggers inline, with no task instance: the task must resume as usual.
    generation_id = await submit("ends where it can")
    trigger = KlingGenerationTrigger(
        generation_id=generation_id,
        kling_conn_id="kling_default",
        end_time=time.time() + 20,
        poll_interval=0.2,
        end_task="generation",
    )
    [event] = await collect(trigger)
    assert type(event) is TriggerEvent
    assert event.payload["status"] == "success"


async def test_an_id_to_read_from_xcom_without_a_task_instance_is_a_clear_error_event(simulator):
    trigger = KlingGenerationTrigger(
        generation_id=None,
        kling_conn_id="kling_default",
        end_time=time.time() + 20,
        generation_id_xcom={"task_id": "submit", "key": "return_value"},
    )
    [event] = await collect(trigger)
    assert event.payload["status"] == "error"
    assert "generation_id must be a non-empty string" in event.payload["message"]
    assert simulator.stats()["fetch_requests"] == 0


@pytest.mark.parametrize(
    ("kwargs", "timeout_after", "expected"),
    [
        ({"end_time": 1_000.0}, None, 1_000.0),  # an absolute deadline wins
        ({"end_time": 1_000.0}, 5_000.0, 1_000.0),
        ({}, 5_000.0, 5_000.0 - 60),  # started by the scheduler: its trigger timeout, less the slack
        ({"timeout": 30.0, "started": 100.0}, None, 130.0),  # neither: timeout from the start
        ({"started": 100.0}, None, 3_700.0),  # nothing at all: the default hour
    ],
)
def test_the_deadline_of_a_wait(kwargs, timeout_after, expected):
    from datetime import datetime, timezone

    trigger = KlingGenerationTrigger(generation_id="g", kling_conn_id="kling_default", **kwargs)
    if timeout_after is not None:
        trigger.timeout_after = datetime.fromtimestamp(timeout_after, tz=timezone.utc)
    assert trigger.deadline() == pytest.approx(expected)


class _TaskInstance:
    dag_id, run_id, task_id, map_index = "dag", "run", "wait", -1


async def polls_of_a_wait_reading_xcom(simulator, monkeypatch, *, with_facts: bool) -> int:
    from airflow.sdk.execution_time.xcom import XCom

    from airflow_provider_kling.task_outputs import GENERATION_FACTS_XCOM_KEY

    simulator.reset()
    # A fresh triggerer: the wait this test ran before must not teach this one its floor.
    RENDER_HISTORY.reset()
    model = "klingai/video-v3-turbo-pro-text-to-video"
    generation_id = await asyncio.to_thread(KlingHook().submit_generation, "facts", model=model)
    upstream = {"return_value": generation_id}
    if with_facts:
        upstream[GENERATION_FACTS_XCOM_KEY] = {"model": model, "submitted_at": time.time()}
    # Airflow's XCom read (through the triggerer's supervisor, absent here) answers from the upstream task.
    monkeypatch.setattr(XCom, "get_one", classmethod(lambda cls, key, **_: upstream.get(key)))
    trigger = KlingGenerationTrigger(
        generation_id=None,
        kling_conn_id="kling_default",
        end_time=time.time() + 30,
        poll_interval=0.5,
        generation_id_xcom={"task_id": "submit", "key": "return_value"},
    )
    trigger.task_instance = _TaskInstance()
    [event] = await collect(trigger)
    assert event.payload["status"] == "success"
    return simulator.stats()["fetch_requests"]


async def test_a_trigger_reading_the_id_from_xcom_reads_the_model_beside_it(simulator, monkeypatch):
    simulator.configure(generation_seconds=4.0)
    RENDER_HISTORY.record("klingai/video-v3-turbo-pro-text-to-video", 0.2)  # what an earlier test taught it
    unknown = await polls_of_a_wait_reading_xcom(simulator, monkeypatch, with_facts=False)
    known = await polls_of_a_wait_reading_xcom(simulator, monkeypatch, with_facts=True)
    # A 4 s render, polled every 0.5 s: model unknown, every interval (about 9 polls); known, every
    # 1.5 s until a turbo render can be done (the floor: 9 intervals), then every interval (about 4).
    assert unknown >= 7
    assert known <= 0.6 * unknown


async def test_a_mapped_wait_reads_the_id_its_own_map_index_of_the_upstream_task_sent(simulator, monkeypatch):
    from airflow.sdk.execution_time.xcom import XCom

    ids = [await asyncio.to_thread(KlingHook().submit_generation, f"mapped {i}") for i in range(3)]
    asked = []

    def get_one(cls, key, task_id, map_index, **_):
        asked.append((task_id, key, map_index))
        return ids[map_index] if key == "return_value" else None

    # Airflow's XCom read (through the triggerer's supervisor, absent here) answers per map index.
    monkeypatch.setattr(XCom, "get_one", classmethod(get_one))
    trigger = KlingGenerationTrigger(
        generation_id=None,
        kling_conn_id="kling_default",
        end_time=time.time() + 30,
        poll_interval=0.2,
        generation_id_xcom={"task_id": "submit", "key": "return_value", "map_index": "own"},
    )
    trigger.task_instance = type("MappedTaskInstance", (_TaskInstance,), {"map_index": 1})()
    [event] = await collect(trigger)
    assert event.payload["generation"]["id"] == ids[1]
    assert ("submit", "return_value", 1) in asked
