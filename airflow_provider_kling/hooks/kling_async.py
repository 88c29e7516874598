"""KlingAsyncHook: status requests from the triggerer's event loop, on one shared aiohttp session.

Split from the sync :class:`~airflow_provider_kling.hooks.kling.KlingHook` the way the HTTP
provider splits ``HttpHook`` and ``HttpAsyncHook``. Not built on ``HttpAsyncHook``, which opens
an aiohttp session per request: a triggerer polling a thousand generations would pay a TCP and
TLS handshake per poll. Here every trigger on a loop shares one kept-alive session
(:mod:`.async_session`), with the same retry policy and error classification as the sync hook.
"""

from __future__ import annotations

import asyncio
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


class KlingAsyncHook(BaseHook):
    """
    Fetch Kling generations without blocking the event loop.

    :param kling_conn_id: the Airflow connection holding the API key (password) and optional host.
    :param retry_policy: how transient failures are retried (the sync hook's default).
    """

    conn_name_attr = "kling_conn_id"
    default_conn_name = "kling_default"

    def __init__(self, kling_conn_id: str = default_conn_name, *, retry_policy: RetryPolicy | None = None) -> None:
        super().__init__()
        self.kling_conn_id = kling_conn_id
        self.retry_policy = retry_policy or DEFAULT_RETRY_POLICY
        self._settings: ConnectionSettings | None = None
        self._request_options: dict[str, Any] | None = None

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
        settings = await self.asettings()
        url = settings.base_url + settings.fetch_path
        params = {"generation_id": generation_id}
        state = RetryState(self.retry_policy, idempotent=True, deadline=deadline)
        payload = await transport.awith_retries(lambda: self._send_once(url, params, settings), state, self.log)
        return Generation.from_api(payload, requested_id=generation_id)

    async def _send_once(self, url: str, params: dict[str, str], settings: ConnectionSettings) -> Any:
        from airflow_provider_kling.hooks.async_session import held_session, leased_session

        session = held_session()  # a waiting trigger holds it: the polling hot path
        if session is None:
            async with leased_session() as session:
                return await self._get(session, url, params, settings)
        return await self._get(session, url, params, settings)

    def _options(self, settings: ConnectionSettings) -> dict[str, Any]:
        """Headers, timeouts and TLS for every request, built once: the settings never change."""
        if self._request_options is None:
            import aiohttp

            timeout = aiohttp.ClientTimeout(
                total=settings.connect_timeout + settings.read_timeout,
                connect=settings.connect_timeout,
                sock_read=settings.read_timeout,
            )
            self._request_options = {
                "headers": transport.api_headers(settings),
                "timeout": timeout,
                "ssl": transport.aiohttp_ssl(settings.verify),
            }
        return self._request_options

    async def _get(
        self, session: aiohttp.ClientSession, url: str, params: dict[str, str], settings: ConnectionSettings
    ) -> Any:
        import aiohttp

        try:
            async with session.get(url, params=params, **self._options(settings)) as response:
                text = await response.text(errors="replace")
                if response.status >= 400:
                    raise error_for_response(
                        response.status,
                        text,
                        content_type=response.headers.get("Content-Type"),
                        retry_after=response.headers.get("Retry-After"),
                        what=transport.STATUS_REQUEST,
                    )
        except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientConnectorSSLError) as err:
            raise transport.tls_error(transport.STATUS_REQUEST, settings.base_url, str(err)) from None
        except aiohttp.ClientConnectorError as err:
            raise KlingConnectionError(
                f"{transport.STATUS_REQUEST} could not reach {settings.base_url}: {err.os_error}", safe_to_resend=True
            ) from None
        except (aiohttp.ClientError, asyncio.TimeoutError) as err:
            raise KlingConnectionError(
                f"{transport.STATUS_REQUEST} failed: {type(err).__name__}: {err}".rstrip(": ")
            ) from None
        return transport.decode_json(text, transport.STATUS_REQUEST)
