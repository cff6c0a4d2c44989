"""Twin of contracts/StabilityPool.vy: the first-loss staking pool (layer POOL of the waterfall)."""

from __future__ import annotations

from offchain.model.errors import Revert, require
from offchain.model.fixed_point import MAX_UINT256, u256
from offchain.model.state import Authorized, Env, Role
from offchain.model.vault_engine import VaultEngine

MAX_COOLDOWN = 365 * 86400
# contracts/StabilityPool.vy: the least value [rad] a staker's shares may have when they change,
# other than none (finding 31-7: a value, not a share count)
MIN_STAKE = 10**45
# the shares worth MIN_STAKE at the first price (one per rad); stories and tests size stakes by it
MIN_SHARES = MIN_STAKE
# contracts/StabilityPool.vy: a charge's amount is packed below this, its stakers left above
CHARGE_AMOUNT_LIMIT = 2**192
# contracts/StabilityPool.vy: `range(max_charges, bound=256)`
MAX_CHARGES_PER_REALIZE = 256


def mul_div(x: int, y: int, denominator: int) -> int:
    """snekmate's `math._mul_div(x, y, denominator, False)`: floor(x * y / denominator) exact in
    512 bits, with its revert reasons."""
    require(denominator != 0, "math: mul_div division by zero")
    q = x * y // denominator
    require(q <= MAX_UINT256, "math: mul_div overflow")
    return q


def mul_div_up(x: int, y: int, denominator: int) -> int:
    """snekmate's `math._mul_div(x, y, denominator, True)`: ceil(x * y / denominator); its last
    increment is checked arithmetic (a revert without a reason)."""
    q = mul_div(x, y, denominator)
    if x * y % denominator:
        if q == MAX_UINT256:
            raise Revert(None)
        q += 1
    return q


class StabilityPool(Authorized):
    ROLE_SET = Role.INCOME

    def __init__(
        self,
        env: Env,
        address: str,
        deployer: str,
        engine: str,
        backstop: str,
        cooldown: int,
        exposure_delay: int,
        exit_window: int,
    ):
        super().__init__(env, address)
        require(cooldown <= MAX_COOLDOWN, "pool: cooldown too long")
        self.engine: VaultEngine = self.at(engine)
        self.backstop = backstop  # address; the model is resolved with self.at at each call
        self.cooldown = cooldown
        self.exposure_delay = 0
        self.exit_window = 0
        self.assets = 0  # rad
        self.total_shares = 0
        self.shares = self.storage(0)  # staker -> shares
        self.pending = self.storage(0)  # staker -> rad
        self.pending_at = self.storage(0)  # staker -> unix seconds
        self.pending_total = 0  # rad
        self.withdrawal_shares = self.storage(0)  # staker -> shares
        self.withdrawal_at = self.storage(0)  # staker -> unix seconds
        self.withdrawal_value = self.storage(0)  # staker -> rad
        self.staker_count = 0
        self.charge_count = 0
        self.next_charge = self.storage(0)  # staker -> charge id
        self.charge_amount = self.storage(0)  # charge id -> rad
        self.charge_total_shares = self.storage(0)  # charge id -> shares
        self.charge_stakers_left = self.storage(0)  # charge id -> stakers
        self.charge_attributed = self.storage(0)  # charge id -> rad
        self._init_auth(deployer)
        self.log("CooldownSet", cooldown=cooldown)
        self._set_exposure(exposure_delay, exit_window)

    # ------------------------------------------------------------ governance

    def set_cooldown(self, sender: str, new_cooldown: int) -> None:
        self._check_authorized(sender)
        require(new_cooldown <= MAX_COOLDOWN, "pool: cooldown too long")
        self.cooldown = new_cooldown
        self.log("CooldownSet", cooldown=new_cooldown)

    def set_exposure(self, sender: str, exposure_delay: int, exit_window: int) -> None:
        self._check_authorized(sender)
        self._set_exposure(exposure_delay, exit_window)

    def add_income(self, sender: str, amount: int) -> None:
        self._check_role(sender, Role.INCOME)
        new_assets = u256(self.assets + amount)
        require(
            self.engine.stable[self.address] >= u256(new_assets + self.pending_total),
            "pool: income not received",
        )
        self.assets = new_assets
        self.log("IncomeAdded", amount=amount)

    # ------------------------------------------------------------ stakers

    def stake(self, sender: str, amount: int) -> None:
        require(amount != 0, "pool: zero amount")
        self.pending[sender] = u256(self.pending[sender] + amount)
        self.pending_total = u256(self.pending_total + amount)
        self.pending_at[sender] = self.now
        self.engine.transfer_stable(self.address, sender, self.address, amount)
        self.log("StakePending", staker=sender, amount=amount)

    def cancel_pending(self, sender: str) -> None:
        amount = self.pending[sender]
        require(amount != 0, "pool: no pending")
        self.pending[sender] = 0
        self.pending_total -= amount
        self.engine.transfer_stable(self.address, self.address, sender, amount)
        self.log("PendingCancelled", staker=sender, amount=amount)

    def activate(self, sender: str) -> None:
        amount = self.pending[sender]
        require(amount != 0, "pool: no pending")
        require(
            u256(self.pending_at[sender] + self.exposure_delay) <= self.now,
            "pool: stake too recent",
        )
        require(self._backstop().losses_done_before(self.now), "pool: losses open")
        require(self._is_realized(sender), "pool: not realized")
        minted = self._mint(sender, amount)
        self.pending[sender] = 0
        self.pending_total -= amount
        self.log("Activated", staker=sender, amount=amount, shares=minted)

    def request_withdrawal(self, sender: str, share_amount: int) -> None:
        require(share_amount != 0, "pool: zero amount")
        require(self._is_realized(sender), "pool: not realized")
        self._forfeit_request(sender)
        staker_shares = self.shares[sender]
        require(share_amount <= staker_shares, "pool: insufficient shares")
        self._check_left(staker_shares - share_amount, self.total_shares, self.assets)
        value = mul_div(share_amount, self.assets, self.total_shares)
        self.withdrawal_shares[sender] = share_amount
        self.withdrawal_at[sender] = self.now
        self.withdrawal_value[sender] = value
        self.log("WithdrawalRequested", staker=sender, shares=share_amount, value=value)

    def cancel_withdrawal(self, sender: str) -> None:
        requested = self.withdrawal_shares[sender]
        require(requested != 0, "pool: no request")
        require(self._is_realized(sender), "pool: not realized")
        self._forfeit_request(sender)
        self.withdrawal_shares[sender] = 0
        self.withdrawal_at[sender] = 0
        self.withdrawal_value[sender] = 0
        self.log("WithdrawalCancelled", staker=sender, shares=requested)

    def _forfeit_request(self, staker: str) -> None:
        """A replaced or cancelled request forfeits what its shares earned since it was made,
        paid in the staker's shares (see the contract)."""
        requested = self.withdrawal_shares[staker]
        if requested == 0:
            return
        total, pool_assets = self.total_shares, self.assets
        value_now = mul_div(requested, pool_assets, total)
        cap = self.withdrawal_value[staker]
        if value_now <= cap:
            return
        forfeited = value_now - cap
        burned = mul_div_up(forfeited, total, pool_assets)
        staker_shares = self.shares[staker]
        left = staker_shares - burned
        least = self._min_shares(total, pool_assets)
        if left != 0 and left < least:
            left = min(staker_shares, least)
            burned = staker_shares - left
            forfeited = mul_div(burned, pool_assets, total)
        if burned == 0:
            return
        self.shares[staker] = left
        self.total_shares = total - burned
        self.assets = pool_assets - forfeited
        if left == 0:
            self.staker_count -= 1
        if forfeited != 0:
            self.engine.transfer_stable(self.address, self.address, self.backstop, forfeited)
            self.log("IncomeForfeited", staker=staker, amount=forfeited)

    def withdraw(self, sender: str) -> int:
        requested = self.withdrawal_shares[sender]
        require(requested != 0, "pool: no request")
        matured = u256(self.withdrawal_at[sender] + max(self.cooldown, self.exposure_delay))
        require(matured <= self.now, "pool: cooling down")
        require(self.now <= u256(matured + self.exit_window), "pool: request lapsed")
        require(self._backstop().losses_done_before(matured), "pool: exposed to open losses")
        require(self._is_realized(sender), "pool: not realized")
        total = self.total_shares
        value_now = mul_div(requested, self.assets, total)
        amount = min(value_now, self.withdrawal_value[sender])
        # earned after the request: the Backstop's surplus (see the contract)
        forfeited = value_now - amount
        remaining = self.shares[sender] - requested
        self.shares[sender] = remaining
        self.total_shares = total - requested
        self.assets -= value_now
        if remaining == 0:
            self.staker_count -= 1
        self.withdrawal_shares[sender] = 0
        self.withdrawal_at[sender] = 0
        self.withdrawal_value[sender] = 0
        self.engine.transfer_stable(self.address, self.address, sender, amount)
        if forfeited != 0:
            self.engine.transfer_stable(self.address, self.address, self.backstop, forfeited)
            self.log("IncomeForfeited", staker=sender, amount=forfeited)
        self.log("Withdrawn", staker=sender, shares=requested, amount=amount)
        return amount

    def realize(self, sender: str, staker: str, max_charges: int) -> int:
        staker_shares = self.shares[staker]
        if staker_shares == 0:
            return 0
        charge_id = self.next_charge[staker]
        last = self.charge_count
        if max_charges > MAX_CHARGES_PER_REALIZE:  # the bounded range reverts without a reason
            raise Revert(None)
        processed = 0
        # a request's cap falls by the requested shares' part of each charge (finding 31-8)
        requested = self.withdrawal_shares[staker]
        cap = self.withdrawal_value[staker] if requested != 0 else 0
        for _ in range(max_charges):
            if charge_id > last:
                break
            left = self.charge_stakers_left[charge_id] - 1
            if left == 0:
                charged = u256(self.charge_amount[charge_id] - self.charge_attributed[charge_id])
            else:
                total = self.charge_total_shares[charge_id]
                charged = mul_div(staker_shares, self.charge_amount[charge_id], total)
            self.charge_stakers_left[charge_id] = left
            self.charge_attributed[charge_id] = u256(self.charge_attributed[charge_id] + charged)
            if cap != 0:
                part = mul_div_up(
                    requested, self.charge_amount[charge_id], self.charge_total_shares[charge_id]
                )
                cap -= min(cap, part)
            self.log("StakerCharged", charge_id=charge_id, staker=staker, amount=charged)
            charge_id += 1
            processed += 1
        if processed != 0:
            self.next_charge[staker] = charge_id
            if requested != 0:
                self.withdrawal_value[staker] = cap
        return processed

    # ------------------------------------------------------------ the Backstop

    def absorb(
        self, sender: str, collateral_type: bytes, auction: str, auction_id: int, amount: int
    ) -> int:
        require(sender == self.backstop, "pool: not backstop")
        if self.total_shares == 0:
            return 0
        paid = min(amount, self.assets)
        if paid == 0:
            return 0
        # never hit: the Backstop's due is below 2**192 too
        require(paid < CHARGE_AMOUNT_LIMIT, "pool: value too large")
        self.assets -= paid
        charge_id = u256(self.charge_count + 1)
        self.charge_count = charge_id
        self.charge_amount[charge_id] = paid
        self.charge_total_shares[charge_id] = self.total_shares
        self.charge_stakers_left[charge_id] = self.staker_count
        self.engine.transfer_stable(self.address, self.address, self.backstop, paid)
        self.log(
            "Absorbed",
            charge_id=charge_id,
            collateral_type=collateral_type,
            auction=auction,
            auction_id=auction_id,
            amount=paid,
        )
        return paid

    # ------------------------------------------------------------ views

    def earning_assets(self) -> int:
        return 0 if self.total_shares == 0 else self.assets

    def value_of(self, staker: str) -> int:
        staker_shares = self.shares[staker]
        if staker_shares == 0:
            return 0
        return mul_div(staker_shares, self.assets, self.total_shares)

    def is_realized(self, staker: str) -> bool:
        return self._is_realized(staker)

    # ------------------------------------------------------------ internal

    def _backstop(self):
        return self.at(self.backstop)

    def _set_exposure(self, exposure_delay: int, exit_window: int) -> None:
        require(exposure_delay <= MAX_COOLDOWN, "pool: exposure delay too long")
        require(exit_window != 0, "pool: zero exit window")
        require(exit_window <= MAX_COOLDOWN, "pool: exit window too long")
        self.exposure_delay = exposure_delay
        self.exit_window = exit_window
        self.log("ExposureSet", exposure_delay=exposure_delay, exit_window=exit_window)

    @staticmethod
    def _min_shares(total: int, pool_assets: int) -> int:
        """The shares worth MIN_STAKE at the price pool_assets / total, rounded down."""
        if total == 0:
            return MIN_STAKE
        if pool_assets == 0:
            return MAX_UINT256
        return mul_div(MIN_STAKE, total, pool_assets)

    @classmethod
    def _check_left(cls, staker_shares: int, total: int, pool_assets: int) -> None:
        require(
            staker_shares == 0 or staker_shares >= cls._min_shares(total, pool_assets),
            "pool: below minimum shares",
        )

    def _is_realized(self, staker: str) -> bool:
        return self.shares[staker] == 0 or self.next_charge[staker] > self.charge_count

    def _mint(self, staker: str, amount: int) -> int:
        total = self.total_shares
        pool_assets = self.assets
        minted = amount
        if total != 0:
            require(pool_assets != 0, "pool: wiped out")
            minted = mul_div(amount, total, pool_assets)
            require(minted != 0, "pool: zero shares")
        old = self.shares[staker]
        self._check_left(u256(old + minted), total, pool_assets)
        self._check_left(u256(old + minted - self.withdrawal_shares[staker]), total, pool_assets)
        if old == 0:
            self.staker_count = u256(self.staker_count + 1)
            self.next_charge[staker] = u256(self.charge_count + 1)
        self.shares[staker] = u256(old + minted)
        self.total_shares = u256(total + minted)
        self.assets = u256(pool_assets + amount)
        return minted
