"""KlingDownloadVideoOperator against the simulator's CDN, to local and object storage."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import requests

from airflow_provider_kling.hooks.kling import KlingHook
from airflow_provider_kling.models.video_records import VIDEO_RECORD_XCOM_KEY
from airflow_provider_kling.operators.kling import KLING_VIDEOS_ASSET, KlingDownloadVideoOperator
from airflow_provider_kling.retry import RetryPolicy
from airflow_provider_kling.task_outputs import VIDEO_URL_XCOM_KEY
from airflow_provider_kling.version_compat import AirflowException, AirflowFailException
from harness.airflow_context import FakeOutletEvents, make_context
from harness.user_files import changed, fingerprints

FAST_RETRIES = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, budget=5)


def finished_generation(simulator, prompt: str = "a lantern festival") -> str:
    hook = KlingHook()
    generation_id = hook.submit_generation(prompt)
    simulator.finish_renders()
    assert hook.get_generation(generation_id).is_finished
    return generation_id


def download(destination, **kwargs):
    op = KlingDownloadVideoOperator(task_id="download", destination=destination, **kwargs)
    op.hook.retry_policy = FAST_RETRIES
    context = make_context(op)
    context["outlet_events"] = FakeOutletEvents()
    return op, context


def run(destination, **kwargs):
    op, context = download(destination, **kwargs)
    return op.execute(context), context


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def beside(video: Path, suffix: str) -> Path:
    """A file written beside ``video``: named after its full name (``v.mp4.kling.json``)."""
    return video.with_name(video.name + suffix)


def test_downloads_into_a_folder_with_sidecar_and_poster(simulator, tmp_path):
    generation_id = finished_generation(simulator)
    uri, context = run(f"{tmp_path}/videos/", generation_id=generation_id, metadata={"prompt": "a lantern festival"})
    video = Path(uri.removeprefix("file://"))
    assert video.parent == tmp_path / "videos"
    data = video.read_bytes()
    assert data[4:8] == b"ftyp"
    sidecar = json.loads(beside(video, ".kling.json").read_text())
    assert sidecar["generation_id"] == generation_id
    assert sidecar["sha256"] == hashlib.sha256(data).hexdigest()
    assert sidecar["size"] == len(data)
    assert "sig=" not in sidecar["source_url"]
    assert sidecar["usage"] == {"credits_used": 980000.0}
    assert sidecar["cost"] == {"usd": 0.49, "credits": 980000}
    assert sidecar["metadata"] == {"prompt": "a lantern festival"}
    # The task instance that delivered it: the Video tab shows it to readers of this DAG only.
    assert sidecar["delivered_by"] == {"dag_id": "dag", "run_id": "run", "task_id": "download", "map_index": -1}
    assert sidecar["probe"]["width"] == 160
    assert beside(video, ".poster.jpg").read_bytes()[:2] == b"\xff\xd8"
    assert context["ti"].xcoms[VIDEO_URL_XCOM_KEY] == uri
    record = context["ti"].xcoms[VIDEO_RECORD_XCOM_KEY]
    assert record["seconds"] == sidecar["probe"]["duration"]  # the Videos page shows the length it probed
    assert (record["generation_ids"], record["usd"], record["delivered"], record["poster"]) == (
        [generation_id],
        0.49,
        True,
        True,
    )
    assert context["outlet_events"][KLING_VIDEOS_ASSET].extra["uri"] == uri
    assert context["outlet_events"][KLING_VIDEOS_ASSET].extra["cost"] == {"usd": 0.49, "credits": 980000}
    assert leftovers(video.parent) == [video.name, f"{video.name}.kling.json", f"{video.name}.poster.jpg"]


def test_a_cost_reported_as_a_bad_number_is_unknown_in_the_sidecar_and_the_asset_event(simulator, tmp_path):
    generation_id = finished_generation(simulator)
    simulator.configure(bad_money={"usage": "NaN"})
    _, context = run(tmp_path / "out.mp4", generation_id=generation_id, poster=False)
    sidecar = json.loads((tmp_path / "out.mp4.kling.json").read_text(), parse_constant=not_json)
    assert (sidecar["usage"], sidecar["cost"]) == ({"credits_used": "nan"}, "unknown")
    assert context["outlet_events"][KLING_VIDEOS_ASSET].extra["cost"] == "unknown"


def not_json(constant):
    raise AssertionError(f"{constant} written where JSON has no such value")


def test_downloads_to_an_explicit_file_name(simulator, tmp_path):
    uri, _ = run(tmp_path / "out.mp4", generation_id=finished_generation(simulator), poster=False, write_metadata=False)
    assert uri == f"file://{tmp_path}/out.mp4"
    # The sidecar is always written (it proves the video is the product's); without metadata it only says which.
    assert leftovers(tmp_path) == ["out.mp4", "out.mp4.kling.json"]
    sidecar = json.loads((tmp_path / "out.mp4.kling.json").read_text())
    assert "usage" not in sidecar
    assert sidecar["written_by"] == "airflow-provider-kling"


def test_downloads_to_an_object_store(simulator):
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io import attach
    from fsspec.implementations.memory import MemoryFileSystem

    attach("memory", fs=MemoryFileSystem())
    generation_id = finished_generation(simulator)
    uri, _ = run("memory://bucket/kling/", generation_id=generation_id)
    video = ObjectStoragePath(uri)
    assert video.read_bytes()[4:8] == b"ftyp"
    assert json.loads(ObjectStoragePath(uri + ".kling.json").read_text())["generation_id"] == generation_id


def test_a_video_of_many_chunks_arrives_whole_with_its_checksum(simulator, tmp_path):
    # Several download chunks, and more than the hasher's queue holds: the bytes written and the
    # checksum computed on the worker thread must both cover every chunk, in order.
    simulator.configure(video_size=9 * (1 << 20) + 12345)
    generation_id = finished_generation(simulator)
    uri, _ = run(tmp_path / "big.mp4", generation_id=generation_id, poster=False)
    data = Path(uri.removeprefix("file://")).read_bytes()
    sent = requests.get(KlingHook().get_generation(generation_id).video_url, timeout=30).content
    assert len(data) == 9 * (1 << 20) + 12345
    assert data == sent
    sidecar = json.loads((tmp_path / "big.mp4.kling.json").read_text())
    assert sidecar["sha256"] == hashlib.sha256(sent).hexdigest()


def test_a_truncated_body_is_a_retriable_failure_that_leaves_nothing(simulator, tmp_path):
    generation_id = finished_generation(simulator)
    simulator.configure(video_fault="truncated")
    with pytest.raises(AirflowException, match="Video download") as excinfo:
        run(tmp_path / "v.mp4", generation_id=generation_id)
    assert not isinstance(excinfo.value, AirflowFailException)
    assert leftovers(tmp_path) == []
    assert simulator.stats()["faults"]["video_truncated"] == 3  # retried by the shared policy


def test_wrong_content_is_a_clear_failure_that_leaves_nothing(simulator, tmp_path):
    generation_id = finished_generation(simulator)
    simulator.configure(video_fault="wrong_content")
    with pytest.raises(AirflowException, match=r"did not serve an MP4 \(expected an 'ftyp' box, got b'<html>"):
        run(tmp_path / "v.mp4", generation_id=generation_id)
    assert leftovers(tmp_path) == []
    assert simulator.stats()["faults"]["video_wrong_content"] == 1  # not retried in-task


def test_an_expired_url_is_refreshed_once(simulator, tmp_path, capsys):
    generation_id = finished_generation(simulator)
    simulator.configure(video_fault="expired_once")
    uri, _ = run(tmp_path / "v.mp4", generation_id=generation_id)
    assert Path(uri.removeprefix("file://")).read_bytes()[4:8] == b"ftyp"
    assert simulator.stats()["video_requests"] == 2
    assert "fetching generation" in capsys.readouterr().out


def test_an_url_refused_twice_fails_saying_it_expired(simulator, tmp_path):
    generation_id = finished_generation(simulator)
    simulator.configure(video_fault="expired")
    with pytest.raises(AirflowFailException, match="has expired: the CDN refused it \\(HTTP 403\\) even after"):
        run(tmp_path / "v.mp4", generation_id=generation_id)
    assert leftovers(tmp_path) == []


def test_a_bare_expired_url_cannot_be_refreshed(simulator, tmp_path):
    url = KlingHook().get_generation(finished_generation(simulator)).video_url
    simulator.configure(video_fault="expired")
    with pytest.raises(AirflowFailException, match="Pass generation_id instead of video_url"):
        run(tmp_path / "v.mp4", video_url=url)


def test_another_video_of_the_products_is_replaced_only_with_overwrite(simulator, tmp_path):
    run(tmp_path / "v.mp4", generation_id=finished_generation(simulator, "a red fox"))
    first = (tmp_path / "v.mp4").read_bytes()
    other = finished_generation(simulator, "a blue hare")
    with pytest.raises(
        AirflowFailException, match="holds another video airflow-provider-kling delivered.*overwrite=True"
    ):
        run(tmp_path / "v.mp4", generation_id=other)
    assert (tmp_path / "v.mp4").read_bytes() == first
    run(tmp_path / "v.mp4", generation_id=other, overwrite=True)
    assert json.loads((tmp_path / "v.mp4.kling.json").read_text())["generation_id"] == other


def test_a_failed_overwrite_keeps_the_old_video(simulator, tmp_path):
    run(tmp_path / "v.mp4", generation_id=finished_generation(simulator, "a red fox"))
    before = fingerprints(tmp_path)
    generation_id = finished_generation(simulator, "a blue hare")
    simulator.configure(video_fault="truncated")
    with pytest.raises(AirflowException):
        run(tmp_path / "v.mp4", generation_id=generation_id, overwrite=True)
    assert fingerprints(tmp_path) == before


@pytest.mark.parametrize("overwrite", [False, True])
@pytest.mark.parametrize("theirs", ["mug.mp4", "mug.mp4.kling.json", "mug.mp4.poster.jpg"])
def test_a_file_of_yours_where_the_video_or_a_file_beside_it_goes_is_refused_before_downloading(
    simulator, tmp_path, theirs, overwrite
):
    (tmp_path / theirs).write_bytes(b"precious")
    with pytest.raises(AirflowFailException, match=f"{theirs} exists and .*only replaces files airflow-provider-kling"):
        run(tmp_path / "mug.mp4", generation_id=finished_generation(simulator), overwrite=overwrite)
    assert simulator.stats()["video_requests"] == 0
    assert leftovers(tmp_path) == [theirs]
    assert (tmp_path / theirs).read_bytes() == b"precious"


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_photo_is_never_a_destination(simulator, tmp_path, overwrite):
    (tmp_path / "mug.jpg").write_bytes(b"a photo")
    with pytest.raises(AirflowFailException, match="must name an .mp4 file"):
        run(tmp_path / "mug.jpg", generation_id=finished_generation(simulator), overwrite=overwrite)
    assert (tmp_path / "mug.jpg").read_bytes() == b"a photo"
    assert simulator.stats()["video_requests"] == 0


def test_the_files_of_yours_beside_a_video_stay_byte_identical(simulator, tmp_path):
    for name in ("mug.jpg", "mug.png", "mug.json", "mug.jpeg", "other.mp4", "other.mp4.notes.txt", "MUG.txt"):
        (tmp_path / name).write_bytes(f"yours: {name}".encode())
    yours = fingerprints(tmp_path)
    run(tmp_path / "mug.mp4", generation_id=finished_generation(simulator))
    run(f"{tmp_path}/", generation_id=finished_generation(simulator, "into the folder"))
    assert changed(yours, tmp_path) == []
    assert len(leftovers(tmp_path)) == len(yours) + 6  # two videos, each with its sidecar and poster


def test_a_delivered_video_changed_since_is_yours_now(simulator, tmp_path):
    generation_id = finished_generation(simulator)
    run(tmp_path / "v.mp4", generation_id=generation_id)
    (tmp_path / "v.mp4").write_bytes(b"edited by hand")
    for overwrite in (False, True):
        with pytest.raises(AirflowFailException, match="its bytes are not those its sidecar .* records"):
            run(tmp_path / "v.mp4", generation_id=generation_id, overwrite=overwrite)
    assert (tmp_path / "v.mp4").read_bytes() == b"edited by hand"


def test_downloading_the_same_generation_again_is_skipped(simulator, tmp_path):
    generation_id = finished_generation(simulator)
    first, _ = run(tmp_path / "v.mp4", generation_id=generation_id)
    before = simulator.stats()["video_requests"]
    second, _ = run(tmp_path / "v.mp4", generation_id=generation_id)
    assert first == second
    assert simulator.stats()["video_requests"] == before


def test_a_stale_part_file_from_a_killed_worker_is_cleaned(simulator, tmp_path):
    (tmp_path / ".v.mp4.0123456789ab.part").write_bytes(b"half a video")
    run(tmp_path / "v.mp4", generation_id=finished_generation(simulator), poster=False)
    assert leftovers(tmp_path) == ["v.mp4", "v.mp4.kling.json"]


def test_a_generation_still_rendering_cannot_be_downloaded(simulator, tmp_path):
    generation_id = KlingHook().submit_generation("not yet")
    with pytest.raises(AirflowFailException, match="has no video to download \\(status 'queued'\\)"):
        run(tmp_path / "v.mp4", generation_id=generation_id)


def test_nothing_to_download_is_a_clear_error(tmp_path):
    with pytest.raises(AirflowFailException, match="Pass generation_id"):
        run(tmp_path / "v.mp4")


def test_the_api_key_is_not_sent_to_the_video_cdn(simulator):
    from airflow_provider_kling.delivery.download import VideoDownloader

    hook = KlingHook()
    assert "Authorization" not in VideoDownloader.for_hook(hook).session.headers
    assert "Authorization" in hook.session.headers
