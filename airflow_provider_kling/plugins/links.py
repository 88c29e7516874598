"""Links to the plugin's pages, for a DAG to put in front of a person (a review question).

Light on purpose: a DAG imports it at parse time (no FastAPI, no Airflow API modules).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

#: Where the plugin's app is mounted on the API server.
URL_PREFIX = "/kling"


def segments(*parts: object) -> str:
    """A URL path of ``parts``, each quoted whole (a run id's ``:`` and ``+``, a ``/`` in a name)."""
    return "/".join(quote(str(part), safe="") for part in parts)


def video_tab_url(
    dag_id: str, run_id: str, task_id: str, map_index: int = -1, *, sha256: str | None = None, still: str | None = None
) -> str:
    """The Video tab's page of a task instance on Airflow's API server (under its ``[api] base_url`` path).

    :param sha256: the page plays the video only while it still has these bytes (a review's question
        names the video it asks about; a video delivered again since is refused, not played).
    :param still: instead of the page, the task's ``poster`` or ``contact_sheet`` (to embed as an image).
    """
    url = f"{_base_path()}{URL_PREFIX}/task-instance/{segments(dag_id, run_id, task_id, map_index)}"
    if still is not None:
        return f"{url}/still/{quote(still, safe='')}"
    return url + (f"?sha256={quote(sha256, safe='')}" if sha256 else "")


def _base_path() -> str:
    """The path Airflow is served under (``/airflow`` of ``https://host/airflow``), empty at the root."""
    from airflow.configuration import conf

    return urlsplit(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")
