"""DAGs that exercise failure paths end to end (used by tests/dags/test_end_to_end.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from airflow_provider_kling.operators.kling import KlingTextToVideoOperator
from airflow_provider_kling.sensors.kling import KlingGenerationSensor

DEFAULTS = {"retries": 3, "retry_delay": timedelta(seconds=1)}


class CrashAfterSubmit(KlingTextToVideoOperator):
    """Dies on its first try right after a successful create request, like a worker lost mid-task."""

    def execute(self, context):
        generation_id = super().execute(context)
        if context["ti"].try_number == 1:
            raise RuntimeError(f"simulated worker loss after submitting {generation_id}")
        return generation_id


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False, default_args=DEFAULTS)
def kling_e2e_retry_after_submit():
    submit = CrashAfterSubmit(task_id="submit", prompt="e2e retry after submit")
    KlingGenerationSensor(task_id="wait", generation_id=submit.output, poke_interval=1, timeout=120)


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False, default_args=DEFAULTS)
def kling_e2e_operator_waits():
    generation = KlingTextToVideoOperator(
        task_id="generate", prompt="e2e operator waits", wait_for_completion=True, poll_interval=1
    )

    @task
    def check(result: dict) -> None:
        assert result["status"] == "completed", result
        assert result["video_url"], result

    check(generation.output)


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False, default_args=DEFAULTS)
def kling_e2e_generation_fails():
    submit = KlingTextToVideoOperator(task_id="submit", prompt="e2e [sim:error]")
    KlingGenerationSensor(task_id="wait", generation_id=submit.output, poke_interval=1, timeout=120)


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False, default_args=DEFAULTS)
def kling_e2e_bad_input():
    KlingTextToVideoOperator(task_id="submit", prompt="{{ 'x' }}", duration=7, aspect_ratio="4:3")


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False, default_args={"retries": 0})
def kling_e2e_sensor_deadline():
    submit = KlingTextToVideoOperator(task_id="submit", prompt="e2e [sim:never]")
    KlingGenerationSensor(task_id="wait", generation_id=submit.output, poke_interval=2, timeout=8)


kling_e2e_retry_after_submit()
kling_e2e_operator_waits()
kling_e2e_generation_fails()
kling_e2e_bad_input()
kling_e2e_sensor_deadline()
