"""The API's OpenAPI files (``../shared/api``) as plain JSON Schemas, for contract tests."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from airflow_provider_kling.models.catalog import nullable_as_null
from harness.airflow_env import REPO

SHARED_API = REPO.parent / "shared" / "api"


@cache
def load_spec(name: str) -> dict[str, Any]:
    """One OpenAPI file of ``shared/api`` (``name`` without the folder)."""
    return json.loads((SHARED_API / name).read_text())


def operation_schema(spec_name: str, path: str, method: str, part: str = "response") -> dict[str, Any]:
    """The JSON Schema of an operation's 2xx response body (``part="response"``) or request body.

    ``$ref``s are inlined and OpenAPI 3.0's ``nullable: true`` becomes a ``null`` alternative, so
    ``jsonschema`` can check bodies against it as it stands.
    """
    spec = load_spec(spec_name)
    operation = spec["paths"][path][method]
    if part == "request":
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
    else:
        [response] = [r for code, r in operation["responses"].items() if code.startswith("2")]
        schema = response["content"]["application/json"]["schema"]
    return nullable_as_null(inline_refs(spec, schema))


def inline_refs(spec: dict[str, Any], node: Any, *, drop: frozenset[str] = frozenset()) -> Any:
    """``node`` with every local ``$ref`` of ``spec`` inlined, and the keys in ``drop`` (and ``x-*``) removed."""
    if isinstance(node, list):
        return [inline_refs(spec, item, drop=drop) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return inline_refs(spec, target, drop=drop)
    return {
        key: inline_refs(spec, value, drop=drop)
        for key, value in node.items()
        if key not in drop and not key.startswith("x-")
    }
