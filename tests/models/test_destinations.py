"""Names of videos and of the files beside them; destinations that cannot work; photos and their clips."""

from __future__ import annotations

import pytest

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.destinations import (
    clip_destinations,
    companion_names,
    destination_problems,
    video_file_name,
)


def test_every_companion_is_named_after_the_full_video_name():
    assert companion_names("mug.mp4") == {
        "sidecar": "mug.mp4.kling.json",
        "poster": "mug.mp4.poster.jpg",
        "contact_sheet": "mug.mp4.contact-sheet.jpg",
        "review": "mug.mp4.review.json",
    }


@pytest.mark.parametrize(
    ("video", "photo"),
    [("mug.mp4", "mug.jpg"), ("mug.mp4", "mug.json"), ("mug.mp4", "mug.png"), ("a.mp4", "a.mp4.jpg")],
)
def test_no_companion_can_be_a_photo_or_another_videos_file(video, photo):
    others = {*companion_names("mug.MP4").values(), *companion_names("other.mp4").values()}
    assert photo not in companion_names(video).values()
    assert not set(companion_names(video).values()) & others - set(companion_names(video).values())


@pytest.mark.parametrize(
    ("location", "folder", "fragment"),
    [
        ("/data/mug.mp4", False, None),
        ("/data/MUG.MP4", False, None),
        ("bucket/clips/mug.mp4", False, None),
        ("/data/clips/", True, None),
        ("/data/mug\x00.mp4", False, "control characters (U+0000)"),
        ("/data/mug\n.mp4", False, "control characters (U+000A)"),
        ("/data/mug\t\r.mp4", False, "U+0009, U+000D"),
        ("/data/mug\x7f.mp4", False, "U+007F"),
        ("/data/mug\x85.mp4", False, "U+0085"),
        ("/data/mug\u2028.mp4", False, "U+2028"),
        ("/da\nta/", True, "control characters"),
        ("/data/mug.jpg", False, "must name an .mp4 file"),
        ("/data/mug.json", False, "must name an .mp4 file"),
        ("/data/mug", False, "must name an .mp4 file"),
        ("/data/.mp4", False, "must name an .mp4 file"),
        ("/data/" + "a" * 214 + ".mp4", False, None),  # 218 bytes: room left for mug.mp4.contact-sheet.jpg's staging
        ("/data/" + "a" * 215 + ".mp4", False, "at most 218 leave room"),
        ("/data/" + "é" * 108 + ".mp4", False, "is 220 bytes"),  # bytes, not characters
        ("/" + "d" * 256 + "/mug.mp4", False, "a folder name over 255 bytes"),
        ("/" + "d" * 256 + "/", True, "a folder name over 255 bytes"),
        ("/" + "/".join(["d" * 200] * 21) + "/mug.mp4", False, "paths are at most 4095 bytes"),
        ("/" + "/".join(["d" * 200] * 20) + "/", True, "paths are at most 4095 bytes"),
    ],
)
def test_destinations_that_cannot_work_are_named(location, folder, fragment):
    problems = destination_problems(location, folder=folder)
    if fragment is None:
        assert problems == []
    else:
        assert any(fragment in problem for problem in problems), problems


def test_a_generation_id_makes_a_safe_file_name():
    assert video_file_name("e3e7:kling-video/v1.6/pro") == "e3e7_kling-video_v1.6_pro.mp4"
    assert video_file_name("../..") == "kling-video.mp4"
    assert destination_problems("/data/" + video_file_name("x" * 500), folder=False) == []


@pytest.mark.parametrize(
    ("images", "output", "expected"),
    [
        (["/shop/mug.jpg"], None, ["/shop/mug.mp4"]),
        (["file:///shop/mug.PNG", "file:///shop/lamp.jpeg"], None, ["file:///shop/mug.mp4", "file:///shop/lamp.mp4"]),
        (["s3://conn@shop/a/mug.v2.png"], None, ["s3://conn@shop/a/mug.v2.mp4"]),
        (["https://cdn.example/p/mug.png?sig=abc"], "/out/", ["/out/mug.mp4"]),
        (["/shop/mug.jpg", "/other/mug.png"], None, ["/shop/mug.mp4", "/other/mug.mp4"]),  # two folders
        (["/shop/mug"], None, ["/shop/mug.mp4"]),
        # A '?' or '#' is part of a file's name (only a URL has a query): it used to make "mug?.mug.mp4".
        (["/shop/mug?.jpg", "file:///shop/vase#1.png"], None, ["/shop/mug?.mp4", "file:///shop/vase#1.mp4"]),
        (["s3://shop/a?b/mug?.jpg"], None, ["s3://shop/a?b/mug?.mp4"]),
    ],
)
def test_each_photo_has_its_clip_beside_it(images, output, expected):
    assert clip_destinations(images, output) == list(zip(images, expected, strict=True))


@pytest.mark.parametrize(
    ("images", "output", "fragment"),
    [
        (["/shop/mug.jpg", "/shop/mug.png"], None, "/shop/mug.jpg and /shop/mug.png would both make the clip"),
        (["/shop/Mug.jpg", "/shop/mug.png"], None, "/shop/Mug.jpg and /shop/mug.png would both make"),
        (["/shop/mug.jpg", "https://cdn.example/mug.png"], "/shop", "would both make the clip /shop/mug.mp4"),
        (["https://cdn.example/mug.png"], None, "is a URL: name an output folder"),
    ],
)
def test_two_photos_making_one_clip_are_refused(images, output, fragment):
    with pytest.raises(KlingValidationError, match="rename one|output folder") as err:
        clip_destinations(images, output)
    assert fragment in str(err.value)
