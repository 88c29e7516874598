"""The plugin's FastAPI app, mounted on Airflow's API server under ``/kling``.

Every route needs Airflow's own authentication (a JWT: the ``Authorization`` header, or the UI's
cookie on Airflow releases that read it) and the right to read the DAG named in the path. A video is
found from what the task instance recorded (its ``return_value`` XCom and the sidecar the product
wrote beside the video), never from a path in the request, and streamed in chunks with Range support.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Annotated, Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from airflow_provider_kling.delivery.storage import is_local
from airflow_provider_kling.models.byte_range import RangeNotSatisfiable, byte_range
from airflow_provider_kling.models.cost import amount_text, known_usd
from airflow_provider_kling.models.values import is_money
from airflow_provider_kling.plugins.recorded import NotRecorded, RecordedVideo, recorded_video, task_return_value

CHUNK = 1 << 20
#: Names as Airflow allows them (ids, run ids), with room to spare; anything longer is refused unread.
Name = Annotated[str, Path(min_length=1, max_length=250)]
#: A map index; the UI leaves its placeholder as it is for a task that is not mapped (-1 then).
MapIndex = Annotated[str, Path(min_length=1, max_length=12)]
UNMAPPED_PLACEHOLDER = "{MAP_INDEX}"


def map_index_of(text: str) -> int:
    """The map index a path gives: a whole number from -1, or the UI's placeholder for -1."""
    if text == UNMAPPED_PLACEHOLDER:
        return -1
    if not re.fullmatch(r"-?[0-9]+", text) or int(text) < -1:
        raise HTTPException(status_code=422, detail="the map index must be a whole number, -1 or more")
    return int(text)


#: Airflow's own check: an authenticated user who may read the XComs of the DAG named in the path
#: (the video is found through one); 401 / 403 otherwise.
READS_THE_DAG = [Depends(requires_access_dag("GET", DagAccessEntity.XCOM))]
app = FastAPI(title="Kling videos", docs_url=None, redoc_url=None, openapi_url=None)
TASK = "/task-instance/{dag_id}/{run_id}/{task_id}/{map_index}"


def _recorded(session: Any, dag_id: str, run_id: str, task_id: str, map_index: str) -> RecordedVideo:
    """The video the task instance recorded (raises ``NotRecorded`` saying what is missing)."""
    return recorded_video(task_return_value(session, dag_id, run_id, task_id, map_index_of(map_index)), dag_id)


@app.get(TASK + "/video", dependencies=READS_THE_DAG)
def stream_video(
    request: Request, session: SessionDep, dag_id: Name, run_id: Name, task_id: Name, map_index: MapIndex
) -> Response:
    """The delivered MP4, whole or the byte range asked for (206), 416 past its end."""
    try:
        video = _recorded(session, dag_id, run_id, task_id, map_index)
    except NotRecorded as err:
        raise HTTPException(status_code=404, detail=str(err)) from None
    try:
        wanted = byte_range(request.headers.get("range"), video.size)
    except RangeNotSatisfiable:
        return Response(status_code=416, headers={"Content-Range": f"bytes */{video.size}"})
    start, end = wanted if wanted is not None else (0, video.size - 1)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(max(0, end - start + 1))}
    if wanted is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{video.size}"
    try:  # opened before answering: a storage error is a clear 404, not a connection cut mid-answer
        handle = _open(video.path)
        handle.seek(start)
    except Exception as err:
        raise HTTPException(status_code=404, detail=f"the video could not be read ({type(err).__name__})") from None
    return StreamingResponse(
        _chunks(handle, end - start + 1), status_code=206 if wanted else 200, media_type="video/mp4", headers=headers
    )


def _open(path: Any) -> Any:
    """``path`` opened for reading: on object storage without read-ahead (s3fs reads 50 MiB blocks by default)."""
    return path.open("rb") if is_local(path) else path.open("rb", block_size=CHUNK, cache_type="none")


def _chunks(handle: Any, length: int) -> Iterator[bytes]:
    """``length`` bytes from ``handle``, a chunk at a time (never the whole file); closes it."""
    with handle:
        left = length
        while left > 0:
            chunk = handle.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


@app.get(TASK, response_class=HTMLResponse, dependencies=READS_THE_DAG)
def video_tab(
    request: Request, session: SessionDep, dag_id: Name, run_id: Name, task_id: Name, map_index: MapIndex
) -> HTMLResponse:
    """The Video tab: the player and what the sidecar says (cost, generation, size)."""
    try:
        video = _recorded(session, dag_id, run_id, task_id, map_index)
    except NotRecorded as err:
        return HTMLResponse(_page(f"<p class='note'>{html.escape(str(err))}</p>"))
    facts = _facts(video)
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in facts)
    player = f"<video controls preload='metadata' src='{html.escape(request.url.path)}/video'></video>"
    return HTMLResponse(_page(f"{player}<table>{rows}</table>"))


def _facts(video: RecordedVideo) -> list[tuple[str, str]]:
    sidecar = video.sidecar
    shots = (
        [s for s in sidecar.get("shots") or [] if isinstance(s, dict)] if isinstance(sidecar.get("shots"), list) else []
    )
    ids = [str(s.get("generation_id")) for s in shots] or [str(sidecar.get("generation_id"))]
    usd = known_usd(sidecar.get("cost"))
    probe: dict[str, Any] = sidecar["probe"] if isinstance(sidecar.get("probe"), dict) else {}
    length = probe.get("duration") or sidecar.get("api_duration")
    return [
        ("Video", video.path.name),
        ("Length", f"{length:g} s" if is_money(length) and length > 0 else "not recorded"),  # finite, > 0
        ("Cost", amount_text(usd) if usd is not None else "not reported"),
        ("Generation" + ("s" if len(ids) > 1 else ""), ", ".join(ids)),
        ("Size", f"{video.size:,} bytes"),
        ("Sidecar", video.path.name + ".kling.json"),
    ]


def _page(body: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Kling video</title><style>"
        "body{font-family:system-ui,sans-serif;margin:1rem}video{width:min(100%,960px);max-height:60vh;background:#000}"
        "th{text-align:left;padding-right:1rem}.note{color:#555}</style></head>"
        f"<body>{body}</body></html>"
    )
