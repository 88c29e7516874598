"""The ``X-Client-Request-Id`` of a create: which task instance sent which request. Pure.

The API stores it with the request and reports it as ``client_request_id`` in ``GET /v2/logs``
beside the ``inference_id`` (the generation id) the request made, so a create whose answer was lost
can be found again. It must be 1-128 characters of ``A-Z a-z 0-9 . _ : -``; anything else is
silently dropped by the API (request-tracing-and-cost.md), so it is built to fit, never trusted to.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

ALLOWED = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_OTHER = re.compile(r"[^A-Za-z0-9._-]+")


def client_request_id(identity: Sequence[object], fingerprint: str, *, attempt: int = 0) -> str:
    """``kling:<readable task>:<digest>[:r<attempt>]``, at most 128 allowed characters.

    :param identity: what names the task instance (dag id, run id, task id, map index).
    :param fingerprint: the request body's fingerprint.
    :param attempt: 0 for the first create; a resend after a logged failure gets its own id.
    """
    digest = hashlib.sha256("|".join([*map(str, identity), fingerprint]).encode()).hexdigest()[:24]
    readable = _OTHER.sub("_", ".".join(str(part) for part in identity[2:3] or identity[:1])).strip("._")[:60]
    value = f"kling:{readable or 'task'}:{digest}" + (f":r{attempt}" if attempt else "")
    assert is_valid(value), value
    return value


def is_valid(value: str | None) -> bool:
    return value is not None and ALLOWED.fullmatch(value) is not None
