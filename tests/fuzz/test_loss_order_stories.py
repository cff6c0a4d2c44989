"""Issue 63's fuzz stories (offchain/testing/machine/settlement.py `cancel_story`,
waterfall.py `debt_repay_story`) played as explicit rule sequences on revm, with every check of
the fuzz after each step (chain == model on the storage, the invariants, the Auditor and the
specification of offchain/testing/specification/loss_order.py): so that the paths the fuzz's
planted bugs need are reached whatever Hypothesis draws, and the stories themselves are tested
(each ends where its docstring says)."""

from __future__ import annotations

import pytest

from offchain.testing.differential import make_machine
from offchain.testing.fuzz import FuzzTarget
from offchain.testing.stats import Totals

FIRST_VAULTS = {"amount": 20, "debt_fraction": 900_000, "depth": 1_000_000}


def _play(revm: FuzzTarget, kind: str, steps: list[tuple[str, dict]]) -> Totals:
    """Run `steps` (rule, arguments) after the first vaults, checked after each as the fuzz
    checks; the example's full comparison at the end. Returns the counts."""
    totals = Totals()
    machine = make_machine(revm.evm, revm.deployed, revm.roles, kind, totals)()
    try:
        machine.open_first_vaults(**FIRST_VAULTS)
        machine.chain_equals_model_and_invariants_hold()
        for rule, arguments in steps:
            getattr(machine, rule)(**arguments)
            machine.chain_equals_model_and_invariants_hold()
    finally:
        machine.teardown()
    return totals


# after the cancel story: every vault closed, the wait, thaw, the cash prices, and the users
# pack all their stablecoin and cash it for collateral of each type
SETTLE_TO_THE_END = [
    ("settlement", {"step": step, "name": name, "owner_i": i, "frac": 10**6, "wait": wait})
    for step, wait in (
        ("close", False),
        ("thaw", True),
        ("cash_price", False),
        ("pack", False),
        ("cash", False),
    )
    for name in ("ETH-A", "WBTC-A")
    for i in range(4)
]


@pytest.mark.parametrize("order", ["cancel_then_cover", "cover_then_cancel", "close_first"])
@pytest.mark.parametrize("pool", [True, False])
# 3: a quarter of the lot taken first, surplus for the fund, the price then to 53%; 4: neither,
# to 54%
@pytest.mark.parametrize("frac", [3, 4])
def test_cancel_story__underwater_lot_at_shutdown__cancelled_covered_and_settled(
    revm, order, pool, frac
):
    """The cancel story with its lot under its tab at the final price, a funded pool or none,
    in each order; then the settlement rule's steps to the last redemption."""
    story = {"go": 0, "name": "ETH-A", "user_i": 0, "frac": frac, "order": order, "pool": pool}
    totals = _play(revm, "full", [("cancel_story", story), *SETTLE_TO_THE_END])
    outcomes = totals.outcomes
    assert outcomes["ok GlobalSettlement.cancel_auction"] >= 1
    assert outcomes["cancel story: lot worth less than its tab"] == 1
    assert outcomes["cancel story: every loss covered after shutdown"] == 1
    assert (outcomes["cancel story: the pool paid after shutdown"] >= 1) == pool
    assert outcomes["ok GlobalSettlement.thaw"] == 1
    assert outcomes["ok GlobalSettlement.cash"] >= 1


@pytest.mark.parametrize("kind", ["full", "liquidations"])
@pytest.mark.parametrize("before", ["none", "part", "all"])
def test_debt_repay_story__surplus_pays_before_any_mint(revm, kind, before):
    """The debt-repayment story: with no surplus the debt is auctioned (and the auction repaid
    when surplus arrives, one wei short first); with part, half is repaid and the rest
    auctioned; with all, nothing is auctioned."""
    steps = [
        ("debt_repay_story", {"name": "ETH-A", "user_i": 0, "frac": 1, "before": before}),
    ]
    totals = _play(revm, kind, steps)
    outcomes = totals.outcomes
    if before == "all":
        assert outcomes["debt repay story: surplus repaid all, no auction"] == 1
        assert outcomes["ok DebtAuction.repay"] == 0
    else:
        assert outcomes["debt repay story: an auction started"] == 1
        assert outcomes["debt repay story: an auction without a bid repaid"] == 1
        assert outcomes["revert repay: debt auction: surplus below bid"] == 1
        assert outcomes["revert repay: debt auction: not running"] == 1
