"""KlingHook: the only place that talks HTTP to the AI/ML API."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, BinaryIO

from airflow.sdk import BaseHook

from airflow_provider_kling.exceptions import (
    KlingConnectionError,
    KlingError,
    KlingResponseError,
    KlingTransientError,
)
from airflow_provider_kling.hooks.connection import ConnectionSettings, settings_from_connection
from airflow_provider_kling.models import Generation, build_create_body
from airflow_provider_kling.retry import (
    DEFAULT_RETRY_POLICY,
    RetryPolicy,
    RetryState,
    error_for_response,
    unknown_submission,
)

if TYPE_CHECKING:
    import aiohttp
    import requests

GENERATION_PATH = "/v2/generate/video/kling/generation"
UNIFIED_GENERATION_PATH = "/v2/video/generations"
PATHS = {"legacy": GENERATION_PATH, "unified": UNIFIED_GENERATION_PATH}
DOWNLOAD_CHUNK_BYTES = 1 << 20
#: Asked for by ``test_connection``: a key check that creates nothing and costs nothing.
CONNECTION_TEST_ID = "airflow-connection-test"


@dataclass(frozen=True)
class DownloadResult:
    """A verified download: its size, SHA-256 and the Content-Type the CDN announced."""

    size: int
    sha256: str
    content_type: str | None


class KlingHook(BaseHook):
    """
    Submit and follow Kling text-to-video generations on the AI/ML API.

    Sync calls use one kept-alive ``requests`` session per hook (idle sockets send TCP keep-alives,
    as the HTTP provider's sessions do); async calls share one ``aiohttp`` session per event loop,
    so a triggerer polling a thousand generations reuses a handful of connections. Both go through
    :mod:`airflow_provider_kling.retry`. Neither library is imported before it is used: a task
    process that only submits never loads aiohttp (about 0.2 CPU-seconds per task).

    .. seealso::
        The README's "Connection" section for setting up ``kling_default``.

    :param kling_conn_id: the Airflow connection holding the API key (password) and optional host.
    :param retry_policy: how transient failures are retried; the default gives about five minutes.
    """

    conn_name_attr = "kling_conn_id"
    default_conn_name = "kling_default"
    conn_type = "kling"
    hook_name = "Kling (AI/ML API)"

    def __init__(self, kling_conn_id: str = default_conn_name, *, retry_policy: RetryPolicy | None = None) -> None:
        super().__init__()
        self.kling_conn_id = kling_conn_id
        self.retry_policy = retry_policy or DEFAULT_RETRY_POLICY
        self._settings: ConnectionSettings | None = None
        self._aiohttp_options: dict[str, Any] | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Connection form: only what a Kling connection uses, with helpful labels."""
        return {
            "hidden_fields": ["schema", "login", "port", "extra"],
            "relabeling": {"password": "API key", "host": "API base URL"},
            "placeholders": {
                "password": "your AI/ML API key",
                "host": "https://api.aimlapi.com (leave empty for the default)",
            },
        }

    # -- connection ---------------------------------------------------------------------------

    @property
    def settings(self) -> ConnectionSettings:
        """Settings read from the connection, once per hook; the key is registered for masking."""
        if self._settings is None:
            self._settings = self._read_settings(self.get_connection(self.kling_conn_id))
        return self._settings

    async def asettings(self) -> ConnectionSettings:
        """Async :attr:`settings`: never blocks the event loop on the connection lookup."""
        if self._settings is None:
            self._settings = self._read_settings(await self._aget_connection())
        return self._settings

    async def _aget_connection(self) -> Any:
        getter = getattr(type(self), "aget_connection", None)
        if getter is not None:
            try:
                return await getter(self.kling_conn_id)
            except ImportError:
                # Airflow 3.1's async lookup needs the triggerer's supervisor channel; outside a
                # triggerer (tests, scripts) use the sync lookup, off the event loop.
                pass
        return await asyncio.to_thread(self.get_connection, self.kling_conn_id)

    @staticmethod
    def _read_settings(conn: Any) -> ConnectionSettings:
        settings = settings_from_connection(conn)
        _mask(settings.api_key)
        return settings

    def _headers(self, settings: ConnectionSettings) -> dict[str, str]:
        from airflow_provider_kling import __version__

        return {
            "Authorization": f"Bearer {settings.api_key}",
            "Accept": "application/json",
            "User-Agent": f"airflow-provider-kling/{__version__}",
        }

    @cached_property
    def session(self) -> requests.Session:
        """One ``requests`` session per hook: kept alive, authenticated."""
        session = _kept_alive_session()
        session.headers.update(self._headers(self.settings))
        return session

    def get_conn(self) -> requests.Session:
        """Return the hook's authenticated ``requests`` session."""
        return self.session

    # -- API ----------------------------------------------------------------------------------

    def submit_generation(self, prompt: str | None = None, *, allow_unknown_model: bool = False, **params: Any) -> str:
        """Validate the parameters, create one generation and return its id.

        Never sends a second create request unless the first provably created nothing.

        :param prompt: the text prompt.
        :param allow_unknown_model: accept a model this provider version does not know.
        :param params: any other request field (``model``, ``duration``, ``aspect_ratio``...).
        :raises KlingValidationError: before any request, on bad input.
        :raises KlingSubmissionUnknownError: when the request failed after being sent.
        """
        body = build_create_body({"prompt": prompt, **params}, allow_unknown_model=allow_unknown_model)
        return self.submit_body(body)

    def submit_body(self, body: Mapping[str, Any]) -> str:
        """Send an already validated create body; return the generation id."""
        from airflow_provider_kling.models import body_for_endpoint

        endpoint = self.settings.endpoint
        payload = self._request(
            "POST",
            PATHS[endpoint],
            json=body_for_endpoint(body, endpoint),
            idempotent=False,
            what="Kling create request",
        )
        try:
            return Generation.from_api(payload).id
        except KlingResponseError as err:
            raise unknown_submission(err) from err

    def get_generation(self, generation_id: str, *, deadline: float | None = None) -> Generation:
        """Fetch one generation's current state.

        :param generation_id: the id returned by :meth:`submit_generation`.
        :param deadline: a ``time.monotonic()`` instant no retry wait may pass.
        """
        payload = self._request("GET", None, **_status_request(generation_id, deadline))
        return Generation.from_api(payload, requested_id=generation_id)

    async def aget_generation(self, generation_id: str, *, deadline: float | None = None) -> Generation:
        """Async :meth:`get_generation`, on the event loop's shared session; never blocks the loop."""
        payload = await self._arequest("GET", None, **_status_request(generation_id, deadline))
        return Generation.from_api(payload, requested_id=generation_id)

    def wait_for_generation(
        self, generation_id: str, *, end_time: float, poll_interval: float, started: float | None = None
    ) -> dict[str, Any]:
        """Block until the generation finishes (for non-deferrable use); return it as XCom data.

        :param generation_id: the generation to wait for.
        :param end_time: absolute deadline, epoch seconds.
        :param poll_interval: seconds between polls.
        :param started: epoch seconds when waiting began, for elapsed-time logs.
        :raises KlingGenerationFailed: on ``status: error``.
        :raises KlingWaitTimeout: when ``end_time`` passes first.
        """
        from airflow_provider_kling.exceptions import KlingWaitTimeout
        from airflow_provider_kling.waiting import (
            WaitProgress,
            delay_after,
            result_from_generation,
            timeout_event,
        )

        progress = WaitProgress(generation_id, started or time.time(), failure_budget=self.retry_policy.budget)
        last: Generation | None = None
        while (remaining := end_time - time.time()) > 0:
            poll_started = time.time()
            try:
                last = self.get_generation(generation_id, deadline=time.monotonic() + remaining)
            except KlingError as err:
                if progress.poll_failed(err, time.time()):
                    raise
                self.log.warning("Polling generation %s failed, will keep trying: %s", generation_id, err)
            else:
                for line in progress.observe(last, time.time()):
                    self.log.info("%s", line)
                result = result_from_generation(last)
                if result is not None:
                    return result
            now = time.time()
            time.sleep(delay_after(progress, poll_interval, end_time - now, now, poll_started=poll_started))
        raise KlingWaitTimeout(timeout_event(generation_id, time.time() - progress.started, last)["message"])

    def download_video(self, url: str, out: BinaryIO) -> DownloadResult:
        """Stream a video URL into ``out`` in constant memory, verifying it; retried like any GET.

        The URL is a signed CDN link: the API key is never sent with it.

        :param url: the generation's ``video.url``.
        :param out: a seekable binary file; rewritten from the start on each attempt.
        :raises KlingVideoUrlRejected: 401/403/404/410 from the CDN (usually an expired signature).
        :raises KlingVideoContentError: the body is not an MP4.
        :raises KlingDownloadError: cut short or unreachable after the retry policy.
        """
        from airflow_provider_kling.exceptions import KlingVideoContentError

        state = RetryState(self.retry_policy)
        while True:
            out.seek(0)
            out.truncate()
            try:
                return self._download_once(url, out)
            except KlingVideoContentError:
                raise
            except KlingTransientError as err:
                decision = state.after_failure(err)
                if not decision.retry:
                    raise
                self.log.warning("%s (%s)", err, decision.reason)
                time.sleep(decision.delay)

    @cached_property
    def cdn_session(self) -> requests.Session:
        """A session for video downloads: keep-alive, and deliberately no Authorization header."""
        session = _kept_alive_session()
        session.headers["User-Agent"] = self._headers(self.settings)["User-Agent"]
        return session

    def _download_once(self, url: str, out: BinaryIO) -> DownloadResult:
        import requests

        from airflow_provider_kling.exceptions import KlingDownloadError, KlingVideoUrlRejected
        from airflow_provider_kling.models.video import SIGNATURE_BYTES, check_length, check_mp4_signature

        settings = self.settings
        try:
            with self.cdn_session.get(
                url, stream=True, timeout=(settings.connect_timeout, settings.read_timeout), verify=settings.verify
            ) as response:
                if response.status_code in (401, 403, 404, 410):
                    raise KlingVideoUrlRejected(
                        f"The video URL was refused with HTTP {response.status_code} (expired or revoked signature)",
                        status_code=response.status_code,
                    )
                if response.status_code >= 400:
                    raise error_for_response(response.status_code, response.text, what="Kling video download")
                length_header = response.headers.get("Content-Length")
                expected = int(length_header) if length_header and length_header.isdigit() else None
                content_type = response.headers.get("Content-Type")
                received = 0
                head = b""
                with _BackgroundHasher() as digest:
                    for chunk in response.iter_content(chunk_size=DOWNLOAD_CHUNK_BYTES):
                        if len(head) < SIGNATURE_BYTES:
                            head += chunk[: SIGNATURE_BYTES - len(head)]
                            if len(head) >= SIGNATURE_BYTES:
                                check_mp4_signature(head, content_type)
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                    sha256 = digest.hexdigest()
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as err:
            raise KlingDownloadError(f"Video download failed: {_describe_transport_error(err)}") from None
        check_mp4_signature(head, content_type)
        check_length(received, expected)
        out.flush()
        return DownloadResult(size=received, sha256=sha256, content_type=content_type)

    def test_connection(self) -> tuple[bool, str]:
        """Check the key with one authenticated status request for an id that does not exist.

        401/403 mean the key is wrong; a 404 (or 400) for the made-up id means the key works.
        """
        from airflow_provider_kling.exceptions import KlingAPIError

        try:
            self._request(
                "GET",
                None,
                params={"generation_id": CONNECTION_TEST_ID},
                what="Kling connection test",
                state=RetryState(RetryPolicy(max_attempts=1)),
            )
        except KlingAPIError as err:
            if err.status_code in (401, 403):
                return False, str(err)
            return True, f"API key accepted by {self.settings.base_url}"
        except KlingError as err:
            return False, str(err)
        return True, f"API key accepted by {self.settings.base_url}"

    # -- transport ----------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str | None,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        idempotent: bool = True,
        deadline: float | None = None,
        what: str,
        state: RetryState | None = None,
    ) -> Any:
        state = state or RetryState(self.retry_policy, idempotent=idempotent, deadline=deadline)
        settings = self.settings
        url = settings.base_url + (path or PATHS[settings.endpoint])
        while True:
            try:
                return self._send_once(method, url, params=params, json=json, settings=settings, what=what)
            except KlingTransientError as err:
                decision = state.after_failure(err)
                if not decision.retry:
                    raise self._final_error(err, idempotent) from err
                self.log.warning("%s (%s)", err, decision.reason)
                time.sleep(decision.delay)

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None,
        json: dict[str, Any] | None,
        settings: ConnectionSettings,
        what: str,
    ) -> Any:
        import requests

        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json,
                timeout=(settings.connect_timeout, settings.read_timeout),
                verify=settings.verify,  # per request: session-level verify paths are not reliably honoured
            )
        except requests.exceptions.SSLError as err:
            raise _tls_error(what, settings, _describe_transport_error(err)) from None
        except requests.ConnectionError as err:
            raise KlingConnectionError(
                f"{what} could not reach {settings.base_url}: {_describe_transport_error(err)}",
                safe_to_resend=_never_sent(err),
            ) from None
        except requests.Timeout as err:
            raise KlingConnectionError(f"{what} timed out: {_describe_transport_error(err)}") from None
        with response:
            if response.status_code >= 400:
                raise error_for_response(
                    response.status_code,
                    response.text,
                    content_type=response.headers.get("Content-Type"),
                    retry_after=response.headers.get("Retry-After"),
                    what=what,
                )
            return _decode_json(response.text, what)

    async def _arequest(
        self,
        method: str,
        path: str | None,
        *,
        params: dict[str, str] | None = None,
        deadline: float | None = None,
        what: str,
    ) -> Any:
        state = RetryState(self.retry_policy, idempotent=True, deadline=deadline)
        settings = await self.asettings()
        url = settings.base_url + (path or PATHS[settings.endpoint])
        while True:
            try:
                return await self._asend_once(method, url, params=params, settings=settings, what=what)
            except KlingTransientError as err:
                decision = state.after_failure(err)
                if not decision.retry:
                    raise
                self.log.warning("%s (%s)", err, decision.reason)
                await asyncio.sleep(decision.delay)

    def _aiohttp_request_options(self, settings: ConnectionSettings) -> dict[str, Any]:
        """Headers, timeouts and TLS for every async request, built once: the settings never change."""
        if self._aiohttp_options is None:
            import aiohttp

            timeout = aiohttp.ClientTimeout(
                total=settings.connect_timeout + settings.read_timeout,
                connect=settings.connect_timeout,
                sock_read=settings.read_timeout,
            )
            self._aiohttp_options = {
                "headers": self._headers(settings),
                "timeout": timeout,
                "ssl": _aiohttp_ssl(settings.verify),
            }
        return self._aiohttp_options

    async def _asend_once(
        self, method: str, url: str, *, params: dict[str, str] | None, settings: ConnectionSettings, what: str
    ) -> Any:
        from airflow_provider_kling.hooks.async_session import held_session, leased_session

        session = held_session()  # a waiting trigger holds it: the polling hot path
        if session is None:
            async with leased_session() as session:
                return await self._asend_on(session, method, url, params=params, settings=settings, what=what)
        return await self._asend_on(session, method, url, params=params, settings=settings, what=what)

    async def _asend_on(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None,
        settings: ConnectionSettings,
        what: str,
    ) -> Any:
        import aiohttp

        try:
            async with session.request(
                method, url, params=params, **self._aiohttp_request_options(settings)
            ) as response:
                text = await response.text(errors="replace")
                if response.status >= 400:
                    raise error_for_response(
                        response.status,
                        text,
                        content_type=response.headers.get("Content-Type"),
                        retry_after=response.headers.get("Retry-After"),
                        what=what,
                    )
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientConnectorSSLError) as err:
            raise _tls_error(what, settings, str(err)) from None
        except aiohttp.ClientConnectorError as err:
            raise KlingConnectionError(
                f"{what} could not reach {settings.base_url}: {err.os_error}", safe_to_resend=True
            ) from None
        except (aiohttp.ClientError, asyncio.TimeoutError) as err:
            raise KlingConnectionError(f"{what} failed: {type(err).__name__}: {err}".rstrip(": ")) from None
        return _decode_json(text, what)

    @staticmethod
    def _final_error(err: KlingTransientError, idempotent: bool) -> KlingError:
        if not idempotent and not err.safe_to_resend:
            return unknown_submission(err)
        return err


class _BackgroundHasher:
    """SHA-256 of download chunks, computed on a worker thread while the caller reads and writes.

    Hashing is the longest single step of a download; receiving and writing together take about as
    long. Splitting the work this way, rather than handing both hashing and writing to the worker,
    balances the two threads (``hashlib`` releases the GIL on large chunks); ``bench/download.py``
    measures it against ``curl -o``. The queue is bounded, so at most ``depth`` chunks wait and
    memory stays flat whatever the size.
    """

    def __init__(self, depth: int = 4) -> None:
        import hashlib
        import queue
        import threading

        self._digest = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._work, name="kling-download-hasher", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (chunk := self._queue.get()) is not None:
            self._digest.update(chunk)

    def update(self, chunk: bytes) -> None:
        self._queue.put(chunk)

    def hexdigest(self) -> str:
        """Wait for every chunk to be hashed; return the SHA-256 of all of them."""
        self._stop()
        return self._digest.hexdigest()

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def __enter__(self) -> _BackgroundHasher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop()  # also on errors: never leave a thread behind


#: TCP keep-alive on pooled sockets (idle 120 s, then every 30 s, 20 probes): the HTTP provider's
#: defaults. Between polls minutes apart, a NAT or load balancer would otherwise drop idle
#: connections silently and the next request would first hit a dead socket.
TCP_KEEPALIVE = {"TCP_KEEPIDLE": 120, "TCP_KEEPINTVL": 30, "TCP_KEEPCNT": 20}


def _kept_alive_session() -> requests.Session:
    import socket

    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection

    options = [*HTTPConnection.default_socket_options, (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    options += [
        (socket.IPPROTO_TCP, getattr(socket, name), value)
        for name, value in TCP_KEEPALIVE.items()
        if hasattr(socket, name)
    ]

    class KeepAliveAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **{**kwargs, "socket_options": options})

    session = requests.Session()
    adapter = KeepAliveAdapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _status_request(generation_id: str, deadline: float | None) -> dict[str, Any]:
    """The status request, the same for the sync and async calls."""
    return {"params": {"generation_id": generation_id}, "deadline": deadline, "what": "Kling status request"}


def _tls_error(what: str, settings: ConnectionSettings, detail: str) -> KlingError:
    """A failed TLS handshake: nothing reached the API. A refused certificate is a setup problem."""
    from airflow_provider_kling.exceptions import KlingConfigurationError

    if "CERTIFICATE_VERIFY_FAILED" in detail or "certificate verify failed" in detail:
        return KlingConfigurationError(
            f"{what}: the TLS certificate of {settings.base_url} was not trusted ({detail}). Check the host, or set "
            "the connection extra 'verify' to your CA bundle's path (e.g. behind a corporate proxy)."
        )
    return KlingConnectionError(f"{what}: TLS handshake with {settings.base_url} failed: {detail}", safe_to_resend=True)


_SSL_CONTEXTS: dict[str, Any] = {}


def _aiohttp_ssl(verify: bool | str) -> Any:
    """aiohttp's ``ssl`` argument for a ``verify`` setting (contexts cached per CA bundle)."""
    if verify is True:
        return True
    if verify is False:
        return False
    if verify not in _SSL_CONTEXTS:
        import ssl

        _SSL_CONTEXTS[verify] = ssl.create_default_context(cafile=verify)
    return _SSL_CONTEXTS[verify]


def _decode_json(text: str, what: str) -> Any:
    import json

    try:
        return json.loads(text)
    except ValueError:
        preview = " ".join(text.split())[:200] or "(empty body)"
        raise KlingResponseError(f"{what} returned a body that is not JSON: {preview}") from None


def _never_sent(err: Exception) -> bool:
    """True when ``requests`` failed before a connection existed, so nothing reached the API."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(err, requests.ConnectTimeout):
        return True
    reason = getattr(err.args[0], "reason", None) if err.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


def _describe_transport_error(err: Exception) -> str:
    reason = getattr(err.args[0], "reason", None) if err.args else None
    return f"{type(reason or err).__name__}: {reason or err}"


def _mask(secret: str) -> None:
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - older SDK layouts
        from airflow.sdk.execution_time.secrets_masker import mask_secret  # type: ignore[no-redef]
    mask_secret(secret)
