"""KlingStoryboardOperator: several shots rendered in order, joined into one verified MP4."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_kling.events import result_from_event
from airflow_provider_kling.exceptions import KlingConfigurationError, KlingValidationError
from airflow_provider_kling.models import DEFAULT_IMAGE_MODEL, DEFAULT_MODEL
from airflow_provider_kling.models.cost import known_usd
from airflow_provider_kling.models.pricing import Quote, over_budget, parse_cap, usd
from airflow_provider_kling.models.storyboard import (
    DEFAULT_MAX_SECONDS,
    LAST_FRAME,
    MULTI_SHOT,
    SIDE_BY_SIDE,
    Storyboard,
    plan_storyboard,
)
from airflow_provider_kling.models.values import as_seconds
from airflow_provider_kling.operators.download import kling_videos_asset
from airflow_provider_kling.task_outputs import PROGRESS_XCOM_KEY
from airflow_provider_kling.tasks.delivering import check_destination_before_paying
from airflow_provider_kling.tasks.ledger import SubmissionLedger
from airflow_provider_kling.tasks.settle import settle_left_behind
from airflow_provider_kling.tasks.wait import KlingWaitingTask
from airflow_provider_kling.waiting import DEFAULT_POLL_INTERVAL, DEFAULT_WAIT_TIMEOUT

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_kling.tasks.submit import Submitted

#: The API's smallest image (shorter side, pixels): a last frame below it is enlarged to it.
MIN_IMAGE_SIDE = 300


class KlingStoryboardOperator(KlingWaitingTask):
    """
    Render a storyboard, shot after shot, and deliver the shots joined into one verified MP4.

    Every shot is checked before the first is paid for (models, fields, images, the total length
    and, with ``max_usd``, the total price). Each shot is one generation, paid once: its id is
    recorded the moment it exists, so a retry reattaches and resumes at the first unfinished shot.
    A shot is recorded by what it asks, not by its place: a shot added, moved or removed leaves
    every unchanged shot's generation found (with ``last_frame``, a shot also asks for the shots
    before it, so a change makes every later shot new); a shot changed back finds its generation.
    While a shot renders the task waits in the triggerer (no worker slot). The shots are then
    joined (sizes, frame rates and sound made uniform; optional crossfade), verified (it decodes,
    its length is the shots' within a frame per cut) and stored atomically with a poster, a
    contact sheet (``<video>.contact-sheet.jpg``, one labelled still per shot) and a sidecar
    (``<video>.kling.json``) listing each shot's generation id, length and cost. Needs the
    ``media`` extra (ffmpeg).

    .. seealso::
        The README's "Storyboards" section; ``dags/kling_storyboard.py``.

    :param shots: the shots in order (templated: may come from an upstream task's XCom): mappings
        with ``model``, ``parameters`` (any other field of the shot's model) and the named fields
        of :class:`KlingVideoOperator` (``prompt``, ``duration``, ``image``, ``tail_image`` ...).
    :param destination: the MP4 to write (templated): a path or URI (``s3://...``) ending in ``.mp4``.
    :param continuity: ``"last_frame"`` (default): each shot after the first starts from the
        previous shot's last frame (image-to-video); ``"none"``: shots rendered side by side;
        ``"multi_shot"``: one generation of a model that takes ``multi_prompt`` (Kling v3).
    :param model: the model of a shot that names none and starts from no image.
    :param image_model: the model of a shot that names none and starts from an image.
    :param crossfade: seconds each cut fades over (0: a hard cut), shorter than every shot.
    :param max_seconds: the longest storyboard accepted, in seconds.
    :param max_usd: the most the whole storyboard may cost, in US dollars (templated).
    :param overwrite: replace another video this product delivered at ``destination``. Never a file
        it did not write: a file of yours at the video's path or a companion's (or a video changed
        since it was delivered) is refused before the first shot is paid for, whatever this says.
    :param metadata: extra fields for the video's sidecar (templated), as for every generating operator.
    :param kling_conn_id: the Kling connection.
    :param deferrable: wait in the triggerer while a shot renders (default).
    :param poll_interval: seconds (or a ``timedelta``) between status polls.
    :param timeout: seconds (or a ``timedelta``) to wait for each shot.
    """

    template_fields: Sequence[str] = (
        "shots",
        "destination",
        "model",
        "image_model",
        "kling_conn_id",
        "max_usd",
        "metadata",
    )
    template_fields_renderers = {"shots": "json", "metadata": "json"}
    ui_color = "#fff0e6"

    def __init__(
        self,
        *,
        shots: Any,
        destination: Any,
        continuity: str = LAST_FRAME,
        model: str = DEFAULT_MODEL,
        image_model: str = DEFAULT_IMAGE_MODEL,
        crossfade: float = 0.0,
        max_seconds: float = DEFAULT_MAX_SECONDS,
        max_usd: float | str | None = None,
        overwrite: bool = False,
        metadata: dict[str, Any] | None = None,
        kling_conn_id: str = "kling_default",
        deferrable: bool = True,
        poll_interval: float | timedelta = DEFAULT_POLL_INTERVAL,
        timeout: float | timedelta = DEFAULT_WAIT_TIMEOUT,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("outlets", [kling_videos_asset()])
        super().__init__(**kwargs)
        self.shots = shots
        self.destination = destination
        self.continuity = continuity
        self.model = model
        self.image_model = image_model
        self.crossfade = crossfade
        self.max_seconds = max_seconds
        self.max_usd = max_usd
        self.overwrite = overwrite
        self.metadata = metadata
        self.kling_conn_id = kling_conn_id
        self.deferrable = deferrable
        self.poll_interval = as_seconds(poll_interval, "poll_interval")
        self.timeout = as_seconds(timeout, "timeout")

    def storyboard(self) -> Storyboard:
        """The shots as rendered for this run, checked (raises ``KlingValidationError``)."""
        return plan_storyboard(
            self.shots,
            continuity=self.continuity,
            model=self.model,
            image_model=self.image_model,
            max_seconds=self.max_seconds,
            crossfade=self.crossfade,
        )

    def run_task(self, context: Context) -> Any:
        from airflow_provider_kling.delivery.media import media_available

        board = self.storyboard()
        if not media_available():
            raise KlingConfigurationError(
                "Storyboards join their shots with ffmpeg: install airflow-provider-kling[media] on the workers"
            )
        room = self._check_destination()
        self._check_budget(board)
        self._ready_ledger(context, board)
        if board.continuity == SIDE_BY_SIDE:  # every shot renders at once; then they are waited for in order
            for index in range(len(board.shots)):
                self._submit(context, board, index, room)
        return self._advance(context, board, 0, room)

    def shot_finished(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after a shot finished rendering: go on with the next one, or deliver.

        Which shot it was is read from the ledger by the event's generation id (``airflow dags
        test`` drops a deferral's own resume arguments, keeping only the event).
        """
        with self.failure_semantics():
            result = self.finish(context, result_from_event(event))
            board = self.storyboard()
            self._ready_ledger(context, board)  # the shots may have been edited since the deferral
            slots = board.slots()
            finished = [
                n for n, slot in enumerate(slots) if self._recorded(context, slot, missing_ok=True) == result["id"]
            ]
            if not finished:  # not one of this storyboard's shots (edited since): check every shot again
                return self._advance(context, board, 0, self._check_destination())
            self._progress(context, board, finished[0] + 1)
            return self._advance(context, board, finished[0] + 1, self._check_destination())

    def _ready_ledger(self, context: Context, board: Storyboard) -> None:
        """List this board's slots in the ledger, after settling creates left pending by shots no longer planned."""
        settle_left_behind(self, context, board.slots(), model=board.shots[0].model)

    def _check_destination(self) -> Callable[[], None] | None:
        """The destination checked now; the check to make before a shot is paid for (see ``check_destination_before_paying``)."""
        return check_destination_before_paying(
            self.destination, self.overwrite, self.lineage_inputs(), one_file="a storyboard"
        )

    def _advance(self, context: Context, board: Storyboard, start: int, room: Callable[[], None] | None) -> Any:
        for index in range(start, _generations(board)):
            submitted = self._submit(context, board, index, room)
            self.log.info("Storyboard: %s is generation %s", _label(board, index), submitted.generation_id)
            self.wait_for(context, submitted, method_name="shot_finished")
            self._progress(context, board, index + 1)
        return self._deliver(context, board)

    def _submit(self, context: Context, board: Storyboard, index: int, room: Callable[[], None] | None) -> Submitted:
        """Shot ``index``'s generation: reattached to when recorded, else created (paid once)."""
        from airflow_provider_kling.delivery.scratch import scratch_folder
        from airflow_provider_kling.tasks.submit import submit_once

        slot = board.slots()[index]
        # A shot paid for anew makes another storyboard: ``room`` refuses it then if it could not be stored.
        if board.continuity == MULTI_SHOT:
            return submit_once(self, context, board.multi_shot_params(), ledger_slot=slot, before_create=room)
        if not board.starts_from_previous(index):
            return submit_once(self, context, board.shots[index].params(), ledger_slot=slot, before_create=room)
        previous = str(self._recorded(context, board.slots()[index - 1]))
        # A private folder (0700), gone on every path: the frame is read into the request before it is sent.
        with scratch_folder("storyboard-frame-") as folder:
            frame = self._first_frame(previous, index, folder)
            return submit_once(self, context, board.shots[index].params(frame), ledger_slot=slot, before_create=room)

    def _first_frame(self, previous: str, index: int, folder: Path) -> str:
        """The last frame of ``previous`` (shot ``index``'s generation) as a PNG in ``folder``, its clip fetched there too."""
        from airflow_provider_kling.delivery.deliver import download_generation
        from airflow_provider_kling.delivery.stitch import last_frame

        clip, frame = folder / f"shot-{index}.mp4", folder / f"shot-{index + 1}-first-frame.png"
        download_generation(self.hook, previous, clip, self.log)
        frame.write_bytes(last_frame(clip, min_short_side=MIN_IMAGE_SIDE))
        self.log.info("Storyboard: shot %d starts from shot %d's last frame (%s)", index + 1, index, frame.name)
        return str(frame)

    def _recorded(self, context: Context, slot: str, *, missing_ok: bool = False) -> str | None:
        """The generation id recorded in ``slot`` (a shot's, or the multi-shot generation's)."""
        record = SubmissionLedger(context, slot).load()
        if record is not None and record.generation_id is not None:
            return record.generation_id
        if missing_ok:
            return None
        raise KlingValidationError(
            [f"storyboard ledger slot {slot!r} has no recorded generation: clear the task to start over"]
        )

    def _check_budget(self, board: Storyboard) -> None:
        """Price every shot before the first is paid for; refuse the whole above ``max_usd``."""
        cap = parse_cap(self.max_usd)
        quotes = [self.hook.price(params) for params in board.planned_requests()]
        # No quote for one shot is no quote for the whole, saying which shot's model and why.
        unpriced = next((q for q in quotes if not q.known), None)
        low, high = sum(q.low or 0.0 for q in quotes), sum(q.high or 0.0 for q in quotes)
        total = unpriced or Quote(board.shots[0].model, low, high, f"{len(quotes)} generation(s)")
        self.log.info(
            "Storyboard of %d shots, %d s: price before paying %s",
            len(board.shots),
            board.seconds,
            usd(high) if total.known else f"unknown ({total.describe()})",
        )
        refused = over_budget(total, cap) if cap is not None else None
        if refused:
            raise KlingValidationError([f"storyboard: {refused}"])

    def _progress(self, context: Context, board: Storyboard, finished: int) -> None:
        total = _generations(board)
        self.log.info("Storyboard: %d of %d generation(s) finished", finished, total)
        context["ti"].xcom_push(key=PROGRESS_XCOM_KEY, value={"finished": finished, "total": total})

    def _deliver(self, context: Context, board: Storyboard) -> dict[str, Any]:
        from airflow_provider_kling.delivery.storyboard import FinishedShot, deliver_storyboard

        # One multi-shot generation holds every shot: the contact sheet shows each of them.
        parts = tuple(float(seconds) for seconds in board.shot_seconds()) if board.continuity == MULTI_SHOT else ()
        finished = []
        for index, slot in enumerate(board.slots()):
            generation = self.hook.get_generation(str(self._recorded(context, slot)))
            label = "Multi shot" if board.continuity == MULTI_SHOT else f"Shot {index + 1}"
            finished.append(FinishedShot(label, generation.id, dict(generation.usage), parts))
        delivery = deliver_storyboard(
            self.hook,
            finished,
            self.destination,
            crossfade=self.crossfade,
            overwrite=self.overwrite,
            metadata=self.metadata,
            delivered_by=self.delivered_by(context),
            logger=self.log,
        )
        generation_ids = [shot.generation_id for shot in finished]
        self.record_delivery(context, delivery, generation_ids, seconds=float(board.seconds))
        self.note_lineage(
            model=board.shots[0].model,
            generation_ids=generation_ids,
            duration_seconds=float(board.seconds),
            cost_usd=known_usd(delivery.cost),
        )
        return {**delivery.to_xcom(), "generation_ids": generation_ids}

    def lineage_inputs(self) -> list[Any]:
        return [shot.image for shot in self.storyboard().shots if shot.image is not None]

    def lineage_prompt(self) -> Any:
        return "\n".join(str(shot.prompt or "") for shot in self.storyboard().shots)


def _generations(board: Storyboard) -> int:
    return 1 if board.continuity == MULTI_SHOT else len(board.shots)


def _label(board: Storyboard, index: int) -> str:
    if board.continuity == MULTI_SHOT:
        return f"the multi-shot generation ({len(board.shots)} shots)"
    return f"shot {index + 1} of {len(board.shots)}"
