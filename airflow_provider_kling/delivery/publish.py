"""Publishing a video and the files beside it as one: all of them, or nothing of this attempt.

The sidecar goes first: it records every file about to be written and the product's files it
replaces, so a delivery killed at any step leaves only files provably the product's, which the
next attempt may replace. Then the poster and contact sheet; the video last, so a consumer that
watches for the video finds its companions there. On a failure, what this attempt wrote is
removed and what it replaced is put back (small files, kept in memory; the video is published
last and atomically, so it never needs restoring).

A local folder is locked while a delivery publishes in it, and the destination is judged again
under the lock: of two deliveries to one destination, the second finds the first's video and
keeps it (the same video) or refuses (another one, without ``overwrite``). Object stores have no
locks: two deliveries to one key at the same moment can interleave their files.

Reused by every delivery: a downloaded video, a joined storyboard, a copy published elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_kling.delivery import storage
from airflow_provider_kling.delivery.ownership import Wanted, enforce, inspect
from airflow_provider_kling.models.destinations import DELIVERED_COMPANIONS, SIDECAR
from airflow_provider_kling.models.ownership import Action, decide, ownership_record


@dataclass(frozen=True)
class Publication:
    """What one delivery publishes.

    :param target: the video's path.
    :param video: the verified video, staged locally (beside ``target`` when that is local).
    :param sha256: the staged video's SHA-256.
    :param size: its size in bytes.
    :param sidecar: the sidecar's descriptive fields; the record of the files written and the
        companions' URIs are added to it.
    :param companions: the bytes of each companion to write beside the video, by kind
        (``poster``, ``contact_sheet``).
    """

    target: Any
    video: Path
    sha256: str
    size: int
    sidecar: dict[str, Any]
    companions: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class Published:
    """What is at the destination afterwards.

    :param sidecar: the sidecar there (as written, or the one found with a kept video).
    :param kept: the same video was found there, complete (another attempt delivered it first).
    """

    sidecar: dict[str, Any]
    kept: bool = False

    def uri(self, kind: str) -> str | None:
        """The URI of a companion (``poster``, ``contact_sheet``) the sidecar records, if any."""
        value = self.sidecar.get(kind)
        return value if isinstance(value, str) else None


def publish_delivery(publication: Publication, *, wanted: Wanted, overwrite: bool, logger: Any) -> Published:
    """Publish ``publication`` at its target, all or nothing, never over a file the product did not write.

    :param wanted: tells whether a sidecar found there describes this same video (then it is kept).
    :param overwrite: replace another video the product delivered there.
    :raises KlingStorageSetupError: when a file there is not the product's, or is another video
        and ``overwrite`` is not set.
    """
    target = publication.target
    with storage.destination_lock(target):
        inspection = inspect(target, wanted)
        verdict = enforce(decide(inspection.facts, overwrite=overwrite))
        if verdict.action is Action.KEEP:
            logger.info("%s: kept as it is", verdict.reason)
            assert inspection.sidecar is not None
            return Published(inspection.sidecar, kept=True)
        if verdict.reason:
            logger.info("%s", verdict.reason.capitalize())
        video_there = inspection.owned.get(target.name) == publication.sha256
        # Companions of this very video that are there already and not made again are kept.
        kept = {name: sha for name, sha in inspection.owned.items() if video_there and name != target.name}
        sidecar = _sidecar(publication, inspection.owned, kept)
        replaces_video = None if video_there else target.name in inspection.owned
        written = _publish_all(publication, sidecar, replaces_video, logger)
    if not video_there and not storage.is_local(target):
        _record_storage_checksum(target, written, logger)
    return Published(written)


def _sidecar(publication: Publication, replaced: dict[str, str], kept: dict[str, str]) -> dict[str, Any]:
    """The sidecar to write: the delivery's fields, its companions' URIs, the record of its files."""
    target = publication.target
    files: dict[str, dict[str, Any]] = {target.name: {"sha256": publication.sha256, "size": publication.size}}
    uris = {}
    for kind in DELIVERED_COMPANIONS:
        path = storage.companion(target, kind)
        if kind in publication.companions:
            data = publication.companions[kind]
            files[path.name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        elif path.name in kept:
            files[path.name] = {"sha256": kept[path.name]}
        else:
            continue
        uris[kind] = str(path)
    return {**publication.sidecar, **uris, **ownership_record(target.name, files, replaced)}


def _publish_all(
    publication: Publication, sidecar: dict[str, Any], replaces_video: bool | None, logger: Any
) -> dict[str, Any]:
    """Sidecar, companions, then the video; on any failure undo this attempt's writes.

    :param replaces_video: whether the video replaces one of the product's; ``None``: the same
        video is there already, and stays.
    """
    target = publication.target
    journal: list[tuple[Any, bytes | None]] = []
    try:
        _put(storage.companion(target, SIDECAR), _json(sidecar), journal)
        for kind in DELIVERED_COMPANIONS:
            path = storage.companion(target, kind)
            if kind in publication.companions:
                _put(path, publication.companions[kind], journal)
            elif sidecar.get(kind) is None and path.exists():  # the product's (checked), of the video replaced
                journal.append((path, path.read_bytes()))
                storage.remove(path)
        if replaces_video is not None:
            storage.publish(publication.video, target, new=not replaces_video)
    except BaseException:
        _undo(journal, logger)
        raise
    return sidecar


def _put(path: Any, data: bytes, journal: list[tuple[Any, bytes | None]]) -> None:
    previous = path.read_bytes() if path.exists() else None
    storage.write_small_file(path, data, new=previous is None)
    # Journalled once written: a write that failed left nothing of ours there to undo, and what is
    # there then (another writer's file, or yours that appeared meanwhile) must not be removed.
    journal.append((path, previous))


def _undo(journal: list[tuple[Any, bytes | None]], logger: Any) -> None:
    for path, previous in reversed(journal):
        try:
            if previous is None:
                storage.remove(path)
            else:
                storage.write_small_file(path, previous)
        except Exception as err:  # keep undoing the rest; the original failure is what is raised
            logger.warning("Could not undo the write of %s: %s", path, err)


def _record_storage_checksum(target: Any, sidecar: dict[str, Any], logger: Any) -> None:
    """Add the object store's checksum of the uploaded video to its sidecar (spares hashing it on re-runs)."""
    try:
        sidecar["files"][target.name]["storage_checksum"] = storage.storage_checksum(target)
        storage.write_small_file(storage.companion(target, SIDECAR), _json(sidecar))
    except Exception as err:  # the video and its sidecar are published; re-runs then hash the video instead
        logger.warning("Could not record the stored checksum of %s: %s", target, err)


def _json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True).encode()
