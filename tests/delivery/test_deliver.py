"""What a delivery does with what is already at its destination: keep it, replace it, or refuse."""

from __future__ import annotations

import hashlib
import json

import pytest

from airflow_provider_kling.delivery import storage
from airflow_provider_kling.delivery.deliver import video_to_keep
from airflow_provider_kling.exceptions import KlingStorageSetupError
from airflow_provider_kling.models.ownership import ownership_record

VIDEO = b"\x00\x00\x00\x18ftypisom a video"


def delivered(folder, generation_id, *, poster=b"\xff\xd8 a poster"):
    """A video with its poster and sidecar, as the product leaves them."""
    (folder / "v.mp4").write_bytes(VIDEO)
    files = {"v.mp4": {"sha256": hashlib.sha256(VIDEO).hexdigest(), "size": len(VIDEO)}}
    if poster is not None:
        (folder / "v.mp4.poster.jpg").write_bytes(poster)
        files["v.mp4.poster.jpg"] = {"sha256": hashlib.sha256(poster).hexdigest(), "size": len(poster)}
    sidecar = {
        "generation_id": generation_id,
        "sha256": files["v.mp4"]["sha256"],
        **ownership_record("v.mp4", files, {}),
    }
    (folder / "v.mp4.kling.json").write_text(json.dumps(sidecar))
    return sidecar


def wanted(sidecar):
    return sidecar.get("generation_id") == "g1"


@pytest.mark.parametrize(
    ("there", "overwrite", "outcome"),
    [
        ("nothing", False, "free"),
        ("g1", False, "keep"),  # the wanted video is there, complete
        ("g1", True, "keep"),
        ("g1 without its poster", False, "free"),  # ... with a file missing: delivered again to complete it
        ("g2", False, "another video"),  # another video of the product's
        ("g2", True, "free"),
        ("a video of yours", False, "did not write it"),  # no sidecar: not provably the product's
        ("a video of yours", True, "did not write it"),
        ("g1 changed since", True, "its bytes are not those"),
        ("a sidecar of an older release", True, "not a sidecar"),
    ],
)
def test_a_video_at_the_destination_is_kept_replaced_or_refused(tmp_path, there, overwrite, outcome):
    if there.startswith(("g1", "g2")):
        sidecar = delivered(tmp_path, there[:2])
    if there == "g1 without its poster":
        (tmp_path / "v.mp4.poster.jpg").unlink()
    if there == "g1 changed since":
        (tmp_path / "v.mp4").write_bytes(VIDEO + b" edited")
    if there in ("a video of yours", "a sidecar of an older release"):
        (tmp_path / "v.mp4").write_bytes(VIDEO)
    if there == "a sidecar of an older release":
        (tmp_path / "v.mp4.kling.json").write_text(json.dumps({"generation_id": "g1", "sha256": "0" * 64}))
    target = storage.as_storage_path(tmp_path / "v.mp4")
    if outcome in ("free", "keep"):
        assert video_to_keep(target, wanted, overwrite) == (sidecar if outcome == "keep" else None)
    else:
        with pytest.raises(KlingStorageSetupError, match=outcome):
            video_to_keep(target, wanted, overwrite)
