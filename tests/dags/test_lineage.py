"""OpenLineage events of the image-to-video example, written by OpenLineage's own file transport
during a real ``airflow dags test``: the photo in, the MP4 out, the ``kling`` run facet, and no
key, prompt text or image data in any event."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from harness.e2e import dags_test
from harness.inputs import write_image
from harness.simulated import API_KEY

pytest.importorskip("airflow.providers.openlineage", reason="the lineage extra (OpenLineage provider) is not installed")
pytestmark = pytest.mark.e2e
PROMPT = "The product turns slowly on its stand, soft studio light, clean background"  # the DAG's


def events_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_an_image_to_video_run_names_the_photo_in_and_the_mp4_out(airflow_env, simulator, tmp_path):
    simulator.configure(generation_seconds=1)
    shop = tmp_path / "shop"
    mug = write_image(shop / "mug.png", 1024, 1024)
    tiny = write_image(shop / "tiny.png", 200, 200)  # below Kling's 300 px: fails before any request
    events_file = tmp_path / "lineage" / "events.jsonl"
    events_file.parent.mkdir()
    transport = {"type": "file", "log_file_path": str(events_file), "append": True}
    result, output = dags_test(
        airflow_env,
        simulator,
        "kling_image_to_video",
        fresh_process=True,
        AIRFLOW_VAR_KLING_PHOTOS=str(shop),
        AIRFLOW__OPENLINEAGE__TRANSPORT=json.dumps(transport),
        AIRFLOW__OPENLINEAGE__NAMESPACE="kling-tests",
    )
    assert result.returncode != 0, output[-3000:]  # the tiny photo's row fails; the mug's is delivered regardless
    events = events_of(events_file)
    complete = {
        e["job"]["name"].removeprefix("kling_image_to_video."): e for e in events if e["eventType"] == "COMPLETE"
    }
    animate, deliver = complete["photo.animate"], complete["photo.deliver"]
    # The photo is the generation's input; the video it made is its output and the delivery's input.
    assert [(d["namespace"], d["name"]) for d in animate["inputs"]] == [("file", str(mug))]
    [video] = animate["outputs"]
    assert video["namespace"] == simulator.url
    assert [(d["namespace"], d["name"]) for d in deliver["inputs"]] == [(video["namespace"], video["name"])]
    clip = mug.with_suffix(".mp4")
    assert ("file", str(clip)) in [(d["namespace"], d["name"]) for d in deliver["outputs"]]
    assert ("file", f"{clip}.kling.json") in [(d["namespace"], d["name"]) for d in deliver["outputs"]]
    facet = animate["run"]["facets"]["kling"]
    [generation_id] = simulator.stats()["generations"]
    assert facet["model"] == "kling-video/v1.6/pro/image-to-video"
    assert facet["generation_ids"] == [generation_id]
    assert facet["cost_usd"] == pytest.approx(0.49)
    assert facet["prompt_length"] == len(PROMPT)
    assert len(facet["prompt_sha256"]) == 64
    # The failed row: its FAIL event names the photo it read, says why, and carries the run facet.
    [failed] = [e for e in events if e["eventType"] == "FAIL" and e["job"]["name"].endswith("photo.animate")]
    assert [(d["namespace"], d["name"]) for d in failed["inputs"]] == [("file", str(tiny))]
    assert "shorter side" in failed["run"]["facets"]["errorMessage"]["message"]
    assert failed["run"]["facets"]["kling"]["model"] == "kling-video/v1.6/pro/image-to-video"
    assert simulator.stats()["create_requests"] == 1  # only the mug's
    # Nothing secret or bulky: no key, no prompt text, no image data, in any event.
    text = events_file.read_text()
    assert API_KEY not in text
    assert PROMPT not in text
    assert base64.b64encode(mug.read_bytes()).decode()[:120] not in text
    assert "base64" not in text
