"""Make the README's storyboard and batch-report pictures from real runs against the simulator.

Usage: ``.venv/bin/python scripts/docs_pictures.py`` (needs the media extra and Debian's Chromium).
Runs ``kling_storyboard`` and ``kling_batch_production`` through ``airflow dags test`` in a
throwaway AIRFLOW_HOME, then copies the storyboard's contact sheet and a screenshot of the batch's
``report.html`` into ``docs/images``. The simulator's shots are still colours, one per prompt.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from airflow_provider_kling.simulator.process import SimulatorProcess  # noqa: E402
from harness.airflow_env import AirflowEnv  # noqa: E402
from harness.simulated import API_KEY, connection_json  # noqa: E402

IMAGES = REPO / "docs" / "images"


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="kling-docs-"))
    simulator = SimulatorProcess("--api-key", API_KEY, "--generation-seconds", "1")
    env = AirflowEnv(
        work / "home", [REPO / "dags" / "kling_storyboard.py", REPO / "dags" / "kling_batch_production.py"]
    )
    try:
        env.migrate()
        env.run("pools", "set", "kling_generations", "4", "Kling account concurrency", "--include-deferred")
        settings = {
            "AIRFLOW_CONN_KLING_DEFAULT": connection_json(simulator.url),
            "AIRFLOW_VAR_KLING_OUTPUT": str(work / "out"),
            "KLING_POLL_INTERVAL": "0.3",
            "KLING_BATCH_POLL_INTERVAL": "0.3",
        }
        result = env.dags_test("kling_storyboard", env=settings, fresh_process=True)
        if result.returncode != 0:
            raise SystemExit(f"kling_storyboard failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
        # The sample prompt list has a row that fails on purpose: the run fails after its report.
        prompts = json.dumps({"prompts_file": str(REPO / "dags" / "data" / "kling_batch_prompts.jsonl")})
        batch = env.run("dags", "test", "kling_batch_production", "-c", prompts, env=settings, timeout=600)
        if not list((work / "out" / "batch").glob("*/report.html")):
            raise SystemExit(f"kling_batch_production wrote no report:\n{batch.stdout}{env.task_logs()}")
        IMAGES.mkdir(parents=True, exist_ok=True)
        sheet = next((work / "out" / "storyboards").glob("*.contact-sheet.jpg"))
        shutil.copyfile(sheet, IMAGES / "storyboard-contact-sheet.jpg")
        screenshot(next((work / "out" / "batch").glob("*/report.html")), IMAGES / "batch-report.png")
        print(f"Wrote {IMAGES / 'storyboard-contact-sheet.jpg'} and {IMAGES / 'batch-report.png'}")
    finally:
        simulator.stop()
        env.remove()
        shutil.rmtree(work, ignore_errors=True)


def screenshot(page_file: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 700})
        page.goto(page_file.as_uri())
        page.screenshot(path=str(out), full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
