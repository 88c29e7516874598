"""The price catalogue over real HTTP: no key sent, an ETag revalidation, a disk copy, the last copy
when it cannot be reached, and a clear 'no price' without any copy."""

from __future__ import annotations

import json

import pytest

from airflow_provider_kling.hooks import prices
from airflow_provider_kling.hooks.kling import KlingHook
from harness.simulated import connection_json


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """No copy in this process, and a disk cache of this test's own."""
    monkeypatch.setenv("KLING_CACHE_DIR", str(tmp_path / "cache"))
    prices.reset_process_copies()
    yield tmp_path / "cache"
    prices.reset_process_copies()


def quote_of(params):
    hook = KlingHook()
    return hook.price(params)


def test_a_request_is_priced_from_the_catalogue_fetched_without_a_key(simulator, fresh):
    result = quote_of({"prompt": "a lighthouse", "duration": 10})
    assert (result.low, result.high) == pytest.approx((0.98, 0.98))
    assert result.describe() == "$0.98 for kling-video/v1.6/pro/text-to-video ($0.098 per second × 10 s)"
    stats = simulator.stats()
    assert (stats["catalogue_requests"], stats["catalogue_requests_with_key"]) == (1, 0)


@pytest.mark.parametrize(
    ("params", "low", "high"),
    [
        ({"prompt": "a fox"}, 0.49, 0.98),  # no duration and none documented: the API decides, 5 or 10 s
        ({"prompt": "a fox", "model": "klingai/video-v3-pro-text-to-video"}, 0.84, 0.84),  # 5 s, audio by default
        ({"prompt": "a fox", "model": "klingai/video-v3-pro-text-to-video", "generate_audio": False}, 0.42, 0.42),
        ({"prompt": "a fox", "model": "kling-video/v3/turbo/pro/text-to-video", "duration": 15}, 1.05, 1.05),  # alias
        (
            {"model": "klingai/kling-video-v1.6-pro-effects", "image_url": "https://x/a.png", "effect_scene": "hug"},
            0.49,
            0.49,
        ),
    ],
)
def test_quotes_of_each_pricing_shape_the_simulator_publishes(simulator, fresh, params, low, high):
    result = quote_of(params)
    assert (result.low, result.high) == pytest.approx((low, high))


def test_a_variable_price_has_no_quote(simulator, fresh):
    result = quote_of({"model": "klingai/avatar-pro", "image_url": "https://x/a.png", "audio_url": "https://x/a.mp3"})
    assert not result.known
    assert "variable" in result.describe()


def test_one_fetch_per_process_a_disk_copy_for_the_next_and_a_304_when_it_is_old(simulator, fresh, monkeypatch):
    quote_of({"prompt": "a"})
    quote_of({"prompt": "b"})
    assert simulator.stats()["catalogue_requests"] == 1
    prices.reset_process_copies()  # a new task process: the disk copy serves it
    quote_of({"prompt": "c"})
    assert simulator.stats()["catalogue_requests"] == 1
    prices.reset_process_copies()
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, prices_max_age=1))
    [copy] = fresh.glob("prices-*.json")
    data = json.loads(copy.read_text())
    copy.write_text(json.dumps({**data, "fetched_at": data["fetched_at"] - 60}))  # older than max age
    assert quote_of({"prompt": "d", "duration": 5}).high == pytest.approx(0.49)
    stats = simulator.stats()
    assert (stats["catalogue_requests"], stats["catalogue_not_modified"]) == (2, 1)


def test_the_last_copy_serves_when_the_catalogue_cannot_be_reached(simulator, fresh, monkeypatch, capsys):
    quote_of({"prompt": "a"})
    prices.reset_process_copies()
    [copy] = fresh.glob("prices-*.json")
    data = json.loads(copy.read_text())
    copy.write_text(json.dumps({**data, "fetched_at": 0}))
    dead = "http://127.0.0.1:9"  # nothing listens there
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(dead))
    catalogue = prices.PriceCatalogue(dead, max_age=1)
    catalogue.file = copy
    pricing, why = catalogue.pricing("kling-video/v1.6/pro/text-to-video")
    assert pricing is not None
    assert why == ""


def test_no_copy_and_no_catalogue_means_no_price_and_says_why(fresh):
    pricing, why = prices.PriceCatalogue("http://127.0.0.1:9", max_age=60).pricing("kling-video/v1.6/pro/text-to-video")
    assert pricing is None
    assert "the price catalogue at http://127.0.0.1:9 could not be reached" in why
    assert "no copy is cached" in why


@pytest.mark.parametrize(("text", "named"), [("NaN", "nan"), ("1e999", "inf"), ("-1", "-1"), ('"0.5"', "'0.5'")])
def test_a_catalogue_with_a_bad_price_gives_no_quote_and_is_never_cached_on_disk(simulator, fresh, text, named):
    simulator.configure(bad_money={"price": text})
    result = quote_of({"prompt": "a lighthouse", "duration": 5})
    assert not result.known
    assert result.describe() == (
        "no quote for kling-video/v1.6/pro/text-to-video: the price catalogue gives it a rate that is not a "
        f"finite, non-negative number: price={named}"
    )
    assert list(fresh.glob("prices-*.json")) == []
    quote_of({"prompt": "a fox"})  # this process keeps its copy (its bad models have no quote)...
    assert simulator.stats()["catalogue_requests"] == 1
    prices.reset_process_copies()  # ...but the next process has none on disk: it fetches the catalogue again
    quote_of({"prompt": "a fox"})
    assert simulator.stats()["catalogue_requests"] == 2


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1, "0.5", None])
def test_a_disk_copy_holding_a_bad_price_is_not_trusted(simulator, fresh, bad):
    quote_of({"prompt": "a"})
    prices.reset_process_copies()
    [copy] = fresh.glob("prices-*.json")
    data = json.loads(copy.read_text())
    data["prices"]["kling-video/v1.6/pro/text-to-video"]["units"][0]["price"] = bad
    copy.write_text(json.dumps(data))  # fresh by its age, but a rate is not a number
    assert quote_of({"prompt": "b", "duration": 5}).high == pytest.approx(0.49)  # fetched again, not the copy
    assert simulator.stats()["catalogue_requests"] == 2
    rewritten = json.loads(copy.read_text())["prices"]["kling-video/v1.6/pro/text-to-video"]
    assert rewritten["units"][0]["price"] == 0.098  # the good catalogue replaced it


def test_a_disk_copy_of_an_age_that_is_not_a_number_is_not_trusted(simulator, fresh):
    quote_of({"prompt": "a"})
    prices.reset_process_copies()
    [copy] = fresh.glob("prices-*.json")
    copy.write_text(copy.read_text().replace('"fetched_at": ', '"fetched_at": Infinity, "was": '))
    quote_of({"prompt": "b"})
    assert simulator.stats()["catalogue_requests"] == 2
