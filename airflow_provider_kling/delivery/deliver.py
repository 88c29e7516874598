"""Deliver a finished generation's video to storage: download, verify, publish, describe.

Shared by :class:`KlingDownloadVideoOperator` and the TaskFlow decorator. :mod:`.destination`
checks the destination first; :mod:`.download` streams and verifies; :mod:`.publish` puts the
video and its companions in place as one; this module puts them in order, keeps a video already
delivered, and refreshes an expired signed URL (fetching the generation once more).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_kling.delivery import storage
from airflow_provider_kling.delivery.destination import check_destination, check_video_target, inspected_destination
from airflow_provider_kling.delivery.download import DownloadResult, VideoDownloader
from airflow_provider_kling.delivery.ownership import Inspection, Wanted, describe, enforce, inspect
from airflow_provider_kling.delivery.publish import Publication, publish_delivery
from airflow_provider_kling.exceptions import (
    KlingPermanentError,
    KlingVideoUrlExpired,
    KlingVideoUrlRejected,
)
from airflow_provider_kling.hooks.storage import storage_errors
from airflow_provider_kling.models import Generation, GenerationStatus, redact_url
from airflow_provider_kling.models.cost import cost_of, json_usage
from airflow_provider_kling.models.destinations import POSTER, SIDECAR, video_file_name
from airflow_provider_kling.models.ownership import DELIVERED_BY, Action, decide
from airflow_provider_kling.models.values import length_seconds

if TYPE_CHECKING:
    from airflow_provider_kling.hooks.kling import KlingHook

__all__ = ["Delivery", "check_destination", "deliver_video", "download_generation", "video_to_keep"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """Where a video went and what it is.

    :param uri: the destination URI of the MP4.
    :param generation_id: the generation it came from (``None`` for a bare URL).
    :param size: bytes written.
    :param sha256: checksum of the bytes written.
    :param skipped: True when an identical video was already at the destination.
    :param poster_uri: the JPEG still, when one was made.
    :param metadata_uri: the JSON sidecar (``<video>.kling.json``).
    :param cost: what the generation cost, ``{"usd", "credits"}``, when the API reported it; ``"unknown"``
        when what it reported is not a finite, non-negative number.
    :param source_url: where it was downloaded from, without the URL's signature.
    :param seconds: its length as probed (``None`` without the ``media`` extra).
    """

    uri: str
    generation_id: str | None
    size: int
    sha256: str
    skipped: bool = False
    poster_uri: str | None = None
    metadata_uri: str | None = None
    cost: dict[str, Any] | str | None = None
    source_url: str | None = None
    seconds: float | None = None

    def to_xcom(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def kept(cls, target: Any, sidecar: dict[str, Any], generation_id: str | None) -> Delivery:
        """A video already at ``target`` (described by its ``sidecar``) that is kept, not fetched again."""
        return cls(
            uri=str(target),
            generation_id=generation_id,
            size=int(sidecar.get("size", 0)),
            sha256=str(sidecar.get("sha256", "")),
            skipped=True,
            poster_uri=sidecar.get("poster"),
            metadata_uri=str(storage.companion(target, SIDECAR)),
            cost=sidecar.get("cost"),
            source_url=sidecar.get("source_url"),
            seconds=probed_seconds(sidecar),
        )


def probed_seconds(sidecar: dict[str, Any]) -> float | None:
    """The length a sidecar's probe recorded, when it is a finite, positive number."""
    probe = sidecar.get("probe")
    seconds = probe.get("duration") if isinstance(probe, dict) else None
    return length_seconds(seconds)


def deliver_video(
    hook: KlingHook,
    *,
    destination: Any,
    generation_id: str | None = None,
    video_url: str | None = None,
    overwrite: bool = False,
    write_metadata: bool = True,
    poster: bool = True,
    metadata: dict[str, Any] | None = None,
    delivered_by: dict[str, Any] | None = None,
    logger: Any = log,
) -> Delivery:
    """Download one generation's video to ``destination`` atomically and verified.

    :param hook: the Kling hook (fetches fresh URLs, streams the video).
    :param destination: a file path/URI ending in ``.mp4``, or a folder (ending with ``/``) to put
        ``<id>.mp4`` in.
    :param generation_id: fetch the video URL from this generation (and refresh it if expired).
    :param video_url: download this URL instead (cannot be refreshed when expired).
    :param overwrite: replace another video this product delivered there (never a file it did not write).
    :param write_metadata: describe the video in its sidecar (usage, source URL, probe, ``metadata``);
        the sidecar itself is always written: it is how a later run knows the files are the product's.
    :param poster: also store a JPEG still (needs the ``media`` extra; skipped without it).
    :param metadata: extra fields for the sidecar (prompt, model, row id...).
    :param delivered_by: the task instance delivering it (``models.ownership.delivered_by``), recorded
        in the sidecar even without ``write_metadata``: its DAG's readers may watch the video in Airflow.
    """
    if not generation_id and not video_url:
        raise KlingPermanentError("Pass generation_id (recommended: expired URLs are refreshed) or video_url")
    uri = str(destination)
    path, seen = inspected_destination(destination)
    with storage_errors(uri, "deliver to", path, missing_is_setup=True):
        # The destination as given: a trailing "/" makes it a folder.
        target = path
        if seen is None:
            target = path / video_file_name(generation_id or Path(redact_url(video_url) or "video").stem)
            seen = check_video_target(target)
        generation = hook.get_generation(generation_id) if generation_id else None
        url = video_url or _finished_url(generation)
        sidecar = _Sidecar(write_metadata, metadata, delivered_by)
        return _deliver(hook, target, seen, generation, generation_id, url, overwrite, poster, sidecar, logger)


def video_to_keep(
    target: Any, wanted: Wanted, overwrite: bool, seen: Inspection | None = None
) -> dict[str, Any] | None:
    """The sidecar of the video at ``target`` when it is the ``wanted`` one, complete and kept.

    ``None`` when the destination is free, or is to be (re)written: a video this product delivered
    and ``overwrite`` allows replacing, its own leftovers, or the wanted video with a companion missing.

    :param seen: what the destination check just found there (spares looking and hashing again).
    :raises KlingStorageSetupError: when a file there is not the product's, or is another video
        and ``overwrite`` is not set.
    """
    inspection = inspect(target, wanted) if seen is None else seen.judged(wanted)
    verdict = enforce(decide(inspection.facts, overwrite=overwrite))
    return inspection.sidecar if verdict.action is Action.KEEP else None


def _deliver(
    hook: KlingHook,
    target: Any,
    seen: Inspection,
    generation: Generation | None,
    generation_id: str | None,
    url: str,
    overwrite: bool,
    poster: bool,
    describing: _Sidecar,
    logger: Any,
) -> Delivery:
    wanted = _same_video(generation_id, url)
    existing = video_to_keep(target, wanted, overwrite, seen)
    if existing is not None:
        logger.info("%s already holds %s: not downloading it again", target, describe(existing))
        return Delivery.kept(target, existing, generation_id)

    with storage.staged_file(target) as staged:
        result, url = _download_refreshing(hook, url, staged, generation_id, logger)
        probe = _probe(staged, poster, logger)
        sidecar = describing.fields(generation, generation_id, url, result, probe)
        publication = Publication(
            target, staged, result.sha256, result.size, sidecar, {POSTER: probe.poster} if probe else {}
        )
        published = publish_delivery(publication, wanted=wanted, overwrite=overwrite, logger=logger)
    if published.kept:
        return Delivery.kept(target, published.sidecar, generation_id)
    logger.info("Saved video to %s (%d bytes, sha256 %s)", target, result.size, result.sha256[:16])
    if published.uri(POSTER) and probe is not None:
        logger.info(
            "Poster frame saved to %s (%sx%s, %.1fs)",
            published.uri(POSTER),
            probe.width,
            probe.height,
            probe.duration or 0,
        )
    return Delivery(
        uri=str(target),
        generation_id=generation_id,
        size=result.size,
        sha256=result.sha256,
        poster_uri=published.uri(POSTER),
        metadata_uri=str(storage.companion(target, SIDECAR)),
        cost=cost_of(generation.usage) if generation else None,
        source_url=redact_url(url),
        seconds=probe.duration if probe is not None else None,
    )


def _same_video(generation_id: str | None, url: str) -> Wanted:
    """Whether a sidecar describes the video being delivered: the same generation (or the same bare URL)."""
    if generation_id is not None:
        return lambda sidecar: sidecar.get("generation_id") == generation_id
    source = redact_url(url)
    return lambda sidecar: sidecar.get("generation_id") is None and sidecar.get("source_url") == source


def download_generation(hook: KlingHook, generation_id: str, out: Path, logger: Any = log) -> DownloadResult:
    """Download a finished generation's video into the local file ``out`` (verified; URL refreshed once)."""
    out.touch()
    result, _ = _download_refreshing(
        hook, _finished_url(hook.get_generation(generation_id)), out, generation_id, logger
    )
    return result


def _finished_url(generation: Generation | None) -> str:
    assert generation is not None
    if generation.status is not GenerationStatus.COMPLETED or not generation.video_url:
        raise KlingPermanentError(
            f"Generation {generation.id} has no video to download (status {generation.raw_status!r}); "
            "wait for it with KlingGenerationSensor first"
        )
    return generation.video_url


def _download_refreshing(
    hook: KlingHook, url: str, staged: Path, generation_id: str | None, logger: Any
) -> tuple[DownloadResult, str]:
    """Download; on a refused (expired) URL fetch the generation once more for a fresh one."""
    downloader = VideoDownloader.for_hook(hook)
    with staged.open("r+b") as out:
        try:
            return downloader.download(url, out), url
        except KlingVideoUrlRejected as err:
            if not generation_id:
                raise KlingVideoUrlExpired(
                    f"{err}. Pass generation_id instead of video_url so a fresh URL can be fetched."
                ) from err
            logger.warning("%s: fetching generation %s again for a fresh URL", err, generation_id)
        fresh = _finished_url(hook.get_generation(generation_id))
        try:
            return downloader.download(fresh, out), fresh
        except KlingVideoUrlRejected as err:
            raise KlingVideoUrlExpired(
                f"The video URL of generation {generation_id} has expired: the CDN refused it (HTTP {err.status_code}) "
                "even after fetching a fresh URL. Kling deletes videos about 30 days after generation."
            ) from err


def _probe(staged: Path, wanted: bool, logger: Any) -> Any:
    if not wanted:
        return None
    from airflow_provider_kling.delivery.media import media_available, probe_and_poster

    if not media_available():
        logger.info("Poster frame skipped: install airflow-provider-kling[media] for posters and probing")
        return None
    try:
        return probe_and_poster(staged)
    except Exception as err:  # a poster is a nicety: never fail a delivered video over it
        logger.warning("Poster frame skipped: %s", err)
        return None


@dataclass(frozen=True)
class _Sidecar:
    """What the sidecar is to say beyond what identifies the video (see :func:`deliver_video`)."""

    describe_video: bool
    metadata: dict[str, Any] | None
    delivered_by: dict[str, Any] | None

    def fields(
        self, generation: Generation | None, generation_id: str | None, url: str, result: DownloadResult, probe: Any
    ) -> dict[str, Any]:
        """The sidecar's fields: what identifies the video, who delivered it, and what describes it."""
        sidecar: dict[str, Any] = {
            "generation_id": generation_id,
            "source_url": redact_url(url),
            "sha256": result.sha256,
            "size": result.size,
            "poster": None,
        }
        if self.delivered_by:
            sidecar[DELIVERED_BY] = self.delivered_by
        if not self.describe_video:
            return sidecar
        sidecar.update(
            content_type=result.content_type,
            downloaded_at=datetime.now(timezone.utc).isoformat(),
            usage=json_usage(generation.usage) if generation else {},
            cost=cost_of(generation.usage) if generation else None,
            api_duration=generation.duration if generation else None,
        )
        if probe is not None:
            sidecar["probe"] = {
                "width": probe.width,
                "height": probe.height,
                "duration": probe.duration,
                "fps": probe.fps,
            }
        if self.metadata:
            sidecar["metadata"] = self.metadata
        return sidecar
