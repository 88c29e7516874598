"""The image-to-video example DAG by the real ``airflow dags test``: photos from a folder, from an
object-storage URI and from an ``https`` URL; clips next to their photos; no image data anywhere."""

from __future__ import annotations

import base64
import json
import re
import sqlite3
from contextlib import closing

import pytest

from airflow_provider_kling.version_compat import AIRFLOW_V_3_3_PLUS
from harness.e2e import dags_test
from harness.inputs import IMAGE_URL, write_image

pytestmark = pytest.mark.e2e
DAG_ID = "kling_image_to_video"


def test_a_folder_of_photos_becomes_one_clip_beside_each_photo(airflow_env, simulator, tmp_path):
    simulator.configure(generation_seconds=2)
    shop = tmp_path / "shop"
    mug = write_image(shop / "mug.png", 1024, 1024)
    write_image(shop / "lamp.jpg", 800, 1200, fmt="JPEG")
    (shop / "notes.txt").write_text("not a photo")
    result, output = dags_test(airflow_env, simulator, DAG_ID, AIRFLOW_VAR_KLING_PHOTOS=str(shop))
    assert result.returncode == 0, output[-4000:]
    assert {(row["task_id"], row["state"]) for row in airflow_env.task_instances(DAG_ID)} == {
        ("photos", "success"),
        ("photo.animate", "success"),
        ("photo.deliver", "success"),
    }
    for photo in ("mug.png", "lamp.jpg"):
        clip = (shop / photo).with_suffix(".mp4")
        assert clip.read_bytes()[4:8] == b"ftyp"
        sidecar = json.loads(clip.with_suffix(".json").read_text())
        assert sidecar["metadata"]["source_image"] == f"file://{shop / photo}"
    assert re.search(rf"image_url: file://{mug} \(\d+ KB, PNG 1024×1024, sent inline\)", output)
    assert simulator.stats()["creates"] == 2
    # The photo travelled as base64 in the request body only: no log, XCom or database row has it.
    inline = base64.b64encode(mug.read_bytes()).decode()
    assert airflow_env.files_containing(inline[:120]) == []
    assert airflow_env.files_containing(f"file://{mug}")  # the scan can find what is there


def test_photos_from_an_object_storage_uri_and_an_https_url(airflow_env, simulator, tmp_path):
    simulator.configure(generation_seconds=2)
    vase = write_image(tmp_path / "bucket" / "vase.png", 600, 400)
    out = tmp_path / "clips"
    out.mkdir()
    signed = f"{IMAGE_URL}?X-Amz-Credential=AKIAEXAMPLE%2Fus-east-1&X-Amz-Signature=5e1f00d"  # presigned
    photos = json.dumps([f"file://{vase}", signed])
    result, output = dags_test(
        airflow_env, simulator, DAG_ID, AIRFLOW_VAR_KLING_PHOTOS=photos, AIRFLOW_VAR_KLING_OUTPUT=str(out)
    )
    assert result.returncode == 0, output[-4000:]
    assert vase.with_suffix(".mp4").exists()
    assert (out / "mug.mp4").exists()  # the URL photo's clip goes to kling_output
    assert f"image_url: {IMAGE_URL} (URL, sent as is)" in output  # by host and path: no signature logged
    assert "X-Amz" not in output
    assert re.search(rf"image_url: file://{vase} \(\d+ KB, PNG 600×400, sent inline\)", output)
    assert simulator.stats()["creates"] == 2
    if AIRFLOW_V_3_3_PLUS:  # rows are labelled by photo name (in the UI and every lineage event)
        assert sorted(rendered_map_indexes(airflow_env, "photo.animate")) == ["mug.png", "vase.png"]


def rendered_map_indexes(airflow_env, task_id: str) -> list[str]:
    """The labels Airflow rendered for a mapped task's rows (newest run), from the metadata database."""
    with closing(sqlite3.connect(airflow_env.home / "airflow.db")) as db:
        rows = db.execute(
            "SELECT rendered_map_index FROM task_instance WHERE dag_id = ? AND task_id = ? AND run_id = "
            "(SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1)",
            (DAG_ID, task_id, DAG_ID),
        ).fetchall()
    return [row[0] for row in rows]
