"""The ``kling`` connection: its form in the UI and reading it into settings (pure, no I/O).

The form is declared here once; the provider metadata (``get_provider_info``) and
``KlingHook.get_ui_field_behaviour`` both read it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_kling.exceptions import KlingConfigurationError
from airflow_provider_kling.models.request import (
    AUTO_ENDPOINT,
    ENDPOINT_PATHS,
    ENDPOINTS,
    LEGACY_ENDPOINT,
    UNIFIED_ENDPOINT,
)
from airflow_provider_kling.models.values import MAX_SECONDS, describe

#: What the connection's ``endpoint`` extra may say.
ENDPOINT_SETTINGS: tuple[str, ...] = (AUTO_ENDPOINT, *ENDPOINTS)

DEFAULT_BASE_URL = "https://api.aimlapi.com"
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
DEFAULT_PRICES_MAX_AGE = 3600.0
DEFAULT_REQUEST_LOG_WAIT = 120.0
#: The longest timeout accepted: a socket refuses one past about 9.2e9 s ("timestamp out of range"),
#: and does so only once the request is on its way, a create included.
MAX_TIMEOUT = MAX_SECONDS

HIDDEN_FIELDS: list[str] = ["schema", "login", "port", "extra"]
RELABELING: dict[str, str] = {"password": "API key", "host": "API base URL"}
PLACEHOLDERS: dict[str, str] = {
    "password": "your AI/ML API key",
    "host": "https://api.aimlapi.com (leave empty for the default)",
}
#: Every extra the hook reads, each its own form field, so nobody has to write JSON by hand.
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "timeout": {
        "label": "Read timeout (seconds)",
        "schema": {"type": ["number", "null"], "minimum": 1, "maximum": MAX_TIMEOUT},
        "description": "How long one API request may take to answer (default 60).",
    },
    "connect_timeout": {
        "label": "Connect timeout (seconds)",
        "schema": {"type": ["number", "null"], "minimum": 1, "maximum": MAX_TIMEOUT},
        "description": "How long to wait for a TCP/TLS connection (default 10).",
    },
    "endpoint": {
        "label": "API endpoint",
        "schema": {"type": "string", "enum": list(ENDPOINT_SETTINGS), "default": AUTO_ENDPOINT},
        "description": (
            "auto (default): each model's documented path; legacy: /v2/generate/video/kling/generation; "
            "unified: /v2/video/generations."
        ),
    },
    "prices_max_age": {
        "label": "Price catalogue max age (seconds)",
        "schema": {"type": ["number", "null"], "minimum": 1},
        "description": "How long a copy of the API's price catalogue is used before it is revalidated (default 3600).",
    },
    "request_log_wait": {
        "label": "Request log wait (seconds)",
        "schema": {"type": ["number", "null"], "minimum": 1},
        "description": (
            "After a create whose answer was lost, how long to look for it in the API's request log "
            "before failing (default 120)."
        ),
    },
    "verify": {
        "label": "TLS verification",
        "schema": {"type": ["string", "null"]},
        "description": "true (default), false, or the path of a CA bundle for a private endpoint.",
    },
}
#: Extras that are settings of ours; any other extra is sent as an HTTP header (the HTTP provider's convention).
SETTING_EXTRAS: frozenset[str] = frozenset({*CONN_FIELDS, "api_key"})


def ui_field_behaviour() -> dict[str, Any]:
    """The connection form's field behaviour, as ``BaseHook.get_ui_field_behaviour`` spells it."""
    return {"hidden_fields": HIDDEN_FIELDS, "relabeling": RELABELING, "placeholders": PLACEHOLDERS}


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything the hook needs from a connection.

    :param base_url: scheme, host and optional port, no trailing slash.
    :param api_key: the AI/ML API key (never log this object's ``api_key``).
    :param read_timeout: seconds to wait for a response once connected.
    :param connect_timeout: seconds to wait for the TCP/TLS connection.
    :param verify: verify TLS certificates (True), not at all (False), or against this CA bundle file.
    :param endpoint: ``"auto"`` (each model's documented path, see :func:`.prepare_request`),
        ``"legacy"`` (``/v2/generate/video/kling/generation``) or ``"unified"`` (``/v2/video/generations``).
    :param prices_max_age: seconds a copy of the price catalogue is used before it is revalidated.
    :param request_log_wait: seconds to look for a lost create in the API's request log.
    """

    base_url: str
    api_key: str
    read_timeout: float = DEFAULT_READ_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    verify: bool | str = True
    endpoint: str = AUTO_ENDPOINT
    prices_max_age: float = DEFAULT_PRICES_MAX_AGE
    request_log_wait: float = DEFAULT_REQUEST_LOG_WAIT

    @property
    def fetch_path(self) -> str:
        """Where generations are fetched: the legacy path only when forced, else the unified GET.

        The API documents the unified GET for every video model (``universal-video-fetch.json``).
        """
        return ENDPOINT_PATHS[LEGACY_ENDPOINT if self.endpoint == LEGACY_ENDPOINT else UNIFIED_ENDPOINT]

    def __repr__(self) -> str:  # keep the key out of any accidental log or traceback
        return f"ConnectionSettings(base_url={self.base_url!r}, api_key='***')"


def resolve_base_url(host: str | None, schema: str | None = None, port: int | None = None) -> str:
    """Build the API base URL from a connection's host/schema/port.

    Accepts both ``host="api.example.com"`` and ``host="https://api.example.com:8443"`` (how a JSON
    connection spells it). Without a scheme anywhere, HTTPS is assumed, unlike the HTTP provider,
    which silently downgrades to ``http://``.
    """
    host = (host or "").strip()
    if not host:
        return DEFAULT_BASE_URL
    if "://" not in host:
        scheme = (schema or "").strip().lower() or "https"
        host = f"{scheme}://{host}"
    parts = urlsplit(host)
    try:
        parsed_port = parts.port
    except ValueError as err:
        raise KlingConfigurationError(f"Connection host {host!r} has an invalid port: {err}") from None
    if parts.scheme not in ("http", "https"):
        raise KlingConfigurationError(f"Connection host {host!r} must use http:// or https://, not {parts.scheme!r}")
    if not parts.hostname or any(c.isspace() for c in host):
        raise KlingConfigurationError(f"Connection host {host!r} is not a valid host name or URL")
    effective_port = parsed_port or port
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if effective_port:
        netloc = f"{netloc}:{effective_port}"
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{netloc}{path}"


def _positive_float(extra: dict[str, Any], key: str, default: float, conn_id: str, *, most: float = math.inf) -> float:
    """A number of seconds: a number or its text (the connection form saves text), finite and above 0.

    NaN and infinity are refused: a wait of NaN seconds never ends (no comparison with it is true).

    :param most: the largest accepted (:data:`MAX_TIMEOUT` for a socket's timeouts).
    """
    value = extra.get(key)
    if value in (None, ""):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if isinstance(value, bool) or not (math.isfinite(number) and 0 < number <= most):
        limit = f" (at most {most:.0f}, a year)" if most == MAX_TIMEOUT else ""
        raise KlingConfigurationError(
            f"Connection {conn_id!r}: extra {key!r} must be a finite, positive number of seconds, "
            f"got {describe(value)}{limit}"
        )
    return number


def settings_from_connection(conn: Any) -> ConnectionSettings:
    """Read an Airflow ``Connection`` (``conn_type="kling"``) into :class:`ConnectionSettings`.

    :raises KlingConfigurationError: no API key, or a malformed host or extra.
    """
    conn_id = getattr(conn, "conn_id", None) or "?"
    extra = conn.extra_dejson if conn.extra else {}
    api_key = (conn.password or extra.get("api_key") or "").strip()
    if not api_key:
        raise KlingConfigurationError(
            f"Connection {conn_id!r} has no API key: put your AI/ML API key in the connection's password "
            "(UI field 'API key'), e.g. AIRFLOW_CONN_KLING_DEFAULT='kling://:YOUR_KEY@'"
        )
    return ConnectionSettings(
        base_url=resolve_base_url(conn.host, conn.schema, conn.port),
        api_key=api_key,
        read_timeout=_positive_float(extra, "timeout", DEFAULT_READ_TIMEOUT, conn_id, most=MAX_TIMEOUT),
        connect_timeout=_positive_float(extra, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, conn_id, most=MAX_TIMEOUT),
        verify=_verify(extra.get("verify", True), conn_id),
        endpoint=_endpoint(extra.get("endpoint"), conn_id),
        prices_max_age=_positive_float(extra, "prices_max_age", DEFAULT_PRICES_MAX_AGE, conn_id),
        request_log_wait=_positive_float(extra, "request_log_wait", DEFAULT_REQUEST_LOG_WAIT, conn_id),
    )


def _endpoint(value: Any, conn_id: str) -> str:
    if value in (None, ""):
        return AUTO_ENDPOINT
    if isinstance(value, str) and value.strip().lower() in ENDPOINT_SETTINGS:
        return value.strip().lower()
    raise KlingConfigurationError(
        f"Connection {conn_id!r}: extra 'endpoint' must be one of {', '.join(ENDPOINT_SETTINGS)}, got {value!r}"
    )


def _verify(value: Any, conn_id: str) -> bool | str:
    """The ``verify`` extra: a boolean (or its string spelling) or the path of a CA bundle."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return True  # what the UI's connection form saves for an untouched field
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise KlingConfigurationError(
        f"Connection {conn_id!r}: extra 'verify' must be true, false or a CA bundle path, got {value!r}"
    )
