"""Transport errors as the log shows them: what went wrong, never a signed URL's query."""

from __future__ import annotations

import pytest
import requests
from urllib3.exceptions import MaxRetryError

from airflow_provider_kling.hooks.transport import describe_transport_error

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
