"""Twin of contracts/StableJoin.vy: internal stablecoin [rad] <-> ERC-20 stablecoin [wad]."""

from __future__ import annotations

from offchain.model.erc20 import ERC20
from offchain.model.fixed_point import RAY, u256
from offchain.model.state import Contract, Env
from offchain.model.vault_engine import VaultEngine


class StableJoin(Contract):
    def __init__(self, env: Env, address: str, deployer: str, engine: str, stablecoin: str):
        super().__init__(env, address)
        self.engine: VaultEngine = self.at(engine)
        self.stablecoin: ERC20 = self.at(stablecoin)

    def join(self, sender: str, account: str, amount: int) -> None:
        self.engine.transfer_stable(self.address, self.address, account, u256(amount * RAY))
        self.stablecoin.burn_from(self.address, sender, amount)
        self.log("Joined", account=account, payer=sender, amount=amount)

    def exit(self, sender: str, recipient: str, amount: int) -> None:
        self.engine.transfer_stable(self.address, sender, self.address, u256(amount * RAY))
        self.stablecoin.mint(self.address, recipient, amount)
        self.log("Exited", account=sender, recipient=recipient, amount=amount)
