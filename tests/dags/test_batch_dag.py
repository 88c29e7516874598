"""The batch production DAG end to end against the simulator (real ``airflow dags test`` runs)."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import pytest

from airflow_provider_kling.version_compat import AIRFLOW_V_3_3_PLUS
from harness.airflow_env import REPO, AirflowEnv
from harness.simulated import connection_json

pytestmark = pytest.mark.e2e
PROMPTS = REPO / "tests" / "e2e_dags" / "batch_prompts.jsonl"
DAG_ID = "kling_batch_production"


def run_batch(env: AirflowEnv, simulator, output, date: str = "2025-03-01", **params):
    result = env.run(
        "dags",
        "test",
        DAG_ID,
        date,
        "-c",
        json.dumps({"prompts_file": str(PROMPTS), **params}),
        **batch_env(simulator, output),
    )
    return result, result.stdout + result.stderr + env.task_logs()


def batch_env(simulator, output) -> dict:
    env = {
        "AIRFLOW_CONN_KLING_DEFAULT": connection_json(simulator.url),
        "AIRFLOW_VAR_KLING_OUTPUT": str(output),
        "KLING_BATCH_POLL_INTERVAL": "0.5",
    }
    return {"env": env, "timeout": 600}


def test_batch_delivers_every_good_row_reports_the_rest_and_reruns_for_free(airflow_env, simulator, tmp_path):
    simulator.configure(generation_seconds=1, max_concurrent=2)
    result, output = run_batch(airflow_env, simulator, tmp_path)
    assert result.returncode != 0  # a failed row fails the run (someone should look), after the report ran
    folder = tmp_path / "batch" / "2025-03-01"
    report = json.loads((folder / "report.json").read_text())
    statuses = {line["output"]: line["status"] for line in report["rows"]}
    assert statuses == {
        **{f"row-{n:02d}": "delivered" for n in (1, 2, 5, 6, 7)},
        "row-03": "failed",
        "row-04": "invalid",
    }, output[-3000:]
    lines = {line["output"]: line for line in report["rows"]}
    assert lines["row-03"]["error"] == "ContentPolicyViolation: The prompt was rejected by the content policy"
    assert "duration=7 is not allowed" in lines["row-04"]["error"]
    assert report["totals"]["delivered"] == 5
    # 25 s at $0.098 (v1.6 pro) + 5 s at $0.168 (v3 pro with audio), in credits (2,000,000 a dollar)
    assert report["totals"]["usage"] == {"credits_used": 6580000.0}
    assert report["totals"]["usd"] == pytest.approx(3.29)
    assert lines["row-07"]["usd"] == pytest.approx(0.84)
    assert sorted(p.name for p in folder.glob("*.mp4")) == [f"row-{n:02d}.mp4" for n in (1, 2, 5, 6, 7)]
    assert (folder / "report.csv").read_text().startswith("row,output,status,model,generation_id")
    page = (folder / "report.html").read_text()
    # Each delivered row links its video and shows its poster, by file name (the page sits beside them).
    for n in (1, 2, 5, 6, 7):
        assert f'<a href="row-{n:02d}.mp4">' in page
        assert f'<img src="row-{n:02d}.mp4.poster.jpg"' in page
    assert "ContentPolicyViolation" in page
    assert 'href="row-03.mp4"' not in page  # a failed row has no video to link
    assert "5 delivered, 0 already done, 1 failed, 1 invalid" in output
    stats = simulator.stats()
    assert stats["creates"] == 6  # every valid row once; the invalid row cost nothing
    assert stats["creates_without_client_request_id"] == 0
    # Rows may name any model: the image row went to the legacy path, the v3 row to the unified one.
    assert stats["creates_by_model"]["klingai/video-v3-pro-text-to-video"] == 1
    assert stats["creates_by_model"]["kling-video/v1.6/pro/image-to-video"] == 1
    assert set(stats["creates_by_key"].values()) == {1}
    assert stats["max_in_flight"] <= 2

    _, rerun_output = run_batch(airflow_env, simulator, tmp_path)
    assert simulator.stats()["creates"] == 7  # only the failed row is generated again
    assert "already delivered" in rerun_output
    rerun_report = json.loads((folder / "report.json").read_text())
    assert rerun_report["totals"]["already_done"] == 5


def test_a_plan_over_max_generations_is_refused_before_any_request(airflow_env, simulator, tmp_path):
    result, output = run_batch(airflow_env, simulator, tmp_path, date="2025-03-02", max_generations=5)
    assert result.returncode != 0
    assert "this run would start 6 generations, more than max_generations=5" in output, output[-3000:]
    tries = {row["task_id"]: (row["state"], row["try_number"]) for row in airflow_env.task_instances(DAG_ID)}
    # The report fails at once (it used to be retried twice, 30 s apart, over a missing plan).
    assert (tries["plan"], tries["report"]) == (("failed", 1), ("failed", 1))
    if AIRFLOW_V_3_3_PLUS:  # Airflow 3.1.0's `dags test` cannot start that report (an execution-API error)
        assert "nothing to report: the plan was refused" in output
    stats = simulator.stats()
    assert (stats["create_requests"], stats["fetch_requests"]) == (0, 0)
    assert not list((tmp_path / "batch" / "2025-03-02").glob("*.mp4"))


def test_a_dry_run_reports_the_plan_and_submits_nothing(airflow_env, simulator, tmp_path):
    result, output = run_batch(airflow_env, simulator, tmp_path, date="2025-03-03", dry_run=True)
    assert result.returncode == 0, output[-3000:]
    report = json.loads((tmp_path / "batch" / "2025-03-03" / "report.json").read_text())
    planned = {
        line["output"]: (line["model"], line["duration"]) for line in report["rows"] if line["status"] == "planned"
    }
    assert planned == {
        "row-01": ("kling-video/v1.6/pro/text-to-video", 5),
        "row-02": ("kling-video/v1.6/pro/text-to-video", None),  # no duration set; the legacy schema has no default
        "row-03": ("kling-video/v1.6/pro/text-to-video", None),
        "row-05": ("kling-video/v1.6/pro/text-to-video", 10),
        "row-06": ("kling-video/v1.6/pro/image-to-video", 5),
        "row-07": ("klingai/video-v3-pro-text-to-video", 5),
    }
    assert report["totals"]["planned"] == 6
    assert report["totals"]["invalid"] == 1
    # Priced before paying: rows without a duration (no default documented) count at their top, 10 s.
    assert "Dry run 2025-03-03: 6 would be generated for up to $5.25, 1 invalid" in output
    quotes = {line["output"]: line["quote_usd"] for line in report["rows"] if line["status"] == "planned"}
    assert quotes == pytest.approx(
        {"row-01": 0.49, "row-02": 0.98, "row-03": 0.98, "row-05": 0.98, "row-06": 0.98, "row-07": 0.84}
    )


def test_a_plan_over_its_dollar_budget_is_refused_before_any_request(airflow_env, simulator, tmp_path):
    result, output = run_batch(airflow_env, simulator, tmp_path, date="2025-03-04", max_usd=5)
    assert result.returncode != 0
    assert "this run would cost up to $5.25, more than max_usd=$5.00; nothing was submitted" in output, output[-3000:]
    assert "The priciest rows: row 2 (row-02, kling-video/v1.6/pro/text-to-video): $0.98" in output
    stats = simulator.stats()
    assert (stats["create_requests"], stats["fetch_requests"]) == (0, 0)
    stats = simulator.stats()
    assert (stats["create_requests"], stats["fetch_requests"]) == (0, 0)


def test_files_of_yours_named_like_the_batch_report_stay_byte_identical(airflow_env, simulator, tmp_path):
    from harness.user_files import changed, fingerprints

    folder = tmp_path / "batch" / "2025-03-05"
    folder.mkdir(parents=True)
    for name in ("report.json", "report.csv", "report.html"):
        (folder / name).write_text(f"your own {name}, not the product's\n")
    before = fingerprints(folder)
    result, output = run_batch(airflow_env, simulator, tmp_path, date="2025-03-05", dry_run=True)
    assert (result.returncode, changed(before, folder)) == (1, []), output[-3000:]  # refused, nothing written
    assert f"{folder}/report.json exists and it is not a report airflow-provider-kling wrote" in output
    assert fingerprints(folder).keys() == before.keys()
    assert simulator.stats()["create_requests"] == 0


def test_a_cleared_run_keeps_each_row_at_its_map_index_and_pays_nothing_twice(airflow_env, simulator, tmp_path):
    # Re-planned after some rows were delivered, the rows left used to move down onto other rows' map
    # indexes and ledger records: a row paid for but not delivered was paid for again.
    simulator.configure(generation_seconds=1)
    run_batch(airflow_env, simulator, tmp_path, date="2025-03-06")
    assert simulator.stats()["creates"] == 6
    (tmp_path / "batch" / "2025-03-06" / "row-02.mp4").unlink()  # paid for, and (now) not delivered
    with closing(sqlite3.connect(airflow_env.home / "airflow.db")) as db:
        [run_id] = db.execute("SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC", (DAG_ID,)).fetchone()
    # A person clears the run: the plan is made again in it, then each row's tasks run again.
    outputs = [
        airflow_env.run("tasks", "test", DAG_ID, task, run_id, *options, **batch_env(simulator, tmp_path))
        for task, *options in (["plan"], ["row_jobs"], ["row.generate", "--map-index", "1"])
    ]
    for result in outputs:
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    plan, _, generate = (result.stdout + result.stderr for result in outputs)
    assert simulator.stats()["creates"] == 6, generate[-3000:]  # row-02's generation was paid for: not again
    assert "Row 2 (row-02) keeps its map index from this run's plan before it was cleared" in plan
