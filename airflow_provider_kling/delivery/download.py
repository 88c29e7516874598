"""Streaming a signed video URL into a file: constant memory, hashed, verified, retried.

The CDN is not the API: no API key is sent to it, and its refusals (401/403/404/410) mean an
expired signature, which :mod:`.deliver` cures by fetching the generation again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, BinaryIO

from airflow_provider_kling.delivery.verify import SIGNATURE_BYTES, check_length, check_mp4_signature
from airflow_provider_kling.exceptions import KlingDownloadError, KlingVideoUrlRejected
from airflow_provider_kling.hooks import transport
from airflow_provider_kling.models.api_error import error_for_response
from airflow_provider_kling.models.media_values import redact_url
from airflow_provider_kling.retry import DEFAULT_RETRY_POLICY, RetryPolicy, RetryState

if TYPE_CHECKING:
    import requests

    from airflow_provider_kling.hooks.connection import ConnectionSettings
    from airflow_provider_kling.hooks.kling import KlingHook

DOWNLOAD_CHUNK_BYTES = 1 << 20
WHAT = "Video download"


@dataclass(frozen=True)
class DownloadResult:
    """A verified download: its size, SHA-256 and the Content-Type the CDN announced."""

    size: int
    sha256: str
    content_type: str | None


class VideoDownloader:
    """Downloads videos with a connection's timeouts and TLS settings and the shared retry policy.

    :param settings: the Kling connection's settings (timeouts, ``verify``); its key is not used.
    :param retry_policy: how cut-short or unreachable downloads are retried.
    :param log: where retries are logged.
    """

    def __init__(self, settings: ConnectionSettings, *, retry_policy: RetryPolicy | None = None, log: Any) -> None:
        self.settings = settings
        self.retry_policy = retry_policy or DEFAULT_RETRY_POLICY
        self.log = log

    @classmethod
    def for_hook(cls, hook: KlingHook) -> VideoDownloader:
        return cls(hook.settings, retry_policy=hook.retry_policy, log=hook.log)

    @cached_property
    def session(self) -> requests.Session:
        """Kept alive, and deliberately without an Authorization header."""
        return transport.cdn_session()

    def download(self, url: str, out: BinaryIO) -> DownloadResult:
        """Stream ``url`` into ``out`` in constant memory, verifying it; retried like any GET.

        :param url: the generation's ``video.url``.
        :param out: a seekable binary file; rewritten from the start on each attempt.
        :raises KlingVideoUrlRejected: 401/403/404/410 from the CDN (usually an expired signature).
        :raises KlingVideoContentError: the body is not an MP4.
        :raises KlingDownloadError: cut short or unreachable after the retry policy.
        """

        def attempt() -> DownloadResult:
            out.seek(0)
            out.truncate()
            return self._download_once(url, out)

        return transport.with_retries(attempt, RetryState(self.retry_policy), self.log)

    def _download_once(self, url: str, out: BinaryIO) -> DownloadResult:
        settings = self.settings
        with (
            transport.requests_errors(WHAT, str(redact_url(url)), error=KlingDownloadError),
            self.session.get(
                url, stream=True, timeout=(settings.connect_timeout, settings.read_timeout), verify=settings.verify
            ) as response,
        ):
            if response.status_code in (401, 403, 404, 410):
                raise KlingVideoUrlRejected(
                    f"The video URL was refused with HTTP {response.status_code} (expired or revoked signature)",
                    status_code=response.status_code,
                )
            if response.status_code >= 400:
                raise error_for_response(response.status_code, response.text, what=WHAT)
            length_header = response.headers.get("Content-Length")
            expected = int(length_header) if length_header and length_header.isdigit() else None
            content_type = response.headers.get("Content-Type")
            received, head, sha256 = _stream(response, out, content_type)
        check_mp4_signature(head, content_type)
        check_length(received, expected)
        out.flush()
        return DownloadResult(size=received, sha256=sha256, content_type=content_type)


def _stream(response: requests.Response, out: BinaryIO, content_type: str | None) -> tuple[int, bytes, str]:
    """Write every chunk, check the signature as soon as its bytes are in; return size, head, SHA-256."""
    from airflow_provider_kling.delivery.hashing import BackgroundHasher

    received = 0
    head = b""
    with BackgroundHasher() as digest:
        for chunk in response.iter_content(chunk_size=DOWNLOAD_CHUNK_BYTES):
            if len(head) < SIGNATURE_BYTES:
                head += chunk[: SIGNATURE_BYTES - len(head)]
                if len(head) >= SIGNATURE_BYTES:
                    check_mp4_signature(head, content_type)
            out.write(chunk)
            digest.update(chunk)
            received += len(chunk)
        return received, head, digest.hexdigest()
