"""Things people look at: a contact sheet of a video's shots, and the batch report as a page.

Both are files beside the videos, readable without a server: the sheet is a JPEG, the page plain
HTML whose images and links are the file names next to it (open it from the folder, or from a
bucket synced locally). Nothing in them comes from the prompt text but what the report holds.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any

from airflow_provider_kling.models.cost import amount_text
from airflow_provider_kling.models.destinations import POSTER, companion_name

THUMB_WIDTH = 320
LABEL_HEIGHT = 22
GAP = 8
#: The largest contact sheet, in pixels a side: far below JPEG's limit (65,500) and, squared
#: (64 Mpx), below Pillow's decompression-bomb limit (89.5 Mpx), so any viewer opens it.
MAX_SIDE = 8000
#: A thumbnail's box is at most this many times as tall as wide (a 1x2000 frame is fitted into it).
TALLEST_BOX = 2.0
#: Thumbnails are not made narrower than this; more frames than then fit are refused.
MIN_THUMB_WIDTH = 32


@dataclass(frozen=True)
class SheetLayout:
    """Where a contact sheet's thumbnails go: a grid of boxes, each with its label underneath."""

    columns: int
    rows: int
    #: The box each thumbnail is fitted into (aspect kept), in pixels.
    box_width: int
    box_height: int

    @property
    def size(self) -> tuple[int, int]:
        """The sheet's width and height in pixels."""
        return (
            self.columns * (self.box_width + GAP) + GAP,
            self.rows * (self.box_height + LABEL_HEIGHT + GAP) + GAP,
        )

    def box(self, n: int) -> tuple[int, int]:
        """The top left corner of frame ``n``'s box (left to right, then down)."""
        row, column = divmod(n, self.columns)
        return GAP + column * (self.box_width + GAP), GAP + row * (self.box_height + LABEL_HEIGHT + GAP)


def sheet_layout(sizes: Sequence[tuple[int, int]], *, columns: int = 3) -> SheetLayout:
    """The grid for frames of ``sizes`` (width, height), within :data:`MAX_SIDE` pixels a side.

    The widest thumbnails that fit (at most :data:`THUMB_WIDTH`), on the fewest columns from
    ``columns`` up: many frames get more columns, then smaller thumbnails.

    :param columns: thumbnails per row while the sheet is not too tall (fewer when fewer frames).
    :raises ValueError: when the frames do not fit even at :data:`MIN_THUMB_WIDTH`.
    """
    if not sizes:
        raise ValueError("a contact sheet needs at least one frame")
    tallest = min(max(height / max(width, 1) for width, height in sizes), TALLEST_BOX)
    widest_row = (MAX_SIDE - GAP) // (MIN_THUMB_WIDTH + GAP)  # the most columns that fit across
    for count in range(max(1, min(columns, len(sizes), widest_row)), len(sizes) + 1):
        width = min(THUMB_WIDTH, (MAX_SIDE - GAP) // count - GAP)
        if width < MIN_THUMB_WIDTH:
            break
        layout = SheetLayout(count, -(-len(sizes) // count), width, max(1, round(width * tallest)))
        if layout.size[1] <= MAX_SIDE:
            return layout
    raise ValueError(f"{len(sizes)} frames do not fit on one contact sheet of at most {MAX_SIDE} px a side")


def contact_sheet(frames: Sequence[tuple[str, bytes]], *, columns: int = 3) -> bytes:
    """One JPEG of ``frames`` (``(label, image bytes)`` per shot, in order), labelled, in a grid.

    The grid (:func:`sheet_layout`) stays within :data:`MAX_SIDE` pixels a side however many shots.

    :param columns: thumbnails per row, unless so many rows would make the sheet too tall.
    """
    from PIL import Image, ImageDraw

    pictures = [Image.open(BytesIO(data)) for _, data in frames]
    layout = sheet_layout([picture.size for picture in pictures], columns=columns)
    sheet = Image.new("RGB", layout.size, "white")
    draw = ImageDraw.Draw(sheet)
    for n, ((label, _), picture) in enumerate(zip(frames, pictures, strict=True)):
        thumb = _thumbnail(picture, layout)
        left, top = layout.box(n)
        sheet.paste(thumb, (left + (layout.box_width - thumb.width) // 2, top))
        draw.text((left + 2, top + layout.box_height + 5), _fitted(draw, label, layout.box_width - 4), fill="black")
    out = BytesIO()
    sheet.save(out, "JPEG", quality=88)
    return out.getvalue()


def _thumbnail(picture: Any, layout: SheetLayout) -> Any:
    """``picture`` scaled to fit the layout's box, its aspect kept (at least a pixel each way)."""
    scale = min(layout.box_width / picture.width, layout.box_height / picture.height)
    size = (max(1, round(picture.width * scale)), max(1, round(picture.height * scale)))
    return picture.convert("RGB").resize(size)


def _fitted(draw: Any, label: str, width: int) -> str:
    """``label`` cut to what fits in ``width`` pixels (at most 48 characters)."""
    text = label[:48]
    while text and draw.textlength(text) > width:
        text = text[:-1]
    return text


def report_page(report: dict[str, Any], *, title: str, has_poster: Callable[[str], bool]) -> str:
    """The batch report (``build_report``'s result) as one HTML page: a row per video.

    :param title: the page's heading (the batch and its date).
    :param has_poster: whether a file of that name sits beside the report (a row's poster).
    """
    totals = report["totals"]
    summary = ", ".join(
        f"{totals[key]} {label}"
        for key, label in (
            ("delivered", "delivered"),
            ("already_done", "already done"),
            ("failed", "failed"),
            ("invalid", "invalid"),
            ("planned", "planned"),
        )
        if totals.get(key)
    )
    rows = "\n".join(_row(line, has_poster) for line in report["rows"])
    return _PAGE.format(
        title=html.escape(title),
        summary=html.escape(summary or "no rows"),
        spent=html.escape(amount_text(totals.get("usd", 0.0))),
        rows=rows,
    )


def _row(line: dict[str, Any], has_poster: Callable[[str], bool]) -> str:
    stored = line.get("status") in ("delivered", "already_done")
    video = _file_name(line.get("destination")) if stored else ""
    poster = companion_name(video, POSTER) if video else ""
    picture = f'<img src="{html.escape(poster)}" alt="">' if poster and has_poster(poster) else ""
    link = f'<a href="{html.escape(video)}">{html.escape(video)}</a>' if video else ""
    cost = "" if line.get("usd") is None else html.escape(amount_text(line["usd"]))
    cells = [
        str(line.get("row", "")),
        picture,
        f'<span class="{html.escape(str(line.get("status")))}">{html.escape(str(line.get("status")))}</span>',
        html.escape(str(line.get("output") or "")),
        html.escape(str(line.get("model") or "")),
        "" if line.get("duration") is None else f"{line['duration']} s",
        cost,
        link,
        html.escape(str(line.get("error") or "")),
    ]
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def _file_name(destination: Any) -> str:
    """The video's file name: the page sits in the same folder, so links are relative."""
    if not destination or destination == "None":
        return ""
    return str(destination).rstrip("/").rsplit("/", 1)[-1]


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 6px 10px; text-align: left; vertical-align: middle; }}
td img {{ max-width: 160px; max-height: 120px; }}
.delivered {{ color: #176f2c; }} .failed, .invalid {{ color: #b00020; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{summary}; spent {spent}</p>
<table>
<tr><th>Row</th><th>Poster</th><th>Status</th><th>Output</th><th>Model</th><th>Length</th><th>Cost</th><th>Video</th><th>Error</th></tr>
{rows}
</table>
</body></html>
"""
