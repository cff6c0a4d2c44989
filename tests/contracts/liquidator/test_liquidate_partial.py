"""Liquidator.liquidate near its caps: a partial seizure divides the room by rate and penalty and
leaves no dust, a remainder that would be dust takes the whole vault, and the global cap is
shared across types. Scenario and helpers: tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

import pytest
from helpers import ceil_div
from support.liquidation import CRASH_PRICE, DUST, PENALTY
from support.liquidation import auction as _auction
from support.liquidation import backstop as _backstop
from support.liquidation import crash as _crash
from support.liquidation import ctype as _ctype
from support.liquidation import liquidate as _liquidate
from support.liquidation import liquidator as _liquidator
from support.liquidation import loss as _loss
from support.liquidation import returns as _returns
from support.liquidation import seized as _seized
from support.liquidation import set_global_cap as _set_global_cap
from support.liquidation import set_type_cap as _set_type_cap
from support.liquidation import stable as _stable
from support.liquidation import to_raise as _to_raise
from support.liquidation import type_config as _type_config
from support.liquidation import unsafe_eth_vault as _unsafe_eth_vault
from support.liquidation import vault as _vault

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def _set_cap(system, which: str, amount: int) -> None:
    if which == "global":
        _set_global_cap(system, amount)
    else:
        _set_type_cap(system, system.eth, amount)


@pytest.mark.parametrize("which", ["global", "type"])
def test_liquidate__cap_near__partial_leaves_no_dust(system, which):
    """Money flow: with 5,000 BUSD of room under the cap, only room / rate / penalty of the debt
    (rounded down) and its share of the collateral (rounded up) go to auction; the debt to raise
    stays within the cap and the vault keeps a remainder above dust (still unsafe). A second
    liquidation finds a room worth less than dust and reverts; at the cap it reverts too."""
    r, t = system.roles, system.eth
    _unsafe_eth_vault(system)
    room = 5_000 * RAD
    _set_cap(system, which, room)
    rate = _ctype(system, t).rate
    seized_debt = _seized(room, rate)
    seized_collateral = ceil_div(10 * WAD * seized_debt, 13_000 * WAD)
    to_raise = _to_raise(seized_debt * rate)
    assert seized_debt == 5_000 * RAD * WAD // rate // PENALTY
    assert 4_424 * WAD < seized_debt < 4_425 * WAD

    _liquidate(system, r.borrower)
    liquidated = _events(system)[-1]
    assert liquidated[1] == "Liquidated"
    assert liquidated[2]["normalized_debt"] == seized_debt
    assert liquidated[2]["collateral"] == seized_collateral
    assert liquidated[2]["debt"] == seized_debt * rate
    left_collateral, left_debt = _vault(system, t, r.borrower)
    assert (left_collateral, left_debt) == (
        10 * WAD - seized_collateral,
        13_000 * WAD - seized_debt,
    )
    assert left_debt * rate >= DUST
    assert _auction(system, t, 1).debt == to_raise <= room
    assert _auction(system, t, 1).lot == seized_collateral
    assert _liquidator(system, "debt_in_auction") == to_raise
    assert _type_config(system, t).debt_in_auction == to_raise
    # the event records the part seized, and what its auction must raise
    assert _loss(system, t, 1)[:2] == (seized_debt * rate, to_raise)
    assert _backstop(system, "attributed_debt") == seized_debt * rate

    # the little room left buys less than dust: no dust auction
    assert _seized(room - to_raise, rate) * rate < DUST
    with reverts("liquidator: partial auction below dust"):
        _liquidate(system, r.borrower)
    # and with no room at all, the cap is reached
    _set_cap(system, which, to_raise)
    with reverts("liquidator: debt in auction at cap"):
        _liquidate(system, r.borrower)
    assert _vault(system, t, r.borrower) == (left_collateral, left_debt)


def test_liquidate__accrued_rate__partial_seizure_divides_room_by_rate(system):
    """Money flow: a year of 2% fees raises the rate (the Backstop is credited the fees); with a
    5,000 BUSD room the liquidator seizes room / rate / penalty of normalized debt, so the debt
    to raise (at the new rate) still fits the room."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 13_000 * WAD)
    old_rate = _ctype(system, t).rate
    system.warp(365 * 24 * 3600)
    system.tx(system.d.fees, "accrue", r.keeper, t.type_id)
    rate = _ctype(system, t).rate
    assert rate > 1_019 * RAY // 1_000
    assert _stable(system, system.d.backstop) == 13_000 * WAD * (rate - old_rate)
    _crash(system, t, CRASH_PRICE)
    _set_global_cap(system, 5_000 * RAD)

    _liquidate(system, r.borrower)
    seized_debt = 5_000 * RAD * WAD // rate // PENALTY
    assert seized_debt < 5_000 * RAD * WAD // old_rate // PENALTY
    assert _vault(system, t, r.borrower)[1] == 13_000 * WAD - seized_debt
    assert _liquidator(system, "debt_in_auction") == _to_raise(seized_debt * rate) <= 5_000 * RAD


@pytest.mark.parametrize("dust_excess", [0, 1])
def test_liquidate__remainder_at_dust_is_left_one_wei_below_takes_whole_vault(system, dust_excess):
    """Money flow: with a room that leaves a remainder of exactly the dust, the liquidation is
    partial; with the dust one wei higher the remainder would be dust, so the whole vault (all
    collateral, all debt) goes to auction, beyond the cap (the documented overshoot)."""
    r, t = system.roles, system.eth
    _unsafe_eth_vault(system)
    rate = _ctype(system, t).rate
    room = (13_000 - 100) * WAD * rate * PENALTY // WAD
    seized_debt = _seized(room, rate)
    remainder = 13_000 * WAD - seized_debt
    system.tx(system.d.engine, "set_dust", r.governance, t.type_id, remainder * rate + dust_excess)
    _set_global_cap(system, room)

    _liquidate(system, r.borrower)
    if dust_excess == 0:
        seized_collateral = ceil_div(10 * WAD * seized_debt, 13_000 * WAD)
        assert _vault(system, t, r.borrower) == (10 * WAD - seized_collateral, remainder)
        assert _liquidator(system, "debt_in_auction") == _to_raise(seized_debt * rate) <= room
    else:
        assert _vault(system, t, r.borrower) == (0, 0)
        assert _events(system)[-1][2]["normalized_debt"] == 13_000 * WAD
        assert _events(system)[-1][2]["collateral"] == 10 * WAD
        assert _liquidator(system, "debt_in_auction") == _to_raise(13_000 * WAD * rate) > room


@pytest.mark.parametrize("which", ["global", "type"])
def test_liquidate__remainder_would_be_dust__takes_whole_vault_exceeding_cap(system, which):
    """Money flow: the room would leave about 50 BUSD (below the 100 dust) in the vault, so the
    whole vault is auctioned and the debt in auction overshoots the cap by the difference; the
    next liquidation finds the cap reached."""
    r, t = system.roles, system.eth
    system.open_vault(r.other, "ETH-A", 2 * WAD, 2_600 * WAD)
    _unsafe_eth_vault(system)
    rate = _ctype(system, t).rate
    room = (13_000 - 50) * WAD * rate * PENALTY // WAD
    assert (13_000 * WAD - _seized(room, rate)) * rate < DUST
    _set_cap(system, which, room)

    _liquidate(system, r.borrower)
    to_raise = _to_raise(13_000 * WAD * rate)
    assert _vault(system, t, r.borrower) == (0, 0)
    assert _auction(system, t, 1).lot == 10 * WAD
    assert _auction(system, t, 1).debt == to_raise
    assert _liquidator(system, "debt_in_auction") == to_raise > room
    assert _type_config(system, t).debt_in_auction == to_raise
    with reverts("liquidator: debt in auction at cap"):
        _liquidate(system, r.other)


def test_liquidate__partial_auction_below_dust__reverts(system):
    """A 100 BUSD room buys 100 / 1.13 of debt, below the 100 dust, while the vault's
    remainder would be far above it: no dust auction is started."""
    r, t = system.roles, system.eth
    _unsafe_eth_vault(system)
    _set_global_cap(system, DUST)
    with reverts("liquidator: partial auction below dust"):
        _liquidate(system, r.borrower)
    assert _vault(system, t, r.borrower) == (10 * WAD, 13_000 * WAD)
    assert _liquidator(system, "debt_in_auction") == 0


@pytest.mark.parametrize("which", ["global", "type"])
def test_liquidate__cap_zero__reverts_debt_in_auction_at_cap(system, which):
    r = system.roles
    _unsafe_eth_vault(system)
    _set_cap(system, which, 0)
    with reverts("liquidator: debt in auction at cap"):
        _liquidate(system, r.borrower)
    assert _vault(system, system.eth, r.borrower) == (10 * WAD, 13_000 * WAD)


def test_liquidate__zero_dust_and_no_room_for_one_wei__reverts_nothing_to_seize(system):
    """With dust 0 a room of 1 wei of rad seizes 0 normalized debt and so 0 collateral."""
    r, t = system.roles, system.eth
    _unsafe_eth_vault(system)
    system.tx(system.d.engine, "set_dust", r.governance, t.type_id, 0)
    _set_global_cap(system, 1)
    with reverts("liquidator: nothing to seize"):
        _liquidate(system, r.borrower)
    assert (
        _returns(
            system,
            system.d.liquidator,
            "liquidate_many",
            r.keeper,
            t.type_id,
            [r.borrower],
            r.keeper,
        )
        == 0
    )


def test_liquidate__global_cap_is_shared_across_types(system):
    """Money flow: ETH's whole vault uses most of the global cap; the BTC vault then gets only the
    5,000 BUSD left, though its own type cap is 5M."""
    r, eth, btc = system.roles, system.eth, system.btc
    system.open_vault(r.other, "WBTC-A", WAD, 20_000 * WAD)  # safe at 30,000 (20,690 safe value)
    _unsafe_eth_vault(system)
    eth_to_raise = _to_raise(13_000 * WAD * _ctype(system, eth).rate)
    _set_global_cap(system, eth_to_raise + 5_000 * RAD)
    _liquidate(system, r.borrower)

    _crash(system, btc, 25_000 * WAD)  # 17,241 of safe value: unsafe
    btc_rate = _ctype(system, btc).rate
    seized_debt = _seized(5_000 * RAD, btc_rate)
    _liquidate(system, r.other, t=btc)
    btc_to_raise = _to_raise(seized_debt * btc_rate)
    seized_collateral = ceil_div(WAD * seized_debt, 20_000 * WAD)
    assert _vault(system, btc, r.other) == (WAD - seized_collateral, 20_000 * WAD - seized_debt)
    assert _type_config(system, btc).debt_in_auction == btc_to_raise
    assert _type_config(system, eth).debt_in_auction == eth_to_raise
    assert (
        _liquidator(system, "debt_in_auction")
        == eth_to_raise + btc_to_raise
        <= eth_to_raise + 5_000 * RAD
    )


def test_liquidate__partial_that_rounds_to_all_collateral__takes_the_whole_vault(system):
    """Money flow: with dust at 0, a vault of 3 wei of collateral and 3,900 wei of debt is
    liquidated under a cap that allows about 3,700 wei of it; the seized collateral rounds up to
    all 3 wei, so the liquidator takes all the debt too instead of leaving debt with no
    collateral."""
    r, t = system.roles, system.eth
    system.tx(system.d.engine, "set_dust", r.governance, t.type_id, 0)
    _unsafe_eth_vault(system, collateral=3, debt=3_900)
    rate = _ctype(system, t).rate
    # room for 3,700 wei of normalized debt: 3,700 * rate * penalty / WAD, rounded up
    _set_type_cap(system, t, -(-3_700 * rate * PENALTY // WAD))
    _liquidate(system, r.borrower)
    assert _vault(system, t, r.borrower) == (0, 0)
    liquidated = [e.args for e in system.events if e.name == "Liquidated"][0]
    assert (liquidated["collateral"], liquidated["normalized_debt"]) == (3, 3_900)
