"""FlashTaker's constructor (the auction and join allowed, the pool and join approved) and withdraw,
only by the owner. Helpers: tests/contracts/support/pool_and_flash.py.
"""

from __future__ import annotations

from support.pool_and_flash import ETH
from support.pool_and_flash import flash_eth as _flash_eth

from offchain.model.fixed_point import MAX_UINT256
from offchain.system.deployment import deploy_flash_taker
from offchain.testing.harness import events, reverts


def test_flash_taker_constructor__allows_auction_and_join_and_approves_pool_and_join(system):
    r, t, d = system.roles, system.eth, system.d
    flash = deploy_flash_taker(system.lockstep, d, ETH, r.keeper)
    system.extra_holders.append(flash)
    assert events(system) == [
        (d.engine, "DelegateAllowed", {"owner": flash, "delegate": t.auction}),
        (d.engine, "DelegateAllowed", {"owner": flash, "delegate": d.stable_join}),
        (t.token, "Approval", {"owner": flash, "spender": t.pool, "value": MAX_UINT256}),
        (
            d.stablecoin,
            "Approval",
            {"owner": flash, "spender": d.stable_join, "value": MAX_UINT256},
        ),
    ]
    assert [
        system.view(flash, name)
        for name in (
            "owner",
            "engine",
            "auction",
            "collateral_join",
            "stable_join",
            "pool",
            "scale",
        )
    ] == [r.keeper, d.engine, t.auction, t.join, d.stable_join, t.pool, 1]
    assert system.contract(flash).owner == r.keeper and system.contract(flash).scale == 1


def test_flash_withdraw__by_stranger__reverts_not_the_owner(system):
    r = system.roles
    _, flash = _flash_eth(system)
    with reverts("flash: not the owner"):
        system.tx(flash, "withdraw", r.stranger, r.stranger, 0)
