"""The plugin's FastAPI app, mounted on Airflow's API server under ``/kling``.

Every route needs Airflow's own authentication (a JWT: the ``Authorization`` header, or the UI's
cookie on Airflow releases that read it) and the right to read the DAG named in the path. A video is
found from what the task instance recorded (its ``return_value`` XCom and the sidecar the product
wrote beside the video), never from a path in the request, and streamed in chunks with Range support.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Annotated, Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.common.db.common import SessionDep
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from airflow_provider_kling.delivery.storage import is_local
from airflow_provider_kling.models.byte_range import RangeNotSatisfiable, byte_range
from airflow_provider_kling.models.cost import amount_text, known_usd
from airflow_provider_kling.models.destinations import CONTACT_SHEET, POSTER, companion_name
from airflow_provider_kling.models.ownership import recorded_sha256
from airflow_provider_kling.models.task_status import status_note
from airflow_provider_kling.models.values import length_seconds
from airflow_provider_kling.models.video_records import VIDEO_RECORD_XCOM_KEY, read_record
from airflow_provider_kling.plugins import overview
from airflow_provider_kling.plugins.api_video import kept_generation, open_api_video, task_connection
from airflow_provider_kling.plugins.page import page
from airflow_provider_kling.plugins.recorded import (
    NotRecorded,
    RecordedVideo,
    TaskFacts,
    recorded_still,
    recorded_video,
    run_records,
    task_facts,
)
from airflow_provider_kling.task_outputs import PROGRESS_XCOM_KEY

CHUNK = 1 << 20
#: The product's stills are JPEGs of some dozens of kilobytes; a contact sheet of many shots a few MiB.
MAX_STILL_BYTES = 16 << 20
#: The most shots the tab lists (a storyboard has a handful).
MAX_SHOTS = 100
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
app.include_router(overview.router)
TASK = "/task-instance/{dag_id}/{run_id}/{task_id}/{map_index}"


#: ``?sha256=``: play the video only if it is still the one with these bytes (the one a review asked about).
Reviewed = Annotated[str | None, Query(pattern="^[0-9a-f]{64}$")]


@dataclass(frozen=True)
class TaskPath:
    """The task instance a route's path names (``/task-instance/<dag>/<run>/<task>/<map index>``).

    :param sha256: ``?sha256=``: the bytes the video must still have (a review's link).
    """

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    sha256: str | None = None

    def facts(self, session: Any) -> TaskFacts:
        """What the task instance recorded (raises ``NotRecorded`` for an unknown or non-Kling one)."""
        return task_facts(session, self.dag_id, self.run_id, self.task_id, self.map_index)


def task_path(dag_id: Name, run_id: Name, task_id: Name, map_index: MapIndex, sha256: Reviewed = None) -> TaskPath:
    """The routes' path and query, checked (a function: FastAPI resolves its annotations on every release)."""
    return TaskPath(dag_id, run_id, task_id, map_index_of(map_index), sha256)


Where = Annotated[TaskPath, Depends(task_path)]


def _pinned(video: RecordedVideo, sha256: str | None) -> RecordedVideo:
    """``video``, if it still has the bytes ``sha256`` names (when it names any)."""
    if sha256 is not None and recorded_sha256(video.sidecar, video.path.name) != sha256:  # the bytes checked
        raise NotRecorded(
            f"this is not the video that was put up for review (SHA-256 {sha256[:16]}…): the task delivered "
            "another one since. Do not approve what you have not watched: ask for a new review."
        )
    return video


@app.get(TASK + "/video", dependencies=READS_THE_DAG)
def stream_video(request: Request, session: SessionDep, where: Where) -> Response:
    """The delivered MP4, whole or the byte range asked for (206), 416 past its end.

    A video kept only at the API is streamed from the API's own link (never shown to the browser).
    """
    try:
        facts = where.facts(session)
        try:
            video = _pinned(recorded_video(facts.return_value, where.dag_id), where.sha256)
        except NotRecorded:
            generation = kept_generation(facts) if where.sha256 is None else None
            if generation is None:
                raise
            return _from_api(session, facts, generation, request.headers.get("range"))
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


def _from_api(session: Any, facts: TaskFacts, generation: str, range_header: str | None) -> Response:
    """The video of ``generation`` as the API serves it, with the byte range asked for."""
    where = facts.instance
    api = open_api_video(task_connection(session, *where), generation, range_header)
    return StreamingResponse(api.chunks, status_code=api.status, media_type="video/mp4", headers=api.headers)


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
def video_tab(request: Request, session: SessionDep, where: Where) -> HTMLResponse:
    """The Video tab: the player, its poster, a storyboard's contact sheet and shots, what the sidecar says.

    A task with no video to play says why: still rendering (its state, for how long, a storyboard's
    shots finished), failed (the API's message, as the task recorded it), or it stored none.
    """
    try:
        facts = where.facts(session)
    except NotRecorded as err:
        return HTMLResponse(page(f"<p class='note'>{html.escape(str(err))}</p>"))
    sha256 = where.sha256
    try:
        video = _pinned(recorded_video(facts.return_value, where.dag_id), sha256)
    except NotRecorded as err:
        generation = kept_generation(facts) if sha256 is None else None
        if generation is not None:
            return HTMLResponse(page(_kept_at_the_api(session, facts, generation, html.escape(request.url.path))))
        now = datetime.now(timezone.utc)
        record, progress = facts.xcoms.get(VIDEO_RECORD_XCOM_KEY), facts.xcoms.get(PROGRESS_XCOM_KEY)
        said = status_note(facts.state, facts.start_date, now, record, progress) if sha256 is None else None
        return HTMLResponse(page(f"<p class='note'>{html.escape(said or str(err))}</p>"))
    here = html.escape(request.url.path)
    stills = recorded_files(video.sidecar)
    poster = f" poster='{here}/still/poster'" if POSTER in stills else ""
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in _facts(video, recorded_model(facts, lambda: run_records(session, facts)))
    )
    sheet = (
        f"<h3>Contact sheet</h3><img alt='one still per shot' style='max-width:min(100%,960px)' "
        f"src='{here}/still/contact_sheet'>"
        if CONTACT_SHEET in stills
        else ""
    )
    query = f"?sha256={sha256}" if sha256 else ""  # the player streams the same, checked video
    player = f"<video controls preload='metadata'{poster} src='{here}/video{query}'></video>"
    return HTMLResponse(page(f"{player}<table>{rows}</table>{_shots(video.sidecar)}{sheet}"))


@app.get(TASK + "/still/{kind}", dependencies=READS_THE_DAG)
def still(session: SessionDep, where: Where, kind: Name) -> Response:
    """The poster or the contact sheet the product wrote beside the task's video (JPEG)."""
    if kind not in (POSTER, CONTACT_SHEET):
        raise HTTPException(status_code=404, detail=f"no such still: {POSTER} or {CONTACT_SHEET}")
    try:
        path = recorded_still(where.facts(session).return_value, where.dag_id, kind)
        with _open(path) as handle:  # a still is a few dozen kilobytes
            data = handle.read(MAX_STILL_BYTES + 1)
    except NotRecorded as err:
        raise HTTPException(status_code=404, detail=str(err)) from None
    except Exception as err:
        raise HTTPException(status_code=404, detail=f"the still could not be read ({type(err).__name__})") from None
    if len(data) > MAX_STILL_BYTES:
        raise HTTPException(status_code=404, detail="that still is larger than any the product writes")
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"})


def _kept_at_the_api(session: Any, facts: TaskFacts, generation: str, here: str) -> str:
    """The tab of a video kept only at the API: the player while the API serves it, else that it expired."""
    try:
        open_api_video(task_connection(session, *facts.instance), generation, "bytes=0-0").close()
    except NotRecorded as err:  # Expired too
        return f"<p class='note'>{html.escape(str(err))}</p>"
    record = facts.xcoms.get(VIDEO_RECORD_XCOM_KEY) or {}
    usd = known_usd({"usd": record.get("usd")}) if isinstance(record, dict) else None
    rows = (
        ("Kept", "only at the API (no destination): played from the API's own link while it is valid"),
        ("Cost", amount_text(usd) if usd is not None else "not reported"),
        ("Generation", generation),
    )
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<video controls preload='metadata' src='{here}/video'></video><table>{table}</table>"


def recorded_files(sidecar: dict[str, Any]) -> set[str]:
    """The stills (poster, contact sheet) a sidecar records beside its video."""
    video = str(sidecar.get("video"))
    return {kind for kind in (POSTER, CONTACT_SHEET) if recorded_sha256(sidecar, companion_name(video, kind))}


def _shots(sidecar: dict[str, Any]) -> str:
    """A storyboard's shots: each one's label, generation, length and cost."""
    shots = sidecar.get("shots")
    if not isinstance(shots, list) or not shots:
        return ""
    rows = []
    for shot in shots[:MAX_SHOTS]:
        if not isinstance(shot, dict):
            continue
        usd = known_usd(shot.get("cost"))
        seconds = shot.get("duration")
        cells = (
            str(shot.get("label", "")),
            str(shot.get("generation_id", "")),
            _length_text(seconds, ""),
            amount_text(usd) if usd is not None else "not reported",
        )
        rows.append("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>")
    head = "<tr><th>Shot</th><th>Generation</th><th>Length</th><th>Cost</th></tr>"
    return f"<h3>Shots</h3><table>{head}{''.join(rows)}</table>"


def recorded_model(facts: TaskFacts, run_records: Callable[[], Iterable[Any]] = tuple) -> str | None:
    """The model the task's ``kling_video`` record names, checked as the Videos page checks it.

    :param run_records: reads the run's other ``kling_video`` records, only when the task's own names
        no model: a download task's video names the model its generating task recorded for it.
    """
    now = datetime.now(timezone.utc)
    own = read_record(*facts.instance, now, facts.xcoms.get(VIDEO_RECORD_XCOM_KEY))
    if own is None or own.model is not None or not own.generation_ids:
        return own.model if own is not None else None
    others = (read_record(*facts.instance, now, value) for value in run_records())
    return next((o.model for o in others if o is not None and o.model and o.generation_ids == own.generation_ids), None)


def _facts(video: RecordedVideo, model: str | None = None) -> list[tuple[str, str]]:
    """What the tab says beside the player; ``model`` as the task recorded it (the sidecar has none)."""
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
        ("Model", model or "not recorded"),
        ("Length", _length_text(length, "not recorded")),
        ("Cost", amount_text(usd) if usd is not None else "not reported"),
        ("Generation" + ("s" if len(ids) > 1 else ""), ", ".join(ids)),
        ("Size", f"{video.size:,} bytes"),
        ("SHA-256", str(sidecar.get("sha256"))),
        ("Sidecar", video.path.name + ".kling.json"),
    ]


def _length_text(value: Any, missing: str) -> str:
    seconds = length_seconds(value)
    return f"{seconds:g} s" if seconds is not None else missing
