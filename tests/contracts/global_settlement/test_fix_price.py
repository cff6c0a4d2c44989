"""GlobalSettlement.fix_price: final_price = ceil(WAD * RAY / price) from the current oracle price.
Scenario and helpers: tests/contracts/support/global_settlement.py.
"""

from __future__ import annotations

from support.global_settlement import ETH, WBTC
from support.global_settlement import final_price as _final_price
from support.global_settlement import gs as _gs
from support.global_settlement import shutdown as _shutdown

from offchain.model.fixed_point import RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts

# a type nobody configured
NEW_TYPE = b"NEW-A".ljust(32, b"\0")


def test_fix_price__final_price_is_wad_ray_over_the_current_oracle_price_rounded_up(system):
    """ETH 2,000 -> 1/2,000 ETH per BUSD exactly; WBTC 30,000 -> 1/30,000 rounded up by one
    ray-wei. A price posted and queued but not yet current does not count. Each type's
    normalized debt is recorded."""
    r, d, eth, btc = system.roles, system.d, system.eth, system.btc
    system.open_vault(r.borrower, ETH, 10 * WAD, 5_000 * WAD)
    system.open_vault(r.other, WBTC, WAD, 10_000 * WAD)
    system.tx(eth.oracle, "post", r.feeder, 1_000 * WAD)
    system.warp(eth.config.oracle_delay)
    system.tx(eth.oracle, "poke", r.keeper)
    assert (
        _read(system, eth.oracle, "current_price"),
        _read(system, eth.oracle, "next_price"),
    ) == (2_000 * WAD, 1_000 * WAD)
    _shutdown(system)

    system.tx(d.settlement, "fix_price", r.stranger, eth.type_id)
    assert _events(system) == [
        (
            d.settlement,
            "PriceFixed",
            {"collateral_type": eth.type_id, "price": 2_000 * WAD, "final_price": RAY // 2_000},
        )
    ]
    system.tx(d.settlement, "fix_price", r.stranger, btc.type_id)
    final_btc = RAY // 30_000 + 1  # 1e27 / 30,000 = 3.33...e22, rounded up
    assert final_btc == _final_price(30_000 * WAD)
    assert _events(system) == [
        (
            d.settlement,
            "PriceFixed",
            {"collateral_type": btc.type_id, "price": 30_000 * WAD, "final_price": final_btc},
        )
    ]
    assert _gs(system, "final_price", eth.type_id) == RAY // 2_000
    assert _gs(system, "final_price", btc.type_id) == final_btc
    assert _gs(system, "type_debt", eth.type_id) == 5_000 * WAD
    assert _gs(system, "type_debt", btc.type_id) == 10_000 * WAD

    with reverts("settlement: price fixed"):
        system.tx(d.settlement, "fix_price", r.stranger, eth.type_id)
    with reverts("settlement: no oracle"):
        system.tx(d.settlement, "fix_price", r.stranger, NEW_TYPE)
