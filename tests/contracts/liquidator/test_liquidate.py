"""Liquidator.liquidate: an unsafe vault is seized whole, its loss event opened and the keeper paid;
a safe vault (to the wei), a missing or stale price, a stopped auction, an unconfigured type or a
missing role refuse it. Scenario and helpers: tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

from support.liquidation import NEW_TYPE, QUEUE_DELAY, RUNNING
from support.liquidation import auction as _auction
from support.liquidation import auction_var as _auction_var
from support.liquidation import backstop as _backstop
from support.liquidation import bad_debt as _bad_debt
from support.liquidation import crash as _crash
from support.liquidation import ctype as _ctype
from support.liquidation import engine_totals as _engine_totals
from support.liquidation import free_collateral as _free_collateral
from support.liquidation import liquidate as _liquidate
from support.liquidation import liquidator as _liquidator
from support.liquidation import loss as _loss
from support.liquidation import returns as _returns
from support.liquidation import reward as _reward
from support.liquidation import reward_limit as _reward_limit
from support.liquidation import safe_price as _safe_price
from support.liquidation import small_dust as _small_dust
from support.liquidation import stable as _stable
from support.liquidation import to_raise as _to_raise
from support.liquidation import type_config as _type_config
from support.liquidation import unattributed_debt as _unattributed_debt
from support.liquidation import unsafe_eth_vault as _unsafe_eth_vault
from support.liquidation import vault as _vault

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import Role
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts

ORACLE_MAX_AGE = 10_800


def test_liquidate__unsafe_vault__seizes_all_opens_loss_event_and_pays_keeper(system):
    """Money flow: the borrower's 10 ETH go to the auction and its 13,000 BUSD of debt (x rate)
    to the Backstop's bad debt, all of it attributed to the loss event the liquidator opens for
    auction 1 once it has started; the auction must raise debt x 1.13 (rounded up); the keeper is
    paid 300 + 0.1% of that in new stablecoin, which is more bad debt of the Backstop, belonging
    to no event (unattributed: settleable against surplus at once)."""
    r, t, e = system.roles, system.eth, system.d.engine
    _unsafe_eth_vault(system)
    rate = _ctype(system, t).rate
    issued, unbacked = _engine_totals(system)
    keeper_stable = _stable(system, r.keeper)

    assert (
        _returns(
            system, system.d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper
        )
        == 1
    )
    _liquidate(system, r.borrower)
    now = system.now
    debt = 13_000 * WAD * rate
    to_raise = _to_raise(debt)
    reward = _reward(to_raise)
    top = 2_280 * RAY  # 1,900 x buffer 1.2
    assert rate > RAY and reward == 300 * RAD + to_raise // 1000

    assert _events(system) == [
        (
            e,
            "VaultSeized",
            {
                "collateral_type": t.type_id,
                "owner": r.borrower,
                "collateral_dst": t.auction,
                "debt_dst": system.d.backstop,
                "delta_collateral": -10 * WAD,
                "delta_normalized_debt": -13_000 * WAD,
            },
        ),
        (
            e,
            "UnbackedCreated",
            {"debt_dst": system.d.backstop, "stable_dst": r.keeper, "amount": reward},
        ),
        (
            t.auction,
            "Started",
            {
                "auction_id": 1,
                "top": top,
                "debt": to_raise,
                "lot": 10 * WAD,
                "owner": r.borrower,
                "keeper": r.keeper,
                "reward": reward,
            },
        ),
        (
            system.d.backstop,
            "LossOpened",
            {
                "collateral_type": t.type_id,
                "auction": t.auction,
                "auction_id": 1,
                "debt": debt,
                "to_raise": to_raise,
            },
        ),
        (
            system.d.liquidator,
            "Liquidated",
            {
                "collateral_type": t.type_id,
                "owner": r.borrower,
                "collateral": 10 * WAD,
                "normalized_debt": 13_000 * WAD,
                "debt": debt,
                "auction": t.auction,
                "auction_id": 1,
            },
        ),
    ]
    # the vault is empty; the collateral is the auction's lot
    assert _vault(system, t, r.borrower) == (0, 0)
    assert _free_collateral(system, t, t.auction) == 10 * WAD
    # the reward budget left for resets: half the penalty income at the start less the reward,
    # stored in whole units of 2**144 rad (rounded down)
    budget = (_reward_limit(to_raise) - reward) // 2**144 * 2**144
    assert tuple(_auction(system, t, 1)) == (0, to_raise, 10 * WAD, r.borrower, now, top, budget)
    assert _auction_var(system, t, "active_auctions") == (1,)
    assert _auction_var(system, t, "next_id") == 2
    # the debt is the Backstop's, attributed to the running event; the reward is bad debt too, of
    # no event
    assert _bad_debt(system, system.d.backstop) == debt + reward
    assert _loss(system, t, 1) == (debt, to_raise, now, RUNNING)
    assert _backstop(system, "open_losses") == 1
    assert _backstop(system, "attributed_debt") == debt
    assert _unattributed_debt(system) == reward
    assert _stable(system, r.keeper) == keeper_stable + reward
    assert _engine_totals(system) == (issued + reward, unbacked + debt + reward)
    assert _ctype(system, t).normalized_debt == 0
    # the caps count the debt to raise, penalty included
    assert _liquidator(system, "debt_in_auction") == to_raise
    assert _type_config(system, t).debt_in_auction == to_raise


def test_liquidate__called_by_stranger__reward_goes_to_named_keeper(system):
    """Money flow: anyone may liquidate; the reward goes to the `keeper` argument, not the
    caller."""
    r = system.roles
    _unsafe_eth_vault(system)
    stranger, other = _stable(system, r.stranger), _stable(system, r.other)
    _liquidate(system, r.borrower, sender=r.stranger, keeper=r.other)
    reward = _reward(_to_raise(13_000 * WAD * _ctype(system, system.eth).rate))
    assert _stable(system, r.other) == other + reward
    assert _stable(system, r.stranger) == stranger


def test_liquidate__safe_vault__reverts_vault_is_safe(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 13_000 * WAD)  # safe at 2,000
    with reverts("liquidator: vault is safe"):
        _liquidate(system, r.borrower)
    # an empty vault, and a vault with collateral and no debt, are safe too
    with reverts("liquidator: vault is safe"):
        _liquidate(system, r.stranger)
    system.fund(r.other, "ETH-A", WAD)
    system.tx(
        system.d.engine,
        "modify_vault",
        r.other,
        system.eth.type_id,
        r.other,
        r.other,
        r.other,
        WAD,
        0,
    )
    with reverts("liquidator: vault is safe"):
        _liquidate(system, r.other)
    assert _vault(system, system.eth, r.borrower) == (10 * WAD, 13_000 * WAD)


def test_liquidate__safe_boundary__exactly_at_safe_price_is_safe_one_wei_less_is_not(system):
    """Money flow: only the vault one wei of collateral short of collateral x safe_price >=
    debt x rate is seized; the one exactly at it (equality) keeps everything. To reach equality
    exactly, governance sets the liquidation ratio so that the safe price equals the rate: then a
    vault is at the boundary when its collateral equals its normalized debt."""
    r, t = system.roles, system.eth
    _small_dust(system)
    rate = _ctype(system, t).rate
    # a price [wad] and ratio [ray] with price / ratio == rate exactly, after the spotter's floor
    price, ratio = next(
        (p * WAD, p * WAD * 10**9 * RAY // rate)
        for p in range(2, 100)
        if _safe_price(p * WAD, p * WAD * 10**9 * RAY // rate) == rate
    )
    system.open_vault(r.borrower, "ETH-A", 200 * WAD, 200 * WAD)
    system.open_vault(r.other, "ETH-A", 200 * WAD - 1, 200 * WAD)
    system.tx(system.d.spotter, "set_liquidation_ratio", r.governance, t.type_id, ratio)
    _crash(system, t, price)
    assert _ctype(system, t).safe_price == rate
    # the engine agrees: the borrower exactly at the boundary is safe, the other vault is not
    assert system.view(system.d.engine, "is_safe", t.type_id, r.borrower) is True
    assert system.view(system.d.engine, "is_safe", t.type_id, r.other) is False

    with reverts("liquidator: vault is safe"):
        _liquidate(system, r.borrower)
    _liquidate(system, r.other)
    assert _vault(system, t, r.other) == (0, 0)
    assert _vault(system, t, r.borrower) == (200 * WAD, 200 * WAD)


def test_liquidate__no_valid_price__reverts_even_for_an_unsafe_vault(system):
    """A stale oracle makes the spotter write safe price 0 ("no valid price"): nothing can be
    liquidated, and the batch entry point reverts rather than skipping."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 13_000 * WAD)
    system.warp(ORACLE_MAX_AGE + 1)
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    assert _ctype(system, t).safe_price == 0
    with reverts("liquidator: no valid price"):
        _liquidate(system, r.borrower)
    with reverts("liquidator: no valid price"):
        system.tx(
            system.d.liquidator, "liquidate_many", r.keeper, t.type_id, [r.borrower], r.keeper
        )
    assert _vault(system, t, r.borrower) == (10 * WAD, 13_000 * WAD)


def test_liquidate__oracle_stale_after_spot__reverts_in_auction_and_seizes_nothing(system):
    """The engine still holds a safe price but the oracle went stale since: the auction cannot
    price a start, and the whole liquidation (seizure, loss event) is undone."""
    r, t = system.roles, system.eth
    _unsafe_eth_vault(system)
    system.warp(QUEUE_DELAY)  # the crash price was posted 7,200 s ago: now past max age 10,800
    with reverts("auction: invalid price"):
        _liquidate(system, r.borrower)
    assert _vault(system, t, r.borrower) == (10 * WAD, 13_000 * WAD)
    assert _backstop(system, "open_losses") == _backstop(system, "attributed_debt") == 0
    assert _bad_debt(system, system.d.backstop) == 0
    assert _liquidator(system, "debt_in_auction") == 0


def test_liquidate__auction_stopped__reverts_and_seizes_nothing(system):
    r, t = system.roles, system.eth
    _unsafe_eth_vault(system)
    system.tx(t.auction, "set_stopped", r.governance, 1)
    with reverts("auction: stopped"):
        _liquidate(system, r.borrower)
    with reverts("auction: stopped"):
        system.tx(
            system.d.liquidator, "liquidate_many", r.keeper, t.type_id, [r.borrower], r.keeper
        )
    assert _vault(system, t, r.borrower) == (10 * WAD, 13_000 * WAD)
    assert _bad_debt(system, system.d.backstop) == 0


def test_liquidate__type_not_configured__reverts(system):
    r = system.roles
    with reverts("liquidator: type not configured"):
        system.tx(system.d.liquidator, "liquidate", r.keeper, NEW_TYPE, r.borrower, r.keeper)
    with reverts("liquidator: type not configured"):
        system.tx(system.d.liquidator, "liquidate_many", r.keeper, NEW_TYPE, [r.borrower], r.keeper)


def test_liquidate__liquidator_without_open_loss_role__reverts_and_seizes_nothing(system):
    """The loss event is part of the liquidation: if the Backstop refuses to open it, the whole
    liquidation (seizure, auction start, keeper reward) is undone."""
    r, t, b = system.roles, system.eth, system.d.backstop
    _unsafe_eth_vault(system)
    system.tx(b, "revoke_role", r.governance, system.d.liquidator, int(Role.OPEN_LOSS))
    with reverts("authorized: not authorized"):
        _liquidate(system, r.borrower)
    assert _vault(system, t, r.borrower) == (10 * WAD, 13_000 * WAD)
    assert _bad_debt(system, b) == 0
    assert _auction_var(system, t, "active_count") == 0
    assert _auction_var(system, t, "next_id") == 1
    system.tx(b, "grant_role", r.governance, system.d.liquidator, int(Role.OPEN_LOSS))
    _liquidate(system, r.borrower)
    assert _loss(system, t, 1)[3] == RUNNING
