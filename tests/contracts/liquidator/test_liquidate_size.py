"""Liquidator.liquidate under a size margin (contracts/modules/size_margin.vy): a vault safe at the
base ratio but unsafe at its own size is cut, not taken whole: the least debt (at least the
dust) that leaves a remainder its proportionally cut collateral carries at the remainder's own
size; a vault unsafe at the base ratio is liquidated as without a size margin. Expected numbers:
the rule as the Liquidator's docstring states it (the specification's `size_cut`), checked
against plain arithmetic here. Scenario and helpers: tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

import pytest
from support.liquidation import DUST, crash, ctype, liquidate, vault
from support.liquidation import set_type_cap as _set_type_cap

from offchain.model.fixed_point import RAD, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts
from offchain.testing.specification.curves import margin_debt, size_cut

# 10,000 BUSD threshold, +10% of the base ratio per further 10,000, at most +60%
SIZE = (10_000, 100_000, 600_000)


def _size_margin(system, size=SIZE) -> None:
    system.tx(
        system.d.engine, "set_size_margin", system.roles.governance, system.eth.type_id, *size
    )


def _liquidated(system) -> dict:
    return next(args for _, name, args in _events(system) if name == "Liquidated")


def test_liquidate__unsafe_by_size_alone__cut_to_a_remainder_safe_at_its_size(system):
    """Money flow: 100 ETH against 90,000 BUSD is safe at the base ratio (133,333 of safe value)
    but weighs 144,000 at its size. Its headroom is 48.1% of its debt, so it keeps 10,000 +
    10,000 x 481,480 / 100,000 = 58,148 BUSD (one ppm to spare), and about 31,852 of debt with
    35.4 ETH goes to auction, not all 90,000. The remainder is safe at its own size and cannot
    be liquidated again."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 100 * WAD, 90_000 * WAD)
    _size_margin(system)
    c = ctype(system, t)
    expected = size_cut(100 * WAD, 90_000 * WAD, c.rate, c.safe_price, c.dust, SIZE)
    assert expected is not None and expected > 0  # the rule applies and a cut exists
    assert 31_800 * WAD < expected * c.rate // 10**27 < 31_900 * WAD
    liquidate(system, r.borrower)
    seized = _liquidated(system)
    assert seized["normalized_debt"] == expected
    assert seized["collateral"] == -(-100 * WAD * expected // (90_000 * WAD))
    left_collateral, left_debt = vault(system, t, r.borrower)
    assert left_debt == 90_000 * WAD - expected
    assert margin_debt(left_debt * c.rate, SIZE) <= left_collateral * c.safe_price
    assert system.view(system.d.engine, "is_safe", t.type_id, r.borrower) is True
    with reverts("liquidator: vault is safe"):
        liquidate(system, r.borrower)


def test_liquidate__unsafe_at_the_base_ratio__taken_whole_as_without_size_margin(system):
    """A large vault the crash makes unsafe at the base ratio itself goes to auction whole: the
    size margin only ever seizes less, never more."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 100 * WAD, 60_000 * WAD)
    _size_margin(system)
    crash(system, t, 850 * WAD)  # 56,667 of safe value: unsafe at the base ratio
    liquidate(system, r.borrower)
    assert _liquidated(system)["normalized_debt"] == 60_000 * WAD
    assert vault(system, t, r.borrower) == (0, 0)


def test_liquidate__size_cut_larger_than_the_caps_room__caps_win(system):
    """With only 5,000 BUSD of room under the type's cap, the caps' amount (smaller than the
    size cut) is seized, as without a size margin."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 100 * WAD, 90_000 * WAD)
    _size_margin(system)
    _set_type_cap(system, t, 5_000 * RAD)
    c = ctype(system, t)
    cut = size_cut(100 * WAD, 90_000 * WAD, c.rate, c.safe_price, c.dust, SIZE)
    assert cut is not None and cut > 0
    liquidate(system, r.borrower)
    seized = _liquidated(system)["normalized_debt"]
    assert seized < cut and seized * c.rate < 5_000 * RAD


def test_liquidate__just_over_the_size_limit__cut_is_at_least_the_dust(system):
    """A vault a hair over its size limit needs a tiny cut; the Liquidator seizes at least the
    dust (an auction below dust could never be worth taking)."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 100 * WAD, 102_000 * WAD)
    # +3.34% per 10,000 above 10,000: 102,000 weighs 102,000 x 1.30728 = 133,343, just above
    # its 133,333 of safe value; the formula keeps 101,972 (a cut of 28 BUSD): dust instead
    _size_margin(system, (10_000, 33_400, 600_000))
    assert system.view(system.d.engine, "is_safe", t.type_id, r.borrower) is False
    c = ctype(system, t)
    liquidate(system, r.borrower)
    seized = _liquidated(system)["normalized_debt"]
    assert seized == -(-DUST // c.rate)
    assert system.view(system.d.engine, "is_safe", t.type_id, r.borrower) is True


def test_liquidate_many__size_margin_read_once_applies_to_each(system):
    """A batch applies the same rule to each vault: a safe small vault is skipped, a large one
    unsafe by size is cut."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 100 * WAD, 90_000 * WAD)
    system.open_vault(r.other, "ETH-A", 10 * WAD, 8_000 * WAD)
    _size_margin(system)
    c = ctype(system, t)
    cut = size_cut(100 * WAD, 90_000 * WAD, c.rate, c.safe_price, c.dust, SIZE)
    assert cut is not None and cut > 0
    system.tx(
        system.d.liquidator,
        "liquidate_many",
        r.keeper,
        t.type_id,
        [r.other, r.borrower],
        r.keeper,
    )
    assert _liquidated(system)["normalized_debt"] == cut
    assert vault(system, t, r.other) == (10 * WAD, 8_000 * WAD)


@pytest.mark.parametrize(
    "size, dust, debt, headroom_ppm",
    [
        # threshold 3,000 above the devnet dust 2,500: a 4,000 vault 2% above the base ratio,
        # its size asking for +3.3%
        ((3_000, 100_000, 600_000), None, 4_000, 20_000),
        # threshold 25,000; governance later raises the dust to 15,000: a 28,000 vault 1% above
        # the base ratio, its size asking +1.2%
        ((25_000, 100_000, 500_000), 15_000, 28_000, 10_000),
    ],
)
def test_liquidate__unsafe_by_size_but_no_cut_leaves_the_dust__refused_not_taken_whole(
    system, size, dust, debt, headroom_ppm
):
    """Found by the adversarial read of issue 35: a vault safe at the base ratio whose debt is
    above the threshold but below about two dusts has no cut (at least the dust, leaving at
    least the dust). It used to be taken whole, with the penalty on all its debt; it is refused
    ("no size cut") and keeps everything, and a batch skips it. It is safe at the base ratio: a
    fall to below that makes it liquidable as any vault."""
    r, t, e = system.roles, system.eth, system.d.engine
    if dust is not None:
        system.tx(e, "set_dust", r.governance, t.type_id, dust * RAD)
    c = ctype(system, t)
    debt_rad = debt * WAD * c.rate
    collateral = -(-debt_rad * (10**6 + headroom_ppm) // 10**6 // c.safe_price)
    system.open_vault(r.borrower, "ETH-A", collateral, debt * WAD)
    system.tx(e, "set_size_margin", r.governance, t.type_id, *size)
    c = ctype(system, t)
    value = collateral * c.safe_price
    assert debt * WAD * c.rate <= value < margin_debt(debt * WAD * c.rate, size)
    assert debt * WAD * c.rate < 2 * c.dust
    with reverts("liquidator: no size cut"):
        liquidate(system, r.borrower)
    system.tx(system.d.liquidator, "liquidate_many", r.keeper, t.type_id, [r.borrower], r.keeper)
    assert vault(system, t, r.borrower) == (collateral, debt * WAD)
    crash(system, t, 1_900 * WAD)  # unsafe at the base ratio now: taken whole, as ever
    liquidate(system, r.borrower)
    assert vault(system, t, r.borrower) == (0, 0)
