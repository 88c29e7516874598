"""A storyboard's total cost: the shots' costs added up, unknown when one shot's is."""

from __future__ import annotations

import pytest

from airflow_provider_kling.delivery.storyboard import FinishedShot, total_cost

NAN, INF = float("nan"), float("inf")


def shots(*usages):
    return [FinishedShot(f"Shot {n}", f"g{n}", usage) for n, usage in enumerate(usages, start=1)]


@pytest.mark.parametrize(
    ("usages", "total"),
    [
        (({"credits_used": 980000}, {"usd_spent": 0.49}), {"usd": 0.98, "credits": 1960000}),
        (({}, {}), None),  # nothing reported
        (({"credits_used": 980000}, {}), {"usd": 0.49, "credits": 980000}),
        (({"credits_used": 980000}, {"credits_used": INF}), "unknown"),
        (({"credits_used": 980000}, {"usd_spent": NAN}), "unknown"),
        (({"credits_used": 980000}, {"usd_spent": -0.49}), "unknown"),  # never lowers the total
        (({"credits_used": 980000}, {"usd_spent": "0.49"}), "unknown"),
    ],
)
def test_the_total_of_a_storyboard(usages, total):
    assert total_cost(shots(*usages)) == total
