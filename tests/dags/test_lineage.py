"""OpenLineage events written by OpenLineage's own file transport during real ``airflow dags test``
runs: the image-to-video example's photo in, MP4 out and ``kling`` run facet; and no key, prompt
text, inline image data or URL signature in any event of any entry point, nor in its task log (nor,
prompts aside, in its stored rendered fields and serialized DAG)."""

from __future__ import annotations

import base64
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from harness.e2e import dags_test
from harness.inputs import write_image
from harness.simulated import API_KEY, connection_json

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


PRIVATE_DAG = "kling_e2e_private_inputs"  # tests/e2e_dags/kling_e2e_private_inputs.py


def file_transport(events_file: Path) -> dict[str, str]:
    """OpenLineage's own file transport, one JSON event per line."""
    events_file.parent.mkdir(parents=True, exist_ok=True)
    transport = {"type": "file", "log_file_path": str(events_file), "append": True}
    return {"AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(transport), "AIRFLOW__OPENLINEAGE__NAMESPACE": "kling-tests"}


def assert_nothing_private(text: str, *, prompt: str, inline: str) -> None:
    assert prompt not in text
    assert inline[200:260] not in text
    assert "X-Amz" not in text
    assert "AKIAIOSFODNN7EXAMPLE" not in text


def stored_rows(airflow_env, dag_id: str, *tables: str) -> str:
    """Every row of ``tables`` in the metadata database that belongs to ``dag_id``, as text."""
    with closing(sqlite3.connect(airflow_env.home / "airflow.db")) as db:
        rows = (row for table in tables for row in db.execute(f"SELECT * FROM {table} WHERE dag_id = ?", (dag_id,)))
        return "\n".join(map(str, rows))


def names(datasets: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((d["namespace"], d["name"]) for d in datasets)


def test_no_event_of_any_entry_point_holds_the_prompt_the_inline_image_or_a_signature(airflow_env, simulator, tmp_path):
    pytest.importorskip("imageio_ffmpeg", reason="the storyboard needs the media extra")
    from tests.e2e_dags.kling_e2e_private_inputs import MAPPED_PROMPT, PROMPT, SIGNED

    simulator.configure(generation_seconds=1)
    inline = base64.b64encode(write_image(tmp_path / "mug.png", 640, 640).read_bytes()).decode()
    events_file = tmp_path / "lineage" / "events.jsonl"
    result, output = dags_test(
        airflow_env,
        simulator,
        PRIVATE_DAG,
        fresh_process=True,  # OpenLineage reads its transport once per process
        KLING_E2E_INLINE_IMAGE=inline,
        KLING_E2E_OUTPUT=str(tmp_path / "out"),
        **file_transport(events_file),
    )
    assert result.returncode == 0, output[-4000:]
    assert simulator.stats()["creates"] == 8
    assert simulator.stats()["creates_by_key"][MAPPED_PROMPT] == 1  # a value from an upstream XCom is not rendered
    events = events_of(events_file)
    complete = [e for e in events if e["eventType"] == "COMPLETE" and "." in e["job"]["name"]]
    jobs = sorted(e["job"]["name"].removeprefix(f"{PRIVATE_DAG}.") for e in complete)
    assert jobs == [
        "download",
        "image",
        "rows",
        "rows",
        "rows_from_upstream",
        "sensor",
        "storyboard",
        "taskflow",
        "text",
        "video",
    ]
    by_job = {e["job"]["name"].removeprefix(f"{PRIVATE_DAG}."): e for e in complete}
    # The presigned image is an input by its host and path; the inline one is no dataset at all.
    assert names(by_job["image"]["inputs"]) == [("https://shop.s3.amazonaws.com", "/products/mug.png")]
    [(namespace, name)] = names(by_job["download"]["inputs"])  # the CDN's signed URL, unsigned
    assert namespace == simulator.url
    assert name.startswith("/videos/")
    # OpenLineage's own task facet shows that parameters exist, not what they hold.
    task_facet = by_job["video"]["run"]["facets"]["airflow"]["task"]
    assert task_facet["parameters"] == "<<non-serializable: RequestParameters>>"
    assert by_job["text"]["run"]["facets"]["kling"]["prompt_length"] == len(PROMPT)
    assert_nothing_private(events_file.read_text(), prompt=PROMPT, inline=inline)
    # The task logs name each input, a presigned URL by its host and path only.
    assert f"tail_image_url: {SIGNED.split('?')[0]} (URL, sent as is)" in output
    assert_nothing_private(output, prompt=PROMPT, inline=inline)
    # What the metadata DB keeps of every task: its rendered fields (the UI's "Rendered Templates") and
    # the serialized DAG hold no signature (the image's, nor the CDN's of the downloaded video) and no
    # inline data; prompts are shown there as written.
    stored = stored_rows(airflow_env, PRIVATE_DAG, "rendered_task_instance_fields", "serialized_dag")
    assert f"{simulator.url}/videos/" in stored  # the download's rendered video_url, unsigned
    assert "X-Amz" not in stored
    assert "&sig=" not in stored
    assert inline[200:260] not in stored


def test_the_batch_dags_rows_hold_nothing_private_and_full_task_info_scopes_off(airflow_env, simulator, tmp_path):
    """The README's emission_policy rule: OpenLineage's include_full_task_info on, scoped off for Kling DAGs."""
    from tests.e2e_dags.kling_e2e_private_inputs import I2V, PROMPT, SIGNED

    simulator.configure(generation_seconds=1, max_concurrent=2)
    inline = base64.b64encode(write_image(tmp_path / "mug.png", 640, 640).read_bytes()).decode()
    rows = [
        {"output": "text", "prompt": PROMPT},
        {"output": "inline", "model": I2V, "image_url": inline, "prompt": PROMPT},
        {"output": "signed", "model": I2V, "image_url": SIGNED, "prompt": PROMPT},
    ]
    prompts = tmp_path / "rows.jsonl"
    prompts.write_text("".join(json.dumps(row) + "\n" for row in rows))
    events_file = tmp_path / "lineage" / "events.jsonl"
    policy = [{"scope": {"dag_id": "kling_.*"}, "match_mode": "regex", "controls": {"include_full_task_info": False}}]
    result = airflow_env.run(
        "dags",
        "test",
        "kling_batch_production",
        "2025-03-02",
        "-c",
        json.dumps({"prompts_file": str(prompts)}),
        env={
            "AIRFLOW_CONN_KLING_DEFAULT": connection_json(simulator.url),
            "AIRFLOW_VAR_KLING_OUTPUT": str(tmp_path / "out"),
            "KLING_BATCH_POLL_INTERVAL": "0.5",
            "AIRFLOW__OPENLINEAGE__INCLUDE_FULL_TASK_INFO": "true",
            "AIRFLOW__OPENLINEAGE__EMISSION_POLICY": json.dumps(policy),
            **file_transport(events_file),
        },
        timeout=600,
        fresh_process=True,  # OpenLineage reads its transport once per process
    )
    output = result.stdout + result.stderr + airflow_env.task_logs()
    assert result.returncode == 0, output[-4000:]
    events = events_of(events_file)
    generated = [e for e in events if e["eventType"] == "COMPLETE" and e["job"]["name"].endswith(".row.generate")]
    assert len(generated) == 3
    assert all("parameters" in e["run"]["facets"]["airflow"]["task"] for e in generated)
    assert_nothing_private(events_file.read_text(), prompt=PROMPT, inline=inline)
    assert "X-Amz" not in output  # nor in the task logs
    assert inline[200:260] not in output
