"""DutchAuction.start (through the Liquidator's liquidate): the start price is the oracle price
times the buffer rounded up, and the keeper's reward is paid only when the debt is at least
min_auction. Scenario and helpers: tests/contracts/support/dutch_auction.py.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from helpers import at, auction_sale, ceil_div, crash, eth_auction, liquidate
from support.dutch_auction import ETH, MAX_BUFFER
from support.dutch_auction import bad_debt as _bad_debt
from support.dutch_auction import collateral as _collateral
from support.dutch_auction import ctype as _ctype
from support.dutch_auction import event as _event
from support.dutch_auction import loss as _loss
from support.dutch_auction import reward as _reward
from support.dutch_auction import reward_limit as _reward_limit
from support.dutch_auction import set_parameters as _set_parameters
from support.dutch_auction import small_dust as _small_dust
from support.dutch_auction import stable as _stable
from support.dutch_auction import status as _status
from support.dutch_auction import type_debt_in_auction as _type_debt_in_auction

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def test_liquidate__starts_auction_at_oracle_price_times_buffer_and_pays_keeper(system):
    """Money flow: the vault's 10 ETH go to the auction and its 13,000 x rate debt to the
    Backstop's bad debt, recorded as a running loss event of auction 1 (after the auction's start);
    the keeper is paid 300 + 0.1% of the debt to raise in new stablecoin, which the Backstop owes
    as unattributed bad debt (I1-I3 hold: both totals rise by the reward)."""
    r, t, d = system.roles, system.eth, system.d
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    crash(system, t, 1_500 * WAD)
    rate = _ctype(system, t).rate
    debt = 13_000 * WAD * rate
    to_raise = ceil_div(debt * t.config.liquidation_penalty, WAD)
    min_auction = _read(system, t.auction, "min_auction")
    reward = _reward(t, to_raise, min_auction, 10 * WAD, 1_800 * RAY)
    keeper_0, backstop_bad_0 = _stable(system, r.keeper), _bad_debt(system, d.backstop)
    unbacked_0 = _read(system, d.engine, "total_unbacked")

    auction_id = liquidate(system, t, r.borrower)
    started = system.now
    assert auction_id == 1
    assert _events(system) == [
        (
            d.engine,
            "VaultSeized",
            {
                "collateral_type": t.type_id,
                "owner": r.borrower,
                "collateral_dst": t.auction,
                "debt_dst": d.backstop,
                "delta_collateral": -10 * WAD,
                "delta_normalized_debt": -13_000 * WAD,
            },
        ),
        (
            d.engine,
            "UnbackedCreated",
            {"debt_dst": d.backstop, "stable_dst": r.keeper, "amount": reward},
        ),
        (
            t.auction,
            "Started",
            {
                "auction_id": 1,
                "top": 1_800 * RAY,
                "debt": to_raise,
                "lot": 10 * WAD,
                "owner": r.borrower,
                "keeper": r.keeper,
                "reward": reward,
            },
        ),
        (
            d.backstop,
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
            d.liquidator,
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
    assert auction_sale(system, t, 1) == (0, to_raise, 10 * WAD, r.borrower, started, 1_800 * RAY)
    assert _status(system, t, 1) == (False, 1_800 * RAY, 10 * WAD, to_raise)
    assert _read(system, t.auction, "active_auctions") == (1,)
    assert _read(system, t.auction, "active_count") == 1
    assert _collateral(system, t, t.auction) == 10 * WAD
    assert (
        _type_debt_in_auction(system, t)
        == _read(system, d.liquidator, "debt_in_auction")
        == to_raise
    )
    assert _stable(system, r.keeper) == keeper_0 + reward
    assert _bad_debt(system, d.backstop) == backstop_bad_0 + debt + reward
    assert _read(system, d.engine, "total_unbacked") == unbacked_0 + debt + reward
    assert _loss(system, t, 1) == (debt, to_raise, started, 1)
    assert _read(system, d.backstop, "open_losses") == 1
    assert _read(system, d.backstop, "attributed_debt") == debt
    assert _read(system, d.backstop, "unattributed_debt") == reward
    assert _stable(system, t.auction) == 0  # nothing raised yet
    assert reward == 300 * RAD + to_raise // 1000
    assert 314 * RAD < reward < 315 * RAD  # 300 + 0.1% of ~14,690


@pytest.mark.parametrize("buffer", [12 * RAY // 10, RAY, RAY + 7, MAX_BUFFER])
def test_start_price__is_oracle_price_times_buffer_rounded_up(system, buffer):
    """top = ceil(price [wad] x 1e9 x buffer / ray): never below the exact product, by < 1 ulp."""
    t = system.eth
    price = 1_499_999_999_999_999_999_999  # just under 1,500 BUSD: no product here is round
    _set_parameters(system, t, buffer=buffer)
    auction_id = eth_auction(system, price=price)
    top = auction_sale(system, t, auction_id)[5]
    exact = Fraction(price * 10**9 * buffer, RAY)
    assert exact <= top < exact + 1
    assert top == ceil_div(price * 10**9 * buffer, RAY)
    if buffer == RAY + 7:
        assert top != exact  # 7 x price / 1e18 is not whole: this one really rounds up
    assert _event(system, "Started")["top"] == top


def test_start__stale_oracle__reverts_invalid_price(system):
    """The oracle's price goes stale 10,800 s after it was posted; the spotter's safe price (set
    while it was fresh) still makes the vault unsafe, but the auction cannot price it."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    crash(system, t, 1_500 * WAD)
    posted = system.contract(t.oracle).current_time
    at(system, posted + t.config.oracle_max_age + 1)
    with reverts("auction: invalid price"):
        liquidate(system, t, r.borrower)
    assert _read(system, t.oracle, "peek") == (1_500 * WAD, False)


@pytest.mark.parametrize(
    "args,reason",
    [
        ((0, WAD, "owner"), "auction: zero debt"),
        ((RAD, 0, "owner"), "auction: zero lot"),
        ((RAD, WAD, ZERO_ADDRESS), "auction: zero owner"),
    ],
)
def test_start__by_authority_with_empty_values__reverts(system, args, reason):
    r = system.roles
    debt, lot, owner = args
    with reverts(reason):
        system.tx(
            system.eth.auction,
            "start",
            r.governance,
            debt,
            lot,
            r.borrower if owner == "owner" else owner,
            r.keeper,
        )


def test_start__stopped_level_1__reverts_before_checking_values(system):
    system.tx(system.eth.auction, "set_stopped", system.roles.governance, 1)
    with reverts("auction: stopped"):
        system.tx(
            system.eth.auction, "start", system.roles.governance, 0, 0, ZERO_ADDRESS, ZERO_ADDRESS
        )


@pytest.mark.parametrize("dust_over_debt,paid", [(0, True), (1, False)])
def test_start__reward_only_when_debt_at_least_min_auction(system, dust_over_debt, paid):
    """Money flow: with the dust set to the vault's debt, min_auction (dust x 1.13, rounded down)
    equals the auction's debt exactly (debt x 1.13, rounded up, is whole here) and the keeper is
    paid; one rad more of dust puts min_auction one rad above the debt and nothing is paid."""
    r, t = system.roles, system.eth
    _small_dust(system, t)
    system.open_vault(r.borrower, ETH, 1 * WAD, 1_000 * WAD)
    vault_debt = 1_000 * WAD * _ctype(system, t).rate
    assert vault_debt * 113 % 100 == 0
    system.tx(system.d.engine, "set_dust", r.governance, t.type_id, vault_debt + dust_over_debt)
    crash(system, t, 1_400 * WAD)
    keeper_0 = _stable(system, r.keeper)
    auction_id = liquidate(system, t, r.borrower)
    debt, lot = auction_sale(system, t, auction_id)[1:3]
    min_auction = _read(system, t.auction, "min_auction")
    assert debt == vault_debt * 113 // 100
    assert min_auction == debt + dust_over_debt
    assert lot * 1_680 * RAY >= min_auction  # the collateral's value is not what decides here
    # capped at half the penalty income: 300 + 0.1% is above (debt - debt / 1.13) / 2 (= 65 x rate)
    reward = _reward_limit(debt, 113 * WAD // 100) if paid else 0
    assert _event(system, "Started")["reward"] == reward
    assert ("UnbackedCreated" in [e.name for e in system.events]) == paid
    assert _stable(system, r.keeper) == keeper_0 + reward


def test_start__collateral_worth_less_than_min_auction__pays_no_reward(system):
    """1 ETH at a start price of 50 x 1.2 = 60 BUSD is worth less than min_auction (113 BUSD),
    although the debt to raise (~1,130) is above it: no reward (no farming of dust lots)."""
    r, t = system.roles, system.eth
    _small_dust(system, t)
    keeper_0 = _stable(system, r.keeper)
    auction_id = eth_auction(system, collateral=1 * WAD, debt=1_000 * WAD, price=50 * WAD)
    debt, lot, top = (auction_sale(system, t, auction_id)[i] for i in (1, 2, 5))
    min_auction = _read(system, t.auction, "min_auction")
    assert top == 60 * RAY and lot == WAD
    assert debt >= min_auction > lot * top
    assert _event(system, "Started")["reward"] == 0
    assert [e.name for e in system.events] == ["VaultSeized", "Started", "LossOpened", "Liquidated"]
    assert _stable(system, r.keeper) == keeper_0


def test_start__no_reward_configured__pays_nothing(system):
    r, t = system.roles, system.eth
    _set_parameters(system, t, reward_rate=0, reward_flat=0)
    keeper_0 = _stable(system, r.keeper)
    eth_auction(system)
    assert _event(system, "Started")["reward"] == 0
    assert "UnbackedCreated" not in [e.name for e in system.events]
    assert _stable(system, r.keeper) == keeper_0
    assert (
        _read(system, system.d.backstop, "unattributed_debt") == 0
    )  # all its bad debt is the event's
