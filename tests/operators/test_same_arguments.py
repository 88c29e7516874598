"""The same named arguments on every generating entry point, with the same meaning and the same refusals."""

from __future__ import annotations

import inspect
from datetime import datetime

import pytest
from airflow.sdk import DAG

from airflow_provider_kling.decorators.kling_video import _KlingVideoDecoratedOperator, kling_video_task
from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.named_fields import ALIASES, NAMED_FIELDS
from airflow_provider_kling.models.storyboard import plan_storyboard
from airflow_provider_kling.operators.kling import (
    KlingImageToVideoOperator,
    KlingTextToVideoOperator,
    KlingVideoOperator,
)

EFFECTS = "klingai/kling-video-v1.6-pro-effects"
O1 = "klingai/video-o1-image-to-video"
V3 = "klingai/video-v3-pro-text-to-video"
OPERATORS = [KlingVideoOperator, KlingTextToVideoOperator, KlingImageToVideoOperator]


def test_every_named_field_and_its_other_name_is_an_argument_of_the_operator():
    arguments = inspect.signature(KlingVideoOperator.__init__).parameters
    assert set(NAMED_FIELDS) | set(ALIASES) <= set(arguments)
    assert set(NAMED_FIELDS) <= set(KlingVideoOperator.template_fields)


@pytest.mark.parametrize("operator", OPERATORS)
def test_each_operator_sends_a_named_field_under_its_models_name(operator):
    op = operator(task_id="t", model=O1, image="https://cdn/a.png", tail_image="https://cdn/b.png", duration=5)
    assert op.generation_params() == {
        "model": O1,
        "image_url": "https://cdn/a.png",
        "last_image_url": "https://cdn/b.png",
        "duration": 5,
    }


def test_an_effects_model_takes_image_by_name():
    op = KlingVideoOperator(
        task_id="fx", model=EFFECTS, image="s3://b/cat.png", parameters={"effect_scene": "pet_chef"}
    )
    assert op.generation_params() == {"model": EFFECTS, "image_url": "s3://b/cat.png", "effect_scene": "pet_chef"}


def test_the_text_operator_takes_what_went_in_parameters_before_by_name():
    op = KlingTextToVideoOperator(task_id="t", model=V3, prompt="a", generate_audio=True, shot_type="intelligent")
    assert op.generation_params() == {"model": V3, "prompt": "a", "generate_audio": True, "shot_type": "intelligent"}


@pytest.mark.parametrize("operator", OPERATORS)
def test_waiting_is_the_default_and_submit_only_is_asked_for(operator):
    assert operator(task_id="t", model=V3).wait_for_completion is True
    assert operator(task_id="t", model=V3, wait_for_completion=False).wait_for_completion is False
    with pytest.raises(KlingValidationError, match="destination"):
        operator(task_id="t", model=V3, wait_for_completion=False, destination="/tmp/out/")


@pytest.mark.parametrize("by", ["image", "image_url"])
def test_a_mapped_operator_takes_either_name_of_the_image(by):
    with DAG("mapped_names", schedule=None, start_date=datetime(2025, 1, 1)):
        mapped = KlingImageToVideoOperator.partial(task_id="m", prompt="turns").expand(**{by: ["https://cdn/a.png"]})
    assert mapped.expand_input.value == {by: ["https://cdn/a.png"]}


def test_the_decorator_builds_on_the_any_model_operator_and_always_waits():
    assert issubclass(_KlingVideoDecoratedOperator, KlingVideoOperator)
    with pytest.raises(KlingValidationError, match="always waits"):
        kling_video_task(task_id="clip", wait_for_completion=False)(lambda: "a cat")()


def test_the_decorators_returned_dict_uses_the_same_names():
    with DAG("decorated_names", schedule=None, start_date=datetime(2025, 1, 1)):
        output = kling_video_task(task_id="clip", model=O1, duration=5)(lambda: None)()
    op = output.operator
    op._returned = {"prompt": "turns", "image": "https://cdn/a.png", "tail_image_url": "https://cdn/b.png"}
    assert op.generation_params() == {
        "model": O1,
        "prompt": "turns",
        "duration": 5,
        "image_url": "https://cdn/a.png",
        "last_image_url": "https://cdn/b.png",
    }
    op._returned = {"image": "https://cdn/a.png", "image_url": "https://cdn/c.png"}
    with pytest.raises(KlingValidationError, match="image and image_url are two names of one field"):
        op.generation_params()


def test_a_storyboard_shot_takes_the_same_names():
    board = plan_storyboard(
        [{"prompt": "opens", "image_url": "https://cdn/a.png", "tail_image": "https://cdn/b.png", "duration": 5}],
        continuity="none",
    )
    assert board.planned_requests() == [
        {
            "model": "kling-video/v1.6/pro/image-to-video",
            "prompt": "opens",
            "duration": 5,
            "image_url": "https://cdn/a.png",
            "tail_image_url": "https://cdn/b.png",
        }
    ]


@pytest.mark.parametrize(
    ("shot", "says"),
    [
        ({"prompt": "a", "image": "https://x/a.png", "image_url": "https://x/b.png"}, "shot 1: image and image_url"),
        (
            {"prompt": "a", "generate_audio": True, "parameters": {"generate_audio": False}},
            "shot 1: generate_audio is set both",
        ),
    ],
)
def test_a_shot_giving_a_field_twice_is_refused(shot, says):
    with pytest.raises(KlingValidationError, match=says):
        plan_storyboard([shot], model=V3, continuity="none")


def test_a_later_shot_cannot_bring_its_own_image_in_parameters_from_the_last_frame():
    with pytest.raises(KlingValidationError, match="shot 2: has an image, but continuity='last_frame'"):
        plan_storyboard([{"prompt": "a"}, {"prompt": "b", "parameters": {"image_url": "https://x/b.png"}}])
