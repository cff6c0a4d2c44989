"""Twin of contracts/Spotter.vy: safe_price = price / liquidation_ratio (0 if the price is
invalid)."""

from __future__ import annotations

from offchain.model.errors import require
from offchain.model.fixed_point import RAY, WAD_TO_RAY, u256
from offchain.model.price_oracle import PriceOracle
from offchain.model.state import ZERO_ADDRESS, Authorized, Env
from offchain.model.vault_engine import VaultEngine

MAX_LIQUIDATION_RATIO = 100 * RAY


def safe_price(price: int, ratio: int) -> int:
    """What `poke` sets for a valid oracle price [wad] and liquidation ratio [ray]:
    floor(price / ratio) [ray] (down: a lower safe price is the conservative side)."""
    return u256(u256(price * WAD_TO_RAY) * RAY) // ratio


class Spotter(Authorized):
    def __init__(self, env: Env, address: str, deployer: str, engine: str):
        super().__init__(env, address)
        self.engine: VaultEngine = self.at(engine)
        self.oracles = self.storage(ZERO_ADDRESS)  # type -> oracle address
        self.liquidation_ratios = self.storage(0)
        self._init_auth(deployer)

    def set_oracle(self, sender: str, collateral_type: bytes, oracle: str) -> None:
        self._check_authorized(sender)
        require(oracle != ZERO_ADDRESS, "spotter: zero oracle")
        self.oracles[collateral_type] = oracle
        self.log("OracleSet", collateral_type=collateral_type, oracle=oracle)

    def set_liquidation_ratio(self, sender: str, collateral_type: bytes, new_value: int) -> None:
        self._check_authorized(sender)
        require(new_value >= RAY, "spotter: ratio below 1")
        require(new_value <= MAX_LIQUIDATION_RATIO, "spotter: ratio above 100")
        self.liquidation_ratios[collateral_type] = new_value
        self.log("LiquidationRatioSet", collateral_type=collateral_type, new_value=new_value)

    def poke(self, sender: str, collateral_type: bytes) -> int:
        oracle_address = self.oracles[collateral_type]
        require(oracle_address != ZERO_ADDRESS, "spotter: no oracle")
        ratio = self.liquidation_ratios[collateral_type]
        require(ratio != 0, "spotter: no liquidation ratio")
        oracle: PriceOracle = self.at(oracle_address)
        price, valid = oracle.peek()
        if valid:
            safe = safe_price(price, ratio)
        else:
            safe = 0
        self.engine.set_safe_price(self.address, collateral_type, safe)
        self.log(
            "Poked",
            collateral_type=collateral_type,
            price=price,
            valid=valid,
            safe_price=safe,
        )
        return safe
