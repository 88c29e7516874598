"""``endpoint=auto`` against the simulator: each model on the path an operation documents for it, and
one fallback to the model's other documented path only when the first refuses the model or path."""

from __future__ import annotations

import pytest

from airflow_provider_kling.exceptions import KlingAPIError, KlingSubmissionUnknownError
from airflow_provider_kling.hooks.kling import KlingHook
from airflow_provider_kling.models.catalog import list_models
from harness.inputs import IMAGE_URL, minimal_params

LEGACY = "/v2/generate/video/kling/generation"
UNIFIED = "/v2/video/generations"


@pytest.mark.parametrize("spec", list_models(), ids=[spec.id for spec in list_models()])
def test_every_model_is_created_on_its_documented_path_on_the_first_try(simulator, spec):
    params = minimal_params(spec, IMAGE_URL)
    hook = KlingHook()
    created = hook._create_generation(hook._prepare(params))
    assert created.request.path == (LEGACY if "legacy" in spec.endpoints else UNIFIED)
    stats = simulator.stats()
    assert (stats["create_requests"], stats["creates"]) == (1, 1)


def test_a_retired_legacy_path_is_left_once_for_the_unified_one_and_the_log_says_why(simulator, capsys):
    simulator.configure(retired_paths=["legacy"])
    hook = KlingHook()
    created = hook._create_generation(hook._prepare({"prompt": "a lighthouse"}))
    assert created.request.path == UNIFIED
    stats = simulator.stats()
    assert (stats["create_requests"], stats["creates"]) == (2, 1)
    log = capsys.readouterr().out  # the task log (Airflow's structlog writes to stdout)
    assert f"{LEGACY} refused kling-video/v1.6/pro/text-to-video (HTTP 404: Cannot POST {LEGACY})" in log
    assert f"sent once to {UNIFIED}" in log


def test_a_path_that_no_longer_serves_the_model_is_left_once(simulator):
    simulator.configure(legacy_models=["kling-video/v1/pro/text-to-video"])
    hook = KlingHook()
    created = hook._create_generation(hook._prepare({"prompt": "a lighthouse", "camera_control": "down_back"}))
    assert created.request.path == UNIFIED
    assert created.request.body["camera_control"] == "down_back"  # the unified spelling
    assert simulator.stats()["creates"] == 1


def test_both_paths_refusing_fails_after_exactly_two_requests(simulator):
    simulator.configure(retired_paths=["legacy", "unified"])
    with pytest.raises(KlingAPIError, match="HTTP 404"):
        KlingHook().submit_generation("a lighthouse")
    assert simulator.stats()["create_requests"] == 2


@pytest.mark.parametrize("fault", ["502_html", "reset", "bad_json"])
def test_an_answer_that_may_follow_a_created_generation_never_moves_to_the_other_path(simulator, fault):
    simulator.configure(post_ambiguous_rate=1.0, fault_kinds=[fault])
    with pytest.raises(KlingSubmissionUnknownError):
        KlingHook().submit_generation("a lighthouse")
    assert simulator.stats()["create_requests"] == 1


def test_a_refused_key_never_moves_to_the_other_path(simulator, monkeypatch):
    from harness.simulated import connection_json

    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, api_key="wrong"))
    with pytest.raises(KlingAPIError, match="HTTP 401"):
        KlingHook().submit_generation("a lighthouse")
    assert simulator.stats()["create_requests"] == 1


def test_a_forced_path_is_never_left(simulator, monkeypatch):
    from harness.simulated import connection_json

    simulator.configure(retired_paths=["legacy"])
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, endpoint="legacy"))
    with pytest.raises(KlingAPIError, match="HTTP 404"):
        KlingHook().submit_generation("a lighthouse")
    assert simulator.stats()["create_requests"] == 1


def test_a_second_name_is_sent_as_the_id_and_logged_once(simulator, capsys, monkeypatch):
    from airflow_provider_kling.hooks import kling

    monkeypatch.setattr(kling, "_ALIASES_LOGGED", set())  # once per process: start this test's process afresh
    hook = KlingHook()
    for _ in range(2):
        hook.submit_generation("a fox", model="kling-video/v3/turbo/pro/text-to-video")
    assert simulator.stats()["creates_by_model"] == {"klingai/video-v3-turbo-pro-text-to-video": 2}
    said = "kling-video/v3/turbo/pro/text-to-video is klingai/video-v3-turbo-pro-text-to-video"
    assert capsys.readouterr().out.count(said) == 1
