"""The contact sheet and the batch report page: what a person looks at before a video ships."""

from __future__ import annotations

from io import BytesIO

import pytest
from PIL import Image

from airflow_provider_kling.delivery.pages import THUMB_WIDTH, contact_sheet, report_page


def still(colour: tuple[int, int, int], size: tuple[int, int] = (160, 90)) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def test_a_contact_sheet_shows_every_shot_in_order_with_its_label():
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30)]
    data = contact_sheet([(f"Shot {n + 1}", still(c)) for n, c in enumerate(colours)], columns=3)
    sheet = Image.open(BytesIO(data))
    assert sheet.format == "JPEG"
    assert sheet.width > 3 * THUMB_WIDTH
    assert sheet.height > 2 * 180
    # The centre of each thumbnail is its shot's colour, left to right then down.
    centres = [
        (8 + 160 + col * (THUMB_WIDTH + 8), 8 + 90 + row * (180 + 22 + 8))
        for row, col in [(0, 0), (0, 1), (0, 2), (1, 0)]
    ]
    for (x, y), colour in zip(centres, colours, strict=True):
        assert all(abs(a - b) < 20 for a, b in zip(sheet.getpixel((x, y)), colour, strict=True))
    # The label strip under the first thumbnail has dark text pixels in it.
    strip = sheet.crop((8, 8 + 180, 8 + THUMB_WIDTH, 8 + 180 + 22)).convert("L")
    assert min(strip.getdata()) < 100


def test_a_contact_sheet_needs_a_frame():
    with pytest.raises(ValueError, match="at least one frame"):
        contact_sheet([])


REPORT = {
    "rows": [
        {
            "row": 1,
            "output": "mug",
            "status": "delivered",
            "model": "m",
            "duration": 5,
            "usd": 0.49,
            "destination": "s3://bucket/batch/2025-03-01/mug.mp4",
            "error": "",
        },
        {
            "row": 2,
            "output": "<script>",
            "status": "failed",
            "model": "m",
            "duration": None,
            "usd": None,
            "destination": None,
            "error": "ContentPolicyViolation: <b>no</b>",
        },
        {
            "row": 3,
            "output": "lamp",
            "status": "planned",
            "model": "m",
            "duration": 5,
            "usd": None,
            "destination": "/out/lamp.mp4",
            "error": "",
        },
    ],
    "totals": {"delivered": 1, "failed": 1, "planned": 1, "usd": 0.49},
}


def test_the_report_page_links_videos_and_posters_beside_it_and_escapes_everything():
    page = report_page(REPORT, title="Batch <2025-03-01>", has_poster={"mug.mp4.poster.jpg"}.__contains__)
    assert "<title>Batch &lt;2025-03-01&gt;</title>" in page
    assert '<a href="mug.mp4">mug.mp4</a>' in page
    assert '<img src="mug.mp4.poster.jpg"' in page
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "ContentPolicyViolation: &lt;b&gt;no&lt;/b&gt;" in page
    assert 'href="lamp.mp4"' not in page  # planned, not made yet
    assert "1 delivered, 1 failed, 1 planned; spent $0.49" in page
    assert "$0.49" in page


def test_no_poster_no_picture():
    page = report_page(REPORT, title="t", has_poster=lambda name: False)
    assert "<img" not in page


def test_a_cost_the_api_reported_as_a_bad_number_shows_as_unknown():
    row = {**REPORT["rows"][0], "usd": "unknown"}
    page = report_page({"rows": [row], "totals": {"delivered": 1, "usd": "unknown"}}, title="t", has_poster=bool)
    assert "1 delivered; spent unknown" in page
    assert "<td>unknown</td>" in page
