"""What the Video tab says of a task with no video to play: rendering, or failed with the API's message."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_kling.models.task_status import elapsed_text, status_note

NOW = datetime(2026, 12, 7, 12, tzinfo=timezone.utc)
RECORD = {"generation_ids": ["g1"], "model": "m"}


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0 s"), (42.9, "42 s"), (192, "3 min 12 s"), (7500, "2 h 05 min"), (-5, "0 s")]
)
def test_elapsed_time_as_people_read_it(seconds, text):
    assert elapsed_text(seconds) == text


@pytest.mark.parametrize(
    ("state", "started", "record", "progress", "note"),
    [
        (
            "deferred",
            NOW - timedelta(seconds=192),
            RECORD,
            None,
            "Rendering generation g1: the task is deferred for 3 min 12 s. This page shows the video once it is stored.",
        ),
        ("queued", None, None, None, "Rendering: the task is queued. This page shows the video once it is stored."),
        (
            "running",
            NOW,
            {"generation_ids": ["s1", "s2"]},
            {"finished": 1, "total": 3},
            "Rendering generation s2: the task is running for 0 s (1 of 3 shots finished). "
            "This page shows the video once it is stored.",
        ),
        (
            "running",
            NOW,
            "not a record",
            {"finished": 5, "total": 3},
            "Rendering: the task is running for 0 s. This page shows the video once it is stored.",
        ),
        (
            "failed",
            NOW,
            {"error": "generation g1 failed: rejected by the content policy"},
            None,
            "The task failed: generation g1 failed: rejected by the content policy",
        ),
        ("failed", NOW, {"error": "x" * 5000}, None, "The task failed: " + "x" * 1000),
        ("failed", NOW, {"error": ["not text"]}, None, "The task failed; its log says why."),
        ("upstream_failed", None, None, None, "The task did not run: an upstream task failed; its log says why."),
        ("success", NOW, RECORD, None, None),
        (None, None, None, None, None),
    ],
)
def test_what_the_tab_says_of_a_task_without_a_video(state, started, record, progress, note):
    assert status_note(state, started, NOW, record, progress) == note
