"""Whose files are at a video's destination: read and hashed here, judged by :mod:`..models.ownership`.

The product's sidecar (``<video>.kling.json``) records the SHA-256 of the video and of each
companion it wrote; a file there is the product's only when its bytes are the recorded ones. A
stored video is hashed again unless its object store vouches it is unchanged (its checksum, e.g.
S3's ETag, equal to the one recorded right after its upload): re-runs do not read every video back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_kling.delivery import storage
from airflow_provider_kling.exceptions import KlingStorageSetupError
from airflow_provider_kling.models.destinations import COMPANION_SUFFIXES, DELIVERED_COMPANIONS, REVIEW, SIDECAR
from airflow_provider_kling.models.ownership import (
    Action,
    DestinationFacts,
    FileFacts,
    Verdict,
    decide,
    is_product_review,
    is_product_sidecar,
    recorded_sha256,
)

#: Whether a sidecar describes what is being delivered now (same generation, same shots...).
Wanted = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True)
class Inspection:
    """A destination as found.

    :param facts: what :func:`..models.ownership.decide` judges.
    :param sidecar: the product's sidecar there, if there is one.
    :param owned: the name and SHA-256 of each file there that is provably the product's.
    """

    facts: DestinationFacts
    sidecar: dict[str, Any] | None
    owned: dict[str, str]

    def judged(self, wanted: Wanted) -> Inspection:
        """The same findings, told whether their sidecar describes what is delivered (as ``inspect(video, wanted)``)."""
        return replace(self, facts=replace(self.facts, wanted=self.sidecar is not None and wanted(self.sidecar)))


def inspect(video: Any, wanted: Wanted | None = None) -> Inspection:
    """Look at ``video``'s path and its companions' paths: what is there, and is it the product's.

    :param wanted: tells whether the sidecar there describes what is being delivered; without it
        (before any request) only files that are not the product's matter.
    """
    side = storage.companion(video, SIDECAR)
    side_exists = storage.present(side)
    sidecar = product_sidecar(video) if side_exists else None
    owned: dict[str, str] = {}
    video_facts = _facts(video, sidecar, owned, trust_checksum=True)
    companions = tuple(_facts(storage.companion(video, kind), sidecar, owned) for kind in DELIVERED_COMPANIONS)
    companions += (_review_facts(video),)
    recorded = tuple(
        str(path)
        for path in (storage.companion(video, kind) for kind in DELIVERED_COMPANIONS)
        if sidecar is not None and recorded_sha256(sidecar, path.name)
    )
    facts = DestinationFacts(
        video=video_facts,
        sidecar=FileFacts(str(side), side_exists, current=sidecar is not None),
        companions=companions,
        recorded=recorded,
        wanted=None if wanted is None else sidecar is not None and wanted(sidecar),
        describes=describe(sidecar),
    )
    return Inspection(facts, sidecar, owned)


def enforce(verdict: Verdict) -> Verdict:
    """``verdict``, unless it refuses.

    :raises KlingStorageSetupError: with the refusal's reason (a file to move, or ``overwrite``).
    """
    if verdict.action is Action.REFUSE:
        raise KlingStorageSetupError(verdict.reason)
    return verdict


def check_ownership(video: Any) -> Inspection:
    """Refuse when a file at ``video``'s path or a companion's is not the product's (before any request).

    :raises KlingStorageSetupError: naming the file, why it is not the product's and what to do.
    """
    inspection = inspect(video)
    enforce(decide(inspection.facts, overwrite=False))
    return inspection


def written_beside_a_video(path: Any) -> bool:
    """Whether ``path`` is a poster or contact sheet this product wrote beside one of its videos.

    A folder of photos that also holds the clips made from them holds their posters too: those
    are not photos of the user's to animate.
    """
    for kind in DELIVERED_COMPANIONS:
        suffix = COMPANION_SUFFIXES[kind]
        if path.name.endswith(suffix) and len(path.name) > len(suffix):
            sidecar = product_sidecar(path.parent / path.name.removesuffix(suffix))
            recorded = sidecar and (
                recorded_sha256(sidecar, path.name) or recorded_sha256(sidecar, path.name, replaced=True)
            )
            return bool(recorded) and storage.sha256_of(path) == recorded
    return False


#: The largest record (sidecar, report) the product reads: its own are a few kilobytes.
MAX_RECORD_BYTES = 1 << 20


def product_sidecar(video: Any) -> dict[str, Any] | None:
    """The product's sidecar of ``video``; ``None`` when there is none or the file there is not one."""
    return product_record(storage.companion(video, SIDECAR), lambda data: is_product_sidecar(data, video.name))


def product_record(path: Any, is_product: Callable[[Any], bool]) -> dict[str, Any] | None:
    """The JSON record the product wrote at ``path`` (a sidecar, a report); ``None`` for anything else.

    :param is_product: whether the parsed JSON is the product's record of that kind.
    """
    if storage.is_symlink(path) or storage.is_special_file(path):  # the product writes neither: not read
        return None
    try:
        if path.stat().st_size > MAX_RECORD_BYTES:  # not one of the product's records: not read
            return None
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if is_product(data) else None


def is_recorded_file(path: Any, sidecar: dict[str, Any]) -> bool:
    """Whether ``path`` is a regular file (no link) whose bytes are the ones ``sidecar`` records for it.

    An object store's own checksum, recorded at upload, vouches for an object without reading it.
    """
    if storage.is_special_file(path) or not path.is_file():  # checked first: a FIFO would block the hash
        return False
    return _facts(path, sidecar, {}, trust_checksum=True).current


def describe(sidecar: dict[str, Any] | None) -> str:
    """What a sidecar says its video is, for messages: its generation, its shots, else its checksum."""
    if not sidecar:
        return "unknown"
    if sidecar.get("generation_id"):
        return f"generation {sidecar['generation_id']}"
    shots = [str(shot.get("generation_id")) for shot in sidecar.get("shots") or [] if isinstance(shot, dict)]
    if shots:
        return f"the shots {', '.join(shots)}"
    return f"sha256 {str(sidecar.get('sha256'))[:16]}"


def _facts(
    path: Any, sidecar: dict[str, Any] | None, owned: dict[str, str], *, trust_checksum: bool = False
) -> FileFacts:
    if storage.is_symlink(path):  # yours, dangling or not: the product writes none
        return FileFacts(str(path), exists=True)
    if not path.exists():
        return FileFacts(str(path), exists=False)
    current = recorded_sha256(sidecar, path.name) if sidecar else None
    previous = recorded_sha256(sidecar, path.name, replaced=True) if sidecar else None
    if current is None and previous is None:
        return FileFacts(str(path), exists=True)
    assert sidecar is not None
    vouched = current is not None and trust_checksum and _unchanged_object(path, sidecar)
    sha256 = current if current is not None and vouched else storage.sha256_of(path)
    if sha256 in (current, previous):
        owned[path.name] = sha256
    return FileFacts(str(path), exists=True, current=sha256 == current, replaced=sha256 == previous)


def _review_facts(video: Any) -> FileFacts:
    """The path of ``video``'s review record (written by a review, later): free, or a record the product wrote."""
    path = storage.companion(video, REVIEW)
    if not storage.present(path):
        return FileFacts(str(path), exists=storage.is_symlink(path))
    try:
        found = json.loads(path.read_bytes())
    except (OSError, ValueError):
        found = None
    return FileFacts(str(path), exists=True, current=is_product_review(found, video.name))


def _unchanged_object(path: Any, sidecar: dict[str, Any]) -> bool:
    """Whether the object store vouches that ``path`` is the object uploaded when the sidecar was written."""
    entry = (sidecar.get("files") or {}).get(path.name)
    recorded = entry.get("storage_checksum") if isinstance(entry, dict) else None
    return recorded is not None and storage.storage_checksum(path) == recorded
