"""KlingHook against the simulator over real HTTP: nothing of our own HTTP layer is patched."""

from __future__ import annotations

import hashlib
import time

import pytest

from airflow_provider_kling.exceptions import (
    KlingAPIError,
    KlingConfigurationError,
    KlingConnectionError,
    KlingServerError,
    KlingSubmissionUnknownError,
    KlingValidationError,
)
from airflow_provider_kling.hooks.kling import KlingHook
from airflow_provider_kling.models import GenerationStatus
from airflow_provider_kling.retry import RetryPolicy
from harness.simulated import API_KEY, connection_json

FAST_RETRIES = RetryPolicy(max_attempts=6, base_delay=0.05, max_delay=0.2, budget=10)


def wait_until_finished(hook: KlingHook, generation_id: str, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation = hook.get_generation(generation_id)
        if generation.is_finished:
            return generation
        time.sleep(0.2)
    raise AssertionError("generation did not finish")


def test_legacy_endpoint_fetches_the_2025_11_shape(simulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, endpoint="legacy"))
    hook = KlingHook()
    done = wait_until_finished(hook, hook.submit_generation("legacy shape", duration=10))
    assert done.usage == {"tokens_used": 1960000.0}  # 10 s at $0.098 a second, in credits
    assert done.duration == 10


def test_submit_then_fetch_each_status(simulator):
    hook = KlingHook()
    generation_id = hook.submit_generation("a paper boat on a river", duration=5, aspect_ratio="9:16")
    first = hook.get_generation(generation_id)
    assert first.id == generation_id
    assert first.status is GenerationStatus.QUEUED
    time.sleep(0.4)
    assert hook.get_generation(generation_id).status is GenerationStatus.GENERATING
    done = wait_until_finished(hook, generation_id)
    assert done.status is GenerationStatus.COMPLETED
    assert done.video_url.startswith(simulator.url + "/videos/")
    assert done.usage == {"credits_used": 980000.0}  # endpoint=auto fetches on the universal GET
    stats = simulator.stats()
    assert stats["creates"] == 1
    assert stats["generations"][generation_id]["prompt"] == "a paper boat on a river"


def test_failed_generation_is_http_200_with_status_error(simulator, monkeypatch):
    # The legacy path's 2025-11 shape: the error is a bare string.
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, endpoint="legacy"))
    hook = KlingHook()
    generation_id = hook.submit_generation("a forbidden scene [sim:error]")
    done = wait_until_finished(hook, generation_id)
    assert done.status is GenerationStatus.ERROR
    assert done.error == "The prompt was rejected by the content policy"


def test_unified_schema_and_200_create(simulator):
    simulator.configure(schema="unified", create_status=200, id_style="nanoid", api_key=API_KEY)
    hook = KlingHook()
    generation_id = hook.submit_generation("a [sim:error] test")
    assert len(generation_id) == 21
    done = wait_until_finished(hook, generation_id)
    assert done.error == "ContentPolicyViolation: The prompt was rejected by the content policy"


@pytest.mark.parametrize("id_style", ["uuid-model", "number", "nanoid"])
def test_ids_are_opaque(simulator, id_style):
    simulator.configure(id_style=id_style, api_key=API_KEY)
    hook = KlingHook()
    generation_id = hook.submit_generation("opaque ids")
    assert hook.get_generation(generation_id).id == generation_id


def test_wrong_key_is_a_clear_permanent_error(simulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, api_key="wrong-key-123"))
    with pytest.raises(KlingAPIError) as excinfo:
        KlingHook(retry_policy=FAST_RETRIES).submit_generation("hello")
    assert excinfo.value.status_code == 401
    assert "HTTP 401: Unauthorized" in str(excinfo.value)
    assert "check the connection's password" in str(excinfo.value)
    assert "wrong-key-123" not in str(excinfo.value)
    assert simulator.stats()["creates"] == 0


def test_unknown_generation_is_404(simulator):
    with pytest.raises(KlingAPIError, match="HTTP 404.*not found") as excinfo:
        KlingHook().get_generation("does-not-exist")
    assert excinfo.value.request_id


def test_api_side_400_is_reported_with_the_apis_messages(simulator):
    # The hook validates first; a raw body shows what the API itself says.
    with pytest.raises(KlingAPIError, match=r"HTTP 400: .*duration must be one of the following values: 5, 10"):
        KlingHook()._request(
            "POST",
            "/v2/generate/video/kling/generation",
            json={"model": "kling-video/v1.6/pro/text-to-video", "prompt": "x", "duration": 7},
            idempotent=False,
            what="raw",
        )


def test_bad_input_sends_nothing(simulator):
    before = simulator.stats()["create_requests"]
    with pytest.raises(KlingValidationError):
        KlingHook().submit_generation("x", duration=7, aspect_ratio="4:3")
    assert simulator.stats()["create_requests"] == before


def test_connection_without_key_fails_before_any_request(simulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", f'{{"conn_type": "kling", "host": "{simulator.url}"}}')
    with pytest.raises(KlingConfigurationError, match="no API key"):
        KlingHook().submit_generation("x")
    assert simulator.stats()["create_requests"] == 0


def test_test_connection(simulator, monkeypatch):
    ok, message = KlingHook().test_connection()
    assert ok, message
    assert simulator.url in message
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, api_key="nope"))
    ok, message = KlingHook().test_connection()
    assert not ok
    assert "401" in message
    assert simulator.stats()["creates"] == 0


def test_unreachable_api_is_a_transient_error_safe_to_resend(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json("http://127.0.0.1:9"))
    with pytest.raises(KlingConnectionError, match="could not reach http://127.0.0.1:9") as excinfo:
        KlingHook(retry_policy=RetryPolicy(max_attempts=2, base_delay=0.01, jitter=0)).submit_generation("x")
    assert excinfo.value.safe_to_resend


@pytest.mark.parametrize(
    "kind", ["500_json", "502_html", "503", "504_timeout", "429_retry_after", "429_bare", "reset", "bad_json"]
)
def test_status_requests_ride_out_each_fault_kind(simulator, kind):
    hook = KlingHook(retry_policy=FAST_RETRIES)
    generation_id = hook.submit_generation(f"fault {kind}")
    simulator.configure(fault_rate=0.5, fault_kinds=[kind], seed=3)
    for _ in range(6):
        assert hook.get_generation(generation_id).id == generation_id
    assert simulator.stats()["faults"][kind] >= 1


def test_slow_response_past_the_read_timeout_is_retried(simulator, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, timeout=0.5))
    hook = KlingHook(retry_policy=FAST_RETRIES)
    generation_id = hook.submit_generation("slow")
    simulator.configure(fault_rate=0.5, fault_kinds=["slow"], slow_seconds=1.5, seed=3)
    for _ in range(3):
        hook.get_generation(generation_id)
    assert simulator.stats()["faults"]["slow"] >= 1


def test_persistent_5xx_gives_up_after_the_budget_with_a_clear_error(simulator, capsys):
    hook = KlingHook(retry_policy=RetryPolicy(max_attempts=3, base_delay=0.01, jitter=0))
    generation_id = hook.submit_generation("down")
    simulator.configure(fault_rate=1.0, fault_kinds=["502_html"])
    with pytest.raises(KlingServerError, match="HTTP 502: HTML error page: 502 Bad Gateway"):
        hook.get_generation(generation_id)
    assert simulator.stats()["faults"]["502_html"] == 3
    assert capsys.readouterr().out.count("retrying in") == 2


def test_create_refused_with_429_is_resent_and_creates_one_generation(simulator):
    simulator.configure(fault_rate=0.6, seed=5)
    hook = KlingHook(retry_policy=FAST_RETRIES)
    ids = {hook.submit_generation(f"row {n}", external_task_id=f"row-{n}") for n in range(10)}
    stats = simulator.stats()
    assert len(ids) == 10
    assert stats["creates"] == 10
    assert stats["create_requests"] > 10  # some were refused and resent
    assert set(stats["creates_by_key"].values()) == {1}


@pytest.mark.parametrize("kind", ["502_html", "reset", "bad_json"])
def test_create_failing_after_it_was_processed_is_never_resent(simulator, kind):
    simulator.configure(post_ambiguous_rate=1.0, fault_kinds=[kind])
    with pytest.raises(KlingSubmissionUnknownError, match="may have been created and billed") as excinfo:
        KlingHook(retry_policy=FAST_RETRIES).submit_generation("ambiguous")
    assert "Check the API's request log (GET /v2/logs) or your billing before sending it again" in str(excinfo.value)
    assert excinfo.value.sends == 1  # what the request log must show to prove nothing was made
    stats = simulator.stats()
    assert stats["create_requests"] == 1
    assert stats["creates"] == 1


@pytest.mark.parametrize("which", ["api", "cdn"])
def test_pooled_sockets_send_tcp_keepalives(simulator, which):
    # Polls minutes apart must not find their kept-alive connection silently dropped by a NAT.
    import socket

    from airflow_provider_kling.delivery.download import VideoDownloader

    hook = KlingHook()
    session = hook.session if which == "api" else VideoDownloader.for_hook(hook).session
    session.get(f"{simulator.url}/_sim/stats?light=1", timeout=10).close()
    pools = session.get_adapter(simulator.url).poolmanager.pools
    # urllib3's RecentlyUsedContainer offers keys() but no iteration.
    [connection] = [c for key in pools.keys() for c in pools[key].pool.queue if c is not None]  # noqa: SIM118
    sock = connection.sock  # the connection just returned to the pool, still open
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 120


def test_extras_that_are_not_settings_are_sent_as_headers_like_the_http_providers(simulator, monkeypatch):
    # HttpHook's convention: any connection extra becomes a header. Ours (timeouts, endpoint, verify)
    # are settings: a number left in the headers would make requests refuse to send at all.
    from airflow.providers.http.hooks.http import HttpHook

    monkeypatch.setenv(
        "AIRFLOW_CONN_KLING_DEFAULT",
        connection_json(simulator.url, timeout=30, connect_timeout=5, endpoint="legacy", **{"X-Team": "media"}),
    )
    hook = KlingHook()
    assert isinstance(hook, HttpHook)
    assert hook.session.headers["X-Team"] == "media"
    assert hook.session.headers["Authorization"] == f"Bearer {API_KEY}"
    assert {"timeout", "connect_timeout", "endpoint"}.isdisjoint(hook.session.headers)
    assert hook.session.auth is None  # never basic auth with the key
    assert hook.get_generation(hook.submit_generation("headers")).status is GenerationStatus.QUEUED


def test_the_one_create_call_reads_a_local_image_and_sends_it_inline(simulator, tmp_path):
    from harness.inputs import write_image

    photo = write_image(tmp_path / "mug.png", 640, 640)
    hook = KlingHook()
    generation_id = hook.submit_generation(
        "the mug turns",
        model="kling-video/v1.6/pro/image-to-video",
        image_url=str(photo),
        client_request_id="kling:mine:1",
    )
    sent = simulator.stats()["generations"][generation_id]
    assert sent["media_sha256"] == {
        "image_url": hashlib.sha256(photo.read_bytes()).hexdigest()
    }  # the bytes, not the path
    assert simulator.stats()["creates_without_client_request_id"] == 0


def test_the_price_of_a_request_is_known_before_paying(simulator):
    quote = KlingHook().price({"prompt": "a fox", "duration": 5})
    assert quote.low == quote.high == pytest.approx(0.49)  # 5 s at $0.098 a second
    assert simulator.stats()["create_requests"] == 0
