"""Twin of contracts/CollateralPool.vy: a constant-product collateral/stablecoin market."""

from __future__ import annotations

import math

from offchain.model.erc20 import ERC20
from offchain.model.errors import Revert, require
from offchain.model.fixed_point import WAD, u256
from offchain.model.state import Contract, Env

MAX_FEE = WAD // 10


class CollateralPool(Contract):
    def __init__(
        self,
        env: Env,
        address: str,
        deployer: str,
        collateral_token: str,
        stable_token: str,
        fee: int,
    ):
        super().__init__(env, address)
        require(fee <= MAX_FEE, "pool: fee above 10%")
        require(collateral_token != stable_token, "pool: same token")
        self.collateral_token: ERC20 = self.at(collateral_token)
        self.stable_token: ERC20 = self.at(stable_token)
        self.fee = fee
        self.reserve_collateral = 0
        self.reserve_stable = 0
        self.total_shares = 0
        self.shares = self.storage(0)

    def add_liquidity(
        self, sender: str, collateral_amount: int, stable_amount: int, min_shares: int
    ) -> int:
        require(collateral_amount != 0 and stable_amount != 0, "pool: zero amount")
        total = self.total_shares
        if total == 0:
            minted = math.isqrt(u256(collateral_amount * stable_amount))
        else:
            minted = min(
                u256(collateral_amount * total) // self.reserve_collateral,
                u256(stable_amount * total) // self.reserve_stable,
            )
        require(minted != 0, "pool: zero shares")
        require(minted >= min_shares, "pool: slippage")
        self.total_shares = u256(total + minted)
        self.shares[sender] = u256(self.shares[sender] + minted)
        self.reserve_collateral = u256(self.reserve_collateral + collateral_amount)
        self.reserve_stable = u256(self.reserve_stable + stable_amount)
        require(
            self.collateral_token.transferFrom(
                self.address, sender, self.address, collateral_amount
            ),
            "pool: transfer failed",
        )
        require(
            self.stable_token.transferFrom(self.address, sender, self.address, stable_amount),
            "pool: transfer failed",
        )
        self.log(
            "LiquidityAdded",
            provider=sender,
            collateral=collateral_amount,
            stable=stable_amount,
            shares=minted,
        )
        return minted

    def remove_liquidity(
        self, sender: str, share_amount: int, min_collateral: int, min_stable: int
    ) -> tuple[int, int]:
        require(self.shares[sender] >= share_amount, "pool: insufficient shares")
        total = self.total_shares
        if total == 0:  # an empty pool: Vyper's `//` by zero reverts without a reason
            raise Revert(None)
        collateral_out = u256(share_amount * self.reserve_collateral) // total
        stable_out = u256(share_amount * self.reserve_stable) // total
        require(collateral_out >= min_collateral and stable_out >= min_stable, "pool: slippage")
        self.shares[sender] -= share_amount
        self.total_shares = total - share_amount
        self.reserve_collateral -= collateral_out
        self.reserve_stable -= stable_out
        require(
            self.collateral_token.transfer(self.address, sender, collateral_out),
            "pool: transfer failed",
        )
        require(
            self.stable_token.transfer(self.address, sender, stable_out), "pool: transfer failed"
        )
        self.log(
            "LiquidityRemoved",
            provider=sender,
            collateral=collateral_out,
            stable=stable_out,
            shares=share_amount,
        )
        return collateral_out, stable_out

    def swap(
        self, sender: str, collateral_in: bool, amount_in: int, min_out: int, recipient: str
    ) -> int:
        require(amount_in != 0, "pool: zero amount")
        reserve_in, reserve_out = self.reserve_stable, self.reserve_collateral
        if collateral_in:
            reserve_in, reserve_out = self.reserve_collateral, self.reserve_stable
        amount_out = self._amount_out(amount_in, reserve_in, reserve_out)
        require(amount_out != 0, "pool: zero output")
        require(amount_out >= min_out, "pool: slippage")
        token_in, token_out = self.stable_token, self.collateral_token
        if collateral_in:
            token_in, token_out = self.collateral_token, self.stable_token
            self.reserve_collateral = u256(reserve_in + amount_in)
            self.reserve_stable = reserve_out - amount_out
        else:
            self.reserve_stable = u256(reserve_in + amount_in)
            self.reserve_collateral = reserve_out - amount_out
        require(
            token_in.transferFrom(self.address, sender, self.address, amount_in),
            "pool: transfer failed",
        )
        require(token_out.transfer(self.address, recipient, amount_out), "pool: transfer failed")
        self.log(
            "Swapped",
            trader=sender,
            recipient=recipient,
            collateral_in=collateral_in,
            amount_in=amount_in,
            amount_out=amount_out,
        )
        return amount_out

    def quote(self, collateral_in: bool, amount_in: int) -> int:
        if collateral_in:
            return self._amount_out(amount_in, self.reserve_collateral, self.reserve_stable)
        return self._amount_out(amount_in, self.reserve_stable, self.reserve_collateral)

    def _amount_out(self, amount_in: int, reserve_in: int, reserve_out: int) -> int:
        require(reserve_in != 0 and reserve_out != 0, "pool: no liquidity")
        in_after_fee = u256(amount_in * (WAD - self.fee))
        return u256(in_after_fee * reserve_out) // u256(u256(reserve_in * WAD) + in_after_fee)
