"""Every answer shape the API documents, for every model, read by ``Generation``.

Bodies are generated from the answer schemas in the catalog (each model's create answer on each of
its paths, and both fetch answers) by ``hypothesis-jsonschema``; whatever a schema allows, the
parser must not raise, must report the status the body gives, and must find the URL of a
completed video (an object ``{url}`` or every URL of an array of them).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis_jsonschema import from_schema

from airflow_provider_kling.exceptions import KlingResponseError
from airflow_provider_kling.models import Generation, GenerationStatus
from airflow_provider_kling.models.catalog import fetch_answer, list_models, nullable_as_null


def documented_answers() -> dict[str, list[str]]:
    """Each distinct answer schema (as JSON text) -> where it is documented."""
    found: dict[str, list[str]] = {}
    for spec in list_models():
        for endpoint, schema in spec.endpoints.items():
            if schema.answer is not None:
                found.setdefault(json.dumps(schema.answer, sort_keys=True), []).append(f"{spec.id} create ({endpoint})")
    for endpoint in ("legacy", "unified"):
        found.setdefault(json.dumps(fetch_answer(endpoint), sort_keys=True), []).append(f"{endpoint} fetch")
    return found


ANSWERS = documented_answers()


def test_every_model_documents_an_answer_on_the_unified_path():
    places = [place for sources in ANSWERS.values() for place in sources]
    assert len([p for p in places if p.endswith("create (unified)")]) == len(list_models()) == 44
    assert {"legacy fetch", "unified fetch"} <= set(places)
    # The legacy creates document no body (201) except the seed's current file.
    assert "kling-video/v1.6/pro/text-to-video create (legacy)" in places


def urls_in(video):
    items = video if isinstance(video, list) else [video]
    return [
        item["url"] for item in items if isinstance(item, dict) and isinstance(item.get("url"), str) and item["url"]
    ]


@pytest.mark.parametrize("schema_text", list(ANSWERS), ids=[sources[0] for sources in ANSWERS.values()])
def test_the_parser_reads_every_documented_answer(schema_text):
    schema = nullable_as_null(json.loads(schema_text))

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(from_schema(schema))
    def check(body):
        generation = Generation.from_api(body, requested_id="asked-for")
        # The schemas allow an empty id; a fetch knows the id it asked for.
        assert generation.id == (body["id"] or "asked-for")
        assert generation.raw_status == body["status"]
        assert generation.status is GenerationStatus(body["status"])
        assert list(generation.video_urls) == urls_in(body.get("video"))
        assert generation.video_url == (urls_in(body.get("video")) or [None])[0]
        if body["status"] == "completed" and generation.video_url:
            assert generation.is_finished
        if body["id"]:
            assert Generation.from_create_answer(body).id == body["id"]
        else:  # a create answer without an id cannot say which (paid) generation was made
            with pytest.raises(KlingResponseError):
                Generation.from_create_answer(body)

    check()


@pytest.mark.parametrize(
    ("video", "urls"),
    [
        ({"url": "https://cdn/a.mp4"}, ("https://cdn/a.mp4",)),
        ([{"url": "https://cdn/a.mp4"}, {"url": "https://cdn/b.mp4"}], ("https://cdn/a.mp4", "https://cdn/b.mp4")),
        ([], ()),
        (None, ()),
        ([{"nope": 1}, "x", {"url": ""}], ()),
    ],
)
def test_video_as_an_object_an_array_or_null(video, urls):
    generation = Generation.from_api({"id": "g", "status": "completed", "video": video})
    assert generation.video_urls == urls
    assert generation.video_url == (urls[0] if urls else None)
    assert generation.is_finished == bool(urls)


def test_usage_of_the_omni_and_motion_control_answers_keeps_usd_spent_beside_credits():
    body = {"id": "g", "status": "queued", "meta": {"usage": {"credits_used": 3900000, "usd_spent": 1.95}}}
    assert Generation.from_create_answer(body).usage == {"credits_used": 3900000.0, "usd_spent": 1.95}


def test_a_create_answer_with_only_an_id_is_a_queued_generation():
    # The 2025-09 spec documents a 201 with no body schema at all.
    generation = Generation.from_create_answer({"id": "g-1"})
    assert (generation.id, generation.status, generation.usage) == ("g-1", GenerationStatus.QUEUED, {})
