"""The API's own Python SDK (aimlapi-sdk-python), a client no one here wrote, against the simulator:
``client.videos.generate_with_polling`` must work for every model the simulator serves on its path."""

from __future__ import annotations

import pytest

from airflow_provider_kling.models.catalog import list_models
from harness.inputs import IMAGE_URL, minimal_params
from harness.simulated import API_KEY

aimlapi = pytest.importorskip("aimlapi", reason="aimlapi-sdk-python is in the dev extra")

UNIFIED_MODELS = [spec for spec in list_models() if "unified" in spec.endpoints]


def client_for(simulator):
    return aimlapi.AIMLAPI(api_key=API_KEY, base_url=f"{simulator.url}/v1", max_retries=0)


def test_the_sdk_reaches_every_unified_model():
    assert len(UNIFIED_MODELS) == len(list_models()) == 44  # every current page documents the unified path


def first_video_url(video):
    """The model's documented answer: ``{url}``, or an array of them (the v3 omni files)."""
    return (video[0] if isinstance(video, list) else video)["url"]


@pytest.mark.parametrize("spec", UNIFIED_MODELS, ids=[spec.id for spec in UNIFIED_MODELS])
def test_generate_with_polling(simulator, spec):
    simulator.configure(generation_seconds=0.2)
    params = minimal_params(spec, IMAGE_URL, endpoint="unified")
    model = params.pop("model")
    prompt = params.pop("prompt", "a ceramic mug on a table")  # the SDK always sends one
    result = client_for(simulator).videos.generate_with_polling(
        model=model, prompt=prompt, extra_body=params, poll_interval=0.1, poll_timeout=20
    )
    assert result["status"] == "completed"
    assert first_video_url(result["video"]).startswith(simulator.url)
    assert isinstance(result["video"], list) == ("omni" in model)
    assert simulator.stats()["creates_by_model"] == {model: 1}


@pytest.mark.parametrize("alias", ["kling-video/v3/turbo/pro/text-to-video", "klingai/video-v2-6-pro-motion-control"])
def test_the_sdk_may_name_a_model_by_the_second_name_its_page_lists(simulator, alias):
    simulator.configure(generation_seconds=0.2)
    params = minimal_params(spec_for(alias), IMAGE_URL, endpoint="unified")
    params.pop("model")
    prompt = params.pop("prompt", "a ceramic mug on a table")
    result = client_for(simulator).videos.generate_with_polling(
        model=alias, prompt=prompt, extra_body=params, poll_interval=0.1, poll_timeout=20
    )
    assert result["status"] == "completed"


def spec_for(name):
    from airflow_provider_kling.models.catalog import get_model

    return get_model(name)


def test_the_sdk_sees_the_apis_400_for_a_bad_body(simulator):
    with pytest.raises(aimlapi.BadRequestError, match="duration must be one of the following values"):
        client_for(simulator).videos.generate_with_polling(
            model="klingai/video-v3-pro-text-to-video", prompt="x", duration=16, poll_interval=0.1
        )
    assert simulator.stats()["creates"] == 0
