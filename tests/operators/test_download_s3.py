"""Deliveries to a real S3 server (SeaweedFS): whole objects or none, whatever fails or is killed."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest

from airflow_provider_kling.delivery.scratch import SWEEP_AFTER_SECONDS
from airflow_provider_kling.models.destinations import video_file_name
from airflow_provider_kling.version_compat import AirflowFailException
from tests.operators.test_download import finished_generation, run

DESTINATION = "s3://seaweed@kling/videos/"


def test_the_video_and_its_sidecar_arrive_as_whole_objects(simulator, s3):
    generation_id = finished_generation(simulator)
    uri, _ = run(DESTINATION, generation_id=generation_id, poster=False)
    key = uri.split("@kling/", 1)[1]
    objects = s3.objects("videos/")
    assert set(objects) == {key, key + ".kling.json"}
    data = s3.client().get_object(Bucket="kling", Key=key)["Body"].read()
    assert data[4:8] == b"ftyp"
    assert objects[key] == len(data)
    sidecar = json.loads(s3.client().get_object(Bucket="kling", Key=key + ".kling.json")["Body"].read())
    assert (sidecar["generation_id"], sidecar["sha256"]) == (generation_id, hashlib.sha256(data).hexdigest())


def test_a_second_run_finds_the_video_there_and_downloads_nothing(simulator, s3):
    generation_id = finished_generation(simulator)
    run(DESTINATION, generation_id=generation_id, poster=False)
    before = simulator.stats()["video_requests"]
    run(DESTINATION, generation_id=generation_id, poster=False)
    assert simulator.stats()["video_requests"] == before


def test_a_failed_download_leaves_no_object(simulator, s3):
    generation_id = finished_generation(simulator)
    simulator.configure(video_fault="truncated")
    with pytest.raises(Exception, match="Video download failed"):
        run(DESTINATION, generation_id=generation_id, poster=False)
    assert s3.objects("videos/") == {}


@pytest.mark.parametrize(
    ("destination", "says", "downloads"),
    [
        ("s3://seaweed_bad@kling/videos/", "access refused", 0),
        ("s3://nosuchconn@kling/videos/", "no connection 'nosuchconn' is defined", 0),
        # s3fs cannot tell a missing bucket from refused credentials before writing: found at the upload.
        ("s3://seaweed@no-such-bucket/videos/", "no such bucket", 1),
    ],
)
def test_a_destination_that_cannot_work_fails_on_the_first_try_naming_the_fix(
    simulator, s3, destination, says, downloads
):
    generation_id = finished_generation(simulator)
    with pytest.raises(AirflowFailException, match=says):  # AirflowFailException: no Airflow retries
        run(destination, generation_id=generation_id, poster=False)
    assert simulator.stats()["video_requests"] == downloads
    assert s3.objects() == {}


DELIVER = """
import sys
from airflow_provider_kling.delivery.deliver import deliver_video
from airflow_provider_kling.hooks.kling import KlingHook
deliver_video(KlingHook(), destination=sys.argv[1], generation_id=sys.argv[2], poster=False, write_metadata=False)
"""


def uploading(s3) -> bool:
    return bool(s3.client().list_multipart_uploads(Bucket="kling").get("Uploads"))


@pytest.mark.parametrize("moment", ["downloading", "uploading"])
def test_a_worker_killed_while_delivering_leaves_no_video(simulator, s3, moment, tmp_path, monkeypatch):
    temp = tmp_path / "tmp"  # the worker's temporary directory
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    generation_id = finished_generation(simulator)
    simulator.configure(video_size=240 * 1024 * 1024)  # a multipart upload to S3, long enough to be caught
    process = subprocess.Popen(
        [sys.executable, "-c", DELIVER, DESTINATION, generation_id],
        start_new_session=True,
        env={**os.environ, "TMPDIR": str(temp)},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if moment == "downloading" and simulator.stats()["video_requests"] >= 1:
                break
            if moment == "uploading" and uploading(s3):
                break
            time.sleep(0.02)
        assert process.poll() is None, f"the delivery ended before it could be killed while {moment}"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    # Killed while uploading the video, the sidecar that went first is left: it records what the
    # retry may complete, and proves the files there are the product's.
    assert set(s3.objects("videos/")) <= {f"videos/{video_file_name(generation_id)}.kling.json"}
    assert moment == "uploading" or s3.objects("videos/") == {}
    past = time.time() - SWEEP_AFTER_SECONDS - 1  # the retry comes after Airflow's retry_delay
    for folder in temp.glob("airflow-provider-kling-*/*"):
        os.utime(folder, (past, past))
    run(DESTINATION, generation_id=generation_id, poster=False)
    assert set(s3.objects("videos/")) == {
        f"videos/{video_file_name(generation_id)}{end}" for end in ("", ".kling.json")
    }
    # The killed worker's 240 MB download is gone from the worker's disk too, removed by the retry.
    assert [path for path in temp.rglob("*") if path.is_file()] == []


def put(s3, key: str, data: bytes) -> None:
    s3.client().put_object(Bucket="kling", Key=key, Body=data)


@pytest.mark.parametrize("overwrite", [False, True])
@pytest.mark.parametrize("theirs", ["videos/mug.mp4", "videos/mug.mp4.kling.json", "videos/mug.mp4.poster.jpg"])
def test_an_object_of_yours_where_a_file_would_go_is_refused_before_downloading(simulator, s3, theirs, overwrite):
    put(s3, theirs, b"precious")
    generation_id = finished_generation(simulator)
    with pytest.raises(AirflowFailException, match="exists and .*only replaces files airflow-provider-kling wrote"):
        run("s3://seaweed@kling/videos/mug.mp4", generation_id=generation_id, overwrite=overwrite)
    assert simulator.stats()["video_requests"] == 0
    assert s3.objects() == {theirs: len(b"precious")}


def test_a_stored_video_replaced_by_hand_is_yours_now(simulator, s3):
    generation_id = finished_generation(simulator)
    run("s3://seaweed@kling/videos/mug.mp4", generation_id=generation_id)
    put(s3, "videos/mug.mp4", b"\x00\x00\x00\x18ftypisom edited by hand")
    with pytest.raises(AirflowFailException, match="its bytes are not those its sidecar"):
        run("s3://seaweed@kling/videos/mug.mp4", generation_id=generation_id, overwrite=True)
    assert s3.client().get_object(Bucket="kling", Key="videos/mug.mp4")["Body"].read().endswith(b"edited by hand")


def test_a_poster_gone_missing_is_made_again(simulator, s3):
    generation_id = finished_generation(simulator)
    run("s3://seaweed@kling/videos/mug.mp4", generation_id=generation_id)
    sidecar = json.loads(s3.client().get_object(Bucket="kling", Key="videos/mug.mp4.kling.json")["Body"].read())
    assert sidecar["files"]["mug.mp4"]["storage_checksum"]  # re-runs compare it instead of reading the video back
    s3.client().delete_object(Bucket="kling", Key="videos/mug.mp4.poster.jpg")
    run("s3://seaweed@kling/videos/mug.mp4", generation_id=generation_id)
    assert set(s3.objects("videos/")) == {"videos/mug.mp4", "videos/mug.mp4.kling.json", "videos/mug.mp4.poster.jpg"}
