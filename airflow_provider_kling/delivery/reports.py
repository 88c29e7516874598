"""A batch's report beside its videos: ``report.json`` (the record), ``report.csv`` and ``report.html``.

The product writes them only over its own earlier report: ``report.json`` carries the product's
marker and the SHA-256 of the CSV and the page written with it (and of those they replace, so a
write cut short between two files still leaves each provably the product's). A file of one of
these names that the product cannot prove it wrote (no such record, other bytes, a link) is the
user's: it is refused, naming it, by the plan before anything is paid for
(:func:`check_report_files`) and again just before writing. Each file goes through the product's
staging (:mod:`.storage`): whole or not at all.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

from airflow_provider_kling.delivery import storage
from airflow_provider_kling.delivery.ownership import product_record
from airflow_provider_kling.delivery.pages import report_page
from airflow_provider_kling.exceptions import KlingStorageSetupError
from airflow_provider_kling.hooks.storage import storage_errors
from airflow_provider_kling.models.ownership import is_product_report, is_recorded, report_record

REPORT_JSON = "report.json"
REPORT_CSV = "report.csv"
REPORT_HTML = "report.html"
#: The files written with ``report.json`` and recorded in it.
RECORDED = (REPORT_CSV, REPORT_HTML)


def check_report_files(folder: Any) -> dict[str, str]:
    """Refuse when a file in ``folder`` named like the report is not the product's.

    :param folder: the batch's output folder (path or URI).
    :returns: the product's report files there, other than ``report.json``: name -> SHA-256.
    :raises KlingStorageSetupError: naming the file, why it is not the product's and what to do.
    """
    uri = str(folder).rstrip("/")
    path = storage.as_storage_path(uri)
    with storage_errors(uri, "look at the report files in", path, missing_is_setup=True):
        return _owned_files(path)


def write_report(folder: Any, report: dict[str, Any], *, title: str) -> str:
    """Write ``report`` (from ``batch.build_report``) as JSON, CSV and an HTML page into ``folder``.

    :param title: the page's heading.
    :returns: the URI of ``report.json``.
    :raises KlingStorageSetupError: when a file of those names there is not the product's (nothing is written).
    """
    uri = str(folder).rstrip("/")
    path = storage.as_storage_path(uri)
    record_path = path / REPORT_JSON
    with storage_errors(uri, "write the report to", path, missing_is_setup=True):
        page = report_page(report, title=title, has_poster=lambda name: (path / name).exists())
        written = {REPORT_CSV: report_csv(report).encode(), REPORT_HTML: page.encode()}
        with storage.destination_lock(record_path):
            owned = _owned_files(path)
            new_record = not _present(record_path)
            files = {name: hashlib.sha256(data).hexdigest() for name, data in written.items()}
            record = {**report_record(files, replaced=owned), **report}
            # The record first: whichever file a failure stops at, it proves every file there is the product's.
            storage.write_small_file(record_path, json.dumps(record, indent=2).encode(), new=new_record)
            for name, data in written.items():
                storage.write_small_file(path / name, data, new=name not in owned)
    return str(record_path)


def report_csv(report: dict[str, Any]) -> str:
    """The report's rows as CSV, one line each, its columns the rows' fields."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(report["rows"][0]) if report["rows"] else ["row"])
    writer.writeheader()
    writer.writerows(report["rows"])
    return buffer.getvalue()


def _owned_files(folder: Any) -> dict[str, str]:
    record_path = folder / REPORT_JSON
    record = None
    if _present(record_path):
        record = _product_report(record_path)
        if record is None:
            raise _not_the_products(record_path, "it is not a report airflow-provider-kling wrote")
    owned = {}
    for name in RECORDED:
        path = folder / name
        if not _present(path):
            continue
        sha256 = _sha256(path)
        if record is None or not is_recorded(record, name, sha256):
            raise _not_the_products(path, f"airflow-provider-kling did not write it (no {record_path} records it)")
        assert sha256 is not None
        owned[name] = sha256
    return owned


def _present(path: Any) -> bool:
    return storage.present(path)


def _product_report(path: Any) -> dict[str, Any] | None:
    return product_record(path, is_product_report)


def _sha256(path: Any) -> str | None:
    """The file's SHA-256; ``None`` for a link or what cannot be read as a file (a folder, say)."""
    if storage.is_symlink(path):
        return None
    try:
        return storage.sha256_of(path)
    except OSError:
        return None


def _not_the_products(path: Any, why: str) -> KlingStorageSetupError:
    return KlingStorageSetupError(
        f"{path} exists and {why}; the batch writes its report there and never over a file of yours: move or "
        "rename it, or choose another output folder"
    )
