"""``KlingVideosPlugin``: registered through the package's ``airflow.plugins`` entry point.

Adds a **Video** tab to every task instance (Airflow shows external views on all of them; a task
that delivered no video says so) and mounts :mod:`.videos` on the API server under ``/kling``.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_kling.plugins.links import URL_PREFIX


class _VideosApp:
    """``fastapi_apps``, built when first read.

    Every Airflow process loads plugins (a task process does, for their macros); only the API
    server reads ``fastapi_apps``. Building the app there alone keeps FastAPI and Airflow's API
    modules out of every task's start.
    """

    def __get__(self, plugin: Any, owner: type | None = None) -> list[dict[str, Any]]:
        from airflow_provider_kling.plugins.videos import app

        return [{"app": app, "url_prefix": URL_PREFIX, "name": "Kling videos"}]


class KlingVideosPlugin(AirflowPlugin):
    """The Video tab of Kling task instances, served by the plugin's own FastAPI app."""

    name = "kling_videos"
    fastapi_apps = _VideosApp()  # type: ignore[assignment]
    external_views = [
        {
            "name": "Video",
            "href": URL_PREFIX + "/task-instance/{DAG_ID}/{RUN_ID}/{TASK_ID}/{MAP_INDEX}",
            "destination": "task_instance",
            "url_route": "kling_video",
        },
        {
            "name": "Kling videos",
            "href": URL_PREFIX + "/videos",
            "destination": "nav",
            "url_route": "kling_videos",
        },
    ]
