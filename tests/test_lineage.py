"""Dataset names as OpenLineage's naming spec gives them, and what the ``kling`` facet may hold."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

import pytest

from airflow_provider_kling.lineage import dataset_name, media_read, prompt_fingerprint


@pytest.mark.parametrize(
    ("location", "named"),
    [
        ("s3://shop/products/mug.png", ("s3://shop", "products/mug.png")),
        ("s3://aws_default@shop/mug.png", ("s3://shop", "mug.png")),  # the connection id is not the bucket
        ("gs://media/ads/launch.mp4", ("gs://media", "ads/launch.mp4")),
        ("/tmp/kling-videos/fox.mp4", ("file", "/tmp/kling-videos/fox.mp4")),
        ("file:///tmp/kling-videos/fox.mp4", ("file", "/tmp/kling-videos/fox.mp4")),
        ("https://cdn.example.com/v/1.mp4?Expires=1&Signature=abc", ("https://cdn.example.com", "/v/1.mp4")),
        ("http://127.0.0.1:8000/videos/x.mp4", ("http://127.0.0.1:8000", "/videos/x.mp4")),
        ("relative/photo.png", None),
        ("data:image/png;base64,iVBORw0KGgo=", None),
        ("iVBORw0KGgo" * 300, None),  # inline base64 is no dataset
        ("/9j/4AAQSkZJRgABAQ" + "A" * 400, None),  # nor is a base64 JPEG, though it starts like a path
        (" data:image/png;base64,iVBORw0KGgo=", None),  # nor a data: URI however it is spelt
        ("DATA:image/png;base64,iVBORw0KGgo=", None),
        ("https://user:secret@cdn.example.com/v/1.mp4", ("https://cdn.example.com", "/v/1.mp4")),
        ("", None),
    ],
)
def test_datasets_are_named_as_the_openlineage_spec_names_them(location, named):
    assert dataset_name(location) == named


def test_a_prompt_is_reported_by_length_and_hash_only():
    facts = prompt_fingerprint("a red fox in the snow")
    assert facts == {"prompt_length": 21, "prompt_sha256": hashlib.sha256(b"a red fox in the snow").hexdigest()}
    assert prompt_fingerprint(None) == {}


def test_media_read_lists_every_media_field_the_model_takes():
    params = {
        "model": "kling-video/v1.6/pro/image-to-video",
        "image_url": "s3://shop/mug.png",
        "tail_image_url": "https://example.com/end.png",
        "prompt": "a mug",
    }
    assert sorted(media_read(params)) == ["https://example.com/end.png", "s3://shop/mug.png"]
    assert media_read({"model": "kling-video/v1.6/pro/text-to-video", "prompt": "a fox"}) == []


PROMPT = "A lighthouse keeper's daughter reads by the lamp"
SIGNED = "https://shop.s3.amazonaws.com/mug.png?X-Amz-Credential=AKIAX&X-Amz-Signature=f00d"
INLINE = base64.b64encode(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4).decode()  # a JPEG's: "/9j/..."


def every_kling_task():
    """One task of every entry point, each given the prompt, inline image data and a signed URL."""
    from airflow.sdk import DAG

    from airflow_provider_kling.decorators.kling_video import kling_video_task
    from airflow_provider_kling.operators.kling import (
        KlingDownloadVideoOperator,
        KlingImageToVideoOperator,
        KlingTextToVideoOperator,
        KlingVideoOperator,
    )
    from airflow_provider_kling.operators.storyboard import KlingStoryboardOperator
    from airflow_provider_kling.sensors.kling import KlingGenerationSensor

    i2v = "kling-video/v1.6/pro/image-to-video"
    with DAG("private", start_date=datetime(2025, 1, 1), schedule=None) as dag:
        KlingTextToVideoOperator(
            wait_for_completion=False, task_id="text", prompt=PROMPT, parameters={"negative_prompt": PROMPT}
        )
        KlingImageToVideoOperator(
            wait_for_completion=False, task_id="image", image=INLINE, tail_image=SIGNED, prompt=PROMPT
        )
        KlingVideoOperator(
            wait_for_completion=False,
            task_id="video",
            model=i2v,
            parameters={"prompt": PROMPT, "image_url": f"data:image/jpeg;base64,{INLINE}", "tail_image_url": SIGNED},
        )
        KlingStoryboardOperator(
            task_id="storyboard", shots=[{"prompt": PROMPT, "image": INLINE}], destination="/tmp/board.mp4"
        )

        @kling_video_task(model=i2v, parameters={"image_url": SIGNED, "negative_prompt": PROMPT})
        def clip() -> str:
            return PROMPT

        clip()
        KlingDownloadVideoOperator(task_id="download", video_url=SIGNED, destination="/tmp/video.mp4")
        KlingGenerationSensor(task_id="sensor", generation_id="g-1")
    return list(dag.task_dict.values())


def test_openlineages_task_facet_holds_no_prompt_inline_data_or_signature():
    """OpenLineage's own ``airflow`` facet copies a fixed list of attributes, ``parameters`` among them."""
    pytest.importorskip("airflow.providers.openlineage")
    from airflow.providers.openlineage.utils.utils import TaskInfo
    from openlineage.client.serde import Serde

    tasks = every_kling_task()
    assert len(tasks) == 7
    for task in tasks:
        for copy in (task, task.prepare_for_execution()):
            text = Serde.to_json(TaskInfo(copy))
            assert PROMPT not in text, task.task_id
            assert INLINE[:40] not in text, task.task_id
            assert "X-Amz" not in text, task.task_id
