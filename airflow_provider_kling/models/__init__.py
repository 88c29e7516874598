"""Request/response types and validation: plain data, no I/O, no Airflow import."""

from __future__ import annotations

from airflow_provider_kling.models.api_error import ApiErrorBody, parse_error_body
from airflow_provider_kling.models.generation import (
    Generation,
    GenerationStatus,
    describe_generation_error,
    redact_url,
)
from airflow_provider_kling.models.request import (
    ASPECT_RATIOS,
    CAMERA_AXES,
    CAMERA_TYPES,
    DEFAULT_MODEL,
    DURATIONS,
    ENDPOINT_PATHS,
    ENDPOINTS,
    KNOWN_MODELS,
    LEGACY_ENDPOINT,
    REQUEST_FIELDS,
    UNIFIED_ENDPOINT,
    body_for_endpoint,
    build_create_body,
    request_fingerprint,
)

__all__ = [
    "ASPECT_RATIOS",
    "CAMERA_AXES",
    "CAMERA_TYPES",
    "DEFAULT_MODEL",
    "DURATIONS",
    "ENDPOINTS",
    "ENDPOINT_PATHS",
    "KNOWN_MODELS",
    "LEGACY_ENDPOINT",
    "REQUEST_FIELDS",
    "UNIFIED_ENDPOINT",
    "ApiErrorBody",
    "Generation",
    "GenerationStatus",
    "body_for_endpoint",
    "build_create_body",
    "describe_generation_error",
    "parse_error_body",
    "redact_url",
    "request_fingerprint",
]
