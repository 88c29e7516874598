"""Transport errors: what the log shows (never a signed URL's query) and whether a create may be resent."""

from __future__ import annotations

import pytest
import requests
from urllib3.exceptions import MaxRetryError

from airflow_provider_kling.exceptions import KlingConfigurationError, KlingConnectionError
from airflow_provider_kling.hooks.transport import describe_transport_error, tls_error

SIGNED_PATH = "/videos/x.mp4?expires=1&sig=f00d"


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (
            requests.ConnectionError(MaxRetryError(None, SIGNED_PATH, None)),  # urllib3 quotes the request
            "ConnectionError: None: Max retries exceeded with url: /videos/x.mp4 (Caused by None)",
        ),
        (
            requests.ConnectionError(f"bad answer from https://cdn.example.com{SIGNED_PATH}"),
            "ConnectionError: bad answer from https://cdn.example.com/videos/x.mp4",
        ),
    ],
)
def test_a_transport_error_is_described_without_the_query(error, shown):
    assert describe_transport_error(error) == shown


@pytest.mark.parametrize(
    ("detail", "in_handshake", "kind", "safe_to_resend"),
    [
        ("SSLError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", True, KlingConfigurationError, None),
        ("SSLError: [SSL: UNEXPECTED_MESSAGE] unexpected message", True, KlingConnectionError, True),
        ("SSLError: [SSL: DECRYPTION_FAILED_OR_BAD_RECORD_MAC] bad record mac", False, KlingConnectionError, False),
        ("SSLEOFError: EOF occurred in violation of protocol", False, KlingConnectionError, False),
    ],
)
def test_only_a_tls_failure_inside_the_handshake_is_safe_to_resend(detail, in_handshake, kind, safe_to_resend):
    error = tls_error("Kling create request", "https://api.example.com", detail, in_handshake=in_handshake)
    assert type(error) is kind
    assert getattr(error, "safe_to_resend", None) is safe_to_resend
