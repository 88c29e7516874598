"""Operators: submit a Kling generation (and optionally wait for it); download the finished video.

The download operator lives in :mod:`.download`; it is importable from here as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import XComArg

from airflow_provider_kling.lineage import media_read
from airflow_provider_kling.models import DEFAULT_IMAGE_MODEL, DEFAULT_MODEL
from airflow_provider_kling.models.named_fields import ALIASES, NAMED_FIELDS, by_argument_name, request_params
from airflow_provider_kling.models.values import as_seconds
from airflow_provider_kling.operators.download import KlingDownloadVideoOperator, kling_videos_asset
from airflow_provider_kling.task_outputs import RETURN_GENERATION
from airflow_provider_kling.tasks import delivering
from airflow_provider_kling.tasks.base import KlingVideoLink
from airflow_provider_kling.tasks.parameters import RequestParameters, sealed
from airflow_provider_kling.tasks.private_fields import working_values
from airflow_provider_kling.tasks.wait import KlingWaitingTask
from airflow_provider_kling.waiting import DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT

if TYPE_CHECKING:
    from airflow.sdk import Context


__all__ = [
    "KLING_VIDEOS_ASSET",  # noqa: F822 -- made on first use by the module's __getattr__
    "KlingDownloadVideoOperator",
    "KlingImageToVideoOperator",
    "KlingTextToVideoOperator",
    "KlingVideoLink",
    "KlingVideoOperator",
]


class KlingVideoOperator(KlingWaitingTask):
    """
    Generate a video with any Kling model, wait for it without holding a worker slot, and store it.

    The model's request fields are named arguments (``prompt``, ``duration``, ``image`` ... the
    same on every generating entry point: see the README's reference) or go in ``parameters``
    (any field of the model; see ``airflow_provider_kling.models.catalog.get_model(model).fields()``).
    Media arguments (``image``, ``tail_image``, ``video``, ``audio``, ``image_list`` ...) take an
    ``http(s)://`` URL (sent as is) or a local path, ``file://`` / ``s3://`` / ``gs://`` URI or
    ``ObjectStoragePath`` (read, checked and sent inline). Everything is validated after templating
    and before any request; a bad value fails the task at once, naming the model, the field and
    what is allowed. The generation id is recorded before any waiting, so a retried or killed task
    reattaches instead of paying twice.

    .. seealso::
        The README's "Reference" and "Models" sections.

    :param model: the Kling model id (templated).
    :param prompt: what the video should show (templated).
    :param negative_prompt: what it should not show (templated).
    :param duration: seconds, as the model allows (``5`` or ``10`` on most).
    :param aspect_ratio: ``"16:9"``, ``"9:16"`` or ``"1:1"`` on the models that take one.
    :param cfg_scale: prompt adherence, 0 to 1, on the models that take it.
    :param image: the first frame (templated; the request's ``image_url``, also accepted by that name).
    :param tail_image: the last frame (templated; ``tail_image_url``, or ``last_image_url`` on O1).
    :param generate_audio: have the model make sound, on the models that can.
    :param camera_control: ``{"type": "simple", "config": {"zoom": 5}}`` or a preset such as ``"down_back"``.
    :param effect_scene: the effect of an effects model (``"pet_chef"`` ...).
    :param video: the source video of edit, reference and motion-control models (``video_url``).
    :param audio: the speech of an avatar model (``audio_url``).
    :param advanced_camera_control: a camera move by axis (unified path), on the models that take one.
    :param multi_prompt: several prompts rendered as the shots of one video (Kling v3).
    :param shot_type: how v3 models cut between shots (``"customize"``, ``"intelligent"``).
    :param image_list: the images of multi-image and reference models.
    :param elements: the reference elements of O1 reference and edit models.
    :param keep_audio: keep the source video's sound (edit, reference and motion-control models).
    :param character_orientation: follow the image's or the video's pose (motion control).
    :param static_mask: the area that stays still (motion brush).
    :param dynamic_masks: the areas that move, with their paths (motion brush).
    :param external_task_id: your own id for the generation (legacy path only).
    :param parameters: any other field of the model (templated), kept as a
        :class:`~airflow_provider_kling.tasks.parameters.RequestParameters` mapping, which
        OpenLineage's events and the rendered-fields view cannot spell out. A field set by name
        and in ``parameters`` is refused: set it once.
    :param kling_conn_id: the Kling connection (API key in its password).
    :param wait_for_completion: wait for the video and return the finished generation (default);
        ``False``: return the generation id at once (wait with :class:`KlingGenerationSensor`).
    :param destination: also store the video here (templated; needs ``wait_for_completion``): a
        path or URI ending in ``.mp4``, or a folder ending in ``/``. Checked before anything is
        paid for; delivered as :class:`KlingDownloadVideoOperator` delivers (verified, atomic, a
        sidecar and poster beside it); the result then names it under ``destination``.
    :param overwrite: replace another video this product delivered at ``destination`` (never a
        file it did not write).
    :param metadata: extra fields for the video's sidecar (templated).
    :param deferrable: wait in the triggerer, freeing the worker slot (default).
    :param poll_interval: seconds (or a ``timedelta``) between status polls while waiting.
    :param timeout: seconds (or a ``timedelta``) to wait for the video before failing (a retry
        reattaches).
    :param allow_unknown_model: send a model newer than this provider's catalog, checked only for
        what every Kling model shares.
    :param max_usd: the most this task may spend, in US dollars (templated): the request is priced
        from the API's catalogue before it is sent and refused above the cap, or when no price can
        be known (a ``variable`` price, the catalogue unreachable with no copy). ``None``: no cap
        (the price is still logged before paying).
    """

    template_fields: Sequence[str] = (
        "model",
        *NAMED_FIELDS,
        "parameters",
        "kling_conn_id",
        "max_usd",
        "destination",
        "metadata",
    )
    template_fields_renderers = {
        "parameters": "json",
        "metadata": "json",
        "camera_control": "json",
        "multi_prompt": "json",
    }
    ui_color = "#f0e6ff"

    def __init__(
        self,
        *,
        model: str,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        duration: int | str | None = None,
        aspect_ratio: str | None = None,
        cfg_scale: float | None = None,
        image: Any = None,
        tail_image: Any = None,
        generate_audio: bool | None = None,
        camera_control: dict[str, Any] | str | None = None,
        advanced_camera_control: dict[str, Any] | None = None,
        multi_prompt: list[Any] | None = None,
        shot_type: str | None = None,
        effect_scene: str | None = None,
        image_list: list[Any] | None = None,
        elements: list[Any] | None = None,
        video: Any = None,
        keep_audio: bool | None = None,
        character_orientation: str | None = None,
        audio: Any = None,
        static_mask: Any = None,
        dynamic_masks: list[Any] | None = None,
        external_task_id: str | None = None,
        image_url: Any = None,
        tail_image_url: Any = None,
        last_image_url: Any = None,
        video_url: Any = None,
        audio_url: Any = None,
        parameters: dict[str, Any] | None = None,
        kling_conn_id: str = "kling_default",
        wait_for_completion: bool = True,
        deferrable: bool = True,
        poll_interval: float | timedelta = DEFAULT_POLL_INTERVAL,
        timeout: float | timedelta = DEFAULT_WAIT_TIMEOUT,
        allow_unknown_model: bool = False,
        max_usd: float | str | None = None,
        destination: Any = None,
        overwrite: bool = False,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        given = locals()
        named = by_argument_name({key: given[key] for key in (*NAMED_FIELDS, *ALIASES)})
        delivering.check_can_deliver(destination, wait_for_completion)
        if destination is not None:
            kwargs.setdefault("outlets", [kling_videos_asset()])
        super().__init__(**kwargs)
        for name in NAMED_FIELDS:
            setattr(self, name, named.get(name))
        self.destination, self.overwrite, self.metadata = destination, overwrite, metadata
        self.max_usd = max_usd
        self.model = model
        self.parameters = parameters
        self.kling_conn_id = kling_conn_id
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = as_seconds(poll_interval, "poll_interval")
        self.timeout = as_seconds(timeout, "timeout")
        self.allow_unknown_model = allow_unknown_model

    @property
    def parameters(self) -> RequestParameters | Any:
        """The request fields: a mapping (or ``None``, or an XComArg until it is resolved)."""
        return self._parameters

    @parameters.setter
    def parameters(self, value: Any) -> None:
        self._parameters = sealed(value)

    def _set_xcomargs_dependencies(self) -> None:
        # Airflow looks for XComArgs in dicts, lists and operators only: not inside a RequestParameters.
        super()._set_xcomargs_dependencies()
        if isinstance(self.parameters, RequestParameters):
            XComArg.apply_upstream_relationship(self, self.parameters.fields)

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        # Airflow renders ``parameters`` in place; the operator copied for this run shares the
        # DAG's wrapper until it is given one of its own (around the same dict).
        self.parameters = self.parameters
        super().render_template_fields(context, jinja_env)

    def named_values(self) -> dict[str, Any]:
        """The named arguments as rendered for this run (real values, not as shown)."""
        with working_values(self):  # image and the other media as given, not as shown
            return {name: getattr(self, name) for name in NAMED_FIELDS}

    def generation_params(self) -> dict[str, Any]:
        """The request fields as rendered for this run: ``model``, ``parameters``, named arguments (real values)."""
        return request_params(self.model, self.named_values(), self.parameters or {})

    def run_task(self, context: Context) -> Any:
        """Submit once; return the id, or with ``wait_for_completion`` what :meth:`after_wait` makes of the video."""
        from airflow_provider_kling.tasks.submit import submit_once

        params = self.generation_params()
        room = delivering.check_destination_before_paying(self.destination, self.overwrite, media_read(params))
        submitted = submit_once(
            self,
            context,
            params,
            allow_unknown_model=self.allow_unknown_model,
            max_usd=self.max_usd,
            before_create=room,
        )
        self.note_lineage(model=submitted.model, generation_ids=[submitted.generation_id])
        if not self.wait_for_completion:
            return submitted.generation_id
        return self.after_wait(context, self.wait_for(context, submitted, end_task=self.ends_in_triggerer()))

    def lineage_inputs(self) -> list[Any]:
        return media_read(self.generation_params())

    def lineage_prompt(self) -> Any:
        return self.generation_params().get("prompt")

    def ends_in_triggerer(self) -> str | None:
        """What the trigger returns when it ends this task after a successful wait; ``None``: resume on a worker.

        The trigger can end the task when nothing is left to do on a worker (no video to store).
        """
        return None if self.destination else RETURN_GENERATION

    def after_wait(self, context: Context, result: dict[str, Any]) -> Any:
        """The finished generation; with a ``destination``, its video stored there first (named in it)."""
        if not self.destination:
            return result
        stored = delivering.deliver_result(
            self, context, result, destination=self.destination, overwrite=self.overwrite, metadata=self.metadata
        )
        return {**result, "destination": stored}


class KlingTextToVideoOperator(KlingVideoOperator):
    """
    Generate a video from a prompt: :class:`KlingVideoOperator` with a text-to-video model by default.

    Takes every argument of :class:`KlingVideoOperator`; see ``dags/kling_text_to_video.py``.

    :param model: the Kling model (default ``kling-video/v1.6/pro/text-to-video``).
    :param kwargs: any :class:`KlingVideoOperator` argument (``prompt``, ``duration``, ``destination`` ...).
    """

    def __init__(self, *, model: str = DEFAULT_MODEL, **kwargs: Any) -> None:
        super().__init__(model=model, **kwargs)


class KlingImageToVideoOperator(KlingVideoOperator):
    """
    Turn an image (a product photo, a keyframe) into a video: an image-to-video model by default.

    ``image`` and ``tail_image`` are read through Airflow's object storage when they are not
    ``http(s)://`` URLs, checked against Kling's image rules (JPG/PNG by their bytes, at most 20 MB,
    shorter side at least 300 px, aspect ratio 2:5 to 5:2) and sent inline, before anything is paid
    for. The log names each image (``image_url: s3://bucket/mug.png (412 KB, PNG 1024×1024, sent
    inline)``); its data never reaches a log, XCom or rendered field. See ``dags/kling_image_to_video.py``.

    :param model: an image-to-video model (default ``kling-video/v1.6/pro/image-to-video``).
    :param kwargs: any :class:`KlingVideoOperator` argument (``image``, ``prompt``, ``destination`` ...).
    """

    def __init__(self, *, model: str = DEFAULT_IMAGE_MODEL, **kwargs: Any) -> None:
        super().__init__(model=model, **kwargs)


def __getattr__(name: str) -> Any:
    # ``KLING_VIDEOS_ASSET``: schedule DAGs on it to process new videos. Each event's ``extra``
    # holds ``uri``, ``generation_id``, ``size``, ``sha256``. Made on first use (see kling_videos_asset).
    if name == "KLING_VIDEOS_ASSET":
        return kling_videos_asset()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
