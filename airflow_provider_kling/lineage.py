"""OpenLineage for Kling tasks: the media read, the video delivered, and what the generation was.

Only used when ``apache-airflow-providers-openlineage`` is installed (the ``lineage`` extra) and
its listener asks: nothing here is imported while a DAG is parsed. Datasets are named as the
OpenLineage naming spec names them (``s3://bucket`` + key, ``gs://bucket`` + key, ``file`` +
path, ``https://host`` + path); a signed URL loses its query. The run facet ``kling`` carries the
model, generation id(s), length and cost, and the prompt's length and SHA-256, never its text nor
any inline media.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_kling.models.media_rules import media_locations, media_of, value_at
from airflow_provider_kling.models.media_values import PATH, URL, media_kind

FACET_NAME = "kling"
#: Where the facet is described (the package's page; its fields are listed in the README's "Lineage").
SCHEMA_URL = "https://pypi.org/project/airflow-provider-kling/#lineage"


def dataset_name(location: Any) -> tuple[str, str] | None:
    """``(namespace, name)`` of a file, object or URL; ``None`` for what is not one (inline data).

    A location is classified as the media it is read as (:func:`~.models.media_values.media_kind`):
    a ``data:`` URI or raw base64 (even one starting ``/9j/``, a JPEG's) is never a file.
    """
    text = str(location).strip()
    if not text or media_kind(text) not in (URL, PATH):
        return None
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("", "file", "local"):
        path = parts.path if scheme else text
        return ("file", path) if path.startswith("/") else None
    if scheme in ("http", "https"):
        return f"{scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}", parts.path
    # s3://conn_id@bucket/key: the connection is not the bucket.
    bucket = parts.hostname or parts.netloc.rsplit("@", 1)[-1]
    return f"{scheme}://{bucket}", parts.path.lstrip("/")


def media_read(params: Mapping[str, Any]) -> list[str]:
    """Every media value (path, URI, URL or inline data) in a generation's parameters, as the user gave them."""
    media = media_of(str(params.get("model") or ""))
    return [str(value_at(params, path)) for path, _ in media_locations(params, media)]


def prompt_fingerprint(prompt: Any) -> dict[str, Any]:
    """The prompt's length and SHA-256: enough to tell prompts apart, nothing of what they say."""
    if not isinstance(prompt, str) or not prompt:
        return {}
    return {"prompt_length": len(prompt), "prompt_sha256": hashlib.sha256(prompt.encode()).hexdigest()}


def operator_lineage(inputs: Iterable[Any], outputs: Iterable[Any], facts: Mapping[str, Any]) -> Any:
    """The ``OperatorLineage`` the OpenLineage listener asked for."""
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import Dataset

    def datasets(locations: Iterable[Any]) -> list[Any]:
        named = {name for name in map(dataset_name, locations) if name is not None}
        return [Dataset(namespace=namespace, name=name) for namespace, name in sorted(named)]

    facet = kling_run_facet_class()(**{k: v for k, v in facts.items() if v is not None})
    return OperatorLineage(inputs=datasets(inputs), outputs=datasets(outputs), run_facets={FACET_NAME: facet})


@cache
def kling_run_facet_class() -> type:
    """The ``kling`` run facet (made on first use: ``attrs`` and OpenLineage load only then)."""
    import attr
    from openlineage.client.facet_v2 import RunFacet

    @attr.define
    class KlingRunFacet(RunFacet):  # type: ignore[misc]
        """What a Kling task generated: model, generation id(s), length, cost; the prompt by fingerprint."""

        model: str | None = attr.field(default=None)
        generation_ids: list[str] = attr.field(factory=list)
        duration_seconds: float | None = attr.field(default=None)
        cost_usd: float | None = attr.field(default=None)
        prompt_length: int | None = attr.field(default=None)
        prompt_sha256: str | None = attr.field(default=None)

        @staticmethod
        def _get_schema() -> str:
            return SCHEMA_URL

    return KlingRunFacet
