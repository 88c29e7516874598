"""Planning a batch: which rows are generated, skipped or rejected, before anything is paid for."""

from __future__ import annotations

import pytest

from airflow_provider_kling.batch import plan_batch, row_jobs
from airflow_provider_kling.exceptions import KlingValidationError
from tests.batch.conftest import GOOD, delivered, plan


def test_a_row_takes_the_operators_names():
    row = '{"output": "o1", "model": "klingai/video-o1-image-to-video", "prompt": "turns", "image": "https://x/a.png", "tail_image": "https://x/b.png"}'
    batch = plan(row)
    assert batch["invalid"] == []
    request = batch["todo"][0]["request"]
    assert (request["image_url"], request["last_image_url"]) == ("https://x/a.png", "https://x/b.png")


def test_good_rows_become_requests_with_their_output_as_external_task_id():
    batch = plan(GOOD, "", "# a comment", '{"output": "b.v2", "prompt": "a hare", "aspect_ratio": "9:16"}')
    assert [row["row"] for row in batch["todo"]] == [1, 4]
    assert batch["todo"][0]["request"] == {
        "model": "kling-video/v1.6/pro/text-to-video",
        "prompt": "a fox",
        "duration": 5,
        "external_task_id": "a",
    }
    assert batch["todo"][1]["destination"] == "/tmp/nowhere-kling/b.v2.mp4"
    assert batch["invalid"] == []


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("not json", "not a JSON object"),
        ("[1, 2]", "not a JSON object: list"),
        ('{"prompt": "no output"}', "output is missing: each row names its video's file"),
        (
            '{"output": "b.mp4", "prompt": "x"}',
            "output='b.mp4' is the name without .mp4: the video is <output>.mp4 (write 'b')",
        ),
        ('{"output": "../etc/passwd", "prompt": "x"}', "must be a file name"),
        (
            '{"output": "x", "prompt": "x", "duration": 7}',
            "duration=7 is not allowed for kling-video/v1.6/pro/text-to-video; allowed values: 5, 10",
        ),
        ('{"output": "x", "prompt": ""}', "prompt must not be empty"),
        (
            '{"output": "x", "prompt": "x", "colour": "red"}',
            "'colour' is not a parameter of kling-video/v1.6/pro/text-to-video",
        ),
        (
            '{"output": "x", "model": "kling-video/v1.6/pro/image-to-video", "image": "https://x/a.png", "image_url": "https://x/b.png"}',
            "image and image_url are two names of one field",
        ),
    ],
)
def test_bad_rows_are_reported_with_row_number_and_field(line, fragment):
    batch = plan(GOOD, line)
    assert [row["row"] for row in batch["todo"]] == [1]
    assert batch["invalid"][0]["row"] == 2
    assert fragment in batch["invalid"][0]["error"]


@pytest.mark.parametrize(
    ("second", "error"),
    [
        ("a", "output 'a' is already used by row 1"),
        (
            "A",
            "output 'A' is row 1's 'a' but for case: on a filesystem that ignores case they are one file; rename one",
        ),
    ],
)
def test_duplicate_outputs_are_refused(second, error):
    batch = plan(GOOD, GOOD.replace("a fox", "another fox").replace('"a"', f'"{second}"'))
    assert batch["invalid"] == [{"row": 2, "output": second, "error": error}]


def test_delivered_videos_are_skipped_unless_overwrite(tmp_path):
    delivered(tmp_path, "a", "g")
    assert [row["output"] for row in plan(GOOD, output=str(tmp_path))["existing"]] == ["a"]
    assert [row["output"] for row in plan(GOOD, output=str(tmp_path), overwrite=True)["todo"]] == ["a"]
    (tmp_path / "a.mp4").unlink()  # its sidecar alone is a leftover of the product's: generated again
    assert [row["output"] for row in plan(GOOD, output=str(tmp_path))["todo"]] == ["a"]


@pytest.mark.parametrize("overwrite", [False, True])
@pytest.mark.parametrize("theirs", ["a.mp4", "a.mp4.kling.json", "a.mp4.poster.jpg"])
def test_a_row_whose_video_or_files_would_land_on_yours_is_invalid(tmp_path, theirs, overwrite):
    (tmp_path / theirs).write_bytes(b"yours")
    (tmp_path / "a.json").write_text("yours too, and in nobody's way")
    batch = plan(GOOD, '{"output": "b", "prompt": "x"}', output=str(tmp_path), overwrite=overwrite)
    assert [row["output"] for row in batch["todo"]] == ["b"]
    [row] = batch["invalid"]
    assert (row["row"], row["output"]) == (1, "a")
    assert f"{tmp_path}/{theirs} exists and" in row["error"]


class PlanTask:
    """The batch DAG's plan task, as it plans: the order of its rows kept in its own task state store."""

    def __init__(self, text, output):
        from airflow_provider_kling.tasks.mapped_order import MappedOrder
        from harness.airflow_context import FakeStateStore, FakeTaskInstance

        self.text, self.output = text, str(output)
        self.order = MappedOrder({"task_state_store": FakeStateStore(), "ti": FakeTaskInstance(task_id="plan")})

    def run(self):
        batch = plan_batch(self.text, output=self.output, planned=self.order.load())
        self.order.keep([row["output"] for row in batch["todo"]])
        return batch


TWO = "\n".join([GOOD, '{"output": "b", "prompt": "a hare", "duration": 5}'])


def test_a_row_paid_for_but_not_delivered_is_not_paid_again_when_a_cleared_run_plans_anew(simulator, tmp_path):
    # The rows left after a delivered one used to move down a map index, each onto another row's ledger
    # record: row b, paid for but not delivered, was paid for again.
    from airflow_provider_kling.delivery.deliver import deliver_video
    from airflow_provider_kling.hooks.kling import KlingHook
    from airflow_provider_kling.operators.kling import KlingVideoOperator
    from harness.airflow_context import FakeStateStore, FakeTaskInstance, make_context

    stores = {0: FakeStateStore(), 1: FakeStateStore()}  # the task state store of each mapped task instance

    def generate(job, map_index):
        op = KlingVideoOperator(
            task_id="generate", model=job["model"], parameters=job["parameters"], wait_for_completion=False
        )
        ti = FakeTaskInstance(task_id="row.generate", map_index=map_index)
        return op.execute(make_context(op, store=stores[map_index], ti=ti))

    plan_task = PlanTask(TWO, tmp_path)
    jobs = row_jobs(plan_task.run())
    generated = [generate(job, index) for index, job in enumerate(jobs)]
    simulator.finish_renders()
    deliver_video(KlingHook(), destination=jobs[0]["destination"], generation_id=generated[0])
    # Row b's download failed for good; a person clears the run, and the plan is made again.
    again = plan_task.run()
    assert [(row["output"], row["planned_before"]) for row in again["todo"]] == [("a", True), ("b", True)]
    assert row_jobs(again) == jobs  # every row at its map index, row a (delivered meanwhile) included
    assert [generate(job, index) for index, job in enumerate(row_jobs(again))] == generated
    assert simulator.stats()["creates"] == 2  # both reattached: nothing paid twice
    videos = simulator.stats()["video_requests"]
    kept = deliver_video(KlingHook(), destination=jobs[0]["destination"], generation_id=generated[0], overwrite=True)
    assert kept.skipped
    assert simulator.stats()["video_requests"] == videos  # row a's video is kept as it is


def test_rows_new_to_a_cleared_run_come_after_those_it_planned_and_earlier_runs_deliveries_are_skipped(tmp_path):
    delivered(tmp_path, "a", "g-a")  # by an earlier run: not in this run's plan
    delivered(tmp_path, "b", "g-b")  # by this run, before it was cleared
    rows = [GOOD, '{"output": "b", "prompt": "x"}', '{"output": "c", "prompt": "y"}', '{"output": "d", "prompt": "z"}']
    batch = plan(*rows, output=str(tmp_path), planned=["d", "b"])
    assert [(row["output"], row["planned_before"]) for row in batch["todo"]] == [
        ("d", True),
        ("b", True),
        ("c", False),
    ]
    assert [row["output"] for row in batch["existing"]] == ["a"]


@pytest.mark.parametrize(
    ("rows", "now"),
    [
        ([GOOD], "the prompt list no longer has it"),
        ([GOOD, '{"output": "b", "prompt": "x", "duration": 7}'], "is invalid now (row 2: duration=7 is not allowed"),
    ],
)
def test_a_row_a_cleared_run_planned_cannot_be_left_out_of_its_new_plan(rows, now):
    # Without it, every row after it would move onto another row's record.
    with pytest.raises(KlingValidationError) as refused:
        plan(*rows, planned=["b", "a"])
    message = str(refused.value)
    assert f"output 'b' had map index 0 in this run's plan before the run was cleared, and {now}" in message
    assert "Put the row back as it was, or trigger a new run" in message


def test_a_file_of_yours_where_the_report_goes_refuses_the_plan(tmp_path):
    # The report used to be written over it after the rows were paid for.
    from airflow_provider_kling.exceptions import KlingStorageSetupError

    (tmp_path / "report.html").write_text("your page")
    with pytest.raises(KlingStorageSetupError, match=f"{tmp_path}/report.html exists and airflow-provider-kling did"):
        plan(GOOD, output=str(tmp_path))
    assert (tmp_path / "report.html").read_text() == "your page"
