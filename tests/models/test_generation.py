from __future__ import annotations

import json

import pytest

from airflow_provider_kling.exceptions import KlingResponseError
from airflow_provider_kling.models import (
    Generation,
    GenerationStatus,
    describe_generation_error,
    parse_error_body,
    redact_url,
)

STATUS_TABLE = [
    ("queued", GenerationStatus.QUEUED),
    ("generating", GenerationStatus.GENERATING),
    ("completed", GenerationStatus.COMPLETED),
    ("error", GenerationStatus.ERROR),
    ("waiting", GenerationStatus.QUEUED),
    ("active", GenerationStatus.GENERATING),
    ("processing", GenerationStatus.GENERATING),
    ("succeeded", GenerationStatus.COMPLETED),
    ("success", GenerationStatus.COMPLETED),
    ("failed", GenerationStatus.ERROR),
    ("COMPLETED", GenerationStatus.COMPLETED),
    (" Queued ", GenerationStatus.QUEUED),
    ("rendering", GenerationStatus.UNKNOWN),
    ("", GenerationStatus.UNKNOWN),
    (None, GenerationStatus.UNKNOWN),
    (3, GenerationStatus.UNKNOWN),
]


@pytest.mark.parametrize(("raw", "expected"), STATUS_TABLE)
def test_status_spellings(raw, expected):
    assert GenerationStatus.from_api(raw) is expected


@pytest.mark.parametrize(
    ("status", "terminal"),
    [(s, s in (GenerationStatus.COMPLETED, GenerationStatus.ERROR)) for s in GenerationStatus],
)
def test_only_completed_and_error_are_terminal(status, terminal):
    assert status.is_terminal is terminal


def test_full_2025_11_body():
    generation = Generation.from_api(
        {
            "id": "60ac7c34:kling-video/v1.6/pro/text-to-video",
            "status": "completed",
            "video": {"url": "https://cdn.example/v.mp4?sig=abc", "duration": 5},
            "duration": 5,
            "error": None,
            "meta": {"usage": {"tokens_used": 120}},
        }
    )
    assert generation.id == "60ac7c34:kling-video/v1.6/pro/text-to-video"
    assert generation.is_finished
    assert generation.video_url == "https://cdn.example/v.mp4?sig=abc"
    assert generation.duration == 5.0
    assert generation.usage == {"tokens_used": 120.0}


def test_unified_body_with_error_object_and_credits():
    generation = Generation.from_api(
        {
            "id": "zieO13nuA445by0d1Ozvq",
            "status": "error",
            "video": None,
            "error": {"name": "ContentPolicy", "message": "prompt rejected"},
            "meta": {"usage": {"credits_used": 0, "usd_spent": 0.0}},
        }
    )
    assert generation.status is GenerationStatus.ERROR
    assert generation.is_finished
    assert generation.error == "ContentPolicy: prompt rejected"
    assert generation.usage == {"credits_used": 0.0, "usd_spent": 0.0}


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "1", "status": "completed"},  # no video at all
        {"id": "1", "status": "completed", "video": None},
        {"id": "1", "status": "completed", "video": {"url": ""}},
        {"id": "1", "status": "completed", "video": "not-a-dict"},
    ],
)
def test_completed_without_url_is_not_finished(payload):
    generation = Generation.from_api(payload)
    assert generation.status is GenerationStatus.COMPLETED
    assert not generation.is_finished


def test_missing_meta_and_odd_usage_are_tolerated():
    generation = Generation.from_api({"id": 7, "status": "queued", "meta": {"usage": {"tokens_used": "many"}}})
    assert generation.id == "7"
    assert generation.to_xcom()["usage"] == {"tokens_used": "nan"}  # stated, not a number: its cost is unknown
    assert generation.to_xcom()["cost"] == "unknown"
    assert Generation.from_api({"id": 7, "status": "queued", "meta": "odd"}).usage == {}


# The bad figures of the issue as the API's JSON text carries them, and how XCom keeps each one.
BAD_USAGE_JSON = [
    ("NaN", "nan"),
    ("Infinity", "inf"),
    ("-Infinity", "-inf"),
    ("1e999", "inf"),
    ("-1", "-1"),
    ('"0.5"', "nan"),
    ("true", "nan"),
]


@pytest.mark.parametrize(("text", "kept"), BAD_USAGE_JSON)
@pytest.mark.parametrize("key", ["tokens_used", "credits_used", "usd_spent"])
def test_a_bad_usage_figure_reaches_xcom_as_unknown_without_crashing(key, text, kept):
    body = '{"id": "g", "status": "completed", "video": {"url": "https://cdn/v.mp4"}, "duration": 5, '
    body += f'"meta": {{"usage": {{"{key}": {text}}}}}}}'
    result = Generation.from_api(json.loads(body)).to_xcom()
    assert result["usage"] == {key: kept}
    assert result["cost"] == "unknown"
    json.dumps(result, allow_nan=False)  # JSON-safe: no NaN or Infinity reaches XCom


def test_a_null_usage_figure_is_not_reported():
    generation = Generation.from_api({"id": "g", "status": "completed", "meta": {"usage": {"usd_spent": None}}})
    assert (generation.usage, generation.to_xcom()["cost"]) == ({}, None)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "1e999", "-5", '"5"'])
def test_a_duration_that_is_not_a_finite_number_is_not_reported(text):
    generation = Generation.from_api(json.loads(f'{{"id": "g", "status": "completed", "duration": {text}}}'))
    assert generation.duration is None
    json.dumps(generation.to_xcom(), allow_nan=False)


def test_create_response_with_generation_id_only():
    assert Generation.from_api({"generation_id": "abc", "status": "queued"}).id == "abc"


def test_requested_id_fills_a_missing_id():
    assert Generation.from_api({"status": "queued"}, requested_id="x").id == "x"


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (["not", "an", "object"], "list where a JSON object was expected"),
        ("text", "str where a JSON object was expected"),
        (None, "NoneType"),
        ({"status": "queued"}, "no generation id"),
        ({"id": "1"}, "no status"),
        ({"id": {"nested": 1}, "status": "queued"}, "no generation id"),
    ],
)
def test_unusable_bodies_raise_a_clear_transient_error(payload, fragment):
    with pytest.raises(KlingResponseError, match=fragment):
        Generation.from_api(payload)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (None, None),
        ("", None),
        ({}, None),
        ("quota exceeded", "quota exceeded"),
        ({"name": "E", "message": "m"}, "E: m"),
        ({"message": "only message"}, "only message"),
        ({"name": "OnlyName"}, "OnlyName"),
        ({"code": 5}, '{"code": 5}'),
        (["a", "b"], '["a", "b"]'),
        (42, "42"),
    ],
)
def test_error_descriptions(error, expected):
    assert describe_generation_error(error) == expected


def test_xcom_summary_is_json_safe():
    import json

    generation = Generation.from_api(
        {"id": "g", "status": "completed", "video": {"url": "https://x/v.mp4"}, "meta": {"usage": {"tokens_used": 3}}}
    )
    assert json.loads(json.dumps(generation.to_xcom())) == {
        "id": "g",
        "status": "completed",
        "video_url": "https://x/v.mp4",
        "video_urls": ["https://x/v.mp4"],
        "duration": None,
        "usage": {"tokens_used": 3.0},
        "cost": {"usd": 1.5e-06, "credits": 3},
        "error": None,
    }


def test_redact_url_drops_the_signature():
    assert redact_url("https://cdn.x/a/b.mp4?expires=1&sig=secret") == "https://cdn.x/a/b.mp4"
    assert redact_url(None) is None


@pytest.mark.parametrize(
    ("text", "content_type", "message", "request_id"),
    [
        ('{"message":"Unauthorized","statusCode":401,"requestId":"r1"}', "application/json", "Unauthorized", "r1"),
        (
            '{"message":["prompt should not be empty","model must be"],"statusCode":400}',
            None,
            "prompt should not be empty; model must be",
            None,
        ),
        (
            "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            "text/html",
            "HTML error page: 502 Bad Gateway",
            None,
        ),
        ("<!DOCTYPE html><p>oops</p>", None, "HTML error page: oops", None),
        ("upstream connect error", "text/plain", "upstream connect error", None),
        ("", None, "(empty response body)", None),
        ('{"error": "bad"}', None, "bad", None),
    ],
)
def test_error_bodies(text, content_type, message, request_id):
    parsed = parse_error_body(text, content_type)
    assert parsed.message == message
    assert parsed.request_id == request_id


def test_huge_error_bodies_are_shortened():
    assert len(parse_error_body("x" * 10_000).message) == 300


@pytest.mark.parametrize(
    "error",
    [
        "image_url https://shop.s3.amazonaws.com/mug.png?X-Amz-Signature=f00d could not be fetched",
        {"name": "FetchError", "message": "https://shop.s3.amazonaws.com/mug.png?X-Amz-Signature=f00d: 403"},
        [{"detail": "https://shop.s3.amazonaws.com/mug.png?X-Amz-Signature=f00d"}],
    ],
)
def test_a_generation_error_quoting_an_input_url_loses_its_signature(error):
    line = describe_generation_error(error)
    assert "https://shop.s3.amazonaws.com/mug.png" in line
    assert "f00d" not in line
