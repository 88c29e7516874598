from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_provider_kling.exceptions import KlingAPIError, KlingServerError
from airflow_provider_kling.models.api_error import (
    error_for_response,
    parse_error_body,
    parse_retry_after,
    unknown_submission,
)

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, None),
        ("", None),
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("Thu, 01 Jan 2026 12:00:30 GMT", 30.0),
        ("Thu, 01 Jan 2026 11:59:00 GMT", 0.0),
        ("soon", None),
    ],
)
def test_parse_retry_after(value, seconds):
    assert parse_retry_after(value, now=NOW) == seconds


@pytest.mark.parametrize(
    ("body", "content_type", "message", "request_id"),
    [
        ('{"message": "prompt should not be empty", "requestId": "r1"}', None, "prompt should not be empty", "r1"),
        ('{"message": ["a", "b"], "statusCode": 400}', None, "a; b", None),
        ('{"error": {"message": "nested"}}', None, "nested", None),
        (
            "<html><head><title>502 Bad Gateway</title></head></html>",
            "text/html",
            "HTML error page: 502 Bad Gateway",
            None,
        ),
        ("  upstream   timed out  ", "text/plain", "upstream timed out", None),
        ("", None, "(empty response body)", None),
        ("x" * 400, None, "x" * 297 + "...", None),
    ],
)
def test_error_bodies_are_read_whatever_their_shape(body, content_type, message, request_id):
    parsed = parse_error_body(body, content_type)
    assert (parsed.message, parsed.request_id) == (message, request_id)


@pytest.mark.parametrize(
    ("status", "cls", "safe_to_resend"),
    [
        (400, KlingAPIError, None),
        (404, KlingAPIError, None),
        (429, KlingServerError, True),
        (500, KlingServerError, False),
        (503, KlingServerError, True),
    ],
)
def test_status_decides_permanent_or_transient(status, cls, safe_to_resend):
    error = error_for_response(status, "{}")
    assert type(error) is cls
    assert getattr(error, "safe_to_resend", None) is safe_to_resend


def test_messages_carry_hint_and_request_id():
    error = error_for_response(
        403, '{"message":"Insufficient credits","requestId":"req-9"}', what="Kling create request"
    )
    assert str(error) == (
        "Kling create request failed with HTTP 403: Insufficient credits (requestId req-9) "
        "-- the account is out of credits or not allowed to use this model"
    )
    assert error.request_id == "req-9"


def test_retry_after_is_read_from_the_header():
    error = error_for_response(429, "slow down", retry_after="12")
    assert error.retry_after == 12.0


def test_unknown_submission_says_why_it_is_not_retried():
    cause = error_for_response(502, "<html><title>502</title></html>", what="Kling create request")
    message = str(unknown_submission(cause))
    assert "may have been created and billed" in message
    assert "HTTP 502" in message


@pytest.mark.parametrize(
    ("status", "message", "not_served"),
    [
        (404, "Cannot POST /v2/generate/video/kling/generation", True),
        (404, "", True),
        (400, "model must be one of the following values: kling-video/v1/pro/text-to-video", True),
        (
            400,
            "Body validation error Invalid enum value. Expected 'kling-video/v1/standard/image-to-video', "
            "received 'klingai/kling-video-v1.6-pro-effects'",
            True,
        ),
        (400, "Model klingai/kling-video-v1.6-pro-effects is not supported on this endpoint", True),
        (400, "duration must be one of the following values: 5, 10", False),
        (400, "Body validation error Invalid enum value. Expected '16:9' | '9:16', received '4:3'", False),
        (400, "prompt should not be empty", False),
        (401, "model is not allowed for this key", False),
        (403, "model not supported on your plan", False),
        (500, "model not found", False),
        (502, "Bad Gateway", False),
        (504, "Generation timeout", False),
    ],
)
def test_only_a_refusal_of_the_model_or_path_counts_as_not_served(status, message, not_served):
    from airflow_provider_kling.models.api_error import refused_as_not_served

    assert refused_as_not_served(status, message, "klingai/kling-video-v1.6-pro-effects") is not_served


def test_a_url_the_api_quotes_loses_its_signature():
    body = '{"message": "Could not download https://shop.s3.amazonaws.com/mug.png?X-Amz-Signature=f00d: 403", "statusCode": 400}'
    message = parse_error_body(body).message
    assert message == "Could not download https://shop.s3.amazonaws.com/mug.png: 403"
