"""Twin of contracts/GlobalSettlement.vy: freeze, price every type, close vaults, and let
stablecoin holders redeem collateral pro rata (the haircut is the unbacked debt and the gaps)."""

from __future__ import annotations

from offchain.model.errors import Revert, require
from offchain.model.fixed_point import RAY, WAD, div_up, neg, to_int256, u256
from offchain.model.state import ZERO_ADDRESS, Authorized, Env, Role
from offchain.model.vault_engine import VaultEngine

LOSS_RUNNING = 1  # the Backstop's status of a loss whose auction still runs
MAX_WAIT = 52 * 7 * 86400  # GlobalSettlement.vy: the longest wait from shutdown to thaw [s]


class GlobalSettlement(Authorized):
    ROLE_SET = Role.EMERGENCY

    def __init__(
        self,
        env: Env,
        address: str,
        deployer: str,
        engine: str,
        liquidator: str,
        backstop: str,
        spotter: str,
        wait: int,
    ):
        super().__init__(env, address)
        self.engine: VaultEngine = self.at(engine)
        self.liquidator = liquidator
        self.backstop = backstop
        self.spotter = spotter
        self.live = True
        self.shutdown_at = 0  # seconds
        require(wait <= MAX_WAIT, "settlement: wait above 52 weeks")
        self.wait = wait  # seconds
        self.debt = 0  # rad; 0 = not thawed
        self.final_price = self.storage(0)  # type -> ray (collateral per stablecoin)
        self.type_debt = self.storage(0)  # type -> wad
        self.gap = self.storage(0)  # type -> wad collateral
        self.cash_price = self.storage(0)  # type -> ray (collateral per wad of stablecoin)
        self.cash_price_set = self.storage(False)  # type -> bool
        self.packed = self.storage(0)  # holder -> wad
        self.cashed = self.storage(0)  # (type, holder) -> wad
        self._init_auth(deployer)
        self.log("WaitSet", wait=wait)

    # ------------------------------------------------------------ administration

    def set_wait(self, sender: str, new_wait: int) -> None:
        self._check_authorized(sender)
        require(self.live, "settlement: not live")
        require(new_wait <= MAX_WAIT, "settlement: wait above 52 weeks")
        self.wait = new_wait
        self.log("WaitSet", wait=new_wait)

    # ------------------------------------------------------------ settlement

    def shutdown(self, sender: str) -> None:
        self._check_role(sender, Role.EMERGENCY)
        require(self.live, "settlement: not live")
        self.live = False
        self.shutdown_at = self.now
        self.engine.shutdown(self.address)
        self.at(self.liquidator).shutdown(self.address)
        self.at(self.backstop).shutdown(self.address)
        self.log("Shutdown", shutdown_at=self.now)

    def fix_price(self, sender: str, collateral_type: bytes) -> None:
        require(not self.live, "settlement: live")
        require(self.final_price[collateral_type] == 0, "settlement: price fixed")
        oracle = self.at(self.spotter).oracles[collateral_type]
        require(oracle != ZERO_ADDRESS, "settlement: no oracle")
        source = self.at(oracle)
        price, valid = source.peek()  # wad
        require(price != 0, "settlement: invalid price")
        if not valid:  # stale: it counts once `wait` has passed since shutdown
            require(self.now >= u256(self.shutdown_at + self.wait), "settlement: invalid price")
        queued = source.peek_next()[0]
        if queued != 0 and queued < price:
            price = queued
        if source.source_price != 0 and source.source_price < price:  # the latest post
            price = source.source_price
        if source.void_lock != 0 and 0 != source.voided_price < price:
            price = source.voided_price
        final = div_up(WAD * RAY, price)
        self.final_price[collateral_type] = final
        ctype = self.engine.collateral_types[collateral_type]
        self.type_debt[collateral_type] = ctype.normalized_debt
        self.log("PriceFixed", collateral_type=collateral_type, price=price, final_price=final)

    def cancel_auction(
        self, sender: str, collateral_type: bytes, auction: str, auction_id: int
    ) -> None:
        final = self.final_price[collateral_type]
        require(final != 0, "settlement: no final price")
        loss = self.at(self.backstop).losses[(collateral_type, auction, auction_id)]
        require(loss.status == LOSS_RUNNING, "settlement: no running loss")
        normalized_debt = self.at(auction).cancel_for_settlement(self.address, auction_id, final)
        self.type_debt[collateral_type] = u256(self.type_debt[collateral_type] + normalized_debt)
        self.log(
            "AuctionCancelled",
            collateral_type=collateral_type,
            auction_id=auction_id,
            normalized_debt=normalized_debt,
        )

    def close_vault(self, sender: str, collateral_type: bytes, owner: str) -> None:
        final = self.final_price[collateral_type]
        require(final != 0, "settlement: no final price")
        vault = self.engine.vaults[(collateral_type, owner)]
        vault_debt = self.engine.vault_debt(collateral_type, owner)  # rad
        owe = div_up(u256(div_up(vault_debt, RAY) * final), RAY)
        taken = min(owe, vault.collateral)
        shortfall = owe - taken
        self.gap[collateral_type] = u256(self.gap[collateral_type] + shortfall)
        self.engine.seize(
            self.address,
            collateral_type,
            owner,
            self.address,
            self.backstop,
            neg(to_int256(taken)),
            neg(to_int256(vault.normalized_debt)),
        )
        self.log(
            "VaultClosed",
            collateral_type=collateral_type,
            owner=owner,
            collateral=taken,
            normalized_debt=vault.normalized_debt,
            shortfall=shortfall,
        )

    def free_collateral(self, sender: str, collateral_type: bytes) -> None:
        require(not self.live, "settlement: live")
        vault = self.engine.vaults[(collateral_type, sender)]
        require(vault.normalized_debt == 0, "settlement: vault has debt")
        self.engine.seize(
            self.address,
            collateral_type,
            sender,
            sender,
            self.backstop,
            neg(to_int256(vault.collateral)),
            0,
        )
        self.log(
            "CollateralFreed",
            collateral_type=collateral_type,
            owner=sender,
            collateral=vault.collateral,
        )

    def thaw(self, sender: str) -> None:
        require(not self.live, "settlement: live")
        require(self.debt == 0, "settlement: thawed")
        require(self.now >= u256(self.shutdown_at + self.wait), "settlement: wait")
        backstop = self.at(self.backstop)
        require(backstop.open_losses() == 0, "settlement: losses open")
        if backstop.debt_auction != ZERO_ADDRESS:
            require(self.at(backstop.debt_auction).running == 0, "settlement: debt auction running")
        backstop.heal(self.address)
        amount = min(self.engine.stable[self.backstop], self.engine.bad_debt[self.backstop])
        if amount > 0:
            backstop.settle(self.address, amount)
        outstanding = u256(self.engine.total_issued - self.engine.stable[self.backstop])
        require(outstanding != 0, "settlement: no debt")
        self.debt = outstanding
        self.log("Thawed", debt=outstanding)

    def fix_cash_price(self, sender: str, collateral_type: bytes) -> None:
        outstanding = self.debt
        require(outstanding != 0, "settlement: not thawed")
        require(not self.cash_price_set[collateral_type], "settlement: cash price fixed")
        ctype = self.engine.collateral_types[collateral_type]
        require(ctype.normalized_debt == 0, "settlement: vaults open")
        rate = ctype.rate
        debt = u256(self.type_debt[collateral_type] * rate) // RAY  # wad
        value = u256(debt * self.final_price[collateral_type]) // RAY  # wad collateral
        divisor = outstanding // RAY
        if divisor == 0:  # Vyper's `//` by zero reverts without a reason
            raise Revert(None)
        per_wad = u256((value - min(self.gap[collateral_type], value)) * RAY) // divisor
        self.cash_price[collateral_type] = per_wad
        self.cash_price_set[collateral_type] = True
        self.log("CashPriceFixed", collateral_type=collateral_type, cash_price=per_wad)

    def pack(self, sender: str, amount: int) -> None:
        require(self.debt != 0, "settlement: not thawed")
        require(amount > 0, "settlement: zero amount")
        self.packed[sender] = u256(self.packed[sender] + amount)
        self.engine.transfer_stable(self.address, sender, self.address, u256(amount * RAY))
        self.log("Packed", holder=sender, amount=amount)

    def cash(self, sender: str, collateral_type: bytes, amount: int) -> None:
        require(self.cash_price_set[collateral_type], "settlement: no cash price")
        cashed = u256(self.cashed[(collateral_type, sender)] + amount)
        require(cashed <= self.packed[sender], "settlement: insufficient packed")
        self.cashed[(collateral_type, sender)] = cashed
        collateral = u256(amount * self.cash_price[collateral_type]) // RAY
        self.engine.transfer_collateral(
            self.address, collateral_type, self.address, sender, collateral
        )
        self.log(
            "Cashed",
            collateral_type=collateral_type,
            holder=sender,
            amount=amount,
            collateral=collateral,
        )
