"""Seeded, deterministic fault injection for the simulator.

A fault is chosen per request from a seeded RNG, so a run with the same seed and the same request
order injects the same faults. Create requests (POST) only get faults that provably happen before a
generation is created (429, 503) unless ``post_ambiguous_rate`` asks for the ambiguous kind
(the generation is created, then the response is lost), which the client must never retry.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

#: Faults for status requests, with their relative weights.
GET_FAULTS: dict[str, int] = {
    "500_json": 2,
    "502_html": 2,
    "503": 1,
    "504_timeout": 1,
    "429_retry_after": 2,
    "429_bare": 1,
    "reset": 2,
    "slow": 1,
    "bad_json": 2,
}
#: Faults a create request may get without a generation being created.
POST_REFUSALS: dict[str, int] = {"429_retry_after": 2, "429_bare": 1, "503": 1}
#: Faults after the generation was created: the client cannot know it exists.
POST_AMBIGUOUS: dict[str, int] = {"502_html": 1, "reset": 1, "bad_json": 1, "504_timeout": 1}


@dataclass
class FaultPlan:
    """Which faults to inject.

    :param rate: share of API requests that fail (0..1).
    :param post_ambiguous_rate: share of create requests that create the generation and then fail.
    :param seed: RNG seed; the same seed gives the same sequence of decisions.
    :param kinds: restrict GET faults to these kinds (default: all).
    """

    rate: float = 0.0
    post_ambiguous_rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = ()
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def _pick(self, weights: dict[str, int]) -> str:
        names = [k for k in weights if not self.kinds or k in self.kinds] or list(weights)
        return self._rng.choices(names, weights=[weights[n] for n in names])[0]

    def for_get(self) -> str | None:
        if self.rate and self._rng.random() < self.rate:
            return self._pick(GET_FAULTS)
        return None

    def for_post(self) -> tuple[str | None, str | None]:
        """(fault before creating, fault after creating); at most one is set."""
        if self.rate and self._rng.random() < self.rate:
            return self._pick(POST_REFUSALS), None
        if self.post_ambiguous_rate and self._rng.random() < self.post_ambiguous_rate:
            return None, self._pick(POST_AMBIGUOUS)
        return None, None
