"""Checks on downloaded video bytes: an MP4 signature, and as many bytes as announced (pure)."""

from __future__ import annotations

from airflow_provider_kling.exceptions import KlingDownloadError, KlingVideoContentError

#: Bytes needed to recognise an MP4: a box size (4 bytes) then the box type ``ftyp``.
SIGNATURE_BYTES = 8


def check_mp4_signature(head: bytes, content_type: str | None = None) -> None:
    """Raise unless ``head`` (the first bytes) starts like an MP4/ISO-BMFF file."""
    if len(head) >= SIGNATURE_BYTES and head[4:8] == b"ftyp":
        return
    shown = head[:16]
    raise KlingVideoContentError(
        f"The video URL did not serve an MP4 (expected an 'ftyp' box, got {shown!r}; Content-Type {content_type!r})"
    )


def check_length(received: int, expected: int | None) -> None:
    """Raise when fewer (or more) bytes arrived than ``Content-Length`` announced."""
    if expected is not None and received != expected:
        raise KlingDownloadError(f"Video download incomplete: received {received} of {expected} bytes")
