"""Example: a folder (or bucket prefix) of product photos in, one clip per photo out, next to it.

photos   -> lists the JPG/PNG files under the Variable ``kling_photos`` (a local folder or any
            object-storage URI: ``s3://shop/products/``, ``gs://...``), or takes a JSON list of
            photo paths/URIs/``https://`` URLs from it, and plans each clip
            (``airflow_provider_kling.dag_helpers.plan_clips``): a photo whose clip was already
            delivered is skipped; two photos that would make one clip (``mug.jpg``, ``mug.png``)
            or a file of yours where a clip or its sidecar or poster would go fail the run here,
            before anything is paid for. It records the order it gave the photos: when the run
            is cleared, each photo keeps its map index (where what it paid for is recorded), so
            a clip paid for but not delivered is reattached, not paid again.
photo    -> one mapped task group per photo, so each clip is stored as soon as its own render ends:
  animate   KlingImageToVideoOperator: the file is read through Airflow's object storage, checked
            against Kling's image rules before anything is paid for, and sent inline; a URL is
            passed through as is. It waits deferred in the ``kling_generations`` pool, so at most
            that many renders run at once, and the wait ends in the triggerer.
  deliver   stores ``<photo name>.mp4`` next to its photo (URL photos: under ``kling_output``),
            with ``<photo name>.mp4.kling.json`` (a sidecar naming the source image) and
            ``<photo name>.mp4.poster.jpg`` beside it. Nothing of yours is written over.

Setup: a ``kling_default`` connection (your AI/ML API key), the Variable ``kling_photos``, and a
pool sized to your account's concurrency::

    airflow pools set kling_generations 4 "Kling account concurrency" --include-deferred
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

from airflow.sdk import dag, task, task_group

from airflow_provider_kling.dag_helpers import row_label
from airflow_provider_kling.operators.kling import KlingDownloadVideoOperator, KlingImageToVideoOperator

POOL = "kling_generations"
POLL_INTERVAL = float(os.environ.get("KLING_POLL_INTERVAL", "10"))
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png")
PROMPT = "The product turns slowly on its stand, soft studio light, clean background"


@dag(
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["kling", "example", "image-to-video"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=10)},
)
def kling_image_to_video():
    @task(show_return_value_in_logs=False)  # a photo URL may be presigned: its query is not logged
    def photos(source: str, output: str) -> list[dict]:
        """One entry per photo to animate: the image and where its clip goes."""
        from airflow.sdk import ObjectStoragePath, get_current_context

        from airflow_provider_kling.dag_helpers import plan_clips
        from airflow_provider_kling.exceptions import KlingError
        from airflow_provider_kling.models.media_values import scrub_queries
        from airflow_provider_kling.tasks.mapped_order import MappedOrder
        from airflow_provider_kling.version_compat import AirflowFailException

        if source.lstrip().startswith("["):
            images = [str(item) for item in json.loads(source)]
        else:
            folder = ObjectStoragePath(source if "://" in source else f"file://{os.path.abspath(source)}")
            images = sorted(str(path) for path in folder.iterdir() if path.suffix.lower() in PHOTO_SUFFIXES)
        order = MappedOrder(get_current_context())  # a cleared run keeps each photo at its map index
        try:
            plan = plan_clips(images, output, planned=order.load())
            order.keep([entry["clip"] for entry in plan["todo"]])
        except KlingError as err:  # nothing was sent: fix the folder (or the store), then run again
            raise AirflowFailException(str(err)) from None
        # A photo URL may be presigned: what is printed never holds its query.
        for done in plan["delivered"]:
            print(f"{done['clip']} already holds the clip of {scrub_queries(done['image'])}: not animated again")
        for poster in plan["ours"]:
            print(f"{poster['image']} is a clip's poster, made here: not a photo to animate")
        print(f"{len(plan['todo'])} photos to animate from {scrub_queries(source)}")
        return plan["todo"]

    entries = photos(
        "{{ var.value.get('kling_photos', '/tmp/kling-photos') }}",
        "{{ var.value.get('kling_output', '/tmp/kling-videos') }}",
    )

    @task_group
    def photo(image: str, destination: str, metadata: dict) -> None:
        animate = KlingImageToVideoOperator(
            task_id="animate",
            image=image,
            prompt=PROMPT,
            duration=5,
            negative_prompt="blurry, distorted product, text",
            wait_for_completion=True,
            poll_interval=POLL_INTERVAL,
            timeout=timedelta(minutes=30),
            pool=POOL,
            map_index_template=row_label("{{ task.image.split('?')[0].rsplit('/', 1)[-1] }}"),
        )
        deliver = KlingDownloadVideoOperator(
            task_id="deliver",
            generation_id="{{ ti.xcom_pull(task_ids='photo.animate', map_indexes=ti.map_index, key='kling_generation_id') }}",
            destination=destination,
            metadata=metadata,
            map_index_template=row_label("{{ task.destination.rsplit('/', 1)[-1] }}"),
        )
        animate >> deliver

    photo.expand_kwargs(entries.map(_job_of))


def _job_of(entry: dict) -> dict:
    return {"image": entry["image"], "destination": entry["clip"], "metadata": entry["metadata"]}


kling_image_to_video()
