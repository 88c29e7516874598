"""Failure paths end to end in one DAG, so one ``airflow dags test`` run covers them all.

Each branch is independent; its prompt is its key in the simulator's ``creates_by_key``. Used by
``tests/dags/test_end_to_end.py``. Several branches fail on purpose, so the run itself fails.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task

from airflow_provider_kling.operators.kling import KlingDownloadVideoOperator, KlingTextToVideoOperator
from airflow_provider_kling.sensors.kling import KlingGenerationSensor

DEFAULTS = {"retries": 3, "retry_delay": timedelta(seconds=1)}
RETRY_PROMPT = "e2e retry after submit"
WAITS_PROMPT = "e2e operator waits"
FAILS_PROMPT = "e2e [sim:error]"
DEADLINE_PROMPT = "e2e [sim:never]"
DEADLINE_SECONDS = 4
LOST_PROMPT = "e2e [sim:lost-answer]"
FAILED_CREATE_PROMPT = "e2e [sim:create-fails]"
UNLOGGED_PROMPT = "e2e [sim:lost-unlogged]"


class CrashAfterSubmit(KlingTextToVideoOperator):
    """Dies on its first try right after a successful create request, like a worker lost mid-task."""

    def execute(self, context):
        generation_id = super().execute(context)
        if context["ti"].try_number == 1:
            raise RuntimeError(f"simulated worker loss after submitting {generation_id}")
        return generation_id


@dag(schedule=None, start_date=datetime(2025, 1, 1), catchup=False, default_args=DEFAULTS)
def kling_e2e_failure_paths():
    # A retry after a successful submit reattaches instead of paying again.
    retry_submit = CrashAfterSubmit(task_id="retry_submit", prompt=RETRY_PROMPT, wait_for_completion=False)
    KlingGenerationSensor(task_id="retry_wait", generation_id=retry_submit.output, poke_interval=1, timeout=120)

    # The operator waits deferred and returns the finished generation.
    generation = KlingTextToVideoOperator(
        task_id="waits_generate", prompt=WAITS_PROMPT, wait_for_completion=True, poll_interval=0.3
    )

    @task
    def waits_check(result: dict) -> None:
        assert result["status"] == "completed", result
        assert result["video_url"], result

    waits_check(generation.output)

    # status: error fails the sensor once, without using its retries.
    fails_submit = KlingTextToVideoOperator(wait_for_completion=False, task_id="fails_submit", prompt=FAILS_PROMPT)
    KlingGenerationSensor(task_id="fails_wait", generation_id=fails_submit.output, poke_interval=1, timeout=120)

    # Bad input fails before any request, without retries.
    KlingTextToVideoOperator(
        wait_for_completion=False, task_id="bad_input", prompt="{{ 'x' }}", duration=7, aspect_ratio="4:3"
    )

    # A deferred sensor's timeout ends the wait on time (the trigger enforces it).
    deadline_submit = KlingTextToVideoOperator(
        wait_for_completion=False, task_id="deadline_submit", prompt=DEADLINE_PROMPT
    )
    KlingGenerationSensor(
        task_id="deadline_wait",
        generation_id=deadline_submit.output,
        poke_interval=2,
        timeout=DEADLINE_SECONDS,
        retries=0,
    )

    # A create whose answer is lost (504 after creating) is found in the request log: one create, and
    # its video is delivered.
    lost = KlingTextToVideoOperator(
        task_id="lost_answer", prompt=LOST_PROMPT, wait_for_completion=True, poll_interval=0.3
    )
    lost >> KlingDownloadVideoOperator(
        task_id="lost_download",
        generation_id="{{ ti.xcom_pull(task_ids='lost_answer', key='kling_generation_id') }}",
        destination="{{ var.value.get('kling_output', '/tmp/kling-videos') }}/e2e/",
    )
    # A create the request log shows failed is sent once more, and no more.
    KlingTextToVideoOperator(wait_for_completion=False, task_id="failed_create", prompt=FAILED_CREATE_PROMPT)
    # A lost answer the log never shows fails once, naming the client request id.
    KlingTextToVideoOperator(wait_for_completion=False, task_id="unlogged_create", prompt=UNLOGGED_PROMPT)


kling_e2e_failure_paths()
