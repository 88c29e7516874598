"""The Video tab's streaming from object storage (a real S3 server, SeaweedFS): in chunks, with ranges."""

from __future__ import annotations

from airflow_provider_kling.delivery.deliver import deliver_video
from airflow_provider_kling.hooks.kling import KlingHook
from airflow_provider_kling.models.ownership import delivered_by
from airflow_provider_kling.plugins.recorded import recorded_still, recorded_video
from airflow_provider_kling.plugins.videos import CHUNK, _chunks, _open
from tests.operators.test_download import finished_generation

DAG = "nightly_clips"
BY = delivered_by(DAG, "manual__1", "download", -1)


def stored(simulator, s3) -> tuple[str, bytes]:
    generation_id = finished_generation(simulator)
    delivery = deliver_video(
        KlingHook(), destination="s3://seaweed@kling/tab/", generation_id=generation_id, delivered_by=BY
    )
    key = delivery.uri.split("@kling/", 1)[1]
    return delivery.uri, s3.client().get_object(Bucket="kling", Key=key)["Body"].read()


def test_an_object_streams_whole_and_by_range_without_read_ahead(simulator, s3):
    uri, data = stored(simulator, s3)
    video = recorded_video(uri, DAG)
    assert video.size == len(data)
    handle = _open(video.path)
    assert (handle.blocksize, type(handle.cache).name) == (CHUNK, "none")  # no 50 MiB read-ahead
    handle.seek(100)
    assert b"".join(_chunks(handle, 100)) == data[100:200]
    chunks = list(_chunks(_open(video.path), len(data)))
    assert b"".join(chunks) == data
    assert all(len(chunk) <= CHUNK for chunk in chunks)


def test_a_still_beside_an_object_is_served_when_the_sidecar_records_it(simulator, s3):
    uri, _ = stored(simulator, s3)
    poster = recorded_still(uri, DAG, "poster")
    with _open(poster) as handle:
        assert handle.read(2) == b"\xff\xd8"  # a JPEG
