"""Driving Airflow's UI in Chromium as a person would: logged in through its login form."""

from __future__ import annotations

from typing import Any

from harness.cluster import AirflowCluster


def log_in(page: Any, airflow: AirflowCluster, user: str) -> None:
    """Sign ``user`` in through the simple auth manager's login page; back on Airflow's home page after."""
    page.goto(f"{airflow.api_url}/auth/login")
    credentials = airflow.credentials(user)
    page.get_by_label("Username").fill(credentials["username"])
    page.get_by_label("Password").fill(credentials["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/" not in url)
