"""The Videos page's HTML: the filters, the spend charts (inline SVG, no script) and the list.

Everything shown comes from task records a user may edit (an XCom): every text is escaped, every
link is built from quoted path segments.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from airflow_provider_kling.models.cost import amount_text
from airflow_provider_kling.models.video_records import Spend, TaskVideo
from airflow_provider_kling.plugins.links import segments
from airflow_provider_kling.plugins.listing import Filters

PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d")
STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1rem;color:#222}video{width:min(100%,960px);max-height:60vh;"
    "background:#000}th{text-align:left;padding-right:1rem}td{padding:2px 1rem 2px 0;vertical-align:middle}"
    ".note{color:#555}.error{color:#b00020}form{margin:0 0 1rem}form label{margin-right:1rem}"
    ".charts{display:flex;flex-wrap:wrap;gap:2rem}.poster{width:96px;height:54px;object-fit:cover;background:#eee}"
    "figure{margin:0;max-width:min(100%,640px)}figcaption{font-weight:600;margin-bottom:.3rem}"
    ".legend{display:flex;flex-wrap:wrap;gap:.2rem 1rem}.legend span{white-space:nowrap}"
)


def page(body: str, title: str = "Kling video") -> str:
    """A whole page around ``body`` (shown inside Airflow's UI, in a frame)."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>{body}</body></html>"
    )


def videos_page(
    videos: Sequence[TaskVideo],
    by_dag: Spend,
    by_model: Spend,
    filters: Filters,
    choices: dict[str, Sequence[str]],
    links: tuple[str, str],
) -> str:
    """The Videos page.

    :param videos: what the list shows (at most ``filters.limit``); the charts cover all of them.
    :param choices: the DAGs and models to filter by.
    :param links: the URL prefix of Airflow's UI and of the plugin's app.
    """
    shown = videos[: filters.limit]
    more = len(videos) - len(shown)
    body = (
        "<h2>Kling videos</h2>"
        + _filters_form(filters, choices)
        + f"<p>{len(videos)} video(s) from {filters.since} to {filters.until}; spent {amount_text(by_dag.total())}"
        + (f", {by_dag.unpriced} with no cost recorded" if by_dag.unpriced else "")
        + ".</p>"
        + "<div class='charts'>"
        + spend_chart(by_dag, "Spend per day by DAG")
        + spend_chart(by_model, "Spend per day by model")
        + "</div>"
        + _video_table(shown, *links)
        + (f"<p class='note'>{more} older video(s) not listed: narrow the days, or raise limit.</p>" if more else "")
    )
    return page(body, "Kling videos")


def error_page(message: str) -> str:
    return page(f"<h2>Kling videos</h2><p class='error'>{html.escape(message)}</p>", "Kling videos")


def _filters_form(filters: Filters, choices: dict[str, Sequence[str]]) -> str:
    def select(name: str, label: str, current: str | None) -> str:
        options = "".join(
            f"<option value='{html.escape(value)}'{' selected' if value == current else ''}>{html.escape(value)}</option>"
            for value in choices.get(name, ())
        )
        return f"<label>{label} <select name='{name}'><option value=''>all</option>{options}</select></label>"

    return (
        "<form method='get'>"
        + select("dag_id", "DAG", filters.dag_id)
        + select("model", "Model", filters.model)
        + f"<label>From <input type='date' name='since' value='{filters.since}'></label>"
        + f"<label>To <input type='date' name='until' value='{filters.until}'></label>"
        + f"<input type='hidden' name='limit' value='{filters.limit}'><button type='submit'>Show</button></form>"
    )


def spend_chart(spend: Spend, title: str) -> str:
    """USD per day as stacked bars, one colour per series, with each series' total in the legend."""
    width, height, top = 480, 180, 10
    if not spend.days:
        return f"<figure><figcaption>{html.escape(title)}</figcaption><p class='note'>nothing spent</p></figure>"
    peak = max(spend.day_total(day) for day in spend.days) or 1.0
    slot = min(48.0, (width - 40) / len(spend.days))  # a few days: bars of a readable width, not one slab
    bars = []
    for index, day in enumerate(spend.days):
        base = float(height - 20)
        for series_index, (name, days) in enumerate(spend.usd.items()):
            usd = days.get(day, 0.0)
            if usd <= 0:
                continue
            tall = (height - 20 - top) * usd / peak
            base -= tall
            bars.append(
                f"<rect x='{40 + index * slot + 1:.1f}' y='{base:.1f}' width='{max(slot - 2, 1):.1f}' "
                f"height='{tall:.1f}' fill='{PALETTE[series_index % len(PALETTE)]}'>"
                f"<title>{html.escape(f'{day} · {name} · {amount_text(usd)}')}</title></rect>"
            )
    axis = (
        f"<text x='0' y='{top + 8}' font-size='10'>{html.escape(amount_text(peak))}</text>"
        f"<text x='40' y='{height - 4}' font-size='10'>{spend.days[0]}</text>"
        + (
            f"<text x='{40 + len(spend.days) * slot:.0f}' y='{height - 4}' font-size='10' text-anchor='end'>"
            f"{spend.days[-1]}</text>"
            if len(spend.days) > 1
            else ""  # one day: one label, not two drawn over each other
        )
        + f"<line x1='40' y1='{height - 20}' x2='{width}' y2='{height - 20}' stroke='#999'/>"
    )
    legend = "".join(
        f"<span><b style='color:{PALETTE[i % len(PALETTE)]}'>■</b> {html.escape(name)}: "
        f"{html.escape(amount_text(spend.total(name)))}</span>"
        for i, name in enumerate(spend.usd)
    )
    return (
        f"<figure><figcaption>{html.escape(title)}</figcaption>"
        f"<svg role='img' aria-label='{html.escape(title)}' width='{width}' height='{height}'>{axis}{''.join(bars)}</svg>"
        f"<div class='legend'>{legend} <span>Total: {html.escape(amount_text(spend.total()))}</span></div></figure>"
    )


def _video_table(videos: Sequence[TaskVideo], ui_base: str, app_base: str) -> str:
    if not videos:
        return "<p class='note'>No video recorded in these days by a DAG you may read.</p>"
    head = "<tr><th></th><th>Recorded</th><th>DAG</th><th>Task</th><th>Model</th><th>Length</th><th>Cost</th></tr>"
    return f"<table>{head}{''.join(_video_row(video, ui_base, app_base) for video in videos)}</table>"


def _video_row(video: TaskVideo, ui_base: str, app_base: str) -> str:
    instance = segments(video.dag_id, video.run_id, video.task_id, video.map_index)
    poster = (
        f"<img class='poster' loading='lazy' alt='' src='{app_base}/task-instance/{instance}/still/poster'>"
        if video.delivered and video.poster
        else ""
    )
    task_page = f"{ui_base}/dags/{segments(video.dag_id)}/runs/{segments(video.run_id)}/tasks/{segments(video.task_id)}"
    if video.map_index >= 0:
        task_page += f"/mapped/{video.map_index}"
    target = task_page + ("/plugin/kling_video" if video.delivered else "")
    task = html.escape(video.task_id + (f"[{video.map_index}]" if video.map_index >= 0 else ""))
    cells = (
        poster,
        html.escape(video.at.strftime("%Y-%m-%d %H:%M")),
        html.escape(video.dag_id),
        f"<a target='_top' href='{html.escape(target)}'>{task}</a>"
        + (
            "" if video.delivered else f" <span class='note'>({'failed' if video.failed else 'kept at the API'})</span>"
        ),
        html.escape(video.model or "not recorded"),
        f"{video.seconds:g} s" if video.seconds else "",
        html.escape(amount_text(video.usd)) if video.usd is not None else "not reported",
    )
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"
