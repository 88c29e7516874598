"""A destination is checked before any request: its name, its folder, the task's inputs, and every
file already where the video or a file beside it would go (the user's are never written over)."""

from __future__ import annotations

import pytest

from airflow_provider_kling.delivery.destination import already_delivered, check_destination
from airflow_provider_kling.exceptions import KlingStorageSetupError, KlingValidationError


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("mug\x00.mp4", "control characters (U+0000)"),
        ("mug\n.mp4", "control characters (U+000A)"),
        ("mug.jpg", "must name an .mp4 file"),
        ("mug.mp4.kling.json", "must name an .mp4 file"),
        ("a" * 250 + ".mp4", "leave room for the files written beside it"),
        ("d" * 256 + "/mug.mp4", "a folder name over 255 bytes"),
    ],
)
def test_a_name_that_cannot_work_is_refused(tmp_path, name, fragment):
    with pytest.raises(KlingValidationError, match="destination") as err:
        check_destination(f"{tmp_path}/{name}")
    assert fragment in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_made_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("a file")
    with pytest.raises(KlingStorageSetupError, match="notes.txt is a file, not a folder"):
        check_destination(tmp_path / "notes.txt" / "clips" / "v.mp4")
    # Tried, not read from permission bits: even a superuser cannot make files in /sys.
    with pytest.raises(KlingStorageSetupError, match=r"cannot create /sys/kling-clips in /sys .*give it write access"):
        check_destination("/sys/kling-clips/v.mp4")
    with pytest.raises(KlingStorageSetupError, match=r"cannot write in /sys/kernel"):
        check_destination("/sys/kernel/")


@pytest.mark.parametrize("beside", ["", ".kling.json", ".poster.jpg", ".contact-sheet.jpg", ".review.json"])
def test_the_video_and_the_files_beside_it_are_never_an_input(tmp_path, beside):
    with pytest.raises(KlingValidationError, match="would be written over the task's input"):
        check_destination(tmp_path / "clip.mp4", inputs=["https://x.example/a.png", f"{tmp_path}/CLIP.mp4{beside}"])


@pytest.mark.parametrize("theirs", ["mug.mp4", "mug.mp4.kling.json", "mug.mp4.poster.jpg", "mug.mp4.contact-sheet.jpg"])
def test_a_file_of_yours_where_a_file_would_go_is_refused_naming_it(tmp_path, theirs):
    (tmp_path / theirs).write_bytes(b"yours")
    with pytest.raises(KlingStorageSetupError) as err:
        check_destination(tmp_path / "mug.mp4")
    assert f"{tmp_path}/{theirs} exists and" in str(err.value)
    assert "overwrite=True only replaces files airflow-provider-kling wrote" in str(err.value)
    with pytest.raises(KlingStorageSetupError):
        already_delivered(tmp_path / "mug.mp4")
    assert (tmp_path / theirs).read_bytes() == b"yours"


def test_files_of_yours_that_no_video_would_use_are_no_obstacle(tmp_path):
    for name in ("mug.jpg", "mug.json", "mug.png", "other.mp4", "mug.mp4.notes", "MUG.mp4.txt"):
        (tmp_path / name).write_bytes(b"yours")
    assert str(check_destination(tmp_path / "mug.mp4")) == f"file://{tmp_path}/mug.mp4"
    assert str(check_destination(f"{tmp_path}/")) == f"file://{tmp_path}"
    assert already_delivered(tmp_path / "mug.mp4") is False
