"""Operators: submit a Kling generation (and optionally wait for it); download the finished video.

The download operator lives in :mod:`.download`; it is importable from here as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import XComArg

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.lineage import media_read
from airflow_provider_kling.models import DEFAULT_IMAGE_MODEL, DEFAULT_MODEL
from airflow_provider_kling.models.catalog import get_model, is_catalogued
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
    Submit a generation of any Kling model; optionally wait for it without holding a worker slot.

    ``parameters`` holds the model's request fields (see the README's "Models" table or
    ``airflow_provider_kling.models.catalog.get_model(model).fields()``): effects, avatars,
    reference images, video edits, motion control ... Media fields take an ``http(s)://`` URL (sent
    as is) or a local path, ``file://`` / ``s3://`` / ``gs://`` URI or ``ObjectStoragePath`` (read,
    checked and sent inline). Everything is validated after templating and before any request; a bad
    value fails the task at once, naming the model, the field and what is allowed. The generation
    id is recorded before any waiting, so a retried or killed task reattaches instead of paying twice.

    .. seealso::
        The README's "Models" and "Operators" sections.

    :param model: the Kling model id (templated).
    :param parameters: the model's request fields (templated), e.g.
        ``{"image_url": "s3://bucket/cat.png", "effect_scene": "pet_chef"}``; kept as a
        :class:`~airflow_provider_kling.tasks.parameters.RequestParameters` mapping, which
        OpenLineage's events and the rendered-fields view cannot spell out.
    :param kling_conn_id: the Kling connection (API key in its password).
    :param wait_for_completion: also wait for the video and return the finished generation
        instead of its id.
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

    template_fields: Sequence[str] = ("model", "parameters", "kling_conn_id", "max_usd", "destination", "metadata")
    template_fields_renderers = {"parameters": "json", "metadata": "json"}
    ui_color = "#f0e6ff"

    def __init__(
        self,
        *,
        model: str,
        parameters: dict[str, Any] | None = None,
        kling_conn_id: str = "kling_default",
        wait_for_completion: bool = False,
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
        delivering.check_can_deliver(destination, wait_for_completion)
        if destination is not None:
            kwargs.setdefault("outlets", [kling_videos_asset()])
        super().__init__(**kwargs)
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

    #: Named arguments of a subclass that are request fields (argument name -> field name).
    named_fields: ClassVar[dict[str, str]] = {}

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

    def generation_params(self) -> dict[str, Any]:
        """The request fields as rendered for this run: ``model``, ``parameters``, named arguments (real values)."""
        params: dict[str, Any] = {"model": self.model, **(self.parameters or {})}
        twice = []
        for argument, field in self.request_fields().items():
            with working_values(self):  # image and tail_image as given, not as shown
                value = getattr(self, argument)
            if value is None:
                continue
            if params.get(field) is not None:
                twice.append(f"{field} is set both as {argument}= and in parameters; set it once")
            params[field] = value
        if twice:
            raise KlingValidationError(twice)
        return params

    def request_fields(self) -> dict[str, str]:
        """Named argument -> the request field it fills (none here: all in ``parameters``)."""
        return dict(self.named_fields)

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
    Submit a Kling text-to-video generation; optionally wait for it without holding a worker slot.

    Takes every text-to-video model; the common fields are arguments, any other field of the
    model (``generate_audio``, ``multi_prompt``, ``shot_type`` ...) goes in ``parameters``. Waiting,
    reattaching and deferral work as in :class:`KlingVideoOperator`.

    .. seealso::
        The README's "Operators" section; ``dags/kling_text_to_video.py`` for an example.

    :param prompt: what the video should show (templated; at most 2500 characters on most models).
    :param negative_prompt: what it should not show (templated).
    :param model: the Kling model (default ``kling-video/v1.6/pro/text-to-video``).
    :param aspect_ratio: ``"16:9"``, ``"9:16"`` or ``"1:1"``; the API's default when unset.
    :param duration: seconds (``5`` or ``10``; 3 to 15 on v3 models); the API's default when unset.
    :param cfg_scale: prompt adherence, 0 to 1.
    :param camera_control: ``{"type": "simple", "config": {"zoom": 5}}`` or a preset name such as
        ``"down_back"`` (spelt for each path as it wants).
    :param external_task_id: your own id for the generation (templated; legacy path only).
    :param parameters: any other field of the model (templated).
    :param kwargs: any :class:`KlingVideoOperator` argument (``wait_for_completion``, ``deferrable`` ...).
    """

    named_fields: ClassVar[dict[str, str]] = {
        name: name
        for name in (
            "prompt",
            "negative_prompt",
            "aspect_ratio",
            "duration",
            "cfg_scale",
            "camera_control",
            "external_task_id",
        )
    }
    template_fields: Sequence[str] = (*named_fields, *KlingVideoOperator.template_fields)
    template_fields_renderers = {**KlingVideoOperator.template_fields_renderers, "camera_control": "json"}

    def __init__(
        self,
        *,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        model: str = DEFAULT_MODEL,
        aspect_ratio: str | None = None,
        duration: int | str | None = None,
        cfg_scale: float | None = None,
        camera_control: dict[str, Any] | str | None = None,
        external_task_id: str | None = None,
        parameters: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(model=model, parameters=parameters, **kwargs)
        self.prompt = prompt
        self.negative_prompt = negative_prompt
        self.aspect_ratio = aspect_ratio
        self.duration = duration
        self.cfg_scale = cfg_scale
        self.camera_control = camera_control
        self.external_task_id = external_task_id


class KlingImageToVideoOperator(KlingVideoOperator):
    """
    Turn an image (a product photo, a keyframe) into a Kling video clip.

    ``image`` and ``tail_image`` take an ``http(s)://`` URL (sent as is) or a local path,
    ``file://`` / ``s3://`` / ``gs://`` URI or ``ObjectStoragePath``: files are read through
    Airflow's object storage, checked against Kling's image rules (JPG/PNG by their bytes, at most
    20 MB, shorter side at least 300 px, aspect ratio 2:5 to 5:2) and sent inline, before anything
    is paid for. The log names each image (``image_url: s3://bucket/mug.png (412 KB, PNG 1024×1024,
    sent inline)``); its data never reaches a log, XCom or rendered field. Waiting, reattaching and
    deferral work as in :class:`KlingVideoOperator`.

    :param image: the first frame (templated); ``image_url`` is accepted as its other name.
    :param tail_image: the last frame, on models that take one (``tail_image_url``, or
        ``last_image_url`` on O1) (templated).
    :param prompt: what should happen (templated; required by some models).
    :param negative_prompt: what it should not show (templated).
    :param duration: seconds, as the model allows (``5`` or ``10`` on most); the API's default when unset.
    :param aspect_ratio: on the models that take one (most derive it from the image).
    :param cfg_scale: prompt adherence, 0 to 1, on the models that take it.
    :param model: an image-to-video model (default ``kling-video/v1.6/pro/image-to-video``).
    :param parameters: any other field of the model (``generate_audio``, ``static_mask_url`` ...)
        (templated). A field set by name and in ``parameters`` is refused: set it once.
    :param kwargs: any :class:`KlingVideoOperator` argument (``wait_for_completion``, ``deferrable`` ...).
    """

    #: Named arguments sent as the request field of the same name.
    same_named: ClassVar[tuple[str, ...]] = ("prompt", "negative_prompt", "duration", "aspect_ratio", "cfg_scale")
    template_fields: Sequence[str] = ("image", "tail_image", *same_named, *KlingVideoOperator.template_fields)

    def __init__(
        self,
        *,
        image: Any = None,
        tail_image: Any = None,
        prompt: str | None = None,
        negative_prompt: str | None = None,
        duration: int | str | None = None,
        aspect_ratio: str | None = None,
        cfg_scale: float | None = None,
        model: str = DEFAULT_IMAGE_MODEL,
        parameters: dict[str, Any] | None = None,
        image_url: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(model=model, parameters=parameters, **kwargs)
        self.image = one_image(image, image_url)
        self.tail_image = tail_image
        self.prompt = prompt
        self.negative_prompt = negative_prompt
        self.duration = duration
        self.aspect_ratio = aspect_ratio
        self.cfg_scale = cfg_scale

    def request_fields(self) -> dict[str, str]:

        tail = "tail_image_url"
        if is_catalogued(self.model):
            spec = get_model(self.model)
            if not spec.accepts("tail_image_url") and spec.accepts("last_image_url"):
                tail = "last_image_url"  # O1's name for the last frame
        return {"image": "image_url", "tail_image": tail, **{name: name for name in self.same_named}}


def one_image(image: Any, image_url: Any) -> Any:
    """The first frame, given as ``image`` or by its request field's name ``image_url``: once."""
    if image is not None and image_url is not None:
        raise KlingValidationError(["image and image_url are two names of one field (the first frame): give one"])
    return image if image is not None else image_url


def __getattr__(name: str) -> Any:
    # ``KLING_VIDEOS_ASSET``: schedule DAGs on it to process new videos. Each event's ``extra``
    # holds ``uri``, ``generation_id``, ``size``, ``sha256``. Made on first use (see kling_videos_asset).
    if name == "KLING_VIDEOS_ASSET":
        return kling_videos_asset()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
