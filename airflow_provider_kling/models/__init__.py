"""Request/response types and validation: plain data, no I/O, no Airflow import."""

from __future__ import annotations

from airflow_provider_kling.models.api_error import ApiErrorBody, parse_error_body
from airflow_provider_kling.models.generation import (
    Generation,
    GenerationStatus,
    describe_generation_error,
)
from airflow_provider_kling.models.media_values import redact_url
from airflow_provider_kling.models.request import (
    AUTO_ENDPOINT,
    CAMERA_AXES,
    CAMERA_TYPES,
    DEFAULT_IMAGE_MODEL,
    DEFAULT_MODEL,
    ENDPOINT_PATHS,
    ENDPOINTS,
    LEGACY_ENDPOINT,
    UNIFIED_ENDPOINT,
    CreateRequest,
    body_for_endpoint,
    build_create_body,
    prepare_request,
    request_fingerprint,
)

__all__ = [
    "AUTO_ENDPOINT",
    "CAMERA_AXES",
    "CAMERA_TYPES",
    "DEFAULT_IMAGE_MODEL",
    "DEFAULT_MODEL",
    "ENDPOINTS",
    "ENDPOINT_PATHS",
    "LEGACY_ENDPOINT",
    "UNIFIED_ENDPOINT",
    "ApiErrorBody",
    "CreateRequest",
    "Generation",
    "GenerationStatus",
    "body_for_endpoint",
    "build_create_body",
    "describe_generation_error",
    "parse_error_body",
    "prepare_request",
    "redact_url",
    "request_fingerprint",
]
