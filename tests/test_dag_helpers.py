"""The example DAGs' helpers: what a folder of photos plans, and what its sidecars say of each photo."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_kling.dag_helpers import plan_clips
from airflow_provider_kling.exceptions import KlingValidationError
from harness.inputs import write_image

SIGNED = "https://shop.s3.amazonaws.com/p/mug.png?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=5e1f00d"


def test_a_presigned_photo_is_named_in_its_clips_sidecar_without_its_signature(tmp_path):
    # The sidecar is a file beside the clip (and the deliver task's rendered metadata): it used to carry
    # the photo's presigned URL, signature included, to whoever can read the clip's folder.
    [entry] = plan_clips([SIGNED], str(tmp_path))["todo"]
    assert entry["image"] == SIGNED  # the request still sends the URL as is
    assert entry["metadata"] == {"source_image": "https://shop.s3.amazonaws.com/p/mug.png"}


def test_a_cleared_run_keeps_each_photo_at_the_place_it_planned_it(tmp_path):
    # A photo whose clip was delivered used to drop out of the list, moving the photos after it onto other
    # photos' map indexes (and ledger records): a clip paid for but not delivered was paid for again.
    from tests.batch.conftest import delivered

    photos = [str(write_image(tmp_path / f"{name}.png", 64, 64)) for name in ("cup", "lamp", "mug")]
    delivered(tmp_path, "cup", "g-cup")  # by an earlier run
    delivered(tmp_path, "lamp", "g-lamp")  # by this run, before it was cleared
    clips = {Path(photo).stem: str(tmp_path / f"{Path(photo).stem}.mp4") for photo in photos}
    plan = plan_clips(photos, planned=[clips["lamp"], clips["mug"]])
    assert [entry["clip"] for entry in plan["todo"]] == [clips["lamp"], clips["mug"]]
    assert [entry["clip"] for entry in plan["delivered"]] == [clips["cup"]]
    with pytest.raises(KlingValidationError) as refused:
        plan_clips(photos[1:2], planned=[clips["mug"], clips["lamp"]])  # mug.png is gone
    assert f"{clips['mug']} had map index 0 in this run's plan before the run was cleared" in str(refused.value)
