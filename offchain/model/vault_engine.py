"""Twin of contracts/VaultEngine.vy: the core ledger (types, vaults, balances, ceilings)."""

from __future__ import annotations

from typing import NamedTuple

from offchain.model import size_margin as sizing
from offchain.model.errors import Revert, require
from offchain.model.fixed_point import (
    RAD,
    RAY,
    WAD,
    add_signed,
    i256,
    neg,
    sub_signed,
    to_int256,
    to_uint256,
    u255,
    u256,
)
from offchain.model.state import Authorized, Env, Role

# the contract packs normalized debts, locked collateral and rates into 128-bit halves of a slot
MAX_FIELD = 2**128 - 1
# the safe-price slot keeps the size margin above 160 bits
MAX_SAFE_PRICE = 2**160 - 1
# the utilization record: integral [wad x seconds] << 104 | kink [wad] << 40 | updated at [s]
UTILIZATION_TIME_MASK = 2**40 - 1
UTILIZATION_KINK_SHIFT = 40
UTILIZATION_KINK_MASK = 2**64 - 1
UTILIZATION_INTEGRAL_SHIFT = 104
UTILIZATION_INTEGRAL_LIMIT = 2**152


class CollateralType(NamedTuple):
    normalized_debt: int = 0  # wad
    rate: int = 0  # ray; 0 = not initialized
    safe_price: int = 0  # ray
    debt_ceiling: int = 0  # rad
    dust: int = 0  # rad


class Vault(NamedTuple):
    collateral: int = 0  # wad
    normalized_debt: int = 0  # wad


class VaultEngine(Authorized):
    ROLE_SET = (
        Role.JOIN
        | Role.PRICE
        | Role.CEILING
        | Role.RATE
        | Role.FEE_KINK
        | Role.SEIZE
        | Role.MINT_UNBACKED
        | Role.SHUTDOWN
    )

    def __init__(self, env: Env, address: str, deployer: str):
        super().__init__(env, address)
        self.delegates = self.storage(False)  # (owner, delegate) -> bool
        self.live = True
        self.collateral_types = self.storage(CollateralType())
        self.vaults = self.storage(Vault())  # (type, owner) -> Vault
        self.collateral = self.storage(0)  # (type, owner) -> wad
        self.stable = self.storage(0)  # owner -> rad
        self.bad_debt = self.storage(0)  # owner -> rad
        self.total_issued = 0
        self.total_unbacked = 0
        self.global_debt_ceiling = 0
        self.utilization_record = self.storage(0)  # type -> packed record
        self.size_margins = self.storage(0)  # type -> packed size margin (size_margin.py)
        self._init_auth(deployer)

    # ------------------------------------------------------------ administration

    def _can_act(self, owner: str, actor: str) -> bool:
        return owner == actor or self.delegates[(owner, actor)]

    def allow(self, sender: str, delegate: str) -> None:
        self.delegates[(sender, delegate)] = True
        self.log("DelegateAllowed", owner=sender, delegate=delegate)

    def disallow(self, sender: str, delegate: str) -> None:
        self.delegates[(sender, delegate)] = False
        self.log("DelegateDisallowed", owner=sender, delegate=delegate)

    def init_type(self, sender: str, collateral_type: bytes) -> None:
        self._check_authorized(sender)
        require(self.collateral_types[collateral_type].rate == 0, "engine: type exists")
        self.collateral_types[collateral_type] = self.collateral_types[collateral_type]._replace(
            rate=RAY
        )
        self.utilization_record[collateral_type] = WAD << UTILIZATION_KINK_SHIFT | self.now
        self.log("CollateralTypeInitialized", collateral_type=collateral_type)

    def set_global_debt_ceiling(self, sender: str, new_value: int) -> None:
        self._check_authorized(sender)
        require(self.live, "engine: not live")
        self.global_debt_ceiling = new_value
        self.log("GlobalDebtCeilingSet", new_value=new_value)

    def _set_type_field(
        self, sender: str, collateral_type: bytes, field: str, new_value: int, role: Role | None
    ) -> None:
        # role None: admins only
        if role is None:
            self._check_authorized(sender)
        else:
            self._check_role(sender, role)
        require(self.live, "engine: not live")
        ctype = self.collateral_types[collateral_type]
        require(ctype.rate != 0, "engine: type not initialized")
        self.collateral_types[collateral_type] = ctype._replace(**{field: new_value})

    def set_debt_ceiling(self, sender: str, collateral_type: bytes, new_value: int) -> None:
        self._check_role(sender, Role.CEILING)
        require(self.live, "engine: not live")
        ctype = self.collateral_types[collateral_type]
        require(ctype.rate != 0, "engine: type not initialized")
        self._update_utilization(collateral_type, ctype.normalized_debt, ctype.rate)
        self.collateral_types[collateral_type] = ctype._replace(debt_ceiling=new_value)
        self.log("DebtCeilingSet", collateral_type=collateral_type, new_value=new_value)

    def set_fee_kink(self, sender: str, collateral_type: bytes, kink: int) -> None:
        self._check_role(sender, Role.FEE_KINK)
        ctype = self.collateral_types[collateral_type]
        require(ctype.rate != 0, "engine: type not initialized")
        require(kink <= WAD, "engine: kink above 1")
        self._update_utilization(collateral_type, ctype.normalized_debt, ctype.rate)
        record = self.utilization_record[collateral_type]
        self.utilization_record[collateral_type] = (
            record >> UTILIZATION_INTEGRAL_SHIFT << UTILIZATION_INTEGRAL_SHIFT
            | kink << UTILIZATION_KINK_SHIFT
            | self.now
        )
        self.log("FeeKinkSet", collateral_type=collateral_type, kink=kink)

    def set_dust(self, sender: str, collateral_type: bytes, new_value: int) -> None:
        self._check_authorized(sender)
        require(self.live, "engine: not live")
        ctype = self.collateral_types[collateral_type]
        require(ctype.rate != 0, "engine: type not initialized")
        threshold = self.size_margins[collateral_type] >> sizing.THRESHOLD_SHIFT
        require(threshold == 0 or new_value <= threshold * RAD, "engine: dust above size threshold")
        self.collateral_types[collateral_type] = ctype._replace(dust=new_value)
        self.log("DustSet", collateral_type=collateral_type, new_value=new_value)

    def set_safe_price(self, sender: str, collateral_type: bytes, new_value: int) -> None:
        self._check_role(sender, Role.PRICE)
        require(self.live, "engine: not live")
        require(self.collateral_types[collateral_type].rate != 0, "engine: type not initialized")
        require(new_value <= MAX_SAFE_PRICE, "engine: value too large")
        self._set_type_field(sender, collateral_type, "safe_price", new_value, Role.PRICE)
        self.log("SafePriceSet", collateral_type=collateral_type, new_value=new_value)

    def set_size_margin(
        self, sender: str, collateral_type: bytes, threshold: int, slope: int, cap: int
    ) -> None:
        self._check_authorized(sender)
        require(self.live, "engine: not live")
        require(self.collateral_types[collateral_type].rate != 0, "engine: type not initialized")
        size = sizing.pack(threshold, slope, cap)
        require(
            threshold == 0 or threshold * RAD >= self.collateral_types[collateral_type].dust,
            "engine: size threshold below dust",
        )
        self.size_margins[collateral_type] = size
        self.log(
            "SizeMarginSet",
            collateral_type=collateral_type,
            threshold=threshold,
            slope=slope,
            cap=cap,
        )

    def shutdown(self, sender: str) -> None:
        self._check_role(sender, Role.SHUTDOWN)
        self.live = False
        self.log("Shutdown", caller=sender)

    # ------------------------------------------------------------ balances

    def modify_collateral_balance(
        self, sender: str, collateral_type: bytes, account: str, delta: int
    ) -> None:
        self._check_role(sender, Role.JOIN)
        balance = self.collateral[(collateral_type, account)]
        if delta < 0:
            require(balance >= to_uint256(neg(delta)), "engine: insufficient collateral")
        self.collateral[(collateral_type, account)] = add_signed(balance, delta)
        self.log(
            "CollateralModified", collateral_type=collateral_type, account=account, delta=delta
        )

    def transfer_collateral(
        self, sender: str, collateral_type: bytes, src: str, dst: str, amount: int
    ) -> None:
        require(self._can_act(src, sender), "engine: not allowed")
        balance = self.collateral[(collateral_type, src)]
        require(balance >= amount, "engine: insufficient collateral")
        self.collateral[(collateral_type, src)] = balance - amount
        self.collateral[(collateral_type, dst)] = u256(
            self.collateral[(collateral_type, dst)] + amount
        )
        self.log(
            "CollateralTransferred",
            collateral_type=collateral_type,
            src=src,
            dst=dst,
            amount=amount,
        )

    def transfer_stable(self, sender: str, src: str, dst: str, amount: int) -> None:
        require(self._can_act(src, sender), "engine: not allowed")
        balance = self.stable[src]
        require(balance >= amount, "engine: insufficient stable")
        self.stable[src] = balance - amount
        self.stable[dst] = u256(self.stable[dst] + amount)
        self.log("StableTransferred", src=src, dst=dst, amount=amount)

    # ------------------------------------------------------------ vaults

    def modify_vault(
        self,
        sender: str,
        collateral_type: bytes,
        owner: str,
        collateral_src: str,
        stable_dst: str,
        delta_collateral: int,
        delta_normalized_debt: int,
    ) -> None:
        self._modify_vault(
            sender,
            collateral_type,
            owner,
            collateral_src,
            stable_dst,
            delta_collateral,
            delta_normalized_debt,
            joined=False,
        )

    def join_vault(
        self,
        sender: str,
        collateral_type: bytes,
        owner: str,
        collateral: int,
        delta_normalized_debt: int,
    ) -> None:
        self._check_role(sender, Role.JOIN)
        delta_collateral = to_int256(collateral)
        self.log(
            "CollateralModified",
            collateral_type=collateral_type,
            account=owner,
            delta=delta_collateral,
        )
        self._modify_vault(
            sender,
            collateral_type,
            owner,
            owner,
            owner,
            delta_collateral,
            delta_normalized_debt,
            joined=True,
        )

    def _modify_vault(
        self,
        sender: str,
        collateral_type: bytes,
        owner: str,
        collateral_src: str,
        stable_dst: str,
        delta_collateral: int,
        delta_normalized_debt: int,
        *,
        joined: bool,
    ) -> None:
        # modify_vault, or join_vault when `joined` (the collateral comes from the join, not from
        # collateral_src's free balance)
        require(self.live, "engine: not live")
        ctype = self.collateral_types[collateral_type]
        require(ctype.rate != 0, "engine: type not initialized")
        vault, type_debt = self._apply_deltas(
            collateral_type, owner, ctype.normalized_debt, delta_collateral, delta_normalized_debt
        )
        ctype = ctype._replace(normalized_debt=type_debt)

        delta_debt = i256(to_int256(ctype.rate) * delta_normalized_debt)
        vault_debt = u256(ctype.rate * vault.normalized_debt)
        issued = add_signed(self.total_issued, delta_debt)

        riskier = delta_normalized_debt > 0 or delta_collateral < 0
        if delta_normalized_debt > 0:
            require(
                u256(ctype.normalized_debt * ctype.rate) <= ctype.debt_ceiling,
                "engine: type ceiling exceeded",
            )
            require(issued <= self.global_debt_ceiling, "engine: global ceiling exceeded")
        if riskier:
            require(
                sizing.margin_debt(vault_debt, self.size_margins[collateral_type])
                <= u256(vault.collateral * ctype.safe_price),
                "engine: not safe",
            )
            require(self._can_act(owner, sender), "engine: owner not allowed")
        if delta_collateral > 0 and not joined:
            require(self._can_act(collateral_src, sender), "engine: collateral source not allowed")
        if delta_normalized_debt < 0:
            require(self._can_act(stable_dst, sender), "engine: stable source not allowed")
        if delta_normalized_debt != 0 and vault.normalized_debt != 0:
            require(vault_debt >= ctype.dust, "engine: dust")

        if not joined:
            free = self.collateral[(collateral_type, collateral_src)]
            if delta_collateral > 0:
                require(free >= to_uint256(delta_collateral), "engine: insufficient collateral")
            self.collateral[(collateral_type, collateral_src)] = sub_signed(free, delta_collateral)
        balance = self.stable[stable_dst]
        if delta_debt < 0:
            require(balance >= to_uint256(neg(delta_debt)), "engine: insufficient stable")
        self.stable[stable_dst] = add_signed(balance, delta_debt)
        if delta_normalized_debt != 0:
            old = self.collateral_types[collateral_type]
            self._update_utilization(collateral_type, old.normalized_debt, old.rate)

        self.vaults[(collateral_type, owner)] = vault
        self.collateral_types[collateral_type] = ctype
        self.total_issued = issued
        self.log(
            "VaultModified",
            collateral_type=collateral_type,
            owner=owner,
            collateral_src=collateral_src,
            stable_dst=stable_dst,
            delta_collateral=delta_collateral,
            delta_normalized_debt=delta_normalized_debt,
        )

    def seize(
        self,
        sender: str,
        collateral_type: bytes,
        owner: str,
        collateral_dst: str,
        debt_dst: str,
        delta_collateral: int,
        delta_normalized_debt: int,
    ) -> None:
        self._check_role(sender, Role.SEIZE)
        ctype = self.collateral_types[collateral_type]
        require(ctype.rate != 0, "engine: type not initialized")
        vault, type_debt = self._apply_deltas(
            collateral_type, owner, ctype.normalized_debt, delta_collateral, delta_normalized_debt
        )

        delta_debt = i256(to_int256(ctype.rate) * delta_normalized_debt)
        free = self.collateral[(collateral_type, collateral_dst)]
        if delta_collateral > 0:
            require(free >= to_uint256(delta_collateral), "engine: insufficient collateral")
        self.collateral[(collateral_type, collateral_dst)] = sub_signed(free, delta_collateral)
        self.bad_debt[debt_dst] = sub_signed(self.bad_debt[debt_dst], delta_debt)
        self.total_unbacked = u255(sub_signed(self.total_unbacked, delta_debt))

        self.vaults[(collateral_type, owner)] = vault
        if delta_normalized_debt != 0:
            self._update_utilization(collateral_type, ctype.normalized_debt, ctype.rate)
        self.collateral_types[collateral_type] = self.collateral_types[collateral_type]._replace(
            normalized_debt=type_debt
        )
        self.log(
            "VaultSeized",
            collateral_type=collateral_type,
            owner=owner,
            collateral_dst=collateral_dst,
            debt_dst=debt_dst,
            delta_collateral=delta_collateral,
            delta_normalized_debt=delta_normalized_debt,
        )

    # ------------------------------------------------------------ debt and rates

    def fold_rate(
        self, sender: str, collateral_type: bytes, recipient: str, delta_rate: int
    ) -> None:
        self._check_role(sender, Role.RATE)
        require(self.live, "engine: not live")
        ctype = self.collateral_types[collateral_type]
        require(ctype.rate != 0, "engine: type not initialized")
        new_rate = add_signed(ctype.rate, delta_rate)
        require(new_rate != 0, "engine: rate would be zero")
        require(new_rate <= MAX_FIELD, "engine: value too large")
        delta_stable = i256(to_int256(ctype.normalized_debt) * delta_rate)
        balance = self.stable[recipient]
        if delta_stable < 0:
            require(balance >= to_uint256(neg(delta_stable)), "engine: insufficient stable")
        self.stable[recipient] = add_signed(balance, delta_stable)
        self.total_issued = add_signed(self.total_issued, delta_stable)
        self._update_utilization(collateral_type, ctype.normalized_debt, ctype.rate)
        self.collateral_types[collateral_type] = self.collateral_types[collateral_type]._replace(
            rate=new_rate
        )
        self.log(
            "RateFolded",
            collateral_type=collateral_type,
            recipient=recipient,
            delta_rate=delta_rate,
            delta_stable=delta_stable,
        )

    def create_unbacked(self, sender: str, debt_dst: str, stable_dst: str, amount: int) -> None:
        self._check_role(sender, Role.MINT_UNBACKED)
        self.bad_debt[debt_dst] = u256(self.bad_debt[debt_dst] + amount)
        self.stable[stable_dst] = u256(self.stable[stable_dst] + amount)
        self.total_unbacked = u255(self.total_unbacked + amount)
        self.total_issued = u256(self.total_issued + amount)
        self.log("UnbackedCreated", debt_dst=debt_dst, stable_dst=stable_dst, amount=amount)

    def settle(self, sender: str, amount: int) -> None:
        require(self.bad_debt[sender] >= amount, "engine: insufficient bad debt")
        require(self.stable[sender] >= amount, "engine: insufficient stable")
        self.bad_debt[sender] -= amount
        self.stable[sender] -= amount
        self.total_unbacked -= amount
        self.total_issued -= amount
        self.log("DebtSettled", account=sender, amount=amount)

    def _apply_deltas(
        self,
        collateral_type: bytes,
        owner: str,
        type_debt: int,
        delta_collateral: int,
        delta_normalized_debt: int,
    ) -> tuple[Vault, int]:
        vault = self.vaults[(collateral_type, owner)]
        if delta_collateral < 0:
            require(
                vault.collateral >= to_uint256(neg(delta_collateral)), "engine: insufficient locked"
            )
        if delta_normalized_debt < 0:
            require(
                vault.normalized_debt >= to_uint256(neg(delta_normalized_debt)),
                "engine: repay exceeds debt",
            )
        vault = Vault(
            add_signed(vault.collateral, delta_collateral),
            add_signed(vault.normalized_debt, delta_normalized_debt),
        )
        new_type_debt = add_signed(type_debt, delta_normalized_debt)
        require(
            vault.collateral <= MAX_FIELD and new_type_debt <= MAX_FIELD, "engine: value too large"
        )
        return vault, new_type_debt

    # ------------------------------------------------------------ views

    def rate_and_debt(self, collateral_type: bytes) -> tuple[int, int]:
        ctype = self.collateral_types[collateral_type]
        return ctype.rate, ctype.normalized_debt

    def vault_debt(self, collateral_type: bytes, owner: str) -> int:
        return u256(
            self.vaults[(collateral_type, owner)].normalized_debt
            * self.collateral_types[collateral_type].rate
        )

    def is_safe(self, collateral_type: bytes, owner: str) -> bool:
        ctype = self.collateral_types[collateral_type]
        vault = self.vaults[(collateral_type, owner)]
        return sizing.margin_debt(
            u256(vault.normalized_debt * ctype.rate), self.size_margins[collateral_type]
        ) <= u256(vault.collateral * ctype.safe_price)

    def safe_price(self, collateral_type: bytes) -> int:
        return self.collateral_types[collateral_type].safe_price

    def size_margin(self, collateral_type: bytes) -> tuple[int, int, int]:
        return sizing.unpack(self.size_margins[collateral_type])

    def size_margin_word(self, collateral_type: bytes) -> int:
        return self.size_margins[collateral_type]

    def margin_debt(self, collateral_type: bytes, debt: int) -> int:
        return sizing.margin_debt(debt, self.size_margins[collateral_type])

    def utilization_integral(self, collateral_type: bytes) -> int:
        record = self.utilization_record[collateral_type]
        ctype = self.collateral_types[collateral_type]
        return u256(
            (record >> UTILIZATION_INTEGRAL_SHIFT)
            + self._excess_utilization(
                ctype.normalized_debt, ctype.rate, ctype.debt_ceiling, record
            )
            * u256(self.now - (record & UTILIZATION_TIME_MASK))
        )

    def fee_kink(self, collateral_type: bytes) -> int:
        return (self.utilization_record[collateral_type] >> UTILIZATION_KINK_SHIFT) & (
            UTILIZATION_KINK_MASK
        )

    def can_act(self, owner: str, actor: str) -> bool:
        return self._can_act(owner, actor)

    # ------------------------------------------------------------ utilization

    def _update_utilization(self, collateral_type: bytes, normalized_debt: int, rate: int) -> None:
        record = self.utilization_record[collateral_type]
        updated_at = record & UTILIZATION_TIME_MASK
        kink_bits = record & (UTILIZATION_KINK_MASK << UTILIZATION_KINK_SHIFT)
        if updated_at == self.now or kink_bits >> UTILIZATION_KINK_SHIFT >= WAD:
            return
        ceiling = self.collateral_types[collateral_type].debt_ceiling
        integral = u256(
            (record >> UTILIZATION_INTEGRAL_SHIFT)
            + self._excess_utilization(normalized_debt, rate, ceiling, record)
            * u256(self.now - updated_at)
        )
        require(integral < UTILIZATION_INTEGRAL_LIMIT, "engine: value too large")
        self.utilization_record[collateral_type] = (
            integral << UTILIZATION_INTEGRAL_SHIFT | kink_bits | self.now
        )

    @staticmethod
    def _excess_utilization(normalized_debt: int, rate: int, ceiling: int, record: int) -> int:
        kink = (record >> UTILIZATION_KINK_SHIFT) & UTILIZATION_KINK_MASK
        if kink >= WAD:
            return 0
        debt = u256(normalized_debt * rate)
        utilization = WAD
        if ceiling != 0:
            utilization = min((u256(u256(debt * WAD) + ceiling) - 1) // ceiling, WAD)
        elif debt == 0:
            utilization = 0
        if utilization <= kink:
            return 0
        return utilization - kink


__all__ = ["CollateralType", "Vault", "VaultEngine", "Revert"]
