"""The spend guard: count, dollars and balance checked before anything is paid for."""

from __future__ import annotations

import pytest

from airflow_provider_kling.batch import check_spend, plan_total
from airflow_provider_kling.exceptions import KlingValidationError
from tests.batch.conftest import GOOD, INF, NAN, SIX, plan, priced


def test_spend_guard_names_the_count_and_how_to_raise_it():
    batch = plan(GOOD, '{"output": "b", "prompt": "x"}', '{"output": "c", "prompt": "y"}')
    check_spend(batch, 3)
    with pytest.raises(KlingValidationError) as err:
        check_spend(batch, 2)
    assert "would start 3 generations, more than max_generations=2" in str(err.value)
    assert '"max_generations": 3' in str(err.value)


def test_a_plan_over_its_dollar_budget_is_refused_with_the_total_and_the_five_priciest_rows():
    batch = priced(plan(*SIX), 0.49, 2.52, 0.98, 0.84, 1.05, 0.42)
    assert plan_total(batch) == pytest.approx(6.30)
    check_spend(batch, 10, max_usd=6.30)
    with pytest.raises(KlingValidationError) as err:
        check_spend(batch, 10, max_usd=5)
    message = str(err.value)
    assert "would cost up to $6.30, more than max_usd=$5.00; nothing was submitted" in message
    assert (
        """raise max_usd (kling_batch's argument; where the DAG passes it a param, trigger the run with a higher budget, e.g. --conf '{"max_usd": 7}')"""
        in message
    )
    assert "row 2 (r1, kling-video/v1.6/pro/text-to-video): $2.52; row 5 (r4" in message
    assert "row 6 (r5" not in message  # the cheapest of six is not among the five named


def test_every_row_needs_a_price_under_a_dollar_budget():
    batch = priced(plan(*SIX[:2]), 0.49, None)
    check_spend(batch, 10)  # no cap: an unpriced row is allowed
    with pytest.raises(KlingValidationError, match="needs a price for every row; .* row 2 .*variable"):
        check_spend(batch, 10, max_usd=100)


def test_a_plan_the_balance_does_not_cover_is_refused_naming_both():
    batch = priced(plan(*SIX[:2]), 0.49, 0.98)
    check_spend(batch, 10, balance=1.47)
    with pytest.raises(KlingValidationError, match=r"cost up to \$1.47 but the account's balance is \$1.00"):
        check_spend(batch, 10, balance=1.0)


@pytest.mark.parametrize("bad", [0, -5, "lots"])
def test_a_bad_dollar_budget_is_refused(bad):
    with pytest.raises(KlingValidationError, match="max_usd must be a positive number"):
        check_spend(priced(plan(GOOD), 0.49), 10, max_usd=bad)


@pytest.mark.parametrize("bad", [-4.0, NAN, INF, -INF, "0.5", True], ids=repr)
def test_a_row_with_a_bad_price_cannot_lower_the_total_and_is_unpriced_under_a_budget(bad):
    batch = priced(plan(*SIX[:2]), 5.0, bad)
    assert plan_total(batch) == 5.0  # a negative row used to make it 1.0
    with pytest.raises(KlingValidationError, match=r"needs a price for every row; .* row 2"):
        check_spend(batch, 10, max_usd=6)
    with pytest.raises(KlingValidationError, match=r"cost up to \$5.00 but the account's balance is \$2.00"):
        check_spend(batch, 10, balance=2.0)
    with pytest.raises(KlingValidationError, match=r"row 2 \(r1, kling-video/v1.6/pro/text-to-video\): price="):
        check_spend(batch, 10, balance=100.0)  # the balance covers the priced row: the bad one is refused


@pytest.mark.parametrize(("balance", "named"), [(NAN, "nan"), (INF, "inf"), (-1.0, "-1.0"), ("12", "'12'")])
def test_a_balance_that_is_not_a_finite_non_negative_number_refuses_the_plan_naming_it(balance, named):
    # A NaN balance used to pass (a total > NaN is False).
    with pytest.raises(KlingValidationError, match=f"the account's balance is {named}, not a finite, non-negative"):
        check_spend(priced(plan(GOOD), 0.49), 10, balance=balance)


def test_the_batch_plan_refuses_a_bad_balance_over_http_before_any_create(simulator, tmp_path, monkeypatch):
    from airflow_provider_kling.batch import price_plan
    from airflow_provider_kling.exceptions import KlingResponseError
    from airflow_provider_kling.hooks import prices
    from airflow_provider_kling.hooks.kling import KlingHook

    monkeypatch.setenv("KLING_CACHE_DIR", str(tmp_path / "cache"))
    prices.reset_process_copies()
    simulator.configure(bad_money={"balance": "NaN"})
    batch = plan(GOOD, output=str(tmp_path))
    hook = KlingHook()
    price_plan(batch, hook)  # as the batch DAG's plan task does, then the balance
    with pytest.raises(KlingResponseError, match="current_balance=nan, not a finite, non-negative number"):
        check_spend(batch, 10, balance=hook.balance())
    assert simulator.stats()["create_requests"] == 0
    prices.reset_process_copies()


AVATAR = (
    '{"output": "av", "model": "klingai/avatar-pro", "image_url": "https://x/a.png", "audio_url": "https://x/a.mp3"}'
)


def test_a_plan_whose_prices_are_bad_numbers_is_refused_by_the_balance_check(simulator, tmp_path, fresh_prices):
    # The balance check used to count a row priced NaN as $0: the plan passed and every row was sent.
    from airflow_provider_kling.batch import price_plan
    from airflow_provider_kling.hooks.kling import KlingHook

    simulator.configure(bad_money={"price": "NaN"}, balance=0.10)  # each row really costs $0.49
    batch = plan(GOOD, '{"output": "b", "prompt": "x", "duration": 5}', AVATAR, output=str(tmp_path))
    hook = KlingHook()
    price_plan(batch, hook)  # as the batch DAG's plan task does, then the balance
    with pytest.raises(KlingValidationError) as refused:
        check_spend(batch, 10, balance=hook.balance())
    message = str(refused.value)
    assert "row 1 (a, kling-video/v1.6/pro/text-to-video): price=nan; row 2 (b, kling-video/v1.6/pro" in message
    assert "nothing was submitted" in message
    assert "row 3" not in message  # the avatar's price is variable by design, not a bad number
    assert simulator.stats()["create_requests"] == 0


def test_a_variable_price_is_not_counted_against_the_balance(simulator, tmp_path, fresh_prices):
    # The avatars have no quote ahead (charged by their audio's length): not a bad number, not refused.
    from airflow_provider_kling.batch import price_plan
    from airflow_provider_kling.hooks.kling import KlingHook

    simulator.configure(bad_money={"price": "NaN"}, balance=0.10)
    batch = plan(AVATAR, output=str(tmp_path))
    hook = KlingHook()
    price_plan(batch, hook)
    assert batch["todo"][0]["quote"]["bad"] is None
    check_spend(batch, 10, balance=hook.balance())
    with pytest.raises(KlingValidationError, match="max_usd=\\$5.00 needs a price for every row"):
        check_spend(batch, 10, max_usd=5)  # a dollar budget still needs a price


def test_a_balance_check_names_at_most_five_rows_with_a_bad_price():
    batch = plan(*SIX)
    for row in batch["todo"]:
        row["quote"] = {"low": None, "high": None, "basis": "no quote", "bad": "price=inf"}
    with pytest.raises(KlingValidationError) as refused:
        check_spend(batch, 10, balance=100.0)
    assert "row 5 (r4, kling-video/v1.6/pro/text-to-video): price=inf; and 1 more" in str(refused.value)


def test_rows_a_cleared_run_planned_before_are_not_counted_against_the_balance_again():
    # The balance covered them when the run first planned them, and they may be paid for already: counted
    # again, a run the balance paid for could not be cleared.
    batch = priced(plan(*SIX[:3]), 0.49, 0.98, 0.84)
    batch["todo"][0]["planned_before"] = batch["todo"][1]["planned_before"] = True
    check_spend(batch, 10, balance=0.84)
    with pytest.raises(KlingValidationError) as refused:
        check_spend(batch, 10, balance=0.50)
    message = str(refused.value)
    assert "this run would cost up to $0.84 but the account's balance is $0.50" in message
    assert "(2 row(s) planned before the run was cleared are not counted again)" in message
    with pytest.raises(KlingValidationError, match=r"cost up to \$2.31, more than max_usd=\$2.00"):
        check_spend(batch, 10, max_usd=2)  # the run's budget is for all its rows
