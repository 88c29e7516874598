"""The storyboard operator against the simulator: each shot paid once, priced as a whole first,
rendered side by side or one after the other, joined in order; a retry pays only for what is left."""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace

import pytest
from PIL import Image

from airflow_provider_kling.delivery import stitch
from airflow_provider_kling.delivery.pages import THUMB_WIDTH
from airflow_provider_kling.exceptions import KlingGenerationFailed
from airflow_provider_kling.models.storyboard import plan_storyboard
from airflow_provider_kling.models.video_records import VIDEO_RECORD_XCOM_KEY
from airflow_provider_kling.operators.storyboard import PROGRESS_XCOM_KEY, KlingStoryboardOperator
from airflow_provider_kling.simulator.video import clip_colour
from airflow_provider_kling.version_compat import AirflowException, AirflowFailException, TaskDeferred
from harness.airflow_context import FakeOutletEvents, FakeStateStore, FakeTaskInstance, cleared, make_context
from harness.frames import centre_colours, close, rgb, runs
from harness.simulated import connection_json
from harness.user_files import files_left

pytest.importorskip("imageio_ffmpeg", reason="storyboards need the media extra (imageio-ffmpeg)")

pytestmark = pytest.mark.usefixtures("fresh_prices")
SHOTS = [{"prompt": "a mug on a table", "duration": 5}, {"prompt": "steam rising", "duration": 5}]


@pytest.fixture
def temp_root(tmp_path, monkeypatch):
    """The worker's temporary folder (``TMPDIR``) for this test: what the task leaves there shows."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def storyboard(tmp_path, **kwargs):
    options = {"shots": SHOTS, "destination": str(tmp_path / "ad.mp4"), "deferrable": False, "poll_interval": 0.2}
    return KlingStoryboardOperator(task_id="storyboard", **{**options, **kwargs})


def test_the_whole_storyboard_is_priced_before_the_first_shot_is_paid_for(simulator, tmp_path):
    op = storyboard(tmp_path, max_usd=0.9)  # each 5 s shot costs $0.49
    with pytest.raises(AirflowFailException, match=r"storyboard: \$0.98 .* is above max_usd=\$0.90"):
        op.execute(make_context(op))
    assert simulator.stats()["create_requests"] == 0


@pytest.mark.parametrize(("text", "named"), [("NaN", "nan"), ("-1", "-1"), ("1e999", "inf")])
def test_a_shot_without_a_usable_price_refuses_the_whole_before_any_create_naming_the_model_and_value(
    simulator, tmp_path, text, named
):
    # A NaN price made a NaN total, which passed the cap (NaN > cap is False): every shot was paid for.
    simulator.configure(bad_money={"price": text})
    op = storyboard(tmp_path, max_usd=5)
    with pytest.raises(AirflowFailException) as refused:
        op.execute(make_context(op))
    assert (
        "storyboard: no quote for kling-video/v1.6/pro/text-to-video: the price catalogue gives it a rate that is "
        f"not a finite, non-negative number: price={named}; max_usd=5 needs a price before paying"
    ) in str(refused.value)
    assert simulator.stats()["create_requests"] == 0


def test_side_by_side_shots_render_at_once_and_join_in_order(simulator, tmp_path):
    simulator.configure(generation_seconds=1)
    op = storyboard(tmp_path, continuity="none", crossfade=0.5, metadata={"campaign": "launch"})
    context = make_context(op)
    context["outlet_events"] = FakeOutletEvents()
    result = op.execute(context)
    stats = simulator.stats()
    assert stats["creates"] == 2
    assert stats["max_in_flight"] == 2  # the second was sent before the first finished
    assert result["generation_ids"] == list(stats["generations"])
    assert context["ti"].xcoms[PROGRESS_XCOM_KEY] == {"finished": 2, "total": 2}
    palette = [rgb(clip_colour(shot["prompt"])) for shot in SHOTS]
    # In order (a frame of the crossfade may show neither colour).
    assert [run for run in runs(centre_colours(tmp_path / "ad.mp4"), palette) if run != -1] == [0, 1]
    sidecar = json.loads((tmp_path / "ad.mp4.kling.json").read_text())
    assert sidecar["probe"]["duration"] == pytest.approx(9.5, abs=1)
    assert sidecar["metadata"] == {"campaign": "launch"}  # as every generating operator's
    assert sidecar["delivered_by"]["dag_id"] == "dag"
    record = context["ti"].xcoms[VIDEO_RECORD_XCOM_KEY]  # one video of both shots, not the last shot
    assert (record["generation_ids"], record["usd"], record["delivered"]) == (result["generation_ids"], 0.98, True)
    assert record["seconds"] == pytest.approx(10)
    # Delivered like every video: the kling_videos Asset event names it.
    [event] = context["outlet_events"].events.values()
    assert event.extra["uri"].endswith(f"{tmp_path}/ad.mp4")
    assert sidecar["cost"]["usd"] == pytest.approx(0.98)


def test_multi_shot_is_one_generation_whose_shots_show_in_order(simulator, tmp_path):
    simulator.configure(generation_seconds=1)
    shots = [{"prompt": "a mug", "duration": 3}, {"prompt": "steam", "duration": 2}]
    op = storyboard(tmp_path, shots=shots, continuity="multi_shot", model="klingai/video-v3-turbo-pro-text-to-video")
    op.execute(make_context(op))
    stats = simulator.stats()
    assert stats["creates"] == 1
    palette = [rgb(clip_colour("a mug")), rgb(clip_colour("steam"))]
    assert runs(centre_colours(tmp_path / "ad.mp4"), palette) == [0, 1]
    # The contact sheet shows each shot of the one generation, in order.
    sheet = Image.open(tmp_path / "ad.mp4.contact-sheet.jpg")
    width, height = THUMB_WIDTH, THUMB_WIDTH * 90 // 160
    centres = [sheet.getpixel((8 + n * (width + 8) + width // 2, 8 + height // 2)) for n in range(2)]
    assert all(close(seen, wanted, tolerance=20) for seen, wanted in zip(centres, palette, strict=True))
    assert sheet.width < 3 * (width + 8)  # two stills, not three


def test_a_retry_pays_only_for_the_shots_not_yet_made(simulator, tmp_path):
    simulator.configure(generation_seconds=1)
    store, ti = FakeStateStore(), FakeTaskInstance(task_id="storyboard")
    failing = storyboard(tmp_path, shots=[SHOTS[0], {"prompt": "steam rising [sim:error]", "duration": 5}])
    with pytest.raises(AirflowFailException, match="ContentPolicyViolation"):
        failing.execute(make_context(failing, store=store, ti=ti))
    assert simulator.stats()["creates"] == 2
    # Someone fixes shot 2's prompt and clears the task: shot 1 is reattached, only shot 2 is paid again.
    fixed = storyboard(tmp_path)
    context = make_context(fixed, store=store, ti=cleared(ti))
    result = fixed.execute(context)
    stats = simulator.stats()
    assert stats["creates"] == 3
    assert result["generation_ids"][0] == next(iter(stats["generations"]))
    assert (tmp_path / "ad.mp4").exists()


def test_a_shot_added_in_front_of_side_by_side_shots_pays_only_for_itself(simulator, tmp_path):
    simulator.configure(generation_seconds=1)
    store, ti = FakeStateStore(), FakeTaskInstance(task_id="storyboard")
    first = storyboard(tmp_path, continuity="none")
    before = first.execute(make_context(first, store=store, ti=ti))["generation_ids"]
    assert simulator.stats()["creates"] == 2
    # A person adds an opening shot in front of the two and clears the task (overwrite to replace the video).
    longer = storyboard(tmp_path, continuity="none", overwrite=True, shots=[{"prompt": "a door opens"}, *SHOTS])
    after = longer.execute(make_context(longer, store=store, ti=cleared(ti)))["generation_ids"]
    assert simulator.stats()["creates"] == 3  # only the new shot was paid for
    assert after[1:] == before  # each unchanged shot found its own render, in the new order
    assert simulator.stats()["generations"][after[0]]["prompt"] == "a door opens"
    sidecar = json.loads((tmp_path / "ad.mp4.kling.json").read_text())
    assert [(shot["label"], shot["generation_id"]) for shot in sidecar["shots"]] == [
        (f"Shot {n + 1}", generation_id) for n, generation_id in enumerate(after)
    ]


@pytest.mark.parametrize("second_prompt", ["steam rising", "steam rising [sim:create-fails]"])
def test_the_last_frame_is_made_in_a_private_folder_never_through_a_planted_link(
    simulator, tmp_path, temp_root, second_prompt
):
    simulator.configure(generation_seconds=1)
    # Another local user planted a link where the frames used to go (a predictable path under /tmp).
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (temp_root / "kling-storyboard").symlink_to(theirs, target_is_directory=True)
    op = storyboard(tmp_path, shots=[SHOTS[0], {"prompt": second_prompt, "duration": 5}])
    fails = "[sim:create-fails]" in second_prompt  # shot 2's create fails after its frame was made
    if fails:
        with pytest.raises(AirflowException):
            op.execute(make_context(op))
    else:
        op.execute(make_context(op))
    assert simulator.stats()["creates"] == (1 if fails else 2)
    assert list(theirs.iterdir()) == []
    # Nothing of the task's is left in the temporary folder, success or failure: no frame, no clip.
    assert files_left(temp_root) == []


def test_a_failed_last_frame_leaves_no_clip_behind_and_is_retried(simulator, tmp_path, temp_root, monkeypatch):
    simulator.configure(generation_seconds=1)
    monkeypatch.setattr(stitch, "FRAME_TIMEOUT", 0.001)  # the worker is too slow to read shot 1's last frame
    op = storyboard(tmp_path)
    with pytest.raises(AirflowException, match=r"stopped after 0.001 s reading the last frame of shot-1.mp4") as raised:
        op.execute(make_context(op))
    assert not isinstance(raised.value, AirflowFailException)  # a retry reattaches to shot 1, paying nothing
    assert simulator.stats()["creates"] == 1
    assert files_left(temp_root) == []


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"crossfade": 5}, "crossfade=5 must be shorter than the shortest shot (shot 1, 5 s)"),
        ({"crossfade": float("nan")}, "crossfade must be a number of seconds, at least 0, got nan"),
        (
            {"shots": [SHOTS[0], {"prompt": "steam rising", "parameters": {"duration": 10}}], "max_seconds": 10},
            "the shots last 15 s in all, more than max_seconds=10",
        ),
    ],
)
def test_a_storyboard_that_cannot_be_joined_is_refused_before_any_shot_is_paid_for(simulator, tmp_path, options, says):
    op = storyboard(tmp_path, **options)
    with pytest.raises(AirflowFailException) as raised:
        op.execute(make_context(op))
    assert says in str(raised.value)
    assert simulator.stats()["create_requests"] == 0


def test_a_finished_storyboard_run_again_is_kept_as_it_is(simulator, tmp_path, capsys):
    simulator.configure(generation_seconds=1)
    store, ti = FakeStateStore(), FakeTaskInstance(task_id="storyboard")
    first = storyboard(tmp_path, continuity="none")
    first.execute(make_context(first, store=store, ti=ti))
    before = (tmp_path / "ad.mp4").stat().st_mtime_ns
    again = storyboard(tmp_path, continuity="none")
    result = again.execute(make_context(again, store=store, ti=ti))
    assert result["skipped"] is True
    assert (tmp_path / "ad.mp4").stat().st_mtime_ns == before
    assert simulator.stats()["creates"] == 2
    assert "already holds this storyboard's 2 shots" in capsys.readouterr().out


def test_a_failed_shot_fails_the_task_for_good(simulator, tmp_path):
    op = storyboard(tmp_path, shots=[{"prompt": "a fox [sim:error]"}])
    with pytest.raises(AirflowFailException) as raised:
        op.execute(make_context(op))
    assert isinstance(raised.value.__cause__, KlingGenerationFailed)


def test_an_unusable_destination_is_refused_before_any_request(simulator, tmp_path):
    op = storyboard(tmp_path, destination="nosuchscheme://bucket/ad.mp4")
    with pytest.raises(AirflowFailException, match="nosuchscheme"):
        op.execute(make_context(op))
    assert simulator.stats()["create_requests"] == 0


@pytest.mark.parametrize(
    "theirs", ["ad.mp4", "ad.mp4.kling.json", "ad.mp4.poster.jpg", "ad.mp4.contact-sheet.jpg", "ad.mp4.review.json"]
)
def test_a_file_of_yours_where_the_storyboard_would_go_is_refused_before_any_request(simulator, tmp_path, theirs):
    (tmp_path / theirs).write_bytes(b"yours")
    op = storyboard(tmp_path, overwrite=True)
    with pytest.raises(AirflowFailException, match=f"{theirs} exists and .*only replaces files airflow-provider-kling"):
        op.execute(make_context(op))
    assert simulator.stats()["create_requests"] == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == [theirs]


@pytest.mark.parametrize(("name", "fragment"), [("ad\n.mp4", r"U\+000A"), ("ad.jpg", "must name an .mp4 file")])
def test_a_destination_name_that_cannot_work_is_refused_before_any_request(simulator, tmp_path, name, fragment):
    op = storyboard(tmp_path, destination=f"{tmp_path}/{name}")
    with pytest.raises(AirflowFailException, match=fragment):
        op.execute(make_context(op))
    assert simulator.stats()["create_requests"] == 0


@pytest.mark.parametrize("folder", ["ads/", "ad.mp4"])
def test_a_folder_as_the_storyboards_destination_is_refused_before_any_request(simulator, tmp_path, folder):
    # A storyboard is one file: it used to pay for every shot, then write "ads" (no .mp4) or refuse the folder.
    (tmp_path / "ad.mp4").mkdir()  # a folder of yours where the video would go
    op = storyboard(tmp_path, destination=f"{tmp_path}/{folder}")
    with pytest.raises(AirflowFailException, match="is a folder: a storyboard is written to one .mp4 file"):
        op.execute(make_context(op))
    assert simulator.stats()["create_requests"] == 0
    assert sorted(path.name for path in tmp_path.rglob("*")) == ["ad.mp4"]


def test_a_storyboard_reports_its_images_in_its_video_out_and_every_shot_to_lineage(simulator, tmp_path):
    pytest.importorskip("airflow.providers.openlineage", reason="the lineage extra is not installed")
    from harness.inputs import write_image

    simulator.configure(generation_seconds=1)
    photo = write_image(tmp_path / "mug.png", 640, 640)
    shots = [{"prompt": "a mug", "image": str(photo), "duration": 5}, {"prompt": "steam", "duration": 5}]
    op = storyboard(tmp_path, shots=shots, continuity="none")
    op.execute(make_context(op))
    lineage = op.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name) for d in lineage.inputs if d.namespace == "file"] == [("file", str(photo))]
    assert ("file", str(tmp_path / "ad.mp4")) in [(d.namespace, d.name) for d in lineage.outputs]
    facet = lineage.run_facets["kling"]
    assert facet.generation_ids == list(simulator.stats()["generations"])
    assert facet.cost_usd == pytest.approx(0.98)
    assert facet.prompt_length == len("a mug\nsteam")


def test_a_retry_while_a_shot_renders_reattaches_to_it(simulator, tmp_path):
    simulator.configure(generation_seconds=600)
    store, ti = FakeStateStore(), FakeTaskInstance(task_id="storyboard")

    def attempt():
        op = storyboard(tmp_path, deferrable=True)
        with pytest.raises(TaskDeferred):
            op.execute(make_context(op, store=store, ti=ti))

    attempt()  # shot 1 renders
    simulator.finish_renders()
    attempt()  # shot 1 is reattached to; shot 2, from its last frame, renders
    attempt()  # the worker was lost: the retry makes shot 2's first frame again, in a new folder
    assert simulator.stats()["creates"] == 2


def test_from_the_last_frame_a_shot_edited_and_changed_back_finds_every_render_it_paid_for(simulator, tmp_path):
    simulator.configure(generation_seconds=1)
    store, ti = FakeStateStore(), FakeTaskInstance(task_id="storyboard")
    first = storyboard(tmp_path)
    before = first.execute(make_context(first, store=store, ti=ti))["generation_ids"]
    red = storyboard(tmp_path, overwrite=True, shots=[{**SHOTS[0], "prompt": "a red mug on a table"}, SHOTS[1]])
    edited = red.execute(make_context(red, store=store, ti=cleared(ti)))["generation_ids"]
    assert set(edited).isdisjoint(before)  # shot 2 starts from the new shot 1's last frame: rendered anew too
    back = storyboard(tmp_path, overwrite=True)
    assert back.execute(make_context(back, store=store, ti=cleared(ti, 2)))["generation_ids"] == before
    assert simulator.stats()["creates"] == 4  # the first two renders were found again, not paid for a third time


def test_identical_side_by_side_shots_are_two_renders_and_one_left_keeps_its_own(simulator, tmp_path):
    simulator.configure(generation_seconds=1)
    store, ti = FakeStateStore(), FakeTaskInstance(task_id="storyboard")
    twice = storyboard(tmp_path, continuity="none", shots=[SHOTS[0], SHOTS[0]])
    both = twice.execute(make_context(twice, store=store, ti=ti))["generation_ids"]
    assert len(set(both)) == 2
    once = storyboard(tmp_path, continuity="none", overwrite=True, shots=[SHOTS[0]])
    assert once.execute(make_context(once, store=store, ti=cleared(ti)))["generation_ids"] == both[:1]
    assert simulator.stats()["creates"] == 2


def lose_the_first_shots_answer(simulator, tmp_path, store, ti, first_prompt):
    """Shot 1's create is made, its answer lost and the log shows nothing within the wait: the task fails."""
    simulator.configure(post_ambiguous_rate=1.0, fault_kinds=["504_timeout"], log_delay=600, generation_seconds=1)
    op = storyboard(tmp_path, continuity="none", shots=[{**SHOTS[0], "prompt": first_prompt}, SHOTS[1]])
    with pytest.raises(AirflowFailException, match="may have been billed"):
        op.execute(make_context(op, store=store, ti=ti))
    assert simulator.stats()["create_requests"] == 1
    simulator.configure(post_ambiguous_rate=0.0, log_delay=0.0)  # the log has caught up


def test_a_shot_edited_after_its_create_lost_its_answer_keeps_what_that_create_made(simulator, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, request_log_wait=1))
    store, ti = FakeStateStore(), FakeTaskInstance(task_id="storyboard")
    lose_the_first_shots_answer(simulator, tmp_path, store, ti, "a mug on a table")
    [lost] = simulator.stats()["generations"]
    edited = storyboard(tmp_path, continuity="none", shots=[{**SHOTS[0], "prompt": "a red mug"}, SHOTS[1]])
    result = edited.execute(make_context(edited, store=store, ti=cleared(ti)))  # shot 1 edited, the task cleared
    assert simulator.stats()["creates"] == 3  # the lost one, and one for each shot planned now
    assert lost not in result["generation_ids"]
    # It used to be forgotten with its record; it stays recorded in its shot's slot (changed back, it is found).
    [slot, _] = plan_storyboard(SHOTS, continuity="none").slots()
    assert store.get(f"kling_generation:{slot}")["generation_id"] == lost


def test_a_shot_edited_after_its_create_lost_its_answer_pays_for_nothing_while_that_create_is_unaccounted_for(
    simulator, tmp_path, monkeypatch
):
    monkeypatch.setenv("AIRFLOW_CONN_KLING_DEFAULT", connection_json(simulator.url, request_log_wait=1))
    store, ti = FakeStateStore(), FakeTaskInstance(task_id="storyboard")
    lose_the_first_shots_answer(simulator, tmp_path, store, ti, "a mug [sim:lost-unlogged]")
    edited = storyboard(tmp_path, continuity="none", shots=[{**SHOTS[0], "prompt": "a red mug"}, SHOTS[1]])
    with pytest.raises(AirflowFailException) as failure:
        edited.execute(make_context(edited, store=store, ti=cleared(ti)))
    assert simulator.stats()["create_requests"] == 1  # it used to pay for both shots at once
    message = str(failure.value)
    assert "which this task no longer plans (its shot was edited or removed)) may have been billed" in message
    assert "Nothing is sent until it is accounted for" in message


def test_shots_that_change_between_automatic_tries_are_not_paid_for(simulator, tmp_path):
    # A template rendering the shots differently on each try, or a DAG deployed while the task retried:
    # recorded by what they ask, the changed shots would be new ones on every retry.
    simulator.configure(generation_seconds=1)
    store, ti = FakeStateStore(), FakeTaskInstance(task_id="storyboard")
    first = storyboard(tmp_path, continuity="none")
    first.execute(make_context(first, store=store, ti=ti))
    changed = storyboard(tmp_path, continuity="none", overwrite=True, shots=[{"prompt": "a door opens"}, SHOTS[1]])
    with pytest.raises(AirflowFailException) as failure:
        changed.execute(make_context(changed, store=store, ti=replace(ti, try_number=2)))  # an automatic retry
    assert simulator.stats()["create_requests"] == 2
    assert "The shots changed between two automatic tries" in str(failure.value)
    # A person clears it: the storyboard as it is now is rendered, the unchanged shot found.
    changed.execute(make_context(changed, store=store, ti=cleared(ti)))
    assert simulator.stats()["create_requests"] == 3


def test_a_new_run_over_a_delivered_storyboard_is_refused_before_its_first_shot_is_paid_for(simulator, tmp_path):
    simulator.configure(generation_seconds=0.5)
    op = storyboard(tmp_path)
    op.execute(make_context(op))
    assert simulator.stats()["creates"] == 2
    edited = storyboard(tmp_path, shots=[{"prompt": "a mug on a shelf", "duration": 5}, SHOTS[1]])
    with pytest.raises(AirflowFailException, match="already holds a video airflow-provider-kling delivered"):
        edited.execute(make_context(edited))  # the next DAG run: a ledger of its own
    assert simulator.stats()["creates"] == 2
    replacing = storyboard(tmp_path, shots=edited.shots, overwrite=True)
    replacing.execute(make_context(replacing))
    assert simulator.stats()["creates"] == 4
