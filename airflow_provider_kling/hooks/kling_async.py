"""KlingAsyncHook: status requests from the triggerer's event loop, on one shared aiohttp session.

Split from the sync :class:`~airflow_provider_kling.hooks.kling.KlingHook` the way the HTTP
provider splits ``HttpHook`` and ``HttpAsyncHook``. Not built on ``HttpAsyncHook``, which opens
an aiohttp session per request: a triggerer polling a thousand generations would pay a TCP and
TLS handshake per poll. Here every trigger on a loop shares one kept-alive session
(:mod:`.async_session`), with the same retry policy and error classification as the sync hook.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_provider_kling.exceptions import KlingConnectionError
from airflow_provider_kling.hooks import transport
from airflow_provider_kling.hooks.connection import ConnectionSettings
from airflow_provider_kling.models import Generation
from airflow_provider_kling.models.api_error import error_for_response
from airflow_provider_kling.retry import DEFAULT_RETRY_POLICY, RetryPolicy, RetryState

if TYPE_CHECKING:
    import aiohttp


@dataclass(frozen=True)
class _Answer:
    """A status answer as received (its body) and the generation it describes."""

    generation_id: str
    body: bytes
    generation: Generation


class KlingAsyncHook(BaseHook):
    """
    Fetch Kling generations without blocking the event loop.

    :param kling_conn_id: the Airflow connection holding the API key (password) and optional host.
    :param retry_policy: how transient failures are retried (the sync hook's default).
    :param session: the loop's shared session, when the caller holds a lease on it for as long as this
        hook is used (a waiting trigger does); otherwise each request leases it for its own duration.
    """

    conn_name_attr = "kling_conn_id"
    default_conn_name = "kling_default"

    def __init__(
        self,
        kling_conn_id: str = default_conn_name,
        *,
        retry_policy: RetryPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        super().__init__()
        self.kling_conn_id = kling_conn_id
        self.retry_policy = retry_policy or DEFAULT_RETRY_POLICY
        self._session = session
        self._settings: ConnectionSettings | None = None
        self._request_options: dict[str, Any] | None = None
        self._status_url: tuple[str, Any] | None = None
        self._last: _Answer | None = None

    async def asettings(self) -> ConnectionSettings:
        """Settings read from the connection once, without blocking the loop on the lookup."""
        if self._settings is None:
            self._settings = transport.read_settings(await self._aget_connection())
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

    async def aget_generation(self, generation_id: str, *, deadline: float | None = None) -> Generation:
        """Fetch one generation's current state.

        :param generation_id: the generation's id.
        :param deadline: a ``time.monotonic()`` instant no retry wait may pass.
        """
        settings = self._settings if self._settings is not None else await self.asettings()
        url = self._url_of(generation_id, settings)
        state = RetryState(self.retry_policy, idempotent=True, deadline=deadline)
        body, payload = await transport.awith_retries(
            lambda: self._send_once(url, generation_id, settings), state, self.log
        )
        if isinstance(payload, _Answer):  # the very answer of the last poll
            return payload.generation
        generation = Generation.from_api(payload, requested_id=generation_id)
        self._last = _Answer(generation_id, body, generation)
        return generation

    def _url_of(self, generation_id: str, settings: ConnectionSettings) -> Any:
        """The status request's URL, query included, built once per generation.

        A trigger fetches one generation hundreds of times: a URL built (parsed, its query encoded)
        for every poll cost about a tenth of the poll's CPU.
        """
        if self._status_url is None or self._status_url[0] != generation_id:
            from yarl import URL

            url = URL(settings.base_url + settings.fetch_path).with_query(generation_id=generation_id)
            self._status_url = (generation_id, url)
        return self._status_url[1]

    async def _send_once(self, url: Any, generation_id: str, settings: ConnectionSettings) -> tuple[bytes, Any]:
        session = self._session
        if session is not None and not session.closed:  # a waiting trigger's: the polling hot path
            body = await self._get(session, url, settings)
        else:
            from airflow_provider_kling.hooks.async_session import leased_session

            async with leased_session() as session:
                body = await self._get(session, url, settings)
        return body, self._read(generation_id, body)

    def _read(self, generation_id: str, body: bytes) -> Any:
        """The JSON ``body`` holds, or the last poll's :class:`_Answer` when ``body`` is that very answer.

        Most polls of a render get the answer of the poll before ("generating"): it is not decoded
        and read into a generation again (generations are immutable), which spares a tenth of a
        poll's CPU.

        :raises KlingResponseError: a body that is not JSON.
        """
        last = self._last
        if last is not None and last.body == body and last.generation_id == generation_id:
            return last
        return transport.decode_json(body, transport.STATUS_REQUEST)

    def _options(self, settings: ConnectionSettings) -> dict[str, Any]:
        """Headers, timeouts and TLS of every status request, built once: the settings never change.

        The timeouts are a whole request's (connect + read) and a new connection's. No per-read
        timeout: it would re-arm a timer for every chunk of every poll, and the whole-request one
        already bounds a server that stalls.
        """
        if self._request_options is None:
            import aiohttp

            timeout = aiohttp.ClientTimeout(
                total=settings.connect_timeout + settings.read_timeout, sock_connect=settings.connect_timeout
            )
            self._request_options = {
                "headers": transport.api_headers(settings),
                "timeout": timeout,
                "ssl": transport.aiohttp_ssl(settings.verify),
            }
        return self._request_options

    async def _get(self, session: aiohttp.ClientSession, url: Any, settings: ConnectionSettings) -> bytes:
        """The body of a successful status answer; an HTTP error or a failed connection as a Kling error."""
        import aiohttp

        try:
            async with session.get(url, **self._options(settings)) as response:
                body = await response.read()
                if response.status >= 400:
                    raise error_for_response(
                        response.status,
                        body.decode(response.get_encoding(), errors="replace"),
                        content_type=response.headers.get("Content-Type"),
                        retry_after=response.headers.get("Retry-After"),
                        what=transport.STATUS_REQUEST,
                    )
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientConnectorSSLError) as err:
            # aiohttp raises these only while connecting, so before anything was sent.
            raise transport.tls_error(
                transport.STATUS_REQUEST, settings.base_url, str(err), in_handshake=True
            ) from None
        except aiohttp.ClientConnectorError as err:
            raise KlingConnectionError(
                f"{transport.STATUS_REQUEST} could not reach {settings.base_url}: {err.os_error}", safe_to_resend=True
            ) from None
        except (aiohttp.ClientError, asyncio.TimeoutError) as err:
            raise KlingConnectionError(
                f"{transport.STATUS_REQUEST} failed: {type(err).__name__}: {err}".rstrip(": ")
            ) from None
        return body
