"""FlashTaker.take on the outside venue (`on_venue`): the lot is sold on the OutsideVenue inside
the take, as May 2021's flash keepers sold through an exchange callee (K2, K5 of
docs/market.md), at the venue's quote (offchain/model/venue_curve.py, `walk`) to the wei; the
pool is not touched. The driver's sync and the takes share a block (the venue refuses an
unsynced one); each take walks on from the block's earlier sales. Every block runs on the chain
and in the model with the same outcomes and events. Helpers: tests/contracts/support/
pool_and_flash.py.

Money flow: the auction's collateral leaves the engine to the FlashTaker, goes to the venue for
the stablecoin the venue holds (deposited by the market), which joins back in as the
FlashTaker's internal stablecoin; the auction collects its payment from it; the profit stays."""

from __future__ import annotations

from helpers import auction_sale, eth_auction
from support.pool_and_flash import ETH, trader
from support.pool_and_flash import balance as _balance
from support.pool_and_flash import reserves as _reserves

from offchain.model.fixed_point import MAX_UINT256, RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.model.venue_curve import walk
from offchain.sim.market.venue import Depth, Venue, VenueParams
from offchain.system.deployment import deploy_flash_taker, seed_pool
from offchain.testing.harness import events, read, reverts

# a bar's depth as the lab computes it (as tests/contracts/outside_venue/test_swap.py)
PARAMS = VenueParams(coefficient=7 * WAD // 10, share=WAD, decay=600)
DEPTH = Depth(volume=20_000 * WAD, sigma=2 * WAD // 100)
FUNDAMENTAL = 2_000 * WAD  # stablecoin per ETH
TILL = 100_000 * WAD  # the venue's stablecoin


def _venue(system, till=TILL) -> str:
    """A venue for ETH (market: governance), holding `till` stablecoin."""
    r, t, d = system.roles, system.eth, system.d
    venue = system.lockstep.deploy("OutsideVenue", r.governance, t.token, d.stablecoin, 18)
    system.extra_holders.append(venue)
    if till:
        trader(system, r.governance, venue, t.token, 0, till)
        system.tx(d.stablecoin, "transfer", r.governance, venue, till)
    return venue


def _setup(system, till=TILL) -> tuple[int, str, str]:
    """The ETH pool (2M a side), the borrower's vault in auction (1,800 start), a venue and the
    keeper's FlashTaker that may sell on it: (auction id, FlashTaker, venue)."""
    r = system.roles
    seed_pool(system.lockstep, system.d, system.eth, r.governance, 2_000_000 * WAD)
    auction_id = eth_auction(system)
    venue = _venue(system, till)
    flash = deploy_flash_taker(system.lockstep, system.d, ETH, r.keeper, venue)
    system.extra_holders.append(flash)
    return auction_id, flash, venue


def _curve(flow: int = 0) -> tuple[int, int, int]:
    """(flow, num, root_v) of a sync: the lab venue's coefficients for the bar."""
    num, root_v = Venue(PARAMS, [DEPTH]).coefficients(0)
    return flow, num, root_v


def _block(system, txs: list[tuple]) -> list:
    """`txs` (address, function, sender, args) mined in one block on the chain and in the model,
    one second on: the same outcomes and events on both."""
    system.lockstep.set_next_block_time(system.now + 1)
    on_chain = system.chain.transact_block(txs)
    in_model = system.model.transact_block(txs)
    assert [(o.ok, o.reason) for o in on_chain] == [(o.ok, o.reason) for o in in_model]
    assert [o.events for o in on_chain] == [o.events for o in in_model]
    system.check()
    return in_model


def _sync(system, venue, flow=0) -> tuple:
    return (venue, "sync", system.roles.governance, (*_curve(flow), FUNDAMENTAL))


def test_constructor__with_a_venue__approves_it_for_the_collateral(system):
    r, t, d = system.roles, system.eth, system.d
    venue = _venue(system, till=0)
    flash = deploy_flash_taker(system.lockstep, d, ETH, r.keeper, venue)
    system.extra_holders.append(flash)
    approvals = [(a, args) for a, name, args in events(system) if name == "Approval"]
    assert approvals == [
        (t.token, {"owner": flash, "spender": t.pool, "value": MAX_UINT256}),
        (t.token, {"owner": flash, "spender": venue, "value": MAX_UINT256}),
        (d.stablecoin, {"owner": flash, "spender": d.stable_join, "value": MAX_UINT256}),
    ]
    assert system.view(flash, "venue") == venue and system.contract(flash).venue == venue


def test_take_on_venue__sells_the_lot_at_the_venues_quote__the_pool_untouched(system):
    """The whole lot at the start price 1,800: the venue pays walk(flow, lot) from the flow the
    driver synced (an earlier sale of 300 ETH), at 2,000 fundamental; the profit is what it paid
    less the debt, to the unit."""
    r, t, d = system.roles, system.eth, system.d
    auction_id, flash, venue = _setup(system)
    _, debt, lot, _, _, top = auction_sale(system, t, auction_id)
    owe = debt  # 10 ETH at 1,800 cover the debt: floor(debt / 1,800) ETH are bought
    collateral = owe // top
    flow, num, root_v = _curve(300 * WAD)
    paid, floored = walk(flow, collateral, num, root_v, FUNDAMENTAL)
    assert floored == 0 and 0 < paid < collateral * FUNDAMENTAL // WAD
    pool_before = _reserves(system, t.pool)
    outcomes = _block(
        system,
        [_sync(system, venue, flow), (flash, "take", r.keeper, (auction_id, lot, top, 0, True))],
    )
    assert all(o.ok for o in outcomes)
    taken = outcomes[1].events
    sold = next(e for e in taken if e.name == "Sold")
    assert sold.address == venue
    assert sold.args == {
        "trader": flash,
        "recipient": flash,
        "amount_in": collateral,
        "amount_out": paid,
        "floored": False,
    }
    assert not any(e.address == t.pool for e in taken)
    profit = paid * RAY - owe
    assert [e.args for e in taken if e.name == "FlashTaken"] == [
        {"auction_id": auction_id, "collateral": collateral, "owe": owe, "profit": profit}
    ]
    assert read(system, d.engine, "stable", flash) == profit
    assert _reserves(system, t.pool) == pool_before
    assert _balance(system, t.token, venue) == collateral
    assert _balance(system, d.stablecoin, venue) == TILL - paid
    assert _balance(system, t.token, flash) == _balance(system, d.stablecoin, flash) == 0
    assert system.view(venue, "sold") == collateral


def test_take_on_venue__two_takes_in_a_block__the_second_walks_on_from_the_first(system):
    """Two partial takes of 2 ETH in the synced block: the first is paid walk(0, 2), the second
    walk(2, 2), less for the same 2 ETH."""
    r, t, d = system.roles, system.eth, system.d
    auction_id, flash, venue = _setup(system)
    top = auction_sale(system, t, auction_id)[5]
    _, num, root_v = _curve()
    first = walk(0, 2 * WAD, num, root_v, FUNDAMENTAL)[0]
    second = walk(2 * WAD, 2 * WAD, num, root_v, FUNDAMENTAL)[0]
    assert second < first
    take = (flash, "take", r.keeper, (auction_id, 2 * WAD, top, 0, True))
    outcomes = _block(system, [_sync(system, venue), take, take])
    paid = [next(e.args["amount_out"] for e in o.events if e.name == "Sold") for o in outcomes[1:]]
    assert paid == [first, second]
    assert read(system, d.engine, "stable", flash) == (first + second) * RAY - 2 * 3_600 * RAD
    assert auction_sale(system, t, auction_id)[2] == 6 * WAD


def test_take_on_venue__profit_below_minimum__reverts__exactly_the_minimum_passes(system):
    r, t = system.roles, system.eth
    auction_id, flash, venue = _setup(system)
    _, debt, lot, _, _, top = auction_sale(system, t, auction_id)
    flow, num, root_v = _curve()
    profit = walk(flow, debt // top, num, root_v, FUNDAMENTAL)[0] * RAY - debt
    too_much = (flash, "take", r.keeper, (auction_id, lot, top, profit + 1, True))
    enough = (flash, "take", r.keeper, (auction_id, lot, top, profit, True))
    outcomes = _block(system, [_sync(system, venue), too_much, enough])
    assert [(o.ok, o.reason) for o in outcomes] == [
        (True, None),
        (False, "flash: profit below minimum"),
        (True, None),
    ]
    assert [e.args["profit"] for e in outcomes[2].events if e.name == "FlashTaken"] == [profit]


def test_take_on_venue__refusals(system):
    """Without a venue the route does not exist; a block the market did not sync, and a venue
    without the stablecoin to pay, revert the whole take (nothing moves)."""
    r, t = system.roles, system.eth
    auction_id, flash, venue = _setup(system, till=1_000 * WAD)
    _, _, lot, _, _, top = auction_sale(system, t, auction_id)
    plain = deploy_flash_taker(system.lockstep, system.d, ETH, r.keeper)
    system.extra_holders.append(plain)
    assert system.view(plain, "venue") == ZERO_ADDRESS
    with reverts("flash: no venue"):
        system.tx(plain, "take", r.keeper, auction_id, lot, top, 0, True)
    with reverts("venue: not synced"):
        system.tx(flash, "take", r.keeper, auction_id, lot, top, 0, True)
    # 1,000 stablecoin cannot pay for ~7.2 ETH
    outcomes = _block(
        system,
        [_sync(system, venue), (flash, "take", r.keeper, (auction_id, lot, top, 0, True))],
    )
    assert outcomes[1].reason == "erc20: transfer amount exceeds balance"
    assert auction_sale(system, t, auction_id)[2] == lot
    assert system.view(venue, "sold") == 0
