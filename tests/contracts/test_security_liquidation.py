"""Security regressions for the liquidation path (outside review, issue 13), on chain and in the
model at once (the `system` fixture). Each test's docstring gives the attack in two lines."""

from __future__ import annotations

import pytest

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.sim.keepers import (
    BackstopParams,
    BackstopView,
    VaultIndex,
    backstop_actions,
    liquidation_actions,
)
from offchain.testing.harness import move_prices as _move_prices
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts as _reverts

ETH = "ETH-A"


# ---------------------------------------------------------------- economic property helper


def holdings_value(system, actor: str, t, market_price: int) -> int:
    """What `actor` owns, in rad of stablecoin: internal stable + ERC-20 stable + collateral
    (ERC-20 tokens, free in the engine, locked in its vault) at `market_price` [wad] - its vault
    debt (normalized debt x rate). An attacker's value must not rise: value_after <=
    value_before."""
    d = system.d
    scale = 10 ** (18 - t.config.token_decimals)
    stable = (
        _read(system, d.engine, "stable", actor)
        + _read(system, d.stablecoin, "balanceOf", actor) * RAY
    )
    tokens = _read(system, t.token, "balanceOf", actor) * scale
    free = _read(system, d.engine, "collateral", t.type_id, actor)
    locked, normalized_debt = _read(system, d.engine, "vaults", t.type_id, actor)
    rate = _read(system, d.engine, "collateral_types", t.type_id)[1]
    # wad x wad = 1e36; x 1e9 = rad
    return stable + (tokens + free + locked) * market_price * 10**9 - normalized_debt * rate


def test_holdings_value__counts_stable_collateral_and_debt(system):
    """Four ETH joined add 4 x 2,000 BUSD; locking them and drawing 3,000 BUSD moves no value
    (+3,000
    stable, +3,000 debt); a transfer of 500 internal BUSD to someone else costs 500."""
    r, t = system.roles, system.eth
    start = holdings_value(system, r.other, t, 2_000 * WAD)
    system.fund(r.other, ETH, 4 * WAD)
    before = holdings_value(system, r.other, t, 2_000 * WAD)
    assert before == start + 8_000 * RAD
    system.tx(
        system.d.engine,
        "modify_vault",
        r.other,
        t.type_id,
        r.other,
        r.other,
        r.other,
        4 * WAD,
        3_000 * WAD,
    )
    assert holdings_value(system, r.other, t, 2_000 * WAD) == before
    system.tx(system.d.engine, "transfer_stable", r.other, r.other, r.stranger, 500 * RAD)
    assert holdings_value(system, r.other, t, 2_000 * WAD) == before - 500 * RAD


# ---------------------------------------------------------------- 1: self-liquidation farming


def _ctype(system, t) -> tuple:
    """(normalized_debt [wad], rate [ray], safe_price [ray], debt_ceiling [rad], dust [rad])."""
    return _read(system, system.d.engine, "collateral_types", t.type_id)


@pytest.mark.parametrize("dust", [100 * RAD, None], ids=["reviewed-dust-100", "devnet-dust"])
def test_self_liquidation_farming__keeper_reward_never_exceeds_penalty_income(system, dust):
    """Attack: open a dust vault at the liquidation limit, accrue one second of fees, liquidate it
    naming oneself keeper, buy the lot back; repeat. Reward <= penalty income: no profit, no new
    bad debt."""
    r, t, d = system.roles, system.eth, system.d
    if dust is not None:  # the reviewed configuration (reward 300 + 0.1% > penalty income 13)
        system.tx(d.engine, "set_dust", r.governance, t.type_id, dust)
        system.tx(t.auction, "update_min_auction", r.governance)
    attacker = r.other
    penalty = t.config.liquidation_penalty
    market = 2_000 * WAD
    # the attacker's capital: 3 ETH and 1,000 BUSD (to pay the tab above what it drew + the reward)
    system.fund(attacker, ETH, 3 * WAD)
    system.tx(d.engine, "create_unbacked", r.governance, r.governance, attacker, 1_000 * RAD)
    system.tx(d.engine, "allow", attacker, t.auction)
    before = holdings_value(system, attacker, t, market)
    unattributed_0 = _read(system, d.backstop, "unattributed_debt")
    income_total = rewards = 0
    for _ in range(3):
        _, rate, spot, _, dust = _ctype(system, t)
        # the smallest vault allowed, exactly at the liquidation limit: collateral x spot ~ debt
        normalized = -(-dust // rate)
        collateral = -(-normalized * rate // spot)
        system.tx(
            d.engine,
            "modify_vault",
            attacker,
            t.type_id,
            attacker,
            attacker,
            attacker,
            collateral,
            normalized,
        )
        system.warp(1)
        system.tx(d.fees, "accrue", attacker, t.type_id)
        stable_0 = _read(system, d.engine, "stable", attacker)
        system.tx(d.liquidator, "liquidate", attacker, t.type_id, attacker, attacker)
        reward = _read(system, d.engine, "stable", attacker) - stable_0
        auction_id = _read(system, t.auction, "count")
        debt = _read(system, t.auction, "auctions", auction_id)[1]
        income = debt - -(-debt * WAD // penalty)
        assert 0 < reward <= income
        income_total += income
        rewards += reward
        # buy the whole lot back at once: the rest of the collateral returns to the attacker
        system.tx(t.auction, "take", attacker, auction_id, 2**128 - 1, 2**255, attacker, b"")
        assert _read(system, t.auction, "active_count") == 0
    after = holdings_value(system, attacker, t, market)
    assert after <= before
    # the rewards are the only unattributed bad debt created, and never above the penalty income
    assert (
        _read(system, d.backstop, "unattributed_debt") - unattributed_0 == rewards <= income_total
    )


def test_reset_after_shutdown__pays_no_keeper_reward(system):
    """Attack: after global settlement nothing earns a reward, yet an auction reset (or started)
    could still mint one as unbacked debt. Now a reset with the liquidator not live pays 0."""
    r, t, d = system.roles, system.eth, system.d
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    _move_prices(system, [(t, 1_500 * WAD)])
    system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper)
    auction_id = _read(system, t.auction, "count")
    started = _read(system, t.auction, "auctions", auction_id)[4]
    system.tx(d.settlement, "shutdown", r.governance)
    assert _read(system, d.liquidator, "live") is False
    # a fresh price (posted now, current after two pokes), then past max_duration: the reset is due
    system.tx(t.oracle, "post", r.feeder, 1_500 * WAD)
    for _ in range(2):
        system.warp(t.config.oracle_delay)
        system.tx(t.oracle, "poke", r.keeper)
    due = started + t.config.auction_max_duration + 1
    system.lockstep.set_next_block_time(max(due, system.now + 1))
    keeper_0 = _read(system, d.engine, "stable", r.keeper)
    unattributed_0 = _read(system, d.backstop, "unattributed_debt")
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    assert [e.args["reward"] for e in system.events if e.name == "Reset"] == [0]
    assert _read(system, d.engine, "stable", r.keeper) == keeper_0
    assert _read(system, d.backstop, "unattributed_debt") == unattributed_0


# ---------------------------------------------------------------- 10: zombie auctions


def _taker(system, amount) -> str:
    """The stranger, funded by governance with `amount` [rad] of internal stablecoin, lets the ETH
    auction collect payment."""
    r, d = system.roles, system.d
    system.tx(d.engine, "create_unbacked", r.governance, r.governance, r.stranger, amount)
    system.tx(d.engine, "allow", r.stranger, system.eth.auction)
    return r.stranger


def test_zombie_auction__take_leaving_collateral_below_min_auction__takes_the_whole_lot(system):
    """Attack: take an underwater auction with max_collateral = lot - 1, leaving 1 wei of collateral
    with thousands of debt that no keeper will ever take. Now the take buys the whole lot and the
    loss closes."""
    r, t, d = system.roles, system.eth, system.d
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    _move_prices(system, [(t, 1_000 * WAD)])
    system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper)
    auction_id = _read(system, t.auction, "count")
    _, debt, lot, _, _, top = _read(system, t.auction, "auctions", auction_id)[:6]
    assert lot * top < debt  # underwater: 10 ETH x 1,200 < ~14,690
    taker = _taker(system, 20_000 * RAD)
    system.tx(t.auction, "take", taker, auction_id, lot - 1, top, taker, b"")
    assert _read(system, t.auction, "active_count") == 0
    assert _read(system, d.engine, "collateral", t.type_id, taker) == lot
    finished = [e.args for e in system.events if e.name == "Finished"]
    assert finished == [
        {"auction_id": auction_id, "collateral_returned": 0, "debt_unraised": debt - lot * top}
    ]
    assert _read(system, d.liquidator, "debt_in_auction") == 0
    assert (
        _read(system, d.backstop, "losses", t.type_id, t.auction, auction_id)[3] == 2
    )  # closed with a loss


def test_zombie_auction__lot_worth_less_than_min_auction__anyone_closes_it(system):
    """Attack: an auction whose lot is worth less than min_auction even at its start price never
    finishes (no taker profits). Now anyone closes it: the debt goes to the waterfall, the slot
    and caps free."""
    r, t, d = system.roles, system.eth, system.d
    system.open_vault(r.borrower, ETH, 2 * WAD, 2_600 * WAD)
    system.open_vault(r.other, ETH, 60 * WAD, 6_000 * WAD)
    _move_prices(system, [(t, 50 * WAD)])
    system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, r.other, r.keeper)
    big = _read(system, t.auction, "count")
    system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper)
    auction_id = _read(system, t.auction, "count")
    _, debt, lot, _, _, top = _read(system, t.auction, "auctions", auction_id)[:6]
    min_auction = _read(system, t.auction, "min_auction")
    assert lot * top < min_auction <= debt  # 2 ETH x 60 = 120 < 2,825
    # an auction whose lot is worth at least min_auction at its start price cannot be closed
    with _reverts("auction: lot not dust"):
        system.tx(t.auction, "close_dust_auction", r.stranger, big)
    free_0 = _read(system, d.engine, "collateral", t.type_id, r.borrower)
    in_auction_0 = _read(system, d.liquidator, "debt_in_auction")
    system.tx(t.auction, "close_dust_auction", r.stranger, auction_id)
    assert [e.args for e in system.events if e.name == "Finished"] == [
        {"auction_id": auction_id, "collateral_returned": lot, "debt_unraised": debt}
    ]
    assert _read(system, d.engine, "collateral", t.type_id, r.borrower) == free_0 + lot
    assert _read(system, d.liquidator, "debt_in_auction") == in_auction_0 - debt
    assert _read(system, t.auction, "active_auctions") == (big,)
    assert (
        _read(system, d.backstop, "losses", t.type_id, t.auction, auction_id)[3] == 2
    )  # closed: to the waterfall
    with _reverts("auction: not running"):
        system.tx(t.auction, "close_dust_auction", r.stranger, auction_id)


def test_zombie_auction__backstop_keeper_closes_dust_auctions():
    """Attack: a dust auction left running keeps open_losses above zero forever if no one acts.
    The backstop keeper's strategy closes every auction it sees worth less than min_auction at its
    top."""
    view = BackstopView(
        now=0,
        surplus=0,
        bad_debt=0,
        unattributed_debt=0,
        debt_to_auction=0,
        debt_auction_bid_size=0,
        surplus_buffer=0,
        surplus_lot=0,
        queue_delay=0,
        losses=[],
        debt_auctions=[],
        min_decrease=WAD,
        bidder_stable=0,
        charge_count=0,
        stakers=[],
        dust_auctions=(3, 7),
    )
    params = BackstopParams(
        "0xkeeper", "", "0xbackstop", "0xdebt", "0xpool", "0xfees", b"t", "0xauction", 1
    )
    closes = [
        (a.contract, a.function, a.args)
        for a in backstop_actions(view, params, False, {("close_dust", 7)})
    ]
    assert closes == [("0xauction", "close_dust_auction", (3,))]  # 7 is already in flight


# ---------------------------------------------------------------- 11: the active-auction cap


def test_auction_cap__full_auction_set__liquidate_many_skips_instead_of_reverting():
    """Attack (griefing): with MAX_ACTIVE auctions running, every liquidate_many batch reverted, so
    nothing was liquidated. Now the batch skips those vaults; the strict liquidate reverts with a
    reason.
    Model alone: 1,024 auctions need ~4,200 transactions (~1,024 vault openings of 4 each),
    minutes on Anvil
    through Lockstep; the chain side of the check is test_auction_cap__has_room_on_chain below."""
    from offchain.backends import ModelBackend
    from offchain.model.dutch_auction import MAX_ACTIVE
    from offchain.system.config import load_config
    from offchain.system.deployment import deploy_system

    gov, feeder, keeper = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20
    m = ModelBackend(1_700_000_000)
    d = deploy_system(m, load_config(), gov, feeder, seed_pools=False)
    t = d.types[ETH]
    owners = ["0x" + f"{i + 1:040x}" for i in range(MAX_ACTIVE + 3)]
    for o in owners:
        m.transact(t.token, "mint", gov, o, 2 * WAD)
        m.transact(t.token, "approve", o, t.join, 2 * WAD)
        m.transact(t.join, "join", o, o, 2 * WAD)
        m.transact(d.engine, "modify_vault", o, t.type_id, o, o, o, 2 * WAD, 2_600 * WAD)
    m.transact(t.oracle, "post", feeder, 1_500 * WAD)
    for _ in range(2):
        m.set_next_block_time(m.last_block_time + t.config.oracle_delay)
        m.transact(t.oracle, "poke", keeper)
    m.transact(d.spotter, "poke", keeper, t.type_id)
    for start in range(0, MAX_ACTIVE, 40):
        m.transact(
            d.liquidator,
            "liquidate_many",
            keeper,
            t.type_id,
            owners[start : min(start + 40, MAX_ACTIVE)],
            keeper,
        )
    auction = m.contract(t.auction)
    assert auction.active_count() == MAX_ACTIVE and auction.has_room() is False
    # the next batch skips the three vaults left instead of reverting
    assert m.contract(d.liquidator).types[t.type_id].debt_in_auction > 0
    m.transact(d.liquidator, "liquidate_many", keeper, t.type_id, owners[MAX_ACTIVE:], keeper)
    assert auction.active_count() == MAX_ACTIVE
    assert all(
        m.contract(d.engine).vaults[(t.type_id, o)].normalized_debt == 2_600 * WAD
        for o in owners[MAX_ACTIVE:]
    )
    with _reverts("auction: too many running"):
        m.transact(d.liquidator, "liquidate", keeper, t.type_id, owners[-1], keeper)
    # the keeper proposes nothing when there is no room, and at most the room otherwise
    index = VaultIndex(t.type_id)
    for o in owners[MAX_ACTIVE:]:
        index.apply_args(
            {
                "collateral_type": t.type_id,
                "owner": o,
                "delta_collateral": 2 * WAD,
                "delta_normalized_debt": 2_600 * WAD,
            }
        )
    ctype = m.contract(d.engine).collateral_types[t.type_id]
    assert (
        liquidation_actions(
            index, ctype.rate, ctype.safe_price, set(), keeper, d.liquidator, 1, room=0
        )
        == []
    )
    two = liquidation_actions(
        index, ctype.rate, ctype.safe_price, set(), keeper, d.liquidator, 1, room=2
    )
    assert [len(a.args[1]) for a in two] == [2]


def test_auction_cap__has_room_on_chain(system):
    """Attack: a batch that hits the auction's MAX_ACTIVE reverted whole. The chain's boundary
    check:
    has_room is true below the cap and liquidate_many consults it (a liquidation still starts)."""
    r, t, d = system.roles, system.eth, system.d
    assert _read(system, t.auction, "has_room") is True
    system.open_vault(r.borrower, ETH, 2 * WAD, 2_600 * WAD)
    _move_prices(system, [(t, 1_500 * WAD)])
    system.tx(d.liquidator, "liquidate_many", r.keeper, t.type_id, [r.borrower], r.keeper)
    assert (
        _read(system, t.auction, "active_count") == 1
        and _read(system, t.auction, "has_room") is True
    )


# ---------------------------------------------------------------- 13: keepers with an invalid price


def test_liquidation_keeper__invalid_price__does_nothing():
    """Attack (self-griefing): a safe price of 0 (stale oracle) made every vault look unsafe and the
    keeper sent reverting batches every bar. Now it proposes nothing."""
    index = VaultIndex(b"t")
    index.apply_args(
        {
            "collateral_type": b"t",
            "owner": "0x" + "aa" * 20,
            "delta_collateral": WAD,
            "delta_normalized_debt": 1_000 * WAD,
        }
    )
    assert liquidation_actions(index, RAY, 0, set(), "0xk", "0xliq", 1) == []
    # with a valid price the unsafe vault is proposed
    assert len(liquidation_actions(index, RAY, 100 * RAY, set(), "0xk", "0xliq", 1)) == 1
