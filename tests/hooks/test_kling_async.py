from __future__ import annotations

import asyncio

import pytest

from airflow_provider_kling.exceptions import KlingAPIError
from airflow_provider_kling.hooks.async_session import open_sessions
from airflow_provider_kling.hooks.kling import KlingHook
from airflow_provider_kling.hooks.kling_async import KlingAsyncHook


async def test_async_fetch_shares_one_session_and_closes_it(simulator):
    hook = KlingHook()
    generation_id = await asyncio.to_thread(hook.submit_generation, "async")
    results = await asyncio.gather(*(hook.aget_generation(generation_id) for _ in range(20)))
    assert {r.id for r in results} == {generation_id}
    assert open_sessions() == 0  # the last request's lease closed it


async def test_async_errors_are_classified_like_sync_ones(simulator):
    with pytest.raises(KlingAPIError, match="HTTP 404"):
        await KlingHook().aget_generation("nope")


async def test_the_async_hook_reads_the_same_connection_as_the_sync_one(simulator):
    generation_id = await asyncio.to_thread(KlingHook().submit_generation, "same connection")
    generation = await KlingAsyncHook().aget_generation(generation_id)
    assert generation.id == generation_id
    assert simulator.stats()["fetch_requests"] == 1


async def test_an_answer_identical_to_the_last_is_not_read_again_but_a_changed_one_is(simulator):
    simulator.configure(generation_seconds=600)
    generation_id = await asyncio.to_thread(KlingHook().submit_generation, "polled twice")
    other_id = await asyncio.to_thread(KlingHook().submit_generation, "another")
    hook = KlingAsyncHook()
    first = await hook.aget_generation(generation_id)
    assert await hook.aget_generation(generation_id) is first  # the same answer: nothing read again
    assert (await hook.aget_generation(other_id)).id == other_id  # another generation's answer is its own
    await asyncio.to_thread(simulator.finish_renders)
    finished = await hook.aget_generation(generation_id)
    assert finished.is_finished
    assert not first.is_finished
    assert simulator.stats()["fetch_requests"] == 4  # every poll asked the API
