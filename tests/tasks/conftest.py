"""Shared by the task tests: the operator tests' empty price cache."""

from __future__ import annotations

from tests.operators.conftest import fresh_prices

__all__ = ["fresh_prices"]
