"""Backstop.cover through the loss waterfall: the default order (fund, pool, debt auction,
redistribution), other orders of the same loss, redistribution to the type, an empty waterfall
and unset layer contracts. The loss event used throughout: tests/contracts/support/waterfall.py.
"""

from __future__ import annotations

import pytest
from helpers import ceil_div
from support.waterfall import DEFAULT_WATERFALL
from support.waterfall import assert_done as _assert_done
from support.waterfall import backstop as _backstop
from support.waterfall import bad_debt as _bad_debt
from support.waterfall import cover as _cover
from support.waterfall import crash as _crash
from support.waterfall import ctype as _ctype
from support.waterfall import loss_event as _loss_event
from support.waterfall import pool as _pool
from support.waterfall import receipts as _receipts
from support.waterfall import set_waterfall as _set_waterfall
from support.waterfall import stable as _stable

from offchain.model.backstop import CLOSED, DEBT_AUCTION, FUND, POOL, REDISTRIBUTION
from offchain.model.dutch_auction import SLOT_BITS
from offchain.model.fixed_point import RAD, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def test_cover__default_waterfall__fund_then_pool_then_debt_auction(system):
    """Money flow: of the loss L (about 1,120), the insurance fund pays all its 300 of surplus
    (beyond the keeper reward it keeps for the unattributed bad debt: finding 31-6),
    the stability pool all its 500 of assets (moved to the Backstop: the pool's first charge),
    and the debt-auction layer takes the last L - 800 as debt to raise later by minting
    governance tokens (it stays the Backstop's bad debt, booked in debt_to_auction). The 800
    are unsettled proceeds until a heal cancels them against the event's bad debt. Receipts sum
    to the loss exactly."""
    r, b, pool = system.roles, system.d.backstop, system.d.stability_pool
    event = _loss_event(system, surplus=300 * RAD, stake=500 * RAD, for_reward=True)
    assert _backstop(system, "get_waterfall") == tuple(DEFAULT_WATERFALL)

    rest = event.loss - 800 * RAD
    receipts = _cover(system, event)
    assert receipts == [
        (FUND, b, 300 * RAD),
        (POOL, pool, 500 * RAD),
        (DEBT_AUCTION, system.d.debt_auction, rest),
    ]
    assert sum(amount for _, _, amount in receipts) == event.loss
    e, ids = (
        system.d.engine,
        {
            "collateral_type": event.type_id,
            "auction": event.auction,
            "auction_id": event.auction_id,
        },
    )
    # the fund's 300 and the pool's 500 are not cancelled here (no DebtSettled): they wait, as
    # unsettled proceeds, for a heal
    assert _events(system) == [
        (b, "LossAllocated", {**ids, "layer": FUND, "participant": b, "amount": 300 * RAD}),
        (e, "StableTransferred", {"src": pool, "dst": b, "amount": 500 * RAD}),
        (pool, "Absorbed", {**ids, "charge_id": 1, "amount": 500 * RAD}),
        (b, "LossAllocated", {**ids, "layer": POOL, "participant": pool, "amount": 500 * RAD}),
        (
            b,
            "LossAllocated",
            {**ids, "layer": DEBT_AUCTION, "participant": system.d.debt_auction, "amount": rest},
        ),
    ]
    held = 800 * RAD
    assert (_stable(system, b), _bad_debt(system, b)) == (
        held + event.reward,
        event.reward + rest + held,
    )
    _assert_done(system, event, healed=800 * RAD)
    assert _backstop(system, "debt_to_auction") == rest
    assert _backstop(system, "unattributed_debt") == event.reward
    # the surplus kept for the reward settles it
    assert (_stable(system, b), _bad_debt(system, b)) == (event.reward, event.reward + rest)
    assert (_pool(system, "assets"), _pool(system, "total_shares")) == (0, 500 * RAD)
    assert (_pool(system, "charge_count"), _pool(system, "charge_amount", 1)) == (1, 500 * RAD)
    assert _pool(system, "value_of", r.stranger) == 0
    assert _ctype(system).rate == event.rate


@pytest.mark.parametrize("pool_first", [False, True], ids=["fund_first", "pool_first"])
def test_cover__same_loss__order_decides_who_pays(system, pool_first):
    """Money flow: 300 of surplus and 1,000 staked, a loss L of about 1,120: both layers
    together can pay it, so the debt auction and redistribution pay nothing; which of the two
    is exhausted depends on the order alone. Fund first: it pays all 300, the pool L - 300 and
    keeps 1,300 - L (about 180). Pool first: it pays all 1,000, the fund L - 1,000 and keeps
    1,300 - L. The fund keeps the keeper reward besides (finding 31-6)."""
    b, pool = system.d.backstop, system.d.stability_pool
    event = _loss_event(system, surplus=300 * RAD, stake=1_000 * RAD, for_reward=True)
    left = 1_300 * RAD - event.loss
    if pool_first:
        _set_waterfall(system, [POOL, FUND, DEBT_AUCTION, REDISTRIBUTION])
        expected = [(POOL, pool, 1_000 * RAD), (FUND, b, event.loss - 1_000 * RAD)]
        fund_left, pool_left = left, 0
    else:
        expected = [(FUND, b, 300 * RAD), (POOL, pool, event.loss - 300 * RAD)]
        fund_left, pool_left = 0, left
    receipts = _cover(system, event)
    assert receipts == expected
    assert sum(amount for _, _, amount in receipts) == event.loss
    _assert_done(system, event, healed=event.loss)
    assert _stable(system, b) == fund_left + event.reward
    assert _pool(system, "assets") == pool_left
    assert _pool(system, "value_of", system.roles.stranger) == pool_left
    assert _backstop(system, "debt_to_auction") == 0
    assert _bad_debt(system, b) == event.reward


def test_cover__pool_then_fund__fund_pays_free_surplus_not_the_pools_payment(system):
    """Money flow: waterfall [pool, fund, debt auction], 100 of surplus and 500 staked, a loss L
    of about 1,120. The pool pays its 500 to the Backstop first; that stablecoin is owed to the
    loss (unsettled proceeds), not surplus, so the fund pays only its own 100 and the debt
    auction takes L - 600. Healed, the 600 cancel as much of the event's bad debt and the
    Backstop holds only the keeper reward it keeps for the unattributed bad debt (finding
    31-6)."""
    b, pool = system.d.backstop, system.d.stability_pool
    event = _loss_event(system, surplus=100 * RAD, stake=500 * RAD, for_reward=True)
    _set_waterfall(system, [POOL, FUND, DEBT_AUCTION])
    rest = event.loss - 600 * RAD
    assert _cover(system, event) == [
        (POOL, pool, 500 * RAD),
        (FUND, b, 100 * RAD),
        (DEBT_AUCTION, system.d.debt_auction, rest),
    ]
    assert _stable(system, b) == 600 * RAD + event.reward
    _assert_done(system, event, healed=600 * RAD)
    assert (_stable(system, b), _bad_debt(system, b)) == (event.reward, event.reward + rest)
    assert _backstop(system, "debt_to_auction") == rest


def test_cover__no_debt_auction_layer__rest_is_redistributed_to_the_type(system):
    """Money flow: waterfall [fund, pool, redistribution]: the fund pays 300, the pool 500, and
    the last L - 800 is folded into ETH-A's rate: the other's 7,000 of normalized debt now owe
    7,000 x ceil((L - 800) / 7,000) >= L - 800 more, credited to the Backstop, which settles
    L - 800 (with the fund's and the pool's payments, when healed) and keeps the rounding excess
    as surplus. No debt is left to auction."""
    r, b, pool, e = system.roles, system.d.backstop, system.d.stability_pool, system.d.engine
    event = _loss_event(
        system,
        surplus=300 * RAD,
        stake=500 * RAD,
        vaults=[(r.other, 30 * WAD, 7_000 * WAD)],
        for_reward=True,
    )
    _set_waterfall(system, [FUND, POOL, REDISTRIBUTION])
    receipts = _cover(system, event)
    rest = event.loss - 800 * RAD
    assert receipts == [(FUND, b, 300 * RAD), (POOL, pool, 500 * RAD), (REDISTRIBUTION, e, rest)]
    assert sum(amount for _, _, amount in receipts) == event.loss
    art = 7_000 * WAD
    delta_rate = ceil_div(rest, art)
    excess = art * delta_rate - rest
    assert 0 < excess < art
    redistributed = [
        args for addr, name, args in _events(system) if addr == b and name == "LossRedistributed"
    ]
    assert redistributed == [
        {
            "collateral_type": event.type_id,
            "auction": event.auction,
            "auction_id": event.auction_id,
            "delta_rate": delta_rate,
            "excess": excess,
        }
    ]
    _assert_done(system, event, healed=event.loss)
    assert _ctype(system).rate == event.rate + delta_rate
    assert _read(system, e, "vault_debt", event.type_id, r.other) == art * (event.rate + delta_rate)
    assert _backstop(system, "debt_to_auction") == 0
    assert (_stable(system, b), _bad_debt(system, b)) == (excess + event.reward, event.reward)


def test_cover__redistribution_only__rate_rises_and_near_line_vault_can_be_liquidated(system):
    """Money flow: waterfall [redistribution], no surplus, no stakers. The whole loss L is
    folded into ETH-A's rate: delta_rate = ceil(L / 24,500) over the other's 19,500 and the
    stranger's 5,000 of normalized debt; the vaults owe 24,500 x delta_rate, the Backstop settles
    L (when healed) and keeps the excess (LossRedistributed.excess) as surplus. The other's vault,
    safe at 1,000 (19,500 <= 30 x 666.67), now owes about 20,391: unsafe, and the keeper
    liquidates it (a cascade: a new loss event); the stranger's vault owes more but stays safe."""
    r, b, e = system.roles, system.d.backstop, system.d.engine
    near, far = (r.other, 30 * WAD, 19_500 * WAD), (r.stranger, 30 * WAD, 5_000 * WAD)
    event = _loss_event(system, vaults=[near, far])
    t = event.type_id
    assert _read(system, e, "is_safe", t, r.other) is True
    with reverts("liquidator: vault is safe"):
        system.tx(system.d.liquidator, "liquidate", r.keeper, t, r.other, r.keeper)
    _set_waterfall(system, [REDISTRIBUTION])

    receipts = _cover(system, event)
    assert receipts == [(REDISTRIBUTION, e, event.loss)]
    art = 24_500 * WAD
    delta_rate = ceil_div(event.loss, art)
    excess = art * delta_rate - event.loss
    assert 0 < excess < art
    folded = [args for addr, name, args in _events(system) if addr == e and name == "RateFolded"]
    assert folded == [
        {
            "collateral_type": t,
            "recipient": b,
            "delta_rate": delta_rate,
            "delta_stable": event.loss + excess,
        }
    ]
    redistributed = [
        args for addr, name, args in _events(system) if addr == b and name == "LossRedistributed"
    ]
    assert redistributed == [
        {
            "collateral_type": t,
            "auction": event.auction,
            "auction_id": event.auction_id,
            "delta_rate": delta_rate,
            "excess": excess,
        }
    ]
    _assert_done(system, event, healed=event.loss)
    assert _ctype(system).normalized_debt == art
    assert _ctype(system).rate == event.rate + delta_rate
    assert (_stable(system, b), _bad_debt(system, b)) == (excess, event.reward)
    near_debt = 19_500 * WAD * (event.rate + delta_rate)
    assert _read(system, e, "vault_debt", t, r.other) == near_debt
    assert _read(system, e, "vault_debt", t, r.stranger) == 5_000 * WAD * (event.rate + delta_rate)
    assert 20_391 * RAD < near_debt < 20_392 * RAD
    assert _read(system, e, "is_safe", t, r.other) is False
    assert _read(system, e, "is_safe", t, r.stranger) is True

    # the cascade: a fresh price (the first is stale by now), then the near vault is liquidated
    _crash(system)
    system.tx(system.d.liquidator, "liquidate", r.keeper, t, r.other, r.keeper)
    opened = [args for addr, name, args in _events(system) if addr == b and name == "LossOpened"]
    assert opened == [
        {
            "collateral_type": t,
            "auction": event.auction,
            # the first auction's slot, in its second generation: (1 << 24 | 0) + 1
            "auction_id": (1 << SLOT_BITS | 0) + 1,
            "debt": near_debt,
            "to_raise": ceil_div(near_debt * 113, 100),
        }
    ]
    assert _read(system, e, "vaults", t, r.other) == (0, 0)
    assert _backstop(system, "open_losses") == 1


def test_cover__empty_waterfall__pays_nothing_until_a_layer_is_enabled(system):
    """Money flow: waterfall []: the cover pays nothing and logs nothing, although 2,000 of
    surplus is there; the event stays open with all of its loss due. Once governance enables the
    fund, a second cover pays it all from the surplus."""
    r, b = system.roles, system.d.backstop
    event = _loss_event(system, surplus=2_000 * RAD)
    _set_waterfall(system, [])
    assert _backstop(system, "get_waterfall") == ()
    assert _cover(system, event) == []
    assert _events(system) == []
    assert _backstop(system, "losses", *event.key) == (
        event.debt,
        event.loss,
        event.created_at,
        CLOSED,
    )
    assert _backstop(system, "open_losses") == 1
    assert _backstop(system, "attributed_debt") == event.loss
    assert _stable(system, b) == 2_000 * RAD

    _set_waterfall(system, [FUND])
    system.tx(b, "cover", r.stranger, *event.key)
    assert _receipts(system, event) == [(FUND, b, event.loss)]
    _assert_done(system, event, healed=event.loss)
    assert (_stable(system, b), _bad_debt(system, b)) == (2_000 * RAD - event.loss, event.reward)


def test_cover__layer_contracts_unset__pool_and_debt_auction_pay_nothing(system):
    """Money flow: governance removes the stability pool and the debt auction from the Backstop;
    with 500 staked and the default order, only the fund's 300 is paid and L - 300 stays due (the
    type has no other debt to redistribute to); the stakers keep their 500."""
    r, b = system.roles, system.d.backstop
    event = _loss_event(system, surplus=300 * RAD, stake=500 * RAD, for_reward=True)
    system.tx(
        b, "set_layer_contracts", r.governance, ZERO_ADDRESS, ZERO_ADDRESS, system.d.surplus_auction
    )
    assert _events(system) == [
        (
            b,
            "LayerContractsSet",
            {
                "stability_pool": ZERO_ADDRESS,
                "debt_auction": ZERO_ADDRESS,
                "surplus_auction": system.d.surplus_auction,
            },
        )
    ]
    assert (_backstop(system, "stability_pool"), _backstop(system, "debt_auction")) == (
        ZERO_ADDRESS,
        ZERO_ADDRESS,
    )
    assert _cover(system, event) == [(FUND, b, 300 * RAD)]
    assert _backstop(system, "losses", *event.key) == (
        event.debt,
        event.loss - 300 * RAD,
        event.created_at,
        CLOSED,
    )
    assert _pool(system, "assets") == 500 * RAD
    assert _backstop(system, "debt_to_auction") == 0

    # wired back, the same event finishes through the pool and the debt auction
    system.tx(
        b,
        "set_layer_contracts",
        r.governance,
        system.d.stability_pool,
        system.d.debt_auction,
        system.d.surplus_auction,
    )
    system.tx(b, "cover", r.stranger, *event.key)
    assert _receipts(system, event) == [
        (POOL, system.d.stability_pool, 500 * RAD),
        (DEBT_AUCTION, system.d.debt_auction, event.loss - 800 * RAD),
    ]
    _assert_done(system, event, healed=800 * RAD)
