"""The same hook on the unified /v2/video/generations endpoint (connection extra endpoint=unified)."""

from __future__ import annotations

import pytest

from airflow_provider_kling.exceptions import KlingConfigurationError
from airflow_provider_kling.hooks.kling import KlingHook
from airflow_provider_kling.models import GenerationStatus
from harness.simulated import connection_json


@pytest.fixture
def unified(simulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, endpoint="unified"))
    return simulator


def finished(hook: KlingHook, generation_id: str, simulator):
    simulator.finish_renders()
    return hook.get_generation(generation_id)


@pytest.mark.parametrize(
    "params",
    [
        {"duration": 10, "aspect_ratio": "9:16"},
        {"camera_control": "forward_up"},
        {"camera_control": {"type": "simple", "config": {"tilt": 3}}},
    ],
)
def test_create_and_fetch_on_the_unified_endpoint(unified, params):
    hook = KlingHook()
    generation_id = hook.submit_generation("unified", **params)
    done = finished(hook, generation_id, unified)
    assert done.status is GenerationStatus.COMPLETED
    assert done.usage == {"credits_used": 196000.0 * params.get("duration", 5)}  # $0.098 a second
    assert unified.stats()["creates"] == 1


def test_a_legacy_only_field_on_a_forced_unified_connection_is_an_error_before_any_request(unified):
    from airflow_provider_kling.exceptions import KlingValidationError

    with pytest.raises(KlingValidationError, match="'external_task_id' is not a parameter of kling-video/v1.6/pro"):
        KlingHook().submit_generation("unified", external_task_id="row-7")
    assert unified.stats()["create_requests"] == 0


async def test_async_polls_use_the_unified_path_and_error_shape(unified):
    hook = KlingHook()
    generation_id = hook.submit_generation("nope [sim:error]")
    unified.finish_renders()
    generation = await hook.aget_generation(generation_id)
    assert generation.error == "ContentPolicyViolation: The prompt was rejected by the content policy"


def test_the_simulator_refuses_legacy_shapes_on_the_unified_path(unified):
    from airflow_provider_kling.exceptions import KlingAPIError

    # What a client that did not translate would send: refused with the API's own words.
    with pytest.raises(KlingAPIError, match="camera_control must be one of the following values"):
        KlingHook()._request(
            "POST",
            "/v2/video/generations",
            json={
                "model": "kling-video/v1.6/pro/text-to-video",
                "prompt": "x",
                "camera_control": {"type": "down_back"},
            },
            idempotent=False,
            what="raw",
        )


def test_unknown_endpoint_setting(simulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, endpoint="v3"))
    with pytest.raises(KlingConfigurationError, match="extra 'endpoint' must be one of auto, legacy, unified"):
        KlingHook().submit_generation("x")
