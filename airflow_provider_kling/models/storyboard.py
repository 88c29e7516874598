"""Storyboards: an ordered list of shots checked as a whole before the first one is paid for.

Pure: what each shot asks for, which model renders it and how shots follow one another
(``continuity``); every problem is reported at once, naming the shot, the model and the field.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.catalog import get_model
from airflow_provider_kling.models.named_fields import NAMED_FIELDS, by_argument_name, is_named, request_params
from airflow_provider_kling.models.request import DEFAULT_IMAGE_MODEL, DEFAULT_MODEL, build_create_body
from airflow_provider_kling.models.values import allowed, describe, is_number

LAST_FRAME, SIDE_BY_SIDE, MULTI_SHOT = "last_frame", "none", "multi_shot"
CONTINUITY = (LAST_FRAME, SIDE_BY_SIDE, MULTI_SHOT)
#: The longest storyboard accepted unless ``max_seconds`` says otherwise (a minute: an ad, a reel).
DEFAULT_MAX_SECONDS = 60
SHOT_KEYS = ("model", "parameters", *NAMED_FIELDS)
SHOT_KEYS_TEXT = "model, parameters and KlingVideoOperator's named fields (prompt, duration, image, tail_image ...)"
#: Stands for the previous shot's last frame while the shots are checked (it does not exist yet).
FRAME_PLACEHOLDER = "https://frames.invalid/previous-shot-last-frame.png"


@dataclass(frozen=True)
class Shot:
    """One shot: what it shows, for how long, from which image, with which model."""

    prompt: str | None
    duration: int | None
    image: Any
    model: str
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def params(self, first_frame: Any = None) -> dict[str, Any]:
        """The shot's request fields; ``first_frame`` (the previous shot's last frame) as its image."""
        image = first_frame if first_frame is not None else self.image
        values = {"prompt": self.prompt, "duration": self.duration, "image_url": image}
        return {"model": self.model, **self.parameters, **{k: v for k, v in values.items() if v is not None}}


@dataclass(frozen=True)
class Storyboard:
    """The checked shots, how they follow one another, and their length in seconds."""

    shots: tuple[Shot, ...]
    continuity: str
    seconds: int

    def shot_seconds(self) -> list[int]:
        """Each shot's length in seconds (its duration, else its model's default)."""
        return [_seconds(shot) for shot in self.shots]

    def starts_from_previous(self, index: int) -> bool:
        """Whether shot ``index`` starts from the previous shot's last frame."""
        return self.continuity == LAST_FRAME and index > 0

    def slots(self) -> list[str]:
        """Where each generation is recorded, named by what it asks rather than by its place.

        Side by side (``none``), a shot is a request of its own: an unchanged shot finds its
        generation wherever it moved, identical shots told apart by their count. From the last frame,
        a shot's request holds the shot before it: its slot names the shots up to it, so an edited,
        inserted or removed shot makes every later one new. A multi-shot storyboard is one generation.
        """
        if self.continuity == MULTI_SHOT:
            return ["multi-shot"]
        slots: list[str] = []
        seen: Counter[str] = Counter()
        for shot in self.shots:
            asked = _digest(shot.params())
            seen[asked] += 1
            if self.continuity == LAST_FRAME:
                slots.append(f"shot-{_digest([slots[-1] if slots else None, asked])}")
            else:
                slots.append(f"shot-{asked}-{seen[asked]}")
        return slots

    def planned_requests(self) -> list[dict[str, Any]]:
        """What each generation will ask for (to check and price it), a last frame still to come as a placeholder."""
        if self.continuity == MULTI_SHOT:
            return [self.multi_shot_params()]
        return [
            shot.params(FRAME_PLACEHOLDER if self.starts_from_previous(n) else None)
            for n, shot in enumerate(self.shots)
        ]

    def multi_shot_params(self) -> dict[str, Any]:
        """The one generation a ``multi_shot`` storyboard is: its shots as ``multi_prompt``.

        Turbo models take ``{prompt, duration}`` items; the others strings, the generation's
        ``duration`` being the shots' total.
        """
        first = self.shots[0]
        params = {k: v for k, v in first.params().items() if k not in ("prompt", "duration")}
        if _takes_shot_items(get_model(first.model)):
            return {**params, "multi_prompt": [{"prompt": s.prompt, "duration": _seconds(s)} for s in self.shots]}
        return {**params, "duration": self.seconds, "multi_prompt": [s.prompt for s in self.shots]}


def plan_storyboard(
    shots: Any,
    *,
    continuity: str = LAST_FRAME,
    model: str = DEFAULT_MODEL,
    image_model: str = DEFAULT_IMAGE_MODEL,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    crossfade: float = 0.0,
) -> Storyboard:
    """Check ``shots`` as a whole; the :class:`Storyboard` to render.

    A shot's length is its ``duration``, else its ``parameters["duration"]``, else its model's
    default; given both ways, the two must agree. That length counts towards ``max_seconds``.

    :param shots: a list of mappings with ``prompt``, ``duration``, ``image`` (URL or storage
        path), ``model`` and ``parameters`` (any other field of the model), all optional but as
        the shot's model requires.
    :param continuity: ``last_frame``, ``none`` or ``multi_shot`` (see the README's Storyboards).
    :param model: the model of a shot that names none and starts from no image.
    :param image_model: the model of a shot that names none and starts from an image (its own,
        or the previous shot's last frame).
    :param max_seconds: the longest storyboard accepted (a positive number of seconds).
    :param crossfade: seconds each cut fades over: at least 0 and shorter than the shortest shot.
    :raises KlingValidationError: listing every problem, each naming the shot.
    """
    if continuity not in CONTINUITY:
        raise KlingValidationError([f"continuity={continuity!r} is not allowed; allowed values: {allowed(CONTINUITY)}"])
    if not isinstance(shots, Sequence) or isinstance(shots, (str, bytes)) or not shots:
        raise KlingValidationError([f"a storyboard needs a list of at least one shot, got {describe(shots)}"])
    problems = _option_problems(max_seconds, crossfade)
    planned = []
    for index, raw in enumerate(shots):
        shot, shot_problems = _shot(index, raw, continuity, model, image_model)
        problems += shot_problems
        if shot is not None:
            planned.append(shot)
    if problems:
        raise KlingValidationError(problems)
    board = Storyboard(tuple(planned), continuity, sum(_seconds(shot) for shot in planned))
    problems += _multi_shot_problems(board) if continuity == MULTI_SHOT else _shot_request_problems(board)
    if board.seconds > max_seconds:
        problems.append(f"the shots last {board.seconds} s in all, more than max_seconds={max_seconds}")
    problems += _crossfade_problems(board, crossfade)
    if problems:
        raise KlingValidationError(problems)
    return board


def _option_problems(max_seconds: Any, crossfade: Any) -> list[str]:
    """``max_seconds`` and ``crossfade`` as numbers a storyboard can be measured against."""
    problems = []
    if not is_number(max_seconds) or not math.isfinite(max_seconds) or max_seconds <= 0:
        problems.append(f"max_seconds must be a positive number of seconds, got {describe(max_seconds)}")
    if not is_number(crossfade) or not math.isfinite(crossfade) or crossfade < 0:
        problems.append(f"crossfade must be a number of seconds, at least 0, got {describe(crossfade)}")
    return problems


def _crossfade_problems(board: Storyboard, crossfade: float) -> list[str]:
    """A crossfade must end before the shot it fades out of does (a multi-shot generation has no cuts)."""
    if board.continuity == MULTI_SHOT or len(board.shots) < 2:
        return []
    lengths = board.shot_seconds()
    shortest = min(range(len(lengths)), key=lengths.__getitem__)
    if round(crossfade, 3) < lengths[shortest]:  # joined to the millisecond
        return []
    return [
        f"crossfade={crossfade:g} must be shorter than the shortest shot "
        f"(shot {shortest + 1}, {lengths[shortest]} s): every shot must show before the next fades in"
    ]


def _shot(index: int, raw: Any, continuity: str, model: str, image_model: str) -> tuple[Shot | None, list[str]]:
    name = f"shot {index + 1}"
    if not isinstance(raw, Mapping):
        return None, [f"{name} must be a mapping with {SHOT_KEYS_TEXT}, got {describe(raw)}"]
    unknown = sorted(key for key in raw if key not in ("model", "parameters") and not is_named(key))
    if unknown:
        return None, [
            f"{name}: unknown key(s) {', '.join(unknown)}; allowed keys: {SHOT_KEYS_TEXT} (other fields go in parameters)"
        ]
    parameters = raw.get("parameters") or {}
    if not isinstance(parameters, Mapping):
        return None, [f"{name}: parameters must be a mapping, got {describe(parameters)}"]
    try:
        named = by_argument_name({k: v for k, v in raw.items() if is_named(k)}, f"{name}: ")
    except KlingValidationError as err:
        return None, err.problems
    from_image = named.get("image") is not None or (continuity == LAST_FRAME and index > 0)
    chosen = str(raw.get("model") or (image_model if from_image else model))
    duration, problems = _duration(name, named.pop("duration", None), parameters.get("duration"))
    if problems:
        return None, problems
    try:  # every named field joins parameters under its request name, each given once
        fields = request_params(chosen, named, {k: v for k, v in parameters.items() if k != "duration"}, f"{name}: ")
    except KlingValidationError as err:
        return None, err.problems
    prompt, image = fields.pop("prompt", None), fields.pop("image_url", None)  # a shot's own, however given
    return Shot(prompt, duration, image, chosen, {k: v for k, v in fields.items() if k != "model"}), []


def _duration(name: str, given: Any, in_parameters: Any) -> tuple[int | None, list[str]]:
    """The shot's length asked for, from ``duration`` or ``parameters.duration`` (which must agree)."""
    lengths, problems = {}, []
    for key, value in (("duration", given), ("parameters.duration", in_parameters)):
        seconds = _whole_seconds(value) if value is not None else None
        if seconds is not None:
            lengths[key] = seconds
        elif value is not None:
            problems.append(f"{name}: {key} must be a whole number of seconds above 0, got {describe(value)}")
    if not problems and len(set(lengths.values())) > 1:
        problems.append(
            f"{name}: duration={given!r} and parameters.duration={in_parameters!r} disagree; "
            "give the shot's length once, as duration"
        )
    return (None, problems) if problems else (next(iter(lengths.values()), None), [])


def _whole_seconds(value: Any) -> int | None:
    """``value`` as a whole number of seconds above 0 (``5``, ``5.0``, ``"5"``), else ``None``."""
    if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 9:
        value = int(value.strip())
    if not is_number(value) or not math.isfinite(value) or value != int(value) or value <= 0:
        return None
    return int(value)


def _digest(value: Any) -> str:
    """16 hex digits naming ``value`` (as JSON; anything JSON does not know by its text)."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _seconds(shot: Shot) -> int:
    """The shot's length: its duration, else its model's documented default, else 5."""
    if shot.duration is not None:
        return shot.duration
    try:
        default = get_model(shot.model).default("duration")
    except KlingValidationError:
        return 5
    return int(default) if str(default).isdigit() else 5


def _shot_request_problems(board: Storyboard) -> list[str]:
    """Each shot's request, checked as it will be sent (the previous last frame as a placeholder)."""
    problems = []
    requests = board.planned_requests()
    for index, shot in enumerate(board.shots):
        name = f"shot {index + 1}"
        if board.starts_from_previous(index):
            if shot.image is not None:
                problems.append(
                    f"{name}: has an image, but continuity='last_frame' starts it from shot {index}'s last frame"
                )
                continue
            if not _takes_image(shot.model):
                problems.append(
                    f"{name}: model {shot.model} takes no image, so it cannot start from shot {index}'s last frame "
                    f"(continuity='last_frame'); use an image-to-video model such as {DEFAULT_IMAGE_MODEL}"
                )
                continue
        problems += _request_problems(name, requests[index])
    return problems


def _multi_shot_problems(board: Storyboard) -> list[str]:
    first = board.shots[0]
    problems = []
    if any(shot.model != first.model for shot in board.shots):
        problems.append("continuity='multi_shot' is one generation: every shot must use the same model")
    if any(shot.image is not None for shot in board.shots[1:]):
        problems.append("continuity='multi_shot' is one generation: only shot 1 may have an image")
    try:
        spec = get_model(first.model)
    except KlingValidationError as err:
        return [*problems, *err.problems]
    if not spec.accepts("multi_prompt"):
        return [*problems, f"model {first.model} takes no multi_prompt, so it cannot render continuity='multi_shot'"]
    schema = spec.fields().get("multi_prompt", {})
    most = schema.get("maxItems")
    if most is not None and len(board.shots) > most:
        problems.append(f"model {first.model} takes at most {most} shots in multi_prompt, got {len(board.shots)}")
    longest = max((v for v in spec.fields().get("duration", {}).get("enum", []) if isinstance(v, int)), default=None)
    if longest is not None and board.seconds > longest:
        problems.append(
            f"model {first.model} renders at most {longest} s in one generation, the shots last {board.seconds} s"
        )
    if any(not shot.prompt for shot in board.shots):
        problems.append("continuity='multi_shot': every shot needs a prompt")
    if problems:
        return problems
    return _request_problems("the multi-shot generation", board.planned_requests()[0])


def _request_problems(name: str, params: Mapping[str, Any]) -> list[str]:
    try:
        build_create_body(params)  # unset (None) fields are left out there
    except KlingValidationError as err:
        return [f"{name}: {problem}" for problem in err.problems]
    return []


def _takes_image(model: str) -> bool:
    try:
        return get_model(model).accepts("image_url")
    except KlingValidationError:
        return False


def _takes_shot_items(spec: Any) -> bool:
    """Whether ``multi_prompt`` takes ``{prompt, duration}`` items (turbo) rather than strings."""
    items = spec.fields().get("multi_prompt", {}).get("items", {})
    return items.get("type") == "object"
