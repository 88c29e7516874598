"""Finding a create in the API's request log (``GET /v2/logs``) by the client request id it carried.

Used when a create's answer was lost (a gateway 5xx, a reset, a timeout after the body was sent) or
a worker died between sending it and recording its id. Rows come from an analytics pipeline, so one
may appear seconds after its request: the log is read again with growing pauses until the row shows
or the wait is over. A row that succeeded names the generation (``inference_id``); one that failed
means nothing was created.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from airflow_provider_kling.exceptions import KlingError, KlingPermanentError

LOGS_PATH = "/v2/logs"
#: Seconds of log read around the send time (clocks differ; the row's time is the API's).
WINDOW_SLACK = 300.0
PAGE_SIZE = 100
MAX_PAGES = 5


class ApiReader(Protocol):
    """What the look-up needs of the hook (typed here so this module does not import it back)."""

    @property
    def log(self) -> Any: ...

    def api_get(self, path: str, params: dict[str, Any], *, what: str) -> Any: ...


@dataclass(frozen=True)
class LoggedCreate:
    """A create as the request log reports it.

    :param succeeded: ``True`` when the request succeeded (a generation was made).
    :param inference_id: the generation id it made (or the failed request's id).
    :param usd: what it cost.
    """

    succeeded: bool
    inference_id: str
    usd: float


def find_create(hook: ApiReader, client_request_id: str, *, sent_at: float, wait: float) -> LoggedCreate | None:
    """The logged outcome of the create sent with ``client_request_id``, ``None`` when no row shows in ``wait`` s.

    A succeeded row wins over a failed one with the same id (a failed row never hides a paid video).
    """
    deadline = time.monotonic() + wait
    pause = 1.0
    while True:
        try:
            rows = [row for row in _rows(hook, sent_at) if row.get("client_request_id") == client_request_id]
        except KlingError as err:
            # The log cannot say (no access to it, an API without it): the caller fails naming the id.
            hook.log.warning("Could not read the API's request log: %s", err)
            if isinstance(err, KlingPermanentError):
                return None
            rows = []
        found = _outcome(rows)
        if found is not None or time.monotonic() + pause > deadline:
            return found
        hook.log.info("No row for %s in the request log yet; reading it again in %.0f s", client_request_id, pause)
        time.sleep(pause)
        pause = min(pause * 2, 15.0)


def _outcome(rows: list[dict[str, Any]]) -> LoggedCreate | None:
    for status in ("succeeded", "failed"):
        for row in rows:
            if row.get("status") == status and row.get("inference_id"):
                cost = row.get("cost")
                usd = cost.get("usd") if isinstance(cost, dict) else None
                return LoggedCreate(status == "succeeded", str(row["inference_id"]), float(usd or 0.0))
    return None


def _rows(hook: ApiReader, sent_at: float) -> list[dict[str, Any]]:
    window = {"start": _iso(sent_at - WINDOW_SLACK), "end": _iso(time.time() + WINDOW_SLACK), "limit": PAGE_SIZE}
    rows: list[dict[str, Any]] = []
    for page in range(MAX_PAGES):
        body = hook.api_get(LOGS_PATH, {**window, "offset": page * PAGE_SIZE}, what="Kling request log")
        data = body.get("data") if isinstance(body, dict) else None
        rows += [row for row in data or [] if isinstance(row, dict)]
        pagination = body.get("pagination") if isinstance(body, dict) else None
        if not (isinstance(pagination, dict) and pagination.get("has_more")):
            break
    return rows


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
