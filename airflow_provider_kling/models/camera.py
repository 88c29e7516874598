"""Camera control: Kling's rules for a camera move, and its spelling on each create path.

Users write one shape everywhere: a preset name (``"down_back"``) or
``{"type": "simple", "config": {"zoom": 5}}``. The legacy path takes that object; the unified
``/v2/video/generations`` schema spells a preset as a plain string and the ``simple`` per-axis move
as ``advanced_camera_control`` with one axis and a whole number in [-10, 10]. Kling's own rule that
no schema carries: ``config`` only with ``simple``, exactly one non-zero axis.

Pure: no I/O, no Airflow import.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.values import LEGACY_ENDPOINT, UNIFIED_ENDPOINT, allowed, describe, is_number

CAMERA_TYPES: tuple[str, ...] = ("simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward")
CAMERA_AXES: tuple[str, ...] = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")
CAMERA_AXIS_RANGE: tuple[float, float] = (-10.0, 10.0)
#: Fields of the legacy body that the unified endpoint's schema does not have.
NOT_ON_UNIFIED: frozenset[str] = frozenset({"external_task_id", "type"})


def as_number(value: Any) -> float | None:
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


def check_range(field: str, value: Any, bounds: tuple[float, float], problems: list[str]) -> float | None:
    low, high = bounds
    number = as_number(value)
    if number is None:
        problems.append(f"{field} must be a number between {low:g} and {high:g}, got {describe(value)}")
        return None
    if not low <= number <= high:
        problems.append(f"{field}={number:g} is out of range; allowed: {low:g} <= {field} <= {high:g}")
        return None
    return number


def check_camera_control(value: Any, problems: list[str]) -> dict[str, Any] | None:
    """``value`` as ``{"type": ..., "config": {every axis}}``, or ``None`` after adding its problems."""
    if isinstance(value, str):
        # A preset name is the common case; spell it out as the API's object form.
        value = {"type": value}
    if not isinstance(value, Mapping):
        problems.append(
            f"camera_control must be a dict like {{'type': 'simple', 'config': {{'zoom': 5}}}} "
            f"or a preset name ({allowed(CAMERA_TYPES[1:])}), got {describe(value)}"
        )
        return None
    before = len(problems)
    unknown = sorted(set(value) - {"type", "config"})
    if unknown:
        problems.append(f"camera_control has unknown keys {unknown}; allowed keys: 'type', 'config'")
    camera_type = value.get("type")
    if camera_type not in CAMERA_TYPES:
        problems.append(
            f"camera_control.type={describe(camera_type)} is not allowed; allowed values: {allowed(CAMERA_TYPES)}"
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
            f"out of {allowed(CAMERA_AXES)}, e.g. {{'zoom': 5}}"
        )
        return None
    before = len(problems)
    unknown = sorted(set(config) - set(CAMERA_AXES))
    if unknown:
        problems.append(f"camera_control.config has unknown axes {unknown}; allowed axes: {allowed(CAMERA_AXES)}")
    checked = {}
    for axis in CAMERA_AXES:
        if axis in config:
            number = check_range(f"camera_control.config.{axis}", config[axis], CAMERA_AXIS_RANGE, problems)
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


def camera_for(model: str, schema_fields: Mapping[str, Any], value: Any, problems: list[str]) -> dict[str, Any]:
    """``camera_control`` in the shape this model's path takes (object on legacy, preset string on unified)."""
    field = schema_fields.get("camera_control")
    if field is None:
        return {"camera_control": value}  # reported by the schema check as not a parameter
    checked = check_camera_control(value, problems)
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


def body_for_endpoint(body: Mapping[str, Any], endpoint: str) -> dict[str, Any]:
    """Translate a validated (legacy-shaped) create body for the endpoint it is sent to.

    :raises KlingValidationError: for a camera move the unified schema cannot express.
    """
    if endpoint == LEGACY_ENDPOINT:
        return dict(body)
    if endpoint != UNIFIED_ENDPOINT:
        raise KlingValidationError(
            [f"endpoint={endpoint!r} is not allowed; allowed values: {allowed((LEGACY_ENDPOINT, UNIFIED_ENDPOINT))}"]
        )
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
