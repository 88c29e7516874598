"""One validation for every catalogued model: a request body checked against the model's schema.

The schema part (types, enums, ranges, required fields, list lengths, unknown fields) is
``jsonschema``'s, run over the catalog's schema for the model and path; the messages are ours:
each names the model, the field, the value and what is allowed, and every problem is reported in
one :class:`KlingValidationError`. Templated values arrive as strings, so a numeric or boolean
string is read as the number or boolean the schema asks for before checking.

Pure: no I/O, no Airflow import. Kling's rules that no schema carries (the prompt length when the
schema has none, the shape of a ``simple`` camera move, image limits) are checked elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.catalog import ModelSpec, get_model
from airflow_provider_kling.models.values import allowed, describe


def validate_body(model_id: str, params: Mapping[str, Any], *, endpoint: str | None = None) -> dict[str, Any]:
    """Check ``params`` (``None`` = unset) for ``model_id`` on ``endpoint``; return the body to send.

    :param model_id: a catalogued model id.
    :param params: the request fields besides ``model``.
    :param endpoint: ``"legacy"`` or ``"unified"``; default: the model's default path.
    :raises KlingValidationError: listing every problem, each naming the model and the field.
    """
    spec = get_model(model_id)
    chosen = endpoint or spec.default_endpoint
    if chosen not in spec.endpoints:
        raise KlingValidationError(
            [f"{model_id} is not served by the {chosen} endpoint; it is documented on: {', '.join(spec.endpoints)}"]
        )
    fields = spec.fields(chosen)
    body = {name: _coerce(value, fields.get(name, {})) for name, value in params.items() if value is not None}
    problems = _unknown_fields(spec, body, fields) + _schema_problems(spec, chosen, {**body, "model": model_id})
    if problems:
        raise KlingValidationError(problems)
    return {"model": model_id, **body}


def _unknown_fields(spec: ModelSpec, body: Mapping[str, Any], fields: Mapping[str, Any]) -> list[str]:
    unknown = sorted(set(body) - set(fields))
    return [f"{name!r} is not a parameter of {spec.id}; it has: {', '.join(sorted(fields))}" for name in unknown]


def _schema_problems(spec: ModelSpec, endpoint: str, body: dict[str, Any]) -> list[str]:
    import jsonschema

    schema = spec.endpoints[endpoint].json_schema
    validator = jsonschema.Draft7Validator(schema)
    known = {name: value for name, value in body.items() if name in schema.get("properties", {})}
    errors = [leaf for error in validator.iter_errors(known) for leaf in _leaves(error)]
    errors.sort(key=lambda e: [str(p) for p in e.absolute_path])
    messages = [_message(spec.id, error) for error in errors if error.validator != "additionalProperties"]
    return list(dict.fromkeys(messages))


def _leaves(error: Any) -> list[Any]:
    """The errors worth showing under an ``anyOf``: a nullable field's failure is its non-null branch's."""
    if error.validator != "anyOf" or not error.context:
        return [error]
    branches = [e for e in error.context if not (e.validator == "type" and e.validator_value == "null")]
    if branches and all(e.validator == "type" and list(e.absolute_path) == list(error.absolute_path) for e in branches):
        return [error]  # a choice of types (string or list of strings): one message names them all
    return [leaf for branch in branches for leaf in _leaves(branch)] or [error]


def _message(model_id: str, error: Any) -> str:
    """One readable sentence for a jsonschema error: model, field, value, what is allowed."""
    field = _field_name(error.absolute_path) or "the body"
    value, rule, expected = error.instance, error.validator, error.validator_value
    if rule == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{missing} is required by {model_id}"
    if rule == "enum":
        return f"{field}={describe(value)} is not allowed for {model_id}; allowed values: {allowed(expected)}"
    if rule in ("minimum", "maximum"):
        low = error.schema.get("minimum")
        high = error.schema.get("maximum")
        bounds = " and ".join(
            part
            for part in (f">= {low:g}" if low is not None else "", f"<= {high:g}" if high is not None else "")
            if part
        )
        return f"{field}={describe(value)} is out of range for {model_id}; allowed: {bounds}"
    if rule in ("minItems", "maxItems"):
        low, high = error.schema.get("minItems", 0), error.schema.get("maxItems")
        takes = f"{low} to {high}" if high is not None else f"at least {low}"
        return f"{field} has {len(value)} items; {model_id} takes {takes}"
    if rule == "maxLength":
        return f"{field} has {len(value)} characters; {model_id} accepts at most {expected}"
    if rule == "type":
        wanted = expected if isinstance(expected, str) else " or ".join(expected)
        return f"{field} must be {wanted} for {model_id}, got {type(value).__name__} {describe(value)}"
    if rule == "anyOf":
        wanted = " or ".join(str(option.get("type", "?")) for option in expected if option.get("type") != "null")
        return f"{field} must be {wanted} for {model_id}, got {type(value).__name__} {describe(value)}"
    return f"{field}: {error.message} ({model_id})"


def _field_name(path: Any) -> str:
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _coerce(value: Any, field: Mapping[str, Any]) -> Any:
    """A templated string read as the number or boolean the field's schema asks for; ``5.0`` as ``5``."""
    kinds = {field.get("type")} | {option.get("type") for option in field.get("anyOf", ())}
    if isinstance(value, float) and "integer" in kinds and value.is_integer():
        return int(value)
    if not isinstance(value, str):
        return value
    text = value.strip()
    if "integer" in kinds and text.lstrip("-").isdigit():
        return int(text)
    if "number" in kinds:
        try:
            return float(text)
        except ValueError:
            return value
    if "boolean" in kinds and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return value
