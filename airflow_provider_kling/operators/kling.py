"""Operators: submit a Kling generation (and optionally wait for it); download the finished video."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset

from airflow_provider_kling.tasks.base import (
    GENERATION_ID_XCOM_KEY,
    VIDEO_URL_XCOM_KEY,
    KlingTask,
    KlingVideoLink,
)
from airflow_provider_kling.waiting import DEFAULT_POLL_INTERVAL

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_kling.tasks.submit import Submitted

DEFAULT_MODEL = "kling-video/v1.6/pro/text-to-video"  # repeated here so DAG parsing skips the models import
DEFAULT_WAIT_TIMEOUT = 3600.0

__all__ = [
    "GENERATION_ID_XCOM_KEY",
    "KLING_VIDEOS_ASSET",
    "VIDEO_URL_XCOM_KEY",
    "KlingDownloadVideoOperator",
    "KlingTextToVideoOperator",
    "KlingVideoLink",
]


class KlingTextToVideoOperator(KlingTask):
    """
    Submit a Kling text-to-video generation; optionally wait for it without holding a worker slot.

    Every parameter is validated (after templating, before any request); a bad value fails the task
    at once with a message naming the field and what is allowed. The generation id is written to the
    task state store (Airflow >= 3.3; a Variable before) before any waiting, so a retried or killed
    task reattaches to the same generation instead of paying for another.

    .. seealso::
        The README's "Operators" section; ``dags/kling_text_to_video.py`` for an example.

    :param prompt: what the video should show (templated; at most 2500 characters).
    :param negative_prompt: what it should not show (templated).
    :param model: the Kling model (default ``kling-video/v1.6/pro/text-to-video``).
    :param aspect_ratio: ``"16:9"``, ``"9:16"`` or ``"1:1"``; the API's default when unset.
    :param duration: ``5`` or ``10`` seconds; the API's default when unset.
    :param cfg_scale: prompt adherence, 0 to 1.
    :param camera_control: ``{"type": "simple", "config": {"zoom": 5}}`` or a preset name such as
        ``"down_back"``.
    :param external_task_id: your own id for the generation (templated).
    :param kling_conn_id: the Kling connection (API key in its password).
    :param wait_for_completion: also wait for the video and return the finished generation
        instead of its id.
    :param deferrable: wait in the triggerer, freeing the worker slot (default).
    :param poll_interval: seconds between status polls while waiting.
    :param timeout: seconds to wait for the video before failing (a retry reattaches).
    :param allow_unknown_model: accept a model this provider version does not list.
    """

    template_fields: Sequence[str] = (
        "prompt",
        "negative_prompt",
        "external_task_id",
        "model",
        "aspect_ratio",
        "duration",
        "cfg_scale",
        "camera_control",
        "kling_conn_id",
    )
    template_fields_renderers = {"camera_control": "json"}
    ui_color = "#f0e6ff"

    def __init__(
        self,
        *,
        prompt: str,
        negative_prompt: str | None = None,
        model: str = DEFAULT_MODEL,
        aspect_ratio: str | None = None,
        duration: int | str | None = None,
        cfg_scale: float | None = None,
        camera_control: dict[str, Any] | str | None = None,
        external_task_id: str | None = None,
        kling_conn_id: str = "kling_default",
        wait_for_completion: bool = False,
        deferrable: bool = True,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float = DEFAULT_WAIT_TIMEOUT,
        allow_unknown_model: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.prompt = prompt
        self.negative_prompt = negative_prompt
        self.model = model
        self.aspect_ratio = aspect_ratio
        self.duration = duration
        self.cfg_scale = cfg_scale
        self.camera_control = camera_control
        self.external_task_id = external_task_id
        self.kling_conn_id = kling_conn_id
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.allow_unknown_model = allow_unknown_model

    def generation_params(self) -> dict[str, Any]:
        """The request parameters as rendered for this run."""
        return {
            "model": self.model,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "aspect_ratio": self.aspect_ratio,
            "duration": self.duration,
            "cfg_scale": self.cfg_scale,
            "camera_control": self.camera_control,
            "external_task_id": self.external_task_id,
        }

    def execute(self, context: Context) -> Any:
        from airflow_provider_kling.tasks.failures import airflow_failure_semantics
        from airflow_provider_kling.tasks.submit import submit_once

        with airflow_failure_semantics(timeout_is_final=False):
            submitted = submit_once(
                self, context, self.generation_params(), allow_unknown_model=self.allow_unknown_model
            )
            if not self.wait_for_completion:
                return submitted.generation_id
            return self.wait_for(context, submitted)

    def wait_for(self, context: Context, submitted: Submitted) -> dict[str, Any]:
        """Wait for a submitted generation with this task's options (defers while it renders)."""
        from airflow_provider_kling.tasks.wait import wait_or_defer

        return wait_or_defer(
            self,
            context,
            submitted,
            deferrable=self.deferrable,
            poll_interval=self.poll_interval,
            timeout=self.timeout,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """Resume after the trigger fired: return the finished generation or fail clearly."""
        from airflow_provider_kling.tasks.failures import airflow_failure_semantics
        from airflow_provider_kling.tasks.wait import finish_from_event

        with airflow_failure_semantics(timeout_is_final=False):
            return finish_from_event(self, context, event)


#: The Asset every download updates unless you pass your own ``outlets``; schedule DAGs on it to
#: process new videos. Each event's ``extra`` holds ``uri``, ``generation_id``, ``size``, ``sha256``.
KLING_VIDEOS_ASSET = Asset(name="kling_videos", uri="kling://videos")


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

    :param destination: where to put the MP4 (templated): a file path/URI, or a folder ending in
        ``/`` to store ``<generation id>.mp4`` in.
    :param generation_id: the generation to download (templated); preferred over ``video_url``
        because an expired URL can then be refreshed.
    :param video_url: a video URL to download instead (templated).
    :param kling_conn_id: the Kling connection.
    :param overwrite: replace an existing different file; an identical one (same generation) is
        always kept and the download skipped.
    :param write_metadata: write a JSON sidecar (generation id, checksum, size, usage, source URL
        without its signature, your ``metadata``) next to the video.
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
        kwargs.setdefault("outlets", [KLING_VIDEOS_ASSET])
        super().__init__(**kwargs)
        self.destination = destination
        self.generation_id = generation_id
        self.video_url = video_url
        self.kling_conn_id = kling_conn_id
        self.overwrite = overwrite
        self.write_metadata = write_metadata
        self.poster = poster
        self.metadata = metadata

    def execute(self, context: Context) -> str:
        from airflow_provider_kling.delivery import deliver_video
        from airflow_provider_kling.tasks.failures import airflow_failure_semantics

        with airflow_failure_semantics(timeout_is_final=False):
            delivery = deliver_video(
                self.hook,
                destination=self.destination,
                generation_id=_rendered_or_none(self.generation_id),
                video_url=_rendered_or_none(self.video_url),
                overwrite=self.overwrite,
                write_metadata=self.write_metadata,
                poster=self.poster,
                metadata=self.metadata,
                logger=self.log,
            )
        self.record_delivery(context, delivery)
        return delivery.uri


def _rendered_or_none(value: Any) -> str | None:
    """A templated id that rendered from a missing XCom reads "None": treat it as unset."""
    return None if value in (None, "", "None") else str(value)
