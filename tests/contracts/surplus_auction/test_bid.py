"""SurplusAuction.bid: bids rise and refund the previous bidder, the finish burns the winning bid;
within 128 bits and the allowance. Scenario and helpers:
tests/contracts/support/debt_and_surplus.py.
"""

from __future__ import annotations

from support.debt_and_surplus import BID_DURATION, MAX_FIELD, MIN_INCREASE, NO_AUCTION
from support.debt_and_surplus import at as _at
from support.debt_and_surplus import fees_to_backstop as _fees_to_backstop
from support.debt_and_surplus import fund_gov as _fund_gov
from support.debt_and_surplus import gov_balance as _gov_balance
from support.debt_and_surplus import gov_supply as _gov_supply
from support.debt_and_surplus import set_sizes as _set_sizes
from support.debt_and_surplus import stable as _stable
from support.debt_and_surplus import start_surplus_auction as _start_surplus_auction
from support.debt_and_surplus import surplus_auction as _surplus_auction

from offchain.model.fixed_point import RAD, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def _min_bid(bid: int, min_increase: int = MIN_INCREASE) -> int:
    """The smallest bid above `bid`: new x WAD >= bid x min_increase."""
    return -(-bid * min_increase // WAD)


def test_surplus_auction_bid__rises_refunds_previous_bidder_finish_burns_winning_bid(system):
    """Money flow: 100 BUSD of surplus are sold. The other bids 10 tokens (paid into the
    auction); the stranger bids 10.5: the other gets its 10 back from the stranger and the
    auction receives the 0.5 more; the stranger then raises its own bid to 11.025, paying only
    the 0.525 increase. When its bid has stood for `bid_duration`, the stranger gets the 100
    BUSD and the auction burns the 11.025 tokens it holds (supply 200 -> 188.975)."""
    r, b, sa, gov = (
        system.roles,
        system.d.backstop,
        system.d.surplus_auction,
        system.d.governance_token,
    )
    surplus = _fees_to_backstop(system)
    lot = 100 * RAD
    _set_sizes(system, buffer=0, lot=lot)
    _start_surplus_auction(system)
    end = _surplus_auction(system, 1)[4]
    for bidder in (r.other, r.stranger):
        _fund_gov(system, bidder, 100 * WAD)

    with reverts("surplus auction: bid not higher"):
        system.tx(sa, "bid", r.other, 1, 0)
    system.tx(sa, "bid", r.other, 1, 10 * WAD)
    assert [e for e in _events(system) if e[1] != "Approval"] == [
        (gov, "Transfer", {"sender": r.other, "receiver": sa, "value": 10 * WAD}),
        (sa, "Bid", {"auction_id": 1, "bidder": r.other, "lot": lot, "bid": 10 * WAD}),
    ]
    assert _surplus_auction(system, 1) == (10 * WAD, lot, r.other, system.now + BID_DURATION, end)
    assert (_gov_balance(system, r.other), _gov_balance(system, sa)) == (90 * WAD, 10 * WAD)

    second = _min_bid(10 * WAD)
    assert second == 105 * WAD // 10
    with reverts("surplus auction: bid not higher"):
        system.tx(sa, "bid", r.stranger, 1, second - 1)
    system.tx(sa, "bid", r.stranger, 1, second)
    assert [e for e in _events(system) if e[1] != "Approval"] == [
        (gov, "Transfer", {"sender": r.stranger, "receiver": r.other, "value": 10 * WAD}),
        (gov, "Transfer", {"sender": r.stranger, "receiver": sa, "value": WAD // 2}),
        (sa, "Bid", {"auction_id": 1, "bidder": r.stranger, "lot": lot, "bid": second}),
    ]
    assert _gov_balance(system, r.other) == 100 * WAD
    assert (_gov_balance(system, r.stranger), _gov_balance(system, sa)) == (
        100 * WAD - second,
        second,
    )

    third = _min_bid(second)
    assert third == 11_025 * WAD // 1000
    system.tx(sa, "bid", r.stranger, 1, third)
    expiry = system.now + BID_DURATION
    assert (_gov_balance(system, r.stranger), _gov_balance(system, sa)) == (
        100 * WAD - third,
        third,
    )
    assert _surplus_auction(system, 1) == (third, lot, r.stranger, expiry, end)

    _at(system, expiry - 1)
    with reverts("surplus auction: not finished"):
        system.tx(sa, "finish", r.keeper, 1)
    with reverts("surplus auction: bid expired"):
        system.tx(sa, "bid", r.other, 1, 20 * WAD)
    assert system.now == expiry
    stranger_stable = _stable(system, r.stranger)
    system.tx(sa, "finish", r.keeper, 1)
    assert _events(system) == [
        (system.d.engine, "StableTransferred", {"src": sa, "dst": r.stranger, "amount": lot}),
        (gov, "Transfer", {"sender": sa, "receiver": ZERO_ADDRESS, "value": third}),
        (sa, "Finished", {"auction_id": 1, "winner": r.stranger, "lot": lot, "bid": third}),
    ]
    assert _stable(system, r.stranger) == stranger_stable + lot
    assert (_stable(system, sa), _gov_balance(system, sa)) == (0, 0)
    assert _gov_supply(system) == 200 * WAD - third
    assert _stable(system, b) == surplus - lot
    assert _surplus_auction(system, 1) == NO_AUCTION
    with reverts("surplus auction: not finished"):
        system.tx(sa, "finish", r.keeper, 1)
    with reverts("surplus auction: not running"):
        system.tx(sa, "bid", r.other, 1, 50 * WAD)


def test_surplus_auction_bid__above_128_bits__reverts_value_too_large(system):
    r, sa = system.roles, system.d.surplus_auction
    _fees_to_backstop(system)
    _set_sizes(system, buffer=0, lot=100 * RAD)
    _start_surplus_auction(system)
    with reverts("surplus auction: value too large"):
        system.tx(sa, "bid", r.other, 1, MAX_FIELD + 1)


def test_surplus_auction_bid__without_allowance__reverts(system):
    r, sa = system.roles, system.d.surplus_auction
    _fees_to_backstop(system)
    _set_sizes(system, buffer=0, lot=100 * RAD)
    _start_surplus_auction(system)
    system.tx(system.d.governance_token, "mint", r.governance, r.other, 10 * WAD)
    with reverts("erc20: insufficient allowance"):
        system.tx(sa, "bid", r.other, 1, 10 * WAD)
    assert _surplus_auction(system, 1)[2:4] == (system.d.backstop, 0)
