"""What identifies a create: the ``X-Client-Request-Id`` it carries and the fingerprint of what it asks. Pure.

The API stores the client request id with the request and reports it as ``client_request_id`` in
``GET /v2/logs`` beside the ``inference_id`` (the generation id) the request made, so a create whose
answer was lost can be found again. It must be 1-128 characters of ``A-Z a-z 0-9 . _ : -``; anything
else is silently dropped by the API (request-tracing-and-cost.md), so it is built to fit, never
trusted to. Each create gets its own: a readable task part and a random part, recorded in the
ledger's intent before the create is sent. Deployments sharing a key (same DAG, run and task ids)
and a cleared task's new try never share one, so a row in the log is always this create's.

The fingerprint says whether a recorded generation was made from this very request: media read
from files count by the sha256 of their bytes, not by their path, so a frame rewritten in place
(a storyboard's last frame, a photo edited and the task cleared) is a new request, and the same
bytes at another path (a fresh work folder on a retry) are the same request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_provider_kling.models.request import request_fingerprint

ALLOWED = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_OTHER = re.compile(r"[^A-Za-z0-9._-]+")
_NOT_NONCE = re.compile(r"[^A-Za-z0-9]+")
#: Characters of the task part: the id stays readable and the random part always fits.
READABLE_CHARS = 60


def client_request_id(identity: Sequence[object], nonce: str) -> str:
    """``kling:<readable task>:<nonce>``, at most 128 allowed characters.

    :param identity: what names the task instance (dag id, run id, task id, map index): only the
        task id (else the first part) is kept, to be read by a person in the log.
    :param nonce: the random part that makes the id unique (e.g. ``secrets.token_hex(12)``);
        characters the API does not allow are dropped.
    """
    readable = _OTHER.sub("_", ".".join(str(part) for part in identity[2:3] or identity[:1])).strip("._")
    unique = _NOT_NONCE.sub("", nonce)[:48] or "0"
    value = f"kling:{readable[:READABLE_CHARS] or 'task'}:{unique}"
    assert is_valid(value), value
    return value


def is_valid(value: str | None) -> bool:
    return value is not None and ALLOWED.fullmatch(value) is not None


def content_fingerprint(body: Mapping[str, Any], inline: Mapping[str, Any]) -> str:
    """The fingerprint of ``body`` with every media file it names counted by the sha256 of its bytes.

    :param body: the validated create body (media as the user named them: paths, URIs, URLs).
    :param inline: top-level field -> the same value with each file replaced by its base64 text (what
        is sent); fields absent here hold no file and count as written.
    """
    keyed = {name: _by_content(body.get(name), value) for name, value in inline.items()}
    return request_fingerprint({**body, **keyed})


def _by_content(named: Any, sent: Any) -> Any:
    """``named`` with each value that was sent as file content replaced by ``sha256:<digest>``."""
    if isinstance(sent, list) and isinstance(named, list) and len(sent) == len(named):
        return [_by_content(a, b) for a, b in zip(named, sent, strict=True)]
    if isinstance(sent, Mapping) and isinstance(named, Mapping):
        return {key: _by_content(named.get(key), value) for key, value in sent.items()}
    if isinstance(sent, str) and sent != named:
        return f"sha256:{hashlib.sha256(_bytes_of(sent)).hexdigest()}"
    if sent != named:  # shapes that do not line up: the sent value itself counts
        return f"sha256:{request_fingerprint({'value': sent})}"
    return named


def _bytes_of(base64_text: str) -> bytes:
    try:
        return base64.b64decode(base64_text, validate=True)
    except (binascii.Error, ValueError):
        return base64_text.encode()
