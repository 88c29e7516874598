"""Small helpers for DAG files (the example DAGs use them); cheap to import at DAG-parse time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_kling.exceptions import KlingError, KlingValidationError
from airflow_provider_kling.models.destinations import clip_clashes, clip_for
from airflow_provider_kling.models.media_values import shown_source
from airflow_provider_kling.models.row_places import keep_places
from airflow_provider_kling.version_compat import row_label

__all__ = ["plan_clips", "row_label"]


def plan_clips(
    images: Sequence[str], output: str | None = None, *, planned: Sequence[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Each photo and its clip, sorted into ``todo`` (to animate) and ``delivered`` (its clip is there).

    A clip goes beside its photo (``mug.jpg`` -> ``mug.mp4``), or into ``output`` for a URL photo.
    Each entry: ``image``, ``clip`` and the sidecar's ``metadata`` (``source_image``: a URL without its
    query, a presigned URL's signature). A clip this
    product already delivered there is not made again (one this run delivered before it was
    cleared stays in ``todo``, at its place, and is reattached and kept); to make it again, delete
    the clip (or the folder of clips). Images this product wrote itself (a clip's ``<clip>.poster.jpg``) are not
    photos: they are left out (listed under ``ours``).

    :param images: photo paths or URIs (local, ``s3://`` ...), or ``http(s)`` URLs.
    :param output: the folder for the clips of URL photos.
    :param planned: the clips of ``todo`` as this run planned them before it was cleared (``None``
        for its first plan; see :mod:`airflow_provider_kling.tasks.mapped_order`): each keeps its
        place (map index, where what its photo paid for is recorded), delivered meanwhile or not;
        clips new to the run come after them.
    :raises KlingValidationError: naming every photo that cannot be animated as planned (before
        anything is paid for): two photos that would make one clip (``mug.jpg`` and ``mug.png``,
        or names equal but for case), a clip path or a path beside it holding a file the product
        did not write, a destination that cannot work, a clip this run planned before whose photo
        is gone (the clips after it would move onto other photos' records).
    """
    from airflow_provider_kling.delivery.destination import already_delivered
    from airflow_provider_kling.delivery.ownership import written_beside_a_video
    from airflow_provider_kling.delivery.storage import as_storage_path

    problems: list[str] = []
    pairs: list[tuple[str, str]] = []
    plan: dict[str, list[dict[str, Any]]] = {"todo": [], "delivered": [], "ours": []}
    for image in images:
        if not image.startswith(("http://", "https://")) and written_beside_a_video(as_storage_path(image)):
            plan["ours"].append({"image": image})
            continue
        try:
            pairs.append((image, clip_for(image, output)))
        except KlingValidationError as err:
            problems += err.problems
    problems += clip_clashes(pairs)
    earlier = set(planned or ())
    for image, clip in pairs:
        # The sidecar names the photo; a presigned URL's signature is access, not a name.
        entry = {"image": image, "clip": clip, "metadata": {"source_image": shown_source(image)}}
        try:
            done = already_delivered(clip, inputs=[image]) and clip not in earlier
            plan["delivered" if done else "todo"].append(entry)
        except KlingError as err:
            problems.append(f"{image}: " + "; ".join(getattr(err, "problems", None) or [str(err)]))
    plan["todo"], gone = keep_places(planned, plan["todo"], key=lambda entry: entry["clip"])
    problems += [
        f"{clip} had map index {list(planned or ()).index(clip)} in this run's plan before the run was cleared, "
        "and no photo makes it now: what its photo paid for is recorded under that map index, and planning "
        "without it would move the clips after it onto other photos' records. Put the photo back, or trigger "
        "a new run"
        for clip in gone
    ]
    if problems:
        raise KlingValidationError(problems)
    return plan
