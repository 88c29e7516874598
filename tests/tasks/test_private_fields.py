"""Private template fields: Airflow serialises, stores and shows them without a signature or inline data;
the task renders and sends the real values."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from datetime import datetime

import pytest
from airflow.sdk import DAG

from airflow_provider_kling.operators.kling import KlingDownloadVideoOperator, KlingImageToVideoOperator
from airflow_provider_kling.operators.storyboard import KlingStoryboardOperator
from airflow_provider_kling.tasks.private_fields import working_values
from harness.airflow_context import make_context
from harness.inputs import write_image

SIGNED = "https://shop.s3.amazonaws.com/mug.png?X-Amz-Credential=AKIAX&X-Amz-Signature=f00d"
UNSIGNED = "https://shop.s3.amazonaws.com/mug.png"
INLINE = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(600)).decode()
SHOWN_INLINE = f"<inline data, {len(INLINE)} characters>"


def image_task(**kwargs):
    return KlingImageToVideoOperator(
        wait_for_completion=False, task_id="i", image=SIGNED, tail_image=INLINE, prompt="a mug", **kwargs
    )


def test_a_private_field_reads_as_shown_and_the_request_gets_the_real_value():
    op = image_task()
    assert (op.image, op.tail_image) == (UNSIGNED, SHOWN_INLINE)
    assert op.generation_params() == {
        "model": op.model,
        "image_url": SIGNED,
        "tail_image_url": INLINE,
        "prompt": "a mug",
    }
    with working_values(op), working_values(op):
        assert (op.image, op.tail_image) == (SIGNED, INLINE)
    assert op.image == UNSIGNED  # closed again once the outer block ends
    shots = [{"prompt": "a", "image": SIGNED, "parameters": {"tail_image_url": INLINE}}]
    board = KlingStoryboardOperator(task_id="s", shots=shots, destination="/v.mp4")
    assert board.shots == [{"prompt": "a", "image": UNSIGNED, "parameters": {"tail_image_url": SHOWN_INLINE}}]
    assert KlingDownloadVideoOperator(task_id="d", video_url=SIGNED, destination="/v.mp4").video_url == UNSIGNED


def test_a_template_is_rendered_from_the_real_value_and_the_dags_task_stays_as_written():
    written = "https://shop.s3.amazonaws.com/{{ ds }}/mug.png?X-Amz-Signature=f00d"
    op = KlingImageToVideoOperator(
        wait_for_completion=False, task_id="i", image=written, tail_image="{{ params.tail }}"
    )
    run = op.prepare_for_execution()  # what Airflow runs: a copy of the DAG's task
    run.render_template_fields({"ds": "2025-01-01", "params": {"tail": INLINE}})
    assert (run.image, run.tail_image) == ("https://shop.s3.amazonaws.com/2025-01-01/mug.png", SHOWN_INLINE)
    # map_index_template of dags/kling_image_to_video.py reads the shown value.
    assert run.image.split("?")[0].rsplit("/", 1)[-1] == "mug.png"
    params = run.generation_params()
    assert params["image_url"] == "https://shop.s3.amazonaws.com/2025-01-01/mug.png?X-Amz-Signature=f00d"
    assert params["tail_image_url"] == INLINE
    with working_values(op):
        assert (op.image, op.tail_image) == (written, "{{ params.tail }}")


def test_copies_keep_the_real_values_and_setting_one_leaves_the_other():
    op = image_task()
    deep = copy.deepcopy(op)
    shallow = copy.copy(op)
    shallow.image = "s3://shop/other.png"
    with working_values(deep), working_values(op):
        assert (deep.image, deep.tail_image) == (SIGNED, INLINE)
        assert op.image == SIGNED
    assert deep.image == UNSIGNED  # a copy made while working starts closed
    with working_values(op):
        assert copy.copy(op).image == UNSIGNED


def test_the_serialized_dag_holds_no_signature_and_no_inline_data():
    try:
        from airflow.serialization.serialized_objects import DagSerialization
    except ImportError:  # Airflow < 3.2
        from airflow.serialization.serialized_objects import SerializedDAG as DagSerialization

    with DAG("private", start_date=datetime(2025, 1, 1), schedule=None) as dag:
        image_task()
        KlingStoryboardOperator(
            task_id="s",
            shots=[{"prompt": "a", "image": SIGNED}, {"prompt": "b", "image": INLINE}],
            destination="/v.mp4",
        )
        KlingDownloadVideoOperator(task_id="d", video_url=SIGNED, destination="/v.mp4")
    serialized = DagSerialization.to_dict(dag)
    text = json.dumps(serialized)
    assert "X-Amz" not in text
    assert INLINE[100:160] not in text
    assert DagSerialization.from_dict(serialized).get_task("i").image == UNSIGNED


def test_openlineage_full_task_info_holds_no_signature_and_no_inline_data():
    from airflow.providers.openlineage.utils.utils import TaskInfoComplete
    from openlineage.client.serde import Serde

    text = Serde.to_json(TaskInfoComplete(image_task()))
    assert "<<non-serializable: PrivateValues>>" in text
    assert "X-Amz" not in text
    assert INLINE[100:160] not in text


def test_the_api_receives_the_real_url_and_data(simulator, tmp_path):
    photo = write_image(tmp_path / "mug.png", 640, 640)
    inline = base64.b64encode(photo.read_bytes()).decode()
    op = KlingImageToVideoOperator(
        wait_for_completion=False, task_id="i", image=SIGNED, tail_image=inline, prompt="a mug"
    )
    run = op.prepare_for_execution()
    run.render_template_fields({})
    generation_id = run.execute(make_context(run))
    sent = simulator.stats()["generations"][generation_id]
    assert sent["media_urls"] == {"image_url": SIGNED}
    assert sent["media_sha256"] == {"tail_image_url": hashlib.sha256(photo.read_bytes()).hexdigest()}


@pytest.mark.parametrize("value", [None, 42, "s3://shop/mug.png", "{{ ti.xcom_pull('photos') }}"])
def test_what_holds_no_url_and_no_inline_data_reads_as_it_is(value):
    op = KlingImageToVideoOperator(wait_for_completion=False, task_id="i", image=value)
    assert op.image == value


def test_a_blob_that_names_no_file_is_shown_by_its_length():
    urlsafe = base64.urlsafe_b64encode(bytes(range(256)) * 20).decode()  # '-' and '_': not base64 text
    op = KlingImageToVideoOperator(wait_for_completion=False, task_id="i", image=urlsafe)
    assert op.image == f"<inline data, {len(urlsafe)} characters>"
    assert urlsafe[100:160] not in repr(op.__dict__["_private_values"])
