"""The API's HTTP errors: reading their bodies and classifying them as permanent or transient.

Bodies may be NestJS JSON (``{message, statusCode, path, requestId, timestamp}``), plain text or a
proxy's HTML page. Which statuses are worth another try is decided here, once, for the sync hook,
the async hook and the video download alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from airflow_provider_kling.exceptions import (
    KlingAPIError,
    KlingError,
    KlingServerError,
    KlingSubmissionUnknownError,
)
from airflow_provider_kling.models.media_values import scrub_queries
from airflow_provider_kling.models.values import shorten

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")
MAX_MESSAGE_CHARS = 300

#: Statuses with which the API (or its gateway) refuses a request before acting on it.
REFUSED_BEFORE_PROCESSING = frozenset({429, 503})

_HINTS: dict[int, str] = {
    400: "the API rejected the request body",
    401: "the API key was refused; check the connection's password",
    403: "the account is out of credits or not allowed to use this model",
    404: "no such generation (or path); check the generation id and the connection's host",
    429: "rate or concurrency limit reached",
}


@dataclass(frozen=True)
class ApiErrorBody:
    """What an error response said.

    :param message: a readable one-line message (never the raw HTML page).
    :param request_id: the API's ``requestId`` when present.
    """

    message: str
    request_id: str | None = None


def parse_error_body(text: str, content_type: str | None = None) -> ApiErrorBody:
    """Read ``{message, statusCode, path, requestId, timestamp}`` or whatever else came back."""
    stripped = text.strip()
    if not stripped:
        return ApiErrorBody("(empty response body)")
    try:
        data = json.loads(stripped)
    except ValueError:
        data = None
    if isinstance(data, Mapping):
        message = data.get("message", data.get("error"))
        if isinstance(message, list):
            message = "; ".join(str(m) for m in message)
        elif isinstance(message, Mapping):
            message = message.get("message") or json.dumps(message)
        request_id = data.get("requestId") or data.get("request_id")
        text_message = str(message) if message else stripped
        return ApiErrorBody(_readable(text_message), str(request_id) if request_id else None)
    if "html" in (content_type or "").lower() or stripped.lower().startswith(("<!doctype", "<html")):
        title = _TITLE.search(stripped)
        summary = title.group(1) if title else _TAGS.sub(" ", stripped)
        return ApiErrorBody(f"HTML error page: {_readable(_SPACES.sub(' ', summary).strip())}")
    return ApiErrorBody(_readable(_SPACES.sub(" ", stripped)))


def _readable(message: str) -> str:
    """A message fit for a log line: short, and any URL it quotes without its query (a signature)."""
    return shorten(scrub_queries(message), MAX_MESSAGE_CHARS)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Read ``Retry-After`` as seconds (``"7"``) or an HTTP date; ``None`` when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def error_for_response(
    status_code: int,
    body: str,
    *,
    content_type: str | None = None,
    retry_after: str | None = None,
    what: str = "Kling API request",
) -> KlingError:
    """Build the exception that describes a non-2xx answer, permanent or transient by status."""
    parsed = parse_error_body(body, content_type)
    hint = _HINTS.get(status_code)
    request_ref = f" (requestId {parsed.request_id})" if parsed.request_id else ""
    message = f"{what} failed with HTTP {status_code}: {parsed.message}{request_ref}"
    if hint:
        message += f" -- {hint}"
    if status_code == 429 or status_code >= 500:
        return KlingServerError(
            message,
            status_code=status_code,
            request_id=parsed.request_id,
            retry_after=parse_retry_after(retry_after),
            safe_to_resend=status_code in REFUSED_BEFORE_PROCESSING,
        )
    return KlingAPIError(message, status_code=status_code, request_id=parsed.request_id, api_message=parsed.message)


#: Words with which a validator refuses a value it does not serve (class-validator, zod, the API's own).
_NOT_SERVED = (
    "one of the following values",
    "invalid enum value",
    "not supported",
    "unsupported",
    "unknown model",
    "invalid model",
    "not found",
)


def refused_as_not_served(status_code: int, api_message: str, model: str) -> bool:
    """Whether a create answer says this path does not serve this model, so nothing was created.

    Spec decision: only two answers qualify. A 404 to a create (the docs: "the requested endpoint or
    resource does not exist"); and a 400 whose message is about the ``model`` field or names the
    model we sent beside a refusal (``model must be one of the following values: …``, zod's
    ``Invalid enum value. Expected '…', received '<model>'``). Any other 400 is about the body, and
    no other status is ever taken for "not served": a 5xx may follow a created generation.
    """
    if status_code == 404:
        return True
    if status_code != 400:
        return False
    text = api_message.lower()
    about_model = re.search(r"(^|[;\s'\"])model\b", text) is not None or model.lower() in text
    return about_model and any(words in text for words in _NOT_SERVED)


def unknown_submission(cause: KlingError) -> KlingSubmissionUnknownError:
    """The error for a POST that failed after it may have created a (billed) generation."""
    return KlingSubmissionUnknownError(
        "The create request failed after it was sent, so a generation may have been created and billed "
        f"({cause}). It is not retried automatically because a second request would pay for a second video. "
        "Check the API's request log (GET /v2/logs) or your billing before sending it again."
    )
