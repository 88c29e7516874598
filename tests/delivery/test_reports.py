"""The batch report's files: written whole, over the product's own earlier report only, never over yours."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from airflow_provider_kling.delivery.reports import check_report_files, write_report
from airflow_provider_kling.exceptions import KlingStorageSetupError
from airflow_provider_kling.models.ownership import report_record
from harness.user_files import changed, fingerprints

NAMES = ("report.json", "report.csv", "report.html")


def report(status: str = "delivered") -> dict:
    line = {"row": 1, "output": "a", "status": status, "destination": "a.mp4", "usd": 0.49, "error": ""}
    return {"rows": [line], "totals": {status: 1, "usd": 0.49}}


def test_the_report_is_written_with_a_record_of_its_files_and_replaced_by_the_next(tmp_path):
    write_report(tmp_path, report(), title="first")
    record = json.loads((tmp_path / "report.json").read_text())
    assert record["written_by"] == "airflow-provider-kling"
    assert record["rows"] == report()["rows"]
    for name in ("report.csv", "report.html"):
        assert record["files"][name]["sha256"] == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
    assert (tmp_path / "report.csv").read_text().startswith("row,output,status,destination,usd,error")
    first = fingerprints(tmp_path)

    write_report(tmp_path, report("failed"), title="second")  # a later run of the same folder
    assert sorted(changed(first, tmp_path)) == sorted(NAMES)
    assert "second" in (tmp_path / "report.html").read_text()
    assert sorted(os.listdir(tmp_path)) == sorted(NAMES)  # no staging file left behind


@pytest.mark.parametrize("name", NAMES)
def test_a_file_of_yours_named_like_the_report_is_refused_and_left_as_it_is(tmp_path, name):
    (tmp_path / name).write_text(f"your own {name}\n")
    (tmp_path / "notes.txt").write_text("yours too")
    before = fingerprints(tmp_path)
    with pytest.raises(KlingStorageSetupError, match=f"{tmp_path}/{name} exists and"):
        check_report_files(tmp_path)
    with pytest.raises(KlingStorageSetupError, match=f"{tmp_path}/{name} exists and"):
        write_report(tmp_path, report(), title="t")
    assert changed(before, tmp_path) == []
    assert fingerprints(tmp_path).keys() == before.keys()  # nothing was written beside them either


def edited(folder):
    (folder / "report.csv").write_text("edited by you\n")


def a_folder(folder):
    (folder / "report.html").unlink()
    (folder / "report.html").mkdir()


def a_link_to_the_same_bytes(folder):
    (folder / "report.html").rename(folder / "kept.html")
    (folder / "report.html").symlink_to(folder / "kept.html")


def a_json_without_the_marker(folder):
    (folder / "report.json").write_text(
        json.dumps({"rows": [], "totals": {}})
    )  # as reports were before they recorded their files


@pytest.mark.parametrize("yours", [edited, a_folder, a_link_to_the_same_bytes, a_json_without_the_marker])
def test_a_report_file_the_product_cannot_prove_it_wrote_is_refused(tmp_path, yours):
    write_report(tmp_path, report(), title="t")
    yours(tmp_path)
    with pytest.raises(KlingStorageSetupError, match="exists and"):
        check_report_files(tmp_path)


def test_a_write_cut_short_between_two_files_leaves_them_all_the_products(tmp_path):
    write_report(tmp_path, report(), title="t")
    old = {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in NAMES[1:]}
    # As a write killed after the new record and before the CSV and page leaves it: the old files are
    # recorded as replaced.
    record = {**report_record({name: "0" * 64 for name in old}, replaced=old), **report("failed")}
    (tmp_path / "report.json").write_text(json.dumps(record))
    assert check_report_files(tmp_path) == old
    write_report(tmp_path, report("failed"), title="t")
    check_report_files(tmp_path)


def test_an_output_folder_not_made_yet_has_nothing_in_the_way(tmp_path):
    assert check_report_files(tmp_path / "batch" / "2025-03-01") == {}


def test_the_report_goes_to_object_storage_whole_and_is_replaced_there(s3):
    folder = "s3://seaweed@kling/batch/2025-03-01/"
    write_report(folder, report(), title="t")
    write_report(folder, report("failed"), title="t")
    assert set(s3.objects("batch/")) == {f"batch/2025-03-01/{name}" for name in NAMES}
    s3.put("batch/2025-03-01/report.csv", b"your own csv")
    with pytest.raises(KlingStorageSetupError, match="report.csv exists and"):
        check_report_files(folder)
