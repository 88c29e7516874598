"""A task's ``parameters``: a mapping like the dict it wraps, rendered by Airflow, shown without secrets."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest
from airflow.sdk import DAG, task

from airflow_provider_kling.operators.kling import (
    KlingDownloadVideoOperator,
    KlingImageToVideoOperator,
    KlingTextToVideoOperator,
    KlingVideoOperator,
)
from airflow_provider_kling.operators.storyboard import KlingStoryboardOperator
from airflow_provider_kling.tasks.parameters import RequestParameters, sealed

I2V = "kling-video/v1.6/pro/image-to-video"
SIGNED = "https://shop.s3.amazonaws.com/mug.png?X-Amz-Credential=AKIAX&X-Amz-Signature=f00d"
INLINE = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(600)).decode()


def test_parameters_read_and_write_like_the_dict_they_wrap():
    given = {"prompt": "a fox", "duration": 5}
    params = sealed(given)
    assert isinstance(params, RequestParameters)
    assert params == {"prompt": "a fox", "duration": 5}
    assert {**params, "model": "m"} == {"prompt": "a fox", "duration": 5, "model": "m"}
    assert params.get("aspect_ratio") is None
    assert len(params) == 2
    params["aspect_ratio"] = "9:16"
    del params["duration"]
    assert given == {"prompt": "a fox", "aspect_ratio": "9:16"}  # wrapped, not copied
    assert sealed(None) is None
    assert sealed("{{ params.rows }}") == "{{ params.rows }}"


def test_what_airflow_stores_and_logs_has_no_signature_and_no_inline_data():
    from airflow.serialization.helpers import serialize_template_field

    params = sealed({"prompt": "a mug", "image_url": INLINE, "tail_image_url": SIGNED})
    shown = {"prompt": "a mug", "image_url": f"<inline data, {len(INLINE)} characters>", "tail_image_url": SIGNED[:37]}
    assert serialize_template_field(params, "parameters") == shown  # the rendered-fields view, a serialized DAG
    assert repr(params) == f"RequestParameters({shown!r})"


def test_parameters_render_on_the_running_copy_and_leave_the_dags_operator_as_written():
    op = KlingVideoOperator(
        wait_for_completion=False, task_id="v", model=I2V, parameters={"prompt": "{{ ds }}: a fox", "image_url": SIGNED}
    )
    run = op.prepare_for_execution()  # what Airflow runs
    run.render_template_fields({"ds": "2025-01-01"})
    assert run.parameters == {"prompt": "2025-01-01: a fox", "image_url": SIGNED}
    assert op.parameters == {"prompt": "{{ ds }}: a fox", "image_url": SIGNED}
    assert run.generation_params() == {"model": I2V, "prompt": "2025-01-01: a fox", "image_url": SIGNED}


def test_an_xcomarg_inside_parameters_makes_its_task_upstream():
    with DAG("deps", start_date=datetime(2025, 1, 1), schedule=None):

        @task
        def photo() -> str:
            return "s3://shop/mug.png"

        @task
        def other() -> str:
            return "a fox"

        image, text = photo(), other()
        op = KlingVideoOperator(wait_for_completion=False, task_id="v", model=I2V, parameters={"image_url": image})
        later = KlingTextToVideoOperator(wait_for_completion=False, task_id="t")
        later.parameters = {"negative_prompt": text}  # assigned after the operator was made
    assert op.upstream_task_ids == {"photo"}
    assert later.upstream_task_ids == {"other"}


def rendered_fields(op):
    """What the task runner sends the API server as the run's rendered fields (stored in the metadata DB)."""
    import json

    from airflow.sdk.execution_time.task_runner import _serialize_rendered_fields

    run = op.prepare_for_execution()
    run.render_template_fields({"ds": "2025-01-01"})
    return json.dumps(_serialize_rendered_fields(run))


def test_the_stored_rendered_fields_of_parameters_hold_no_signature_and_no_inline_data():
    text = rendered_fields(
        KlingVideoOperator(
            wait_for_completion=False, task_id="v", model=I2V, parameters={"image_url": INLINE, "x": SIGNED}
        )
    )
    assert "X-Amz-Signature" not in text
    assert INLINE[100:160] not in text


@pytest.mark.parametrize(
    "make",
    [
        lambda: KlingImageToVideoOperator(
            wait_for_completion=False, task_id="i", image=INLINE, tail_image=SIGNED, prompt="a mug"
        ),
        lambda: KlingStoryboardOperator(
            task_id="s",
            shots=[{"prompt": "a", "image": SIGNED}, {"prompt": "b", "image": INLINE}],
            destination="/v.mp4",
        ),
        lambda: KlingDownloadVideoOperator(task_id="d", video_url=SIGNED, destination="/v.mp4"),
    ],
    ids=["image", "storyboard shots", "download video_url"],
)
def test_the_stored_rendered_fields_of_every_task_hold_no_signature_and_no_inline_data(make):
    text = rendered_fields(make())
    assert "X-Amz-Signature" not in text
    assert INLINE[100:160] not in text
