"""Twin of contracts/CeilingManager.vy: ceiling = min(max, debt + gap), rising by at most gap per
cooldown window; a window opening less than a cooldown after the previous one ended is based at
least at that window's highest ceiling."""

from __future__ import annotations

from typing import NamedTuple

from offchain.model.errors import require
from offchain.model.fixed_point import u256
from offchain.model.state import Authorized, Env
from offchain.model.vault_engine import VaultEngine


class Config(NamedTuple):
    max_ceiling: int = 0  # rad; 0 = not managed
    gap: int = 0  # rad
    cooldown: int = 0  # seconds: a window's length
    last_increase: int = 0  # seconds: when the current window opened
    window_base: int = 0  # rad: its base (it rises to at most window_base + gap)
    window_high: int = 0  # rad: the highest ceiling set in it


class CeilingManager(Authorized):
    def __init__(self, env: Env, address: str, deployer: str, engine: str):
        super().__init__(env, address)
        self.engine: VaultEngine = self.at(engine)
        self.configs = self.storage(Config())
        self._init_auth(deployer)

    def configure(
        self, sender: str, collateral_type: bytes, max_ceiling: int, gap: int, cooldown: int
    ) -> None:
        self._check_authorized(sender)
        require(max_ceiling != 0, "ceiling: zero max")
        require(gap != 0, "ceiling: zero gap")
        require(gap <= max_ceiling, "ceiling: gap above max")
        old = self.configs[collateral_type]
        self.configs[collateral_type] = Config(
            max_ceiling, gap, cooldown, old.last_increase, old.window_base, old.window_high
        )
        self.log(
            "TypeConfigured",
            collateral_type=collateral_type,
            max_ceiling=max_ceiling,
            gap=gap,
            cooldown=cooldown,
        )

    def remove(self, sender: str, collateral_type: bytes) -> None:
        self._check_authorized(sender)
        require(self.configs[collateral_type].max_ceiling != 0, "ceiling: type not managed")
        self.configs[collateral_type] = Config()
        self.log("TypeRemoved", collateral_type=collateral_type)

    def update(self, sender: str, collateral_type: bytes) -> int:
        max_ceiling = self.configs[collateral_type].max_ceiling
        require(max_ceiling != 0, "ceiling: type not managed")
        gap = self.configs[collateral_type].gap
        ctype = self.engine.collateral_types[collateral_type]
        target = min(max_ceiling, u256(u256(ctype.normalized_debt * ctype.rate) + gap))
        if target == ctype.debt_ceiling:
            return target
        if target > ctype.debt_ceiling:
            config = self.configs[collateral_type]
            base = config.window_base
            high = config.window_high
            if self.now >= u256(config.last_increase + config.cooldown):
                base = ctype.debt_ceiling
                if self.now < u256(config.last_increase + u256(2 * config.cooldown)):
                    base = max(base, high)
                high = 0
                self.configs[collateral_type] = self.configs[collateral_type]._replace(
                    last_increase=self.now, window_base=base
                )
            target = min(target, u256(base + gap))
            if target <= ctype.debt_ceiling:
                return ctype.debt_ceiling
            if target > high:
                self.configs[collateral_type] = self.configs[collateral_type]._replace(
                    window_high=target
                )
        self.engine.set_debt_ceiling(self.address, collateral_type, target)
        self.log(
            "CeilingUpdated",
            collateral_type=collateral_type,
            old_ceiling=ctype.debt_ceiling,
            new_ceiling=target,
        )
        return target
