"""KlingHook: the sync calls to the AI/ML API (create, fetch, wait, connection test)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.http.hooks.http import HttpHook

from airflow_provider_kling.exceptions import (
    KlingAPIError,
    KlingError,
    KlingResponseError,
    KlingSubmissionUnknownError,
    KlingTransientError,
)
from airflow_provider_kling.hooks import transport
from airflow_provider_kling.hooks.connection import SETTING_EXTRAS, ConnectionSettings, ui_field_behaviour
from airflow_provider_kling.hooks.request_logs import RequestLogSearch
from airflow_provider_kling.hooks.spending import AccountSpending
from airflow_provider_kling.models import CreateRequest, Generation, prepare_request
from airflow_provider_kling.models.api_error import error_for_response, refused_as_not_served, unknown_submission
from airflow_provider_kling.models.cost import usage_from_headers
from airflow_provider_kling.models.request import Created
from airflow_provider_kling.retry import DEFAULT_RETRY_POLICY, RetryPolicy, RetryState

if TYPE_CHECKING:
    import requests

    from airflow_provider_kling.hooks.kling_async import KlingAsyncHook

#: Asked for by ``test_connection``: a key check that creates nothing and costs nothing.
CONNECTION_TEST_ID = "airflow-connection-test"
#: Second model names already explained in this process's log (each is said once).
_ALIASES_LOGGED: set[str] = set()


class KlingHook(AccountSpending, RequestLogSearch, HttpHook):
    """
    Submit and follow Kling video generations on the AI/ML API.

    Built on the HTTP provider's ``HttpHook``: its connection handling and session (TCP keep-alive
    adapter, proxies, client certificates, and any connection extra that is not one of ours sent as
    a header). One session per hook, kept alive across calls. On top of it: an ``Authorization:
    Bearer`` key registered with the secrets masker, a default timeout on every request, one retry
    policy (:mod:`airflow_provider_kling.retry`) and errors classified as permanent or transient.
    Async calls (for the trigger) live in :class:`~airflow_provider_kling.hooks.kling_async.KlingAsyncHook`.

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
        super().__init__(method="GET", http_conn_id=kling_conn_id)
        self.kling_conn_id = kling_conn_id
        self.retry_policy = retry_policy or DEFAULT_RETRY_POLICY
        self._settings: ConnectionSettings | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Connection form: only what a Kling connection uses, with helpful labels."""
        return ui_field_behaviour()

    # -- connection ---------------------------------------------------------------------------

    @property
    def settings(self) -> ConnectionSettings:
        """Settings read from the connection, once per hook; the key is registered for masking."""
        if self._settings is None:
            self._settings = transport.read_settings(self.get_connection(self.kling_conn_id))
            self._set_base_url(None)
        return self._settings

    def _set_base_url(self, connection: Any) -> None:
        # Ours, not HttpHook's: a host without a scheme means HTTPS (HttpHook would poll http://).
        self.base_url = self.settings.base_url
        self._base_url_initialized = True

    def _extract_auth(self, connection: Any) -> None:
        return None  # the key goes in an Authorization: Bearer header, never as basic auth

    def get_conn(
        self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None
    ) -> requests.Session:
        """A new authenticated session from ``HttpHook``; our own extras are settings, not headers."""
        session = super().get_conn({**transport.api_headers(self.settings), **(headers or {})}, extra_options)
        for name in SETTING_EXTRAS:
            session.headers.pop(name, None)
        session.verify = self.settings.verify
        return session

    @cached_property
    def session(self) -> requests.Session:
        """The hook's one kept-alive session: every call reuses its connections."""
        return self.get_conn()

    @cached_property
    def async_hook(self) -> KlingAsyncHook:
        from airflow_provider_kling.hooks.kling_async import KlingAsyncHook

        return KlingAsyncHook(self.kling_conn_id, retry_policy=self.retry_policy)

    # -- API ----------------------------------------------------------------------------------

    def submit_generation(
        self,
        prompt: str | None = None,
        *,
        allow_unknown_model: bool = False,
        client_request_id: str | None = None,
        **params: Any,
    ) -> str:
        """Create one generation: check the request, read and inline its media, send it; return its id.

        The hook's one create call. Never sends a second create request unless the first provably
        created nothing. (The operators use the same steps, with a ledger between them so a retried
        task reattaches instead of paying twice.)

        :param prompt: the text prompt.
        :param allow_unknown_model: accept a model this provider version does not know.
        :param client_request_id: sent as ``X-Client-Request-Id``, so the API's request log can say
            later what this create did (:meth:`find_create`).
        :param params: any other request field of the model (``model``, ``duration``, ``image_url``...);
            media fields may name a local file or an object-storage path (read, checked, sent inline).
        :raises KlingValidationError: before any request, on bad input (files included).
        :raises KlingSubmissionUnknownError: when the request failed after being sent.
        """
        fields = {"prompt": prompt, **params} if prompt is not None else params
        request, inline = self._prepare_submission(fields, allow_unknown_model=allow_unknown_model)
        return self._create_generation(request, inline_media=inline, client_request_id=client_request_id).generation.id

    def _prepare(self, params: Mapping[str, Any], *, allow_unknown_model: bool = False) -> CreateRequest:
        """Validate ``params`` for their model and this connection's ``endpoint`` setting (no request)."""
        request = prepare_request(params, endpoint=self.settings.endpoint, allow_unknown_model=allow_unknown_model)
        if request.alias and request.alias not in _ALIASES_LOGGED:
            _ALIASES_LOGGED.add(request.alias)
            self.log.info(
                "%s is %s (a second name its documentation page lists); the request names %s",
                request.alias,
                request.model,
                request.model,
            )
        if request.detour:
            self.log.info(
                "%s goes to %s: its other documented path refuses this request (%s)",
                request.model,
                request.path,
                request.detour,
            )
        return request

    def _prepare_submission(
        self, params: Mapping[str, Any], *, allow_unknown_model: bool = False
    ) -> tuple[CreateRequest, dict[str, Any]]:
        """Validate ``params``, then read and check every media file they name (no request yet).

        :returns: the request (media as the user named them: safe to log and keep) and the inline
            media values for :meth:`_create_generation`.
        :raises KlingValidationError: naming the model and field of every problem, files included.
        """
        from airflow_provider_kling.hooks.media import inline_media, media_references

        request = self._prepare(media_references(params), allow_unknown_model=allow_unknown_model)
        return request, inline_media(request, logger=self.log)

    def _create_generation(
        self,
        request: CreateRequest,
        *,
        inline_media: Mapping[str, Any] | None = None,
        client_request_id: str | None = None,
    ) -> Created:
        """Send a validated create request; return what the create answer said and the request sent.

        When the path refuses the model as not served (:func:`refused_as_not_served`: nothing was
        created) and the request has a fallback (the model's other documented path), the fallback is
        sent once; never after any other answer, so no second generation can be paid for.

        :param request: from :meth:`prepare`.
        :param inline_media: field -> value replacing the request's media references (base64 data
            read by :mod:`airflow_provider_kling.hooks.media`); kept out of the request so no log,
            XCom or exception ever holds it.
        :param client_request_id: sent as ``X-Client-Request-Id``, so the API's request log can
            say later what this create did (:meth:`find_create`).
        """
        sent: list[str] = []  # one item each time the create goes out under this client request id
        try:
            try:
                return self._create_on(request, inline_media, client_request_id, sent)
            except KlingAPIError as err:
                fallback = request.fallback
                if fallback is None or not refused_as_not_served(err.status_code, err.api_message, request.model):
                    raise
                self.log.warning(
                    "%s refused %s (HTTP %s: %s); nothing was created, so it is sent once to %s, "
                    "the other path its documentation names",
                    request.path,
                    request.model,
                    err.status_code,
                    err.api_message,
                    fallback.path,
                )
                return self._create_on(fallback, inline_media, client_request_id, sent)
        except KlingSubmissionUnknownError as err:
            err.sends = len(sent)  # the request log needs one row per send to prove nothing was made
            raise

    def _create_on(
        self, request: CreateRequest, inline_media: Mapping[str, Any] | None, client_id: str | None, sent: list[str]
    ) -> Created:
        body = {**request.body, **(inline_media or {})}
        answer: dict[str, str] = {}
        payload = self._request(
            "POST",
            request.path,
            json=body,
            idempotent=False,
            what="Kling create request",
            headers={"X-Client-Request-Id": client_id} if client_id else None,
            answer=answer,
            sent=sent,
        )
        try:
            generation = Generation.from_create_answer(payload)
        except KlingResponseError as err:
            raise unknown_submission(err) from err
        return Created(generation.with_usage(usage_from_headers(answer)), request)

    def api_get(self, path: str, params: dict[str, Any], *, what: str) -> Any:
        """A GET of another API path (the request log, the balance) with the key and the retry policy."""
        return self._request("GET", path, params=params, what=what)

    def get_generation(self, generation_id: str, *, deadline: float | None = None) -> Generation:
        """Fetch one generation's current state.

        :param generation_id: the id returned by :meth:`submit_generation`.
        :param deadline: a ``time.monotonic()`` instant no retry wait may pass.
        """
        payload = self._request(
            "GET", None, params={"generation_id": generation_id}, deadline=deadline, what=transport.STATUS_REQUEST
        )
        return Generation.from_api(payload, requested_id=generation_id)

    async def aget_generation(self, generation_id: str, *, deadline: float | None = None) -> Generation:
        """:meth:`get_generation` without blocking the event loop (see :class:`KlingAsyncHook`)."""
        return await self.async_hook.aget_generation(generation_id, deadline=deadline)

    def test_connection(self) -> tuple[bool, str]:
        """Check the key with one authenticated status request for an id that does not exist.

        401/403 mean the key is wrong; a 404 (or 400) for the made-up id means the key works.
        """
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
        except KlingError as err:
            return False, str(err)
        return True, f"API key accepted by {self.settings.base_url}"

    # -- transport ----------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str | None,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        idempotent: bool = True,
        deadline: float | None = None,
        what: str,
        state: RetryState | None = None,
        headers: dict[str, str] | None = None,
        answer: dict[str, str] | None = None,
        sent: list[str] | None = None,
    ) -> Any:
        """Send with the retry policy; ``answer`` receives the answer's headers, ``sent`` an item per send."""
        state = state or RetryState(self.retry_policy, idempotent=idempotent, deadline=deadline)
        url = self.url_from_endpoint(path or self.settings.fetch_path)

        def give_up(err: KlingTransientError) -> KlingError:
            return err if idempotent or err.safe_to_resend else unknown_submission(err)

        def send() -> Any:
            (sent if sent is not None else []).append(url)
            return self._send_once(method, url, params=params, json=json, what=what, headers=headers, answer=answer)

        return transport.with_retries(send, state, self.log, give_up=give_up)

    def _send_once(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None,
        json: dict[str, Any] | None,
        what: str,
        headers: dict[str, str] | None = None,
        answer: dict[str, str] | None = None,
    ) -> Any:
        settings = self.settings
        with transport.requests_errors(what, settings.base_url):
            response = self.session.request(
                method,
                url,
                params=params,
                json=json,
                headers=headers,
                timeout=(settings.connect_timeout, settings.read_timeout),
                verify=settings.verify,  # per request: session-level verify paths are not reliably honoured
            )
        if answer is not None:
            answer.update({name.lower(): value for name, value in response.headers.items()})
        with response:
            if response.status_code >= 400:
                raise error_for_response(
                    response.status_code,
                    response.text,
                    content_type=response.headers.get("Content-Type"),
                    retry_after=response.headers.get("Retry-After"),
                    what=what,
                )
            return transport.decode_json(response.text, what)
