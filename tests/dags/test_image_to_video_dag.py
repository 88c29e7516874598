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
from harness.user_files import changed, fingerprints

pytestmark = pytest.mark.e2e
DAG_ID = "kling_image_to_video"


def test_a_folder_of_photos_becomes_one_clip_beside_each_photo(airflow_env, simulator, tmp_path):
    simulator.configure(generation_seconds=2)
    shop = tmp_path / "shop"
    mug = write_image(shop / "mug.png", 1024, 1024)
    write_image(shop / "lamp.jpg", 800, 1200, fmt="JPEG")
    (shop / "notes.txt").write_text("not a photo")
    # The user's own files, where the product used to put its poster and sidecar (lamp.jpg above too).
    for name in ("mug.json", "lamp.json", "mug.mp4.notes", "other.mp4", "other.json", "other.jpg.txt"):
        (shop / name).write_bytes(f"yours: {name}".encode())
    yours = fingerprints(shop)
    result, output = dags_test(airflow_env, simulator, DAG_ID, AIRFLOW_VAR_KLING_PHOTOS=str(shop))
    assert result.returncode == 0, output[-4000:]
    assert {(row["task_id"], row["state"]) for row in airflow_env.task_instances(DAG_ID)} == {
        ("photos", "success"),
        ("photo.animate", "success"),
        ("photo.deliver", "success"),
    }
    assert changed(yours, shop) == []  # every photo and file of the user's is byte-identical
    for photo in ("mug.png", "lamp.jpg"):
        clip = (shop / photo).with_suffix(".mp4")
        assert clip.read_bytes()[4:8] == b"ftyp"
        sidecar = json.loads(shop.joinpath(f"{clip.name}.kling.json").read_text())
        assert sidecar["metadata"]["source_image"] == f"file://{shop / photo}"
        assert shop.joinpath(f"{clip.name}.poster.jpg").read_bytes()[:2] == b"\xff\xd8"
    assert len(fingerprints(shop)) == len(yours) + 6
    assert re.search(rf"image_url: file://{mug} \(\d+ KB, PNG 1024×1024, sent inline\)", output)
    assert simulator.stats()["creates"] == 2
    # The photo travelled as base64 in the request body only: no log, XCom or database row has it.
    inline = base64.b64encode(mug.read_bytes()).decode()
    assert airflow_env.files_containing(inline[:120]) == []
    assert airflow_env.files_containing(f"file://{mug}")  # the scan can find what is there

    # Run again: every clip is there already, so nothing is animated (or paid for) again.
    everything = fingerprints(shop)
    result, output = dags_test(airflow_env, simulator, DAG_ID, AIRFLOW_VAR_KLING_PHOTOS=str(shop))
    assert result.returncode == 0, output[-4000:]
    assert f"file://{shop}/mug.mp4 already holds the clip of file://{mug}: not animated again" in output
    assert f"file://{shop}/lamp.mp4.poster.jpg is a clip's poster, made here: not a photo to animate" in output
    assert simulator.stats()["creates"] == 2
    assert changed(everything, shop) == []


def test_photos_whose_clips_would_clash_or_land_on_your_files_are_refused_before_any_request(
    airflow_env, simulator, tmp_path
):
    shop = tmp_path / "shop"
    for name in ("cup.jpg", "cup.png", "bowl.png", "jar.png", "plate.png"):
        write_image(shop / name, 640, 640, fmt="JPEG" if name.endswith(".jpg") else "PNG")
    (shop / "bowl.mp4").write_bytes(b"your own video")
    (shop / "jar.mp4.poster.jpg").write_bytes(b"your own picture")
    yours = fingerprints(shop)
    result, output = dags_test(airflow_env, simulator, DAG_ID, AIRFLOW_VAR_KLING_PHOTOS=str(shop))
    assert result.returncode != 0
    assert f"file://{shop}/cup.jpg and file://{shop}/cup.png would both make the clip" in output, output[-4000:]
    assert f"{shop}/bowl.mp4 exists and airflow-provider-kling did not write it" in output
    assert f"{shop}/jar.mp4.poster.jpg exists and airflow-provider-kling did not write it" in output
    assert simulator.stats()["create_requests"] == 0
    assert changed(yours, shop) == []
    assert fingerprints(shop).keys() == yours.keys()


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
    assert "X-Amz" not in (out / "mug.mp4.kling.json").read_text()  # the sidecar names the photo unsigned
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
