"""The create-generation request: what users may send, checked before any request leaves.

Rules come from the OpenAPI files in ``shared/api`` (enums, ranges, required fields) plus the
documented limits of Kling itself (prompt length, camera-control shape). Every problem is
reported at once, each naming the field and what is allowed, so a DAG author fixes a bad row in
one round trip.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.values import describe, is_number

DEFAULT_MODEL = "kling-video/v1.6/pro/text-to-video"

#: Models the legacy ``/v2/generate/video/kling/generation`` path documents for text-to-video.
KNOWN_MODELS: tuple[str, ...] = (
    "kling-video/v1.6/pro/text-to-video",
    "kling-video/v1.6/standard/text-to-video",
    "kling-video/v1.5/pro/text-to-video",
    "kling-video/v1.5/standard/text-to-video",
    "kling-video/v1/pro/text-to-video",
    "kling-video/v1/standard/text-to-video",
    "klingai/v2-master-text-to-video",
    "klingai/v2.1-master-text-to-video",
)

#: Since the 2025-11 spec, the v1.6 standard model has its own body without these fields.
FIELDS_NOT_ON_MODEL: dict[str, frozenset[str]] = {
    "kling-video/v1.6/standard/text-to-video": frozenset({"camera_control", "external_task_id"}),
}

ASPECT_RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1")
DURATIONS: tuple[int, ...] = (5, 10)
CFG_SCALE_RANGE: tuple[float, float] = (0.0, 1.0)
PROMPT_MAX_CHARS = 2500
CAMERA_TYPES: tuple[str, ...] = ("simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward")
CAMERA_AXES: tuple[str, ...] = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")
CAMERA_AXIS_RANGE: tuple[float, float] = (-10.0, 10.0)

#: Every parameter a user can set; anything else is a typo worth reporting.
REQUEST_FIELDS: tuple[str, ...] = (
    "model",
    "prompt",
    "negative_prompt",
    "aspect_ratio",
    "duration",
    "cfg_scale",
    "camera_control",
    "external_task_id",
)


def _allowed(values: tuple[Any, ...]) -> str:
    return ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)


def _as_number(value: Any) -> float | None:
    """Accept real numbers and numeric strings (templated values render as strings)."""
    if is_number(value):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _check_text(field: str, value: Any, problems: list[str], *, required: bool) -> str | None:
    if value is None:
        if required:
            problems.append(f"{field} is required: a non-empty string of at most {PROMPT_MAX_CHARS} characters")
        return None
    if not isinstance(value, str):
        problems.append(f"{field} must be a string, got {type(value).__name__} {describe(value)}")
        return None
    if not value.strip():
        if required:
            problems.append(f"{field} must not be empty or only whitespace")
        return None
    if len(value) > PROMPT_MAX_CHARS:
        problems.append(f"{field} has {len(value)} characters; Kling accepts at most {PROMPT_MAX_CHARS}")
        return None
    return value


def _check_model(model: Any, allow_unknown_model: bool, problems: list[str]) -> str | None:
    if not isinstance(model, str) or not model.strip():
        problems.append(
            f"model must be a non-empty string, got {describe(model)}; known models: {_allowed(KNOWN_MODELS)}"
        )
        return None
    if model not in KNOWN_MODELS and not allow_unknown_model:
        problems.append(
            f"model {model!r} is not a known Kling text-to-video model; known models: {_allowed(KNOWN_MODELS)} "
            "(pass allow_unknown_model=True for a model released after this provider version)"
        )
        return None
    return model


def _check_choice(field: str, value: Any, choices: tuple[Any, ...], problems: list[str]) -> Any:
    if value not in choices or isinstance(value, bool):
        problems.append(f"{field}={describe(value)} is not allowed; allowed values: {_allowed(choices)}")
        return None
    return value


def _check_duration(value: Any, problems: list[str]) -> int | None:
    # The docs' own Python sample sends "5": accept the string, always send an integer.
    number = _as_number(value)
    if number is None or not number.is_integer() or int(number) not in DURATIONS:
        problems.append(f"duration={describe(value)} is not allowed; allowed values: {_allowed(DURATIONS)} (seconds)")
        return None
    return int(number)


def _check_range(field: str, value: Any, bounds: tuple[float, float], problems: list[str]) -> float | None:
    low, high = bounds
    number = _as_number(value)
    if number is None:
        problems.append(f"{field} must be a number between {low:g} and {high:g}, got {describe(value)}")
        return None
    if not low <= number <= high:
        problems.append(f"{field}={number:g} is out of range; allowed: {low:g} <= {field} <= {high:g}")
        return None
    return number


def _check_camera_control(value: Any, problems: list[str]) -> dict[str, Any] | None:
    if isinstance(value, str):
        # A preset name is the common case; spell it out as the API's object form.
        value = {"type": value}
    if not isinstance(value, Mapping):
        problems.append(
            f"camera_control must be a dict like {{'type': 'simple', 'config': {{'zoom': 5}}}} "
            f"or a preset name ({_allowed(CAMERA_TYPES[1:])}), got {describe(value)}"
        )
        return None
    before = len(problems)
    unknown = sorted(set(value) - {"type", "config"})
    if unknown:
        problems.append(f"camera_control has unknown keys {unknown}; allowed keys: 'type', 'config'")
    camera_type = value.get("type")
    if camera_type not in CAMERA_TYPES:
        problems.append(
            f"camera_control.type={describe(camera_type)} is not allowed; allowed values: {_allowed(CAMERA_TYPES)}"
        )
    config = value.get("config")
    checked_config: dict[str, float] | None = None
    if camera_type == "simple":
        checked_config = _check_camera_config(config, problems)
    elif config is not None and camera_type in CAMERA_TYPES:
        problems.append(f"camera_control.config is only used with type 'simple', not {camera_type!r}; remove it")
    if len(problems) > before:
        return None
    result: dict[str, Any] = {"type": camera_type}
    if checked_config is not None:
        result["config"] = checked_config
    return result


def _check_camera_config(config: Any, problems: list[str]) -> dict[str, float] | None:
    if not isinstance(config, Mapping):
        problems.append(
            "camera_control.config is required with type 'simple': a dict with exactly one non-zero axis "
            f"out of {_allowed(CAMERA_AXES)}, e.g. {{'zoom': 5}}"
        )
        return None
    before = len(problems)
    unknown = sorted(set(config) - set(CAMERA_AXES))
    if unknown:
        problems.append(f"camera_control.config has unknown axes {unknown}; allowed axes: {_allowed(CAMERA_AXES)}")
    checked = {}
    for axis in CAMERA_AXES:
        if axis in config:
            number = _check_range(f"camera_control.config.{axis}", config[axis], CAMERA_AXIS_RANGE, problems)
            if number is not None:
                checked[axis] = number
    if len(problems) == before and sum(1 for v in checked.values() if v != 0) != 1:
        problems.append(
            "camera_control.config must set exactly one axis to a non-zero value (Kling's rule for 'simple')"
        )
    if len(problems) > before:
        return None
    # Kling expects every axis present; unset ones are zero.
    return {axis: checked.get(axis, 0) for axis in CAMERA_AXES}


def build_create_body(params: Mapping[str, Any], *, allow_unknown_model: bool = False) -> dict[str, Any]:
    """Validate generation parameters and return the JSON body for the create request.

    Only the fields the user set are sent, so the API applies its own defaults.

    :param params: parameter name to value; ``None`` means "not set".
    :param allow_unknown_model: accept a model name this provider version does not know.
    :raises KlingValidationError: listing every problem found, before any request is made.
    """
    problems: list[str] = []
    unknown = sorted(set(params) - set(REQUEST_FIELDS))
    if unknown:
        problems.append(f"unknown parameters {unknown}; allowed parameters: {', '.join(REQUEST_FIELDS)}")

    body: dict[str, Any] = {}
    model = _check_model(params.get("model", DEFAULT_MODEL), allow_unknown_model, problems)
    body["model"] = model
    body["prompt"] = _check_text("prompt", params.get("prompt"), problems, required=True)

    checks: dict[str, Any] = {
        "negative_prompt": lambda v: _check_text("negative_prompt", v, problems, required=False),
        "aspect_ratio": lambda v: _check_choice("aspect_ratio", v, ASPECT_RATIOS, problems),
        "duration": lambda v: _check_duration(v, problems),
        "cfg_scale": lambda v: _check_range("cfg_scale", v, CFG_SCALE_RANGE, problems),
        "camera_control": lambda v: _check_camera_control(v, problems),
        "external_task_id": lambda v: _check_external_task_id(v, problems),
    }
    for field, check in checks.items():
        value = params.get(field)
        if value is None:
            continue
        if model in FIELDS_NOT_ON_MODEL and field in FIELDS_NOT_ON_MODEL[model]:
            problems.append(f"{field} is not supported by model {model!r}")
            continue
        checked = check(value)
        if checked is not None:
            body[field] = checked

    if problems:
        raise KlingValidationError(problems)
    return body


def _check_external_task_id(value: Any, problems: list[str]) -> str | None:
    if not isinstance(value, str) or not value.strip():
        problems.append(f"external_task_id must be a non-empty string, got {describe(value)}")
        return None
    return value


def request_fingerprint(body: Mapping[str, Any]) -> str:
    """A stable digest of a create body: the same request always gives the same fingerprint.

    Used to reattach a retried task only to a generation made from the same parameters.
    """
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


LEGACY_ENDPOINT = "legacy"
UNIFIED_ENDPOINT = "unified"
ENDPOINTS: tuple[str, ...] = (LEGACY_ENDPOINT, UNIFIED_ENDPOINT)
#: The create and fetch path of each endpoint (POST creates, GET ``?generation_id=`` fetches).
ENDPOINT_PATHS: dict[str, str] = {
    LEGACY_ENDPOINT: "/v2/generate/video/kling/generation",
    UNIFIED_ENDPOINT: "/v2/video/generations",
}
#: Fields of the legacy body that the unified endpoint's schema does not have.
NOT_ON_UNIFIED: frozenset[str] = frozenset({"external_task_id", "type"})


def body_for_endpoint(body: Mapping[str, Any], endpoint: str) -> dict[str, Any]:
    """Translate a validated (legacy-shaped) create body for the endpoint it is sent to.

    The unified ``/v2/video/generations`` schema spells camera control differently: a preset is a
    plain string, and the ``simple`` per-axis move is ``advanced_camera_control`` with one axis and
    a whole-number value in [-10, 10]. It has no ``external_task_id``.

    :raises KlingValidationError: for a camera move the unified schema cannot express.
    """
    if endpoint == LEGACY_ENDPOINT:
        return dict(body)
    if endpoint != UNIFIED_ENDPOINT:
        raise KlingValidationError([f"endpoint={endpoint!r} is not allowed; allowed values: {_allowed(ENDPOINTS)}"])
    translated = {key: value for key, value in body.items() if key not in NOT_ON_UNIFIED and key != "camera_control"}
    camera = body.get("camera_control")
    if camera is None:
        return translated
    if camera["type"] != "simple":
        translated["camera_control"] = camera["type"]
        return translated
    axis, value = next((axis, value) for axis, value in camera["config"].items() if value != 0)
    if float(value) != int(value):
        raise KlingValidationError(
            [f"camera_control.config.{axis}={value:g}: the unified endpoint takes whole numbers from -10 to 10"]
        )
    translated["advanced_camera_control"] = {"movement_type": axis, "movement_value": int(value)}
    return translated
