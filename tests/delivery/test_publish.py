"""A video and its companions are published as one: a failure leaves nothing of the attempt (and
puts back what it replaced), a killed attempt leaves only files its retry completes, a second
writer of one destination finds the first's video, and every file is as readable as its siblings."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest

from airflow_provider_kling.delivery.deliver import deliver_video
from airflow_provider_kling.exceptions import KlingError, KlingStorageSetupError
from airflow_provider_kling.hooks.kling import KlingHook
from harness import storage_faults
from harness.user_files import fingerprints
from tests.delivery.test_storage import plain_mode, umask  # noqa: F401 -- the umask fixture
from tests.operators.test_download import finished_generation

pytest.importorskip("imageio_ffmpeg", reason="posters need the media extra")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPLETE = ["v.mp4", "v.mp4.kling.json", "v.mp4.poster.jpg"]


def deliver(destination, generation_id, **kwargs):
    return deliver_video(KlingHook(), destination=str(destination), generation_id=generation_id, **kwargs)


def names(folder):
    return sorted(path.name for path in folder.iterdir())


@pytest.fixture
def faulty():
    storage_faults.register()
    yield storage_faults.register
    storage_faults.register(None)


@pytest.mark.parametrize("failing", [".mp4", ".json", ".jpg"])
def test_a_failed_publish_leaves_nothing_and_its_retry_delivers(simulator, tmp_path, faulty, failing):
    generation_id = finished_generation(simulator)
    faulty(("fail", failing))
    with pytest.raises(KlingError, match="injected failure"):
        deliver(storage_faults.uri(tmp_path / "v.mp4"), generation_id)
    assert names(tmp_path) == []
    faulty(None)
    delivery = deliver(storage_faults.uri(tmp_path / "v.mp4"), generation_id)
    assert (delivery.skipped, names(tmp_path)) == (False, COMPLETE)


@pytest.mark.parametrize("failing", [".mp4", ".json", ".jpg"])
def test_a_failed_replacement_puts_back_what_it_replaced(simulator, tmp_path, faulty, failing):
    first = finished_generation(simulator, "a red fox")
    deliver(storage_faults.uri(tmp_path / "v.mp4"), first)
    before = fingerprints(tmp_path)
    second = finished_generation(simulator, "a blue hare")
    faulty(("fail", failing))
    with pytest.raises(KlingError, match="injected failure"):
        deliver(storage_faults.uri(tmp_path / "v.mp4"), second, overwrite=True)
    assert fingerprints(tmp_path) == before


@pytest.mark.parametrize("failing", [".json", ".jpg"])
def test_a_failed_publish_never_removes_a_file_another_writer_put_there_meanwhile(simulator, tmp_path, faulty, failing):
    generation_id = finished_generation(simulator)
    faulty(("taken", failing))  # another writer's file lands at that key, and our upload of it fails
    with pytest.raises(KlingError, match="injected failure"):
        deliver(storage_faults.uri(tmp_path / "v.mp4"), generation_id)
    [theirs] = [path for path in tmp_path.iterdir() if path.name.endswith(failing)]
    assert theirs.read_bytes() == storage_faults.OTHER_WRITERS_BYTES  # the undo used to delete it
    assert names(tmp_path) == [theirs.name]  # what this attempt wrote is gone


@pytest.mark.parametrize("name", ["v.mp4", "v.mp4.kling.json", "v.mp4.poster.jpg"])
def test_a_dangling_symlink_of_yours_where_a_file_goes_is_refused_before_downloading_and_kept(
    simulator, tmp_path, name
):
    generation_id = finished_generation(simulator)
    link, points_to = tmp_path / name, tmp_path / "elsewhere" / "gone.jpg"
    link.symlink_to(points_to)
    with pytest.raises(KlingStorageSetupError, match=f"{name} exists and"):
        deliver(tmp_path / "v.mp4", generation_id)
    assert (names(tmp_path), os.readlink(link)) == ([name], str(points_to))  # the publish's undo deleted it
    assert simulator.stats()["video_requests"] == 0


HANGING = """
import sys
from harness import storage_faults
storage_faults.register(("hang", sys.argv[3]))
from airflow_provider_kling.delivery.deliver import deliver_video
from airflow_provider_kling.hooks.kling import KlingHook
deliver_video(KlingHook(), destination=sys.argv[1], generation_id=sys.argv[2], overwrite=True)
"""


def killed_while_uploading(destination, generation_id, suffix, marker):
    """Run a delivery in a worker process, and kill it while it uploads the file ending with ``suffix``."""
    destination.parent.mkdir(exist_ok=True)  # a folder on disk, reached as an object store (which has none)
    env = {**os.environ, storage_faults.HANG_MARKER: str(marker)}
    process = subprocess.Popen(
        [sys.executable, "-c", HANGING, storage_faults.uri(destination), generation_id, suffix],
        cwd=REPO,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), f"the delivery ended ({process.poll()}) before it uploaded {suffix}"
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


@pytest.mark.parametrize(("suffix", "left"), [(".jpg", ["v.mp4.kling.json"]), (".mp4", COMPLETE[1:])])
def test_a_worker_killed_while_publishing_leaves_what_its_retry_completes(simulator, tmp_path, suffix, left):
    out = tmp_path / "out"
    generation_id = finished_generation(simulator)
    killed_while_uploading(out / "v.mp4", generation_id, suffix, tmp_path / "hanging")
    assert names(out) == left  # the sidecar went first: it records every file about to be written
    delivery = deliver(out / "v.mp4", generation_id)
    assert (delivery.skipped, names(out)) == (False, COMPLETE)


def test_a_replacement_killed_before_its_video_is_finished_by_its_retry_only(simulator, tmp_path):
    out = tmp_path / "out"
    old = finished_generation(simulator, "a red fox")
    deliver(out / "v.mp4", old)
    old_video = (out / "v.mp4").read_bytes()
    new = finished_generation(simulator, "a blue hare")
    killed_while_uploading(out / "v.mp4", new, ".mp4", tmp_path / "hanging")
    assert (out / "v.mp4").read_bytes() == old_video  # still whole, and still the product's
    other = finished_generation(simulator, "a green owl")
    with pytest.raises(KlingStorageSetupError, match="holds another video airflow-provider-kling delivered"):
        deliver(out / "v.mp4", other)
    delivery = deliver(out / "v.mp4", new, overwrite=True)
    assert delivery.generation_id == new
    assert (out / "v.mp4").read_bytes() != old_video
    assert names(out) == COMPLETE


def test_a_companion_gone_missing_is_made_again_and_the_video_kept(simulator, tmp_path):
    generation_id = finished_generation(simulator)
    deliver(tmp_path / "v.mp4", generation_id)
    video = (tmp_path / "v.mp4").stat()
    again = deliver(tmp_path / "v.mp4", generation_id)
    assert again.skipped is True
    (tmp_path / "v.mp4.poster.jpg").unlink()
    completed = deliver(tmp_path / "v.mp4", generation_id)
    assert completed.skipped is False
    assert completed.poster_uri == f"file://{tmp_path}/v.mp4.poster.jpg"
    assert names(tmp_path) == COMPLETE
    assert (tmp_path / "v.mp4").stat().st_ino == video.st_ino  # the video itself was not written again


def concurrently(*deliveries):
    results: list = [None] * len(deliveries)

    def run(index, call):
        try:
            results[index] = call()
        except Exception as err:  # the outcome under test
            results[index] = err

    threads = [threading.Thread(target=run, args=(n, call)) for n, call in enumerate(deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_two_writers_of_one_video_publish_it_once(simulator, tmp_path):
    generation_id = finished_generation(simulator)
    results = concurrently(*[lambda: deliver(tmp_path / "v.mp4", generation_id)] * 2)
    assert sorted(result.skipped for result in results) == [False, True]
    assert names(tmp_path) == COMPLETE


def test_of_two_writers_of_different_videos_the_second_is_refused(simulator, tmp_path):
    first, second = finished_generation(simulator, "a red fox"), finished_generation(simulator, "a blue hare")
    results = concurrently(lambda: deliver(tmp_path / "v.mp4", first), lambda: deliver(tmp_path / "v.mp4", second))
    refused = [result for result in results if isinstance(result, Exception)]
    assert len(refused) == 1
    assert "holds another video airflow-provider-kling delivered" in str(refused[0])
    assert names(tmp_path) == COMPLETE


def test_every_published_file_is_as_readable_as_its_siblings(simulator, tmp_path, umask):  # noqa: F811
    deliver(tmp_path / "v.mp4", finished_generation(simulator))
    expected = plain_mode(tmp_path)
    assert {name: stat.S_IMODE((tmp_path / name).stat().st_mode) for name in COMPLETE} == dict.fromkeys(
        COMPLETE, expected
    )
