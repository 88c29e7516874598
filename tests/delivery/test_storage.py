"""Staging files: each writer's own, matched exactly, never another's; as readable as any new file."""

from __future__ import annotations

import fcntl
import os
import stat

import pytest

from airflow_provider_kling.delivery import storage


def destination(folder, name):
    return storage.as_storage_path(folder / name)


@pytest.fixture
def umask():
    """A umask that leaves group write: a file made 0600 would differ from a file made by ``open()``."""
    previous = os.umask(0o002)
    yield 0o002
    os.umask(previous)


def plain_mode(folder):
    """The mode a file written with plain ``open()`` gets in ``folder``."""
    plain = folder / "written-by-open"
    plain.write_bytes(b"x")
    return stat.S_IMODE(plain.stat().st_mode)


def test_a_stale_staging_file_is_removed_only_for_its_own_destination(tmp_path):
    own = tmp_path / ".promo[1].mp4.0123456789ab.part"
    own.write_bytes(b"left by a killed worker")
    other = tmp_path / ".promo1.mp4.0123456789ab.part"  # what the glob "promo[1].mp4" matches
    other.write_bytes(b"another video's staging")
    lookalike = tmp_path / ".promo[1].mp4.0123456789ab.part.mine"
    lookalike.write_bytes(b"a file of yours")
    with storage.staged_file(destination(tmp_path, "promo[1].mp4")) as staged:
        staged.write_bytes(b"new")
    assert not own.exists()
    assert other.read_bytes() == b"another video's staging"
    assert lookalike.read_bytes() == b"a file of yours"


def test_a_live_writers_staging_file_is_never_removed(tmp_path):
    live = tmp_path / ".v.mp4.0123456789ab.part"
    live.write_bytes(b"being written")
    with live.open("rb") as writer:
        fcntl.flock(writer, fcntl.LOCK_EX)  # as a writer in another process holds it
        with storage.staged_file(destination(tmp_path, "v.mp4")):
            pass
        assert live.read_bytes() == b"being written"


def test_two_writers_of_one_destination_keep_their_own_staging_files(tmp_path):
    target = destination(tmp_path, "v.mp4")
    with storage.staged_file(target) as first:
        first.write_bytes(b"first")
        with storage.staged_file(target) as second:
            second.write_bytes(b"second")
            assert first.read_bytes() == b"first"
        assert first.exists()
    assert sorted(tmp_path.iterdir()) == []


def test_a_staging_file_has_the_mode_any_new_file_gets(tmp_path, umask):
    with storage.staged_file(destination(tmp_path, "v.mp4")) as staged:
        mode = stat.S_IMODE(staged.stat().st_mode)
    assert mode == plain_mode(tmp_path) == 0o664


def test_a_copy_staged_from_a_private_file_takes_the_folders_mode(tmp_path, umask):
    private = tmp_path / "private" / "joined.mp4"
    private.parent.mkdir()
    private.write_bytes(b"\x00\x00\x00\x18ftypisom")
    private.chmod(0o600)  # as tempfile.mkstemp makes it
    out = tmp_path / "out"
    out.mkdir()
    with storage.staged_copy(private, destination(out, "v.mp4")) as staged:
        storage.publish(staged, destination(out, "v.mp4"))
    assert (out / "v.mp4").read_bytes() == private.read_bytes()
    assert stat.S_IMODE((out / "v.mp4").stat().st_mode) == plain_mode(out)


def test_a_new_file_never_replaces_one_that_appeared_meanwhile(tmp_path):
    from airflow_provider_kling.exceptions import KlingStorageError

    target = destination(tmp_path, "v.mp4.poster.jpg")
    with storage.staged_file(target) as staged:
        staged.write_bytes(b"ours")
        (tmp_path / "v.mp4.poster.jpg").write_bytes(b"yours, written a moment ago")
        with pytest.raises(KlingStorageError, match="appeared while it was being published"):
            storage.publish(staged, target, new=True)
    assert (tmp_path / "v.mp4.poster.jpg").read_bytes() == b"yours, written a moment ago"
    assert [path.name for path in tmp_path.iterdir()] == ["v.mp4.poster.jpg"]
    storage.write_small_file(destination(tmp_path, "v.mp4.kling.json"), b"{}", new=True)
    assert (tmp_path / "v.mp4.kling.json").read_bytes() == b"{}"
