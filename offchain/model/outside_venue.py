"""Twin of contracts/OutsideVenue.vy: the market beyond the keepers' pool as a chain sees it,
quoting the square-root law (offchain/model/venue_curve.py, `walk`) from what the market's
driver synced for the block; sales only, in the synced block only."""

from __future__ import annotations

from offchain.model.erc20 import ERC20
from offchain.model.errors import require
from offchain.model.fixed_point import WAD, u256
from offchain.model.state import Contract, Env
from offchain.model.venue_curve import walk

# the contract's bounds (every product of its curve fits 256 bits)
MAX_FLOW = 2**100
MAX_NUM = 2**128
MAX_ROOT_V = 2**128
MAX_FUNDAMENTAL = 2**96


class OutsideVenue(Contract):
    def __init__(
        self,
        env: Env,
        address: str,
        deployer: str,
        collateral_token: str,
        stable_token: str,
        decimals: int,
    ):
        super().__init__(env, address)
        require(decimals <= 18, "venue: decimals above 18")
        self.market = deployer
        self.collateral_token: ERC20 = self.at(collateral_token)
        self.stable_token: ERC20 = self.at(stable_token)
        self.scale = 10 ** (18 - decimals)
        self.synced_at = 0
        self.flow = 0
        self.num = 0
        self.root_v = 0
        self.fundamental = 0
        self.sold = 0

    def sync(self, sender: str, flow: int, num: int, root_v: int, fundamental: int) -> None:
        require(sender == self.market, "venue: not the market")
        require(abs(flow) < MAX_FLOW, "venue: flow out of range")
        require(num < MAX_NUM and root_v < MAX_ROOT_V, "venue: depth out of range")
        require(fundamental < MAX_FUNDAMENTAL, "venue: price out of range")
        self.synced_at = self.now
        self.flow = flow
        self.num = num
        self.root_v = root_v
        self.fundamental = fundamental
        self.sold = 0
        self.log("Synced", flow=flow, num=num, root_v=root_v, fundamental=fundamental)

    def swap(
        self, sender: str, collateral_in: bool, amount_in: int, min_out: int, recipient: str
    ) -> int:
        require(collateral_in, "venue: sales only")
        require(amount_in != 0, "venue: zero amount")
        require(self.now == self.synced_at, "venue: not synced")
        tokens = u256(amount_in * self.scale)
        sold = self.sold
        require(tokens < MAX_FLOW and sold + tokens < MAX_FLOW, "venue: sale too large")
        paid, floored = walk(self.flow + sold, tokens, self.num, self.root_v, self.fundamental)
        require(paid != 0, "venue: zero output")
        require(paid >= min_out, "venue: slippage")
        self.sold = sold + tokens
        require(
            self.collateral_token.transferFrom(self.address, sender, self.address, amount_in),
            "venue: transfer failed",
        )
        require(self.stable_token.transfer(self.address, recipient, paid), "venue: transfer failed")
        self.log(
            "Sold",
            trader=sender,
            recipient=recipient,
            amount_in=amount_in,
            amount_out=paid,
            floored=bool(floored),
        )
        return paid

    def withdraw(self, sender: str, token: str, amount: int, recipient: str) -> None:
        require(sender == self.market, "venue: not the market")
        require(self.at(token).transfer(self.address, recipient, amount), "venue: transfer failed")

    def quote(self, amount_in: int) -> int:
        if self.now != self.synced_at or amount_in == 0:
            return 0
        tokens = u256(amount_in * self.scale)
        if tokens >= MAX_FLOW or self.sold + tokens >= MAX_FLOW:
            return 0
        return walk(self.flow + self.sold, tokens, self.num, self.root_v, self.fundamental)[0]


__all__ = ["OutsideVenue", "WAD"]
