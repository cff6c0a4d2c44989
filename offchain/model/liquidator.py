"""Twin of contracts/Liquidator.vy: seize unsafe vaults, start auctions, open loss events."""

from __future__ import annotations

from typing import NamedTuple

from offchain.model import size_margin as sizing
from offchain.model.errors import Revert, require
from offchain.model.fixed_point import (
    PENALTY_STEP,
    WAD,
    amount_to_raise,
    div_up,
    neg,
    to_int256,
    u255,
    u256,
)
from offchain.model.state import ZERO_ADDRESS, Authorized, Env, Role
from offchain.model.vault_engine import CollateralType, Vault, VaultEngine

# _size_cut's answer when a vault unsafe by its size alone, under two dusts, has no cut
# (Liquidator.vy refuses it inline: "liquidator: no size cut")
NO_SIZE_CUT = 2**256 - 1

MAX_PENALTY = 2 * WAD
MAX_BATCH = 100
MAX_CAP = 10**57
# liquidate_many's gas guard (Liquidator.vy): a vault is started only while the gas left is at
# least this [gas], before its reads (LIQUIDATION_RESERVE) and before a size cut's bisection
# (CUT_RESERVE). The twin has no gas: it models a batch sent with enough gas that the guard never
# fires, and the keepers size their batches so (offchain/sim/strategies/gas_costs.py uses these);
# a guard that fires on chain is a difference (Lockstep names it: SkippedForGas).
LIQUIDATION_RESERVE = 400_000
CUT_RESERVE = 600_000


def under_two_dusts(debt: int, dust: int) -> bool:
    """Liquidator.vy's test of a vault too small for any size cut to leave the dust: its `debt`
    [rad] is under two `dust`s [rad] (written debt // 2 < dust: no overflow for any dust)."""
    return debt // 2 < dust


def refuses_size_cut(
    *,
    collateral: int,
    normalized_debt: int,
    rate: int,
    safe_price: int,
    dust: int,
    penalty: int,
    size: int,
) -> bool:
    """Whether the Liquidator refuses a vault unsafe at its size, "liquidator: no size cut"
    (Liquidator.vy's _liquidate; `Liquidator._size_cut` below): a size margin is set (`size`,
    the packed word), the vault is safe at the base ratio, no cut cures it
    (size_margin.least_cure is 0) and its debt is under two dusts. Whatever the caps and the
    auction's room, such a vault is not liquidated (`liquidate` reverts, `liquidate_many` skips
    it) until its numbers, the rate, the safe price or the type's parameters change. The caller
    has found the vault unsafe at its size; the cheap tests come first."""
    if size == 0 or collateral * safe_price < normalized_debt * rate:
        return False
    if not under_two_dusts(normalized_debt * rate, dust):
        return False
    cut = sizing.least_cure(
        collateral=collateral,
        normalized_debt=normalized_debt,
        rate=rate,
        safe_price=safe_price,
        dust=dust,
        penalty=penalty,
        size=size,
    )
    return cut == 0


class TypeConfig(NamedTuple):
    auction: str = ZERO_ADDRESS
    penalty: int = 0  # wad
    max_debt_in_auction: int = 0  # rad
    debt_in_auction: int = 0  # rad


class Liquidator(Authorized):
    ROLE_SET = Role.DEBT_IN_AUCTION | Role.SHUTDOWN

    def __init__(self, env: Env, address: str, deployer: str, engine: str, backstop: str):
        super().__init__(env, address)
        self.engine: VaultEngine = self.at(engine)
        self.backstop = backstop
        self.live = True
        self.max_debt_in_auction = 0
        self.debt_in_auction = 0
        self.types = self.storage(TypeConfig())
        self._locked = False
        self._init_auth(deployer)

    def set_max_debt_in_auction(self, sender: str, amount: int) -> None:
        self._check_authorized(sender)
        require(amount <= MAX_CAP, "liquidator: cap too large")
        self.max_debt_in_auction = amount
        self.log("MaxDebtInAuctionSet", amount=amount)

    def configure_type(
        self,
        sender: str,
        collateral_type: bytes,
        auction: str,
        penalty: int,
        max_debt_in_auction: int,
    ) -> None:
        self._check_authorized(sender)
        require(auction != ZERO_ADDRESS, "liquidator: zero auction")
        require(
            self.at(auction).collateral_type == collateral_type,
            "liquidator: auction of another type",
        )
        require(penalty >= WAD, "liquidator: penalty below 1")
        require(penalty <= MAX_PENALTY, "liquidator: penalty above 2")
        require(penalty % PENALTY_STEP == 0, "liquidator: penalty not a multiple of 1e-7")
        require(max_debt_in_auction <= MAX_CAP, "liquidator: cap too large")
        self.types[collateral_type] = TypeConfig(
            auction, penalty, max_debt_in_auction, self.types[collateral_type].debt_in_auction
        )
        self.log(
            "TypeConfigured",
            collateral_type=collateral_type,
            auction=auction,
            penalty=penalty,
            max_debt_in_auction=max_debt_in_auction,
        )

    def shutdown(self, sender: str) -> None:
        self._check_role(sender, Role.SHUTDOWN)
        self.live = False
        self.log("Shutdown", caller=sender)

    def _enter(self) -> None:
        if self._locked:  # Vyper's @nonreentrant lock reverts without a reason
            raise Revert(None)
        self._locked = True

    def liquidate(self, sender: str, collateral_type: bytes, owner: str, keeper: str) -> int:
        self._enter()
        try:
            require(self.live, "liquidator: not live")
            ctype = self.engine.collateral_types[collateral_type]
            size = self.engine.size_margins[collateral_type]
            return self._liquidate(collateral_type, ctype, size, owner, keeper, True)
        finally:
            self._locked = False

    def liquidate_many(
        self, sender: str, collateral_type: bytes, owners: list[str], keeper: str
    ) -> int:
        """Liquidator.vy's liquidate_many with gas enough for every vault: its gas guard (skip a
        vault while the gas left is below LIQUIDATION_RESERVE, or CUT_RESERVE before a size cut,
        and log SkippedForGas) never fires here. docs/security.md, 63.1, says what that assumes
        of the senders."""
        if len(owners) > MAX_BATCH:  # the ABI decoder rejects a longer DynArray
            raise Revert(None)
        self._enter()
        try:
            require(self.live, "liquidator: not live")
            ctype = self.engine.collateral_types[collateral_type]
            size = self.engine.size_margins[collateral_type]
            count = 0
            for owner in owners:
                if self._liquidate(collateral_type, ctype, size, owner, keeper, False) != 0:
                    count += 1
            return count
        finally:
            self._locked = False

    def _liquidate(
        self,
        collateral_type: bytes,
        ctype: CollateralType,
        size: int,
        owner: str,
        keeper: str,
        strict: bool,
    ) -> int:
        config = self.types[collateral_type]
        require(config.auction != ZERO_ADDRESS, "liquidator: type not configured")
        require(ctype.safe_price != 0, "liquidator: no valid price")
        vault = self.engine.vaults[(collateral_type, owner)]
        value = u256(vault.collateral * ctype.safe_price)
        if vault.normalized_debt == 0 or value >= sizing.margin_debt(
            u256(vault.normalized_debt * ctype.rate), size
        ):
            require(not strict, "liquidator: vault is safe")
            return 0
        if (
            self.max_debt_in_auction <= self.debt_in_auction
            or config.max_debt_in_auction <= config.debt_in_auction
        ):
            require(not strict, "liquidator: debt in auction at cap")
            return 0
        if not strict and not self.at(config.auction).has_room():
            return 0
        room = min(
            self.max_debt_in_auction - self.debt_in_auction,
            config.max_debt_in_auction - config.debt_in_auction,
        )
        seized_debt = min(vault.normalized_debt, u256(room * WAD) // ctype.rate // config.penalty)
        seized_collateral = 0  # a size cut's (worth its tab); 0: in proportion
        if size != 0:
            seized_debt, seized_collateral = self._size_cut(
                vault, ctype, size, config.penalty, seized_debt
            )
            if seized_debt == NO_SIZE_CUT:
                require(not strict, "liquidator: no size cut")
                return 0
        if seized_debt < vault.normalized_debt:
            if u256((vault.normalized_debt - seized_debt) * ctype.rate) < ctype.dust:
                seized_debt = vault.normalized_debt
            elif u256(seized_debt * ctype.rate) < ctype.dust:
                require(not strict, "liquidator: partial auction below dust")
                return 0
        if seized_collateral == 0:
            seized_collateral = min(
                div_up(u256(vault.collateral * seized_debt), vault.normalized_debt),
                vault.collateral,
            )
        if seized_collateral == 0:
            require(not strict, "liquidator: nothing to seize")
            return 0
        if seized_collateral == vault.collateral:
            seized_debt = vault.normalized_debt
        self.engine.seize(
            self.address,
            collateral_type,
            owner,
            config.auction,
            self.backstop,
            neg(to_int256(seized_collateral)),
            neg(to_int256(seized_debt)),
        )
        debt = u256(seized_debt * ctype.rate)
        to_raise = amount_to_raise(debt, config.penalty)
        self.debt_in_auction = u255(self.debt_in_auction + to_raise)
        self.types[collateral_type] = self.types[collateral_type]._replace(
            debt_in_auction=u255(config.debt_in_auction + to_raise)
        )
        auction_id = self.at(config.auction).start(
            self.address, to_raise, seized_collateral, owner, keeper
        )
        self.at(self.backstop).open_loss(
            self.address, collateral_type, config.auction, auction_id, debt, config.penalty
        )
        self.log(
            "Liquidated",
            collateral_type=collateral_type,
            owner=owner,
            collateral=seized_collateral,
            normalized_debt=seized_debt,
            debt=debt,
            auction=config.auction,
            auction_id=auction_id,
        )
        return auction_id

    @staticmethod
    def _size_cut(
        vault: Vault, ctype: CollateralType, size: int, penalty: int, seized_debt: int
    ) -> tuple[int, int]:
        """The size cut of Liquidator.vy's _liquidate (which asks itself for the bisection,
        curing_cut, to keep its memory out of liquidations without a cut): a vault unsafe by its
        size alone is cut by the least cure (size_margin.size_cut), the caps' amount when less;
        when none, (NO_SIZE_CUT, 0) for a vault under two dusts, else (seized_debt, 0) as for a
        vault unsafe at the base ratio, seized in proportion."""
        if u256(vault.collateral * ctype.safe_price) < u256(vault.normalized_debt * ctype.rate):
            return seized_debt, 0
        cut = sizing.size_cut(
            collateral=vault.collateral,
            normalized_debt=vault.normalized_debt,
            rate=ctype.rate,
            safe_price=ctype.safe_price,
            dust=ctype.dust,
            penalty=penalty,
            size=size,
            allowed=seized_debt,
        )
        if cut is None:
            if under_two_dusts(u256(vault.normalized_debt * ctype.rate), ctype.dust):
                return NO_SIZE_CUT, 0
            return seized_debt, 0  # no tab-worth cut cures it: as without a size margin
        return cut.normalized_debt, cut.collateral

    @staticmethod
    def curing_cut(*_: int) -> int:
        """Liquidator.vy's curing_cut, as any caller but the Liquidator sees it: refused (its
        own call, from _liquidate, is _size_cut's sizing.size_cut here)."""
        raise Revert("liquidator: only itself")

    def remove_debt_in_auction(self, sender: str, collateral_type: bytes, amount: int) -> None:
        self._check_role(sender, Role.DEBT_IN_AUCTION)
        self.debt_in_auction = u255(self.debt_in_auction - amount)
        config = self.types[collateral_type]
        self.types[collateral_type] = config._replace(
            debt_in_auction=u255(config.debt_in_auction - amount)
        )
        self.log("DebtInAuctionRemoved", collateral_type=collateral_type, amount=amount)

    def penalty(self, collateral_type: bytes) -> int:
        """The type's liquidation penalty [wad] (Liquidator.vy's one-word view)."""
        return self.types[collateral_type].penalty
