"""KlingDownloadVideoOperator: a finished generation's MP4 into any storage, and the Asset it updates."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset

from airflow_provider_kling.tasks.base import KlingTask

if TYPE_CHECKING:
    from airflow.sdk import Context


@cache
def kling_videos_asset() -> Asset:
    """The Asset every download updates unless you pass your own ``outlets`` (``KLING_VIDEOS_ASSET``).

    Made on first use, not at import: an Asset with a URI makes Airflow load every installed
    provider's URI handlers (with the Amazon provider, boto3: ~130 ms), which a DAG that only
    imports these operators should not pay while it is parsed.
    """
    return Asset(name="kling_videos", uri="kling://videos")


class KlingDownloadVideoOperator(KlingTask):
    """
    Stream a finished generation's MP4 into any storage, atomically and verified; return its URI.

    Works with every destination Airflow's object storage supports (a local path, ``file://``,
    ``s3://``, ``gs://`` ...). The destination never holds a partial file: the video is staged,
    checked (``Content-Length`` and the MP4 ``ftyp`` signature) and only then moved or uploaded.
    An expired signed URL is refreshed once by fetching the generation again. Each download
    updates an Airflow Asset (``KLING_VIDEOS_ASSET`` by default) with the destination in its extra.

    .. seealso::
        The README's "Delivering videos" section.

    :param destination: where to put the MP4 (templated): a file path/URI ending in ``.mp4``, or a
        folder ending in ``/`` to store ``<generation id>.mp4`` in. Beside it go ``<video>.kling.json``
        (the sidecar) and ``<video>.poster.jpg``.
    :param generation_id: the generation to download (templated); preferred over ``video_url``
        because an expired URL can then be refreshed.
    :param video_url: a video URL to download instead (templated).
    :param kling_conn_id: the Kling connection.
    :param overwrite: replace another video this product delivered at the destination. Never a file
        it did not write: a file of yours at the video's path or a companion's (or a video changed
        since it was delivered) is refused before anything is downloaded, whatever this says. The
        same video (same generation) is always kept and the download skipped.
    :param write_metadata: describe the video in its sidecar (usage, source URL without its
        signature, probe, your ``metadata``). The sidecar itself is always written (generation id,
        checksums of the files written): it is how a later run knows they are the product's.
    :param poster: also store a JPEG still (with the ``media`` extra; skipped without it).
    :param metadata: extra fields for the sidecar (templated), e.g. ``{"prompt": "{{ params.prompt }}"}``.
    """

    template_fields: Sequence[str] = ("generation_id", "video_url", "destination", "kling_conn_id", "metadata")
    ui_color = "#e6fff0"

    def __init__(
        self,
        *,
        destination: Any,
        generation_id: str | None = None,
        video_url: str | None = None,
        kling_conn_id: str = "kling_default",
        overwrite: bool = False,
        write_metadata: bool = True,
        poster: bool = True,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("outlets", [kling_videos_asset()])
        super().__init__(**kwargs)
        self.destination = destination
        self.generation_id = generation_id
        self.video_url = video_url
        self.kling_conn_id = kling_conn_id
        self.overwrite = overwrite
        self.write_metadata = write_metadata
        self.poster = poster
        self.metadata = metadata

    def run_task(self, context: Context) -> str:
        from airflow_provider_kling.delivery import deliver_video

        delivery = deliver_video(
            self.hook,
            destination=self.destination,
            generation_id=_rendered_or_none(self.generation_id),
            video_url=_rendered_or_none(self.video_url),
            overwrite=self.overwrite,
            write_metadata=self.write_metadata,
            poster=self.poster,
            metadata=self.metadata,
            delivered_by=self.delivered_by(context),
            logger=self.log,
        )
        self.record_delivery(context, delivery)
        return delivery.uri


def _rendered_or_none(value: Any) -> str | None:
    """A templated id that rendered from a missing XCom reads "None": treat it as unset."""
    return None if value in (None, "", "None") else str(value)
