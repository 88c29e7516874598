"""Finding a create in the API's request log (``GET /v2/logs``) by the client request id it carried.

Used when a create's answer was lost (a gateway 5xx, a reset, a timeout after the body was sent) or
a worker died between sending it and recording its id. The log is asked only for the create's
model (and its other names) in the narrowest window the create can be in (its send time to now,
widened for clock skew, at most 92 days), and read page after page to the end of that window: the
row may sit behind any number of newer requests. Rows come from an analytics pipeline, so one may
appear seconds after its request: the log is read again with growing pauses until it proves what
the create did or the wait is over. What a set of rows proves is decided in
:mod:`airflow_provider_kling.models.request_log`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, Protocol, cast

from airflow_provider_kling.exceptions import KlingError, KlingPermanentError, KlingResponseError
from airflow_provider_kling.models.request_log import (
    LoggedCreate,
    iso,
    model_names,
    next_offset,
    outcome,
    read_page,
    search_window,
    unknown,
)

LOGS_PATH = "/v2/logs"
#: Seconds of log read around the send time (clocks differ; the row's time is the API's).
WINDOW_SLACK = 300.0
PAGE_SIZE = 100
#: Pages read per search at most: a window holding more rows of one model is not read to the end,
#: and the search says so instead of concluding anything.
MAX_PAGES = 200
LONGEST_PAUSE = 15.0


class ApiReader(Protocol):
    """What the look-up needs of the hook (typed here so this module does not import it back)."""

    @property
    def log(self) -> Any: ...

    def api_get(self, path: str, params: dict[str, Any], *, what: str) -> Any: ...


class RequestLogSearch:
    """The hook's look-up of a create in the request log (a mixin of :class:`KlingHook`)."""

    settings: Any

    def find_create(
        self,
        client_request_id: str,
        *,
        model: str,
        sent_at: float | None,
        sends: int | None = None,
        wait: float | None = None,
    ) -> LoggedCreate:
        """What the create sent with ``client_request_id`` to ``model`` did, from the API's request log.

        :param model: the model the create named (its other names in the catalog count too).
        :param sent_at: epoch seconds it was sent, ``None`` when unknown.
        :param sends: how many times it went out (``KlingSubmissionUnknownError.sends``), ``None`` when unknown.
        :param wait: seconds to keep reading; the connection's ``request_log_wait`` by default.
        :returns: see :func:`find_create`.
        """
        return find_create(
            cast(ApiReader, self),
            client_request_id,
            models=model_names(model),
            sent_at=sent_at,
            sends=sends,
            wait=self.settings.request_log_wait if wait is None else wait,
        )


def find_create(
    hook: ApiReader,
    client_request_id: str,
    *,
    models: Sequence[str],
    sent_at: float | None,
    wait: float,
    sends: int | None = None,
) -> LoggedCreate:
    """What the log proves the create sent with ``client_request_id`` to one of ``models`` did.

    :param models: the create's model and its other names (sent as the ``model`` filter).
    :param sent_at: epoch seconds it was sent (``None``: unknown; the widest window is read).
    :param wait: seconds to keep reading while the log proves nothing yet (anything but a finite,
        positive number: read once).
    :param sends: how many times it went out under this id, ``None`` when unknown.
    :returns: an outcome that is never ``None``: unknown, with the reason, when the wait ended
        without proof, when the log cannot be read, or when it holds more than :data:`MAX_PAGES` pages.
    """
    wait = wait if math.isfinite(wait) and wait > 0 else 0.0
    deadline = time.monotonic() + wait
    pause = 1.0
    while True:
        final = time.monotonic() + pause > deadline
        try:
            rows = _rows(hook, models, sent_at)
        except KlingPermanentError as err:
            return unknown(f"the request log could not be read: {err}")
        except KlingError as err:
            if final:
                return unknown(f"the request log could not be read: {err}")
            hook.log.warning("Could not read the API's request log (%s); reading it again in %.0f s", err, pause)
        else:
            found = outcome(rows, client_request_id, models, sends=sends, final=final)
            if found is not None:
                return found
            hook.log.info(
                "The request log does not show what %s did yet; reading it again in %.0f s", client_request_id, pause
            )
        time.sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE)


def _rows(hook: ApiReader, models: Sequence[str], sent_at: float | None) -> list[dict[str, Any]]:
    """Every row of ``models`` in the create's window, all pages."""
    start, end = search_window(sent_at, time.time(), WINDOW_SLACK)
    query: dict[str, Any] = {"start": iso(start), "end": iso(end), "model": list(models), "limit": PAGE_SIZE}
    rows: list[dict[str, Any]] = []
    offset: int | None = 0
    pages = 0
    while offset is not None:
        if pages == MAX_PAGES:
            raise KlingPermanentError(
                f"it holds more than {MAX_PAGES * PAGE_SIZE} rows of {', '.join(models)} between {iso(start)} "
                f"and {iso(end)}; they were not all read"
            )
        body = hook.api_get(LOGS_PATH, {**query, "offset": offset}, what="Kling request log")
        page = read_page(body)
        if page is None:
            raise KlingResponseError(f"the request log answered a body without data and pagination: {str(body)[:200]}")
        rows += page.rows
        pages += 1
        offset = next_offset(page, offset)
    return rows
