"""What the Video tab serves: only a video a task instance recorded and the product wrote."""

from __future__ import annotations

import pytest

from airflow_provider_kling.delivery.deliver import deliver_video
from airflow_provider_kling.hooks.kling import KlingHook
from airflow_provider_kling.models.ownership import delivered_by
from airflow_provider_kling.plugins.recorded import NotRecorded, recorded_video
from airflow_provider_kling.task_outputs import delivered_uri
from tests.operators.test_download import finished_generation

DAG = "nightly_clips"
BY = delivered_by(DAG, "manual__1", "download", -1)


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
    delivery = deliver_video(
        KlingHook(), destination=str(tmp_path / "v.mp4"), generation_id=generation_id, delivered_by=BY
    )
    video = recorded_video({"destination": delivery.uri}, DAG)
    assert video.size == (tmp_path / "v.mp4").stat().st_size
    assert video.sidecar["generation_id"] == generation_id


def test_nothing_is_served_that_the_product_did_not_write(simulator, tmp_path):
    mine = tmp_path / "mine.mp4"
    mine.write_bytes(b"\x00\x00\x00\x18ftypisom my own film")
    with pytest.raises(NotRecorded, match="gone, or its sidecar is"):
        recorded_video(str(mine), DAG)  # a file of the user's, with no sidecar of the product
    generation_id = finished_generation(simulator)
    deliver_video(KlingHook(), destination=str(tmp_path / "v.mp4"), generation_id=generation_id, delivered_by=BY)
    (tmp_path / "v.mp4").write_bytes(b"replaced since")
    with pytest.raises(NotRecorded, match="not the one its sidecar records"):
        recorded_video(str(tmp_path / "v.mp4"), DAG)
    (tmp_path / "v.mp4").unlink()
    with pytest.raises(NotRecorded, match="gone since it was recorded"):
        recorded_video(str(tmp_path / "v.mp4"), DAG)
    with pytest.raises(NotRecorded, match="recorded no delivered video"):
        recorded_video({"id": "g", "video_url": "https://cdn/a.mp4"}, DAG)


def test_a_video_plays_only_in_the_dag_whose_task_delivered_it(simulator, tmp_path):
    # A Kling task of another DAG whose return value names this video (its author chose that path,
    # or its XCom was edited) must not show it to readers of that other DAG.
    generation_id = finished_generation(simulator)
    deliver_video(KlingHook(), destination=str(tmp_path / "v.mp4"), generation_id=generation_id, delivered_by=BY)
    assert recorded_video(str(tmp_path / "v.mp4"), DAG).sidecar["delivered_by"] == BY
    with pytest.raises(NotRecorded, match="another DAG") as refused:
        recorded_video(str(tmp_path / "v.mp4"), "someone_elses_dag")
    assert DAG not in str(refused.value)  # the owning DAG is not named to readers of another


def test_a_video_whose_sidecar_names_no_dag_is_not_served(simulator, tmp_path):
    generation_id = finished_generation(simulator)
    deliver_video(KlingHook(), destination=str(tmp_path / "v.mp4"), generation_id=generation_id)
    with pytest.raises(NotRecorded, match="does not record which DAG"):
        recorded_video(str(tmp_path / "v.mp4"), DAG)


@pytest.mark.parametrize("record", [None, "nightly_clips", {"dag_id": ""}, {"dag_id": ["nightly_clips"]}, {}])
def test_a_delivering_dag_of_the_wrong_shape_is_none(record):
    from airflow_provider_kling.models.ownership import delivering_dag

    assert delivering_dag({"delivered_by": record}) is None
    assert delivering_dag({"delivered_by": BY}) == DAG


def test_the_sidecar_records_the_delivering_task_even_without_metadata(simulator, tmp_path):
    generation_id = finished_generation(simulator)
    deliver_video(
        KlingHook(),
        destination=str(tmp_path / "v.mp4"),
        generation_id=generation_id,
        write_metadata=False,
        delivered_by=BY,
    )
    assert recorded_video(str(tmp_path / "v.mp4"), DAG).sidecar["delivered_by"] == BY


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


def _forged_sidecar_beside(video, size):
    """A sidecar claiming ``video`` as the product's, written by someone else (it records no true sha256)."""
    import json

    from airflow_provider_kling.models.ownership import ownership_record

    files = {video.name: {"sha256": "0" * 64, "size": size}}
    record = {"generation_id": "g", "size": size, "delivered_by": BY, **ownership_record(video.name, files, {})}
    video.with_name(video.name + ".kling.json").write_text(json.dumps(record))


def test_a_forged_sidecar_beside_a_link_or_another_file_serves_nothing(tmp_path):
    target = tmp_path / "secret.txt"
    target.write_text("root:x:0:0")
    link = tmp_path / "evil.mp4"
    link.symlink_to(target)
    _forged_sidecar_beside(link, target.stat().st_size)
    with pytest.raises(NotRecorded, match="not the one its sidecar records"):
        recorded_video(str(link), DAG)
    plain = tmp_path / "plain.mp4"
    plain.write_bytes(b"same size, other bytes")
    _forged_sidecar_beside(plain, plain.stat().st_size)
    with pytest.raises(NotRecorded, match="not the one its sidecar records"):
        recorded_video(str(plain), DAG)
    folder = tmp_path / "dir.mp4"
    folder.mkdir()
    _forged_sidecar_beside(folder, folder.stat().st_size)
    with pytest.raises(NotRecorded):
        recorded_video(str(folder), DAG)


def test_a_huge_sidecar_is_not_read(tmp_path):
    import hashlib
    import json

    from airflow_provider_kling.models.ownership import ownership_record

    video = tmp_path / "v.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypisom")
    files = {"v.mp4": {"sha256": hashlib.sha256(video.read_bytes()).hexdigest()}}
    record = {
        "generation_id": "g",
        "size": video.stat().st_size,
        "delivered_by": BY,
        **ownership_record("v.mp4", files, {}),
    }
    sidecar = video.with_name("v.mp4.kling.json")
    sidecar.write_text(json.dumps(record))
    assert recorded_video(str(video), DAG).size == video.stat().st_size  # the same record, small, is the product's
    sidecar.write_text(json.dumps({**record, "padding": "x" * (2 << 20)}))
    with pytest.raises(NotRecorded, match="sidecar"):
        recorded_video(str(video), DAG)


@pytest.mark.parametrize(
    "uri", ["HTTP://127.0.0.1:9/x.mp4", "ftp://host/x.mp4", "simplecache::https://h/x.mp4", "nosuch://x/y.mp4"]
)
def test_only_local_paths_and_object_stores_are_read(uri):
    with pytest.raises(NotRecorded, match="not in a storage this page reads from"):
        recorded_video(uri, DAG)


def test_the_page_survives_a_sidecar_of_the_wrong_shapes(tmp_path):
    from airflow_provider_kling.plugins.recorded import RecordedVideo
    from airflow_provider_kling.plugins.videos import _facts

    video = RecordedVideo(
        tmp_path / "v.mp4", 1, {"shots": ["s", 3], "probe": [1], "cost": "nan", "generation_id": "<b>"}
    )
    facts = dict(_facts(video))
    assert facts["Length"] == "not recorded"
    assert facts["Cost"] == "not reported"


@pytest.mark.parametrize("length", [float("nan"), float("inf"), -5, "5"])
def test_a_length_that_is_no_finite_positive_number_is_not_shown(tmp_path, length):
    from airflow_provider_kling.plugins.recorded import RecordedVideo
    from airflow_provider_kling.plugins.videos import _facts

    video = RecordedVideo(tmp_path / "v.mp4", 1, {"probe": {"duration": length}, "generation_id": "g"})
    assert dict(_facts(video))["Length"] == "not recorded"


@pytest.mark.parametrize(
    ("operator", "keys", "expected"),
    [
        ("KlingVideoOperator", (), True),
        ("KlingDownloadVideoOperator", ("return_value",), True),
        ("@task.kling_video", (), True),
        ("ProductVideoOperator", ("return_value", "kling_video"), True),  # a subclass of yours by another name
        ("ProductVideoOperator", ("return_value",), False),
        ("PythonOperator", ("return_value",), False),
        ("@task", (), False),
        ("", ("return_value",), False),
        (None, (), False),
    ],
)
def test_which_task_instances_are_kling_tasks(operator, keys, expected):
    from airflow_provider_kling.plugins.recorded import is_kling_task

    assert is_kling_task(operator, keys) is expected


def _within(seconds, call):
    """``call()``'s result, failing the test if it does not return within ``seconds`` (a FIFO blocks)."""
    import threading

    box = {}
    worker = threading.Thread(target=lambda: box.update(result=_outcome(call)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "blocked: it read a FIFO"
    return box["result"]


def _outcome(call):
    try:
        return call()
    except NotRecorded as err:
        return err


def test_a_fifo_where_a_sidecar_or_a_still_is_reads_nothing_and_never_blocks(simulator, tmp_path):
    import os

    from airflow_provider_kling.plugins.recorded import recorded_still

    generation_id = finished_generation(simulator)
    deliver_video(KlingHook(), destination=str(tmp_path / "v.mp4"), generation_id=generation_id, delivered_by=BY)
    poster = tmp_path / "v.mp4.poster.jpg"
    poster.unlink()
    os.mkfifo(poster)
    assert isinstance(_within(5, lambda: recorded_still(str(tmp_path / "v.mp4"), DAG, "poster")), NotRecorded)
    sidecar = tmp_path / "v.mp4.kling.json"
    sidecar.unlink()
    os.mkfifo(sidecar)
    assert isinstance(_within(5, lambda: recorded_video(str(tmp_path / "v.mp4"), DAG)), NotRecorded)


def test_a_video_rewritten_with_its_size_and_time_kept_is_checked_again(simulator, tmp_path):
    import os
    import shutil

    generation_id = finished_generation(simulator)
    video = tmp_path / "v.mp4"
    deliver_video(KlingHook(), destination=str(video), generation_id=generation_id, delivered_by=BY)
    assert recorded_video(str(video), DAG).size == video.stat().st_size  # checked, and remembered
    other = tmp_path / "other.bin"
    other.write_bytes(b"X" * video.stat().st_size)
    shutil.copystat(video, other)
    os.replace(other, video)  # same size, same mtime (as cp -p or rsync -t leave it), other bytes
    with pytest.raises(NotRecorded, match="not the one its sidecar records"):
        recorded_video(str(video), DAG)


def test_an_xcom_that_cannot_be_read_is_no_value_not_a_500():
    from types import SimpleNamespace

    from airflow.models.xcom import XComModel

    from airflow_provider_kling.plugins.recorded import xcom_value

    # Stored raw through the XCom API, a value naming a class: Airflow's own reader raises on it.
    row = SimpleNamespace(value='{"__classname__": "os.system", "__version__": 1, "__data__": 0}')
    with pytest.raises(Exception):  # noqa: B017, PT011 - whichever Airflow raises, the tab must not
        XComModel.deserialize_value(row)
    assert xcom_value(row) is None
    assert xcom_value(SimpleNamespace(value={"generation_ids": ["g"]})) == {"generation_ids": ["g"]}


@pytest.mark.parametrize(
    ("record", "shown"),
    [
        (
            {"generation_ids": ["g"], "model": "kling-video/v1.6/pro/text-to-video"},
            "kling-video/v1.6/pro/text-to-video",
        ),
        ({"generation_ids": ["g"], "model": "m" * 300}, "not recorded"),  # an edited XCom: checked again
        (None, "not recorded"),
    ],
)
def test_the_tab_names_the_model_the_task_recorded(tmp_path, record, shown):
    from airflow_provider_kling.plugins.recorded import RecordedVideo, TaskFacts
    from airflow_provider_kling.plugins.videos import _facts, recorded_model

    facts = TaskFacts((DAG, "r", "t", -1), "KlingVideoOperator", "success", None, {"kling_video": record})
    video = RecordedVideo(tmp_path / "v.mp4", 1, {"generation_id": "g"})
    assert dict(_facts(video, recorded_model(facts)))["Model"] == shown


def test_a_download_tab_names_the_model_its_generating_task_recorded():
    from airflow_provider_kling.plugins.recorded import TaskFacts
    from airflow_provider_kling.plugins.videos import recorded_model

    download = {"generation_ids": ["g"], "model": None, "delivered": True}
    facts = TaskFacts(
        (DAG, "r", "download", -1), "KlingDownloadVideoOperator", "success", None, {"kling_video": download}
    )
    run = [download, {"generation_ids": ["other"], "model": "wrong"}, {"generation_ids": ["g"], "model": "m1"}, "junk"]
    assert recorded_model(facts, lambda: run) == "m1"
    assert recorded_model(facts, lambda: run[:2]) is None
