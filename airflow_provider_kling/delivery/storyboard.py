"""A storyboard's finished shots delivered as one video: fetched, joined, verified, published.

Beside the video: its poster, a contact sheet (one labelled still per shot) and a sidecar listing
each shot's generation id, length and cost. A destination already holding the same shots (its
sidecar says so) is kept as it is: re-running a finished storyboard fetches nothing.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_kling.delivery import storage
from airflow_provider_kling.delivery.deliver import Delivery, check_destination, download_generation, video_to_keep
from airflow_provider_kling.delivery.download import DOWNLOAD_CHUNK_BYTES
from airflow_provider_kling.delivery.hashing import file_sha256
from airflow_provider_kling.delivery.media import probe_and_poster, still_at
from airflow_provider_kling.delivery.pages import contact_sheet
from airflow_provider_kling.delivery.stitch import ClipInfo, clip_info, plan_for, stitch, verify_stitched
from airflow_provider_kling.hooks.storage import storage_errors
from airflow_provider_kling.models.cost import UNKNOWN, cost_of, total_of

if TYPE_CHECKING:
    from airflow_provider_kling.hooks.kling import KlingHook

CONTACT_SHEET_SUFFIX = ".contact-sheet.jpg"


@dataclass(frozen=True)
class FinishedShot:
    """A shot whose generation finished: its label, generation id, and what the API reported."""

    label: str
    generation_id: str
    usage: dict[str, float]
    #: The lengths of the storyboard's shots inside this one generation (a ``multi_shot`` one), if several.
    parts: tuple[float, ...] = ()


def deliver_storyboard(
    hook: KlingHook,
    shots: Sequence[FinishedShot],
    destination: Any,
    *,
    crossfade: float = 0.0,
    overwrite: bool = False,
    logger: Any,
) -> Delivery:
    """Join ``shots``' videos, in order, into the MP4 at ``destination`` (a file path or URI).

    :raises StitchError: when the joined video is not what was joined (length, frame, sound).
    """
    uri, ids = str(destination), [shot.generation_id for shot in shots]
    target = check_destination(destination)
    with storage_errors(uri, "deliver to", target, missing_is_setup=True):
        existing = video_to_keep(target, lambda sidecar: _shot_ids(sidecar) == ids, overwrite)
        if existing is not None:
            logger.info("%s already holds this storyboard's %d shots: kept as it is", target, len(ids))
            return Delivery.kept(target, existing, None)
        with tempfile.TemporaryDirectory(prefix="kling-storyboard-") as folder:
            clips = [Path(folder) / f"shot-{n + 1}.mp4" for n in range(len(shots))]
            for shot, clip in zip(shots, clips, strict=True):
                download_generation(hook, shot.generation_id, clip, logger)
            infos = [clip_info(clip) for clip in clips]
            plan = plan_for(infos, crossfade=crossfade)
            with storage.staged_file(target) as staged:
                stitch(clips, staged, plan, infos)
                joined = verify_stitched(staged, plan, infos)
                size, sha256 = staged.stat().st_size, file_sha256(staged)
                poster = probe_and_poster(staged).poster
                stills = [
                    still
                    for shot, info, clip in zip(shots, infos, clips, strict=True)
                    for still in _stills(shot, info, clip)
                ]
                storage.publish(staged, target)
        logger.info(
            "Saved the storyboard to %s: %d shots joined, %.2f s, %dx%d at %g fps%s (%d bytes)",
            target,
            len(shots),
            joined.seconds,
            joined.width,
            joined.height,
            joined.fps,
            ", with sound" if joined.audio else "",
            size,
        )
        poster_path = storage.sibling(target, storage.POSTER_SUFFIX)
        storage.write_small_file(poster_path, poster)
        sheet_path = storage.sibling(target, CONTACT_SHEET_SUFFIX)
        storage.write_small_file(sheet_path, contact_sheet(stills))
        sidecar_path = storage.sibling(target, storage.SIDECAR_SUFFIX)
        sidecar = _sidecar(shots, infos, joined, size, sha256, str(poster_path), str(sheet_path), crossfade)
        storage.write_small_file(sidecar_path, json.dumps(sidecar, indent=2, sort_keys=True).encode())
    return Delivery(
        uri=str(target),
        generation_id=None,
        size=size,
        sha256=sha256,
        poster_uri=str(poster_path),
        metadata_uri=str(sidecar_path),
        cost=sidecar["cost"],
    )


def publish_copy(video: Any, folder: Any, *, logger: Any) -> str:
    """Copy a delivered video and the files beside it (sidecar, poster, contact sheet) into ``folder``.

    Each file appears whole or not at all (staged, then moved or uploaded); the video goes last, so
    a consumer watching for it finds its sidecar already there. Returns the copy's URI.
    """
    source, target_folder = storage.as_storage_path(video), storage.as_storage_path(folder)
    target = target_folder / source.name
    for suffix in (storage.SIDECAR_SUFFIX, storage.POSTER_SUFFIX, CONTACT_SHEET_SUFFIX):
        beside = storage.sibling(source, suffix)
        if beside.exists():
            storage.write_small_file(storage.sibling(target, suffix), beside.read_bytes())
    with storage.staged_file(target) as staged:
        with source.open("rb") as reader, staged.open("wb") as writer:
            shutil.copyfileobj(reader, writer, DOWNLOAD_CHUNK_BYTES)
        storage.publish(staged, target)
    logger.info("Published %s to %s", source, target)
    return str(target)


def _stills(shot: FinishedShot, info: ClipInfo, clip: Path) -> list[tuple[str, bytes]]:
    """The contact sheet's labelled stills of one clip: its middle, or the middle of each of its parts."""
    if not shot.parts:
        return [(f"{shot.label} ({info.seconds:.1f} s)", still_at(clip, info.seconds / 2))]
    stills, start = [], 0.0
    for number, seconds in enumerate(shot.parts, start=1):
        stills.append((f"Shot {number} ({seconds:.1f} s)", still_at(clip, start + seconds / 2)))
        start += seconds
    return stills


def total_cost(shots: Sequence[FinishedShot]) -> dict[str, Any] | str | None:
    """The shots' costs added up (``usd``, ``credits``).

    ``None`` when no shot reported one; ``"unknown"`` when one shot's cost is (it reported a figure
    that is not a finite, non-negative number).
    """
    reported = [cost for cost in (cost_of(shot.usage) for shot in shots) if cost is not None]
    known = [cost for cost in reported if isinstance(cost, dict)]
    if not reported:
        return None
    totals = {key: total_of(cost[key] for cost in known) for key in ("usd", "credits")}
    if len(known) < len(reported) or UNKNOWN in totals.values():
        return UNKNOWN
    return {key: round(float(total), 6) for key, total in totals.items()}


def _sidecar(
    shots: Sequence[FinishedShot],
    infos: Sequence[ClipInfo],
    joined: ClipInfo,
    size: int,
    sha256: str,
    poster: str,
    sheet: str,
    crossfade: float,
) -> dict[str, Any]:
    return {
        "shots": [
            {"label": s.label, "generation_id": s.generation_id, "duration": info.seconds, "cost": cost_of(s.usage)}
            for s, info in zip(shots, infos, strict=True)
        ],
        "cost": total_cost(shots),
        "size": size,
        "sha256": sha256,
        "crossfade": crossfade,
        "probe": {
            "width": joined.width,
            "height": joined.height,
            "duration": joined.seconds,
            "fps": joined.fps,
            "audio": joined.audio,
        },
        "poster": poster,
        "contact_sheet": sheet,
        "stitched_at": datetime.now(timezone.utc).isoformat(),
    }


def _shot_ids(sidecar: dict[str, Any]) -> list[Any]:
    """The generation ids of the shots a storyboard's sidecar lists, in order."""
    return [shot.get("generation_id") for shot in sidecar.get("shots") or []]
