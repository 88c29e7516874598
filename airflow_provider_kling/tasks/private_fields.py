"""Template fields that may hold a signed URL or inline data: what Airflow records is their shown form.

Airflow stores every template field as rendered (the rendered fields in the metadata DB, the UI's
"Rendered Templates"), the serialized DAG holds each as written, and OpenLineage's full task info
copies a task's attributes. A task's media fields (``image``, ``tail_image``, ``video`` ..., a storyboard's
``shots``, a download's ``video_url``) may hold a presigned URL or an image's base64. Each is a
:class:`PrivateField`: the value is kept in the task's :class:`PrivateValues`, and the attribute
reads as the value may be shown (:func:`shown`: a URL without its query, inline data by its length,
prompts as written), except while the task works with it (:func:`working_values`: rendering its
templates, running, resuming, reporting lineage).
So whatever Airflow serialises, stores or shows holds no signature and no inline data, a template
such as a ``map_index_template`` reading ``task.image`` gets the shown value, and the request gets
the real one. ``parameters`` is kept apart in the same spirit (:mod:`.parameters`).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from airflow_provider_kling.models.media_values import shown_parameters, shown_source
from airflow_provider_kling.models.named_fields import MEDIA_ARGUMENTS

#: Template fields that are private wherever a Kling task has them (the same names on every entry point).
PRIVATE_FIELDS = MEDIA_ARGUMENTS | {"shots", "video_url"}
_HOLDER = "_private_values"


@dataclass(frozen=True)
class PrivateValues:
    """The real values of a task's private fields, and how many :func:`working_values` blocks are open.

    Never changed, only replaced: a task copied for a run (``copy.copy``) shares the holder until it
    sets a value, which replaces the copy's holder and leaves the DAG's task as written. Not JSON, so
    OpenLineage's full task info shows ``<<non-serializable: PrivateValues>>``.

    :param values: field name -> the value as given or rendered.
    :param working: open :func:`working_values` blocks (0: attributes read as shown).
    :param owner: a weak reference to the task holding it (a copy of the task holds it too, at first).
    """

    values: Mapping[str, Any] = field(default_factory=dict)
    working: int = 0
    owner: Any = field(default=None, compare=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({ {name: shown(value) for name, value in self.values.items()}!r})"


class PrivateField:
    """A task attribute that reads as shown outside :func:`working_values` (see the module's docstring)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, task: Any, owner: type | None = None) -> Any:
        if task is None:
            return self
        held = _holder(task)
        if self.name not in held.values:
            raise AttributeError(f"{type(task).__name__!r} object has no attribute {self.name!r}")
        value = held.values[self.name]
        return value if held.working else shown(value)

    def __set__(self, task: Any, value: Any) -> None:
        held = _holder(task)
        _keep(task, replace(held, values={**held.values, self.name: value}))


def shown(value: Any) -> Any:
    """A private field's value as it may be shown: a text that is no URL, path or template reads as inline data.

    A field holding one text (``image``, ``video_url``) holds media: anything that cannot name a file
    (URL-safe base64, a blob with control characters) is shown by its length too. Mappings and lists
    (a storyboard's ``shots``) are shown as request parameters are.
    """
    return shown_source(value) if isinstance(value, str) else shown_parameters(value)


def install_private_fields(cls: type) -> None:
    """Make each of ``cls``'s template fields named in :data:`PRIVATE_FIELDS` a :class:`PrivateField`."""
    for name in PRIVATE_FIELDS.intersection(getattr(cls, "template_fields", ())):
        if not isinstance(getattr(cls, name, None), PrivateField):
            descriptor = PrivateField()
            descriptor.__set_name__(cls, name)
            setattr(cls, name, descriptor)


@contextmanager
def working_values(task: Any) -> Iterator[None]:
    """Within this block ``task``'s private fields read as their real values (blocks may nest)."""
    if not any(isinstance(getattr(type(task), name, None), PrivateField) for name in PRIVATE_FIELDS):
        yield  # a task without private fields keeps no holder
        return
    _keep(task, replace(_holder(task), working=_holder(task).working + 1))
    try:
        yield
    finally:
        _keep(task, replace(_holder(task), working=max(0, _holder(task).working - 1)))


def _holder(task: Any) -> PrivateValues:
    held = task.__dict__.get(_HOLDER)
    if held is None:
        return PrivateValues()
    if held.owner is None or held.owner() is not task:  # a copy (copy.copy, deepcopy) starts closed
        return PrivateValues(held.values)
    return held


def _keep(task: Any, held: PrivateValues) -> None:
    # Straight into the instance's attributes, not through BaseOperator.__setattr__ (no template-field logic).
    task.__dict__[_HOLDER] = replace(held, owner=weakref.ref(task))
