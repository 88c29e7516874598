"""What every request of the provider shares: headers, sessions, TLS, error translation, the retry loop.

Used by the sync hook (:mod:`.kling`), the async hook (:mod:`.kling_async`) and the video download
(:mod:`airflow_provider_kling.delivery.download`). ``requests`` and ``aiohttp`` are imported where
they are used, so a process that only needs one never loads the other.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_kling import __version__
from airflow_provider_kling.exceptions import (
    KlingConfigurationError,
    KlingConnectionError,
    KlingError,
    KlingResponseError,
    KlingTransientError,
)
from airflow_provider_kling.hooks.connection import ConnectionSettings, settings_from_connection
from airflow_provider_kling.models.media_values import scrub_queries

if TYPE_CHECKING:
    import logging

    import requests

    from airflow_provider_kling.retry import RetryState

T = TypeVar("T")

#: TCP keep-alive on pooled sockets (idle 120 s, then every 30 s, 20 probes): the HTTP provider's
#: defaults. Between polls minutes apart, a NAT or load balancer would otherwise drop idle
#: connections silently and the next request would first hit a dead socket.
TCP_KEEPALIVE_IDLE, TCP_KEEPALIVE_INTERVAL, TCP_KEEPALIVE_COUNT = 120, 30, 20
STATUS_REQUEST = "Kling status request"


def read_settings(conn: Any) -> ConnectionSettings:
    """Read a connection and register its API key with Airflow's secrets masker."""
    settings = settings_from_connection(conn)
    mask_secret(settings.api_key)
    return settings


def user_agent() -> str:

    return f"airflow-provider-kling/{__version__}"


def api_headers(settings: ConnectionSettings) -> dict[str, str]:
    """Headers of every API request (never of a video download: the CDN gets no key)."""
    return {
        "Authorization": f"Bearer {settings.api_key}",
        "Accept": "application/json",
        "User-Agent": user_agent(),
    }


def keep_alive_adapter() -> Any:
    """The HTTP provider's TCP keep-alive adapter, with its defaults."""
    from requests_toolbelt.adapters.socket_options import TCPKeepAliveAdapter

    return TCPKeepAliveAdapter(idle=TCP_KEEPALIVE_IDLE, interval=TCP_KEEPALIVE_INTERVAL, count=TCP_KEEPALIVE_COUNT)


class _NoUrlQueries(logging.Filter):
    """Drops the query (a signed URL's signature) from what urllib3 logs of each request, at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(arg.split("?", 1)[0] if isinstance(arg, str) else arg for arg in record.args)
        return True


URLLIB3_REQUESTS = logging.getLogger("urllib3.connectionpool")
_NO_URL_QUERIES = _NoUrlQueries()


def cdn_session() -> requests.Session:
    """A kept-alive session for video downloads: deliberately without an Authorization header.

    urllib3 logs each request's path with its query at DEBUG: the signature is dropped from it.
    """
    import requests

    if _NO_URL_QUERIES not in URLLIB3_REQUESTS.filters:
        URLLIB3_REQUESTS.addFilter(_NO_URL_QUERIES)

    session = requests.Session()
    adapter = keep_alive_adapter()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = user_agent()
    return session


@contextmanager
def requests_errors(
    what: str, target: str, *, error: type[KlingTransientError] = KlingConnectionError
) -> Iterator[None]:
    """Turn ``requests``' transport errors into Kling errors (TLS, never-connected, timeouts).

    :param what: the request, for messages ("Kling status request").
    :param target: where it went (the API's base URL, or the CDN's host), for messages.
    :param error: the transient error class to raise.
    """
    import requests

    try:
        yield
    except requests.exceptions.SSLError as err:
        raise tls_error(
            what, target, describe_transport_error(err), in_handshake=_raised_in_tls_handshake(err)
        ) from None
    except requests.ConnectionError as err:
        raise error(
            f"{what} could not reach {target}: {describe_transport_error(err)}",
            safe_to_resend=_never_sent(err),
        ) from None
    except (requests.Timeout, requests.exceptions.ChunkedEncodingError) as err:
        raise error(f"{what} failed: {describe_transport_error(err)}") from None


def tls_error(what: str, target: str, detail: str, *, in_handshake: bool) -> KlingError:
    """The error for a TLS failure: a refused certificate is a setup problem, the rest transient.

    :param in_handshake: whether the failure was raised by the TLS handshake itself. Only then did
        nothing reach the server, so that even a create may be sent again. Any later TLS failure (a
        corrupted record, an alert in place of the answer) may follow a request the API acted on.
    """
    if "CERTIFICATE_VERIFY_FAILED" in detail or "certificate verify failed" in detail:
        return KlingConfigurationError(
            f"{what}: the TLS certificate of {target} was not trusted ({detail}). Check the host, or set "
            "the connection extra 'verify' to your CA bundle's path (e.g. behind a corporate proxy)."
        )
    if in_handshake:
        return KlingConnectionError(f"{what}: TLS handshake with {target} failed: {detail}", safe_to_resend=True)
    return KlingConnectionError(
        f"{what}: the TLS connection to {target} failed after it was open, so the request may have reached it: {detail}"
    )


_SSL_CONTEXTS: dict[str, Any] = {}


def aiohttp_ssl(verify: bool | str) -> Any:
    """Aiohttp's ``ssl`` argument for a ``verify`` setting (contexts cached per CA bundle)."""
    if isinstance(verify, bool):
        return verify
    if verify not in _SSL_CONTEXTS:
        _SSL_CONTEXTS[verify] = ssl.create_default_context(cafile=verify)
    return _SSL_CONTEXTS[verify]


def decode_json(body: str | bytes, what: str) -> Any:
    """The JSON ``body`` of an answer (bytes are read as JSON reads them: UTF-8, -16 or -32).

    :raises KlingResponseError: naming ``what`` and the start of a body that is not JSON.
    """
    try:
        return json.loads(body)
    except ValueError:
        text = body.decode(errors="replace") if isinstance(body, bytes) else body
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


def _raised_in_tls_handshake(err: Exception) -> bool:
    """True when the ``ssl`` error beneath ``err`` was raised inside the TLS handshake (``do_handshake``).

    ``requests`` raises one ``SSLError`` whether the handshake failed or a record of the answer could
    not be read after the request was written; only the original ``ssl`` error's traceback tells them
    apart. A handshake completes before ``http.client`` writes a byte of the request, so an error raised
    inside it proves nothing was sent. Anything else, or a chain this cannot read, counts as maybe sent.
    """
    cause: object = err
    for _ in range(8):  # requests' SSLError -> MaxRetryError (.reason) -> urllib3's SSLError -> ssl.SSLError
        if isinstance(cause, ssl.SSLError):
            return any(frame.f_code.co_name == "do_handshake" for frame, _ in traceback.walk_tb(cause.__traceback__))
        if not isinstance(cause, BaseException):
            return False
        cause = getattr(cause, "reason", None) or next((a for a in cause.args if isinstance(a, BaseException)), None)
    return False


def describe_transport_error(err: Exception) -> str:
    """``ReadTimeout: ...`` for a log line; a URL it quotes (urllib3 quotes the request's) without its query."""
    reason = getattr(err.args[0], "reason", None) if err.args else None
    return scrub_queries(f"{type(reason or err).__name__}: {reason or err}")


def mask_secret(secret: str) -> None:
    try:
        from airflow.sdk.log import mask_secret as mask
    except ImportError:  # pragma: no cover - older SDK layouts
        from airflow.sdk.execution_time.secrets_masker import mask_secret as mask  # type: ignore[no-redef]
    mask(secret)


def with_retries(
    attempt: Callable[[], T],
    state: RetryState,
    log: logging.Logger | Any,
    *,
    give_up: Callable[[KlingTransientError], KlingError] | None = None,
) -> T:
    """Call ``attempt`` until it succeeds or ``state``'s policy says to stop (then raise).

    :param give_up: turns the last transient error into the one to raise (e.g. "outcome unknown").
    """
    while True:
        try:
            return attempt()
        except KlingTransientError as err:
            decision = state.after_failure(err)
            if not decision.retry:
                _raise_final(err, give_up)
            log.warning("%s (%s)", err, decision.reason)
            time.sleep(decision.delay)


async def awith_retries(attempt: Callable[[], Awaitable[T]], state: RetryState, log: logging.Logger | Any) -> T:
    """:func:`with_retries` for coroutines: the same policy, sleeping without blocking the loop."""
    while True:
        try:
            return await attempt()
        except KlingTransientError as err:
            decision = state.after_failure(err)
            if not decision.retry:
                raise
            log.warning("%s (%s)", err, decision.reason)
            await asyncio.sleep(decision.delay)


def _raise_final(err: KlingTransientError, give_up: Callable[[KlingTransientError], KlingError] | None) -> None:
    final = give_up(err) if give_up else err
    if final is err:
        raise err
    raise final from err
