"""Deliver a finished generation's video to storage: download, verify, publish, describe.

Shared by :class:`KlingDownloadVideoOperator` and the TaskFlow decorator. :mod:`.download` streams
and verifies; :mod:`.storage` makes publishing atomic; this module decides the order and what
happens when the signed URL has expired (fetch the generation once more for a fresh URL).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_kling.delivery import storage
from airflow_provider_kling.delivery.download import DownloadResult, VideoDownloader
from airflow_provider_kling.exceptions import (
    KlingPermanentError,
    KlingVideoUrlExpired,
    KlingVideoUrlRejected,
)
from airflow_provider_kling.hooks.storage import check_connection, storage_errors
from airflow_provider_kling.models import Generation, GenerationStatus, redact_url
from airflow_provider_kling.models.cost import cost_of, json_usage

if TYPE_CHECKING:
    from airflow_provider_kling.hooks.kling import KlingHook

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
    :param metadata_uri: the JSON sidecar, when written.
    :param cost: what the generation cost, ``{"usd", "credits"}``, when the API reported it; ``"unknown"``
        when what it reported is not a finite, non-negative number.
    :param source_url: where it was downloaded from, without the URL's signature.
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
            metadata_uri=str(storage.sibling(target, storage.SIDECAR_SUFFIX)),
            cost=sidecar.get("cost"),
            source_url=sidecar.get("source_url"),
        )


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
    logger: Any = log,
) -> Delivery:
    """Download one generation's video to ``destination`` atomically and verified.

    :param hook: the Kling hook (fetches fresh URLs, streams the video).
    :param destination: a file path/URI, or a folder (ending with ``/``) to put ``<id>.mp4`` in.
    :param generation_id: fetch the video URL from this generation (and refresh it if expired).
    :param video_url: download this URL instead (cannot be refreshed when expired).
    :param overwrite: replace an existing different file at the destination.
    :param write_metadata: write a JSON sidecar next to the video.
    :param poster: also store a JPEG still (needs the ``media`` extra; skipped without it).
    :param metadata: extra fields for the sidecar (prompt, model, row id...).
    """
    if not generation_id and not video_url:
        raise KlingPermanentError("Pass generation_id (recommended: expired URLs are refreshed) or video_url")
    uri = str(destination)
    path = check_destination(destination)
    generation = hook.get_generation(generation_id) if generation_id else None
    url = video_url or _finished_url(generation)
    with storage_errors(uri, "deliver to", path, missing_is_setup=True):
        # The destination as given: a trailing "/" makes it a folder.
        target = storage.resolve_destination(destination, generation_id or Path(redact_url(url) or "video").stem)
        return _deliver(
            hook, target, generation, generation_id, url, overwrite, write_metadata, poster, metadata, logger
        )


def check_destination(destination: Any) -> Any:
    """``destination`` as a storage path whose connection exists (checked before anything is fetched).

    Refused credentials show at the first look at the destination, before the download; a missing
    bucket at the upload, after it (s3fs's look-ups report a missing bucket and refused credentials
    alike), still before anything is published. Either fails at once.

    :raises KlingStorageSetupError: no filesystem for its scheme, or no such connection.
    """
    uri = str(destination)
    with storage_errors(uri, "deliver to", missing_is_setup=True):
        path = storage.as_storage_path(destination)
    check_connection(path, uri)
    with storage_errors(uri, "deliver to", path, missing_is_setup=True):
        path.fs  # noqa: B018 -- resolves the scheme's filesystem (no request): a missing one is a setup error
    return path


def video_to_keep(target: Any, wanted: Callable[[dict[str, Any]], bool], overwrite: bool) -> dict[str, Any] | None:
    """The sidecar of the video at ``target`` when it is the ``wanted`` one and is kept (no ``overwrite``).

    ``None`` when ``target`` is free, or is to be replaced (``overwrite``).

    :raises KlingPermanentError: when another video is there and ``overwrite`` is not set.
    """
    if overwrite or not target.exists():
        return None
    existing = storage.read_sidecar(target)
    if existing and wanted(existing):
        return existing
    raise KlingPermanentError(
        f"{target} already exists and holds another video; pass overwrite=True to replace it "
        "or choose another destination"
    )


def _deliver(
    hook: KlingHook,
    target: Any,
    generation: Generation | None,
    generation_id: str | None,
    url: str,
    overwrite: bool,
    write_metadata: bool,
    poster: bool,
    metadata: dict[str, Any] | None,
    logger: Any,
) -> Delivery:
    existing = video_to_keep(
        target, lambda sidecar: generation_id is not None and sidecar.get("generation_id") == generation_id, overwrite
    )
    if existing is not None:
        logger.info("%s already holds generation %s: not downloading it again", target, generation_id)
        return Delivery.kept(target, existing, generation_id)

    with storage.staged_file(target) as staged:
        result, url = _download_refreshing(hook, url, staged, generation_id, logger)
        probe = _probe(staged, poster, logger)
        storage.publish(staged, target)
    logger.info("Saved video to %s (%d bytes, sha256 %s)", target, result.size, result.sha256[:16])

    poster_uri = None
    if probe is not None:
        poster_path = storage.sibling(target, storage.POSTER_SUFFIX)
        storage.write_small_file(poster_path, probe.poster)
        poster_uri = str(poster_path)
        logger.info(
            "Poster frame saved to %s (%sx%s, %.1fs)", poster_uri, probe.width, probe.height, probe.duration or 0
        )
    metadata_uri = None
    if write_metadata:
        sidecar_path = storage.sibling(target, storage.SIDECAR_SUFFIX)
        sidecar = _sidecar(generation, generation_id, url, result, probe, poster_uri, metadata)
        storage.write_small_file(sidecar_path, json.dumps(sidecar, indent=2, sort_keys=True).encode())
        metadata_uri = str(sidecar_path)
    return Delivery(
        uri=str(target),
        generation_id=generation_id,
        size=result.size,
        sha256=result.sha256,
        poster_uri=poster_uri,
        metadata_uri=metadata_uri,
        cost=cost_of(generation.usage) if generation else None,
        source_url=redact_url(url),
    )


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


def _sidecar(
    generation: Generation | None,
    generation_id: str | None,
    url: str,
    result: DownloadResult,
    probe: Any,
    poster_uri: str | None,
    metadata: dict[str, Any] | None,
) -> dict[str, Any]:
    sidecar: dict[str, Any] = {
        "generation_id": generation_id,
        "source_url": redact_url(url),
        "sha256": result.sha256,
        "size": result.size,
        "content_type": result.content_type,
        "downloaded_at": datetime.now(timezone.utc).isoformat(),
        "usage": json_usage(generation.usage) if generation else {},
        "cost": cost_of(generation.usage) if generation else None,
        "api_duration": generation.duration if generation else None,
        "poster": poster_uri,
    }
    if probe is not None:
        sidecar["probe"] = {"width": probe.width, "height": probe.height, "duration": probe.duration, "fps": probe.fps}
    if metadata:
        sidecar["metadata"] = metadata
    return sidecar
