"""A person's review of a delivered video: publish exactly the video reviewed, or record why not.

The review DAG (``dags/kling_storyboard_review.py``) asks with the standard provider's
``HITLOperator``, showing the video's SHA-256; what the person chose is carried out here:

* :func:`publish_reviewed` copies the video and the files beside it into the publishing folder,
  all or nothing (:mod:`.publish`), only while the video is still the one reviewed, and never over
  another video or a file the product did not write;
* :func:`record_decision` keeps the decision beside the reviewed video (``<video>.review.json``),
  never over a file of yours.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from airflow_provider_kling.delivery import storage
from airflow_provider_kling.delivery.storyboard import publish_copy
from airflow_provider_kling.exceptions import KlingStorageSetupError
from airflow_provider_kling.hooks.storage import storage_errors
from airflow_provider_kling.models.destinations import REVIEW
from airflow_provider_kling.models.ownership import MARKER, MARKER_KEY, is_product_review


def publish_reviewed(video: Any, folder: Any, *, sha256: str, logger: Any) -> str:
    """Publish ``video`` into ``folder`` if it is still the video the reviewer was shown; its copy's URI.

    A copy already published there is kept (a retry of a publish that completed); any other
    video there is refused, never replaced.

    :param video: the reviewed video's path or URI.
    :param folder: the publishing folder.
    :param sha256: the SHA-256 of the video the reviewer was shown (its delivery's).
    :raises KlingStorageSetupError: the video changed since it was reviewed, is not the product's,
        or a file in the way in ``folder`` is not this video.
    """
    return publish_copy(video, folder, expected_sha256=sha256, logger=logger)


def record_decision(video: Any, decision: dict[str, Any], *, sha256: str, logger: Any) -> str:
    """Keep ``decision`` (what was chosen, by whom, why) beside the reviewed ``video``; the record's URI.

    The record names the video and the SHA-256 the reviewer was shown. It replaces only an earlier
    record of this product for the same video.

    :raises KlingStorageSetupError: a file that is not such a record is where it goes.
    """
    source = storage.as_storage_path(video)
    target = storage.companion(source, REVIEW)
    record = {
        MARKER_KEY: MARKER,
        "video": source.name,
        "sha256": sha256,
        "decided_at": datetime.now(timezone.utc).isoformat(),
        **decision,
    }
    with storage_errors(str(target), "record the review at", target, missing_is_setup=True):
        existing = _existing_record(target, source.name)
        data = json.dumps(record, indent=2, sort_keys=True).encode()
        storage.write_small_file(target, data, new=existing is None)
    logger.info("Review of %s recorded in %s: %s", source.name, target, decision.get("decision"))
    return str(target)


def _existing_record(target: Any, video_name: str) -> dict[str, Any] | None:
    """The product's earlier review record at ``target``; ``None`` when nothing is there.

    :raises KlingStorageSetupError: something else is there.
    """
    if not target.exists():
        return None
    try:
        found = json.loads(target.read_bytes())
    except ValueError:
        found = None
    if is_product_review(found, video_name):
        return found
    raise KlingStorageSetupError(
        f"{target} exists and was not written by airflow-provider-kling: the review is not recorded over "
        "it; move or rename it"
    )
