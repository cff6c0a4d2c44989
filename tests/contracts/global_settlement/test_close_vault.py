"""GlobalSettlement.close_vault: collateral worth the vault's debt at the final price goes to the
settlement; an underwater vault leaves its type a gap. Scenario and helpers:
tests/contracts/support/global_settlement.py.
"""

from __future__ import annotations

from fractions import Fraction

from support.global_settlement import ETH, WBTC
from support.global_settlement import bad_debt as _bad_debt
from support.global_settlement import collateral as _collateral
from support.global_settlement import final_price as _final_price
from support.global_settlement import gs as _gs
from support.global_settlement import owe as _owe
from support.global_settlement import rate as _rate
from support.global_settlement import shutdown as _shutdown
from support.global_settlement import vault as _vault

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices as _move_prices
from offchain.testing.harness import reverts


def test_close_vault__takes_debt_worth_at_final_price__underwater_vault_leaves_a_gap(system):
    """Money flow: ETH at 1,500, WBTC at 20,000. The other's 100 ETH / 30,000 vault gives ~20 ETH
    (owe = debt / 1,500 rounded up) to the settlement and keeps ~80 ETH, freed afterwards; the
    stranger's 1 WBTC / 20,500 vault owes ~1.025 WBTC but has 1: it gives all of it and the
    type's gap is exactly owe - 1 WBTC (~0.025). Both debts become the Backstop's bad debt."""
    r, d, eth, btc = system.roles, system.d, system.eth, system.btc
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    system.open_vault(r.stranger, WBTC, WAD, 20_500 * WAD)
    _move_prices(system, [(eth, 1_500 * WAD), (btc, 20_000 * WAD)])
    _shutdown(system)
    system.tx(d.settlement, "fix_price", r.keeper, eth.type_id)
    system.tx(d.settlement, "fix_price", r.keeper, btc.type_id)
    final_eth, final_btc = _final_price(1_500 * WAD), _final_price(20_000 * WAD)
    assert final_btc == RAY // 20_000
    debt_eth, debt_btc = 30_000 * WAD * _rate(system, eth), 20_500 * WAD * _rate(system, btc)
    with reverts("settlement: vault has debt"):
        system.tx(d.settlement, "free_collateral", r.other, eth.type_id)
    bad_debt_0 = _bad_debt(system, d.backstop)

    system.tx(d.settlement, "close_vault", r.keeper, eth.type_id, r.other)
    owe = _owe(debt_eth, final_eth)
    # at least the exact value of the debt in ETH, at most 2 wei above it (two round-ups)
    assert 0 <= owe - Fraction(debt_eth, 1_500 * RAD) * WAD < 2
    assert 20 * WAD < owe < 20 * WAD + WAD // 10**6
    assert _events(system) == [
        (
            d.engine,
            "VaultSeized",
            {
                "collateral_type": eth.type_id,
                "owner": r.other,
                "collateral_dst": d.settlement,
                "debt_dst": d.backstop,
                "delta_collateral": -owe,
                "delta_normalized_debt": -30_000 * WAD,
            },
        ),
        (
            d.settlement,
            "VaultClosed",
            {
                "collateral_type": eth.type_id,
                "owner": r.other,
                "collateral": owe,
                "normalized_debt": 30_000 * WAD,
                "shortfall": 0,
            },
        ),
    ]
    assert _vault(system, eth, r.other) == (100 * WAD - owe, 0)
    assert _gs(system, "gap", eth.type_id) == 0

    system.tx(d.settlement, "close_vault", r.keeper, btc.type_id, r.stranger)
    owe_btc = _owe(debt_btc, final_btc)
    shortfall = owe_btc - WAD  # exactly owe - collateral
    assert 25 * WAD // 1_000 < shortfall < 25 * WAD // 1_000 + WAD // 10**6
    assert _events(system) == [
        (
            d.engine,
            "VaultSeized",
            {
                "collateral_type": btc.type_id,
                "owner": r.stranger,
                "collateral_dst": d.settlement,
                "debt_dst": d.backstop,
                "delta_collateral": -WAD,
                "delta_normalized_debt": -20_500 * WAD,
            },
        ),
        (
            d.settlement,
            "VaultClosed",
            {
                "collateral_type": btc.type_id,
                "owner": r.stranger,
                "collateral": WAD,
                "normalized_debt": 20_500 * WAD,
                "shortfall": shortfall,
            },
        ),
    ]
    assert _vault(system, btc, r.stranger) == (0, 0)
    assert _gs(system, "gap", btc.type_id) == shortfall
    assert _collateral(system, eth, d.settlement) == owe
    assert _collateral(system, btc, d.settlement) == WAD
    assert _bad_debt(system, d.backstop) == bad_debt_0 + debt_eth + debt_btc

    # the owner takes what is left
    free_0 = _collateral(system, eth, r.other)
    system.tx(d.settlement, "free_collateral", r.other, eth.type_id)
    assert _events(system) == [
        (
            d.engine,
            "VaultSeized",
            {
                "collateral_type": eth.type_id,
                "owner": r.other,
                "collateral_dst": r.other,
                "debt_dst": d.backstop,
                "delta_collateral": -(100 * WAD - owe),
                "delta_normalized_debt": 0,
            },
        ),
        (
            d.settlement,
            "CollateralFreed",
            {"collateral_type": eth.type_id, "owner": r.other, "collateral": 100 * WAD - owe},
        ),
    ]
    assert _collateral(system, eth, r.other) == free_0 + 100 * WAD - owe
    assert _vault(system, eth, r.other) == (0, 0)
    # the underwater vault has nothing left to free
    system.tx(d.settlement, "free_collateral", r.stranger, btc.type_id)
    assert _events(system)[-1][2]["collateral"] == 0
    # closing a closed vault moves nothing and adds no gap
    system.tx(d.settlement, "close_vault", r.keeper, btc.type_id, r.stranger)
    assert _events(system)[-1][2] == {
        "collateral_type": btc.type_id,
        "owner": r.stranger,
        "collateral": 0,
        "normalized_debt": 0,
        "shortfall": 0,
    }
    assert _gs(system, "gap", btc.type_id) == shortfall
