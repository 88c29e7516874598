"""A video kept only at the API, streamed through the API server from the API's own link."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_kling.plugins import api_video
from airflow_provider_kling.plugins.api_video import Expired, kept_generation, open_api_video
from airflow_provider_kling.plugins.recorded import NotRecorded, TaskFacts
from tests.operators.test_download import finished_generation

TI = ("nightly", "run", "generate", -1)


@pytest.fixture(autouse=True)
def no_cached_urls():
    api_video._URLS.clear()
    yield
    api_video._URLS.clear()


def facts(record, state="success"):
    return TaskFacts(TI, "KlingVideoOperator", state, None, {"kling_video": record})


@pytest.mark.parametrize(
    ("record", "state", "expected"),
    [
        ({"generation_ids": ["g"], "delivered": False}, "success", "g"),
        ({"generation_ids": ["g"], "delivered": True}, "success", None),  # stored: the tab plays the file
        ({"generation_ids": ["g"], "delivered": False}, "running", None),  # not finished yet
        ({"generation_ids": ["g"], "delivered": False, "error": "failed"}, "success", None),
        ({"generation_ids": ["s1", "s2"], "delivered": False}, "success", None),
        ({"generation_ids": [], "delivered": False}, "success", None),
        ({"generation_ids": "g", "delivered": False}, "success", None),
        ({"generation_ids": ["g"]}, "success", None),
        ("g", "success", None),
    ],
)
def test_which_task_kept_its_video_only_at_the_api(record, state, expected):
    assert kept_generation(facts(record, state)) == expected


def test_the_video_streams_whole_or_by_range_from_a_fresh_link(simulator):
    generation_id = finished_generation(simulator)
    whole = open_api_video("kling_default", generation_id, None)
    data = b"".join(whole.chunks)
    assert whole.status == 200
    assert data[4:8] == b"ftyp"
    part = open_api_video("kling_default", generation_id, "bytes=100-199")
    assert (part.status, b"".join(part.chunks)) == (206, data[100:200])
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    tail = open_api_video("kling_default", generation_id, f"bytes={len(data) - 10}-")
    assert (tail.status, b"".join(tail.chunks)) == (206, data[-10:])
    past = open_api_video("kling_default", generation_id, f"bytes={len(data)}-")
    assert (past.status, past.headers["Content-Range"], b"".join(past.chunks)) == (416, f"bytes */{len(data)}", b"")
    odd = open_api_video("kling_default", generation_id, "bytes=1-2, 5-6")  # not one range: not passed on
    assert (odd.status, len(b"".join(odd.chunks))) == (200, len(data))
    assert not any("sig=" in value for value in whole.headers.values())  # the signed link stays on the server


def test_an_expired_link_is_refreshed_once_then_said_to_have_expired(simulator):
    generation_id = finished_generation(simulator)
    simulator.configure(video_fault="expired_once")
    assert b"".join(open_api_video("kling_default", generation_id, None).chunks)[4:8] == b"ftyp"
    api_video._URLS.clear()
    simulator.configure(video_fault="expired")
    with pytest.raises(Expired, match="has expired: the API refused its link"):
        open_api_video("kling_default", generation_id, None)


def test_a_generation_without_a_video_has_expired(simulator):
    from airflow_provider_kling.hooks.kling import KlingHook

    generation_id = KlingHook().submit_generation("kept [sim:no-url]")
    simulator.finish_renders()
    with pytest.raises(Expired, match="lists no video"):
        open_api_video("kling_default", generation_id, None)


def test_an_api_out_of_reach_is_said_without_a_secret(simulator, monkeypatch):
    generation_id = finished_generation(simulator)
    monkeypatch.setenv(
        "AIRFLOW_CONN_KLING_DEFAULT", '{"conn_type": "kling", "host": "http://127.0.0.1:9", "password": "sk-secret"}'
    )
    with pytest.raises(NotRecorded, match="could not be asked for this video") as refused:
        open_api_video("kling_default", generation_id, None)
    assert "sk-secret" not in str(refused.value)


def test_a_generation_still_rendering_or_failed_at_the_api_is_not_called_expired(simulator):
    from airflow_provider_kling.hooks.kling import KlingHook

    simulator.configure(generation_seconds=600.0)
    rendering = KlingHook().submit_generation("a slow one")
    with pytest.raises(NotRecorded, match="is still rendering") as said:
        open_api_video("kling_default", rendering, None)
    assert not isinstance(said.value, Expired)
    failed = KlingHook().submit_generation("x [sim:error]")
    simulator.finish_renders()
    with pytest.raises(NotRecorded, match="failed at the API: .*content policy"):
        open_api_video("kling_default", failed, None)


def test_urllib3_logs_no_signature_of_the_video_link(simulator, caplog):
    generation_id = finished_generation(simulator)
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        b"".join(open_api_video("kling_default", generation_id, None).chunks)
    fetched = [r.getMessage() for r in caplog.records if "/videos/" in r.getMessage()]
    assert fetched  # the request was logged ...
    assert not any("sig=" in line or "expires=" in line for line in fetched)  # ... without its signature


def test_a_stored_video_is_never_played_from_the_api_instead():
    # Its sidecar decides (and may have refused it: another DAG's video, changed bytes).
    facts = TaskFacts(
        TI,
        "KlingVideoOperator",
        "success",
        None,
        {
            "return_value": {"id": "g", "destination": "/v/a.mp4"},
            "kling_video": {"generation_ids": ["g"], "delivered": False},
        },
    )
    assert kept_generation(facts) is None


def test_a_probe_lets_its_connection_go_without_reading(simulator):
    generation_id = finished_generation(simulator)
    probe = open_api_video("kling_default", generation_id, "bytes=0-0")
    probe.close()
    assert probe.response.raw.closed
