"""OutsideVenue: the outside venue's quote on chain (a flash keeper's sale inside its take),
against its twin on every transaction and against the lab's venue (offchain/sim/market/
venue.py) to the wei: the curve is one formula (offchain/model/venue_curve.py). Sales walk the
square-root law from the flow the driver synced for the block; a block not synced is refused.

Money flow: the trader's collateral tokens go to the venue, the venue's stablecoin (deposited
by the market's driver) to the recipient; the driver takes both out."""

from __future__ import annotations

from support.pool_and_flash import balance, trader

from offchain.model.fixed_point import MAX_UINT256, WAD
from offchain.model.venue_curve import FLOOR, walk
from offchain.sim.market.venue import Depth, Venue, VenueParams
from offchain.testing.harness import reverts

ETH = "ETH-A"
# a bar's depth as the lab computes it: 20,000 ETH traded (the whole market), 2% volatility
PARAMS = VenueParams(coefficient=7 * WAD // 10, share=WAD, decay=600)
DEPTH = Depth(volume=20_000 * WAD, sigma=2 * WAD // 100)


def _venue(system) -> str:
    """A venue for ETH (market: governance), holding 3,000,000 stablecoin."""
    r, t, d = system.roles, system.eth, system.d
    venue = system.lockstep.deploy("OutsideVenue", r.governance, t.token, d.stablecoin, 18)
    system.extra_holders.append(venue)
    trader(system, r.governance, venue, t.token, 0, 3_000_000 * WAD)
    system.tx(d.stablecoin, "transfer", r.governance, venue, 3_000_000 * WAD)
    return venue


def _block(system, txs: list[tuple]) -> list:
    """`txs` (address, function, sender, args) mined in one block on the chain and in the model:
    the same outcomes and events on both (the sync and the sales of a block share its time)."""
    system.lockstep.set_next_block_time(system.now + 1)
    on_chain = system.chain.transact_block(txs)
    in_model = system.model.transact_block(txs)
    assert [(o.ok, o.reason) for o in on_chain] == [(o.ok, o.reason) for o in in_model]
    assert [o.events for o in on_chain] == [o.events for o in in_model]
    system.check()
    return in_model


def _paid(outcome) -> int:
    return next(e.args["amount_out"] for e in outcome.events if e.name == "Sold")


def _seller(system, venue, tokens) -> str:
    r, t = system.roles, system.eth
    system.tx(t.token, "mint", r.governance, r.keeper, tokens)
    system.tx(t.token, "approve", r.keeper, venue, MAX_UINT256)
    return r.keeper


def test_swap__pays_the_lab_venues_quote_to_the_wei__block_by_block(system):
    """The lab's venue with earlier flows (a sale 300 s ago, a purchase 100 s ago) quotes two
    sales in one block; the driver syncs the contract with its effective flow, the bar's
    coefficient and depth and the fundamental: each sale pays exactly the lab's quote, the
    second walking on from the first. In the next block, unsynced, a sale is refused."""
    r, t, d = system.roles, system.eth, system.d
    venue = _venue(system)
    seller = _seller(system, venue, 500 * WAD)
    lab = Venue(PARAMS, [DEPTH])
    now = system.now + 10
    lab.trade(0, now - 300, 2_000 * WAD, 400 * WAD)
    lab.trade(0, now - 100, 2_000 * WAD, -150 * WAD)
    num, root_v = lab.coefficients(0)
    fundamental = 1_950 * WAD
    flow = lab.effective(now)
    sales = (120 * WAD, 80 * WAD)
    expected = [lab.trade(0, now, fundamental, q) for q in sales]
    system.lockstep.set_next_block_time(now - 1)
    system.tx(t.token, "approve", seller, venue, MAX_UINT256)  # a block before `now`
    outcomes = _block(
        system,
        [(venue, "sync", r.governance, (flow, num, root_v, fundamental))]
        + [(venue, "swap", seller, (True, q, 0, r.stranger)) for q in sales],
    )
    assert all(o.ok for o in outcomes)
    assert system.now == now
    paid = [_paid(o) for o in outcomes[1:]]
    assert paid == expected
    assert 0 < paid[1] < paid[0] * 80 // 120  # the second walks on down the curve
    assert balance(system, d.stablecoin, r.stranger) == sum(paid)
    assert balance(system, t.token, venue) == 200 * WAD
    with reverts("venue: not synced"):
        system.tx(venue, "swap", seller, True, WAD, 0, r.stranger)


def test_swap__a_sale_beyond_the_floor_gets_the_floor_for_the_rest(system):
    r = system.roles
    venue = _venue(system)
    seller = _seller(system, venue, 1_000_000 * WAD)
    num, root_v = Venue(PARAMS, [DEPTH]).coefficients(0)
    # a thin bar: the floor is reached within a few hundred tokens
    root_v //= 4_000
    fundamental = 2_000 * WAD
    value, floored = walk(0, 1_000 * WAD, num, root_v, fundamental)
    assert floored == 1 and value > 1_000 * fundamental * FLOOR // (WAD * WAD)
    sync = (venue, "sync", r.governance, (0, num, root_v, fundamental))
    sale = (venue, "swap", seller, (True, 1_000 * WAD, value, r.stranger))
    outcome = _block(system, [sync, sale])[1]
    assert outcome.ok
    sold = next(e.args for e in outcome.events if e.name == "Sold")
    assert (sold["floored"], sold["amount_out"]) == (True, value)


def test_swap__refusals(system):
    r, t = system.roles, system.eth
    venue = _venue(system)
    seller = _seller(system, venue, 10 * WAD)
    num, root_v = Venue(PARAMS, [DEPTH]).coefficients(0)
    with reverts("venue: not the market"):
        system.tx(venue, "sync", r.stranger, 0, num, root_v, WAD)
    for args, reason in (
        ((2**100, num, root_v, WAD), "venue: flow out of range"),
        ((-(2**100), num, root_v, WAD), "venue: flow out of range"),
        ((0, 2**128, root_v, WAD), "venue: depth out of range"),
        ((0, num, 2**128, WAD), "venue: depth out of range"),
        ((0, num, root_v, 2**96), "venue: price out of range"),
    ):
        with reverts(reason):
            system.tx(venue, "sync", r.governance, *args)
    sync = (venue, "sync", r.governance, (0, num, root_v, 2_000 * WAD))
    refused = [
        ((False, WAD, 0, seller), "venue: sales only"),
        ((True, 0, 0, seller), "venue: zero amount"),
        ((True, WAD, 10**30, seller), "venue: slippage"),
        ((True, 2**100, 0, seller), "venue: sale too large"),
    ]
    outcomes = _block(system, [sync] + [(venue, "swap", seller, args) for args, _ in refused])
    assert [o.reason for o in outcomes[1:]] == [reason for _, reason in refused]
    with reverts("venue: not the market"):
        system.tx(venue, "withdraw", r.stranger, t.token, 0, r.stranger)
    # the market takes its stablecoin out
    system.tx(venue, "withdraw", r.governance, system.d.stablecoin, 1_000 * WAD, r.other)
    assert balance(system, system.d.stablecoin, r.other) >= 1_000 * WAD
