"""Twins of the test-only contracts in contracts/testing/ (never part of a deployment).

ReentrantTaker: a malicious flash-take callee that re-enters the auction or the liquidator from
DutchAuction's on_auction_take callback (contracts/testing/ReentrantTaker.vy).
"""

from __future__ import annotations

from eth_abi import decode as abi_decode
from eth_utils import to_checksum_address

from offchain.model.errors import Revert
from offchain.model.fixed_point import MAX_UINT256
from offchain.model.state import Contract, Env

NOTHING, TAKE, RESET, LIQUIDATE = 0, 1, 2, 3


class ReentrantTaker(Contract):
    def __init__(self, env: Env, address: str, deployer: str, auction: str, liquidator: str):
        super().__init__(env, address)
        self.auction = auction
        self.liquidator = liquidator

    def on_auction_take(
        self, sender: str, taker: str, owe: int, collateral: int, data: bytes
    ) -> None:
        mode = self._attempt(collateral, data)
        self.log("CallbackEntered", sender=taker, owe=owe, collateral=collateral, mode=mode)

    def act(self, sender: str, collateral: int, data: bytes) -> None:
        if len(data) > 1024:  # the ABI decoder rejects longer Bytes[1024]
            raise Revert(None)
        self._attempt(collateral, data)

    def _attempt(self, collateral: int, data: bytes) -> int:
        if len(data) < 128:  # slice(data, 0, 128) reverts without a reason
            raise Revert(None)
        try:
            mode, auction_id, collateral_type, owner = abi_decode(
                ["uint256", "uint256", "bytes32", "address"], data[:128]
            )
        except Exception:  # noqa: BLE001 - Vyper's abi_decode reverts without a reason on malformed data
            raise Revert(None) from None
        if mode == TAKE:
            self.at(self.auction).take(
                self.address, auction_id, collateral, MAX_UINT256, self.address, b""
            )
        elif mode == RESET:
            self.at(self.auction).reset(self.address, auction_id, self.address)
        elif mode == LIQUIDATE:
            self.at(self.liquidator).liquidate(
                self.address, collateral_type, to_checksum_address(owner), self.address
            )
        return mode
