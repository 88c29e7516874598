"""Checks on downloaded bytes, and the hash computed beside the download."""

from __future__ import annotations

import hashlib

import pytest

from airflow_provider_kling.delivery.hashing import BackgroundHasher
from airflow_provider_kling.delivery.verify import check_length, check_mp4_signature
from airflow_provider_kling.exceptions import KlingDownloadError, KlingTransientError, KlingVideoContentError


@pytest.mark.parametrize("head", [b"\x00\x00\x00\x18ftypisom", b"\x00\x00\x00\x20ftypmp42rest"])
def test_an_mp4_head_passes(head):
    check_mp4_signature(head, "video/mp4")


@pytest.mark.parametrize("head", [b"<html><body>", b"\x00\x00\x00", b"", b"\x00\x00\x00\x18moov"])
def test_anything_else_is_a_content_error_naming_what_came(head):
    with pytest.raises(KlingVideoContentError, match="did not serve an MP4") as excinfo:
        check_mp4_signature(head, "text/html")
    assert "text/html" in str(excinfo.value)


@pytest.mark.parametrize(
    ("received", "expected", "ok"), [(10, 10, True), (10, None, True), (9, 10, False), (11, 10, False)]
)
def test_the_length_must_be_the_announced_one(received, expected, ok):
    if ok:
        check_length(received, expected)
    else:
        with pytest.raises(KlingDownloadError, match=f"received {received} of {expected}") as excinfo:
            check_length(received, expected)
        assert isinstance(excinfo.value, KlingTransientError)  # a cut download is worth retrying


def test_the_background_hash_is_the_hash_of_every_chunk_in_order():
    chunks = [bytes([i]) * (1000 + i) for i in range(50)]
    with BackgroundHasher(depth=2) as hasher:
        for chunk in chunks:
            hasher.update(chunk)
        digest = hasher.hexdigest()
    assert digest == hashlib.sha256(b"".join(chunks)).hexdigest()
