"""Which bytes a Range header asks for, table-driven."""

from __future__ import annotations

import pytest

from airflow_provider_kling.models.byte_range import RangeNotSatisfiable, byte_range


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-99", 100, (0, 99)),
        ("bytes=0-", 100, (0, 99)),
        ("bytes=10-19", 100, (10, 19)),
        ("bytes=90-500", 100, (90, 99)),  # a last byte past the end means the end
        ("bytes=-10", 100, (90, 99)),
        ("bytes=-500", 100, (0, 99)),
        ("bytes=5-9, 20-29", 100, (5, 9)),  # several ranges: the first is answered
        ("items=0-9", 100, None),  # another unit: the whole file
        ("bytes=abc", 100, None),
        ("bytes=-", 100, None),
        ("bytes=" + "9" * 30 + "-", 100, None),  # longer than any file: malformed here
        ("bytes=0-1" + " " * 300, 100, None),  # oversized header: not read
        ("bytes=9-5", 100, None),  # an invalid range is ignored (RFC 9110)
        ("bytes=\u0663-\u0664", 100, None),  # digits other than ASCII: malformed
    ],
)
def test_the_bytes_a_range_asks_for(header, size, expected):
    assert byte_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"),
    [("bytes=100-", 100), ("bytes=200-300", 100), ("bytes=-0", 100), ("bytes=0-", 0)],
)
def test_a_range_beyond_the_file_is_not_satisfiable(header, size):
    with pytest.raises(RangeNotSatisfiable):
        byte_range(header, size)
