"""The example DAGs' helpers: what a folder of photos plans, and what its sidecars say of each photo."""

from __future__ import annotations

from airflow_provider_kling.dag_helpers import plan_clips

SIGNED = "https://shop.s3.amazonaws.com/p/mug.png?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=5e1f00d"


def test_a_presigned_photo_is_named_in_its_clips_sidecar_without_its_signature(tmp_path):
    # The sidecar is a file beside the clip (and the deliver task's rendered metadata): it used to carry
    # the photo's presigned URL, signature included, to whoever can read the clip's folder.
    [entry] = plan_clips([SIGNED], str(tmp_path))["todo"]
    assert entry["image"] == SIGNED  # the request still sends the URL as is
    assert entry["metadata"] == {"source_image": "https://shop.s3.amazonaws.com/p/mug.png"}
