"""A storyboard is checked as a whole before the first shot is paid for: every problem named."""

from __future__ import annotations

import pytest

from airflow_provider_kling.exceptions import KlingValidationError
from airflow_provider_kling.models.storyboard import FRAME_PLACEHOLDER, plan_storyboard

V3 = "klingai/video-v3-pro-text-to-video"
TURBO = "klingai/video-v3-turbo-pro-text-to-video"
T2V = "kling-video/v1.6/pro/text-to-video"
I2V = "kling-video/v1.6/pro/image-to-video"


@pytest.mark.parametrize(
    ("shots", "options", "says"),
    [
        ([], {}, "a storyboard needs a list of at least one shot, got []"),
        ("three shots", {}, "a storyboard needs a list of at least one shot, got 'three shots'"),
        (
            [{"prompt": "a"}],
            {"continuity": "loop"},
            "continuity='loop' is not allowed; allowed values: 'last_frame', 'none', 'multi_shot'",
        ),
        (
            ["a mug"],
            {},
            "shot 1 must be a mapping with model, parameters and KlingVideoOperator's named fields",
        ),
        ([{"prompt": "a", "colour": "red"}], {}, "shot 1: unknown key(s) colour; allowed keys"),
        (
            [{"prompt": "a", "duration": "long"}],
            {},
            "shot 1: duration must be a whole number of seconds above 0, got 'long'",
        ),
        ([{"prompt": "a", "duration": 5.5}], {}, "shot 1: duration must be a whole number of seconds above 0, got 5.5"),
        (
            [{"prompt": "a"}, {"prompt": "b", "duration": float("inf")}],
            {},
            "shot 2: duration must be a whole number of seconds above 0, got inf",
        ),
        (
            [{"prompt": "a", "parameters": {"duration": float("nan")}}],
            {},
            "shot 1: parameters.duration must be a whole number of seconds above 0, got nan",
        ),
        (
            [{"prompt": "a", "duration": 5}, {"prompt": "b", "duration": 5, "parameters": {"duration": 10}}],
            {},
            "shot 2: duration=5 and parameters.duration=10 disagree; give the shot's length once, as duration",
        ),
        # A length given in parameters is the shot's length, counted like any other.
        (
            [{"prompt": "a", "parameters": {"duration": 10}}] * 7,
            {},
            "the shots last 70 s in all, more than max_seconds=60",
        ),
        *[
            ([{"prompt": "a"}], {"max_seconds": bad}, f"max_seconds must be a positive number of seconds, got {shown}")
            for bad, shown in [(float("nan"), "nan"), (float("inf"), "inf"), (0, "0"), (-10, "-10"), ("60", "'60'")]
        ],
        *[
            (
                [{"prompt": "a"}] * 2,
                {"crossfade": bad},
                f"crossfade must be a number of seconds, at least 0, got {shown}",
            )
            for bad, shown in [(-0.5, "-0.5"), (float("nan"), "nan"), (float("inf"), "inf"), ("0.5", "'0.5'")]
        ],
        (
            [{"prompt": "a", "duration": 10}, {"prompt": "b", "duration": 5}, {"prompt": "c", "duration": 10}],
            {"crossfade": 5},
            "crossfade=5 must be shorter than the shortest shot (shot 2, 5 s)",
        ),
        (
            [{"prompt": "a"}, {"prompt": "b", "parameters": {"duration": 5}}],
            {"continuity": "none", "crossfade": 6},
            "crossfade=6 must be shorter than the shortest shot (shot 1, 5 s)",
        ),
        (
            [{"prompt": "a"}, {"prompt": "b"}],
            {"crossfade": 4.9996},  # 5.000 s, to the millisecond the shots are joined at
            "crossfade=4.9996 must be shorter than the shortest shot (shot 1, 5 s)",
        ),
        ([{"duration": 5}], {}, f"shot 1: prompt is required by {T2V}"),
        ([{"prompt": "a", "duration": 7}], {}, f"shot 1: duration=7 is not allowed for {T2V}; allowed values: 5, 10"),
        (
            [{"prompt": "a"}, {"prompt": "b", "model": T2V}],
            {},
            f"shot 2: model {T2V} takes no image, so it cannot start from shot 1's last frame (continuity='last_frame'); "
            f"use an image-to-video model such as {I2V}",
        ),
        (
            [{"prompt": "a"}, {"prompt": "b", "image": "s3://b/x.png"}],
            {},
            "shot 2: has an image, but continuity='last_frame' starts it from shot 1's last frame",
        ),
        ([{"prompt": "a", "duration": 10}] * 7, {}, "the shots last 70 s in all, more than max_seconds=60"),
        (
            [{"prompt": "a", "duration": 10}] * 2,
            {"max_seconds": 15},
            "the shots last 20 s in all, more than max_seconds=15",
        ),
        (
            [{"prompt": "a"}] * 2,
            {"continuity": "multi_shot"},
            f"model {T2V} takes no multi_prompt, so it cannot render continuity='multi_shot'",
        ),
        (
            [{"prompt": "a", "duration": 3}] * 7,
            {"continuity": "multi_shot", "model": TURBO},
            f"model {TURBO} takes at most 6 shots in multi_prompt, got 7",
        ),
        (
            [{"prompt": "a", "duration": 8}] * 2,
            {"continuity": "multi_shot", "model": V3},
            f"model {V3} renders at most 15 s in one generation, the shots last 16 s",
        ),
        (
            [{"prompt": "a"}, {"duration": 5}],
            {"continuity": "multi_shot", "model": V3},
            "continuity='multi_shot': every shot needs a prompt",
        ),
        (
            [{"prompt": "a"}, {"prompt": "b", "model": TURBO}],
            {"continuity": "multi_shot", "model": V3},
            "continuity='multi_shot' is one generation: every shot must use the same model",
        ),
    ],
)
def test_a_bad_storyboard_is_refused_naming_the_shot_and_what_is_allowed(shots, options, says):
    with pytest.raises(KlingValidationError) as raised:
        plan_storyboard(shots, **options)
    assert says in str(raised.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(KlingValidationError) as raised:
        plan_storyboard([{"prompt": "a", "duration": 7}, {"prompt": "b", "model": T2V}])
    assert [p.split(":")[0] for p in raised.value.problems] == ["shot 1", "shot 2"]


def test_shots_after_the_first_start_from_the_previous_last_frame_on_the_image_model():
    board = plan_storyboard([{"prompt": "a"}, {"prompt": "b", "duration": 10}])
    assert [shot.model for shot in board.shots] == [T2V, I2V]
    assert board.seconds == 15
    assert board.starts_from_previous(1)
    assert not board.starts_from_previous(0)
    assert board.shots[1].params(FRAME_PLACEHOLDER) == {
        "model": I2V,
        "prompt": "b",
        "duration": 10,
        "image_url": FRAME_PLACEHOLDER,
    }


def test_a_length_given_in_parameters_is_the_shots_length_and_is_asked_for_once():
    board = plan_storyboard([{"prompt": "a", "parameters": {"duration": 10, "cfg_scale": 0.5}}, {"prompt": "b"}])
    assert board.shot_seconds() == [10, 5]
    assert board.seconds == 15
    assert board.shots[0].params() == {"model": T2V, "cfg_scale": 0.5, "prompt": "a", "duration": 10}
    # Given both ways alike, it is the same length.
    assert plan_storyboard([{"prompt": "a", "duration": "10", "parameters": {"duration": 10.0}}]).seconds == 10


@pytest.mark.parametrize("crossfade", [0, 0.5, 4.99])
def test_a_crossfade_shorter_than_every_shot_is_accepted(crossfade):
    assert plan_storyboard([{"prompt": "a"}, {"prompt": "b"}], crossfade=crossfade).seconds == 10


def test_a_multi_shot_generation_has_no_cut_to_fade():
    shots = [{"prompt": "a", "duration": 3}, {"prompt": "b", "duration": 2}]
    assert plan_storyboard(shots, continuity="multi_shot", model=TURBO, crossfade=2.5).seconds == 5


def test_side_by_side_shots_keep_their_own_models_and_images():
    board = plan_storyboard([{"prompt": "a"}, {"prompt": "b", "image": "s3://b/mug.png"}], continuity="none")
    assert [shot.model for shot in board.shots] == [T2V, I2V]
    assert board.shots[1].params() == {"model": I2V, "prompt": "b", "image_url": "s3://b/mug.png"}
    assert not board.starts_from_previous(1)


@pytest.mark.parametrize(
    ("model", "multi_prompt", "extra"),
    [
        (V3, ["a", "b"], {"duration": 10}),  # strings: the generation lasts the shots' total
        (TURBO, [{"prompt": "a", "duration": 4}, {"prompt": "b", "duration": 6}], {}),  # items carry their own
    ],
)
def test_multi_shot_is_one_generation_in_the_shape_the_model_takes(model, multi_prompt, extra):
    shots = [{"prompt": "a", "duration": 4}, {"prompt": "b", "duration": 6}]
    board = plan_storyboard(shots, continuity="multi_shot", model=model)
    assert board.multi_shot_params() == {"model": model, "multi_prompt": multi_prompt, **extra}


A, B, C, X = ({"prompt": word, "duration": 5} for word in ("a mug", "steam", "a hand", "a door opens"))


def slots(shots, continuity="none"):
    return plan_storyboard(shots, continuity=continuity, model=V3 if continuity == "multi_shot" else T2V).slots()


@pytest.mark.parametrize(
    ("before", "after", "kept"),
    [
        ([A, B], [X, A, B], {0: 1, 1: 2}),  # a shot added in front: both found where they moved
        ([A, B], [B, A], {0: 1, 1: 0}),  # swapped
        ([A, B, C], [A, C], {0: 0, 2: 1}),  # one removed
        ([A, B], [A, {**B, "prompt": "smoke"}], {0: 0}),  # one edited: only it is new
        ([A, A], [A, A, A], {0: 0, 1: 1}),  # identical shots told apart by their count, each its own render
        ([A, A, B], [A, B], {0: 0, 2: 1}),
    ],
)
def test_side_by_side_shots_are_recorded_by_what_they_ask_wherever_they_stand(before, after, kept):
    old, new = slots(before), slots(after)
    assert len(set(old)) == len(old)  # every shot its own slot, identical ones included
    assert {old.index(slot): new.index(slot) for slot in set(old) & set(new)} == kept


@pytest.mark.parametrize(
    ("before", "after", "kept"),
    [
        ([A, B], [A, B, C], [0, 1]),  # added at the end: the shots before it are unchanged
        ([A, B], [X, A, B], []),  # added in front: every shot now starts from another frame
        ([A, B, C], [{**A, "prompt": "a red mug"}, B, C], []),  # the first edited: every later shot is new
        ([A, B, C], [A, {**B, "duration": 10}, C], [0]),
        ([A, A, A], [A, A, A], [0, 1, 2]),
    ],
)
def test_from_the_last_frame_a_shot_is_recorded_with_the_shots_before_it(before, after, kept):
    old, new = slots(before, "last_frame"), slots(after, "last_frame")
    assert len(set(old)) == len(old)
    assert [n for n, slot in enumerate(new) if slot in old and old.index(slot) == n] == kept
    assert set(old) & set(new) == {new[n] for n in kept}


def test_a_multi_shot_storyboard_is_one_generation_and_a_shots_image_is_part_of_what_it_asks():
    assert slots([A, B], "multi_shot") == ["multi-shot"]
    photo = {"prompt": "a mug", "image": "s3://photos/mug.png"}
    assert slots([photo]) != slots([{**photo, "image": "s3://photos/cup.png"}])
    assert all(slot.startswith("shot-") and len(slot) <= 24 for slot in slots([photo, A, A]))
