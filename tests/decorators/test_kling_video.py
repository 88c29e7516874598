"""@task.kling_video: registration, returned-value handling, and the same submit/wait path as the operator."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from airflow.sdk import DAG, task

from airflow_provider_kling.decorators.kling_video import kling_video_task, params_from_returned
from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.triggers.kling import KlingGenerationTrigger
from airflow_provider_kling.version_compat import AirflowFailException, TaskDeferred
from harness.airflow_context import (
    FakeOutletEvents,
    FakeStateStore,
    FakeTaskInstance,
    LosesTheIdStore,
    cleared,
    make_context,
)

O1 = "klingai/video-o1-image-to-video"
PLACEHOLDER = "(returned by the decorated function)"


@pytest.mark.parametrize(
    ("returned", "model", "named", "parameters", "expected"),
    [
        ("a cat", "m", {"prompt": PLACEHOLDER}, {}, {"model": "m", "prompt": "a cat"}),
        (
            {"prompt": "a dog", "duration": 10},
            "m",
            {"prompt": PLACEHOLDER, "duration": 5, "aspect_ratio": "1:1"},
            {},
            {"model": "m", "prompt": "a dog", "duration": 10, "aspect_ratio": "1:1"},
        ),
        (
            {"prompt": "x", "aspect_ratio": "9:16"},
            "m",
            {"aspect_ratio": "16:9"},
            {},
            {"model": "m", "prompt": "x", "aspect_ratio": "9:16"},
        ),
        # A prompt given to the decorator stays when the function returns fields without one.
        (
            {"image": "https://x/a.png"},
            O1,
            {"prompt": "given"},
            {},
            {"model": O1, "prompt": "given", "image_url": "https://x/a.png"},
        ),
        # The decorator's tail_image is sent under the field of the model the function returned.
        (
            {"model": O1, "prompt": "p"},
            "kling-video/v1.6/pro/image-to-video",
            {"tail_image": "https://x/t.png"},
            {},
            {"model": O1, "prompt": "p", "last_image_url": "https://x/t.png"},
        ),
        # The function's image_url wins over the decorator's image: one field, either name.
        (
            {"image_url": "https://x/b.png"},
            O1,
            {"image": "https://x/a.png"},
            {},
            {"model": O1, "image_url": "https://x/b.png"},
        ),
    ],
)
def test_returned_values_override_decorator_defaults(returned, model, named, parameters, expected):
    assert params_from_returned(returned, model, named, parameters) == expected


@pytest.mark.parametrize("returned", [None, 42, ["a prompt"], b"bytes"])
def test_other_returned_values_are_refused_clearly(returned):
    with pytest.raises(KlingValidationError, match="must return a prompt string or a dict"):
        params_from_returned(returned, "m", {}, {})


@pytest.mark.parametrize("refused", [False, 0, ""])
def test_the_decorator_refuses_every_way_of_not_waiting(refused):
    with pytest.raises(KlingValidationError, match="always waits"):
        kling_video_task(task_id="clip", wait_for_completion=refused)(lambda: "a cat")()


def test_the_decorators_named_fields_are_templated():
    from airflow_provider_kling.decorators.kling_video import _KlingVideoDecoratedOperator

    assert {"image", "prompt", "duration", "tail_image"} <= set(_KlingVideoDecoratedOperator.template_fields)


def build(function, **decorator_kwargs):
    with DAG("taskflow_unit", schedule=None, start_date=datetime(2025, 1, 1)):
        output = kling_video_task(task_id="clip", **decorator_kwargs)(function)()
    return output.operator


def test_registered_as_task_kling_video():
    assert task.kling_video is not None
    with DAG("registered", schedule=None, start_date=datetime(2025, 1, 1)):
        output = task.kling_video(task_id="clip", duration=5)(lambda: "hello")()
    assert output.operator.custom_operator_name == "@task.kling_video"


def test_the_function_result_is_submitted_and_the_task_defers(simulator):
    op = build(lambda: "a hot air balloon at dawn", aspect_ratio="1:1", poll_interval=2)
    context = make_context(op)
    with pytest.raises(TaskDeferred) as excinfo:
        op.execute(context)
    assert isinstance(excinfo.value.trigger, KlingGenerationTrigger)
    generation = next(iter(simulator.stats()["generations"].values()))
    assert generation["prompt"] == "a hot air balloon at dawn"
    assert simulator.stats()["creates"] == 1


def test_a_retry_reattaches_instead_of_submitting_again(simulator):
    op = build(lambda: "retry me")
    context = make_context(op)
    with pytest.raises(TaskDeferred):
        op.execute(context)
    retry_context = make_context(op, store=context["task_state_store"])
    with pytest.raises(TaskDeferred):
        op.execute(retry_context)
    assert simulator.stats()["creates"] == 1


def test_a_retry_of_a_function_that_words_its_prompt_anew_does_not_pay_again(simulator):
    prompts = iter(["a lighthouse at dusk, take 1", "a lighthouse at dusk, take 2"])  # e.g. written by an LLM
    op = build(lambda: next(prompts))
    context = make_context(op)
    with pytest.raises(TaskDeferred):
        op.execute(context)  # try 1 creates, then its worker dies while it waits
    retry_context = make_context(op, store=context["task_state_store"])
    with pytest.raises((TaskDeferred, AirflowFailException)):
        op.execute(retry_context)  # try 2: Airflow's automatic retry of the same task instance
    assert simulator.stats()["creates"] == 1


def test_a_retry_of_a_function_that_words_its_prompt_anew_finds_the_create_whose_answer_was_lost(simulator):
    prompts = iter(["a lighthouse at dusk, take 1", "a lighthouse at dusk, take 2"])
    op = build(lambda: next(prompts))
    store = LosesTheIdStore()  # try 1 sends its create, then cannot record the id (the worker dies there)
    with pytest.raises(TaskDeferred):
        op.execute(make_context(op, store=store))
    assert store.get("kling_generation")["generation_id"] is None
    retry = make_context(
        op, store=FakeStateStore(dict(store.values)), ti=FakeTaskInstance(task_id="clip", try_number=2)
    )
    with pytest.raises(TaskDeferred) as deferred:
        op.execute(retry)  # reworded: its intent is still this task instance's, looked up by its client request id
    stats = simulator.stats()
    assert (stats["create_requests"], stats["creates"]) == (1, 1)
    assert deferred.value.trigger.generation_id in stats["generations"]


def test_a_clear_runs_the_function_again_and_a_new_wording_is_a_new_video(simulator):
    prompts = iter(["a lighthouse at dusk, take 1", "a lighthouse at dusk, take 2"])
    op = build(lambda: next(prompts))
    store, ti = FakeStateStore(), FakeTaskInstance(task_id="clip")
    with pytest.raises(TaskDeferred):
        op.execute(make_context(op, store=store, ti=ti))
    with pytest.raises(TaskDeferred):
        op.execute(make_context(op, store=store, ti=cleared(ti)))  # a person cleared it: what it asks now is made
    assert [g["prompt"] for g in simulator.stats()["generations"].values()] == [
        "a lighthouse at dusk, take 1",
        "a lighthouse at dusk, take 2",
    ]
    assert list(store.get("kling_generation")["earlier"].values()) == [next(iter(simulator.stats()["generations"]))]


@pytest.mark.parametrize(
    ("returned", "fragment"),
    [
        (42, "must return a prompt string or a dict"),
        ({"prompt": "x", "duraton": 5}, "'duraton' is not a parameter of kling-video/v1.6/pro/text-to-video"),
        (
            {"prompt": "x", "duration": 7},
            "duration=7 is not allowed for kling-video/v1.6/pro/text-to-video; allowed values: 5, 10",
        ),
        ("", "prompt must not be empty"),
    ],
)
def test_bad_returned_values_fail_before_any_request(simulator, returned, fragment):
    op = build(lambda: returned)
    with pytest.raises(AirflowFailException) as excinfo:
        op.execute(make_context(op))
    assert fragment in str(excinfo.value)
    assert simulator.stats()["create_requests"] == 0


def test_completion_downloads_and_returns_a_small_result(simulator, tmp_path):
    op = build(lambda: "download me", destination=f"{tmp_path}/")
    context = make_context(op)
    context["outlet_events"] = FakeOutletEvents()
    with pytest.raises(TaskDeferred) as excinfo:
        op.execute(context)
    generation_id = excinfo.value.trigger.generation_id
    simulator.finish_renders()
    event = {
        "status": "success",
        "generation": {
            "id": generation_id,
            "status": "completed",
            "video_url": "ignored",
            "usage": {"credits_used": 50.0},
            "duration": 5.0,
        },
    }
    result = op.execute_complete(context, event)
    assert set(result) == {"id", "status", "video_url", "destination", "duration", "usage", "cost"}
    assert result["id"] == generation_id
    video = Path(result["destination"].removeprefix("file://"))
    assert video.read_bytes()[4:8] == b"ftyp"
    if importlib.util.find_spec("airflow.providers.openlineage") is not None:
        # Lineage: the delivered video and its sidecar out; the generation and its prompt by fingerprint.
        lineage = op.get_openlineage_facets_on_complete(None)
        assert ("file", str(video)) in [(d.namespace, d.name) for d in lineage.outputs]
        assert ("file", f"{video}.kling.json") in [(d.namespace, d.name) for d in lineage.outputs]
        facet = lineage.run_facets["kling"]
        assert facet.generation_ids == [generation_id]
        assert facet.prompt_length == len("download me")


@pytest.mark.parametrize("theirs", ["clip.mp4", "clip.mp4.kling.json", "clip.mp4.poster.jpg"])
def test_a_file_of_yours_where_the_video_would_go_is_refused_before_anything_is_paid_for(simulator, tmp_path, theirs):
    (tmp_path / theirs).write_bytes(b"yours")
    op = build(lambda: "a clip", destination=str(tmp_path / "clip.mp4"))
    with pytest.raises(
        AirflowFailException, match=f"{theirs} exists and .*only replaces files airflow-provider-kling wrote"
    ):
        op.execute(make_context(op))
    assert simulator.stats()["create_requests"] == 0
    assert (tmp_path / theirs).read_bytes() == b"yours"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("clip\x00.mp4", "control characters (U+0000)"),
        ("clip\n.mp4", "control characters (U+000A)"),
        ("clip.jpg", "must name an .mp4 file"),
        ("c" * 240 + ".mp4", "leave room for the files written beside it"),
    ],
)
def test_a_destination_that_cannot_work_is_refused_before_any_request(simulator, tmp_path, name, fragment):
    op = build(lambda: "a clip", destination=f"{tmp_path}/{name}")
    with pytest.raises(AirflowFailException, match="destination") as err:
        op.execute(make_context(op))
    assert fragment in str(err.value)
    assert simulator.stats()["create_requests"] == 0
    with pytest.raises(AirflowFailException, match="cannot create /sys/kling-clips"):
        build(lambda: "a clip", destination="/sys/kling-clips/").execute(make_context(op))
    assert simulator.stats()["create_requests"] == 0


def test_non_deferrable_waits_in_place(simulator):
    op = build(lambda: "in place", deferrable=False, poll_interval=0.2)
    result = op.execute(make_context(op))
    assert result["status"] == "completed"
    assert result["destination"] is None


def test_registration_is_visible_in_the_airflow_cli(tmp_path):
    airflow = str(Path(sys.executable).with_name("airflow"))
    result = subprocess.run(
        [airflow, "providers", "get", "airflow-provider-kling", "--full", "-o", "yaml"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "AIRFLOW_HOME": str(tmp_path)},
    )
    assert "airflow_provider_kling.decorators.kling_video.kling_video_task" in result.stdout
    assert "name: kling_video" in result.stdout


def test_any_model_and_its_fields_from_the_returned_dict(simulator, tmp_path):
    from harness.inputs import write_image

    photo = write_image(tmp_path / "cat.png", 640, 640)
    op = build(
        lambda: {"image_url": str(photo), "effect_scene": "pet_chef"},
        model="klingai/kling-video-v1.6-pro-effects",
        deferrable=False,
        poll_interval=0.2,
    )
    result = op.execute(make_context(op))
    assert result["status"] == "completed"
    seen = simulator.stats()["generations"][result["id"]]
    assert seen["model"] == "klingai/kling-video-v1.6-pro-effects"
    assert seen["fields"] == ["effect_scene", "model"]  # no prompt placeholder sent; the image went inline


@pytest.mark.parametrize(
    ("destination", "says"),
    [
        ("s3://nosuchconn@kling/videos/", "no connection 'nosuchconn' is defined"),
        ("gs://bucket/videos/", "install apache-airflow-providers-google"),
    ],
)
def test_a_destination_that_cannot_work_fails_before_anything_is_paid(simulator, destination, says):
    op = build(lambda: "a video with nowhere to go", destination=destination)
    with pytest.raises(AirflowFailException, match=says):
        op.execute(make_context(op))
    assert simulator.stats()["create_requests"] == 0


def test_an_object_store_folder_refused_to_this_worker_fails_before_anything_is_paid(simulator, s3):
    # A folder in a bucket is looked at before paying: refused credentials fail there, not at the
    # upload after the render. (A bare s3:// path without credentials is not tested here: the Amazon
    # provider then tries anonymous access to AWS itself, which these machines cannot reach.)
    op = build(lambda: "a video with nowhere to go", destination="s3://seaweed_bad@kling/clips/")
    with pytest.raises(AirflowFailException, match="access refused"):
        op.execute(make_context(op))
    assert simulator.stats()["create_requests"] == 0
