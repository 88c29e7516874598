"""How often a wait polls: sparse while no render of the model can be finished, then every interval.

Pure decisions, no I/O: the floors per model family, the delay before the next poll, and the
renders a process has seen (:class:`RenderHistory`; :data:`RENDER_HISTORY` is the one of this
process, shared by its waits, with a reset). :mod:`airflow_provider_kling.waiting` applies them.
"""

from __future__ import annotations

from airflow_provider_kling.models.catalog import is_catalogued

MIN_POLL_INTERVAL = 0.1

# The adaptive schedule (see next_poll_delay): sparse while no render can be finished yet.
#: Seconds no render of a model family finishes in, counted from when the generation was last seen
#: queued (or was created). Kling documents renders of about 1 to 5 minutes; the turbo models are
#: built for speed, so they get a short floor. A model outside the catalog gets none.
RENDER_FLOORS: dict[str, float] = {"standard": 60.0, "turbo": 15.0}
#: The floor never exceeds this many poll intervals: a short ``poll_interval`` (a fast simulator, a
#: demo) says renders are expected quickly.
FLOOR_FACTOR = 9.0
#: Before the floor, polls are at most this many intervals (and this many seconds) apart: the log
#: still tells each status change, and a wrong floor costs little.
SPARSE_FACTOR, SPARSE_CAP = 3.0, 30.0
#: A render seen to finish within ``u`` seconds lowers its model's floor to ``LEARNED_MARGIN * u``.
LEARNED_MARGIN = 0.8
#: After this many renders of a model the floor is what was seen, even above the family's prior.
TRUSTED_RENDERS = 5


def next_poll_delay(poll_interval: float, remaining: float, *, until_possible: float | None = None) -> float:
    """Seconds until the next poll.

    Renders take a while: polling every ``poll_interval`` from the start spends requests (and the
    account's rate limit) on answers that cannot be "completed" yet. So while no render of the
    model can be finished (``until_possible`` seconds from now, see
    :meth:`WaitProgress.earliest_completion`), polls are sparse -- ``3 x poll_interval`` apart, at
    most 30 s, landing exactly at the moment completion becomes possible -- and every
    ``poll_interval`` from then on, as a fixed loop would. Never more often than
    ``poll_interval``, never past the deadline (``remaining``).
    """
    interval = max(poll_interval, MIN_POLL_INTERVAL)
    if until_possible is not None and until_possible > interval:
        interval = min(until_possible, max(interval, min(SPARSE_FACTOR * poll_interval, SPARSE_CAP)))
    return max(0.0, min(interval, remaining))


def render_floor_prior(model: str | None, poll_interval: float) -> float:
    """The floor a model's family starts with (no render of it finishes sooner), see :data:`RENDER_FLOORS`."""
    if not model or not is_catalogued(model):
        return 0.0
    family = "turbo" if "turbo" in model else "standard"
    return min(RENDER_FLOORS[family], FLOOR_FACTOR * max(poll_interval, MIN_POLL_INTERVAL))


class RenderHistory:
    """The shortest renders one process (a triggerer, a worker) has seen, per model and overall.

    A model's floor is its family's prior until renders of it are seen: a render seen finishing
    sooner lowers it at once (a wrong prior costs one late detection, not a batch of them), and
    after :data:`TRUSTED_RENDERS` renders the floor is what was seen (``LEARNED_MARGIN`` x the
    shortest), higher or lower than the prior. A wait that does not know its model (a sensor) gets
    a floor only from what was seen: the shortest render of any model, so it is never sparser
    than the fastest family this process has met. Never more than ``FLOOR_FACTOR`` poll intervals.
    """

    _ANY = ""

    def __init__(self) -> None:
        self._shortest: dict[str, float] = {}
        self._seen: dict[str, int] = {}

    def reset(self) -> None:
        """Forget every render seen, as a fresh process would (its owner starting afresh; tests)."""
        self._shortest.clear()
        self._seen.clear()

    def record(self, model: str | None, seconds: float | None) -> None:
        """Remember that a render of ``model`` (``None``: not known) took at most ``seconds``."""
        if seconds is None:
            return
        for key in {model or self._ANY, self._ANY}:
            self._shortest[key] = min(seconds, self._shortest.get(key, seconds))
            self._seen[key] = self._seen.get(key, 0) + 1

    def floor(self, model: str | None, poll_interval: float) -> float:
        """The floor to wait with (see the class)."""
        key = model or self._ANY
        shortest, seen = self._shortest.get(key), self._seen.get(key, 0)
        prior = render_floor_prior(model, poll_interval)
        if shortest is None:
            return prior
        learned = min(LEARNED_MARGIN * shortest, FLOOR_FACTOR * max(poll_interval, MIN_POLL_INTERVAL))
        return learned if model is None or seen >= TRUSTED_RENDERS else min(prior, learned)


#: The renders this process (a triggerer, a worker) has seen, shared by its waits.
RENDER_HISTORY = RenderHistory()
