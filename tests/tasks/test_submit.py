"""Submit once, against the simulator: no create without its recorded intent, a hard ceiling on
creates per generation, client request ids of their own, and requests keyed by their content."""

from __future__ import annotations

import pytest
from PIL import Image

from airflow_provider_kling.operators.kling import KlingImageToVideoOperator, KlingTextToVideoOperator
from airflow_provider_kling.operators.storyboard import KlingStoryboardOperator
from airflow_provider_kling.version_compat import AirflowFailException
from harness.airflow_context import (
    FakeStateStore,
    FakeTaskInstance,
    ForgetfulStore,
    LosesTheIdStore,
    RefusingStore,
    UnreadableStore,
    make_context,
)
from harness.inputs import write_image

pytestmark = pytest.mark.usefixtures("fresh_prices")


def text_task(**kwargs):
    return KlingTextToVideoOperator(wait_for_completion=False, task_id="t", **{"prompt": "a lighthouse", **kwargs})


def run(op, store=None, try_number=1, cleared=0, **context):
    """Try ``try_number`` of ``op``'s task instance, after a person cleared it ``cleared`` times (a retry: 0)."""
    ti = FakeTaskInstance(task_id=op.task_id, try_number=try_number, max_tries=cleared)
    return op.execute({**make_context(op, store=store, ti=ti), **context})


@pytest.mark.parametrize(
    ("store", "cause"),
    [
        (RefusingStore(), "PermissionError: [Errno 13] Permission denied: '/state/kling_generation'"),
        (ForgetfulStore(), "it was written but reads back as None"),
        (UnreadableStore(), "read from the task state store (TimeoutError: the execution API did not answer)"),
    ],
)
def test_no_create_is_sent_when_its_intent_cannot_be_recorded(simulator, store, cause):
    with pytest.raises(AirflowFailException) as failure:  # permanent: no retry storm
        run(text_task(), store=store)
    assert simulator.stats()["create_requests"] == 0  # it used to log the failure and pay anyway
    message = str(failure.value)
    assert "Nothing was sent: the record of this create could not be" in message
    assert "the task state store" in message
    assert cause in message


def test_a_variable_that_cannot_be_set_stops_the_payment_and_names_the_known_cause(simulator):
    # No task state store (Airflow 3.1/3.2): the ledger is a Variable, and Variable.set fails here for real
    # (no task runner to send it through), as it does on Airflow 3.1 with cryptography >= 51.
    op = text_task()
    with pytest.raises(AirflowFailException) as failure:
        op.execute({"task": op, "ti": FakeTaskInstance(task_id="t")})
    assert simulator.stats()["create_requests"] == 0
    message = str(failure.value)
    # Airflow 3.1 fails reading it back here, 3.3 writing it: either way nothing is sent.
    assert "Nothing was sent: the record of this create could not be" in message
    assert "the Variable 'kling_submission:dag:run:t:-1'" in message
    assert "with cryptography >= 51 every Variable.set fails" in message
    assert "install cryptography<51" in message


@pytest.mark.parametrize("store", [RefusingStore(), ForgetfulStore()])
def test_a_storyboard_whose_ledger_cannot_be_written_pays_for_nothing(simulator, tmp_path, store):
    pytest.importorskip("imageio_ffmpeg", reason="storyboards need the media extra (imageio-ffmpeg)")
    op = KlingStoryboardOperator(
        task_id="storyboard",
        shots=[{"prompt": "a mug", "duration": 5}, {"prompt": "steam", "duration": 5}],
        destination=str(tmp_path / "ad.mp4"),
        poll_interval=0.2,
    )
    with pytest.raises(AirflowFailException, match="Nothing was sent"):
        run(op, store=store)
    assert simulator.stats()["create_requests"] == 0


def test_a_lost_id_write_after_a_create_keeps_the_video_and_a_retry_finds_it_in_the_log(simulator, capsys):
    store = LosesTheIdStore()
    generation_id = run(text_task(), store=store)  # the video just paid for is not given up
    assert generation_id in simulator.stats()["generations"]
    assert "Could not record" in capsys.readouterr().out
    assert store.get("kling_generation")["generation_id"] is None  # only the intent was kept
    kept = FakeStateStore(dict(store.values))
    assert run(text_task(), store=kept, try_number=2) == generation_id  # reattached through the request log
    assert simulator.stats()["creates"] == 1
    assert kept.get("kling_generation")["generation_id"] == generation_id


def test_a_record_that_shows_a_create_it_cannot_account_for_stops_at_the_ceiling(simulator):
    store = FakeStateStore()
    run(text_task(), store=store)
    # The record says one create went out, names no generation and no client request id to look up.
    store.set("kling_generation", {**store.get("kling_generation"), "generation_id": None, "client_request_id": None})
    with pytest.raises(AirflowFailException) as failure:
        run(text_task(), store=store, try_number=2)
    assert simulator.stats()["create_requests"] == 1  # it used to read as no record and pay again
    assert "already sent 1 create(s) of this request" in str(failure.value)
    assert "ceiling of 1" in str(failure.value)


def test_a_failed_generation_counts_as_void_and_a_new_request_starts_a_new_count(simulator):
    store = FakeStateStore()
    run(text_task(prompt="x [sim:error]"), store=store)
    simulator.finish_renders()
    run(text_task(prompt="x [sim:error]"), store=store, try_number=2, cleared=1)  # a person cleared it: created anew
    assert (store.get("kling_generation")["creates"], store.get("kling_generation")["voided"]) == (2, 1)
    run(text_task(prompt="edited"), store=store, try_number=3, cleared=2)
    assert (store.get("kling_generation")["creates"], store.get("kling_generation")["voided"]) == (1, 0)
    assert simulator.stats()["creates"] == 3


def test_two_deployments_on_one_key_and_a_cleared_task_never_share_a_client_request_id(simulator):
    ids = []
    for store in (FakeStateStore(), FakeStateStore()):  # the same dag, run and task ids, two ledgers
        run(text_task(prompt="x [sim:error]"), store=store)
        ids.append(store.get("kling_generation")["client_request_id"])
        simulator.finish_renders()
        run(text_task(prompt="x [sim:error]"), store=store, try_number=2, cleared=1)  # cleared after it failed
        ids.append(store.get("kling_generation")["client_request_id"])
    assert len(set(ids)) == 4, ids
    assert all(client_id.startswith("kling:t:") for client_id in ids)


def test_a_photo_is_known_by_its_bytes(simulator, tmp_path):
    store = FakeStateStore()
    photo = write_image(tmp_path / "mug.png", 640, 640)
    first = run(
        KlingImageToVideoOperator(wait_for_completion=False, task_id="i", image=str(photo), prompt="turn"), store=store
    )
    # The same bytes under another name (a fresh work folder), the task cleared: the same request.
    moved = photo.rename(tmp_path / "moved.png")
    assert (
        run(
            KlingImageToVideoOperator(wait_for_completion=False, task_id="i", image=str(moved), prompt="turn"),
            store=store,
            cleared=1,
        )
        == first
    )
    # The photo edited in place and the task cleared: a new request, generated anew.
    Image.new("RGB", (640, 640), (10, 200, 90)).save(moved)
    second = run(
        KlingImageToVideoOperator(wait_for_completion=False, task_id="i", image=str(moved), prompt="turn"),
        store=store,
        cleared=2,
    )
    assert second != first
    assert simulator.stats()["creates"] == 2


def test_an_edited_first_shot_is_rendered_anew_and_the_next_shot_does_not_reattach_to_the_old_frame(
    simulator, tmp_path
):
    pytest.importorskip("imageio_ffmpeg", reason="storyboards need the media extra (imageio-ffmpeg)")
    simulator.configure(generation_seconds=1)
    store = FakeStateStore()

    def storyboard(first_prompt):
        return KlingStoryboardOperator(
            task_id="storyboard",
            shots=[{"prompt": first_prompt, "duration": 5}, {"prompt": "steam rising", "duration": 5}],
            destination=str(tmp_path / "ad.mp4"),
            overwrite=True,
            deferrable=False,
            poll_interval=0.2,
        )

    before = run(storyboard("a mug on a table"), store=store)["generation_ids"]
    after = run(storyboard("a red mug on a table"), store=store, try_number=2, cleared=1)["generation_ids"]
    assert simulator.stats()["creates"] == 4
    assert set(before).isdisjoint(after)  # shot 2 starts from the new shot 1's last frame: a new render


def test_an_edit_waits_for_a_clear_and_a_request_changed_back_finds_its_first_generation(simulator, capsys):
    store = FakeStateStore()
    first = run(text_task(prompt="a lighthouse"), store=store)
    # The DAG is edited while the task instance retries on its own (no clear): the retry carries on.
    assert run(text_task(prompt="a lighthouse at night"), store=store, try_number=2) == first
    assert simulator.stats()["create_requests"] == 1
    assert "This try asks for another request than the one generation" in capsys.readouterr().out
    # A person clears it: the edited request is generated; the first generation stays recorded.
    edited = run(text_task(prompt="a lighthouse at night"), store=store, try_number=3, cleared=1)
    assert edited != first
    assert list(store.get("kling_generation")["earlier"].values()) == [first]
    assert "stays recorded: it was paid for. Submitting the changed request anew" in capsys.readouterr().out
    # The edit is undone and the task cleared again: the first generation, not a third payment.
    assert run(text_task(prompt="a lighthouse"), store=store, try_number=4, cleared=2) == first
    assert list(store.get("kling_generation")["earlier"].values()) == [edited]
    assert simulator.stats()["create_requests"] == 2


def test_the_retries_after_a_clear_carry_on_with_the_generation_the_clear_reattached_to(simulator):
    store = FakeStateStore()
    first = run(text_task(prompt="a lighthouse"), store=store)
    assert run(text_task(prompt="a lighthouse"), store=store, try_number=2, cleared=1) == first  # cleared: reattached
    # Then the worker dies and the retry renders another prompt (a template, an edit): the same task instance's try.
    assert run(text_task(prompt="a lighthouse, reworded"), store=store, try_number=3, cleared=1) == first
    assert simulator.stats()["create_requests"] == 1  # the clear's reattach is recorded: the retry did not pay
