"""The seventh round (docs/security.md): an adversarial read of the contracts at b82413a. Each
confirmed finding as a test, on chain and in the model in lockstep (the `system` fixture).

7.1: the surplus auction's step (`min_increase`) had no upper bound, and its setter, the debt
auction's and the Backstop's auction sizes were classed `parameter`, so the notifier said nothing
of a proposal that set them. With a step of 2**200 a first bid of a wei could not be beaten
below MAX_BID: a stolen proposer key, a buffer of 0 and a lot of all the surplus gave one bidder
the whole insurance fund for a wei of governance token, unannounced. The debt auction's step
(`min_decrease`) the same way: a first bid kept a lot no second bid could usefully undercut.
Both steps are bounded on chain at 1.5 (and the config's at 1.5), and both auctions' bid and
auction durations at ten minutes or more (durations of a second did the same with any step: one
transaction started the auction and bid, and no later bid could land); the setters, and the
settings that apply to what is already open or queued, are `value`. The refusals' tests failed
before the fix; the whole-surplus test shows the bound's other side (a wei is beaten at the
largest step), which held before too.
"""

from __future__ import annotations

from offchain.model.fixed_point import RAD, WAD
from offchain.system.privileges import FLAGGED, PARAMETER, VAULT_LIMIT, class_of
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts
from offchain.testing.specification import timelock as spec_timelock

STEP_BOUND = 3 * WAD // 2
BID_DURATION, AUCTION_DURATION = 10_800, 172_800
INITIAL_LOT, LOT_GROWTH = 250 * WAD, 15 * WAD // 10
YEAR = 365 * 24 * 3600


def _surplus(system) -> int:
    """A year of stability fees on a 13,000 BUSD vault: the Backstop's surplus [rad]."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 13_000 * WAD)
    system.warp(YEAR)
    system.tx(system.d.fees, "accrue", r.keeper, t.type_id)
    surplus = _read(system, system.d.engine, "stable", system.d.backstop)
    assert surplus > 100 * RAD
    return surplus


def _fund_gov(system, who, amount) -> None:
    system.tx(system.d.governance_token, "mint", system.roles.governance, who, amount)
    system.tx(system.d.governance_token, "approve", who, system.d.surplus_auction, amount)


def _debt_params(system, min_decrease) -> None:
    system.tx(
        system.d.debt_auction,
        "set_parameters",
        system.roles.governance,
        INITIAL_LOT,
        min_decrease,
        LOT_GROWTH,
        BID_DURATION,
        AUCTION_DURATION,
    )


def _auction(system) -> tuple:
    return _read(system, system.d.surplus_auction, "auctions", 1)


def test_7_1__surplus_step__above_one_and_a_half__refused(system):
    """The attack's first call, refused on chain and in the model alike."""
    sa, gov = system.d.surplus_auction, system.roles.governance
    with reverts("surplus auction: min increase above 1.5"):
        system.tx(sa, "set_parameters", gov, 2**200, BID_DURATION, AUCTION_DURATION)
    with reverts("surplus auction: min increase above 1.5"):
        system.tx(sa, "set_parameters", gov, STEP_BOUND + 1, BID_DURATION, AUCTION_DURATION)


def test_7_1__whole_surplus_in_one_auction__a_wei_bid_is_beaten_at_the_largest_step(system):
    """The rest of the attack at the largest step allowed: a buffer of 0, a lot of all the
    surplus, a first bid of a wei. A rival's bid of 2 wei (at least 1.5 times it, rounded up)
    takes the lead, and each later bid is beaten by one at most 1.5 times it: the winner pays
    more than 2/3 of the most any bidder would pay (the bound the step states)."""
    r, sa, gov = system.roles, system.d.surplus_auction, system.roles.governance
    surplus = _surplus(system)
    system.tx(sa, "set_parameters", gov, STEP_BOUND, BID_DURATION, AUCTION_DURATION)
    system.tx(system.d.backstop, "set_auction_parameters", gov, 0, surplus, 50_000 * RAD)
    system.tx(system.d.backstop, "start_surplus_auction", r.keeper)
    for bidder in (r.other, r.stranger):
        _fund_gov(system, bidder, 1_000 * WAD)
    system.tx(sa, "bid", r.other, 1, 1)
    system.tx(sa, "bid", r.stranger, 1, 2)
    assert _auction(system)[:3] == (2, surplus, r.stranger)
    bid = 2
    for bidder in (r.other, r.stranger) * 20:
        nxt = -(-bid * STEP_BOUND // WAD)  # the least bid that beats it: 1.5 times, rounded up
        with reverts("surplus auction: bid not higher"):
            system.tx(sa, "bid", bidder, 1, nxt - 1)
        system.tx(sa, "bid", bidder, 1, nxt)
        bid = nxt
    assert _auction(system)[0] == bid


def test_7_1__one_second_durations__refused(system):
    """The same attack with any step: durations of a second let one transaction (a proposal's
    call to a contract of the thief's) start the auction and bid, after which every bid is
    refused as expired or ended, and `finish` pays the lot for the wei. Durations below ten
    minutes are refused on both auctions."""
    sa, gov = system.d.surplus_auction, system.roles.governance
    for durations in ((1, 1), (599, AUCTION_DURATION), (BID_DURATION, 599)):
        with reverts("surplus auction: duration below 10 minutes"):
            system.tx(sa, "set_parameters", gov, 105 * WAD // 100, *durations)
    with reverts("debt auction: duration below 10 minutes"):
        system.tx(
            system.d.debt_auction, "set_parameters", gov, INITIAL_LOT, 105 * WAD // 100,
            LOT_GROWTH, 1, 1,
        )  # fmt: skip
    system.tx(sa, "set_parameters", gov, 105 * WAD // 100, 600, 600)


def test_7_1__debt_step__above_one_and_a_half__refused(system):
    with reverts("debt auction: min decrease above 1.5"):
        _debt_params(system, 2**200)
    with reverts("debt auction: min decrease above 1.5"):
        _debt_params(system, STEP_BOUND + 1)
    _debt_params(system, STEP_BOUND)
    assert _read(system, system.d.debt_auction, "min_decrease") == STEP_BOUND


def test_7_1__monitor__every_call_that_moves_value_on_a_contract__is_announced():
    """The specification's own list of the calls that move value at their eta (restated in
    offchain/testing/specification/timelock.py) and the notifier's table
    (offchain/system/privileges.py) agree: each is in a class the notifier announces. Among them
    the round's: the auctions' steps and sizes, the losses' order and delay, the cap on debt in
    auction, the pool's cooldown and exit window."""
    seventh = {
        ("SurplusAuction", "set_parameters"),
        ("DebtAuction", "set_parameters"),
        ("Backstop", "set_auction_parameters"),
        ("Backstop", "set_queue_delay"),
        ("Backstop", "set_waterfall"),
        ("Liquidator", "set_max_debt_in_auction"),
        ("StabilityPool", "set_cooldown"),
        ("StabilityPool", "set_exposure"),
    }
    seventh |= {
        ("FeeAccumulator", "set_pool_max_yield"),
        ("Backstop", "set_deleverage_buffer"),
        ("Backstop", "set_deleverage_limits"),
    }
    # a shorter oracle delay makes a queued drop current sooner: a vault limit, announced
    seventh.add(("PriceOracle", "set_delay"))
    assert class_of("PriceOracle", "set_delay") == VAULT_LIMIT
    assert class_of("Timelock", "set_delay") == PARAMETER  # the queue's own: announced anyway
    listed = spec_timelock._MOVES_VALUE_ON
    assert seventh <= listed
    unflagged = {(c, f, class_of(c, f)) for c, f in listed if class_of(c, f) not in FLAGGED}
    assert unflagged == set()
