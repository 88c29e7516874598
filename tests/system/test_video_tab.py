"""The plugin's Video tab on the real API server: Airflow's authentication, Range requests, the player in Chromium.

Screenshots go to a temporary folder, or to ``docs/images`` with ``KLING_UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from harness.cluster import OUTSIDER, wait_until
from harness.deployment import Deployment

DAG = "kling_text_to_video"


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def test_the_video_tab_streams_what_the_task_delivered_to_readers_only(
    fresh: Deployment, page: Any, screenshots: Path
) -> None:
    fresh.simulator.configure(generation_seconds=2.0)
    airflow = fresh.airflow
    run_id = airflow.trigger(DAG)
    assert airflow.wait_for_run(DAG, run_id, timeout=240) == "success"
    entry = airflow.rest(
        "GET", f"/api/v2/dags/{DAG}/dagRuns/{run_id}/taskInstances/download/xcomEntries/return_value?deserialize=true"
    )
    delivered = Path(str(entry["value"]).strip('"').removeprefix("file://"))
    video = delivered.read_bytes()
    tab = f"{airflow.api_url}/kling/task-instance/{DAG}/{run_id}/download/-1"
    bearer = {"Authorization": f"Bearer {airflow.token()}"}

    status, headers, body = fetch(tab + "/video", bearer)
    assert status == 200, body[:1000]
    assert (body, headers["accept-ranges"]) == (video, "bytes")
    status, headers, body = fetch(tab + "/video", {**bearer, "Range": "bytes=100-199"})
    assert (status, body, headers["content-range"]) == (206, video[100:200], f"bytes 100-199/{len(video)}")
    status, headers, _ = fetch(tab + "/video", {**bearer, "Range": f"bytes={len(video)}-"})
    assert (status, headers["content-range"]) == (416, f"bytes */{len(video)}")
    # Airflow's authentication and authorization guard every route: logged out 401; a user who may
    # not read this DAG 403 (the deployment's "outsider" reads only kling_batch_production).
    for route in (tab, tab + "/video", tab + "/still/poster"):
        assert fetch(route)[0] == 401
        status, _, body = fetch(route, {"Authorization": "Bearer forged.jwt.token"})
        assert (status, b"Invalid JWT token" in body) == (403, True)  # Airflow's own answer to a bad token
    outsider = {"Authorization": f"Bearer {airflow.token_for(OUTSIDER)}"}
    for route in (tab, tab + "/video", tab + "/still/poster"):
        status, _, body = fetch(route, outsider)
        assert status == 403, body[:500]
        assert video[:64] not in body
    # The same outsider is let into the DAG they may read: the 403 above is about the DAG.
    status, _, body = fetch(tab.replace(DAG, "kling_batch_production"), outsider)
    assert (status, b"no such task instance" in body) == (200, True)
    # Nothing is served but what a task instance recorded: another task, a path-like or oversized name.
    status, _, body = fetch(tab.replace("/download/", "/report/") + "/video", bearer)
    assert (status, b"not a Kling task" in body) == (404, True)  # a task of yours naming the same file
    assert fetch(tab.replace("/download/", "/..%2F..%2Fetc%2Fpasswd/") + "/video", bearer)[0] == 404
    assert fetch(tab.replace("/download/", "/" + "x" * 300 + "/") + "/video", bearer)[0] == 422
    assert fetch(tab.replace("/-1", "/-2") + "/video", bearer)[0] == 422
    # The submit-only task's generation finished (its sensor saw to it): its tab plays it from the API too.
    status, _, body = fetch(tab.replace("/download/", "/submit/"), bearer)
    assert (status, b"only at the API" in body) == (200, True)
    # The sensor kept its video only at the API: it plays from the API's own link, fetched by the
    # API server with the task's connection; the signed link never reaches the page.
    kept = tab.replace("/download/", "/wait/")
    status, _, body = fetch(kept, bearer)
    assert (status, b"only at the API" in body, b"sig=" in body) == (200, True, False)
    status, headers, body = fetch(kept + "/video", bearer)
    assert (status, body[4:8], "sig=" in str(headers)) == (200, b"ftyp", False)
    status, headers, part = fetch(kept + "/video", {**bearer, "Range": "bytes=100-199"})
    assert (status, part, headers["content-range"]) == (206, body[100:200], f"bytes 100-199/{len(body)}")

    # In Chromium, as Airflow's UI shows it: the task instance's Video tab (the UI's login cookie).
    page.goto(f"{airflow.api_url}/dags/{DAG}/runs/{run_id}/tasks/download/plugin/kling_video")
    player = page.frame_locator("iframe").locator("video")
    player.wait_for()
    handle = player.element_handle()
    handle.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("v => v.currentTime > 0.3", arg=handle, timeout=20_000)
    assert page.frame_locator("iframe").get_by_text("$0.49").is_visible()  # its cost, from the sidecar
    # Its model, as the generating task recorded it (the download task knows none of its own).
    assert page.frame_locator("iframe").get_by_text("kling-video/v1.6/pro/text-to-video", exact=True).is_visible()
    page.screenshot(path=str(screenshots / "video-tab.png"))


BATCH = "kling_batch_production"


def ensure_pool(airflow: Any, name: str, slots: int) -> None:
    try:
        airflow.rest("POST", "/api/v2/pools", {"name": name, "slots": slots, "include_deferred": True})
    except RuntimeError as err:
        if "HTTP 409" not in str(err):  # made already by another scenario of this session
            raise


def test_the_videos_page_lists_a_batch_with_its_costs_and_charts_the_spend(
    fresh: Deployment, page: Any, screenshots: Path, tmp_path: Path
) -> None:
    fresh.simulator.configure(generation_seconds=2.0)
    airflow = fresh.airflow
    rows = tmp_path / "rows.jsonl"
    names = [f"page-{i}" for i in range(3)]
    rows.write_text("".join(json.dumps({"output": n, "prompt": f"Videos page shot {n}"}) + "\n" for n in names))
    ensure_pool(airflow, "kling_generations", 10)  # what the batch DAG's docs tell users to create
    # As Airflow 3's CLI and REST API trigger by default: no logical date (the DAGs' templates cope).
    run_id = airflow.trigger(BATCH, {"prompts_file": str(rows)}, logical_date=False)
    quickstart = airflow.trigger("kling_quickstart", logical_date=False)
    assert airflow.wait_for_run(BATCH, run_id, timeout=300) == "success"
    assert airflow.wait_for_run("kling_quickstart", quickstart, timeout=120) == "success"
    quoted_run = urllib.parse.quote(run_id, safe="")

    # In Chromium, from Airflow's navigation: the plugin's Videos page in its frame.
    page.goto(f"{airflow.api_url}/plugin/kling_videos")
    frame = page.frame_locator("iframe")
    listed = frame.locator(f"a[href*='/runs/{quoted_run}/tasks/row.download/mapped/']")
    listed.first.wait_for()
    # The three rows: each generate + download merged into one video.
    records = airflow.sql(
        "SELECT task_id, map_index, timestamp, value FROM xcom WHERE key = 'kling_video' AND run_id = %s", (run_id,)
    )
    assert listed.count() == 3, (frame.locator("body").inner_text(), records)
    for index in range(3):
        row = frame.locator(
            "tr", has=frame.locator(f"a[href*='/runs/{quoted_run}/tasks/row.download/mapped/{index}/']")
        )
        assert "$0.49" in row.inner_text()  # its cost, recorded by the task that paid
        poster = row.locator("img.poster")
        poster.wait_for()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=poster.element_handle())
    charts = frame.locator("svg[role='img']")
    assert charts.count() == 2  # by DAG and by model
    assert frame.locator("svg[aria-label='Spend per day by DAG'] rect").count() >= 1
    assert BATCH in frame.locator(".legend").first.inner_text()
    page.screenshot(path=str(screenshots / "videos-page.png"), full_page=True)

    # Only the DAGs a user may read: the outsider reads the batch DAG, not the text-to-video one.
    outsider = {"Authorization": f"Bearer {airflow.token_for(OUTSIDER)}"}
    status, _, body = fetch(f"{airflow.api_url}/kling/videos", outsider)
    assert status == 200
    assert quoted_run.encode() in body
    assert DAG.encode() not in body
    assert fetch(f"{airflow.api_url}/kling/videos")[0] == 401
    status, _, body = fetch(f"{airflow.api_url}/kling/videos?since=yesterday", outsider)
    assert (status, b"since must be a day written YYYY-MM-DD" in body) == (422, True)


def test_the_tab_of_a_task_still_rendering_or_failed_says_so(fresh: Deployment) -> None:
    airflow = fresh.airflow
    bearer = {"Authorization": f"Bearer {airflow.token()}"}
    fresh.simulator.configure(generation_seconds=120.0)
    run_id = airflow.trigger(DAG)
    tab = f"{airflow.api_url}/kling/task-instance/{DAG}/{urllib.parse.quote(run_id, safe='')}/wait/-1"

    def rendering() -> bytes | None:
        body = fetch(tab, bearer)[2]
        return body if b"Rendering" in body else None

    body = wait_until(rendering, timeout=120, interval=1, what="the wait task's tab to say it renders")
    assert re.search(rb"the task is (deferred|running) for [0-9]+ (s|min)", body), body
    fresh.simulator.finish_renders()  # end it now: nothing of this run outlives the scenario
    assert airflow.wait_for_run(DAG, run_id, timeout=120) == "success"

    fresh.simulator.configure(generation_seconds=2.0)
    failing = airflow.trigger(DAG, {"prompt": "a fox [sim:error]"})
    assert airflow.wait_for_run(DAG, failing, timeout=120) == "failed"
    tab = tab.replace(urllib.parse.quote(run_id, safe=""), urllib.parse.quote(failing, safe=""))
    status, _, body = fetch(tab, bearer)
    assert status == 200
    assert b"The task failed: " in body
    assert b"rejected by the content policy" in body  # the API's own message
