"""Twin of contracts/CollateralJoin.vy: an ERC-20 collateral in and out of the engine."""

from __future__ import annotations

from offchain.model.erc20 import ERC20
from offchain.model.errors import require
from offchain.model.fixed_point import neg, to_int256, u256
from offchain.model.state import Authorized, Env
from offchain.model.vault_engine import VaultEngine


class CollateralJoin(Authorized):
    def __init__(
        self,
        env: Env,
        address: str,
        deployer: str,
        engine: str,
        collateral_type: bytes,
        token: str,
        decimals: int,
    ):
        super().__init__(env, address)
        require(decimals <= 18, "join: decimals above 18")
        self.engine: VaultEngine = self.at(engine)
        self.collateral_type = collateral_type
        self.token: ERC20 = self.at(token)
        self.decimals = decimals
        self.scale = 10 ** (18 - decimals)
        self.live = True
        self._init_auth(deployer)

    def shutdown(self, sender: str) -> None:
        self._check_authorized(sender)
        self.live = False
        self.log("Shutdown", caller=sender)

    def join(self, sender: str, account: str, amount: int) -> None:
        require(self.live, "join: not live")
        self.engine.modify_collateral_balance(
            self.address, self.collateral_type, account, to_int256(u256(amount * self.scale))
        )
        require(
            self.token.transferFrom(self.address, sender, self.address, amount),
            "join: transfer failed",
        )
        self.log("Joined", account=account, payer=sender, amount=amount)

    def join_and_modify(self, sender: str, amount: int, delta_normalized_debt: int) -> None:
        require(self.live, "join: not live")
        require(
            self.token.transferFrom(self.address, sender, self.address, amount),
            "join: transfer failed",
        )
        self.log("Joined", account=sender, payer=sender, amount=amount)
        self.engine.join_vault(
            self.address,
            self.collateral_type,
            sender,
            u256(amount * self.scale),
            delta_normalized_debt,
        )

    def exit(self, sender: str, recipient: str, amount: int) -> None:
        self.engine.modify_collateral_balance(
            self.address, self.collateral_type, sender, neg(to_int256(u256(amount * self.scale)))
        )
        require(self.token.transfer(self.address, recipient, amount), "join: transfer failed")
        self.log("Exited", account=sender, recipient=recipient, amount=amount)
