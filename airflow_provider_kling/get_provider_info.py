"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    from airflow_provider_kling import __version__

    return {
        "package-name": "airflow-provider-kling",
        "name": "Kling (AI/ML API)",
        "description": "Generate videos with the AI/ML API's Kling text-to-video models from Airflow DAGs.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Kling (AI/ML API)",
                "external-doc-url": "https://docs.aimlapi.com/api-references/video-models/kling-ai",
                "tags": ["service"],
            }
        ],
        "operators": [
            {"integration-name": "Kling (AI/ML API)", "python-modules": ["airflow_provider_kling.operators.kling"]}
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
                    "hidden-fields": ["schema", "login", "port", "extra"],
                    "relabeling": {"password": "API key", "host": "API base URL"},
                    "placeholders": {
                        "password": "your AI/ML API key",
                        "host": "https://api.aimlapi.com (leave empty for the default)",
                    },
                },
                # Every extra the hook reads (hooks/connection.py), so nobody has to write JSON by hand.
                "conn-fields": {
                    "timeout": {
                        "label": "Read timeout (seconds)",
                        "schema": {"type": ["number", "null"], "minimum": 1},
                        "description": "How long one API request may take to answer (default 60).",
                    },
                    "connect_timeout": {
                        "label": "Connect timeout (seconds)",
                        "schema": {"type": ["number", "null"], "minimum": 1},
                        "description": "How long to wait for a TCP/TLS connection (default 10).",
                    },
                    "endpoint": {
                        "label": "API endpoint",
                        "schema": {"type": ["string", "null"], "enum": [None, "legacy", "unified"]},
                        "description": "legacy: /v2/generate/video/kling/generation (default); "
                        "unified: /v2/video/generations.",
                    },
                    "verify": {
                        "label": "TLS verification",
                        "schema": {"type": ["string", "null"]},
                        "description": "true (default), false, or the path of a CA bundle for a private endpoint.",
                    },
                },
            }
        ],
        "extra-links": ["airflow_provider_kling.operators.kling.KlingVideoLink"],
        "task-decorators": [
            {"class-name": "airflow_provider_kling.decorators.kling_video.kling_video_task", "name": "kling_video"}
        ],
    }
