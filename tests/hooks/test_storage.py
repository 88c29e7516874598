"""Inputs from a real S3 server (SeaweedFS) through an Amazon connection named in the path, and the
storage errors that no retry fixes: refused on the first try, before any request to the API."""

from __future__ import annotations

import hashlib

import pytest

from airflow_provider_kling.operators.kling import KlingImageToVideoOperator
from airflow_provider_kling.version_compat import AirflowFailException
from harness.airflow_context import make_context
from harness.inputs import write_image


@pytest.fixture
def photo(tmp_path, s3):
    data = write_image(tmp_path / "mug.png", 640, 480).read_bytes()
    s3.put("shop/mug.png", data)
    return data


def test_image_to_video_from_s3_sends_the_objects_bytes(simulator, s3, photo, capsys):
    op = KlingImageToVideoOperator(
        wait_for_completion=False, task_id="i", image="s3://seaweed@kling/shop/mug.png", prompt="turn the mug"
    )
    generation_id = op.execute(make_context(op))
    seen = simulator.stats()["generations"][generation_id]
    assert seen["media_sha256"] == {"image_url": hashlib.sha256(photo).hexdigest()}
    assert "s3://seaweed@kling/shop/mug.png (2 KB, PNG 640×480, sent inline)" in capsys.readouterr().out


def test_an_object_storage_path_with_conn_id_works_the_same(simulator, s3, photo):
    from airflow.sdk import ObjectStoragePath

    image = ObjectStoragePath("s3://kling/shop/mug.png", conn_id="seaweed")
    op = KlingImageToVideoOperator(wait_for_completion=False, task_id="i", image=image, prompt="turn the mug")
    generation_id = op.execute(make_context(op))
    assert (
        simulator.stats()["generations"][generation_id]["media_sha256"]["image_url"]
        == hashlib.sha256(photo).hexdigest()
    )


@pytest.mark.parametrize(
    ("image", "says"),
    [
        (
            "s3://seaweed@kling/shop/nope.png",
            "image_url of kling-video/v1.6/pro/image-to-video: no such file 's3://seaweed@kling/shop/nope.png'",
        ),
        ("s3://seaweed_bad@kling/shop/mug.png", "could not read s3://seaweed_bad@kling/shop/mug.png: access refused"),
        ("s3://seaweed_bad@kling/shop/mug.png", "check the key, secret and rights of connection 'seaweed_bad'"),
        ("s3://nosuchconn@kling/shop/mug.png", "no connection 'nosuchconn' is defined: create it"),
        ("gs://bucket/mug.png", "no filesystem for gs:// is installed: install apache-airflow-providers-google"),
        ("foo://bucket/mug.png", "no filesystem for foo:// is installed"),
    ],
)
def test_a_storage_setup_error_fails_on_the_first_try_naming_the_fix_with_no_request(simulator, s3, photo, image, says):
    op = KlingImageToVideoOperator(wait_for_completion=False, task_id="i", image=image, prompt="turn the mug")
    with pytest.raises(AirflowFailException) as failure:  # fails the task: Airflow's retries are skipped
        op.execute(make_context(op))
    assert says in str(failure.value)
    stats = simulator.stats()
    assert (stats["create_requests"], stats["fetch_requests"]) == (0, 0)
