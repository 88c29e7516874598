"""HTTPS to the API: certificate trust is configurable and a refused certificate is a clear setup error."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_kling.exceptions import KlingConfigurationError, KlingSubmissionUnknownError
from airflow_provider_kling.hooks.kling import KlingHook
from airflow_provider_kling.simulator.process import SimulatorProcess
from harness.certs import make_certificate
from harness.simulated import API_KEY
from harness.tls_middlebox import TlsMiddlebox


@pytest.fixture(scope="module")
def tls_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimulatorProcess, str]]:
    cert, key = make_certificate(tmp_path_factory.mktemp("tls"))
    with SimulatorProcess(
        "--api-key", API_KEY, "--generation-seconds", "1", "--tls-cert", cert, "--tls-key", key
    ) as sim:
        yield sim, cert


def use(monkeypatch: pytest.MonkeyPatch, url: str, **extra: object) -> None:
    conn = {"conn_type": "kling", "host": url, "password": API_KEY, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", json.dumps(conn))


def test_an_untrusted_certificate_is_a_setup_error_and_nothing_is_created(tls_simulator, monkeypatch):
    sim, _ = tls_simulator
    use(monkeypatch, sim.url)
    before = sim.stats()["creates"]
    with pytest.raises(KlingConfigurationError, match="was not trusted.*extra 'verify'"):
        KlingHook().submit_generation("over https")
    assert sim.stats()["creates"] == before


async def test_an_untrusted_certificate_is_a_setup_error_for_async_polls_too(tls_simulator, monkeypatch):
    sim, _ = tls_simulator
    use(monkeypatch, sim.url)
    with pytest.raises(KlingConfigurationError, match="was not trusted"):
        await KlingHook().aget_generation("anything")


@pytest.mark.parametrize("verify", ["bundle", False, "false"])
async def test_verify_extra_trusts_a_ca_bundle_or_turns_checks_off(tls_simulator, monkeypatch, verify):
    sim, cert = tls_simulator
    use(monkeypatch, sim.url, verify=cert if verify == "bundle" else verify)
    hook = KlingHook()
    generation_id = await asyncio.to_thread(hook.submit_generation, "over https")
    assert (await hook.aget_generation(generation_id)).id == generation_id
    assert hook.get_generation(generation_id).id == generation_id
    assert Path(cert).exists()


def test_bad_verify_extra(monkeypatch):
    use(monkeypatch, "https://example.invalid", verify=3)
    with pytest.raises(KlingConfigurationError, match="'verify' must be true, false or a CA bundle path"):
        KlingHook().settings  # noqa: B018


def test_a_tls_failure_after_the_create_was_sent_never_sends_it_again(simulator, tmp_path, monkeypatch):
    cert, key = make_certificate(tmp_path)
    with TlsMiddlebox(simulator.url, cert, key) as middlebox:  # the create is made, its answer broken
        use(monkeypatch, middlebox.url, verify=cert)
        try:
            KlingHook().submit_generation("a lighthouse at dusk")
        except Exception as err:  # the outcome under test is what was paid for
            print(f"{type(err).__name__}: {err}")
    assert simulator.stats()["creates"] == 1


def test_a_create_whose_tls_answer_was_broken_is_an_unknown_outcome_the_request_log_resolves(
    simulator, tmp_path, monkeypatch
):
    cert, key = make_certificate(tmp_path)
    with TlsMiddlebox(simulator.url, cert, key) as middlebox:
        use(monkeypatch, middlebox.url, verify=cert)
        hook = KlingHook()
        request = hook._prepare({"prompt": "a lighthouse at dusk"})
        sent_at = time.time()
        with pytest.raises(KlingSubmissionUnknownError, match="failed after it was open") as excinfo:
            hook._create_generation(request, client_request_id="kling:t:tls-broken")
        found = hook.find_create("kling:t:tls-broken", model=request.model, sent_at=sent_at, sends=1, wait=0)
    assert excinfo.value.sends == 1
    assert found.succeeded
    assert simulator.stats()["creates"] == 1


def test_a_failed_tls_handshake_on_a_create_is_sent_again_and_pays_once(simulator, tmp_path, monkeypatch, capsys):
    cert, key = make_certificate(tmp_path)
    with TlsMiddlebox(simulator.url, cert, key, break_first_create=False, break_first_handshake=True) as middlebox:
        use(monkeypatch, middlebox.url, verify=cert)
        hook = KlingHook()
        generation_id = hook.submit_generation("a lighthouse at dusk")
        assert hook.get_generation(generation_id).id == generation_id
    assert middlebox.broken_handshakes == 1
    assert "TLS handshake with" in capsys.readouterr().out
    assert simulator.stats()["creates"] == 1
