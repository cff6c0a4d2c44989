"""Liquidator.liquidate's keeper reward: none for dust-size auctions or collateral worth less than
min_auction, or when the reward parameters are zero. Scenario and helpers:
tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

import pytest
from helpers import ceil_div
from support.liquidation import PENALTY
from support.liquidation import auction_var as _auction_var
from support.liquidation import bad_debt as _bad_debt
from support.liquidation import crash as _crash
from support.liquidation import ctype as _ctype
from support.liquidation import event as _event
from support.liquidation import liquidate as _liquidate
from support.liquidation import reward as _reward
from support.liquidation import small_dust as _small_dust
from support.liquidation import stable as _stable
from support.liquidation import to_raise as _to_raise
from support.liquidation import unattributed_debt as _unattributed_debt
from support.liquidation import unsafe_eth_vault as _unsafe_eth_vault

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events

BUFFER = 12 * RAY // 10


def test_liquidate__dust_auctions__pay_no_reward_as_soon_as_the_dust_rises(system):
    """Money flow (reward farming): keepers are paid 50 BUSD + 1% per auction. Two vaults of
    1,300 BUSD; liquidating one pays a reward (new stablecoin, Backstop bad debt). Governance
    then raises the dust to 2,000: min_auction is read when used (no follow-up call), so the
    other's auction (1,469 to raise < 2,000 x 1.13 = 2,260) pays nothing at once."""
    r, t, e = system.roles, system.eth, system.d.engine
    _small_dust(system)
    c = t.config
    system.tx(
        t.auction,
        "set_parameters",
        r.governance,
        c.auction_buffer,
        c.auction_max_duration,
        c.auction_max_drop,
        WAD // 100,
        50 * RAD,
    )
    system.open_vault(r.other, "ETH-A", WAD, 1_300 * WAD)
    _unsafe_eth_vault(system, collateral=WAD, debt=1_300 * WAD)
    rate = _ctype(system, t).rate
    to_raise = _to_raise(1_300 * WAD * rate)

    keeper = _stable(system, r.keeper)
    _liquidate(system, r.borrower)
    reward = 50 * RAD + to_raise // 100
    assert _event(system, "Started")["reward"] == reward
    assert _stable(system, r.keeper) == keeper + reward
    assert _bad_debt(system, system.d.backstop) == 1_300 * WAD * rate + reward

    system.tx(e, "set_dust", r.governance, t.type_id, 2_000 * RAD)
    assert _auction_var(system, t, "min_auction") == 2_260 * RAD
    assert to_raise < 2_260 * RAD
    _liquidate(system, r.other)
    assert [name for _, name, _ in _events(system)] == [
        "VaultSeized",
        "Started",
        "LossOpened",
        "Liquidated",
    ]
    assert _event(system, "Started")["reward"] == 0
    assert _event(system, "Started")["debt"] == to_raise
    assert _stable(system, r.keeper) == keeper + reward
    assert _bad_debt(system, system.d.backstop) == 2 * 1_300 * WAD * rate + reward
    assert _unattributed_debt(system) == reward  # the first auction's reward only


@pytest.mark.parametrize("excess", [0, 1])
def test_liquidate__auction_debt_at_min_auction_pays_reward__one_wei_below_does_not(system, excess):
    """Money flow: governance sets the dust so that min_auction (dust x 1.13, rounded down) is
    exactly the auction's debt to raise (the keeper is paid 300 + 0.1%), or one wei above it (the
    keeper gets nothing, the Backstop takes only the vault's debt)."""
    r, t = system.roles, system.eth
    _small_dust(system)
    rate = _ctype(system, t).rate

    def dust_for(min_auction):  # the dust whose min_auction is exactly `min_auction`, if any
        dust = ceil_div(min_auction * WAD, PENALTY)
        return dust if dust * PENALTY // WAD == min_auction else None

    debt = next(
        d
        for d in range(1_300 * WAD, 1_300 * WAD + 100)
        if dust_for(_to_raise(d * rate)) and dust_for(_to_raise(d * rate) + 1)
    )
    to_raise = _to_raise(debt * rate)
    _unsafe_eth_vault(system, collateral=WAD, debt=debt)
    system.tx(system.d.engine, "set_dust", r.governance, t.type_id, dust_for(to_raise + excess))
    assert _auction_var(system, t, "min_auction") == to_raise + excess

    keeper = _stable(system, r.keeper)
    _liquidate(system, r.borrower)
    reward = _reward(to_raise) if excess == 0 else 0
    started = [ev[2] for ev in _events(system) if ev[1] == "Started"]
    assert started[0]["debt"] == to_raise and started[0]["reward"] == reward
    assert _stable(system, r.keeper) == keeper + reward
    assert _bad_debt(system, system.d.backstop) == debt * rate + reward


def test_liquidate__collateral_value_below_min_auction__pays_no_reward(system):
    """Money flow: ETH falls to 1 BUSD: the auction must raise 14,690 BUSD but its 10 ETH start at
    1.2 each (12 BUSD < min_auction 113): a worthless lot pays no keeper reward; the Backstop
    takes only the vault's debt."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 13_000 * WAD)
    _crash(system, t, WAD)
    keeper = _stable(system, r.keeper)
    _liquidate(system, r.borrower)
    rate = _ctype(system, t).rate
    started = _event(system, "Started")
    assert started["top"] == BUFFER and started["lot"] == 10 * WAD
    assert 10 * WAD * BUFFER < 113 * RAD <= started["debt"] == _to_raise(13_000 * WAD * rate)
    assert started["reward"] == 0
    assert _stable(system, r.keeper) == keeper
    assert _bad_debt(system, system.d.backstop) == 13_000 * WAD * rate


def test_liquidate__zero_reward_parameters__pays_nothing(system):
    r, t = system.roles, system.eth
    c = t.config
    system.tx(
        t.auction,
        "set_parameters",
        r.governance,
        c.auction_buffer,
        c.auction_max_duration,
        c.auction_max_drop,
        0,
        0,
    )
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    assert _event(system, "Started")["reward"] == 0
    assert _unattributed_debt(system) == 0
