"""DebtAuction.restart: an auction without bids grows its lot (rounded down, within 128 bits) and
gets a new end. Scenario and helpers: tests/contracts/support/debt_and_surplus.py.
"""

from __future__ import annotations

from support.debt_and_surplus import AUCTION_DURATION, MAX_FIELD
from support.debt_and_surplus import at as _at
from support.debt_and_surplus import backstop as _backstop
from support.debt_and_surplus import debt_auction as _debt_auction
from support.debt_and_surplus import fund_stable as _fund_stable
from support.debt_and_surplus import gov_balance as _gov_balance
from support.debt_and_surplus import loss_to_debt_auction as _loss_to_debt_auction
from support.debt_and_surplus import set_debt_params as _set_debt_params
from support.debt_and_surplus import start_debt_auction as _start_debt_auction

from offchain.model.fixed_point import WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_debt_auction_restart__no_bids__grows_lot_and_sets_new_end(system):
    """Money flow: none; an auction nobody bid on by its end restarts offering 50% more tokens:
    250 -> 375 -> 562.5, each time ending `auction_duration` after the restart. At the end
    itself it cannot restart yet (nor take a bid: test above); after it, it can neither take a
    bid nor finish."""
    r, b, da = system.roles, system.d.backstop, system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    _start_debt_auction(system)
    end = _debt_auction(system, 1)[4]
    _fund_stable(system, r.other, loss)
    _at(system, end)
    with reverts("debt auction: not ended"):
        system.tx(da, "restart", r.keeper, 1)
    with reverts("debt auction: auction ended"):
        system.tx(da, "bid", r.other, 1, 100 * WAD)
    with reverts("debt auction: not finished"):
        system.tx(da, "finish", r.keeper, 1)
    assert system.now == end + 2

    system.tx(da, "restart", r.keeper, 1)
    new_end = system.now + AUCTION_DURATION
    assert _events(system) == [
        (da, "Restarted", {"auction_id": 1, "lot": 375 * WAD, "end": new_end})
    ]
    assert _debt_auction(system, 1) == (loss, 375 * WAD, b, 0, new_end)
    with reverts("debt auction: not ended"):
        system.tx(da, "restart", r.keeper, 1)

    _at(system, new_end + 1)
    system.tx(da, "restart", r.keeper, 1)
    assert _debt_auction(system, 1)[1] == 5625 * WAD // 10
    # the debt is still on auction, and the restarted auction takes bids again
    assert _backstop(system, "debt_on_auction") == loss
    system.tx(da, "bid", r.other, 1, 500 * WAD)
    assert _backstop(system, "debt_on_auction") == 0


def test_debt_auction_restart__lot_growth_rounds_down(system):
    r, da = system.roles, system.d.debt_auction
    _loss_to_debt_auction(system)
    _set_debt_params(system, initial_lot=3)
    _start_debt_auction(system)
    system.warp(AUCTION_DURATION + 1)
    system.tx(da, "restart", r.keeper, 1)
    assert _debt_auction(system, 1)[1] == 4  # 3 x 1.5 = 4.5


def test_debt_auction_restart__lot_above_128_bits__reverts_value_too_large(system):
    r, da = system.roles, system.d.debt_auction
    _loss_to_debt_auction(system)
    _set_debt_params(system, initial_lot=MAX_FIELD, lot_growth=WAD)
    _start_debt_auction(system)
    system.warp(AUCTION_DURATION + 1)
    # growth 1: the lot stays at the largest field value
    system.tx(da, "restart", r.keeper, 1)
    assert _debt_auction(system, 1)[1] == MAX_FIELD
    _set_debt_params(system, initial_lot=MAX_FIELD, lot_growth=WAD + 1)
    system.warp(AUCTION_DURATION + 1)
    with reverts("debt auction: value too large"):
        system.tx(da, "restart", r.keeper, 1)


def test_debt_auction_restart__with_a_bid__reverts_has_bids(system):
    r, da = system.roles, system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    _start_debt_auction(system)
    end = _debt_auction(system, 1)[4]
    _fund_stable(system, r.other, loss)
    system.tx(da, "bid", r.other, 1, 100 * WAD)
    _at(system, end + 1)
    with reverts("debt auction: has bids"):
        system.tx(da, "restart", r.keeper, 1)
    system.tx(da, "finish", r.keeper, 1)
    assert _gov_balance(system, r.other) == 100 * WAD


def test_debt_auction_restart__not_started__reverts_not_running(system):
    with reverts("debt auction: not running"):
        system.tx(system.d.debt_auction, "restart", system.roles.keeper, 1)
