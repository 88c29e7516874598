"""Shared by the operator tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_kling.hooks import prices


@pytest.fixture
def fresh_prices(tmp_path, monkeypatch) -> Iterator[None]:
    """An empty price cache (on disk and in the process) for tests that price requests."""
    monkeypatch.setenv("KLING_CACHE_DIR", str(tmp_path / "cache"))
    prices.reset_process_copies()
    yield
    prices.reset_process_copies()
