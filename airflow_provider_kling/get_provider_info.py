"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_provider_kling import __version__
from airflow_provider_kling.hooks.connection import CONN_FIELDS, HIDDEN_FIELDS, PLACEHOLDERS, RELABELING


def get_provider_info() -> dict[str, Any]:

    return {
        "package-name": "airflow-provider-kling",
        "name": "Kling (AI/ML API)",
        "description": "Generate videos with the AI/ML API's Kling video models from Airflow DAGs.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Kling (AI/ML API)",
                "external-doc-url": "https://docs.aimlapi.com/api-references/video-models/kling-ai",
                "tags": ["service"],
            }
        ],
        "operators": [
            {
                "integration-name": "Kling (AI/ML API)",
                "python-modules": [
                    "airflow_provider_kling.operators.kling",
                    "airflow_provider_kling.operators.download",
                    "airflow_provider_kling.operators.storyboard",
                ],
            }
        ],
        "sensors": [
            {"integration-name": "Kling (AI/ML API)", "python-modules": ["airflow_provider_kling.sensors.kling"]}
        ],
        "hooks": [{"integration-name": "Kling (AI/ML API)", "python-modules": ["airflow_provider_kling.hooks.kling"]}],
        "triggers": [
            {"integration-name": "Kling (AI/ML API)", "python-modules": ["airflow_provider_kling.triggers.kling"]}
        ],
        "connection-types": [
            {
                "hook-class-name": "airflow_provider_kling.hooks.kling.KlingHook",
                "connection-type": "kling",
                "hook-name": "Kling (AI/ML API)",
                "ui-field-behaviour": {
                    "hidden-fields": HIDDEN_FIELDS,
                    "relabeling": RELABELING,
                    "placeholders": PLACEHOLDERS,
                },
                "conn-fields": CONN_FIELDS,
            }
        ],
        "extra-links": ["airflow_provider_kling.operators.kling.KlingVideoLink"],
        "task-decorators": [
            {"class-name": "airflow_provider_kling.decorators.kling_video.kling_video_task", "name": "kling_video"}
        ],
    }
