"""The Videos page (``/kling/videos``, in Airflow's navigation): recent videos and what they cost.

It needs Airflow's authentication; it lists only the DAGs whose XComs the user may read (as the
Video tab asks). Everything comes from the tasks' ``kling_video`` records in the database.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from airflow_provider_kling.models.video_records import spend
from airflow_provider_kling.plugins.listing import BadFilter, Filters, readable_dags, recorded_videos
from airflow_provider_kling.plugins.page import error_page, videos_page

router = APIRouter()


@router.get("/videos", response_class=HTMLResponse)
def videos(request: Request, session: SessionDep, user: GetUserDep) -> HTMLResponse:
    """Recent videos of the DAGs the user may read, filtered by DAG, model and days, with spend charts."""
    try:
        filters = Filters.parse(dict(request.query_params), datetime.now(timezone.utc).date())
    except BadFilter as err:
        return HTMLResponse(error_page(str(err)), status_code=422)
    dag_ids = readable_dags(session, user)
    found = recorded_videos(session, dag_ids, filters)
    models = sorted({video.model for video in found if video.model} | ({filters.model} if filters.model else set()))
    choices: dict[str, Any] = {"dag_id": dag_ids, "model": models}
    return HTMLResponse(
        videos_page(found, spend(found, "dag"), spend(found, "model"), filters, choices, _links(request))
    )


def _links(request: Request) -> tuple[str, str]:
    """The URL prefixes of Airflow's UI and of this app, wherever Airflow is served (a sub-path too)."""
    app_base = str(request.scope.get("root_path", "")).rstrip("/")
    return app_base.rsplit("/", 1)[0] if "/" in app_base else "", app_base
