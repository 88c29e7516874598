"""The create-generation request: what users may send, checked before any request leaves.

Rules come from the model catalog (the OpenAPI files in ``shared/api``: enums, ranges, required
fields) plus the documented limits of Kling itself (prompt length, camera-control shape), and the
path is chosen per model. Every problem is reported at once, one line each, naming the field and
what is allowed, so a DAG author fixes a bad row in one round trip.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.camera import (
    CAMERA_AXES,
    CAMERA_TYPES,
    body_for_endpoint,
    camera_for,
    check_camera_control,
)
from airflow_provider_kling.models.catalog import ModelSpec, get_model, is_catalogued
from airflow_provider_kling.models.generation import Generation
from airflow_provider_kling.models.media_rules import UNKNOWN_MODEL_MEDIA, media_value_problems
from airflow_provider_kling.models.validation import validate_body
from airflow_provider_kling.models.values import LEGACY_ENDPOINT, UNIFIED_ENDPOINT, allowed, describe

__all__ = ["CAMERA_AXES", "CAMERA_TYPES", "body_for_endpoint"]

DEFAULT_MODEL = "kling-video/v1.6/pro/text-to-video"
DEFAULT_IMAGE_MODEL = "kling-video/v1.6/pro/image-to-video"

AUTO_ENDPOINT = "auto"
#: In the order ``endpoint="auto"`` tries them.
ENDPOINTS: tuple[str, ...] = (LEGACY_ENDPOINT, UNIFIED_ENDPOINT)
#: The create and fetch path of each endpoint (POST creates, GET ``?generation_id=`` fetches).
ENDPOINT_PATHS: dict[str, str] = {
    LEGACY_ENDPOINT: "/v2/generate/video/kling/generation",
    UNIFIED_ENDPOINT: "/v2/video/generations",
}

PROMPT_MAX_CHARS = 2500


@dataclass(frozen=True)
class CreateRequest:
    """A validated create request: the body to send and the path it is sent to.

    :param endpoint: ``"legacy"`` or ``"unified"``.
    :param body: the JSON body, shaped for that path; media fields still hold what the user gave
        (a URL or a path): :mod:`airflow_provider_kling.hooks.media` turns paths into inline data.
    :param fallback: the same request for the model's other documented path, sent once only if
        this one is refused as "model or path not supported" (``endpoint="auto"`` only).
    :param alias: the documented second name the user gave, when the body carries the model's id instead.
    :param detour: why the model's first documented path does not take this request (``auto`` then
        sends it to the other one), e.g. ``"prompt is required by ..."``; ``None`` when it does.
    """

    endpoint: str
    body: dict[str, Any]
    fallback: CreateRequest | None = None
    alias: str | None = None
    detour: str | None = None

    @property
    def path(self) -> str:
        return ENDPOINT_PATHS[self.endpoint]

    @property
    def model(self) -> str:
        return str(self.body["model"])


@dataclass(frozen=True)
class Created:
    """What a create request made.

    :param generation: the create answer (its id, status and any ``meta.usage`` already reported).
    :param request: the request that made it (the fallback's, when the first path refused the model).
    """

    generation: Generation
    request: CreateRequest


def prepare_request(
    params: Mapping[str, Any], *, endpoint: str = AUTO_ENDPOINT, allow_unknown_model: bool = False
) -> CreateRequest:
    """Validate generation parameters for their model and choose the path to send them to.

    Any catalogued model (:mod:`.catalog`), named by its id or a documented alias, is checked
    against its documented schema plus Kling's rules the schemas do not carry (prompt length, the
    ``simple`` camera move); only the fields the user set are sent, so the API applies its own
    defaults. The body always carries the model's id.

    :param params: parameter name to value (``model`` included, default :data:`DEFAULT_MODEL`);
        ``None`` means "not set".
    :param endpoint: ``"auto"``, ``"legacy"`` or ``"unified"``. ``auto`` sends to the legacy path
        only the models a legacy operation documents (and only when the fields fit it), every other
        model to ``/v2/video/generations``; the other documented path, when there is one, is kept
        as :attr:`CreateRequest.fallback`. A forced path has no fallback: the user chose it.
    :param allow_unknown_model: send a model the catalog does not know, checking only what every
        Kling model shares (prompt length, camera shape).
    :raises KlingValidationError: listing every problem found, before any request is made.
    """
    if endpoint not in (AUTO_ENDPOINT, *ENDPOINTS):
        raise KlingValidationError(
            [f"endpoint={endpoint!r} is not allowed; allowed values: {allowed((AUTO_ENDPOINT, *ENDPOINTS))}"]
        )
    model = params.get("model", DEFAULT_MODEL)
    if not isinstance(model, str) or not model.strip():
        raise KlingValidationError([f"model must be a non-empty string naming a Kling model, got {describe(model)}"])
    fields = {name: value for name, value in params.items() if name != "model" and value is not None}
    if allow_unknown_model and not is_catalogued(model):
        return _unknown_model_request(model, fields, endpoint)
    spec = get_model(model)
    alias = model if model != spec.id else None
    valid: list[CreateRequest] = []
    attempts: list[list[str]] = []
    passed_over: list[str] = []  # why the paths tried before the first valid one refuse this request
    for candidate in _candidate_endpoints(spec, endpoint):
        try:
            valid.append(CreateRequest(candidate, _validated(spec, candidate, fields), alias=alias))
        except KlingValidationError as err:
            attempts.append(err.problems)
            if not valid:
                passed_over += err.problems
    if not valid:
        # Report the path that came closest; with one candidate, simply its problems.
        raise KlingValidationError(min(attempts, key=len))
    first, *others = valid
    return replace(first, fallback=others[0] if others else None, detour="; ".join(passed_over) or None)


def build_create_body(
    params: Mapping[str, Any], *, allow_unknown_model: bool = False, endpoint: str = AUTO_ENDPOINT
) -> dict[str, Any]:
    """:func:`prepare_request`'s body alone (for checks that do not send anything)."""
    return prepare_request(params, endpoint=endpoint, allow_unknown_model=allow_unknown_model).body


def _candidate_endpoints(spec: ModelSpec, endpoint: str) -> list[str]:
    if endpoint == AUTO_ENDPOINT:
        return [name for name in ENDPOINTS if name in spec.endpoints]
    if endpoint not in spec.endpoints:
        raise KlingValidationError(
            [
                f"{spec.id} is not served by the {endpoint} endpoint ({ENDPOINT_PATHS[endpoint]}); it is documented "
                f"only on {', '.join(ENDPOINT_PATHS[name] for name in spec.endpoints)}: set the connection's "
                "extra 'endpoint' to 'auto' (or to the path above)"
            ]
        )
    return [endpoint]


def _validated(spec: ModelSpec, endpoint: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    schema_fields = spec.fields(endpoint)
    problems: list[str] = []
    shaped = dict(fields)
    if "camera_control" in shaped:
        shaped.update(camera_for(spec.id, schema_fields, shaped.pop("camera_control"), problems))
    problems += _text_problems(spec, endpoint, shaped) + _number_problems(spec, shaped)
    problems += media_value_problems(spec.id, shaped, spec.media)
    try:
        body = validate_body(spec.id, shaped, endpoint=endpoint)
    except KlingValidationError as err:
        problems += err.problems
    if problems:
        raise KlingValidationError(problems)
    return body


def _text_problems(spec: ModelSpec, endpoint: str, fields: Mapping[str, Any]) -> list[str]:
    """Kling's prompt rules the schemas leave out.

    Not blank, at most 2500 characters, and a text for a text-to-video model whose schema does not
    already require one (the schema check reports that).
    """
    schema = spec.endpoints[endpoint]
    schema_fields = schema.fields
    problems: list[str] = []
    for name in ("prompt", "negative_prompt"):
        value = fields.get(name)
        if not isinstance(value, str) or name not in schema_fields:
            continue
        if not value.strip():
            problems.append(f"{name} must not be empty or only whitespace ({spec.id})")
        elif "maxLength" not in schema_fields[name]:
            problems += _too_long(name, value)
    if (
        spec.mode == "text-to-video"
        and "prompt" in schema_fields
        and "prompt" not in schema.required
        and fields.get("prompt") is None
        and fields.get("multi_prompt") is None
    ):
        needs = "prompt or multi_prompt" if "multi_prompt" in schema_fields else "prompt"
        problems.append(f"{needs} is required by {spec.id}: a text-to-video model needs a text")
    return problems


def _number_problems(spec: ModelSpec, fields: Mapping[str, Any]) -> list[str]:
    """NaN and infinity pass every JSON Schema range check; no request should carry them."""
    return [
        f"{name} must be a finite number for {spec.id}, got {describe(value)}"
        for name, value in fields.items()
        if isinstance(value, float) and not math.isfinite(value)
    ]


def _unknown_model_request(model: str, fields: Mapping[str, Any], endpoint: str) -> CreateRequest:
    """A model newer than the catalog: what every Kling model shares is checked, the rest is the API's."""
    problems: list[str] = []
    # The unified path is the one the API documents for every video model.
    chosen = UNIFIED_ENDPOINT if endpoint == AUTO_ENDPOINT else endpoint
    body: dict[str, Any] = {"model": model}
    for name, value in fields.items():
        if name in ("prompt", "negative_prompt"):
            problems += _text_length_problems(name, value)
        elif name == "camera_control":
            camera = check_camera_control(value, problems)
            if camera is not None:
                body.update(body_for_endpoint({"camera_control": camera}, chosen))
            continue
        body[name] = value
    problems += media_value_problems(model, body, UNKNOWN_MODEL_MEDIA)
    if problems:
        raise KlingValidationError(problems)
    return CreateRequest(chosen, body)


def _text_length_problems(name: str, value: Any) -> list[str]:
    if not isinstance(value, str):
        return [f"{name} must be a string, got {type(value).__name__} {describe(value)}"]
    return _too_long(name, value)


def _too_long(name: str, text: str) -> list[str]:
    """Kling's own prompt limit, for fields whose schema states none."""
    if len(text) > PROMPT_MAX_CHARS:
        return [f"{name} has {len(text)} characters; Kling accepts at most {PROMPT_MAX_CHARS}"]
    return []


def request_fingerprint(body: Mapping[str, Any]) -> str:
    """A stable digest of a create body: the same request always gives the same fingerprint.

    Used to reattach a retried task only to a generation made from the same parameters.
    """
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]
