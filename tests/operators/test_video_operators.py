"""KlingVideoOperator and KlingImageToVideoOperator: parameters, named arguments, one submit path."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.operators.kling import (
    KlingImageToVideoOperator,
    KlingTextToVideoOperator,
    KlingVideoOperator,
)
from airflow_provider_kling.version_compat import AirflowFailException
from harness.airflow_context import FakeStateStore, FakeTaskInstance, make_context
from harness.inputs import write_image


def test_any_model_takes_its_fields_in_parameters():
    op = KlingVideoOperator(
        wait_for_completion=False,
        task_id="fx",
        model="klingai/kling-video-v1.6-pro-effects",
        parameters={"image_url": "s3://b/cat.png", "effect_scene": "pet_chef"},
    )
    assert op.generation_params() == {
        "model": "klingai/kling-video-v1.6-pro-effects",
        "image_url": "s3://b/cat.png",
        "effect_scene": "pet_chef",
    }
    assert "parameters" in op.template_fields


def test_text_operator_merges_named_arguments_with_model_extras():
    op = KlingTextToVideoOperator(
        wait_for_completion=False,
        task_id="t",
        model="klingai/video-v3-pro-text-to-video",
        prompt="a lighthouse",
        duration=12,
        parameters={"generate_audio": True, "shot_type": "intelligent"},
    )
    assert op.generation_params() == {
        "model": "klingai/video-v3-pro-text-to-video",
        "prompt": "a lighthouse",
        "duration": 12,
        "generate_audio": True,
        "shot_type": "intelligent",
    }


def test_a_field_set_twice_is_an_error():
    op = KlingTextToVideoOperator(
        wait_for_completion=False, task_id="t", prompt="a", duration=5, parameters={"duration": 10}
    )
    with pytest.raises(KlingValidationError, match="duration is set both as duration= and in parameters"):
        op.generation_params()


@pytest.mark.parametrize(
    ("model", "tail_field"),
    [
        ("kling-video/v1.6/pro/image-to-video", "tail_image_url"),
        ("klingai/video-v3-pro-image-to-video", "tail_image_url"),
        ("klingai/video-o1-image-to-video", "last_image_url"),  # O1 names the last frame differently
    ],
)
def test_image_operator_maps_image_and_tail_image_to_the_models_fields(model, tail_field):
    op = KlingImageToVideoOperator(
        wait_for_completion=False,
        task_id="i",
        model=model,
        image="/photos/a.png",
        tail_image="/photos/b.png",
        prompt="p",
    )
    assert op.generation_params() == {
        "model": model,
        "image_url": "/photos/a.png",
        tail_field: "/photos/b.png",
        "prompt": "p",
    }


def test_image_operator_takes_the_same_named_fields_as_the_text_operator(simulator, tmp_path):
    # Before: KlingImageToVideoOperator(wait_for_completion=False, duration=5) was a TypeError; only parameters= could say it.
    photo = write_image(tmp_path / "mug.png", 640, 640)
    op = KlingImageToVideoOperator(
        wait_for_completion=False,
        task_id="i",
        image=str(photo),
        prompt="the mug turns",
        negative_prompt="blur",
        duration=5,
        cfg_scale=0.4,
    )
    assert op.generation_params() == {
        "model": "kling-video/v1.6/pro/image-to-video",
        "image_url": str(photo),
        "prompt": "the mug turns",
        "negative_prompt": "blur",
        "duration": 5,
        "cfg_scale": 0.4,
    }
    assert {"negative_prompt", "duration", "aspect_ratio", "cfg_scale"} <= set(op.template_fields)
    generation_id = op.execute(make_context(op))
    assert simulator.stats()["generations"][generation_id]["model"] == op.model


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({"duration": 5, "parameters": {"duration": 10}}, "duration is set both as duration= and in parameters"),
        ({"duration": 7}, "duration"),
        ({"model": "klingai/video-o1-image-to-video", "cfg_scale": 0.5}, "cfg_scale"),
    ],
)
def test_a_named_field_the_model_refuses_fails_before_any_request(simulator, tmp_path, kwargs, says):
    photo = write_image(tmp_path / "mug.png", 640, 640)
    op = KlingImageToVideoOperator(wait_for_completion=False, task_id="i", image=str(photo), prompt="p", **kwargs)
    with pytest.raises(Exception, match=says):
        op.execute(make_context(op))
    assert simulator.stats()["create_requests"] == 0


def test_image_url_is_the_images_other_name_given_once(simulator):
    by_field_name = KlingImageToVideoOperator(wait_for_completion=False, task_id="i", image_url="https://cdn/x.png")
    assert by_field_name.generation_params()["image_url"] == "https://cdn/x.png"
    with pytest.raises(KlingValidationError, match="image and image_url are two names of one field"):
        KlingImageToVideoOperator(
            wait_for_completion=False, task_id="i", image="https://cdn/x.png", image_url="https://cdn/y.png"
        )
    # Neither: the model's own rule, before any request, as for every missing field.
    op = KlingImageToVideoOperator(wait_for_completion=False, task_id="i", prompt="no first frame")
    with pytest.raises(AirflowFailException, match="image_url is required by kling-video/v1.6/pro/image-to-video"):
        op.execute(make_context(op))
    assert simulator.stats()["create_requests"] == 0


def test_image_operator_defaults():
    op = KlingImageToVideoOperator(wait_for_completion=False, task_id="i", image="https://cdn/x.png")
    assert op.model == "kling-video/v1.6/pro/image-to-video"
    assert op.generation_params() == {"model": op.model, "image_url": "https://cdn/x.png"}
    assert {"image", "tail_image", "prompt", "parameters"} <= set(op.template_fields)
    assert op.deferrable
    assert not op.wait_for_completion


def test_image_operator_without_prompt_is_sent_to_the_path_that_does_not_need_one(simulator, tmp_path, capsys):
    # v1.6 pro image-to-video needs a prompt on the legacy path, not on the unified one: auto picks it.
    photo = write_image(tmp_path / "mug.png", 640, 640)
    op = KlingImageToVideoOperator(wait_for_completion=False, task_id="i", image=str(photo))
    generation_id = op.execute(make_context(op))
    assert simulator.stats()["generations"][generation_id]["model"] == "kling-video/v1.6/pro/image-to-video"
    out = capsys.readouterr().out
    assert "unified path" in out
    # And why: the log says what the legacy path refuses.
    assert "goes to /v2/video/generations: its other documented path refuses this request (prompt is required" in out


def test_a_retried_image_task_reattaches_without_reading_or_paying_again(simulator, tmp_path):
    photo = write_image(tmp_path / "mug.png", 640, 640)
    store = FakeStateStore()
    first_op = KlingImageToVideoOperator(wait_for_completion=False, task_id="i", image=str(photo), prompt="turn")
    first = first_op.execute(make_context(first_op, store=store))
    again = KlingImageToVideoOperator(wait_for_completion=False, task_id="i", image=str(photo), prompt="turn")
    second = again.execute(make_context(again, store=store, ti=FakeTaskInstance(task_id="i", try_number=2)))
    assert second == first
    assert simulator.stats()["creates"] == 1
    # What the task keeps (the ledger) names the photo; it holds no image data.
    assert str(store.get("kling_generation")).find("iVBOR") == -1


def test_a_destination_on_a_task_that_does_not_wait_is_refused_when_the_dag_is_parsed():
    with pytest.raises(KlingValidationError, match="destination needs wait_for_completion=True"):
        KlingTextToVideoOperator(wait_for_completion=False, task_id="t", prompt="p", destination="/videos/a.mp4")


@pytest.mark.parametrize("theirs", ["clip.mp4", "clip.mp4.kling.json", "clip.mp4.poster.jpg"])
def test_a_file_of_yours_where_the_video_goes_is_refused_before_any_request(simulator, tmp_path, theirs):
    (tmp_path / theirs).write_bytes(b"precious")
    op = KlingTextToVideoOperator(
        task_id="t", prompt="p", destination=str(tmp_path / "clip.mp4"), wait_for_completion=True, overwrite=True
    )
    with pytest.raises(AirflowFailException, match="only replaces files airflow-provider-kling wrote"):
        op.execute(make_context(op))
    assert simulator.stats()["create_requests"] == 0
    assert (tmp_path / theirs).read_bytes() == b"precious"


@pytest.mark.parametrize("theirs", ["clip.mp4.kling.json", "clip.mp4.poster.jpg"])
def test_a_fifo_of_yours_where_a_companion_goes_is_refused_unread_before_any_request(simulator, tmp_path, theirs):
    import os
    import stat
    import threading

    os.mkfifo(tmp_path / theirs)
    op = KlingTextToVideoOperator(
        task_id="t", prompt="p", destination=str(tmp_path / "clip.mp4"), wait_for_completion=True, overwrite=True
    )
    outcome = {}

    def attempt():
        try:
            op.execute(make_context(op))
        except AirflowFailException as err:
            outcome["error"] = str(err)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "blocked reading a FIFO of yours"
    assert "only replaces files airflow-provider-kling wrote" in outcome["error"]
    assert simulator.stats()["create_requests"] == 0
    assert stat.S_ISFIFO((tmp_path / theirs).stat().st_mode)  # left as it was


def generation_of(clip):
    return json.loads(clip.with_name(clip.name + ".kling.json").read_text()).get("generation_id")


def delivering_operator(destination, **kwargs):
    return KlingTextToVideoOperator(
        task_id="t",
        prompt="a lighthouse",
        destination=str(destination),
        wait_for_completion=True,
        deferrable=False,
        poll_interval=0.2,
        **kwargs,
    )


def test_a_new_run_to_a_file_holding_a_delivered_video_is_refused_before_paying(simulator, tmp_path):
    # Found following the README: a second DAG run paid for a new video, then could not store it.
    simulator.configure(generation_seconds=0.5)
    clip = tmp_path / "lighthouse.mp4"
    first = delivering_operator(clip)
    store, ti = FakeStateStore(), FakeTaskInstance(task_id="t")
    first_generation = first.execute(make_context(first, store=store, ti=ti))["id"]
    assert generation_of(clip) == first_generation
    delivered = clip.read_bytes()
    again = delivering_operator(clip)  # the next DAG run: a ledger of its own
    with pytest.raises(
        AirflowFailException, match="already holds a video airflow-provider-kling delivered.*overwrite=True"
    ):
        again.execute(make_context(again))
    assert simulator.stats()["creates"] == 1
    assert clip.read_bytes() == delivered
    # A retry of the first run reattaches to its own video: nothing paid, the file kept.
    retry = delivering_operator(clip)
    retry.execute(make_context(retry, store=store, ti=replace(ti, try_number=2)))
    assert simulator.stats()["creates"] == 1
    # Asked to replace it, a new run pays once and replaces it.
    replacing = delivering_operator(clip, overwrite=True)
    replacing.execute(make_context(replacing))
    assert simulator.stats()["creates"] == 2
    assert generation_of(clip) not in (None, first_generation)
