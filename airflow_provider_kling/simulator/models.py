"""The API's own view of every Kling video model: which path serves it and how it checks a body.

Written from ``shared/api/kling-models/INDEX.md`` and ``DOC-PAGES.md`` by hand, on purpose apart
from the provider's catalog and validator: the simulator plays the API, so a mistake in the
provider's catalog or in its JSON Schema handling must not be mirrored here. A path serves only the
models an operation documents on it (the legacy path: the v1/v1.6 text-to-video models and the
v1/v1.5/v1.6 image-to-video ones); any other model there is refused like an unknown one. The second
names the documentation pages list are accepted as the API's live catalogue accepts aliases. Messages follow the API's class-validator
style (``duration must be one of the following values: 5, 10``). Like the API, fields a model does
not document are ignored, except ``type`` and ``external_task_id`` on the unified path, which it
refuses (``property type should not exist``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

RATIOS = ("16:9", "9:16", "1:1")
CLASSIC_DURATIONS = (5, 10)
V3_DURATIONS = tuple(range(3, 16))
CAMERA_TYPES = ("simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward")
CAMERA_PRESETS = CAMERA_TYPES[1:]
AXES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")

Check = Callable[[str, Any], list[str]]


def _one_of(*values: Any) -> Check:
    def check(name: str, value: Any) -> list[str]:
        if isinstance(value, bool) or value not in values:
            return [f"{name} must be one of the following values: {', '.join(str(v) for v in values)}"]
        return []

    return check


def _text(max_length: int | None = None) -> Check:
    def check(name: str, value: Any) -> list[str]:
        if not isinstance(value, str):
            return [f"{name} must be a string"]
        if max_length is not None and len(value) > max_length:
            return [f"{name} must be shorter than or equal to {max_length} characters"]
        return []

    return check


def _unit_number(name: str, value: Any) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        return [f"{name} must not be greater than 1 and not less than 0"]
    return []


def _boolean(name: str, value: Any) -> list[str]:
    return [] if isinstance(value, bool) else [f"{name} must be a boolean value"]


def _any(name: str, value: Any) -> list[str]:
    return []


def _camera_object(name: str, value: Any) -> list[str]:
    if not isinstance(value, dict):
        return [f"{name} must be an object"]
    problems = _one_of(*CAMERA_TYPES)(f"{name}.type", value.get("type"))
    config = value.get("config")
    if config is not None:
        if not isinstance(config, dict):
            return [*problems, f"{name}.config must be an object"]
        for axis, amount in config.items():
            if axis not in AXES or isinstance(amount, bool) or not isinstance(amount, (int, float)):
                problems.append(f"{name}.config.{axis} must be a number")
            elif not -10 <= amount <= 10:
                problems.append(f"{name}.config.{axis} must not be greater than 10 and not less than -10")
    return problems


def _advanced_camera(name: str, value: Any) -> list[str]:
    problems = []
    move = value if isinstance(value, dict) else {}
    if move.get("movement_type") not in AXES:
        problems.append(f"{name}.movement_type must be one of the following values: {', '.join(AXES)}")
    amount = move.get("movement_value")
    if not isinstance(amount, int) or isinstance(amount, bool) or not -10 <= amount <= 10:
        problems.append(f"{name}.movement_value must be an integer from -10 to 10")
    return problems


def _list_of(check: Check, low: int = 0, high: int | None = None) -> Check:
    def check_list(name: str, value: Any) -> list[str]:
        if not isinstance(value, list):
            return [f"{name} must be an array"]
        problems = []
        if len(value) < low:
            problems.append(f"{name} must contain at least {low} elements")
        if high is not None and len(value) > high:
            problems.append(f"{name} must contain no more than {high} elements")
        for index, item in enumerate(value):
            problems += check(f"{name}.{index}", item)
        return problems

    return check_list


def _shot(name: str, value: Any) -> list[str]:
    if not isinstance(value, dict) or not isinstance(value.get("prompt"), str):
        return [f"{name}.prompt must be a string"]
    if "duration" in value:
        return _one_of(*range(1, 16))(f"{name}.duration", value["duration"])
    return []


def _element(name: str, value: Any) -> list[str]:
    if not isinstance(value, dict):
        return [f"{name} must be an object"]
    problems = _list_of(image, 1, 4)(f"{name}.reference_image_urls", value.get("reference_image_urls"))
    if "frontal_image_url" in value:
        problems += image(f"{name}.frontal_image_url", value["frontal_image_url"])
    if "video_url" in value:
        problems += video(f"{name}.video_url", value["video_url"])
    return problems


def _media(kind: str, valid: Callable[[bytes], bool]) -> Check:
    def check(name: str, value: Any) -> list[str]:
        if not isinstance(value, str) or not value:
            return [f"{name} must be a URL or a base64-encoded {kind}"]
        if value.startswith(("http://", "https://")):
            return []
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return [f"{name} must be a URL or a base64-encoded {kind}"]
        return [] if valid(data) else [f"{name} is not a valid {kind}"]

    return check


def is_image(data: bytes) -> bool:
    return data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"))


image = _media("image", is_image)
video = _media("video", lambda data: data[4:8] == b"ftyp")
audio = _media("audio", lambda data: len(data) > 0)


def _masks(name: str, value: Any) -> list[str]:
    def mask(item_name: str, item: Any) -> list[str]:
        if not isinstance(item, dict):
            return [f"{item_name} must be an object"]
        return image(f"{item_name}.mask", item.get("mask")) + _list_of(_any, 2, 77)(
            f"{item_name}.trajectories", item.get("trajectories")
        )

    return _list_of(mask, 0, 6)(name, value)


def _effect_image(name: str, value: Any) -> list[str]:
    return _list_of(image, 1)(name, value) if isinstance(value, list) else image(name, value)


@dataclass(frozen=True)
class SimModel:
    """How the API checks one model's body.

    :param fields: field -> its check (required ones listed in ``required``).
    :param paths: ``"legacy"`` and/or ``"unified"``.
    :param audio: whether the video it returns has a sound track by default.
    :param answer: the documented answer shape: ``"classic"`` (``video`` an object, ``credits_used``),
        ``"usd"`` (``usd_spent`` required beside ``credits_used``) or ``"omni"`` (``video`` an array of
        ``{url}``, ``usd_spent`` too).
    """

    required: tuple[str, ...]
    fields: dict[str, Check]
    paths: tuple[str, ...] = ("unified",)
    audio: str = ""  # "", "always", or a boolean field deciding it (default True)
    needs_text: bool = False
    legacy_fields: dict[str, Check] = field(default_factory=dict)
    answer: str = "classic"


def _classic_text(paths: tuple[str, ...] = ("unified",), **extra: Check) -> SimModel:
    return SimModel(
        required=("prompt",),
        fields={
            "prompt": _text(),
            "negative_prompt": _text(),
            "aspect_ratio": _one_of(*RATIOS),
            "duration": _one_of(*CLASSIC_DURATIONS),
            "cfg_scale": _unit_number,
            "camera_control": _one_of(*CAMERA_PRESETS),
            "advanced_camera_control": _advanced_camera,
            **extra,
        },
        paths=paths,
        legacy_fields={"camera_control": _camera_object, "external_task_id": _text(), "type": _any},
    )


def _classic_image(paths: tuple[str, ...] = ("unified",), *, required_prompt: bool = False) -> SimModel:
    return SimModel(
        required=("image_url", "prompt") if required_prompt else ("image_url",),
        fields={
            "image_url": image,
            "tail_image_url": image,
            "prompt": _text(),
            "negative_prompt": _text(),
            "duration": _one_of(*CLASSIC_DURATIONS),
            "cfg_scale": _unit_number,
            "static_mask": image,
            "dynamic_masks": _masks,
            "camera_control": _camera_object,
            "aspect_ratio": _one_of(*RATIOS),
        },
        paths=paths,
        legacy_fields={"external_task_id": _text(), "type": _any},
    )


def _v3(*, image_input: bool, turbo: bool, omni: bool = False) -> SimModel:
    fields: dict[str, Check] = {
        "prompt": _text(3072 if turbo else None),
        "duration": _one_of(*V3_DURATIONS),
        "multi_prompt": _list_of(_shot, 1, 6) if turbo else _list_of(_text()),
    }
    if not image_input or not turbo:
        fields["aspect_ratio"] = _one_of(*RATIOS)
    if not turbo:
        fields.update(
            shot_type=_one_of("customize", "intelligent", "intelligence"),
            generate_audio=_boolean,
            negative_prompt=_text(),
            cfg_scale=_unit_number,
        )
    if image_input:
        fields["image_url"] = image
        if not turbo:
            fields.update(tail_image_url=image, elements=_list_of(_element, 0, 4))
    return SimModel(
        required=("image_url",) if image_input else (),
        fields=fields,
        audio="" if turbo else "generate_audio",
        needs_text=not image_input,
        answer="omni" if omni else "classic",
    )


def _o1(*, video_input: bool, images: tuple[int, int], **extra: Check) -> SimModel:
    fields: dict[str, Check] = {
        "prompt": _text(2500),
        "image_list": _list_of(image, *images),
        "elements": _list_of(_element, 0, 4),
        **extra,
    }
    if video_input:
        fields.update(video_url=video, keep_audio=_boolean)
    return SimModel(
        required=("prompt", "video_url") if video_input else ("prompt",),
        fields=fields,
        # O1 keeps the source video's sound only when asked (keep_audio defaults to false).
        audio="keep_audio_false_default" if video_input else "",
    )


def _motion() -> SimModel:
    return SimModel(
        required=("image_url", "video_url"),
        fields={
            "prompt": _text(),
            "image_url": image,
            "video_url": video,
            "character_orientation": _one_of("image", "video"),
            "keep_audio": _boolean,
            "mode": _one_of("std", "pro"),
        },
        audio="keep_audio",
        answer="usd",
    )


def _effects() -> SimModel:
    return SimModel(
        required=("image_url", "effect_scene"),
        # The scene enum has 80 names; the API's list is the provider's business to mirror exactly.
        fields={"image_url": _effect_image, "effect_scene": _text(), "duration": _one_of(*CLASSIC_DURATIONS)},
    )


def _avatar() -> SimModel:
    return SimModel(
        required=("image_url", "audio_url"),
        fields={"image_url": image, "audio_url": audio, "prompt": _text(2500)},
        audio="always",
    )


BOTH_PATHS = ("legacy", "unified")

SIM_MODELS: dict[str, SimModel] = {
    "kling-video/v1/standard/text-to-video": _classic_text(BOTH_PATHS),
    "kling-video/v1/pro/text-to-video": _classic_text(BOTH_PATHS),
    "kling-video/v1.5/pro/text-to-video": _classic_text(),
    "kling-video/v1.6/standard/text-to-video": _classic_text(BOTH_PATHS),
    "kling-video/v1.6/pro/text-to-video": _classic_text(BOTH_PATHS),
    "klingai/v2-master-text-to-video": _classic_text(),
    "klingai/v2.1-master-text-to-video": _classic_text(),
    "klingai/v2.5-turbo/pro/text-to-video": _classic_text(),
    "klingai/video-v2-6-pro-text-to-video": SimModel(
        required=("prompt",),
        fields={
            "prompt": _text(2500),
            "aspect_ratio": _one_of(*RATIOS),
            "duration": _one_of(*CLASSIC_DURATIONS),
            "negative_prompt": _text(),
            "cfg_scale": _unit_number,
            "generate_audio": _boolean,
        },
        audio="generate_audio",
    ),
    "kling-video/v1/standard/image-to-video": _classic_image(BOTH_PATHS),
    "kling-video/v1/pro/image-to-video": _classic_image(BOTH_PATHS),
    "kling-video/v1.5/standard/image-to-video": _classic_image(BOTH_PATHS),
    "kling-video/v1.5/pro/image-to-video": _classic_image(),
    "kling-video/v1.6/standard/image-to-video": _classic_image(BOTH_PATHS, required_prompt=True),
    "kling-video/v1.6/pro/image-to-video": _classic_image(BOTH_PATHS),
    "kling-video/v2.1/standard/image-to-video": _classic_image(),
    "kling-video/v2.1/pro/image-to-video": _classic_image(),
    "klingai/v2-master-image-to-video": _classic_image(),
    "klingai/v2.1-master-image-to-video": _classic_image(),
    "klingai/v2.5-turbo/pro/image-to-video": _classic_image(required_prompt=True),
    "klingai/video-v2-6-pro-image-to-video": SimModel(
        required=("prompt", "image_url"),
        fields={
            "prompt": _text(2500),
            "image_url": image,
            "duration": _one_of(*CLASSIC_DURATIONS),
            "negative_prompt": _text(),
            "generate_audio": _boolean,
        },
        audio="generate_audio",
    ),
    "kling-video/v1.6/standard/multi-image-to-video": SimModel(
        required=("image_list",),
        fields={
            "image_list": _list_of(image, 2, 4),
            "prompt": _text(),
            "negative_prompt": _text(),
            "aspect_ratio": _one_of(*RATIOS),
            "duration": _one_of(*CLASSIC_DURATIONS),
        },
    ),
    "klingai/kling-video-v1.6-pro-effects": _effects(),
    "klingai/kling-video-v1.6-standard-effects": _effects(),
    "klingai/avatar-pro": _avatar(),
    "klingai/avatar-standard": _avatar(),
    "klingai/video-o1-image-to-video": SimModel(
        required=("prompt", "image_url"),
        fields={
            "prompt": _text(2500),
            "image_url": image,
            "last_image_url": image,
            "duration": _one_of(*CLASSIC_DURATIONS),
        },
    ),
    "klingai/video-o1-reference-to-video": _o1(
        video_input=False, images=(1, 7), aspect_ratio=_one_of(*RATIOS), duration=_one_of(*CLASSIC_DURATIONS)
    ),
    "klingai/video-o1-video-to-video-edit": _o1(video_input=True, images=(1, 7)),
    "klingai/video-o1-video-to-video-reference": _o1(
        video_input=True, images=(1, 4), aspect_ratio=_one_of(*RATIOS), duration=_one_of(*CLASSIC_DURATIONS)
    ),
    "klingai/video-v2-6-motion-control": _motion(),
    "klingai/video-v3-motion-control": _motion(),
    **{
        f"klingai/video-v3-{tier}-{mode}": _v3(image_input=mode == "image-to-video", turbo=False, omni="omni" in tier)
        for tier in ("pro", "standard", "omni-720p", "omni-1080p")
        for mode in ("text-to-video", "image-to-video")
    },
    **{
        f"klingai/video-v3-{tier}-{mode}": _v3(image_input=mode == "image-to-video", turbo=True)
        for tier in ("turbo-pro", "standard-turbo")
        for mode in ("text-to-video", "image-to-video")
    },
}


#: Second names the documentation pages list (DOC-PAGES.md), as the live catalogue's aliases.
ALIASES: dict[str, str] = {
    "kling-video/v3/turbo/pro/text-to-video": "klingai/video-v3-turbo-pro-text-to-video",
    "kling-video/v3/turbo/pro/image-to-video": "klingai/video-v3-turbo-pro-image-to-video",
    "kling-video/v3/turbo/standard/text-to-video": "klingai/video-v3-standard-turbo-text-to-video",
    "kling-video/v3/turbo/standard/image-to-video": "klingai/video-v3-standard-turbo-image-to-video",
    "klingai/video-v2-6-pro-motion-control": "klingai/video-v2-6-motion-control",
}


def sim_model(name: Any) -> SimModel | None:
    """The model a name means (its id or an alias), ``None`` for an unknown one."""
    if not isinstance(name, str):
        return None
    return SIM_MODELS.get(ALIASES.get(name, name))


def check_body(body: Any, *, unified: bool) -> list[str]:
    """The API's checks of a create body on one path (class-validator style messages)."""
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    path = "unified" if unified else "legacy"
    served = sorted(model for model, spec in SIM_MODELS.items() if path in spec.paths)
    model = sim_model(body.get("model"))
    if model is None or path not in model.paths:
        return [f"model must be one of the following values: {', '.join(served)}"]
    fields = dict(model.fields)
    if unified:
        problems = [f"property {name} should not exist" for name in ("external_task_id", "type") if name in body]
    else:
        fields.update(model.legacy_fields)
        problems = []
    for name in model.required:
        if body.get(name) in (None, ""):
            problems.append(f"{name} should not be empty")
    if model.needs_text and not body.get("prompt") and not body.get("multi_prompt"):
        problems.append("prompt should not be empty when multi_prompt is not given")
    for name, check in fields.items():
        if name in body and body[name] is not None:
            problems += check(name, body[name])
    return problems


def has_audio(body: dict[str, Any]) -> bool:
    """Whether the API's video for this body carries a sound track."""
    model = sim_model(body.get("model"))
    if model is None or not model.audio:
        return False
    if model.audio == "always":
        return True
    if model.audio == "keep_audio_false_default":
        return body.get("keep_audio") is True
    return body.get(model.audio, True) is not False
