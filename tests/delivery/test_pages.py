"""The contact sheet and the batch report page: what a person looks at before a video ships."""

from __future__ import annotations

import warnings
from io import BytesIO

import pytest
from PIL import Image

from airflow_provider_kling.delivery.pages import MAX_SIDE, THUMB_WIDTH, contact_sheet, report_page, sheet_layout


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


def colour_of(n: int) -> tuple[int, int, int]:
    """A colour per shot, far enough from its neighbours to tell them apart after JPEG."""
    return (40 + (n * 71) % 180, 40 + (n * 37) % 180, 40 + (n * 113) % 180)


def open_checked(data: bytes) -> Image.Image:
    """The sheet as a viewer opens it: a JPEG within its limits, no decompression-bomb warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        sheet = Image.open(BytesIO(data))
        sheet.load()
    assert sheet.format == "JPEG"
    assert max(sheet.size) <= MAX_SIDE < 65_500
    assert sheet.width * sheet.height <= Image.MAX_IMAGE_PIXELS
    return sheet


@pytest.mark.parametrize("count", [60, 300])
def test_a_contact_sheet_of_many_shots_wraps_into_a_grid_within_image_limits(count):
    frames = [(f"Shot {n + 1}", still(colour_of(n), (640, 360))) for n in range(count)]
    sheet = open_checked(contact_sheet(frames))
    layout = sheet_layout([(640, 360)] * count)
    assert sheet.size == layout.size
    assert layout.columns * layout.rows >= count
    # Every shot is there, in order: the centre of each box is its colour.
    for n in range(count):
        left, top = layout.box(n)
        seen = sheet.getpixel((left + layout.box_width // 2, top + layout.box_height // 2))
        assert all(abs(a - b) < 24 for a, b in zip(seen, colour_of(n), strict=True)), n


@pytest.mark.parametrize("size", [(1, 2000), (2000, 1)])
@pytest.mark.parametrize("count", [1, 60, 300])
def test_a_contact_sheet_of_extreme_frames_stays_within_image_limits(size, count):
    sheet = open_checked(contact_sheet([(f"Shot {n + 1}", still((0, 0, 0), size)) for n in range(count)]))
    layout = sheet_layout([size] * count)
    assert sheet.size == layout.size
    # Each thumbnail is a line of its frame (dark), not lost: near the top middle of every box.
    grey = sheet.convert("L")
    for n in range(count):
        left, top = layout.box(n)
        middle = left + layout.box_width // 2
        assert min(grey.crop((middle - 2, top, middle + 3, top + 3)).getdata()) < 128, n


def test_a_sheet_keeps_its_thumbnails_as_wide_as_it_can():
    few = sheet_layout([(160, 90)] * 4)
    assert (few.columns, few.rows, few.box_width, few.box_height) == (3, 2, THUMB_WIDTH, 180)
    many = sheet_layout([(160, 90)] * 300)
    assert many.box_width == THUMB_WIDTH
    assert many.columns > 3
    tall = sheet_layout([(1, 2000)] * 300)
    assert tall.box_height == 2 * tall.box_width
    assert tall.box_width < THUMB_WIDTH
    # Asked for more columns than fit across, it takes as many as fit.
    assert sheet_layout([(160, 90)] * 300, columns=1000).size[0] <= MAX_SIDE
    with pytest.raises(ValueError, match="do not fit on one contact sheet"):
        sheet_layout([(1, 2000)] * 100_000)


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
