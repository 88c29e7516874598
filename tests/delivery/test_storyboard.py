"""A joined storyboard and its copies are published like every video: as readable as their siblings,
completed when a file beside them went missing, and never over a file the product did not write; its
total cost is the shots' costs added up, unknown when one shot's is."""

from __future__ import annotations

import json
import logging
import stat

import pytest

from airflow_provider_kling.delivery.storyboard import FinishedShot, deliver_storyboard, publish_copy, total_cost
from airflow_provider_kling.exceptions import KlingStorageSetupError
from airflow_provider_kling.hooks.kling import KlingHook
from harness.user_files import changed, fingerprints
from tests.delivery.test_storage import plain_mode, umask  # noqa: F401 -- the umask fixture
from tests.operators.test_download import finished_generation

pytest.importorskip("imageio_ffmpeg", reason="storyboards need the media extra (imageio-ffmpeg)")
LOG = logging.getLogger("test")
NAN, INF = float("nan"), float("inf")
FILES = ["ad.mp4", "ad.mp4.contact-sheet.jpg", "ad.mp4.kling.json", "ad.mp4.poster.jpg"]


def shots(simulator):
    return [
        FinishedShot(f"Shot {n}", finished_generation(simulator, prompt), {})
        for n, prompt in enumerate(("a mug on a table", "steam rising"), start=1)
    ]


def names(folder):
    return sorted(path.name for path in folder.iterdir())


def test_the_joined_video_and_its_files_are_as_readable_as_their_siblings(simulator, tmp_path, umask):  # noqa: F811
    deliver_storyboard(KlingHook(), shots(simulator), tmp_path / "ad.mp4", logger=LOG)
    expected = plain_mode(tmp_path)
    assert stat.S_IMODE((tmp_path / "ad.mp4").stat().st_mode) == expected  # joined by ffmpeg in a private folder
    assert {name: stat.S_IMODE((tmp_path / name).stat().st_mode) for name in FILES} == dict.fromkeys(FILES, expected)


def test_a_contact_sheet_gone_missing_is_made_again_and_the_video_kept(simulator, tmp_path):
    finished = shots(simulator)
    deliver_storyboard(KlingHook(), finished, tmp_path / "ad.mp4", logger=LOG)
    before = fingerprints(tmp_path)
    (tmp_path / "ad.mp4.contact-sheet.jpg").unlink()
    again = deliver_storyboard(KlingHook(), finished, tmp_path / "ad.mp4", logger=LOG)
    assert again.skipped is False
    assert names(tmp_path) == FILES
    assert changed(before, tmp_path) in ([], ["ad.mp4.kling.json"])  # the same video, still there


def test_a_copy_is_published_whole_with_its_sidecar_naming_the_copies(simulator, tmp_path, umask):  # noqa: F811
    review, published = tmp_path / "review", tmp_path / "published"
    deliver_storyboard(KlingHook(), shots(simulator), review / "ad.mp4", logger=LOG)
    (published).mkdir()
    (published / "ad.json").write_text("yours")
    copy = publish_copy(review / "ad.mp4", published, logger=LOG)
    assert copy == f"file://{published}/ad.mp4"
    assert names(published) == ["ad.json", *FILES]
    assert fingerprints(published)["ad.mp4"] == fingerprints(review)["ad.mp4"]
    sidecar = json.loads((published / "ad.mp4.kling.json").read_text())
    assert sidecar["poster"] == f"file://{published}/ad.mp4.poster.jpg"
    assert sidecar["contact_sheet"] == f"file://{published}/ad.mp4.contact-sheet.jpg"
    assert stat.S_IMODE((published / "ad.mp4").stat().st_mode) == plain_mode(published)
    assert publish_copy(review / "ad.mp4", published, logger=LOG) == copy  # published already: kept


@pytest.mark.parametrize("theirs", FILES)
def test_a_copy_never_lands_on_a_file_of_yours(simulator, tmp_path, theirs):
    review, published = tmp_path / "review", tmp_path / "published"
    deliver_storyboard(KlingHook(), shots(simulator), review / "ad.mp4", logger=LOG)
    published.mkdir()
    (published / theirs).write_bytes(b"yours")
    with pytest.raises(KlingStorageSetupError, match=f"{theirs} exists and"):
        publish_copy(review / "ad.mp4", published, logger=LOG)
    assert names(published) == [theirs]
    assert (published / theirs).read_bytes() == b"yours"


def test_a_video_changed_since_it_was_delivered_is_not_published(simulator, tmp_path):
    review, published = tmp_path / "review", tmp_path / "published"
    deliver_storyboard(KlingHook(), shots(simulator), review / "ad.mp4", logger=LOG)
    (review / "ad.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom replaced after delivery")
    with pytest.raises(KlingStorageSetupError, match="is not the video its sidecar records"):
        publish_copy(review / "ad.mp4", published, logger=LOG)
    assert not published.exists() or names(published) == []


def reported(*usages):
    return [FinishedShot(f"Shot {n}", f"g{n}", usage) for n, usage in enumerate(usages, start=1)]


@pytest.mark.parametrize(
    ("usages", "total"),
    [
        (({"credits_used": 980000}, {"usd_spent": 0.49}), {"usd": 0.98, "credits": 1960000}),
        (({}, {}), None),  # nothing reported
        (({"credits_used": 980000}, {}), {"usd": 0.49, "credits": 980000}),
        (({"credits_used": 980000}, {"credits_used": INF}), "unknown"),
        (({"credits_used": 980000}, {"usd_spent": NAN}), "unknown"),
        (({"credits_used": 980000}, {"usd_spent": -0.49}), "unknown"),  # never lowers the total
        (({"credits_used": 980000}, {"usd_spent": "0.49"}), "unknown"),
    ],
)
def test_the_total_of_a_storyboard(usages, total):
    assert total_cost(reported(*usages)) == total
