"""What the Video tab says of a Kling task that has no video to play yet, or will have none (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

#: Task instance states in which the video may still come.
UNDER_WAY = ("scheduled", "queued", "running", "deferred", "up_for_retry", "up_for_reschedule", "restarting")
FAILED = ("failed", "upstream_failed")
#: The longest error message the tab shows.
MAX_ERROR = 1000


def elapsed_text(seconds: float) -> str:
    """``42 s``, ``3 min 12 s``, ``2 h 05 min``."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def status_note(state: Any, started: datetime | None, now: datetime, record: Any, progress: Any = None) -> str | None:
    """A line for a task whose video is not there: rendering (state, time), or failed (the API's message).

    :param record: the task's ``kling_video`` record, as stored (it names the generation and any error).
    :param progress: a storyboard's ``{finished, total}`` shots.
    :returns: ``None`` when the task is neither under way nor failed (it then simply stored no video).
    """
    record = record if isinstance(record, dict) else {}
    ids = (
        [i for i in record.get("generation_ids") or [] if isinstance(i, str)]
        if isinstance(record.get("generation_ids"), list)
        else []
    )
    if state in UNDER_WAY:
        since = f" for {elapsed_text((now - started).total_seconds())}" if started is not None else ""
        what = f" generation {ids[-1]}" if ids else ""
        done = _progress(progress)
        return f"Rendering{what}: the task is {state}{since}{done}. This page shows the video once it is stored."
    if state in FAILED:
        error = record.get("error")
        if isinstance(error, str) and error.strip():
            return f"The task failed: {error[:MAX_ERROR]}"
        return (
            f"The task {'failed' if state == 'failed' else 'did not run: an upstream task failed'}; its log says why."
        )
    return None


def _progress(progress: Any) -> str:
    if not isinstance(progress, dict):
        return ""
    finished, total = progress.get("finished"), progress.get("total")
    if type(finished) is int and type(total) is int and 0 <= finished <= total:
        return f" ({finished} of {total} shots finished)"
    return ""
