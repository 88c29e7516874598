"""KlingTask: what every Kling operator, the sensor and the TaskFlow task have in common."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, BaseOperator, BaseOperatorLink

from airflow_provider_kling.task_outputs import GENERATION_ID_XCOM_KEY, VIDEO_LINK_XCOM_KEY, VIDEO_URL_XCOM_KEY

if TYPE_CHECKING:
    from airflow.sdk import Context
    from airflow.sdk.types import TaskInstanceKey

    from airflow_provider_kling.delivery import Delivery
    from airflow_provider_kling.hooks.kling import KlingHook

__all__ = ["GENERATION_ID_XCOM_KEY", "VIDEO_URL_XCOM_KEY", "KlingTask", "KlingVideoLink"]


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
    Base of every Kling task: a connection id, the hook built from it, the "Kling video" link.

    Not a task of its own; subclasses set ``kling_conn_id`` in their ``__init__``.
    """

    kling_conn_id: str
    operator_extra_links = (KlingVideoLink(),)

    @cached_property
    def hook(self) -> KlingHook:
        """Built on first use, so a templated ``kling_conn_id`` is rendered first."""
        from airflow_provider_kling.hooks.kling import KlingHook

        return KlingHook(kling_conn_id=self.kling_conn_id)

    def reserve_video_link(self, context: Context) -> None:
        """Store an empty extra link until the video exists (a missing XCom is logged as an error)."""
        self.record_video_url(context, "")

    def record_video_url(self, context: Context, url: str) -> None:
        context["ti"].xcom_push(key=VIDEO_URL_XCOM_KEY, value=url)

    def record_delivery(self, context: Context, delivery: Delivery) -> None:
        """Point the extra link at the stored video and describe it on every outlet Asset event."""
        self.record_video_url(context, delivery.uri)
        extra: dict[str, Any] = {k: v for k, v in delivery.to_xcom().items() if v is not None}
        outlet_events = context.get("outlet_events")
        if outlet_events is None:
            return
        for outlet in self.outlets:
            if isinstance(outlet, Asset):
                outlet_events[outlet].extra.update(extra)
