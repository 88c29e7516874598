"""The example DAGs' helpers: what a folder of photos plans, and what its sidecars say of each photo."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_kling.dag_helpers import plan_clips
from airflow_provider_kling.exceptions import KlingValidationError
from harness.inputs import write_image

SIGNED = "https://shop.s3.amazonaws.com/p/mug.png?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=5e1f00d"


def test_a_presigned_photo_is_named_in_its_clips_sidecar_without_its_signature(tmp_path):
    # The sidecar is a file beside the clip (and the deliver task's rendered metadata): it used to carry
    # the photo's presigned URL, signature included, to whoever can read the clip's folder.
    [entry] = plan_clips([SIGNED], str(tmp_path))["todo"]
    assert entry["image"] == SIGNED  # the request still sends the URL as is
    assert entry["metadata"] == {"source_image": "https://shop.s3.amazonaws.com/p/mug.png"}


def test_a_cleared_run_keeps_each_photo_at_the_place_it_planned_it(tmp_path):
    # A photo whose clip was delivered used to drop out of the list, moving the photos after it onto other
    # photos' map indexes (and ledger records): a clip paid for but not delivered was paid for again.
    from tests.batch.conftest import delivered

    photos = [str(write_image(tmp_path / f"{name}.png", 64, 64)) for name in ("cup", "lamp", "mug")]
    delivered(tmp_path, "cup", "g-cup")  # by an earlier run
    delivered(tmp_path, "lamp", "g-lamp")  # by this run, before it was cleared
    clips = {Path(photo).stem: str(tmp_path / f"{Path(photo).stem}.mp4") for photo in photos}
    plan = plan_clips(photos, planned=[clips["lamp"], clips["mug"]])
    assert [entry["clip"] for entry in plan["todo"]] == [clips["lamp"], clips["mug"]]
    assert [entry["clip"] for entry in plan["delivered"]] == [clips["cup"]]
    with pytest.raises(KlingValidationError) as refused:
        plan_clips(photos[1:2], planned=[clips["mug"], clips["lamp"]])  # mug.png is gone
    assert f"{clips['mug']} had map index 0 in this run's plan before the run was cleared" in str(refused.value)


def test_a_photo_paid_for_but_not_delivered_is_not_paid_again_when_a_cleared_run_plans_anew(simulator, tmp_path):
    # As the image-to-video example runs it: photos plans (and records the order), each photo's animate
    # task pays under its map index, and a person clears the run after cup's clip was delivered.
    from airflow_provider_kling.delivery.deliver import deliver_video
    from airflow_provider_kling.hooks.kling import KlingHook
    from airflow_provider_kling.operators.kling import KlingImageToVideoOperator
    from airflow_provider_kling.tasks.mapped_order import MappedOrder
    from harness.airflow_context import FakeStateStore, FakeTaskInstance, make_context

    photos = [str(write_image(tmp_path / name, 640, 640)) for name in ("cup.png", "mug.png")]
    order = MappedOrder({"task_state_store": FakeStateStore(), "ti": FakeTaskInstance(task_id="photos")})
    stores = [FakeStateStore(), FakeStateStore()]  # each animate task instance's own state store

    def photos_task():
        todo = plan_clips(photos, planned=order.load())["todo"]
        order.keep([entry["clip"] for entry in todo])
        return todo

    def animate(entry, map_index):
        op = KlingImageToVideoOperator(
            task_id="animate", image=entry["image"], prompt="turns", wait_for_completion=False
        )
        ti = FakeTaskInstance(task_id="photo.animate", map_index=map_index)
        return op.execute(make_context(op, store=stores[map_index], ti=ti))

    first = photos_task()
    generated = [animate(entry, index) for index, entry in enumerate(first)]
    simulator.finish_renders()
    deliver_video(KlingHook(), destination=first[0]["clip"], generation_id=generated[0])
    again = photos_task()
    assert again == first  # cup (delivered meanwhile) keeps map index 0, mug keeps 1
    assert [animate(entry, index) for index, entry in enumerate(again)] == generated
    assert simulator.stats()["creates"] == 2
