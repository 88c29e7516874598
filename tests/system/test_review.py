"""A storyboard a person approves in Airflow's UI before it ships: answered through the REST API
both ways, the review page checked in Chromium."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cluster import wait_until
from harness.deployment import Deployment

DAG = "kling_storyboard_review"
HITL = "/api/v2/dags/" + DAG + "/dagRuns/{run_id}/taskInstances/review/-1/hitlDetails"


def waiting_for_review(fresh: Deployment, run_id: str) -> dict[str, Any]:
    """The review's HITL detail once the storyboard is delivered and the question asked."""

    def asked() -> dict[str, Any] | None:
        states = {ti["task_id"]: ti["state"] for ti in fresh.airflow.task_instances(DAG, run_id)}
        assert states.get("storyboard") not in ("failed", "upstream_failed"), states
        if states.get("review") not in ("deferred", "awaiting_input"):
            return None
        return fresh.airflow.rest("GET", HITL.format(run_id=run_id))

    return wait_until(asked, timeout=240, interval=0.5, what="the review question")


def answer(fresh: Deployment, run_id: str, option: str, reason: str = "") -> None:
    payload = {"chosen_options": [option], "params_input": {"reason": reason}}
    fresh.airflow.rest("PATCH", HITL.format(run_id=run_id), payload)


def test_an_approved_storyboard_is_published_with_its_contact_sheet(
    fresh: Deployment, page: Any, screenshots: Path
) -> None:
    fresh.simulator.configure(generation_seconds=2.0)
    run_id = fresh.airflow.trigger(DAG)
    detail = waiting_for_review(fresh, run_id)
    assert detail["subject"] == "Publish this storyboard video?"
    assert detail["options"] == ["Publish", "Reject"]
    under_review = next(fresh.output.glob("review/*.mp4"))
    assert str(under_review) in detail["body"]
    assert under_review.name + ".contact-sheet.jpg" in detail["body"]
    assert "base64" not in detail["body"]
    assert not (fresh.output / "published").exists()  # nothing ships before a person says so

    # What the reviewer sees: the task's Required Actions in Airflow's UI, with the storyboard's
    # poster in the question (Airflow renders the body's Markdown, images included).
    page.goto(f"{fresh.airflow.api_url}/dags/{DAG}/runs/{run_id}/tasks/review/required_actions")
    page.get_by_text("Publish this storyboard video?").first.wait_for()
    page.get_by_role("button", name="Publish").first.wait_for()
    poster = page.get_by_role("img", name="The storyboard's poster")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=poster.element_handle())
    page.screenshot(path=str(screenshots / "storyboard-review.png"), full_page=True)

    # The question's link: the storyboard's Video tab, playing the very video asked about.
    watch = page.get_by_role("link", name="▶ Watch the video")
    href = watch.get_attribute("href")
    assert href is not None
    assert href.endswith("?sha256=" + detail["body"].split("**SHA-256:** `", 1)[1][:64])
    page.goto(fresh.airflow.api_url + href)  # Airflow opens the links of a question in a new tab
    player = page.locator("video")
    player.wait_for()
    handle = player.element_handle()
    handle.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("v => v.currentTime > 0.3", arg=handle, timeout=20_000)
    assert page.get_by_text("$0.98").first.is_visible()  # its cost (two shots), before choosing
    assert page.get_by_role("cell", name="Shot 2").is_visible()
    sheet = page.get_by_role("img", name="one still per shot")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=sheet.element_handle())
    page.screenshot(path=str(screenshots / "storyboard-video-tab.png"), full_page=True)
    # A link that names other bytes (the video was delivered again since the question) plays nothing.
    page.goto(fresh.airflow.api_url + href[:-64] + "0" * 64)
    page.get_by_text("this is not the video that was put up for review").wait_for()
    assert page.locator("video").count() == 0

    answer(fresh, run_id, "Publish")
    assert fresh.airflow.wait_for_run(DAG, run_id, timeout=240) == "success"
    published = fresh.output / "published" / under_review.name
    assert published.read_bytes() == under_review.read_bytes()
    for suffix in (".kling.json", ".poster.jpg", ".contact-sheet.jpg"):
        assert published.with_name(published.name + suffix).exists(), suffix
    assert fresh.simulator.stats()["creates"] == 2  # one per shot


def test_a_rejected_storyboard_publishes_nothing_and_keeps_the_reason(fresh: Deployment) -> None:
    fresh.simulator.configure(generation_seconds=2.0)
    run_id = fresh.airflow.trigger(DAG)
    waiting_for_review(fresh, run_id)
    under_review = sorted(fresh.output.glob("review/*.mp4"), key=lambda p: p.stat().st_mtime)[-1]
    published_before = set((fresh.output / "published").glob("*")) if (fresh.output / "published").exists() else set()

    answer(fresh, run_id, "Reject", reason="the mug's handle changes side between shots")
    assert fresh.airflow.wait_for_run(DAG, run_id, timeout=240) == "success"
    record = json.loads(under_review.with_name(under_review.name + ".review.json").read_text())
    assert record["decision"] == "rejected"
    assert record["reason"] == "the mug's handle changes side between shots"
    published_after = set((fresh.output / "published").glob("*")) if (fresh.output / "published").exists() else set()
    assert published_after == published_before


@pytest.fixture(autouse=True)
def _review_dag_is_loaded(fresh: Deployment) -> None:
    fresh.airflow.wait_for_dag(DAG)
