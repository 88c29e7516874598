"""What a delivery does with a video already at its destination: keep it, replace it, or refuse."""

from __future__ import annotations

import json

import pytest

from airflow_provider_kling.delivery.deliver import video_to_keep
from airflow_provider_kling.exceptions import KlingPermanentError


def wanted(sidecar):
    return sidecar.get("generation_id") == "g1"


@pytest.mark.parametrize(
    ("video", "sidecar", "overwrite", "outcome"),
    [
        (False, None, False, "free"),  # nothing there
        (False, None, True, "free"),
        (True, {"generation_id": "g1"}, False, "keep"),  # the wanted video is there
        (True, {"generation_id": "g1"}, True, "free"),  # ... and is replaced when asked to
        (True, {"generation_id": "g2"}, False, "refuse"),  # another video is there
        (True, {"generation_id": "g2"}, True, "free"),
        (True, None, False, "refuse"),  # a video of unknown origin
        (True, None, True, "free"),
    ],
)
def test_a_video_at_the_destination_is_kept_replaced_or_refused(tmp_path, video, sidecar, overwrite, outcome):
    target = tmp_path / "v.mp4"
    if video:
        target.write_bytes(b"a video")
    if sidecar is not None:
        (tmp_path / "v.json").write_text(json.dumps(sidecar))
    if outcome == "refuse":
        with pytest.raises(KlingPermanentError, match="already exists and holds another video; pass overwrite=True"):
            video_to_keep(target, wanted, overwrite)
    else:
        assert video_to_keep(target, wanted, overwrite) == (sidecar if outcome == "keep" else None)
