"""GlobalSettlement.fix_cash_price and cash: the collateral each packed wad redeems is the type's
value less its gap per outstanding wad, rounded down; holders take the haircut and never more
than they hold. Scenario and helpers: tests/contracts/support/global_settlement.py.
"""

from __future__ import annotations

from fractions import Fraction

from support.global_settlement import ETH
from support.global_settlement import allow as _allow
from support.global_settlement import collateral as _collateral
from support.global_settlement import final_price as _final_price
from support.global_settlement import gs as _gs
from support.global_settlement import owe as _owe
from support.global_settlement import pack_all as _pack_all
from support.global_settlement import rate as _rate
from support.global_settlement import shutdown as _shutdown
from support.global_settlement import stable as _stable
from support.global_settlement import thaw_after_wait as _thaw_after_wait

from offchain.model.fixed_point import RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices as _move_prices
from offchain.testing.harness import reverts


def _two_vaults_one_underwater(system, accrue: bool) -> int:
    """The other locks 100 ETH for 30,000, the stranger 10 ETH for 13,000; ETH falls to 1,200
    (the stranger's 10 ETH are worth 12,000: underwater). Optionally fees accrue (the rate rises,
    surplus to the Backstop). Then shutdown, both types' prices fixed, both vaults closed, thaw.
    Returns the rate at which both drew (the outstanding stablecoin is 43,000 x that rate)."""
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    system.open_vault(r.stranger, ETH, 10 * WAD, 13_000 * WAD)
    drawn_at = _rate(system, t)
    _move_prices(system, [(t, 1_200 * WAD), (system.btc, 30_000 * WAD)])  # both fresh at fix_price
    if accrue:
        system.tx(d.fees, "accrue", r.keeper, t.type_id)
    _shutdown(system)
    for type_id in (t.type_id, system.btc.type_id):
        system.tx(d.settlement, "fix_price", r.keeper, type_id)
    for owner in (r.other, r.stranger):
        system.tx(d.settlement, "close_vault", r.keeper, t.type_id, owner)
    _thaw_after_wait(system)
    return drawn_at


def test_fix_cash_price__is_type_value_less_gap_per_outstanding_wad_rounded_down(system):
    """cash_price = (type_debt x rate // RAY x final_price // RAY - gap) x RAY // (debt // RAY),
    with the rate raised by accrued fees after the draws (the fees went to the Backstop and were
    healed at thaw, so debt = the 43,000 x drawn rate the two borrowers hold). WBTC has no debt:
    its cash price is 0, but fixed."""
    r, d, t, btc = system.roles, system.d, system.eth, system.btc
    with reverts("settlement: not thawed"):
        system.tx(d.settlement, "fix_cash_price", r.keeper, t.type_id)
    drawn_at = _two_vaults_one_underwater(system, accrue=True)
    rate, final = _rate(system, t), _final_price(1_200 * WAD)
    assert rate > drawn_at
    gap = _owe(13_000 * WAD * rate, final) - 10 * WAD
    assert gap > 0 and _gs(system, "gap", t.type_id) == gap
    debt = 43_000 * WAD * drawn_at
    assert _gs(system, "debt") == debt

    system.tx(d.settlement, "fix_cash_price", r.keeper, t.type_id)

    value = 43_000 * WAD * rate // RAY * final // RAY
    cash_price = (value - gap) * RAY // (debt // RAY)
    assert _events(system) == [
        (d.settlement, "CashPriceFixed", {"collateral_type": t.type_id, "cash_price": cash_price})
    ]
    assert (
        _gs(system, "cash_price", t.type_id) == cash_price
        and _gs(system, "cash_price_set", t.type_id) is True
    )
    with reverts("settlement: cash price fixed"):
        system.tx(d.settlement, "fix_cash_price", r.keeper, t.type_id)

    system.tx(d.settlement, "fix_cash_price", r.keeper, btc.type_id)
    assert (
        _gs(system, "cash_price", btc.type_id) == 0
        and _gs(system, "cash_price_set", btc.type_id) is True
    )
    with reverts("settlement: cash price fixed"):
        system.tx(d.settlement, "fix_cash_price", r.keeper, btc.type_id)


def test_cash__with_an_underwater_vault__holders_take_a_haircut_and_never_more_than_held(system):
    """Money flow: ~43,000 BUSD are outstanding; the settlement holds ~25 ETH from the other's
    vault and all 10 ETH of the stranger's underwater vault (it owed ~10.83): ~35 ETH. So each
    BUSD redeems ~35 / 43,000 ETH, not 1 / 1,200 (par): the other's ~30,000 BUSD get ~24.42 ETH
    instead of ~25, the stranger's ~13,000 get ~10.58 instead of ~10.83. Each payout is the
    holder's pro-rata share of what is held, rounded down; together they never exceed it."""
    r, d, t = system.roles, system.d, system.eth
    rate = _two_vaults_one_underwater(system, accrue=False)
    held = _collateral(system, t, d.settlement)
    assert held == _owe(30_000 * WAD * rate, _final_price(1_200 * WAD)) + 10 * WAD
    outstanding = _gs(system, "debt") // RAY  # [wad]
    assert outstanding == 43_000 * WAD * rate // RAY
    with reverts("settlement: no cash price"):
        system.tx(d.settlement, "cash", r.other, t.type_id, WAD)
    system.tx(d.settlement, "fix_cash_price", r.keeper, t.type_id)
    cash_price = _gs(system, "cash_price", t.type_id)

    with reverts("settlement: zero amount"):
        system.tx(d.settlement, "pack", r.other, 0)
    with reverts("engine: not allowed"):
        system.tx(d.settlement, "pack", r.other, WAD)
    _allow(system, r.other, d.settlement)
    held_by_other = _stable(system, r.other) // RAY
    with reverts("engine: insufficient stable"):
        system.tx(d.settlement, "pack", r.other, held_by_other + 1)
    system.tx(d.settlement, "pack", r.other, held_by_other)
    assert _events(system) == [
        (
            d.engine,
            "StableTransferred",
            {"src": r.other, "dst": d.settlement, "amount": held_by_other * RAY},
        ),
        (d.settlement, "Packed", {"holder": r.other, "amount": held_by_other}),
    ]
    assert _gs(system, "packed", r.other) == held_by_other and _stable(system, r.other) < RAY

    paid = {}
    for holder in (r.other, r.stranger):
        amount = held_by_other if holder == r.other else _pack_all(system, holder)
        free_0 = _collateral(system, t, holder)
        system.tx(d.settlement, "cash", holder, t.type_id, amount)
        paid[holder] = amount * cash_price // RAY
        assert _events(system)[-1] == (
            d.settlement,
            "Cashed",
            {
                "collateral_type": t.type_id,
                "holder": holder,
                "amount": amount,
                "collateral": paid[holder],
            },
        )
        assert _collateral(system, t, holder) == free_0 + paid[holder]
        assert _gs(system, "cashed", t.type_id, holder) == amount
        # independently: the holder's pro-rata share of what the settlement holds, short of par
        share = Fraction(amount * held, outstanding)
        assert share - 5 <= paid[holder] <= share
        assert paid[holder] < Fraction(amount, 1_200) * 99 // 100
        with reverts("settlement: insufficient packed"):
            system.tx(d.settlement, "cash", holder, t.type_id, 1)
    assert paid[r.other] // 10**16 == 2_441  # 24.41... ETH instead of 25
    assert paid[r.stranger] // 10**16 == 1_058  # 10.58... ETH instead of 10.83
    assert sum(paid.values()) <= held
    assert _collateral(system, t, d.settlement) == held - sum(paid.values())
    assert held - sum(paid.values()) <= 10  # rounding dust only
