"""A video kept only at the API (no destination): streamed through the API server while the API serves it.

The API's video URL is signed and short-lived; it never reaches a page. The API server asks the API
for the generation with the task's own Kling connection (a fresh URL each time the cached one is
old), and streams the bytes to the browser with the Range it asked for. When the API no longer
serves the video (its URL refused, or no URL), the tab says it has expired.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from airflow.models.renderedtifields import RenderedTaskInstanceFields
from airflow.models.serialized_dag import SerializedDagModel
from sqlalchemy import select

from airflow_provider_kling.models.byte_range import RangeNotSatisfiable, byte_range
from airflow_provider_kling.models.generation import GenerationStatus
from airflow_provider_kling.models.video_records import VIDEO_RECORD_XCOM_KEY
from airflow_provider_kling.plugins.recorded import NotRecorded, TaskFacts, said_on_the_page
from airflow_provider_kling.retry import RetryPolicy
from airflow_provider_kling.task_outputs import delivered_uri

CHUNK = 1 << 20
#: How long a fresh URL from the API is reused for the player's Range requests (seconds).
URL_REUSE_SECONDS = 60.0
#: A single byte range as a player asks for it; anything else is not passed on.
SINGLE_RANGE = re.compile(r"bytes=[0-9]{1,15}-[0-9]{0,15}")
PASSED_HEADERS = ("Content-Length", "Content-Range", "Accept-Ranges")
_URLS: dict[tuple[str, str], tuple[float, str]] = {}
#: A person waits on the page: one quick second try, not a task's minutes of retries.
PAGE_RETRY = RetryPolicy(max_attempts=2, base_delay=0.5, max_delay=1.0, budget=5.0)


class Expired(NotRecorded):
    """The API no longer serves the video (its link expired, or the generation has no video)."""


def kept_generation(facts: TaskFacts) -> str | None:
    """The generation whose video this task kept only at the API; ``None`` when it stored it, or made none.

    A task whose return value names a stored video is never played from the API instead (its
    sidecar decides, and may have refused: another DAG's video, changed bytes).
    """
    if delivered_uri(facts.return_value) is not None:
        return None
    record = facts.xcoms.get(VIDEO_RECORD_XCOM_KEY)
    if not isinstance(record, dict) or record.get("delivered") is not False or record.get("error"):
        return None
    ids = record.get("generation_ids")
    if not isinstance(ids, list) or len(ids) != 1 or not isinstance(ids[0], str) or not ids[0]:
        return None
    return ids[0] if facts.state == "success" else None


def task_connection(session: Any, dag_id: str, run_id: str, task_id: str, map_index: int) -> str:
    """The Kling connection the task used: as it rendered it, else as its DAG names it (never from an XCom).

    :raises NotRecorded: the connection is templated and the task left no rendered value.
    """
    rendered = session.scalar(
        select(RenderedTaskInstanceFields.rendered_fields).where(
            RenderedTaskInstanceFields.dag_id == dag_id,
            RenderedTaskInstanceFields.run_id == run_id,
            RenderedTaskInstanceFields.task_id == task_id,
            RenderedTaskInstanceFields.map_index == map_index,
        )
    )
    conn_id = rendered.get("kling_conn_id") if isinstance(rendered, dict) else None
    if conn_id is None:
        try:
            dag = SerializedDagModel.get_dag(dag_id, session=session)
            task = dag.get_task(task_id) if dag is not None and dag.has_task(task_id) else None
        except Exception as err:  # a DAG that no longer deserializes: said on the page, never a 500
            raise NotRecorded(
                f"this task's DAG could not be read to find its connection ({type(err).__name__})"
            ) from None
        conn_id = getattr(task, "kling_conn_id", None)
    if not isinstance(conn_id, str) or not conn_id or "{{" in conn_id:
        raise NotRecorded("the Kling connection this task used is not known here: its video cannot be fetched")
    return conn_id


@dataclass(frozen=True)
class ApiVideo:
    """The API's answer for the video: its status (200, 206 or 416), the headers passed on, the bytes."""

    status: int
    headers: dict[str, str]
    chunks: Generator[bytes, None, None]
    response: Any = None

    def close(self) -> None:
        """Let the connection go without reading the bytes (a probe)."""
        self.chunks.close()
        if self.response is not None:
            self.response.close()


def open_api_video(conn_id: str, generation_id: str, range_header: str | None) -> ApiVideo:
    """The video of ``generation_id`` from the API's own URL, with the byte range asked for.

    :raises Expired: the API no longer serves it.
    """
    range_header = range_header if range_header and SINGLE_RANGE.fullmatch(range_header) else None
    with said_on_the_page("the API could not be asked for this video"):
        response = _get(_fresh_url(conn_id, generation_id), range_header)
        if response.status_code in (401, 403, 404, 410):  # the signature is old: one fresh URL, once
            response.close()
            _URLS.pop((conn_id, generation_id), None)
            response = _get(_fresh_url(conn_id, generation_id), range_header)
    if response.status_code in (401, 403, 404, 410):
        response.close()
        raise Expired(f"the video kept at the API has expired: the API refused its link (HTTP {response.status_code})")
    if response.status_code not in (200, 206, 416):
        response.close()
        raise NotRecorded(f"the API answered HTTP {response.status_code} for the video: try again later")
    headers = {name: response.headers[name] for name in PASSED_HEADERS if name in response.headers}
    size = headers.get("Content-Length", "")
    if range_header and response.status_code == 200 and size.isdigit():
        return _ranged(response, range_header, int(size))  # a host that ignores Range: cut it here
    return ApiVideo(response.status_code, headers, _chunks(response), response)


def _ranged(response: Any, range_header: str, size: int) -> ApiVideo:
    """The range asked for, cut from a whole answer (the contract does not say the video host serves ranges)."""
    try:
        wanted = byte_range(range_header, size)
    except RangeNotSatisfiable:
        response.close()
        return ApiVideo(416, {"Content-Range": f"bytes */{size}"}, _nothing())
    if wanted is None:
        return ApiVideo(200, {"Content-Length": str(size), "Accept-Ranges": "bytes"}, _chunks(response), response)
    start, end = wanted
    headers = {
        "Content-Length": str(end - start + 1),
        "Content-Range": f"bytes {start}-{end}/{size}",
        "Accept-Ranges": "bytes",
    }
    return ApiVideo(206, headers, _window(response, start, end - start + 1), response)


def _nothing() -> Generator[bytes, None, None]:
    yield from ()


def _window(response: Any, skip: int, length: int) -> Generator[bytes, None, None]:
    """``length`` bytes of ``response`` after the first ``skip`` (read and dropped, a chunk at a time)."""
    with response:
        for chunk in response.iter_content(CHUNK):
            if skip >= len(chunk):
                skip -= len(chunk)
                continue
            piece = chunk[skip : skip + length]
            skip, length = 0, length - len(piece)
            yield piece
            if length <= 0:
                return


def _fresh_url(conn_id: str, generation_id: str) -> str:
    """The generation's video URL from the API, reused for :data:`URL_REUSE_SECONDS`."""
    key = (conn_id, generation_id)
    cached = _URLS.get(key)
    if cached is not None and time.monotonic() - cached[0] < URL_REUSE_SECONDS:
        return cached[1]
    from airflow_provider_kling.hooks.kling import KlingHook

    generation = KlingHook(kling_conn_id=conn_id, retry_policy=PAGE_RETRY).get_generation(generation_id)
    if not generation.status.is_terminal:  # a submit-only task's generation, still rendering
        raise NotRecorded(f"generation {generation_id} is still rendering ({generation.status.value}) at the API")
    if generation.status is GenerationStatus.ERROR:
        raise NotRecorded(f"generation {generation_id} failed at the API: {generation.error or 'no reason given'}")
    if not generation.video_url:
        raise Expired(f"the video kept at the API has expired: the API lists no video for {generation_id} any more")
    if len(_URLS) > 1024:
        _URLS.clear()
    _URLS[key] = (time.monotonic(), generation.video_url)
    return generation.video_url


def _get(url: str, range_header: str | None) -> Any:
    headers = {"Range": range_header} if range_header else {}
    return _session().get(url, headers=headers, stream=True, timeout=(10, 60))


_SESSIONS = threading.local()


def _session() -> Any:
    """One kept-alive video session per API server thread (a player's Range requests reuse it)."""
    if not hasattr(_SESSIONS, "session"):
        from airflow_provider_kling.hooks.transport import cdn_session

        _SESSIONS.session = cdn_session()
    return _SESSIONS.session


def _chunks(response: Any) -> Generator[bytes, None, None]:
    with response:
        yield from response.iter_content(CHUNK)
