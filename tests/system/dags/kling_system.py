"""DAGs the system tests run on a real scheduler, triggerers and workers."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, get_current_context, task

from airflow_provider_kling.operators.kling import KlingTextToVideoOperator


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    params={"count": Param(10, type="integer", minimum=1), "label": Param("fanout", type="string")},
    default_args={"retries": 3, "retry_delay": timedelta(seconds=2)},
)
def kling_system_fanout():
    """``count`` mapped generations, each waiting deferred in the triggerer (downloads: see the batch DAG)."""

    @task
    def prompts() -> list[str]:
        context = get_current_context()
        label = context["params"]["label"]
        return [f"{label} {context['run_id']} video {i}" for i in range(context["params"]["count"])]

    KlingTextToVideoOperator.partial(task_id="generate", wait_for_completion=True, poll_interval=2, timeout=600).expand(
        prompt=prompts()
    )


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=1)},
)
def kling_system_poll_in_place():
    """One generation waited for on the worker (``deferrable=False``): the worker holds it all along."""
    KlingTextToVideoOperator(
        task_id="generate",
        prompt="system poll in place {{ run_id }}",
        wait_for_completion=True,
        deferrable=False,
        poll_interval=1,
        timeout=600,
    )


kling_system_fanout()
kling_system_poll_in_place()


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    params={"count": Param(10, type="integer", minimum=1)},
)
def kling_system_noop():
    """The same fan-out with a task that does nothing: Airflow's own cost per mapped task instance."""

    @task
    def items() -> list[int]:
        return list(range(get_current_context()["params"]["count"]))

    @task
    def nothing(item: int) -> int:
        return item

    nothing.expand(item=items())


kling_system_noop()


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    params={"count": Param(20, type="integer", minimum=1)},
    default_args={"retries": 2, "retry_delay": timedelta(seconds=2)},
)
def kling_system_mapped_sensors():
    """The README's pattern for many videos: mapped submits, then mapped sensors on their output."""
    from airflow_provider_kling.sensors.kling import KlingGenerationSensor

    @task
    def prompts() -> list[str]:
        context = get_current_context()
        return [f"mapped wait {context['run_id']} video {i}" for i in range(context["params"]["count"])]

    submit = KlingTextToVideoOperator.partial(wait_for_completion=False, task_id="submit").expand(prompt=prompts())
    KlingGenerationSensor.partial(task_id="wait", poke_interval=1, timeout=600).expand(generation_id=submit.output)


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=2)},
)
def kling_system_sensor_timeout():
    """A sensor whose 5 s timeout passes long before the render ends."""
    from airflow_provider_kling.sensors.kling import KlingGenerationSensor

    submit = KlingTextToVideoOperator(wait_for_completion=False, task_id="submit", prompt="sensor timeout {{ run_id }}")
    KlingGenerationSensor(task_id="wait", generation_id=submit.output, poke_interval=1, timeout=5)


kling_system_mapped_sensors()
kling_system_sensor_timeout()


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=1)},
)
def kling_system_storyboard_in_place():
    """A three-shot storyboard waited for on the worker (``deferrable=False``), to kill it mid-way."""
    from airflow_provider_kling.operators.storyboard import KlingStoryboardOperator

    KlingStoryboardOperator(
        task_id="storyboard",
        shots=[{"prompt": f"system storyboard shot {n} {{{{ run_id }}}}", "duration": 5} for n in (1, 2, 3)],
        destination="{{ var.value.kling_output }}/storyboards/{{ run_id | replace(':', '_') }}.mp4",
        deferrable=False,
        poll_interval=1,
        timeout=600,
    )


kling_system_storyboard_in_place()
