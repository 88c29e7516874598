"""The create-generation request: what users may send, checked before any request leaves.

Rules come from the model catalog (the OpenAPI files in ``shared/api``: enums, ranges, required
fields) plus the documented limits of Kling itself (prompt length, camera-control shape), and the
path is chosen per model. Every problem is
reported at once, each naming the field and what is allowed, so a DAG author fixes a bad row in
one round trip.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.catalog import ModelSpec, get_model, is_catalogued
from airflow_provider_kling.models.validation import validate_body
from airflow_provider_kling.models.values import describe, is_number

DEFAULT_MODEL = "kling-video/v1.6/pro/text-to-video"

LEGACY_ENDPOINT = "legacy"
UNIFIED_ENDPOINT = "unified"
AUTO_ENDPOINT = "auto"
#: In the order ``endpoint="auto"`` tries them.
ENDPOINTS: tuple[str, ...] = (LEGACY_ENDPOINT, UNIFIED_ENDPOINT)
#: The create and fetch path of each endpoint (POST creates, GET ``?generation_id=`` fetches).
ENDPOINT_PATHS: dict[str, str] = {
    LEGACY_ENDPOINT: "/v2/generate/video/kling/generation",
    UNIFIED_ENDPOINT: "/v2/video/generations",
}

PROMPT_MAX_CHARS = 2500
CAMERA_TYPES: tuple[str, ...] = ("simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward")
CAMERA_AXES: tuple[str, ...] = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")
CAMERA_AXIS_RANGE: tuple[float, float] = (-10.0, 10.0)


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


@dataclass(frozen=True)
class CreateRequest:
    """A validated create request: the body to send and the path it is sent to.

    :param endpoint: ``"legacy"`` or ``"unified"``.
    :param body: the JSON body, shaped for that path; media fields still hold what the user gave
        (a URL or a path): :mod:`airflow_provider_kling.hooks.media` turns paths into inline data.
    """

    endpoint: str
    body: dict[str, Any]

    @property
    def path(self) -> str:
        return ENDPOINT_PATHS[self.endpoint]

    @property
    def model(self) -> str:
        return str(self.body["model"])


def prepare_request(
    params: Mapping[str, Any], *, endpoint: str = AUTO_ENDPOINT, allow_unknown_model: bool = False
) -> CreateRequest:
    """Validate generation parameters for their model and choose the path to send them to.

    Any catalogued model (:mod:`.catalog`) is checked against its documented schema plus Kling's
    rules the schemas do not carry (prompt length, the ``simple`` camera move); only the fields
    the user set are sent, so the API applies its own defaults.

    :param params: parameter name to value (``model`` included, default :data:`DEFAULT_MODEL`);
        ``None`` means "not set".
    :param endpoint: ``"auto"`` (the path documented for the model that accepts these fields;
        legacy first, the path this provider has always used), ``"legacy"`` or ``"unified"``.
    :param allow_unknown_model: send a model the catalog does not know, checking only what every
        Kling model shares (prompt length, camera shape).
    :raises KlingValidationError: listing every problem found, before any request is made.
    """
    if endpoint not in (AUTO_ENDPOINT, *ENDPOINTS):
        raise KlingValidationError(
            [f"endpoint={endpoint!r} is not allowed; allowed values: {_allowed((AUTO_ENDPOINT, *ENDPOINTS))}"]
        )
    model = params.get("model", DEFAULT_MODEL)
    if not isinstance(model, str) or not model.strip():
        raise KlingValidationError([f"model must be a non-empty string naming a Kling model, got {describe(model)}"])
    fields = {name: value for name, value in params.items() if name != "model" and value is not None}
    if allow_unknown_model and not is_catalogued(model):
        return _unknown_model_request(model, fields, endpoint)
    spec = get_model(model)
    candidates = _candidate_endpoints(spec, endpoint)
    attempts: list[tuple[str, list[str]]] = []
    for candidate in candidates:
        try:
            return CreateRequest(candidate, _validated(spec, candidate, fields))
        except KlingValidationError as err:
            attempts.append((candidate, err.problems))
    # Report the path that came closest; with one candidate, simply its problems.
    _, problems = min(attempts, key=lambda attempt: len(attempt[1]))
    raise KlingValidationError(problems)


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
        shaped.update(_camera_for(spec.id, schema_fields, shaped.pop("camera_control"), problems))
    problems += _text_problems(spec, schema_fields, shaped) + _number_problems(spec, shaped)
    try:
        body = validate_body(spec.id, shaped, endpoint=endpoint)
    except KlingValidationError as err:
        problems += err.problems
    if problems:
        raise KlingValidationError(problems)
    return body


def _camera_for(model: str, schema_fields: Mapping[str, Any], value: Any, problems: list[str]) -> dict[str, Any]:
    """``camera_control`` in the shape this model's path takes (object on legacy, preset string on unified)."""
    field = schema_fields.get("camera_control")
    if field is None:
        return {"camera_control": value}  # reported by the schema check as not a parameter
    checked = _check_camera_control(value, problems)
    if checked is None:
        return {}
    if field.get("type") == "object":
        return {"camera_control": checked}
    if checked["type"] != "simple":
        return {"camera_control": checked["type"]}
    if "advanced_camera_control" not in schema_fields:
        problems.append(f"camera_control type 'simple' is not available on {model}; presets only")
        return {}
    axis, amount = next((axis, amount) for axis, amount in checked["config"].items() if amount != 0)
    if float(amount) != int(amount):
        problems.append(
            f"camera_control.config.{axis}={amount:g}: {model} on the unified endpoint takes whole numbers "
            "from -10 to 10"
        )
        return {}
    return {"advanced_camera_control": {"movement_type": axis, "movement_value": int(amount)}}


def _text_problems(spec: ModelSpec, schema_fields: Mapping[str, Any], fields: Mapping[str, Any]) -> list[str]:
    """Kling's prompt rules the schemas leave out: not blank, at most 2500 characters."""
    problems: list[str] = []
    for name in ("prompt", "negative_prompt"):
        value = fields.get(name)
        if not isinstance(value, str) or name not in schema_fields:
            continue
        if not value.strip():
            problems.append(f"{name} must not be empty or only whitespace ({spec.id})")
        elif "maxLength" not in schema_fields[name] and len(value) > PROMPT_MAX_CHARS:
            problems.append(f"{name} has {len(value)} characters; Kling accepts at most {PROMPT_MAX_CHARS}")
    if (
        spec.mode == "text-to-video"
        and "prompt" in schema_fields
        and fields.get("prompt") is None
        and fields.get("multi_prompt") is None
    ):
        needs = "prompt or multi_prompt" if "multi_prompt" in schema_fields else "prompt"
        problems.append(f"{needs} is required by {spec.id}: a text-to-video model needs a text")
    return list(dict.fromkeys(problems))


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
            value = _check_text(name, value, problems, required=False)
        elif name == "camera_control":
            camera = _check_camera_control(value, problems)
            if camera is not None:
                body.update(body_for_endpoint({"camera_control": camera}, chosen))
            continue
        if value is not None:
            body[name] = value
    if problems:
        raise KlingValidationError(problems)
    return CreateRequest(chosen, body)


def request_fingerprint(body: Mapping[str, Any]) -> str:
    """A stable digest of a create body: the same request always gives the same fingerprint.

    Used to reattach a retried task only to a generation made from the same parameters.
    """
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


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
