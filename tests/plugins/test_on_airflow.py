"""The plugin inside Airflow's own API app, on the Airflow release under test (3.3.2 and 3.1.0 in CI).

What the README says per release is checked here: the app mounts the plugin and lists its two
views; a request with a bearer token is answered on every release; the UI's login cookie is read
from Airflow 3.3 on (before, the API server reads only the header: the pages answer 401 in the UI).
Runs in a subprocess with its own AIRFLOW_HOME and SQLite database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version

SCRIPT = """
import json, secrets, subprocess, sys
from airflow.api_fastapi.app import create_app
from fastapi.testclient import TestClient

client = TestClient(create_app())
token = client.post("/auth/token", json={"username": "admin", "password": "pw-of-the-test"}).json()["access_token"]
plugins = client.get("/api/v2/plugins", headers={"Authorization": f"Bearer {token}"}).json()["plugins"]
mine = [p for p in plugins if p["name"] == "kling_videos"]
tab = "/kling/task-instance/nodag/norun/notask/-1"
answers = {
    "views": [(v["name"], v["destination"]) for p in mine for v in p.get("external_views", [])],
    "logged_out": client.get("/kling/videos").status_code,
    "bearer_page": client.get("/kling/videos", headers={"Authorization": f"Bearer {token}"}).status_code,
    "bearer_tab": client.get(tab, headers={"Authorization": f"Bearer {token}"}).text,
}
client.cookies.set("_token", token)
answers["cookie_page"] = client.get("/kling/videos").status_code
print("ANSWERS" + json.dumps(answers))
"""


@pytest.fixture(scope="module")
def answers(tmp_path_factory: pytest.TempPathFactory) -> dict:
    home = tmp_path_factory.mktemp("airflow-app")
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({"admin": "pw-of-the-test"}))
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # Real logins (not the all-admins mode, whose middleware makes every request an admin's).
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API_AUTH__JWT_SECRET": "kling-test-secret-kling-test-secret",
        "AIRFLOW__API_AUTH__JWT_ISSUER": "kling-tests",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
    }
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    line = next((x for x in done.stdout.splitlines() if x.startswith("ANSWERS")), None)
    assert line is not None, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(line.removeprefix("ANSWERS"))


def airflow_version() -> Version:
    from importlib.metadata import version

    return Version(version("apache-airflow"))


def test_the_app_lists_the_video_tab_and_the_videos_page(answers):
    assert answers["views"] == [["Video", "task_instance"], ["Kling videos", "nav"]]


def test_a_bearer_token_is_answered_on_every_release(answers):
    assert answers["bearer_page"] == 200
    assert "there is no such task instance" in answers["bearer_tab"]


def test_the_login_cookie_is_read_from_airflow_3_3_on(answers):
    assert answers["logged_out"] == 401
    if airflow_version() >= Version("3.3.0"):
        assert answers["cookie_page"] == 200
    else:
        assert answers["cookie_page"] == 401
