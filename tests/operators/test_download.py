"""KlingDownloadVideoOperator against the simulator's CDN, to local and object storage."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import requests

from airflow_provider_kling.hooks.kling import KlingHook
from airflow_provider_kling.operators.kling import KLING_VIDEOS_ASSET, KlingDownloadVideoOperator
from airflow_provider_kling.retry import RetryPolicy
from airflow_provider_kling.task_outputs import VIDEO_URL_XCOM_KEY
from airflow_provider_kling.version_compat import AirflowException, AirflowFailException
from harness.airflow_context import FakeOutletEvents, make_context

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


def test_downloads_into_a_folder_with_sidecar_and_poster(simulator, tmp_path):
    generation_id = finished_generation(simulator)
    uri, context = run(f"{tmp_path}/videos/", generation_id=generation_id, metadata={"prompt": "a lantern festival"})
    video = Path(uri.removeprefix("file://"))
    assert video.parent == tmp_path / "videos"
    data = video.read_bytes()
    assert data[4:8] == b"ftyp"
    sidecar = json.loads(video.with_suffix(".json").read_text())
    assert sidecar["generation_id"] == generation_id
    assert sidecar["sha256"] == hashlib.sha256(data).hexdigest()
    assert sidecar["size"] == len(data)
    assert "sig=" not in sidecar["source_url"]
    assert sidecar["usage"] == {"credits_used": 980000.0}
    assert sidecar["cost"] == {"usd": 0.49, "credits": 980000}
    assert sidecar["metadata"] == {"prompt": "a lantern festival"}
    assert sidecar["probe"]["width"] == 160
    assert video.with_suffix(".jpg").read_bytes()[:2] == b"\xff\xd8"
    assert context["ti"].xcoms[VIDEO_URL_XCOM_KEY] == uri
    assert context["outlet_events"][KLING_VIDEOS_ASSET].extra["uri"] == uri
    assert context["outlet_events"][KLING_VIDEOS_ASSET].extra["cost"] == {"usd": 0.49, "credits": 980000}
    assert sorted(leftovers(video.parent)) == sorted(
        [video.name, video.with_suffix(".json").name, video.with_suffix(".jpg").name]
    )


def test_a_cost_reported_as_a_bad_number_is_unknown_in_the_sidecar_and_the_asset_event(simulator, tmp_path):
    generation_id = finished_generation(simulator)
    simulator.configure(bad_money={"usage": "NaN"})
    _, context = run(tmp_path / "out.mp4", generation_id=generation_id, poster=False)
    sidecar = json.loads((tmp_path / "out.json").read_text(), parse_constant=not_json)
    assert (sidecar["usage"], sidecar["cost"]) == ({"credits_used": "nan"}, "unknown")
    assert context["outlet_events"][KLING_VIDEOS_ASSET].extra["cost"] == "unknown"


def not_json(constant):
    raise AssertionError(f"{constant} written where JSON has no such value")


def test_downloads_to_an_explicit_file_name(simulator, tmp_path):
    uri, _ = run(tmp_path / "out.mp4", generation_id=finished_generation(simulator), poster=False, write_metadata=False)
    assert uri == f"file://{tmp_path}/out.mp4"
    assert leftovers(tmp_path) == ["out.mp4"]


def test_downloads_to_an_object_store(simulator):
    from airflow.sdk import ObjectStoragePath
    from airflow.sdk.io import attach
    from fsspec.implementations.memory import MemoryFileSystem

    attach("memory", fs=MemoryFileSystem())
    generation_id = finished_generation(simulator)
    uri, _ = run("memory://bucket/kling/", generation_id=generation_id)
    video = ObjectStoragePath(uri)
    assert video.read_bytes()[4:8] == b"ftyp"
    assert json.loads(ObjectStoragePath(uri.replace(".mp4", ".json")).read_text())["generation_id"] == generation_id


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
    sidecar = json.loads((tmp_path / "big.json").read_text())
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


def test_an_existing_different_file_is_not_overwritten_by_default(simulator, tmp_path):
    target = tmp_path / "v.mp4"
    target.write_bytes(b"precious")
    with pytest.raises(AirflowFailException, match="already exists.*overwrite=True"):
        run(target, generation_id=finished_generation(simulator))
    assert target.read_bytes() == b"precious"


def test_a_failed_overwrite_keeps_the_old_file(simulator, tmp_path):
    target = tmp_path / "v.mp4"
    target.write_bytes(b"precious")
    generation_id = finished_generation(simulator)
    simulator.configure(video_fault="truncated")
    with pytest.raises(AirflowException):
        run(target, generation_id=generation_id, overwrite=True)
    assert target.read_bytes() == b"precious"
    assert leftovers(tmp_path) == ["v.mp4"]


def test_downloading_the_same_generation_again_is_skipped(simulator, tmp_path):
    generation_id = finished_generation(simulator)
    first, _ = run(tmp_path / "v.mp4", generation_id=generation_id)
    before = simulator.stats()["video_requests"]
    second, _ = run(tmp_path / "v.mp4", generation_id=generation_id)
    assert first == second
    assert simulator.stats()["video_requests"] == before


def test_a_stale_part_file_from_a_killed_worker_is_cleaned(simulator, tmp_path):
    (tmp_path / ".v.mp4.deadbeef.part").write_bytes(b"half a video")
    run(tmp_path / "v.mp4", generation_id=finished_generation(simulator), poster=False, write_metadata=False)
    assert leftovers(tmp_path) == ["v.mp4"]


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
