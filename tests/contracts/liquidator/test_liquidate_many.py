"""Liquidator.liquidate_many: exactly the unsafe vaults are liquidated, a cap or dust skips the rest
without reverting, each owner once, at most MAX_BATCH. Scenario and helpers:
tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

from support.liquidation import RUNNING
from support.liquidation import auction as _auction
from support.liquidation import auction_var as _auction_var
from support.liquidation import backstop as _backstop
from support.liquidation import ctype as _ctype
from support.liquidation import liquidate as _liquidate
from support.liquidation import liquidator as _liquidator
from support.liquidation import loss as _loss
from support.liquidation import returns as _returns
from support.liquidation import reward as _reward
from support.liquidation import seized as _seized
from support.liquidation import set_global_cap as _set_global_cap
from support.liquidation import set_type_cap as _set_type_cap
from support.liquidation import small_dust as _small_dust
from support.liquidation import stable as _stable
from support.liquidation import to_raise as _to_raise
from support.liquidation import type_config as _type_config
from support.liquidation import unsafe_eth_vault as _unsafe_eth_vault
from support.liquidation import vault as _vault

from offchain.model.fixed_point import RAD, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts

MAX_BATCH = 100


def _four_vaults(system) -> None:
    """borrower 10 ETH / 13,000, other 5 / 6,500, feeder 2 / 2,600 (all unsafe after the crash),
    keeper 10 / 5,000 (safe); the stranger has no vault."""
    r = system.roles
    system.open_vault(r.other, "ETH-A", 5 * WAD, 6_500 * WAD)
    system.open_vault(r.feeder, "ETH-A", 2 * WAD, 2_600 * WAD)
    system.open_vault(r.keeper, "ETH-A", 10 * WAD, 5_000 * WAD)
    _unsafe_eth_vault(system)


def test_liquidate_many__mixed_vaults__liquidates_exactly_the_unsafe_and_returns_count(system):
    """Money flow: the two unsafe vaults listed go to auction (ids 1, 2) in one transaction, each
    debt opening its own loss event at this block's time; the safe and the empty vault are
    skipped; the unsafe vault not listed is untouched. The keeper gets one reward per auction."""
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _four_vaults(system)
    rate = _ctype(system, t).rate
    owners = [r.keeper, r.borrower, r.stranger, r.other]
    keeper = _stable(system, r.keeper)
    assert _returns(system, liq, "liquidate_many", r.keeper, t.type_id, owners, r.keeper) == 2

    system.tx(liq, "liquidate_many", r.keeper, t.type_id, owners, r.keeper)
    now = system.now
    liquidated = [
        (ev[2]["owner"], ev[2]["auction_id"]) for ev in _events(system) if ev[1] == "Liquidated"
    ]
    assert liquidated == [(r.borrower, 1), (r.other, 2)]
    raises = [_to_raise(13_000 * WAD * rate), _to_raise(6_500 * WAD * rate)]
    opened = [
        (ev[2]["auction_id"], ev[2]["debt"], ev[2]["to_raise"])
        for ev in _events(system)
        if ev[1] == "LossOpened"
    ]
    assert opened == [(1, 13_000 * WAD * rate, raises[0]), (2, 6_500 * WAD * rate, raises[1])]
    assert _loss(system, t, 1) == (13_000 * WAD * rate, raises[0], now, RUNNING)
    assert _loss(system, t, 2) == (6_500 * WAD * rate, raises[1], now, RUNNING)
    assert _backstop(system, "open_losses") == 2
    assert _backstop(system, "attributed_debt") == 19_500 * WAD * rate
    assert _vault(system, t, r.borrower) == (0, 0)
    assert _vault(system, t, r.other) == (0, 0)
    assert _vault(system, t, r.keeper) == (10 * WAD, 5_000 * WAD)
    assert _vault(system, t, r.feeder) == (2 * WAD, 2_600 * WAD)
    assert [_auction(system, t, i).debt for i in (1, 2)] == raises
    assert _liquidator(system, "debt_in_auction") == sum(raises)
    assert _stable(system, r.keeper) == keeper + sum(_reward(x) for x in raises)


def test_liquidate_many__cap_hit__skips_the_rest_without_reverting(system):
    """Money flow: the global cap fits exactly the first two auctions; the third unsafe vault is
    skipped (not reverted) and keeps its collateral and debt."""
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _four_vaults(system)
    rate = _ctype(system, t).rate
    cap = _to_raise(13_000 * WAD * rate) + _to_raise(6_500 * WAD * rate)
    _set_global_cap(system, cap)
    owners = [r.borrower, r.other, r.feeder]
    assert _returns(system, liq, "liquidate_many", r.keeper, t.type_id, owners, r.keeper) == 2
    system.tx(liq, "liquidate_many", r.keeper, t.type_id, owners, r.keeper)
    assert [ev[2]["owner"] for ev in _events(system) if ev[1] == "Liquidated"] == [
        r.borrower,
        r.other,
    ]
    assert _liquidator(system, "debt_in_auction") == cap
    assert _vault(system, t, r.feeder) == (2 * WAD, 2_600 * WAD)
    # one at a time, the same vault reverts at the cap
    with reverts("liquidator: debt in auction at cap"):
        _liquidate(system, r.feeder)


def test_liquidate_many__partial_then_dust_room__skips_without_reverting(system):
    """Money flow: the first vault takes all its debt, the second only what the 5,000 BUSD left
    allows (partial, above dust), the third would get a dust auction and is skipped."""
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _small_dust(system)
    _four_vaults(system)
    rate = _ctype(system, t).rate
    first = _to_raise(13_000 * WAD * rate)
    _set_type_cap(system, t, first + 5_000 * RAD)
    owners = [r.borrower, r.other, r.feeder]
    assert _returns(system, liq, "liquidate_many", r.keeper, t.type_id, owners, r.keeper) == 2
    system.tx(liq, "liquidate_many", r.keeper, t.type_id, owners, r.keeper)
    seized = _seized(5_000 * RAD, rate)
    assert _vault(system, t, r.other)[1] == 6_500 * WAD - seized
    assert _vault(system, t, r.feeder) == (2 * WAD, 2_600 * WAD)
    assert _type_config(system, t).debt_in_auction == first + _to_raise(seized * rate)


def test_liquidate_many__same_owner_twice__liquidated_once(system):
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _unsafe_eth_vault(system)
    assert (
        _returns(
            system, liq, "liquidate_many", r.keeper, t.type_id, [r.borrower, r.borrower], r.keeper
        )
        == 1
    )
    system.tx(liq, "liquidate_many", r.keeper, t.type_id, [r.borrower, r.borrower], r.keeper)
    assert _auction_var(system, t, "active_auctions") == (1,)


def test_liquidate_many__empty_list__returns_zero_and_does_nothing(system):
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _unsafe_eth_vault(system)
    assert _returns(system, liq, "liquidate_many", r.keeper, t.type_id, [], r.keeper) == 0
    system.tx(liq, "liquidate_many", r.keeper, t.type_id, [], r.keeper)
    assert _events(system) == []


def test_liquidate_many__more_than_max_batch__reverts_in_abi_decoding(system):
    r, t, liq = system.roles, system.eth, system.d.liquidator
    with reverts(None):
        system.tx(
            liq, "liquidate_many", r.keeper, t.type_id, [r.stranger] * (MAX_BATCH + 1), r.keeper
        )
    assert (
        _returns(
            system, liq, "liquidate_many", r.keeper, t.type_id, [r.stranger] * MAX_BATCH, r.keeper
        )
        == 0
    )
