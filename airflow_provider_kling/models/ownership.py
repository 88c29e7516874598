"""Whose files are at a video's destination, and what a delivery may do there (pure decisions).

A file is the product's only when that can be proven: its video's sidecar is a JSON object that
carries :data:`MARKER` and records the name and SHA-256 of each file the delivery wrote (and of
the files it replaced, so a delivery killed half-way is still recognised). Anything else at the
video's path or a companion's path is the user's, and is never written over, ``overwrite`` or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

MARKER_KEY = "written_by"
MARKER = "airflow-provider-kling"
RECORD_VERSION = 2
#: The sidecar's fields that record which files were written (the rest describes the video).
OWNERSHIP_FIELDS = (MARKER_KEY, "record_version", "video", "files", "replaced")
_NEVER_REPLACED = (
    "overwrite=True only replaces files airflow-provider-kling wrote: move or rename it, or choose another destination"
)


@dataclass(frozen=True)
class FileFacts:
    """One path the delivery would write, as found.

    :param path: the path or URI (for messages).
    :param exists: something is there.
    :param current: its bytes are those the sidecar records the product wrote (a sidecar: it is the product's).
    :param replaced: its bytes are those the sidecar records the product replaced (a delivery cut short).
    """

    path: str
    exists: bool
    current: bool = False
    replaced: bool = False

    @property
    def owned(self) -> bool:
        return not self.exists or self.current or self.replaced


@dataclass(frozen=True)
class DestinationFacts:
    """A video's destination as found: the video, its sidecar, the other companions.

    :param recorded: the companions' paths the sidecar says were written (a complete delivery has them all).
    :param wanted: whether the sidecar describes what is being delivered now (same generation,
        same shots, same video); ``None`` before that is known (the check before any request).
    :param describes: what the sidecar says the video is, for messages (``generation abc``).
    """

    video: FileFacts
    sidecar: FileFacts
    companions: tuple[FileFacts, ...] = ()
    recorded: tuple[str, ...] = ()
    wanted: bool | None = None
    describes: str = ""


class Action(str, Enum):
    """What a delivery does at a destination."""

    DELIVER = "deliver"  # write the video and its companions (replacing only the product's own files)
    KEEP = "keep"  # the wanted video is there, complete and verified: fetch nothing
    REFUSE = "refuse"


@dataclass(frozen=True)
class Verdict:
    """What a delivery may do at a destination, and why (the refusal's message, or a line for the log)."""

    action: Action
    reason: str = ""


def decide(facts: DestinationFacts, *, overwrite: bool) -> Verdict:
    """What a delivery may do at a destination.

    * any file there that the product cannot prove it wrote: refuse, naming it (``overwrite`` or not);
    * no video: deliver (the product's leftovers of a delivery cut short are replaced);
    * the wanted video, verified: keep it when every companion its sidecar lists is there too,
      else deliver again to complete them;
    * the wanted delivery cut short while replacing an older one: deliver (finish it);
    * another video the product delivered: replace it with ``overwrite``, else refuse.
    """
    foreign = [f for f in (facts.sidecar, facts.video, *facts.companions) if not f.owned]
    if foreign:
        return Verdict(Action.REFUSE, _not_the_products(foreign[0], facts))
    if not facts.video.exists or facts.wanted is None:
        return Verdict(Action.DELIVER)
    if facts.wanted and facts.video.current:
        present = {f.path for f in facts.companions if f.exists and f.current}
        if all(path in present for path in facts.recorded):
            return Verdict(Action.KEEP, f"{facts.video.path} already holds it ({facts.describes})")
        return Verdict(Action.DELIVER, f"{facts.video.path} holds it; completing the files beside it")
    if facts.wanted:
        return Verdict(Action.DELIVER, f"finishing the delivery to {facts.video.path} that was cut short")
    if overwrite:
        return Verdict(Action.DELIVER, f"replacing {facts.video.path} ({facts.describes})")
    return Verdict(
        Action.REFUSE,
        f"{facts.video.path} already exists and holds another video airflow-provider-kling delivered "
        f"({facts.describes}); pass overwrite=True to replace it or choose another destination",
    )


def _not_the_products(found: FileFacts, facts: DestinationFacts) -> str:
    if found is facts.sidecar:
        why = "it is not a sidecar airflow-provider-kling wrote"
    elif found is facts.video and facts.sidecar.exists:
        why = f"its bytes are not those its sidecar {facts.sidecar.path} records (changed or replaced since)"
    else:
        why = f"airflow-provider-kling did not write it (no sidecar {facts.sidecar.path} records it)"
    return f"{found.path} exists and {why}; {_NEVER_REPLACED}"


def is_product_sidecar(data: Any, video_name: str) -> bool:
    """Whether ``data`` (a parsed sidecar) is the product's record of the video named ``video_name``."""
    return (
        isinstance(data, dict)
        and data.get(MARKER_KEY) == MARKER
        and data.get("video") == video_name
        and isinstance(data.get("files"), dict)
    )


def is_product_review(data: Any, video_name: str) -> bool:
    """Whether ``data`` (a parsed ``<video>.review.json``) is the product's record of a review of ``video_name``."""
    return isinstance(data, dict) and data.get(MARKER_KEY) == MARKER and data.get("video") == video_name


def recorded_sha256(sidecar: dict[str, Any], name: str, *, replaced: bool = False) -> str | None:
    """The SHA-256 the sidecar records for the file ``name`` (written, or with ``replaced`` replaced)."""
    entry = (sidecar.get("replaced") if replaced else sidecar.get("files")) or {}
    value = entry.get(name) if isinstance(entry, dict) else None
    if isinstance(value, dict):
        value = value.get("sha256")
    return value if isinstance(value, str) else None


def ownership_record(video_name: str, files: dict[str, dict[str, Any]], replaced: dict[str, str]) -> dict[str, Any]:
    """The fields of a sidecar that prove which files the product wrote.

    :param files: each written file's name -> ``{"sha256", "size"}`` (the video's included).
    :param replaced: each replaced file's name -> its SHA-256.
    """
    return dict(zip(OWNERSHIP_FIELDS, (MARKER, RECORD_VERSION, video_name, files, replaced), strict=True))


#: The sidecar's field naming the task instance that delivered the video (its DAG owns the video).
DELIVERED_BY = "delivered_by"


def delivered_by(dag_id: str, run_id: str, task_id: str, map_index: int) -> dict[str, Any]:
    """The sidecar's record of the task instance that delivered a video."""
    return {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": map_index}


def delivering_dag(sidecar: dict[str, Any]) -> str | None:
    """The DAG whose task delivered the video a sidecar describes; ``None`` when it records none."""
    record = sidecar.get(DELIVERED_BY)
    dag_id = record.get("dag_id") if isinstance(record, dict) else None
    return dag_id if isinstance(dag_id, str) and dag_id else None


#: What a batch's ``report.json`` says it is, beside :data:`MARKER`.
REPORT_KIND = "batch_report"


def report_record(files: dict[str, str], replaced: dict[str, str]) -> dict[str, Any]:
    """The fields of a batch's ``report.json`` that prove which report files the product wrote.

    :param files: each file written with it (the CSV, the HTML page) -> its SHA-256.
    :param replaced: each file of the product's earlier report it replaces -> its SHA-256, so that a
        write cut short between two files leaves each of them provably the product's.
    """
    return {
        MARKER_KEY: MARKER,
        "kind": REPORT_KIND,
        "record_version": RECORD_VERSION,
        "files": {name: {"sha256": sha256} for name, sha256 in files.items()},
        "replaced": dict(replaced),
    }


def is_product_report(data: Any) -> bool:
    """Whether ``data`` (a parsed ``report.json``) is a batch report the product wrote."""
    return (
        isinstance(data, dict)
        and data.get(MARKER_KEY) == MARKER
        and data.get("kind") == REPORT_KIND
        and isinstance(data.get("files"), dict)
    )


def is_recorded(record: dict[str, Any], name: str, sha256: str | None) -> bool:
    """Whether the file ``name`` holding bytes of ``sha256`` is one ``record`` says the product wrote or replaced."""
    return sha256 is not None and sha256 in (
        recorded_sha256(record, name),
        recorded_sha256(record, name, replaced=True),
    )
