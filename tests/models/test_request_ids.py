"""Client request ids always fit the API's rule and never repeat; fingerprints count files by content."""

from __future__ import annotations

import base64
import hashlib
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from airflow_provider_kling.models.request import request_fingerprint
from airflow_provider_kling.models.request_ids import client_request_id, content_fingerprint, is_valid

TI = ("batch_dag", "scheduled__2026-12-04", "row.generate", 3)


@given(st.lists(st.text(), min_size=0, max_size=5), st.text())
def test_every_id_is_valid_whatever_the_names(identity, nonce):
    assert is_valid(client_request_id(identity, nonce))


def test_an_id_keeps_the_task_readable_and_its_random_part():
    assert client_request_id(TI, "a1b2c3") == "kling:row.generate:a1b2c3"
    assert client_request_id(("d", "r", "../x\n\0y", -1), "n0n:ce!") == "kling:x_y:n0nce"
    assert len(client_request_id(("d", "r", "t" * 500, -1), "f" * 500)) <= 128


def test_two_deployments_or_two_tries_of_one_task_instance_never_share_an_id():
    # Same DAG, run and task ids (two deployments on one key; a cleared task's new try): each create
    # draws its own random part, as tasks.submit does.
    ids = {client_request_id(TI, secrets.token_hex(12)) for _ in range(1000)}
    assert len(ids) == 1000


@pytest.mark.parametrize("value", ["", "a b", "x" * 129, "é", None])
def test_what_the_api_would_drop(value):
    assert not is_valid(value)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


BODY = {"model": "m", "prompt": "p", "image_url": "/work/frames/shot-2.png"}


def test_a_file_counts_by_its_bytes_not_its_path():
    frame = b"\x89PNG frame of shot 1"
    here = content_fingerprint(BODY, {"image_url": b64(frame)})
    elsewhere = content_fingerprint({**BODY, "image_url": "/tmp/kling-x7/shot-2.png"}, {"image_url": b64(frame)})
    assert here == elsewhere  # a retry's fresh work folder: the same request
    assert content_fingerprint(BODY, {"image_url": b64(b"\x89PNG another frame")}) != here  # rewritten in place
    digest = hashlib.sha256(frame).hexdigest()
    assert here == request_fingerprint({**BODY, "image_url": f"sha256:{digest}"})


def test_urls_and_fields_without_files_count_as_written():
    assert content_fingerprint({**BODY, "image_url": "https://x/a.png"}, {}) == request_fingerprint(
        {**BODY, "image_url": "https://x/a.png"}
    )
    assert content_fingerprint(BODY, {}) != content_fingerprint({**BODY, "prompt": "q"}, {})


def test_files_inside_lists_and_objects_count_by_content_each():
    body = {"model": "m", "image_list": ["https://x/a.png", "/p/b.png"], "elements": [{"frontal_image_url": "/p/c"}]}
    first = content_fingerprint(
        body, {"image_list": ["https://x/a.png", b64(b"B")], "elements": [{"frontal_image_url": b64(b"C")}]}
    )
    second = content_fingerprint(
        body, {"image_list": ["https://x/a.png", b64(b"B")], "elements": [{"frontal_image_url": b64(b"C2")}]}
    )
    assert first != second
    assert first == request_fingerprint(
        {
            "model": "m",
            "image_list": ["https://x/a.png", f"sha256:{hashlib.sha256(b'B').hexdigest()}"],
            "elements": [{"frontal_image_url": f"sha256:{hashlib.sha256(b'C').hexdigest()}"}],
        }
    )
