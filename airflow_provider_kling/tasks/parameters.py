"""How a task holds its ``parameters``: a mapping no lineage event, log line or rendered field spells out.

OpenLineage's ``airflow`` run facet copies a fixed list of operator attributes into every task
event, ``parameters`` among them (meant for SQL operators), and Airflow stores every template
field as rendered. A Kling task's ``parameters`` hold prompts, inline images and signed URLs, so
the operator keeps them in a :class:`RequestParameters`: a mapping like the dict it wraps, that
OpenLineage cannot serialise (its events show ``<<non-serializable: RequestParameters>>``) and
that Airflow's rendered-fields view and serialized DAG see through :meth:`serialize` (URLs
without their query, inline data by its length).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from airflow_provider_kling.models.media_values import shown_parameters


class RequestParameters(MutableMapping[str, Any]):
    """A task's request fields: reads and writes like the dict it wraps (not a copy of it).

    :param fields: the dict given as ``parameters`` (templated strings, XComArgs and all).
    """

    #: Airflow renders ``fields`` in place, like any nested object's template fields. The dict is
    #: wrapped, not copied, so a mapped task's resolved values are recognised and not rendered again.
    template_fields = ("fields",)

    def __init__(self, fields: MutableMapping[str, Any]) -> None:
        self.fields = fields

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.fields[key] = value

    def __delitem__(self, key: str) -> None:
        del self.fields[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def serialize(self) -> dict[str, Any]:
        """What Airflow stores and shows (rendered fields, the serialized DAG): nothing signed or inline."""
        return dict(shown_parameters(self.fields))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({shown_parameters(self.fields)!r})"


def sealed(value: Any) -> Any:
    """``value`` as a task keeps it: a mapping in a fresh :class:`RequestParameters`, anything else as it is.

    A fresh wrapper, so rendering one task's copy never changes another's; ``None``, an XComArg or
    a template string stay as they are until they render to a mapping.
    """
    if isinstance(value, RequestParameters):
        return RequestParameters(value.fields)
    if isinstance(value, MutableMapping):
        return RequestParameters(value)
    if isinstance(value, Mapping):
        return RequestParameters(dict(value))
    return value
