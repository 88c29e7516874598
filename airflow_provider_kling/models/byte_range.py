"""HTTP Range requests on a stored video: which bytes to send, or why none can be (RFC 9110 §14).

Pure: no I/O. One range per request (what a ``<video>`` element asks for); a multi-range request is
answered with the first range, as the RFC allows a server to.
"""

from __future__ import annotations

import re

#: Longest Range header read: anything longer is refused unread.
MAX_HEADER = 200
_RANGE = re.compile(r"bytes=([0-9]{0,19})-([0-9]{0,19})")


class RangeNotSatisfiable(ValueError):
    """The range asks for bytes the file does not have (answered 416 with the file's size)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte (inclusive) ``header`` asks for of a file of ``size`` bytes.

    :returns: ``None`` for the whole file (no header, or one this server ignores, as the RFC allows:
        another unit, malformed syntax).
    :raises RangeNotSatisfiable: a range starting at or past the end, or an empty file asked for a part.
    """
    if header is None or len(header) > MAX_HEADER:
        return None
    match = _RANGE.fullmatch(header.split(",", 1)[0].strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(f"bytes -{last} of a {size}-byte file")
        return max(0, size - length), size - 1
    start = int(first)
    if last != "" and int(last) < start:
        return None  # an invalid range is ignored (RFC 9110 §14.1.1): the whole file
    if start >= size:
        raise RangeNotSatisfiable(f"bytes {start}-{last} of a {size}-byte file")
    return start, size - 1 if last == "" else min(int(last), size - 1)
