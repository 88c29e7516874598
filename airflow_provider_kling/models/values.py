"""Small value helpers shared by the models: the endpoint names, number checks, text for messages."""

from __future__ import annotations

import json
import math
import numbers
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeGuard

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.media_values import scrub_queries, shown_parameters

#: The two create paths' names (their paths: ``models.request.ENDPOINT_PATHS``).
LEGACY_ENDPOINT = "legacy"
UNIFIED_ENDPOINT = "unified"


def allowed(values: Any) -> str:
    """Allowed values as an error message lists them: strings quoted, numbers as they are."""
    return ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)


def is_number(value: Any) -> bool:
    """A real int or float; ``True``/``False`` are not numbers here."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_money(value: Any) -> TypeGuard[float]:
    """Whether ``value`` is a money figure one can add up: a finite, non-negative JSON number.

    A price, a balance, a cost or a usage figure (dollars, credits) read from the API's JSON. Not
    money: NaN, ``Infinity``, ``-Infinity``, a number too large for a float (``1e999`` reads as
    infinity), a negative number, ``None``, ``True``/``False``, and **a string, even one that spells a
    number** (``"0.5"``): the API documents these figures as JSON numbers, so a string means the
    answer is not what the contract says, and its figure is unknown rather than guessed.
    """
    if not is_number(value):
        return False
    try:
        number = float(value)
    except OverflowError:  # an integer beyond any float
        return False
    return math.isfinite(number) and number >= 0


def length_seconds(value: Any) -> float | None:
    """``value`` as a video's length: a finite JSON number above 0, else ``None`` (not recorded)."""
    return float(value) if is_money(value) and value > 0 else None


#: The longest span of seconds accepted (a wait, a connection's timeouts): a year. Sockets refuse
#: far longer ones, and ``timedelta`` overflows, only once a request is on its way.
MAX_SECONDS = 365 * 86400.0


def as_seconds(value: Any, what: str, *, most: float = MAX_SECONDS) -> float:
    """``value``, a number of seconds or a ``timedelta``, as seconds: above 0 and at most ``most``.

    :param what: how the error names the value (``"timeout"``, ``"poll_interval"``).
    :raises KlingValidationError: for text, ``True``/``False``, NaN, infinity, zero, a negative
        number or ``timedelta``, or more than ``most``.
    """
    number = value.total_seconds() if isinstance(value, timedelta) else value
    try:  # any real number type: numpy's, Decimal, Fraction (not True/False, not text)
        real = isinstance(number, (numbers.Real, Decimal)) and not isinstance(number, bool)
        good = real and math.isfinite(float(number)) and 0 < float(number) <= most
    except (OverflowError, ArithmeticError, ValueError):  # beyond any float; a signalling Decimal NaN
        good = False
    if not good:
        limit = " (a year)" if most == MAX_SECONDS else ""
        raise KlingValidationError(
            [
                f"{what} must be a number of seconds or a timedelta, above 0 and at most {most:.0f}{limit}; "
                f"got {describe(value)}"
            ]
        )
    return float(number)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``...`` when cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(value: Any, limit: int = 60) -> str:
    """A value as it appears in an error message: its ``repr``, shortened.

    URLs lose their query and inline data shows as its length (see ``media_values.shown_parameters``).
    """
    return shorten(repr(shown_parameters(value)), limit)


def preview_json(value: Any, limit: int = 300) -> str:
    """A JSON-ish preview of an API body for an error message, shortened; URLs without their query."""
    value = shown_parameters(value)
    try:
        text = json.dumps(value, default=str, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return shorten(scrub_queries(text), limit)
