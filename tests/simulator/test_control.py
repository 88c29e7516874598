"""The simulator's test hooks: what a test may ask of it besides the API."""

from __future__ import annotations

import requests

from harness.simulated import API_KEY

HEADERS = {"Authorization": f"Bearer {API_KEY}"}
PATH = "/v2/generate/video/kling/generation"
MODEL = "kling-video/v1.6/pro/text-to-video"


def create(simulator, prompt: str) -> str:
    response = requests.post(simulator.url + PATH, json={"model": MODEL, "prompt": prompt}, headers=HEADERS, timeout=10)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["id"])


def status(simulator, generation_id: str) -> str:
    params = {"generation_id": generation_id}
    return str(requests.get(simulator.url + PATH, params=params, headers=HEADERS, timeout=10).json()["status"])


def test_finish_ends_every_long_render_now_but_not_one_that_never_ends(simulator):
    simulator.configure(generation_seconds=600.0)
    long_renders = [create(simulator, f"a long render {n}") for n in range(2)]
    endless = create(simulator, "an endless render [sim:never]")
    assert {status(simulator, g) for g in [*long_renders, endless]} == {"queued"}

    assert simulator.finish_renders() == 2

    assert [status(simulator, g) for g in long_renders] == ["completed", "completed"]
    assert status(simulator, endless) == "queued"
    assert simulator.finish_renders() == 0
