"""What a media value is (a URL, inline data, a path) and how any value may be shown: pure, no I/O.

A media field takes an ``http(s)://`` URL (sent as is), inline data (a ``data:<type>;base64,``
URI or raw base64, decoded and sent as raw base64) or a path / storage URI (read and sent inline).
Everything that shows a value to a person or a machine (logs, error messages, lineage, rendered
fields) goes through :func:`shown_source` or :func:`shown_value`: a URL loses its query (a
signature) and its user info, inline data is replaced by its length, so neither ever leaves.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

URL_SCHEMES: tuple[str, ...] = ("http://", "https://")

#: The kinds :func:`media_kind` tells apart.
URL = "url"
DATA_URI = "data URI"
BASE64 = "base64"
MISSPELT_DATA_URI = "misspelt data URI"  # a data: URI spelt another way: refused, never read as a path
NOT_A_NAME = "not a name"  # too long or odd (a NUL) for a file name, and no URL: refused, never echoed
PATH = "path"
INLINE_KINDS = frozenset({DATA_URI, BASE64, MISSPELT_DATA_URI, NOT_A_NAME})

#: The one spelling of a data: URI that is read as one (RFC 2397, base64 payload only).
_DATA_URI = re.compile(r"data:[^\s;,]*(?:;[^\s;,]+)*;base64,")
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/=\s]+")
#: The longest file name and path most file systems allow (NAME_MAX, PATH_MAX): longer cannot name a file.
NAME_MAX, PATH_MAX = 255, 4096
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: A URL's query or fragment in free text (``url: /path?...`` is how urllib3 quotes a request).
_QUERY_IN_TEXT = re.compile(
    r"((?:\b[A-Za-z][A-Za-z0-9+.-]*://|(?<=url: )/)[^\s?#'\"<>]*)[?#](?:[^\s'\"<>)]*[^\s'\"<>).,:;!])?"
)


def media_kind(value: Any) -> str:
    """What ``value`` is: :data:`URL`, :data:`DATA_URI`, :data:`BASE64` or :data:`PATH` (a path object too).

    Or one that cannot be read as media: :data:`MISSPELT_DATA_URI`, :data:`NOT_A_NAME`.
    """
    if not isinstance(value, str):
        return PATH
    if is_url(value):
        return URL
    if "".join(value.lstrip()[:64].split()).lower().startswith("data:"):  # lstrip: any amount of it
        return DATA_URI if _DATA_URI.match(value) else MISSPELT_DATA_URI
    text = value.strip()
    if len(text) >= 256 and _BASE64_TEXT.fullmatch(text[:4096]):
        return BASE64
    if len(value) > PATH_MAX or _CONTROL.search(value) or ("://" not in value and _has_long_name(value)):
        return NOT_A_NAME
    return PATH


def _has_long_name(path: str) -> bool:
    return any(len(part) > NAME_MAX for part in path.split("/"))


def is_url(value: Any) -> bool:
    """An ``http(s)://`` URL: sent to the API as it is."""
    return isinstance(value, str) and value.strip().lower().startswith(URL_SCHEMES)


def inline_data(value: str) -> bytes | None:
    """The bytes of a :data:`DATA_URI` or :data:`BASE64` value; ``None`` for anything else or bad base64."""
    kind = media_kind(value)
    if kind not in (DATA_URI, BASE64):
        return None
    text = value.split(",", 1)[1] if kind == DATA_URI else value
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        return None


def media_value_problem(model: str, location: str, value: Any) -> str | None:
    """Why ``value`` cannot be read as media at all (its spelling), naming the model and the field; else ``None``."""
    kind = media_kind(value)
    where = f"{location} of {model} ({shown_source(value)})"
    if kind == MISSPELT_DATA_URI:
        return (
            f"{where} looks like a data: URI but is not spelt 'data:<media type>;base64,<data>' exactly "
            "(lower-case 'data:', no spaces, a base64 payload): fix it, or pass raw base64, a URL or a file path"
        )
    if kind == NOT_A_NAME:
        return (
            f"{where} is neither an http(s) URL, a file path (too long, or holding control characters) "
            "nor base64 data (A-Z, a-z, 0-9, +, / and =)"
        )
    return None


def shown_source(value: Any) -> str:
    """How a media value is named in logs, errors and lineage: a URL without its query, never inline data."""
    kind = media_kind(value)
    if kind == URL:
        return str(redact_url(value))
    if kind in INLINE_KINDS:
        return f"<inline data, {len(value)} characters>"
    return str(value)


def shown_value(value: str) -> str:
    """Any text as it may be shown: :func:`shown_source` for a URL or inline data, else the text itself."""
    return shown_source(value) if media_kind(value) in (URL, DATA_URI, BASE64, MISSPELT_DATA_URI) else value


def shown_parameters(value: Any, key: str = "") -> Any:
    """Request parameters as they may be shown (rendered fields, a serialized DAG).

    Every URL loses its query and inline data shows as its length, at any depth; prompt texts (under
    a key naming a prompt) are shown as given.
    """
    if isinstance(value, Mapping):
        return {name: shown_parameters(item, str(name)) for name, item in value.items()}
    if isinstance(value, list):
        return [shown_parameters(item, key) for item in value]
    if type(value) is tuple:
        return tuple(shown_parameters(item, key) for item in value)
    if isinstance(value, str) and "prompt" not in key:
        return shown_value(value)
    return value


def redact_url(url: str | None) -> str | None:
    """A URL without its query (the CDN signature), fragment and user info, so it can be logged or stored."""
    if not url:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, "", ""))


def scrub_queries(text: str) -> str:
    """``text`` (an error message, a transport error) with the query of every URL in it removed."""
    return _QUERY_IN_TEXT.sub(r"\1", text)
