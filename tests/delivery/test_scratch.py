"""Scratch folders: private, gone on every path, and swept when the worker that held one was killed."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
import time

import pytest

from airflow_provider_kling.delivery.scratch import SWEEP_AFTER_SECONDS, scratch_folder, scratch_root

HOLD = """
import sys, time
from airflow_provider_kling.delivery.scratch import scratch_folder
with scratch_folder("upload-") as folder:
    (folder / "object.part").write_bytes(b"x" * 1024)
    print(folder, flush=True)
    time.sleep(600)
"""


@pytest.fixture
def temp(tmp_path, monkeypatch):
    """A temporary directory of the test's own, for this process and the workers it starts."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


def age(folder) -> None:
    """As if the folder was made a while ago (Airflow retries a killed task after its retry_delay)."""
    past = time.time() - SWEEP_AFTER_SECONDS - 1
    os.utime(folder, (past, past))


def worker_holding_a_folder():
    process = subprocess.Popen([sys.executable, "-c", HOLD], stdout=subprocess.PIPE, text=True, start_new_session=True)
    return process, process.stdout.readline().strip()


def fail_inside_a_scratch_folder(made):
    with scratch_folder("frame-") as folder:
        made.append(folder)
        (folder / "clip.mp4").write_bytes(b"clip")
        raise RuntimeError("ffmpeg failed")


def test_a_scratch_folder_is_private_and_gone_after_use_or_failure(temp):
    with scratch_folder("frame-") as folder:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700
        (folder / "clip.mp4").write_bytes(b"clip")
    assert not folder.exists()
    made = []
    with pytest.raises(RuntimeError, match="ffmpeg failed"):
        fail_inside_a_scratch_folder(made)
    assert made
    assert not made[0].exists()


def test_a_folder_a_killed_worker_left_is_removed_by_the_next_task_and_a_live_ones_is_kept(temp):
    killed, left = worker_holding_a_folder()
    alive, held = worker_holding_a_folder()
    try:
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait(10)
        assert os.path.exists(left)
        age(left)
        age(held)
        with scratch_folder("upload-"):
            assert not os.path.exists(left)
            assert os.path.exists(os.path.join(held, "object.part"))
    finally:
        for process in (killed, alive):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def test_files_of_yours_in_the_temporary_directory_are_never_swept(temp):
    yours = [temp / "kling-abc12345.part", temp / "upload-notes"]
    for path in yours:
        path.write_bytes(b"precious")
    with scratch_folder("upload-"):
        pass
    assert [path.read_bytes() for path in yours] == [b"precious", b"precious"]


@pytest.mark.parametrize("planted", ["a link to elsewhere", "open to everyone", "a file"])
def test_a_private_place_planted_by_someone_else_is_not_used(temp, tmp_path, planted):
    place = temp / f"airflow-provider-kling-{os.getuid()}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (elsewhere / "theirs").write_bytes(b"precious")
    if planted == "a link to elsewhere":
        place.symlink_to(elsewhere)
    elif planted == "open to everyone":
        place.mkdir()
        place.chmod(0o777)
    else:
        place.write_bytes(b"precious")
    assert scratch_root() is None
    with scratch_folder("upload-") as folder:
        assert folder.parent == temp
    assert (elsewhere / "theirs").read_bytes() == b"precious"


def test_a_folder_made_a_moment_ago_is_not_taken_for_abandoned(temp):
    # Another task made it and is about to lock it: a sweep between the two leaves it.
    root = scratch_root()
    fresh = root / "upload-justmade"
    fresh.mkdir()
    with scratch_folder("upload-"):
        assert fresh.exists()
    age(fresh)
    with scratch_folder("upload-"):
        assert not fresh.exists()


@pytest.mark.parametrize(("mode", "used"), [(0o777, False), (0o770, False), (0o1777, True), (0o700, True)])
def test_the_private_place_is_used_only_where_nobody_else_can_rename_it(tmp_path, monkeypatch, mode, used):
    # In a shared folder without the sticky bit, another user could swap our place for a link to
    # theirs between our look and our sweep: no place, no sweep there.
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(mode)
    monkeypatch.setattr(tempfile, "tempdir", str(shared))
    assert (scratch_root() is not None) is used
    with scratch_folder("upload-") as folder:
        assert (folder.parent == shared / f"airflow-provider-kling-{os.getuid()}") is used


def test_a_relative_temporary_directory_still_gives_absolute_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", ".")
    with scratch_folder("frame-") as folder:
        assert folder.is_absolute()
