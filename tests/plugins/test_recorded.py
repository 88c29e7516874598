"""What the Video tab serves: only a video a task instance recorded and the product wrote."""

from __future__ import annotations

import pytest

from airflow_provider_kling.delivery.deliver import deliver_video
from airflow_provider_kling.hooks.kling import KlingHook
from airflow_provider_kling.plugins.recorded import NotRecorded, recorded_video
from airflow_provider_kling.task_outputs import delivered_uri
from tests.operators.test_download import finished_generation


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"id": "g", "destination": "/v/a.mp4"}, "/v/a.mp4"),  # a generating operator, @task.kling_video
        ({"uri": "s3://b/a.mp4", "generation_ids": ["g"]}, "s3://b/a.mp4"),  # the storyboard operator
        ("file:///v/a.mp4", "file:///v/a.mp4"),  # the download operator
        ({"id": "g", "video_url": "https://cdn/a.mp4"}, None),  # kept only at the API
        ("https://cdn/a.mp4", None),
        ("f7e2:kling-video/v1.6/pro/text-to-video", None),  # a submit-only task's generation id
        ("/v/a.mp4", "/v/a.mp4"),
        (None, None),
        (42, None),
        ({"destination": None}, None),
    ],
)
def test_the_stored_video_a_return_value_names(value, expected):
    assert delivered_uri(value) == expected


def test_a_delivered_video_is_found_with_its_sidecar(simulator, tmp_path):
    generation_id = finished_generation(simulator)
    delivery = deliver_video(KlingHook(), destination=str(tmp_path / "v.mp4"), generation_id=generation_id)
    video = recorded_video({"destination": delivery.uri})
    assert video.size == (tmp_path / "v.mp4").stat().st_size
    assert video.sidecar["generation_id"] == generation_id


def test_nothing_is_served_that_the_product_did_not_write(simulator, tmp_path):
    mine = tmp_path / "mine.mp4"
    mine.write_bytes(b"\x00\x00\x00\x18ftypisom my own film")
    with pytest.raises(NotRecorded, match="gone, or its sidecar is"):
        recorded_video(str(mine))  # a file of the user's, with no sidecar of the product
    generation_id = finished_generation(simulator)
    deliver_video(KlingHook(), destination=str(tmp_path / "v.mp4"), generation_id=generation_id)
    (tmp_path / "v.mp4").write_bytes(b"replaced since")
    with pytest.raises(NotRecorded, match="not the one its sidecar records"):
        recorded_video(str(tmp_path / "v.mp4"))
    (tmp_path / "v.mp4").unlink()
    with pytest.raises(NotRecorded, match="gone since it was recorded"):
        recorded_video(str(tmp_path / "v.mp4"))
    with pytest.raises(NotRecorded, match="recorded no delivered video"):
        recorded_video({"id": "g", "video_url": "https://cdn/a.mp4"})


@pytest.mark.parametrize(("text", "expected"), [("-1", -1), ("0", 0), ("17", 17), ("{MAP_INDEX}", -1)])
def test_the_map_index_of_a_tab_url(text, expected):
    from airflow_provider_kling.plugins.videos import map_index_of

    assert map_index_of(text) == expected


@pytest.mark.parametrize("text", ["-2", "1.5", "x", "\u0661", "--1", ""])
def test_a_map_index_that_is_no_whole_number_is_refused(text):
    from fastapi import HTTPException

    from airflow_provider_kling.plugins.videos import map_index_of

    with pytest.raises(HTTPException):
        map_index_of(text)
