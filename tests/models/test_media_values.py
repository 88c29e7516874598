"""What a media value is, and how values are shown: never a signature, never inline data."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from airflow_provider_kling.models.media_values import (
    BASE64,
    DATA_URI,
    MISSPELT_DATA_URI,
    NOT_A_NAME,
    PATH,
    URL,
    inline_data,
    media_kind,
    media_value_problem,
    redact_url,
    scrub_queries,
    shown_parameters,
    shown_source,
)
from airflow_provider_kling.models.values import describe, preview_json

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 2
B64_PNG = base64.b64encode(PNG).decode()
B64_JPEG = base64.b64encode(JPEG).decode()  # starts "/9j/": looks like an absolute path
WRAPPED = base64.encodebytes(PNG).decode()  # line breaks every 76 characters, as `base64` prints it
SIGNED = "https://shop.s3.amazonaws.com/products/mug.png?X-Amz-Credential=AKIA&X-Amz-Signature=f00d"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (SIGNED, URL),
        ("HTTP://cdn.example.com/a.png", URL),
        (f"data:image/png;base64,{B64_PNG}", DATA_URI),
        (f"data:;base64,{B64_PNG}", DATA_URI),
        (f"data:image/png;name=mug.png;base64,{B64_PNG}\n", DATA_URI),
        (f" data:image/png;base64,{B64_PNG}", MISSPELT_DATA_URI),  # leading whitespace
        (f"\n\tdata:image/png;base64,{B64_PNG}", MISSPELT_DATA_URI),
        (f"DATA:image/png;base64,{B64_PNG}", MISSPELT_DATA_URI),  # upper case
        (f"Data:image/png;base64,{B64_PNG}", MISSPELT_DATA_URI),
        (f"data: image/png;base64,{B64_PNG}", MISSPELT_DATA_URI),  # whitespace inside
        (f"data:image/png; base64,{B64_PNG}", MISSPELT_DATA_URI),
        (f"da ta:image/png;base64,{B64_PNG}", MISSPELT_DATA_URI),
        (f"data:image/png;BASE64,{B64_PNG}", MISSPELT_DATA_URI),
        ("data:image/png,%89PNG%0D%0A", MISSPELT_DATA_URI),  # not base64: never read as a path
        (B64_PNG, BASE64),
        (B64_JPEG, BASE64),
        (WRAPPED, BASE64),
        (B64_PNG.replace("+", "-").replace("/", "_"), NOT_A_NAME),  # URL-safe base64: no file name that long
        ("/data/" + "a" * 300 + ".png", NOT_A_NAME),
        ("s3://bucket/" + "k" * 5000, NOT_A_NAME),
        ("/data/mug\x00.png", NOT_A_NAME),  # open() would raise ValueError, a retry storm
        ("/data/mug.png\n", NOT_A_NAME),
        ("/data/photos/mug.png", PATH),
        ("photos/mug.png", PATH),
        ("s3://aws_default@shop/products/mug.png", PATH),
        ("/9j/short.png", PATH),
        (Path("/data/mug.png"), PATH),
    ],
)
def test_every_media_value_is_one_kind(value, kind):
    assert media_kind(value) == kind


@pytest.mark.parametrize(
    ("value", "data"),
    [
        (f"data:image/png;base64,{B64_PNG}", PNG),
        (B64_PNG, PNG),
        (WRAPPED, PNG),
        (B64_PNG[:-4] + "A", None),  # one character too many: not valid base64, and not a path either
        (f" data:image/png;base64,{B64_PNG}", None),
        ("/data/photos/mug.png", None),
        (SIGNED, None),
    ],
)
def test_inline_data_is_decoded_only_from_a_data_uri_or_raw_base64(value, data):
    assert inline_data(value) == data


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (SIGNED, "https://shop.s3.amazonaws.com/products/mug.png"),
        ("https://user:secret@cdn.example.com:8443/a.png#frag", "https://cdn.example.com:8443/a.png"),
        (f"data:image/png;base64,{B64_PNG}", f"<inline data, {len(B64_PNG) + 22} characters>"),
        (B64_JPEG, f"<inline data, {len(B64_JPEG)} characters>"),
        (f"DATA:image/png;base64,{B64_PNG}", f"<inline data, {len(B64_PNG) + 22} characters>"),
        ("s3://aws_default@shop/mug.png", "s3://aws_default@shop/mug.png"),  # the connection id helps
        (Path("/data/mug.png"), "/data/mug.png"),
    ],
)
def test_a_media_value_is_shown_without_signature_or_data(value, shown):
    assert shown_source(value) == shown


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("https://cdn.x/a/b.mp4?expires=1&sig=secret", "https://cdn.x/a/b.mp4"),
        ("https://user:pass@cdn.x/a.mp4", "https://cdn.x/a.mp4"),
        ("http://[::1]:8080/v.mp4?sig=1", "http://[::1]:8080/v.mp4"),
        (None, None),
        ("", ""),
    ],
)
def test_redact_url_drops_query_fragment_and_user_info(url, redacted):
    assert redact_url(url) == redacted


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        (
            "HTTPSConnectionPool(host='cdn', port=443): Max retries exceeded with url: /v.mp4?expires=1&sig=abc "
            "(Caused by None)",
            "HTTPSConnectionPool(host='cdn', port=443): Max retries exceeded with url: /v.mp4 (Caused by None)",
        ),
        (f"could not fetch image_url {SIGNED}: 403", f"could not fetch image_url {redact_url(SIGNED)}: 403"),
        (f"'{SIGNED}'", f"'{redact_url(SIGNED)}'"),
        ("Is the prompt right? Yes", "Is the prompt right? Yes"),
        ("no URL here", "no URL here"),
    ],
)
def test_queries_are_scrubbed_from_free_text(text, scrubbed):
    assert scrub_queries(text) == scrubbed


def test_parameters_are_shown_without_signatures_or_data_at_any_depth():
    params = {
        "prompt": "a mug on a table",
        "multi_prompt": [{"prompt": "https://not.a.url/looks?like=one", "duration": 5}],
        "image_url": SIGNED,
        "elements": [{"frontal_image_url": B64_PNG, "reference_image_urls": (SIGNED,)}],
        "duration": 5,
    }
    assert shown_parameters(params) == {
        "prompt": "a mug on a table",
        "multi_prompt": [{"prompt": "https://not.a.url/looks?like=one", "duration": 5}],  # prompts as given
        "image_url": redact_url(SIGNED),
        "elements": [
            {
                "frontal_image_url": f"<inline data, {len(B64_PNG)} characters>",
                "reference_image_urls": (redact_url(SIGNED),),
            }
        ],
        "duration": 5,
    }


@pytest.mark.parametrize("value", [SIGNED, B64_PNG, [SIGNED], {"image_url": B64_PNG}])
def test_an_error_message_never_quotes_a_signature_or_inline_data(value):
    for text in (describe(value), preview_json(value)):
        assert "f00d" not in text
        assert "AKIA" not in text
        assert B64_PNG[:20] not in text


@pytest.mark.parametrize(
    "value",
    [f" data:image/png;base64,{B64_PNG}", f"DATA:image/png;base64,{B64_PNG}", "x-" * 150],
)
def test_a_value_that_cannot_be_media_is_named_by_model_and_field_not_echoed(value):
    problem = media_value_problem("kling-video/v1.6/pro/image-to-video", "image_url", value)
    assert problem is not None
    assert problem.startswith("image_url of kling-video/v1.6/pro/image-to-video (<inline data, ")
    assert value.strip()[:40] not in problem


@pytest.mark.parametrize("value", [SIGNED, B64_PNG, f"data:image/png;base64,{B64_PNG}", "/data/mug.png", Path("/x")])
def test_a_readable_media_value_has_no_problem(value):
    assert media_value_problem("kling-video/v1.6/pro/image-to-video", "image_url", value) is None
