"""The simulator against the API's own OpenAPI files: what it answers has the documented shape,
and it accepts exactly the documented request values. Skipped where ``shared/api`` is absent."""

from __future__ import annotations

import time

import jsonschema
import pytest
import requests

from harness.openapi import SHARED_API, operation_schema
from harness.simulated import API_KEY

pytestmark = pytest.mark.skipif(not SHARED_API.exists(), reason=f"the API's OpenAPI files are not at {SHARED_API}")

LEGACY = "/v2/generate/video/kling/generation"
UNIFIED = "/v2/video/generations"
FETCH_SPECS = {
    LEGACY: "kling-generation.fetch.current.openapi.json",
    UNIFIED: "video-generations.fetch.current.openapi.json",
}
HEADERS = {"Authorization": f"Bearer {API_KEY}"}
MODEL = "kling-video/v1.6/pro/text-to-video"


def create(simulator, body: dict, path: str = LEGACY) -> requests.Response:
    return requests.post(simulator.url + path, json=body, headers=HEADERS, timeout=10)


def fetch(simulator, generation_id: str, path: str = LEGACY) -> dict:
    response = requests.get(simulator.url + path, params={"generation_id": generation_id}, headers=HEADERS, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def bodies_until_done(simulator, prompt: str, path: str) -> dict[str, dict]:
    """One fetch body per status the generation goes through, keyed by status."""
    generation_id = create(simulator, {"model": MODEL, "prompt": prompt}, path).json()["id"]
    seen: dict[str, dict] = {}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        body = fetch(simulator, generation_id, path)
        seen.setdefault(body["status"], body)
        if body["status"] in ("completed", "error"):
            return seen
        time.sleep(0.1)
    raise AssertionError(f"never finished: {seen}")


@pytest.mark.parametrize("path", [LEGACY, UNIFIED])
def test_every_status_body_matches_the_fetch_schema(simulator, path):
    simulator.configure(generation_seconds=2.0)
    schema = operation_schema(FETCH_SPECS[path], path, "get")
    seen = {
        **bodies_until_done(simulator, "contract", path),
        **bodies_until_done(simulator, "contract [sim:error]", path),
    }
    assert set(seen) == {"queued", "generating", "completed", "error"}
    for body in seen.values():
        jsonschema.validate(body, schema)


def test_a_create_answered_200_matches_the_create_schema(simulator):
    simulator.configure(create_status=200)
    response = create(simulator, {"model": MODEL, "prompt": "contract"})
    assert response.status_code == 200
    jsonschema.validate(
        response.json(), operation_schema("kling-generation.create.current.openapi.json", LEGACY, "post")
    )


def documented_values() -> list[tuple[str, object]]:
    if not SHARED_API.exists():  # collected in a clone without the API's files: the module is skipped
        return []
    properties = operation_schema("kling-generation.create.current.openapi.json", LEGACY, "post", "request")[
        "properties"
    ]
    return [(name, value) for name in ("aspect_ratio", "duration") for value in properties[name]["enum"]]


@pytest.mark.parametrize(("field", "value"), documented_values())
def test_every_documented_value_is_accepted(simulator, field, value):
    assert create(simulator, {"model": MODEL, "prompt": "contract", field: value}).status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("aspect_ratio", "4:3"),
        ("duration", 7),
        ("cfg_scale", 1.5),
        ("cfg_scale", -0.1),
        ("model", "kling-video/v9/text-to-video"),
    ],
)
def test_a_value_outside_the_schema_is_a_nestjs_400(simulator, field, value):
    schema = operation_schema("kling-generation.create.current.openapi.json", LEGACY, "post", "request")
    with pytest.raises(jsonschema.ValidationError):  # the spec itself refuses it...
        jsonschema.validate({"model": MODEL, "prompt": "contract", field: value}, schema)
    response = create(simulator, {"model": MODEL, "prompt": "contract", field: value})
    assert response.status_code == 400  # ...and so does the simulator, in the API's error shape
    assert {"message", "path", "requestId", "statusCode", "timestamp"} <= set(response.json())
    assert simulator.stats()["creates"] == 0


def model_answer_schema(spec) -> dict:
    """The create answer the model's own file documents, read from that file (not the catalog)."""
    source = spec.endpoints["unified"].source
    name = source if (SHARED_API / source).exists() else f"kling-models/{source}"
    return operation_schema(name, UNIFIED, "post")


def unified_specs():
    from airflow_provider_kling.models.catalog import list_models

    return list_models()


@pytest.mark.parametrize("spec", unified_specs(), ids=[spec.id for spec in unified_specs()])
def test_each_model_answers_in_the_shape_its_own_file_documents(simulator, spec):
    from harness.inputs import IMAGE_URL, minimal_params

    simulator.configure(generation_seconds=0.2)
    schema = model_answer_schema(spec)
    response = create(simulator, minimal_params(spec, IMAGE_URL, endpoint="unified"), UNIFIED)
    assert response.status_code == 200, response.text
    created = response.json()
    jsonschema.validate(created, schema)
    assert created["meta"]["usage"]["credits_used"] > 0  # the create answer already carries usage
    time.sleep(0.3)
    finished = fetch(simulator, created["id"], UNIFIED)
    assert finished["status"] == "completed"
    jsonschema.validate(finished, schema)
    usage_required = schema["properties"]["meta"]["anyOf"][0]["properties"]["usage"]["anyOf"][0].get("required", [])
    assert set(usage_required) <= set(finished["meta"]["usage"])


def test_a_model_no_legacy_operation_documents_is_refused_on_the_legacy_path(simulator):
    response = create(simulator, {"model": "klingai/kling-video-v1.6-pro-effects", "image_url": "https://x/a.png"})
    assert response.status_code == 400
    assert "model must be one of the following values" in str(response.json()["message"])
    assert simulator.stats()["creates"] == 0
