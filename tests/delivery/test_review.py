"""A review publishes exactly the video the person was shown, all or nothing, and records the decision
beside it; nothing lands on another video or a file of yours."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_kling.delivery.review import publish_reviewed, record_decision
from airflow_provider_kling.delivery.storyboard import FinishedShot, deliver_storyboard
from airflow_provider_kling.exceptions import KlingStorageSetupError
from airflow_provider_kling.hooks.kling import KlingHook
from harness.user_files import fingerprints
from tests.operators.test_download import finished_generation

pytest.importorskip("imageio_ffmpeg", reason="storyboards need the media extra (imageio-ffmpeg)")
LOG = logging.getLogger("test")
COPIES = ["ad.mp4", "ad.mp4.contact-sheet.jpg", "ad.mp4.kling.json", "ad.mp4.poster.jpg"]


def storyboard(simulator, folder, *prompts, overwrite=False):
    """A storyboard delivered to ``folder/ad.mp4`` for review; its SHA-256, as the review is shown it."""
    shots = [
        FinishedShot(f"Shot {n}", finished_generation(simulator, prompt), {})
        for n, prompt in enumerate(prompts or ("a mug on a table", "steam rising"), start=1)
    ]
    return deliver_storyboard(KlingHook(), shots, folder / "ad.mp4", overwrite=overwrite, logger=LOG).sha256


def names(folder):
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_the_video_reviewed_is_published_with_its_files_and_a_retry_keeps_the_copy(simulator, tmp_path):
    review, published = tmp_path / "review", tmp_path / "published"
    sha256 = storyboard(simulator, review)
    copy = publish_reviewed(review / "ad.mp4", published, sha256=sha256, logger=LOG)
    assert copy == f"file://{published}/ad.mp4"
    assert names(published) == COPIES
    assert fingerprints(published)["ad.mp4"] == sha256
    before = fingerprints(published)
    assert publish_reviewed(review / "ad.mp4", published, sha256=sha256, logger=LOG) == copy  # a retry
    assert fingerprints(published) == before


def test_a_video_replaced_after_its_review_is_refused_and_nothing_is_published(simulator, tmp_path):
    review, published = tmp_path / "review", tmp_path / "published"
    reviewed = storyboard(simulator, review)
    # Re-delivered by the product itself (a rerun with other shots): a valid video, but not the one reviewed.
    replaced = storyboard(simulator, review, "a teapot", "a kettle", overwrite=True)
    assert replaced != reviewed
    with pytest.raises(KlingStorageSetupError, match="is not the video that was reviewed"):
        publish_reviewed(review / "ad.mp4", published, sha256=reviewed, logger=LOG)
    assert names(published) == []


@pytest.mark.parametrize("replaced", ["ad.mp4.contact-sheet.jpg", "ad.mp4.poster.jpg"])
def test_a_file_beside_the_video_replaced_after_its_review_is_refused_and_nothing_is_published(
    simulator, tmp_path, replaced
):
    review, published = tmp_path / "review", tmp_path / "published"
    reviewed = storyboard(simulator, review)
    (review / replaced).write_bytes(b"\xff\xd8 not the still the reviewer was shown")
    with pytest.raises(KlingStorageSetupError, match=f"{replaced} is not the file its sidecar records"):
        publish_reviewed(review / "ad.mp4", published, sha256=reviewed, logger=LOG)
    assert names(published) == []  # it used to be published, recorded in the copy's sidecar as the product's


def test_another_video_already_published_is_never_replaced(simulator, tmp_path):
    review, published = tmp_path / "review", tmp_path / "published"
    first = storyboard(simulator, review)
    publish_reviewed(review / "ad.mp4", published, sha256=first, logger=LOG)
    before = fingerprints(published)
    second = storyboard(simulator, review, "a teapot", "a kettle", overwrite=True)
    with pytest.raises(KlingStorageSetupError, match="another video"):
        publish_reviewed(review / "ad.mp4", published, sha256=second, logger=LOG)
    assert fingerprints(published) == before


def test_the_decision_is_recorded_beside_the_video_naming_what_was_reviewed(simulator, tmp_path):
    sha256 = storyboard(simulator, tmp_path)
    uri = record_decision(
        tmp_path / "ad.mp4", {"decision": "rejected", "reason": "too dark"}, sha256=sha256, logger=LOG
    )
    assert uri == f"file://{tmp_path}/ad.mp4.review.json"
    record = json.loads((tmp_path / "ad.mp4.review.json").read_text())
    assert (record["decision"], record["reason"], record["sha256"], record["video"]) == (
        "rejected",
        "too dark",
        sha256,
        "ad.mp4",
    )
    # A second decision (the run was reviewed again) replaces the product's own record.
    record_decision(tmp_path / "ad.mp4", {"decision": "published"}, sha256=sha256, logger=LOG)
    assert json.loads((tmp_path / "ad.mp4.review.json").read_text())["decision"] == "published"


@pytest.mark.parametrize("yours", [b"my notes", b'{"decision": "mine"}'])
def test_a_decision_is_never_recorded_over_a_file_of_yours(simulator, tmp_path, yours):
    sha256 = storyboard(simulator, tmp_path)
    (tmp_path / "ad.mp4.review.json").write_bytes(yours)
    with pytest.raises(KlingStorageSetupError, match="was not written by airflow-provider-kling"):
        record_decision(tmp_path / "ad.mp4", {"decision": "rejected"}, sha256=sha256, logger=LOG)
    assert (tmp_path / "ad.mp4.review.json").read_bytes() == yours
