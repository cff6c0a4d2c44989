"""Twin of contracts/FeeAccumulator.vy: per-second stability fees with a utilization multiplier."""

from __future__ import annotations

from typing import NamedTuple

from offchain.model.errors import require
from offchain.model.fixed_point import RAY, WAD, div_up, rmul_up, rpow_up, to_int256, u256
from offchain.model.stability_pool import mul_div
from offchain.model.state import ZERO_ADDRESS, Authorized, Env
from offchain.model.vault_engine import VaultEngine

MAX_BASE_FEE = 1000000076036763191000000000
MAX_MULTIPLIER = 10 * WAD
# contracts/FeeAccumulator.vy: the stability pool's highest yield cap [wad per year], and its year
MAX_POOL_YIELD = 10 * WAD
YEAR = 365 * 86400


class TypeFee(NamedTuple):
    base_fee: int = 0  # ray per second
    last_accrual: int = 0  # seconds; 0 = not initialized
    kink: int = 0  # wad
    max_multiplier: int = 0  # wad
    integral_at_accrual: int = 0  # wad x seconds: the engine's utilization integral then


class FeeAccumulator(Authorized):
    def __init__(self, env: Env, address: str, deployer: str, engine: str, fee_recipient: str):
        super().__init__(env, address)
        require(fee_recipient != ZERO_ADDRESS, "fees: zero recipient")
        self.engine: VaultEngine = self.at(engine)
        self.fee_recipient = fee_recipient
        self.fees = self.storage(TypeFee())
        self.stability_pool = ZERO_ADDRESS
        self.pool_fee_share = 0
        self.pool_max_yield = 0  # wad per year: 0, the pool earns nothing until set
        self._init_auth(deployer)
        self.log("FeeRecipientSet", recipient=fee_recipient)

    def init_type(self, sender: str, collateral_type: bytes) -> None:
        self._check_authorized(sender)
        require(self.fees[collateral_type].last_accrual == 0, "fees: type exists")
        self.fees[collateral_type] = TypeFee(
            RAY, self.now, WAD, WAD, self.engine.utilization_integral(collateral_type)
        )
        self.log("TypeInitialized", collateral_type=collateral_type)

    def set_base_fee(self, sender: str, collateral_type: bytes, base_fee: int) -> None:
        self._check_authorized(sender)
        require(base_fee >= RAY, "fees: fee below 1")
        require(base_fee <= MAX_BASE_FEE, "fees: fee too high")
        self._accrue(collateral_type)
        self.fees[collateral_type] = self.fees[collateral_type]._replace(base_fee=base_fee)
        self.log("BaseFeeSet", collateral_type=collateral_type, base_fee=base_fee)

    def set_multiplier(
        self, sender: str, collateral_type: bytes, kink: int, max_multiplier: int
    ) -> None:
        self._check_authorized(sender)
        require(kink < WAD, "fees: kink not below 1")
        require(max_multiplier >= WAD, "fees: multiplier below 1")
        require(max_multiplier <= MAX_MULTIPLIER, "fees: multiplier above 10")
        self._accrue(collateral_type)
        self.engine.set_fee_kink(self.address, collateral_type, kink)
        self.fees[collateral_type] = self.fees[collateral_type]._replace(
            kink=kink, max_multiplier=max_multiplier
        )
        self.log(
            "MultiplierSet",
            collateral_type=collateral_type,
            kink=kink,
            max_multiplier=max_multiplier,
        )

    def set_fee_recipient(self, sender: str, recipient: str) -> None:
        self._check_authorized(sender)
        require(recipient != ZERO_ADDRESS, "fees: zero recipient")
        self.fee_recipient = recipient
        self.log("FeeRecipientSet", recipient=recipient)

    def set_pool_fee_share(self, sender: str, pool: str, share: int) -> None:
        self._check_authorized(sender)
        require(share <= WAD, "fees: share above 1")
        self.stability_pool = pool
        self.pool_fee_share = share
        self.log("PoolFeeShareSet", stability_pool=pool, pool_fee_share=share)

    def set_pool_max_yield(self, sender: str, max_yield: int) -> None:
        self._check_authorized(sender)
        require(max_yield <= MAX_POOL_YIELD, "fees: yield cap above 10")
        self.pool_max_yield = max_yield
        self.log("PoolMaxYieldSet", pool_max_yield=max_yield)

    def accrue(self, sender: str, collateral_type: bytes) -> int:
        return self._accrue(collateral_type)

    def effective_fee(self, collateral_type: bytes) -> int:
        fee = self.fees[collateral_type]
        return self._fee_at(fee, self._spot_excess(fee, collateral_type))

    def period_fee(self, collateral_type: bytes) -> int:
        fee = self.fees[collateral_type]
        if self.now == fee.last_accrual:
            return self._fee_at(fee, self._spot_excess(fee, collateral_type))
        return self._fee_at(
            fee, self._average_excess(fee, self.engine.utilization_integral(collateral_type))
        )

    def _accrue(self, collateral_type: bytes) -> int:
        fee = self.fees[collateral_type]
        require(fee.last_accrual != 0, "fees: type not initialized")
        ctype = self.engine.collateral_types[collateral_type]
        if self.now == fee.last_accrual:
            return ctype.rate
        integral = self.engine.utilization_integral(collateral_type)
        effective = self._fee_at(fee, self._average_excess(fee, integral))
        seconds = u256(self.now - fee.last_accrual)
        new_rate = rmul_up(rpow_up(effective, seconds), ctype.rate)
        delta_rate = u256(new_rate - ctype.rate)
        pool, share = self.stability_pool, self.pool_fee_share
        earning = 0
        if share != 0 and pool != ZERO_ADDRESS:
            earning = self.at(pool).earning_assets()
        if earning == 0:
            self.engine.fold_rate(
                self.address, collateral_type, self.fee_recipient, to_int256(delta_rate)
            )
        else:
            self.engine.fold_rate(
                self.address, collateral_type, self.address, to_int256(delta_rate)
            )
            income = u256(ctype.normalized_debt * delta_rate)
            # at most the pool's yield cap: assets x max yield x seconds / a year (finding 31-7)
            cap = mul_div(earning, u256(self.pool_max_yield * seconds), WAD * YEAR)
            to_pool = min(u256(income * share) // WAD, cap)
            to_recipient = income - to_pool
            if to_pool != 0:
                self.engine.transfer_stable(self.address, self.address, pool, to_pool)
                self.at(pool).add_income(self.address, to_pool)
            if to_recipient != 0:
                self.engine.transfer_stable(
                    self.address, self.address, self.fee_recipient, to_recipient
                )
            self.log(
                "FeesShared",
                collateral_type=collateral_type,
                to_pool=to_pool,
                to_recipient=to_recipient,
            )
        self.fees[collateral_type] = self.fees[collateral_type]._replace(
            last_accrual=self.now, integral_at_accrual=integral
        )
        self.log("Accrued", collateral_type=collateral_type, effective_fee=effective, rate=new_rate)
        return new_rate

    @staticmethod
    def _fee_at(fee: TypeFee, excess: int) -> int:
        if fee.base_fee == RAY or fee.max_multiplier == WAD or excess == 0:
            return fee.base_fee
        multiplier = u256(WAD + div_up(u256((fee.max_multiplier - WAD) * excess), WAD - fee.kink))
        return u256(RAY + div_up(u256((fee.base_fee - RAY) * multiplier), WAD))

    def _spot_excess(self, fee: TypeFee, collateral_type: bytes) -> int:
        if fee.kink >= WAD:
            return 0
        ctype = self.engine.collateral_types[collateral_type]
        debt = u256(ctype.normalized_debt * ctype.rate)
        utilization = WAD
        if ctype.debt_ceiling != 0:
            utilization = min(div_up(u256(debt * WAD), ctype.debt_ceiling), WAD)
        elif debt == 0:
            utilization = 0
        if utilization <= fee.kink:
            return 0
        return utilization - fee.kink

    def _average_excess(self, fee: TypeFee, integral: int) -> int:
        if integral == fee.integral_at_accrual:
            return 0
        return div_up(u256(integral - fee.integral_at_accrual), u256(self.now - fee.last_accrual))
