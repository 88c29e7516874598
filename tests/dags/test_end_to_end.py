"""The failure-path DAG run by the real ``airflow dags test`` against the simulator: one run of
every branch (module fixture), each test reading its outcome. The examples: ``test_examples.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.airflow_env import AirflowEnv
from harness.e2e import ANSI
from harness.simulated import API_KEY, DEFAULTS, connection_json
from tests.e2e_dags import kling_e2e_scenarios as scenarios

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def failure_paths(airflow_env, simulator_process, tmp_path_factory):
    """One ``airflow dags test`` run of every failure-path branch; the tests below read its outcome."""
    simulator_process.configure(**{**DEFAULTS, "generation_seconds": 1.0, "api_key": API_KEY})
    simulator_process.reset()
    # A short request-log wait: the unlogged branch's row never appears.
    connection = connection_json(simulator_process.url, request_log_wait=1.5)
    output_folder = tmp_path_factory.mktemp("failure-paths")
    env = {
        "AIRFLOW_CONN_KLING_DEFAULT": connection,
        "KLING_POLL_INTERVAL": "0.3",
        "AIRFLOW_VAR_KLING_OUTPUT": str(output_folder),
    }
    result = airflow_env.dags_test("kling_e2e_failure_paths", env=env)
    output = ANSI.sub("", result.stdout + result.stderr + airflow_env.task_logs())
    rows = {row["task_id"]: row for row in airflow_env.task_instances("kling_e2e_failure_paths")}
    return result, output, rows, simulator_process.stats() | {"output_folder": output_folder}


def test_the_failure_paths_fail_the_run_and_nothing_else(failure_paths):
    result, output, rows, _ = failure_paths
    assert result.returncode != 0  # three branches fail on purpose
    states = {task_id: row["state"] for task_id, row in rows.items()}
    assert states == {
        "retry_submit": "success",
        "retry_wait": "success",
        "waits_generate": "success",
        "waits_check": "success",
        "fails_submit": "success",
        "fails_wait": "failed",
        "bad_input": "failed",
        "deadline_submit": "success",
        "deadline_wait": "failed",
        "lost_answer": "success",
        "lost_download": "success",
        "failed_create": "failed",
        "unlogged_create": "failed",
    }, output[-4000:]


def test_a_task_killed_after_submitting_reattaches_on_retry(failure_paths):
    _, output, rows, stats = failure_paths
    assert "simulated worker loss" in output
    assert "Reattaching to generation" in output
    assert rows["retry_submit"]["try_number"] == 2
    assert stats["creates_by_key"][scenarios.RETRY_PROMPT] == 1


def test_operator_waits_deferred_and_returns_the_generation(failure_paths):
    _, _, rows, stats = failure_paths
    assert rows["waits_check"]["state"] == "success"  # it asserted status and video_url itself
    assert stats["creates_by_key"][scenarios.WAITS_PROMPT] == 1


def test_a_failed_generation_fails_once_without_retries(failure_paths):
    _, output, rows, stats = failure_paths
    assert rows["fails_wait"]["try_number"] == 1  # retries=3, yet no retry: retrying cannot help
    assert "The prompt was rejected by the content policy" in output
    assert stats["creates_by_key"][scenarios.FAILS_PROMPT] == 1


def test_bad_input_fails_before_any_request(failure_paths):
    _, output, rows, stats = failure_paths
    assert rows["bad_input"]["try_number"] == 1
    assert "duration=7 is not allowed for kling-video/v1.6/pro/text-to-video; allowed values: 5, 10" in output
    assert "x" not in stats["creates_by_key"]
    # Every other branch made exactly one create request (the failed create two); the bad one none.
    assert stats["create_requests"] == 4 + 1 + 2 + 1


def test_a_lost_create_answer_is_recovered_from_the_request_log_with_one_create(failure_paths):
    _, output, rows, stats = failure_paths
    assert rows["lost_answer"]["try_number"] == 1
    assert (stats["create_requests_by_key"][scenarios.LOST_PROMPT], stats["creates_by_key"][scenarios.LOST_PROMPT]) == (
        1,
        1,
    )
    assert "reattaching, no second create" in output
    [video] = (stats["output_folder"] / "e2e").glob("*.mp4")  # and its video was delivered
    assert video.read_bytes()[4:8] == b"ftyp"


def test_a_create_the_log_shows_failed_is_sent_once_more_and_no_more(failure_paths):
    _, output, rows, stats = failure_paths
    assert rows["failed_create"]["try_number"] == 1  # retries=3, yet no retry
    assert stats["create_requests_by_key"][scenarios.FAILED_CREATE_PROMPT] == 2
    assert scenarios.FAILED_CREATE_PROMPT not in stats["creates_by_key"]
    assert "nothing was created; sending it once more" in output


def test_a_lost_answer_the_log_never_shows_fails_once_saying_it_may_have_been_billed(failure_paths):
    _, output, rows, stats = failure_paths
    assert rows["unlogged_create"]["try_number"] == 1
    assert stats["create_requests_by_key"][scenarios.UNLOGGED_PROMPT] == 1
    assert "with client request id kling:unlogged_create:" in output
    assert "may have been billed" in output


def test_a_deferred_sensor_timeout_ends_the_wait_on_time(failure_paths):
    _, output, _, _ = failure_paths
    assert "Gave up waiting for generation" in output
    # The sensor's own span is in its log lines: from deferring to the timeout event.
    reached = next(line for line in output.splitlines() if "Deadline reached for generation" in line)
    generation_id = reached.split("Deadline reached for generation ", 1)[1].split()[0]
    deferred_at = _log_time(output, f"Generation {generation_id} is still rendering: deferring")
    gave_up_at = _log_time(output, f"Deadline reached for generation {generation_id}")
    deadline = scenarios.DEADLINE_SECONDS
    assert deadline - 1 <= gave_up_at - deferred_at <= deadline + 3, gave_up_at - deferred_at


def _log_time(output: str, needle: str) -> float:
    from datetime import datetime

    line = next(line for line in output.splitlines() if needle in line)
    return datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).timestamp()


def test_scan_helper_can_fail(tmp_path: Path):
    env = AirflowEnv(tmp_path / "home", [])
    (env.home / "log.txt").write_text(f"oops {API_KEY}")
    assert env.files_containing(API_KEY) == ["log.txt"]
