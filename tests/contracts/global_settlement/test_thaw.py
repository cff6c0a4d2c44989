"""GlobalSettlement.thaw: fixes the outstanding stablecoin debt at shutdown plus wait, once no loss
is open, after healing the lesser of surplus and bad debt. Scenario and helpers:
tests/contracts/support/global_settlement.py.
"""

from __future__ import annotations

import pytest
from support.global_settlement import ETH, WAIT
from support.global_settlement import allow as _allow
from support.global_settlement import bad_debt as _bad_debt
from support.global_settlement import bs as _bs
from support.global_settlement import gs as _gs
from support.global_settlement import liquidate as _liquidate
from support.global_settlement import rate as _rate
from support.global_settlement import reward as _reward
from support.global_settlement import shutdown as _shutdown
from support.global_settlement import stable as _stable
from support.global_settlement import take as _take
from support.global_settlement import thaw_after_wait as _thaw_after_wait
from support.global_settlement import to_raise as _to_raise
from support.global_settlement import top as _top

from offchain.model.fixed_point import RAD, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices as _move_prices
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def _total_issued(system) -> int:
    return _read(system, system.d.engine, "total_issued")


def test_thaw__before_wait_reverts__at_exactly_shutdown_plus_wait_fixes_debt(system):
    r, d = system.roles, system.d
    system.open_vault(r.borrower, ETH, 10 * WAD, 5_000 * WAD)
    _shutdown(system)
    shutdown_at = system.now
    system.lockstep.set_next_block_time(shutdown_at + WAIT - 1)
    with reverts("settlement: wait"):
        system.tx(d.settlement, "thaw", r.keeper)
    system.lockstep.set_next_block_time(shutdown_at + WAIT)
    system.tx(d.settlement, "thaw", r.keeper)
    debt = 5_000 * WAD * _rate(system, system.eth)  # what the borrower drew, all outstanding
    assert _events(system) == [(d.settlement, "Thawed", {"debt": debt})]
    assert _gs(system, "debt") == debt
    with reverts("settlement: thawed"):
        system.tx(d.settlement, "thaw", r.keeper)


def test_thaw__nobody_holds_stablecoin__reverts_no_debt(system):
    _shutdown(system)
    system.warp(WAIT)
    with reverts("settlement: no debt"):
        system.tx(system.d.settlement, "thaw", system.roles.keeper)


def test_thaw__with_an_auction_running__reverts_losses_open_until_it_is_cancelled(system):
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.borrower, ETH, 20 * WAD, 13_000 * WAD)
    _move_prices(system, [(t, 900 * WAD)])
    auction_id = _liquidate(system, t, r.borrower)
    _shutdown(system)
    system.tx(d.settlement, "fix_price", r.keeper, t.type_id)  # while the price is fresh
    system.warp(WAIT)
    with reverts("settlement: losses open"):
        system.tx(d.settlement, "thaw", r.keeper)
    system.tx(d.settlement, "cancel_auction", r.keeper, t.type_id, t.auction, auction_id)
    system.tx(d.settlement, "thaw", r.keeper)
    assert _gs(system, "debt") > 0


@pytest.mark.parametrize(
    "close_first", [True, False], ids=["bad-debt-above-surplus", "surplus-above-bad-debt"]
)
def test_thaw__heals_min_of_surplus_and_bad_debt__leftover_surplus_is_not_in_debt(
    system, close_first
):
    """Money flow: the borrower's 20 ETH / 13,000 auction raised T = 13,000 x rate x 1.13: the
    Backstop keeps T - 13,000 x rate (~1,690) of surplus and owes the keeper's ~314.69 reward as
    bad debt; the proceeds' 13,000 x rate are still unsettled (nobody healed them), so thaw heals
    them first. With the other's 30,000 vault closed first, bad debt exceeds surplus and thaw
    settles all the surplus; otherwise it settles the reward and the ~1,375 left is forfeit:
    `debt` counts only stablecoin held by others, the other's 30,000 x rate - T, the borrower's
    13,000 x rate and the keeper's reward (~28,624.69) either way."""
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    system.open_vault(r.borrower, ETH, 20 * WAD, 13_000 * WAD)
    _move_prices(system, [(t, 900 * WAD)])
    auction_id = _liquidate(system, t, r.borrower)
    _allow(system, r.other, t.auction)
    _take(system, r.other, t, auction_id, 20 * WAD, _top(900 * WAD))
    rate = _rate(system, t)
    to_raise = _to_raise(13_000 * WAD * rate)
    seized = 13_000 * WAD * rate
    surplus, reward = to_raise - seized, _reward(to_raise)
    assert (_stable(system, d.backstop), _bad_debt(system, d.backstop)) == (
        surplus + seized,
        reward + seized,
    )
    assert _bs(system, "unsettled_proceeds") == seized
    assert surplus > reward
    _shutdown(system)
    system.tx(d.settlement, "fix_price", r.keeper, t.type_id)
    if close_first:
        system.tx(d.settlement, "close_vault", r.keeper, t.type_id, r.other)
    bad_debt = _bad_debt(system, d.backstop) - seized
    issued = _total_issued(system)

    _thaw_after_wait(system)

    healed = surplus if close_first else reward
    assert healed == min(surplus, bad_debt)
    debt = 30_000 * WAD * rate - to_raise + 13_000 * WAD * rate + reward
    assert abs(debt - 28_624_69 * RAD // 100) < RAD // 1_000
    assert _events(system) == [
        (d.engine, "DebtSettled", {"account": d.backstop, "amount": seized}),
        (d.backstop, "ProceedsHealed", {"amount": seized}),
        (d.engine, "DebtSettled", {"account": d.backstop, "amount": healed}),
        (d.backstop, "DebtSettled", {"amount": healed}),
        (d.settlement, "Thawed", {"debt": debt}),
    ]
    assert _bs(system, "unsettled_proceeds") == _bs(system, "attributed_debt") == 0
    assert _gs(system, "debt") == debt == _total_issued(system) - _stable(system, d.backstop)
    assert _total_issued(system) == issued - seized - healed
    assert _stable(system, d.backstop) == surplus - healed
    assert _bad_debt(system, d.backstop) == bad_debt - healed
