"""Reading the API's HTTP error bodies, which may be NestJS JSON, plain text or a proxy's HTML."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")
MAX_MESSAGE_CHARS = 300


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
        return ApiErrorBody(_shorten(str(message) if message else stripped), str(request_id) if request_id else None)
    if "html" in (content_type or "").lower() or stripped.lower().startswith(("<!doctype", "<html")):
        title = _TITLE.search(stripped)
        summary = title.group(1) if title else _TAGS.sub(" ", stripped)
        return ApiErrorBody(f"HTML error page: {_shorten(_SPACES.sub(' ', summary).strip())}")
    return ApiErrorBody(_shorten(_SPACES.sub(" ", stripped)))


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."
