"""FlashTaker.on_auction_take: only the auction may call it back, and only for a take the FlashTaker
started. Helpers: tests/contracts/support/pool_and_flash.py.
"""

from __future__ import annotations

from eth_abi import encode as abi_encode
from helpers import fund_taker
from support.pool_and_flash import flash_eth as _flash_eth

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import reverts


def test_flash_callback__called_directly_by_stranger__reverts_not_the_auction(system):
    r = system.roles
    auction_id, flash = _flash_eth(system)
    with reverts("flash: not the auction"):
        system.tx(
            flash,
            "on_auction_take",
            r.stranger,
            flash,
            0,
            0,
            abi_encode(["uint256"] * 3, [0, 0, auction_id]),
        )


def test_flash_callback__for_a_take_someone_else_started__reverts_not_started_here(system):
    """A taker names the FlashTaker as recipient with data, to have it sell and pay for them: the
    callback refuses (the collateral would be the FlashTaker's, the payment the taker's)."""
    r, t = system.roles, system.eth
    auction_id, flash = _flash_eth(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    with reverts("flash: not started here"):
        system.tx(
            t.auction,
            "take",
            r.other,
            auction_id,
            WAD,
            1_800 * RAY,
            flash,
            abi_encode(["uint256"] * 3, [0, 0, auction_id]),
        )
