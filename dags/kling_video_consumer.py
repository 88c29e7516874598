"""Example: a DAG scheduled on new Kling videos (data-aware scheduling).

Every KlingDownloadVideoOperator updates the ``kling_videos`` Asset; its event's ``extra`` says
which file arrived (``uri``, ``generation_id``, ``size``, ``sha256``). This DAG runs after each
update and reads the video's metadata sidecar: replace the task with a transcode, an upload to your
CMS, a thumbnail review queue...
"""

from __future__ import annotations

import json
from datetime import datetime

from airflow.sdk import ObjectStoragePath, dag, task

from airflow_provider_kling.operators.kling import KLING_VIDEOS_ASSET


@dag(schedule=[KLING_VIDEOS_ASSET], start_date=datetime(2025, 1, 1), catchup=False, tags=["kling", "example"])
def kling_video_consumer():
    @task
    def describe_new_videos(triggering_asset_events=None) -> list[dict]:
        described: list[dict] = []
        if not triggering_asset_events:
            print("Triggered without Kling video events (e.g. a manual run): nothing to do")
            return described
        for event in triggering_asset_events[KLING_VIDEOS_ASSET]:
            uri = event.extra.get("uri")
            sidecar_uri = event.extra.get("metadata_uri")
            sidecar = json.loads(ObjectStoragePath(sidecar_uri).read_text()) if sidecar_uri else {}
            print(f"New video {uri}: {event.extra.get('size')} bytes, generation {event.extra.get('generation_id')}")
            print(f"  prompt: {sidecar.get('metadata', {}).get('prompt')}; probe: {sidecar.get('probe')}")
            described.append({"uri": uri, "sidecar": sidecar})
        return described

    describe_new_videos()


kling_video_consumer()
