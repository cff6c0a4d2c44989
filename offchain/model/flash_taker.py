"""Twin of contracts/FlashTaker.vy: take an auction with a market's liquidity as capital (the
pool's, or the outside venue's)."""

from __future__ import annotations

from functools import lru_cache

from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address

from offchain.model.errors import Revert, require
from offchain.model.fixed_point import MAX_UINT256, u256
from offchain.model.state import ZERO_ADDRESS, Contract, Env
from offchain.model.vault_engine import VaultEngine

# the callback's data: abi.encode(min_profit, before, auction_id, market), four words
DATA_TYPES = ["uint256", "uint256", "uint256", "address"]


@lru_cache(maxsize=64)
def _checksummed(raw: bytes) -> str:
    """The address of 20 bytes `raw`, checksummed once (a flash take names its market, the pool
    or the venue, every time: a 100,000-vault run makes ~50,000 of them)."""
    return to_checksum_address(raw)


class FlashTaker(Contract):
    def __init__(
        self,
        env: Env,
        address: str,
        deployer: str,
        engine: str,
        auction: str,
        collateral_join: str,
        stable_join: str,
        pool: str,
        venue: str,
        collateral_token: str,
        stablecoin: str,
    ):
        super().__init__(env, address)
        self.owner = deployer
        self.engine: VaultEngine = self.at(engine)
        self.auction = auction
        self.collateral_join = collateral_join
        self.stable_join = stable_join
        self.pool = pool
        self.venue = venue
        self.scale = self.at(collateral_join).scale
        self.engine.allow(self.address, auction)
        self.engine.allow(self.address, stable_join)
        require(
            self.at(collateral_token).approve(self.address, pool, MAX_UINT256),
            "flash: approve failed",
        )
        if venue != ZERO_ADDRESS:
            require(
                self.at(collateral_token).approve(self.address, venue, MAX_UINT256),
                "flash: approve failed",
            )
        require(
            self.at(stablecoin).approve(self.address, stable_join, MAX_UINT256),
            "flash: approve failed",
        )

    def take(
        self,
        sender: str,
        auction_id: int,
        max_collateral: int,
        max_price: int,
        min_profit: int,
        on_venue: bool = False,
    ) -> None:
        require(sender == self.owner, "flash: not the owner")
        market = self.pool
        if on_venue:
            market = self.venue
            require(market != ZERO_ADDRESS, "flash: no venue")
        before = self.engine.stable[self.address]
        # abi.encode(min_profit, before, auction_id, market): four words (each already a uint256,
        # the address left-padded)
        data = (
            min_profit.to_bytes(32, "big")
            + before.to_bytes(32, "big")
            + auction_id.to_bytes(32, "big")
            + bytes.fromhex(market[2:]).rjust(32, b"\0")
        )
        self.at(self.auction).take(
            self.address, auction_id, max_collateral, max_price, self.address, data
        )

    def on_auction_take(
        self, sender: str, taker: str, owe: int, collateral: int, data: bytes
    ) -> None:
        require(sender == self.auction, "flash: not the auction")
        require(taker == self.address, "flash: not started here")
        if len(data) == 128 and not any(data[96:108]):
            # what take() encodes: four words (eth_abi's generic decoder is slow)
            min_profit, before, auction_id = (
                int.from_bytes(data[i : i + 32], "big") for i in (0, 32, 64)
            )
            market = _checksummed(data[108:128])
        else:
            try:
                min_profit, before, auction_id, market = abi_decode(DATA_TYPES, data)
            except Exception:  # noqa: BLE001 - Vyper's abi_decode reverts without a reason on malformed data
                raise Revert(None) from None
            market = to_checksum_address(market)
        tokens = collateral // self.scale
        if tokens != 0:
            self.at(self.collateral_join).exit(self.address, self.address, tokens)
            bought = self.at(market).swap(self.address, True, tokens, 0, self.address)
            self.at(self.stable_join).join(self.address, self.address, bought)
        balance = self.engine.stable[self.address]
        require(balance >= u256(u256(before + owe) + min_profit), "flash: profit below minimum")
        self.log(
            "FlashTaken",
            auction_id=auction_id,
            collateral=collateral,
            owe=owe,
            profit=balance - before - owe,
        )

    def withdraw(self, sender: str, recipient: str, amount: int) -> None:
        require(sender == self.owner, "flash: not the owner")
        self.at(self.stable_join).exit(self.address, recipient, amount)
        self.log("Withdrawn", recipient=recipient, amount=amount)
