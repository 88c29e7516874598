"""The provider in Airflow's real UI, driven by Debian's headless Chromium through Playwright.

Screenshots go to a temporary folder, or to ``docs/images`` (the README's pictures) with
``KLING_UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness.deployment import API_KEY, Deployment


def open_connection_form(page: Any, deployment: Deployment, conn_id: str) -> Any:
    page.goto(deployment.airflow.api_url + "/connections")
    page.get_by_role("button", name="Add Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Connection ID").fill(conn_id)
    connection_type = dialog.get_by_role("combobox")
    connection_type.click(force=True)  # react-select: its placeholder covers the input
    connection_type.fill("Kling")
    page.get_by_role("option", name="Kling (AI/ML API)").click()
    return dialog


def test_connection_form_labels_saves_and_tests_a_kling_connection(
    fresh: Deployment, page: Any, screenshots: Path
) -> None:
    dialog = open_connection_form(page, fresh, "kling_from_the_ui")

    api_key = dialog.get_by_label("API key")
    assert api_key.get_attribute("type") == "password"
    assert api_key.get_attribute("placeholder") == "your AI/ML API key"
    base_url = dialog.get_by_label("API base URL")
    assert "api.aimlapi.com" in base_url.get_attribute("placeholder")
    standard = dialog.inner_text()
    for hidden in ("Login", "Port", "Schema"):
        assert hidden not in standard, f"the {hidden} field should be hidden for a Kling connection"

    base_url.fill(fresh.simulator.url)
    api_key.fill(API_KEY)
    dialog.get_by_text("Extra Fields", exact=True).click()
    for label in ("Read timeout (seconds)", "Connect timeout (seconds)", "API endpoint", "TLS verification"):
        # A label's text may end in the UI's required-field marker (API endpoint always has a value).
        assert dialog.locator("label", has_text=label).is_visible(), label
    # The endpoint extra is a choice that starts on its default, never on an empty (null) value.
    assert dialog.locator("#element_endpoint").inner_text().strip() == "auto"
    dialog.get_by_label("Read timeout (seconds)").fill("90")
    page.screenshot(path=str(screenshots / "connection-form.png"))
    dialog.get_by_role("button", name="Save").click()
    row = page.get_by_role("row").filter(has_text="kling_from_the_ui")
    row.wait_for()

    saved = fresh.airflow.rest("GET", "/api/v2/connections/kling_from_the_ui")
    assert (saved["conn_type"], saved["host"]) == ("kling", fresh.simulator.url)
    assert saved["password"] != API_KEY, "the API returned the key unmasked"
    saved_extra = json.loads(saved["extra"])
    assert float(saved_extra["timeout"]) == 90
    assert saved_extra.get("endpoint", "auto") == "auto", saved_extra

    polls_before = fresh.simulator.stats()["fetch_requests"]
    outcome = press_test_button(page, row, fresh, API_KEY)
    assert outcome["success"] is True, outcome
    assert outcome["message"] == f"API key accepted by {fresh.simulator.url}"
    assert fresh.simulator.stats()["fetch_requests"] == polls_before + 1, "the test never reached the API"
    xfail_on_upstream_bug(outcome)
    page.get_by_text("Test Connection Successful").wait_for()
    page.screenshot(path=str(screenshots / "connection-test.png"))


def test_the_test_button_inside_the_edit_form_reaches_the_hook(fresh: Deployment, page: Any) -> None:
    # Checked on Airflow 3.3.2: its Edit dialog has no Test button (the UI renders its test component
    # only in the list's actions column, beside Edit). Should a release add one, this covers it.
    fresh.airflow.rest(
        "POST",
        "/api/v2/connections",
        {"connection_id": "kling_edit_form", "conn_type": "kling", "host": fresh.simulator.url, "password": API_KEY},
    )
    page.goto(fresh.airflow.api_url + "/connections")
    row = page.get_by_role("row").filter(has_text="kling_edit_form")
    row.get_by_label("Edit Connection").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("API base URL").wait_for()
    test_button = dialog.get_by_role("button", name=re.compile("^Test"))
    if test_button.count() == 0:
        assert dialog.get_by_role("button", name="Save").is_visible()  # the Edit dialog it is
        pytest.xfail("Airflow's Edit connection dialog has no Test button (3.3.2): only the list's row has one")
    polls_before = fresh.simulator.stats()["fetch_requests"]
    with page.expect_response("**/api/v2/connections/test") as answer:
        test_button.first.click()
    response = answer.value
    assert response.status == 200, (response.status, response.text())
    body = response.json()
    assert body["status"] is True, body
    assert body["message"] == f"API key accepted by {fresh.simulator.url}"
    assert fresh.simulator.stats()["fetch_requests"] == polls_before + 1, "the test never reached the API"


def test_connection_test_with_a_wrong_key_says_so(fresh: Deployment, page: Any) -> None:
    dialog = open_connection_form(page, fresh, "kling_wrong_key")
    dialog.get_by_label("API base URL").fill(fresh.simulator.url)
    dialog.get_by_label("API key").fill("sk-not-the-right-key")
    dialog.get_by_role("button", name="Save").click()
    row = page.get_by_role("row").filter(has_text="kling_wrong_key")
    outcome = press_test_button(page, row, fresh, "sk-not-the-right-key")
    assert outcome["success"] is False, outcome
    assert "401" in outcome["message"], outcome
    assert "sk-not-the-right-key" not in outcome["message"], "the key leaked into the message"
    xfail_on_upstream_bug(outcome)
    page.get_by_text("Test Connection Failed").wait_for()


# Airflow 3.3's connection list sends ``port: Number(null)`` = 0 for a connection without a port,
# and its API then refuses to reuse the stored key ("host or port ... differs", HTTP 400). Every
# connection type without a port is affected, ours included (the form hides the port).
UPSTREAM_PORT_BUG = "differs from the stored connection"


def press_test_button(page: Any, row: Any, deployment: Deployment, api_key: str) -> dict[str, Any]:
    """Click the row's Test button; return the API's verdict ``{success, message, upstream_bug}``.

    When Airflow's own UI bug stops the request before it reaches the hook, the same request is
    sent again with the key in the body (what the API's check asks for), so our side is still proven.
    """
    with page.expect_response("**/api/v2/connections/test") as answer:
        row.get_by_label("Test Connection").click()
    response = answer.value
    if response.status == 400 and UPSTREAM_PORT_BUG in response.text():
        sent = json.loads(response.request.post_data or "{}")
        assert sent.get("port") == 0, sent
        verdict = deployment.airflow.rest(
            "POST", "/api/v2/connections/test", {**sent, "port": None, "password": api_key}
        )
        return {"success": verdict["status"], "message": verdict["message"], "upstream_bug": True}
    assert response.status == 200, response.text()
    body = response.json()
    return {"success": body["status"], "message": body["message"], "upstream_bug": False}


def xfail_on_upstream_bug(outcome: dict[str, Any]) -> None:
    if outcome["upstream_bug"]:
        pytest.xfail(
            "Airflow UI bug: the connection list's Test button sends port 0 for a connection without a port "
            "and the API refuses it (HTTP 400) before any hook runs; our hook answered correctly through the API"
        )


def test_example_dag_run_grid_and_the_video_link(fresh: Deployment, page: Any, screenshots: Path) -> None:
    fresh.simulator.configure(generation_seconds=4.0)
    airflow = fresh.airflow
    run_id = airflow.trigger("kling_text_to_video")
    assert airflow.wait_for_run("kling_text_to_video", run_id, timeout=240) == "success"
    links = airflow.rest("GET", f"/api/v2/dags/kling_text_to_video/dagRuns/{run_id}/taskInstances/wait/links")
    video_url = links["extra_links"]["Kling video"]
    assert video_url.startswith(fresh.simulator.url + "/videos/")

    page.goto(f"{airflow.api_url}/dags/kling_text_to_video/runs/{run_id}")
    page.get_by_text("download", exact=True).first.wait_for()
    page.screenshot(path=str(screenshots / "example-dag-run.png"))
    page.get_by_label("Show Graph (Press g)").click()
    nodes = page.locator(".react-flow__node")
    nodes.filter(has_text="download").first.wait_for()
    assert nodes.count() == 4, nodes.all_inner_texts()
    page.wait_for_timeout(500)  # the fit-to-view animation
    page.screenshot(path=str(screenshots / "example-dag-graph.png"))

    page.goto(f"{airflow.api_url}/dags/kling_text_to_video/runs/{run_id}/tasks/wait/details")
    link = page.get_by_role("link", name="Kling video", exact=True)
    link.wait_for()
    assert link.get_attribute("href") == video_url
    page.screenshot(path=str(screenshots / "extra-link.png"))

    page.goto(f"{airflow.api_url}/dags/kling_text_to_video/runs/{run_id}/tasks/wait")
    page.get_by_text("Trigger fired event").first.wait_for()
    page.screenshot(path=str(screenshots / "sensor-log.png"))
