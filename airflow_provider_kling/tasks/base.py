"""KlingTask: what every Kling operator, the sensor and the TaskFlow task have in common."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import Asset, BaseOperator, BaseOperatorLink

from airflow_provider_kling.events import result_from_event
from airflow_provider_kling.exceptions import KlingError
from airflow_provider_kling.lineage import operator_lineage, prompt_fingerprint
from airflow_provider_kling.models.cost import known_usd
from airflow_provider_kling.models.media_values import shown_source
from airflow_provider_kling.models.ownership import delivered_by as task_instance_record
from airflow_provider_kling.models.video_records import VIDEO_RECORD_XCOM_KEY, video_record
from airflow_provider_kling.task_outputs import VIDEO_LINK_XCOM_KEY, VIDEO_URL_XCOM_KEY, ready_line
from airflow_provider_kling.tasks.failures import airflow_failure_semantics
from airflow_provider_kling.tasks.private_fields import install_private_fields, working_values

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.sdk.types import TaskInstanceKey

    from airflow_provider_kling.delivery import Delivery
    from airflow_provider_kling.hooks.kling import KlingHook

__all__ = ["KlingTask", "KlingVideoLink"]


class KlingVideoLink(BaseOperatorLink):
    """Extra link "Kling video": the generated video (or where it was downloaded to)."""

    name = "Kling video"

    @property
    def xcom_key(self) -> str:
        # Airflow's default spelled out, so the trigger (which cannot import this class) writes the same key.
        return VIDEO_LINK_XCOM_KEY

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        try:
            from airflow.sdk.execution_time.xcom import XCom
        except ImportError:  # pragma: no cover - layout of older SDKs
            from airflow.sdk import XCom  # type: ignore[attr-defined,no-redef]

        value = XCom.get_value(ti_key=ti_key, key=VIDEO_URL_XCOM_KEY)
        return str(value) if value else ""


class KlingTask(BaseOperator):
    """
    Base of every Kling task: connection, hook, "Kling video" link, and Airflow's failure semantics.

    It is the one place where Kling errors become Airflow's fail-or-retry semantics.

    Not a task of its own: subclasses set ``kling_conn_id`` in their ``__init__`` and implement
    :meth:`run_task` (what ``execute`` does) and, when they wait, :meth:`after_wait`.

    A template field named ``image``, ``tail_image``, ``shots`` or ``video_url`` is private
    (:mod:`~airflow_provider_kling.tasks.private_fields`): outside the task's own work (rendering,
    running, resuming, lineage) it reads as it may be shown, so the rendered fields, the serialized DAG
    and templates such as ``map_index_template`` never see a URL's query or inline data.
    """

    kling_conn_id: str
    operator_extra_links = (KlingVideoLink(),)
    #: A missed deadline fails the task for good (a sensor's timeout), or lets Airflow retry it
    #: (an operator's: the retry reattaches to the same generation).
    timeout_is_final: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        install_private_fields(cls)

    def execute(self, context: Context) -> Any:
        """:meth:`run_task`, with Kling errors turned into the Airflow exception that does the right thing."""
        with self.failure_semantics(), self.failure_recorded(context), working_values(self):
            return self.run_task(context)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger fired: :meth:`after_wait` with the finished generation, or fail clearly."""
        with self.failure_semantics(), self.failure_recorded(context), working_values(self):
            return self.after_wait(context, self.finish(context, result_from_event(event)))

    @contextmanager
    def failure_recorded(self, context: Context) -> Iterator[None]:
        """A Kling error said in this task's ``kling_video`` record (the Video tab shows it), then raised."""
        try:
            yield
        except KlingError as err:
            failed = getattr(err, "generation_id", None)
            with suppress(Exception):  # the failure itself is what the task reports
                self.record_video(context, generation_ids=[failed] if failed else None, error=str(err))
            raise

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        # Any resume method (a storyboard's next shot too) works on the real values.
        with working_values(self):
            return super().resume_execution(next_method, next_kwargs, context)

    def _do_render_template_fields(
        self, parent: Any, template_fields: Iterable[str], context: Context, jinja_env: Any, seen_oids: set[int]
    ) -> None:
        # Airflow renders each field in place (a mapped task's unmapped copy too): the real values, not the shown.
        with working_values(self):
            super()._do_render_template_fields(parent, template_fields, context, jinja_env, seen_oids)

    # -- OpenLineage (called by its listener when apache-airflow-providers-openlineage is installed) --

    def lineage_inputs(self) -> list[Any]:
        """The media this task reads (paths, URIs, URLs); none by default."""
        return []

    def lineage_prompt(self) -> Any:
        """The prompt this task sends (only its length and hash are reported)."""
        return None

    def get_openlineage_facets_on_start(self) -> Any:
        return self._lineage()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        return self._lineage()

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        return self._lineage()

    def _lineage(self) -> Any:
        facts = getattr(self, "_lineage_facts", {})
        try:
            with working_values(self):
                inputs, prompt = self.lineage_inputs(), self.lineage_prompt()
        except Exception:  # a task that failed on its own input still reports what it produced
            inputs, prompt = [], None
        # The model as configured (a resumed task reports it too: a deferral starts a new object).
        model = getattr(self, "model", None)
        facet = {
            "model": model if isinstance(model, str) else None,
            **facts.get("facet", {}),
            **prompt_fingerprint(prompt),
        }
        return operator_lineage([*inputs, *facts.get("read", [])], facts.get("wrote", []), facet)

    def note_lineage(self, *, read: Iterable[Any] = (), wrote: Iterable[Any] = (), **facet: Any) -> None:
        """Remember what this run read, wrote and generated, for the OpenLineage listener.

        Locations are kept as they may be shown (a URL without its signature): they are task attributes.
        """
        facts = self.__dict__.setdefault("_lineage_facts", {"read": [], "wrote": [], "facet": {}})
        facts["read"] += [shown_source(item) for item in read if item]
        facts["wrote"] += [shown_source(item) for item in wrote if item]
        known = facts["facet"]
        for key, value in facet.items():
            if key == "generation_ids":
                known[key] = [*known.get(key, []), *[v for v in value if v not in known.get(key, [])]]
            elif value is not None:
                known[key] = value

    def failure_semantics(self) -> AbstractContextManager[None]:
        """See :func:`airflow_provider_kling.tasks.failures.airflow_failure_semantics`."""
        return airflow_failure_semantics(timeout_is_final=self.timeout_is_final)

    def run_task(self, context: Context) -> Any:
        """What the task does; Kling errors it raises fail or retry the task as they should."""
        raise NotImplementedError

    def after_wait(self, context: Context, result: dict[str, Any]) -> Any:
        """What the task returns once its generation finished (``result``: the generation as XCom)."""
        return result

    @cached_property
    def hook(self) -> KlingHook:
        """Built on first use, so a templated ``kling_conn_id`` is rendered first."""
        from airflow_provider_kling.hooks.kling import KlingHook

        return KlingHook(kling_conn_id=self.kling_conn_id)

    def finish(self, context: Context, result: dict[str, Any]) -> dict[str, Any]:
        """Record a finished generation (the video link, a log line) and return it."""
        if result.get("video_url"):
            self.record_video_url(context, result["video_url"])
        self.note_lineage(
            wrote=[result.get("video_url")],
            generation_ids=[result["id"]] if result.get("id") else [],
            duration_seconds=result.get("duration"),
            cost_usd=known_usd(result.get("cost")),
        )
        self.record_video(
            context,
            generation_ids=[result.get("id")],
            cost=result.get("cost"),
            seconds=result.get("duration"),
        )
        self.log.info("%s", ready_line(result))
        return result

    def record_video(self, context: Context, **facts: Any) -> None:
        """Push this task instance's ``kling_video`` record (the Videos page lists it).

        Facts recorded earlier in this process (the finished generation's length, before its
        delivery) are kept; the model is the task's own when it has one.
        """
        known = self.__dict__.setdefault("_video_facts", {"model": getattr(self, "model", None)})
        known.update({name: value for name, value in facts.items() if value is not None})
        context["ti"].xcom_push(key=VIDEO_RECORD_XCOM_KEY, value=video_record(**known))

    def reserve_video_link(self, context: Context) -> None:
        """Store an empty extra link until the video exists (a missing XCom is logged as an error)."""
        self.record_video_url(context, "")

    def record_video_url(self, context: Context, url: str) -> None:
        context["ti"].xcom_push(key=VIDEO_URL_XCOM_KEY, value=url)

    def delivered_by(self, context: Context) -> dict[str, Any]:
        """The running task instance, as a delivery's sidecar records it (its DAG's readers may watch the video)."""
        ti = context["ti"]
        return task_instance_record(ti.dag_id, ti.run_id, ti.task_id, -1 if ti.map_index is None else ti.map_index)

    def record_delivery(
        self, context: Context, delivery: Delivery, generation_ids: list[str] | None = None, seconds: Any = None
    ) -> None:
        """Point the extra link at the stored video and describe it on every outlet Asset event.

        :param generation_ids: the generations joined in it (a storyboard's shots), if not only its own.
        :param seconds: its length, when it is not its generation's (a storyboard's).
        """
        self.record_video_url(context, delivery.uri)
        self.record_video(
            context,
            generation_ids=generation_ids or [delivery.generation_id],
            cost=delivery.cost,
            seconds=seconds if seconds is not None else delivery.seconds,
            delivered=True,
            poster=bool(delivery.poster_uri),
        )
        self.note_lineage(read=[delivery.source_url], wrote=[delivery.uri, delivery.metadata_uri])
        extra: dict[str, Any] = {k: v for k, v in delivery.to_xcom().items() if v is not None}
        outlet_events = context.get("outlet_events")
        if outlet_events is None:
            return
        for outlet in self.outlets:
            if isinstance(outlet, Asset):
                outlet_events[outlet].extra.update(extra)
