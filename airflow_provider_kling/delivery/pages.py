"""Things people look at: a contact sheet of a video's shots, and the batch report as a page.

Both are files beside the videos, readable without a server: the sheet is a JPEG, the page plain
HTML whose images and links are the file names next to it (open it from the folder, or from a
bucket synced locally). Nothing in them comes from the prompt text but what the report holds.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from io import BytesIO
from typing import Any

from airflow_provider_kling.models.cost import amount_text
from airflow_provider_kling.models.destinations import POSTER, companion_name

THUMB_WIDTH = 320
LABEL_HEIGHT = 22
GAP = 8


def contact_sheet(frames: Sequence[tuple[str, bytes]], *, columns: int = 3) -> bytes:
    """One JPEG of ``frames`` (``(label, image bytes)`` per shot, in order), labelled, in a grid.

    :param columns: thumbnails per row (fewer when there are fewer frames).
    """
    from PIL import Image, ImageDraw

    if not frames:
        raise ValueError("a contact sheet needs at least one frame")
    thumbs = [_thumbnail(Image.open(BytesIO(data))) for _, data in frames]
    columns = max(1, min(columns, len(thumbs)))
    rows = -(-len(thumbs) // columns)
    cell_height = max(thumb.height for thumb in thumbs) + LABEL_HEIGHT
    sheet = Image.new("RGB", (columns * (THUMB_WIDTH + GAP) + GAP, rows * (cell_height + GAP) + GAP), "white")
    draw = ImageDraw.Draw(sheet)
    for n, ((label, _), thumb) in enumerate(zip(frames, thumbs, strict=True)):
        left = GAP + (n % columns) * (THUMB_WIDTH + GAP)
        top = GAP + (n // columns) * (cell_height + GAP)
        sheet.paste(thumb, (left, top))
        draw.text((left + 2, top + thumb.height + 5), label[:48], fill="black")
    out = BytesIO()
    sheet.save(out, "JPEG", quality=88)
    return out.getvalue()


def _thumbnail(picture: Any) -> Any:
    picture = picture.convert("RGB")
    height = max(1, round(picture.height * THUMB_WIDTH / picture.width))
    return picture.resize((THUMB_WIDTH, height))


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
