"""DutchAuction.reset: after the price has fallen below max_drop or the auction has run max_duration
it restarts at a fresh price and pays the keeper; a stale oracle delays resets but not takes.
Scenario and helpers: tests/contracts/support/dutch_auction.py.
"""

from __future__ import annotations

from helpers import at, auction_sale, crash, eth_auction, fund_taker, liquidate
from support.dutch_auction import ETH, STAIRSTEP
from support.dutch_auction import assert_price_rounded_up as _assert_price_rounded_up
from support.dutch_auction import bad_debt as _bad_debt
from support.dutch_auction import ctype as _ctype
from support.dutch_auction import feed as _feed
from support.dutch_auction import mine_at as _mine_at
from support.dutch_auction import reward as _reward
from support.dutch_auction import set_parameters as _set_parameters
from support.dutch_auction import small_dust as _small_dust
from support.dutch_auction import stable as _stable
from support.dutch_auction import status as _status

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def test_reset__after_falling_below_max_drop__restarts_at_fresh_price_and_pays_keeper(system):
    """Money flow: at step 80 (7,200 s) the price is 0.99 ** 80 < 0.45 of the start: takes stop
    until a keeper resets, at the oracle's new price (1,400) x 1.2, and is paid 300 + 0.1% of the
    debt still to raise (after a partial take), in new stablecoin the Backstop owes."""
    r, t, d = system.roles, system.eth, system.d
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    started, top = auction_sale(system, t, auction_id)[4:6]
    with reverts("auction: cannot reset"):
        system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    system.tx(
        t.auction, "take", r.other, auction_id, 2 * WAD, top, r.other, b""
    )  # a partial take first
    _feed(system, t, 1_400 * WAD)

    at(system, started + 7_199)  # step 79: 0.99 ** 79 ~ 0.452, still sellable
    system.tx(t.auction, "take", r.other, auction_id, WAD // 10, top, r.other, b"")
    at(system, started + 7_200)  # step 80: 0.99 ** 80 ~ 0.448 < 0.45
    with reverts("auction: needs reset"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    assert _status(system, t, auction_id)[0]

    _, debt, lot, owner, _, _ = auction_sale(system, t, auction_id)
    keeper_0, backstop_bad_0 = _stable(system, r.keeper), _bad_debt(system, d.backstop)
    reward = _reward(t, debt, _read(system, t.auction, "min_auction"), lot, 1_680 * RAY)
    assert reward == 300 * RAD + debt // 1000
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    reset_at = system.now
    assert _events(system) == [
        (
            d.engine,
            "UnbackedCreated",
            {"debt_dst": d.backstop, "stable_dst": r.keeper, "amount": reward},
        ),
        (
            t.auction,
            "Reset",
            {
                "auction_id": auction_id,
                "top": 1_680 * RAY,
                "debt": debt,
                "lot": lot,
                "owner": owner,
                "keeper": r.keeper,
                "reward": reward,
            },
        ),
    ]
    assert auction_sale(system, t, auction_id) == (0, debt, lot, owner, reset_at, 1_680 * RAY)
    assert _status(system, t, auction_id) == (False, 1_680 * RAY, lot, debt)
    assert _stable(system, r.keeper) == keeper_0 + reward
    assert _bad_debt(system, d.backstop) == backstop_bad_0 + reward
    # takes work again, from the new start price
    system.tx(t.auction, "take", r.other, auction_id, WAD, 1_680 * RAY, r.other, b"")
    assert system.events[-1].args["owe"] == 1_680 * RAD
    with reverts("auction: cannot reset"):
        system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)


def test_reset__after_max_duration__is_needed_even_above_max_drop(system):
    """With max_drop 0, only age counts: at exactly 8,400 s the auction still sells, one second
    later it needs a reset (the keeper's reward: 300 + 0.1% of the debt)."""
    r, t = system.roles, system.eth
    _set_parameters(system, t, max_drop=0)
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    _, debt, lot, owner, started, top = auction_sale(system, t, auction_id)
    _feed(system, t, 1_500 * WAD)
    at(system, started + 8_400)
    with reverts("auction: cannot reset"):
        system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    at(system, started + 8_401)
    with reverts("auction: needs reset"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")
    needs_reset, price = _status(system, t, auction_id)[:2]
    assert needs_reset and price * RAY // top >= RAY * 39 // 100  # 0.99 ** 93 ~ 0.393: age alone
    _assert_price_rounded_up(price, _read(system, t.auction, "curve"), top, 8_401)
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    assert system.events[-1].args == {
        "auction_id": auction_id,
        "top": top,
        "debt": debt,
        "lot": lot,
        "owner": owner,
        "keeper": r.keeper,
        "reward": 300 * RAD + debt // 1000,
    }
    assert auction_sale(system, t, auction_id)[4] == system.now


def test_reset__fresh_auction__reverts_cannot_reset(system):
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    with reverts("auction: cannot reset"):
        system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)


def test_reset__not_running__reverts(system):
    r, t = system.roles, system.eth
    for auction_id in (0, 1, 7):
        with reverts("auction: not running"):
            system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)


def test_reset__dust_size_auction__pays_no_reward(system):
    """min_auction one rad above the debt (see the start reward test): resetting pays nothing."""
    r, t = system.roles, system.eth
    _small_dust(system, t)
    system.open_vault(r.borrower, ETH, 1 * WAD, 1_000 * WAD)
    vault_debt = 1_000 * WAD * _ctype(system, t).rate
    system.tx(system.d.engine, "set_dust", r.governance, t.type_id, vault_debt + 1)
    crash(system, t, 1_400 * WAD)
    auction_id = liquidate(system, t, r.borrower)
    started = auction_sale(system, t, auction_id)[4]
    _feed(system, t, 1_400 * WAD)
    at(system, started + 7_200)
    keeper_0 = _stable(system, r.keeper)
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    assert [e.name for e in system.events] == ["Reset"]
    assert system.events[0].args["reward"] == 0
    assert _stable(system, r.keeper) == keeper_0


def test_stale_oracle__takes_go_on_at_the_curve_price_but_reset_waits_for_a_valid_price(system):
    """Money flow: with the oracle stale, the taker still buys 1 ETH at the curve's price
    (1,800 x 0.99 ** 40); once the auction needs a reset, nothing sells until the oracle is fresh
    again and the reset restarts it at the new price."""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    started, top = auction_sale(system, t, auction_id)[4:6]
    posted = system.contract(t.oracle).current_time
    assert posted + t.config.oracle_max_age < started + 3_600

    _mine_at(system, started + 3_600)
    price = _status(system, t, auction_id)[1]  # step 40, as for the take one second later
    system.tx(t.auction, "take", r.other, auction_id, WAD, price, r.other, b"")
    assert system.now == started + 3_601
    assert _read(system, t.oracle, "peek") == (1_500 * WAD, False)
    assert system.events[-1].args["price"] == price
    _assert_price_rounded_up(price, (STAIRSTEP, 0, 90, 99 * RAY // 100), top, 3_600)

    at(system, started + 7_200)
    with reverts("auction: invalid price"):
        system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    with reverts("auction: needs reset"):
        system.tx(t.auction, "take", r.other, auction_id, WAD, top, r.other, b"")

    _feed(system, t, 1_200 * WAD)
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    assert system.events[-1].args["top"] == 1_440 * RAY
    system.tx(t.auction, "take", r.other, auction_id, WAD, 1_440 * RAY, r.other, b"")
