"""A storyboard's finished shots delivered as one video: fetched, joined, verified, published.

Beside the video (``<video>.poster.jpg``, ``<video>.contact-sheet.jpg``, ``<video>.kling.json``):
its poster, a contact sheet (one labelled still per shot) and a sidecar listing each shot's
generation id, length and cost. A destination already holding the same shots (its sidecar says
so) is kept as it is: re-running a finished storyboard fetches nothing.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_kling.delivery import storage
from airflow_provider_kling.delivery.deliver import Delivery, check_destination, download_generation, video_to_keep
from airflow_provider_kling.delivery.destination import inspected_destination
from airflow_provider_kling.delivery.download import DOWNLOAD_CHUNK_BYTES
from airflow_provider_kling.delivery.hashing import file_sha256
from airflow_provider_kling.delivery.media import probe_and_poster, still_at
from airflow_provider_kling.delivery.ownership import product_sidecar
from airflow_provider_kling.delivery.pages import contact_sheet
from airflow_provider_kling.delivery.publish import Publication, publish_delivery
from airflow_provider_kling.delivery.scratch import scratch_folder
from airflow_provider_kling.delivery.stitch import ClipInfo, clip_info, plan_for, stitch, verify_stitched
from airflow_provider_kling.exceptions import KlingStorageSetupError
from airflow_provider_kling.hooks.storage import storage_errors
from airflow_provider_kling.models.cost import UNKNOWN, cost_of, total_of
from airflow_provider_kling.models.destinations import CONTACT_SHEET, DELIVERED_COMPANIONS, POSTER, SIDECAR
from airflow_provider_kling.models.ownership import DELIVERED_BY, OWNERSHIP_FIELDS, recorded_sha256

if TYPE_CHECKING:
    from airflow_provider_kling.hooks.kling import KlingHook


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
    metadata: dict[str, Any] | None = None,
    delivered_by: dict[str, Any] | None = None,
    logger: Any,
) -> Delivery:
    """Join ``shots``' videos, in order, into the MP4 at ``destination`` (a file path or URI).

    :param overwrite: replace another video this product delivered there (never a file it did not write).
    :param metadata: extra fields for the sidecar, under ``metadata`` (as a single video's).
    :param delivered_by: the task instance delivering it, recorded in the sidecar (as a single video's).
    :raises StitchError: when the joined video is not what was joined (length, frame, sound).
    """
    uri, ids = str(destination), [shot.generation_id for shot in shots]
    target, seen = inspected_destination(destination, one_file="a storyboard")

    def wanted(sidecar: dict[str, Any]) -> bool:
        return _shot_ids(sidecar) == ids

    with storage_errors(uri, "deliver to", target, missing_is_setup=True):
        existing = video_to_keep(target, wanted, overwrite, seen)
        if existing is not None:
            logger.info("%s already holds this storyboard's %d shots: kept as it is", target, len(ids))
            return Delivery.kept(target, existing, None)
        with scratch_folder("storyboard-") as folder:
            clips = [folder / f"shot-{n + 1}.mp4" for n in range(len(shots))]
            for shot, clip in zip(shots, clips, strict=True):
                download_generation(hook, shot.generation_id, clip, logger)
            infos = [clip_info(clip) for clip in clips]
            plan = plan_for(infos, crossfade=crossfade)
            stitched = folder / "joined.mp4"
            stitch(clips, stitched, plan, infos)
            joined = verify_stitched(stitched, plan, infos)
            size, sha256 = stitched.stat().st_size, file_sha256(stitched)
            stills = [
                still
                for shot, info, clip in zip(shots, infos, clips, strict=True)
                for still in _stills(shot, info, clip)
            ]
            companions = {POSTER: probe_and_poster(stitched).poster, CONTACT_SHEET: contact_sheet(stills)}
            sidecar = _sidecar(shots, infos, joined, size, sha256, crossfade)
            if metadata:
                sidecar["metadata"] = metadata
            if delivered_by:
                sidecar[DELIVERED_BY] = delivered_by
            with storage.staged_copy(stitched, target) as staged:
                publication = Publication(target, staged, sha256, size, sidecar, companions)
                published = publish_delivery(publication, wanted=wanted, overwrite=overwrite, logger=logger)
        if published.kept:
            return Delivery.kept(target, published.sidecar, None)
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
    return Delivery(
        uri=str(target),
        generation_id=None,
        size=size,
        sha256=sha256,
        poster_uri=published.uri(POSTER),
        metadata_uri=str(storage.companion(target, SIDECAR)),
        cost=sidecar["cost"],
        seconds=joined.seconds,
    )


def publish_copy(
    video: Any, folder: Any, *, overwrite: bool = False, expected_sha256: str | None = None, logger: Any
) -> str:
    """Copy a delivered video and the files beside it (sidecar, poster, contact sheet) into ``folder``.

    Published like every delivery (:mod:`.publish`): all the files or none, the video last, never
    over a file the product did not write; the copy's sidecar names the copies. The video and the
    files beside it must still be the ones its sidecar records. Returns the copy's URI.

    :param overwrite: replace another video this product published there.
    :param expected_sha256: publish only a video with this SHA-256 (the one a person reviewed).
    :raises KlingStorageSetupError: when ``video`` is not a video the product delivered (or it or a
        file beside it was changed since), is not the expected one, or a file in the way is not the product's.
    """
    source = storage.as_storage_path(video)
    target = check_destination(storage.as_storage_path(folder) / source.name, inputs=[source])
    with storage_errors(str(target), "publish to", target, missing_is_setup=True):
        record = product_sidecar(source)
        if record is None:
            raise KlingStorageSetupError(
                f"{source} has no sidecar of airflow-provider-kling: it is not a delivered video"
            )
        companions = _recorded_companions(source, record)
        with storage.staged_file(target) as staged:
            with source.open("rb") as reader, staged.open("wb") as writer:
                shutil.copyfileobj(reader, writer, DOWNLOAD_CHUNK_BYTES)
            sha256 = file_sha256(staged)
            if sha256 != record.get("sha256"):
                raise KlingStorageSetupError(
                    f"{source} is not the video its sidecar records (its sha256 differs): changed since it was delivered"
                )
            if expected_sha256 is not None and sha256 != expected_sha256:
                raise KlingStorageSetupError(
                    f"{source} is not the video that was reviewed: its sha256 is {sha256}, the reviewer was shown "
                    f"{expected_sha256}. It was replaced after the review; nothing was published: review it again"
                )
            publication = Publication(target, staged, sha256, staged.stat().st_size, _descriptive(record), companions)
            publish_delivery(
                publication, wanted=lambda found: found.get("sha256") == sha256, overwrite=overwrite, logger=logger
            )
    logger.info("Published %s to %s", source, target)
    return str(target)


def _recorded_companions(video: Any, record: dict[str, Any]) -> dict[str, bytes]:
    """The bytes of each file the sidecar ``record`` lists beside ``video`` (poster, contact sheet), by kind.

    :raises KlingStorageSetupError: one of them is not the file the sidecar records (changed since).
    """
    companions = {}
    for kind in DELIVERED_COMPANIONS:
        path = storage.companion(video, kind)
        if not record.get(kind) or not path.exists():
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != recorded_sha256(record, path.name):
            raise KlingStorageSetupError(
                f"{path} is not the file its sidecar records (its sha256 differs): changed since it was "
                "delivered; nothing was published"
            )
        companions[kind] = data
    return companions


def _descriptive(sidecar: dict[str, Any]) -> dict[str, Any]:
    """A sidecar's fields that describe its video (not which files were written, nor where)."""
    return {key: value for key, value in sidecar.items() if key not in (*OWNERSHIP_FIELDS, *DELIVERED_COMPANIONS)}


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
        "stitched_at": datetime.now(timezone.utc).isoformat(),
    }


def _shot_ids(sidecar: dict[str, Any]) -> list[Any]:
    """The generation ids of the shots a storyboard's sidecar lists, in order."""
    return [shot.get("generation_id") for shot in sidecar.get("shots") or []]
