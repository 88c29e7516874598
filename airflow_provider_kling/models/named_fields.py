"""The request fields every generating entry point takes by name, and the request field each one fills.

One table for the operators' arguments, a storyboard shot's keys and the dict a ``@task.kling_video``
function returns, so the same name means the same thing everywhere. Most arguments fill the field of
the same name; a media argument drops the API's ``_url`` suffix (``image`` fills ``image_url``) and
takes that suffixed name as its other name. What a model calls its last frame depends on the model
(``tail_image_url``, ``last_image_url`` on O1): ``tail_image`` fills whichever the model has.
Fields left out (``provider``, ``type``, ``ratio``, ``mode``) go in ``parameters``.

Pure: no I/O, no Airflow import.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.catalog import get_model, is_catalogued

#: Argument name -> the request fields it may fill, the first one the model has winning.
NAMED_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "prompt": ("prompt",),
        "negative_prompt": ("negative_prompt",),
        "duration": ("duration",),
        "aspect_ratio": ("aspect_ratio",),
        "cfg_scale": ("cfg_scale",),
        "image": ("image_url",),
        "tail_image": ("tail_image_url", "last_image_url"),
        "generate_audio": ("generate_audio",),
        "camera_control": ("camera_control",),
        "advanced_camera_control": ("advanced_camera_control",),
        "multi_prompt": ("multi_prompt",),
        "shot_type": ("shot_type",),
        "effect_scene": ("effect_scene",),
        "image_list": ("image_list",),
        "elements": ("elements",),
        "video": ("video_url",),
        "keep_audio": ("keep_audio",),
        "character_orientation": ("character_orientation",),
        "audio": ("audio_url",),
        "static_mask": ("static_mask",),
        "dynamic_masks": ("dynamic_masks",),
        "external_task_id": ("external_task_id",),
    }
)
#: A request field's name accepted for the argument it fills (``image_url=`` is ``image=``).
ALIASES: Mapping[str, str] = MappingProxyType(
    {field: name for name, fields in NAMED_FIELDS.items() for field in fields if field != name}
)
#: Arguments that carry media (a URL, a path, inline data): kept out of what Airflow shows.
MEDIA_ARGUMENTS = frozenset(
    {"image", "tail_image", "image_list", "elements", "video", "audio", "static_mask", "dynamic_masks"}
)


def is_named(key: str) -> bool:
    """Whether ``key`` is a named argument or one of its other names."""
    return key in NAMED_FIELDS or key in ALIASES


def by_argument_name(values: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """``values`` (named arguments, some perhaps by their other names) keyed by argument name.

    ``None`` means "not given". One field given under both its names is refused.

    :param where: what the values belong to, for the error (``"shot 2: "``).
    :raises KlingValidationError: naming both names of every field given twice.
    """
    named: dict[str, Any] = {}
    problems = []
    for key, value in values.items():
        if value is None:
            continue
        name = ALIASES.get(key, key)
        if name in named:
            problems.append(f"{where}{name} and {key} are two names of one field: give one")
        named[name] = value
    if problems:
        raise KlingValidationError(problems)
    return named


def split_named(values: Mapping[str, Any], where: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """``values`` as (named arguments by argument name, every other key as it is)."""
    named = by_argument_name({key: value for key, value in values.items() if is_named(key)}, where)
    return named, {key: value for key, value in values.items() if not is_named(key)}


def request_field(argument: str, model: Any) -> str:
    """The request field ``argument`` fills on ``model``: the first of its fields the catalog says it has."""
    fields = NAMED_FIELDS[argument]
    if isinstance(model, str) and is_catalogued(model):
        spec = get_model(model)
        return next((field for field in fields if spec.accepts(field)), fields[0])
    return fields[0]


def request_params(
    model: Any, named: Mapping[str, Any], parameters: Mapping[str, Any], where: str = ""
) -> dict[str, Any]:
    """The request: ``model``, ``parameters``, and each named argument given under its request field.

    :param named: argument name (or other name) -> value; ``None`` is "not given".
    :raises KlingValidationError: a field set both by name and in ``parameters``, or under both its names.
    """
    params: dict[str, Any] = {"model": model, **parameters}
    problems = []
    for argument, value in by_argument_name(named, where).items():
        field = request_field(argument, model)
        if params.get(field) is not None:
            problems.append(f"{where}{field} is set both as {argument}= and in parameters; set it once")
        params[field] = value
    if problems:
        raise KlingValidationError(problems)
    return params
