# pragma version ~=0.4.3
"""
@title StabilityPool
@notice First-loss staking pool of the loss waterfall (layer POOL). Stakers deposit internal
        stablecoin for shares; fees paid into the pool raise every share's value; the Backstop
        takes losses out of it (`absorb`), and each staker's part of every loss is published
        as a receipt (`StakerCharged`) when the staker realizes it.
@dev Analogue: Aave Umbrella / Safety Module, Liquity's stability pool. Spec:
     docs/loss-waterfall.md, "StabilityPool".
     Assets = engine.stable(self) - pending_total [rad]. Shares: the first stake mints
     shares = amount; later ones amount * total_shares // assets (rounded down, for the pool).
     A staker's value = shares * assets // total_shares (rounded down).
     Exposure is fixed when bad debt is created: while `backstop.open_losses() > 0` no share is
     minted or burned (stakes wait as `pending`, withdrawals wait), so the shares of every
     charge are the shares at the moment its loss was opened.
     Keeps: pending_total = sum of pending; total_shares = sum of shares; staker_count = number
     of stakers with shares > 0; withdrawal_shares[s] <= shares[s]; a staker with shares is in
     exactly the charges next_charge[s]..charge_count still to realize, and shares[s] cannot
     change before they are realized (stake, activate, request_withdrawal and withdraw require
     it); per charge, the sum of StakerCharged amounts = charge_amount once stakers_left is 0.
     Products of two rad quantities (amount x shares) exceed 256 bits, so every
     `x * y // z` of the spec is computed exactly in 512 bits (snekmate's mul_div, rounded down).
"""
from interfaces import IVaultEngine
from interfaces import IBackstop
from interfaces import IStabilityPool
from snekmate.utils import math
from modules import authorized as auth

# who may set parameters (governance)
initializes: auth
exports: (auth.authorized, auth.add_authority, auth.remove_authority)

implements: IStabilityPool

# the longest withdrawal cooldown governance may set [seconds]
MAX_COOLDOWN: constant(uint256) = 365 * 86400

# the ledger
engine: public(immutable(IVaultEngine))
# the Backstop: the only caller of `absorb`, and the source of `open_losses`
backstop: public(immutable(IBackstop))

# seconds between a withdrawal request and the withdrawal
cooldown: public(uint256)
# all shares outstanding [shares; the first stake mints 1 share per rad]
total_shares: public(uint256)
# staker -> shares
shares: public(HashMap[address, uint256])
# staker -> stablecoin staked while losses were open (or before realizing), not yet shares [rad]
pending: public(HashMap[address, uint256])
# sum of `pending` [rad]
pending_total: public(uint256)
# staker -> shares requested for withdrawal (0: no request) [shares]
withdrawal_shares: public(HashMap[address, uint256])
# staker -> time of the withdrawal request [unix seconds]
withdrawal_at: public(HashMap[address, uint256])
# number of stakers with shares > 0
staker_count: public(uint256)
# number of charges (losses absorbed); charge ids are 1..charge_count
charge_count: public(uint256)
# staker -> first charge id the staker has not realized
next_charge: public(HashMap[address, uint256])
# charge id -> stablecoin taken by the charge [rad]
charge_amount: public(HashMap[uint256, uint256])
# charge id -> total_shares when the charge was made [shares]
charge_total_shares: public(HashMap[uint256, uint256])
# charge id -> stakers of the charge who have not realized it yet
charge_stakers_left: public(HashMap[uint256, uint256])
# charge id -> sum of the StakerCharged amounts logged for the charge so far [rad]
charge_attributed: public(HashMap[uint256, uint256])


event CooldownSet:
    cooldown: uint256


event Staked:
    staker: indexed(address)
    amount: uint256
    shares: uint256


event StakePending:
    staker: indexed(address)
    amount: uint256


event PendingCancelled:
    staker: indexed(address)
    amount: uint256


event Activated:
    staker: indexed(address)
    amount: uint256
    shares: uint256


event WithdrawalRequested:
    staker: indexed(address)
    shares: uint256


event WithdrawalCancelled:
    staker: indexed(address)
    shares: uint256


event Withdrawn:
    staker: indexed(address)
    shares: uint256
    amount: uint256


event Absorbed:
    charge_id: indexed(uint256)
    collateral_type: indexed(bytes32)
    auction: address
    auction_id: uint256
    amount: uint256


event StakerCharged:
    charge_id: indexed(uint256)
    staker: indexed(address)
    amount: uint256


@deploy
def __init__(engine_: IVaultEngine, backstop_: IBackstop, cooldown_: uint256):
    """
    @param engine_ The VaultEngine.
    @param backstop_ The Backstop (calls `absorb`; its `open_losses` freezes the shares).
    @param cooldown_ Seconds between a withdrawal request and the withdrawal, at most a year.
    """
    assert cooldown_ <= MAX_COOLDOWN, "pool: cooldown too long"
    engine = engine_
    backstop = backstop_
    auth.__init__()
    self.cooldown = cooldown_
    log CooldownSet(cooldown=cooldown_)


# ---------------------------------------------------------------- governance


@external
def set_cooldown(new_cooldown: uint256):
    """
    @notice Set the withdrawal cooldown. Applies to pending requests too.
    @param new_cooldown Seconds, at most a year.
    """
    auth._check_authorized()
    assert new_cooldown <= MAX_COOLDOWN, "pool: cooldown too long"
    self.cooldown = new_cooldown
    log CooldownSet(cooldown=new_cooldown)


# ---------------------------------------------------------------- stakers


@external
def stake(amount: uint256):
    """
    @notice Deposit `amount` of internal stablecoin (the caller must have `engine.allow`ed the
            pool). With no open loss and the caller realized, it becomes shares at once at the
            current price; otherwise it waits as pending (see `activate`).
    @param amount Stablecoin [rad].
    """
    assert amount != 0, "pool: zero amount"
    if self._is_realized(msg.sender) and staticcall backstop.open_losses() == 0:
        minted: uint256 = self._mint(msg.sender, amount, self._assets())
        extcall engine.transfer_stable(msg.sender, self, amount)
        log Staked(staker=msg.sender, amount=amount, shares=minted)
    else:
        self.pending[msg.sender] += amount
        self.pending_total += amount
        extcall engine.transfer_stable(msg.sender, self, amount)
        log StakePending(staker=msg.sender, amount=amount)


@external
def cancel_pending():
    """
    @notice Take back all of the caller's pending stake. Allowed at any time.
    """
    amount: uint256 = self.pending[msg.sender]
    assert amount != 0, "pool: no pending"
    self.pending[msg.sender] = 0
    # pending_total is the sum of `pending`, so it holds at least `amount`
    self.pending_total = unsafe_sub(self.pending_total, amount)
    extcall engine.transfer_stable(self, msg.sender, amount)
    log PendingCancelled(staker=msg.sender, amount=amount)


@external
def activate(staker: address):
    """
    @notice Turn `staker`'s pending stake into shares at the current price. Anyone may call,
            once no loss is open and `staker` has realized every charge.
    @param staker The staker.
    """
    amount: uint256 = self.pending[staker]
    assert amount != 0, "pool: no pending"
    assert staticcall backstop.open_losses() == 0, "pool: losses open"
    assert self._is_realized(staker), "pool: not realized"
    # priced before the pending stake leaves pending_total: it is not yet part of the assets
    minted: uint256 = self._mint(staker, amount, self._assets())
    self.pending[staker] = 0
    # pending_total is the sum of `pending`, so it holds at least `amount`
    self.pending_total = unsafe_sub(self.pending_total, amount)
    log Activated(staker=staker, amount=amount, shares=minted)


@external
def request_withdrawal(share_amount: uint256):
    """
    @notice Ask to withdraw `share_amount` shares after the cooldown. Replaces any previous
            request (and restarts the cooldown). The shares stay exposed and keep earning
            until the withdrawal.
    @param share_amount Shares, at most the caller's.
    """
    assert share_amount != 0, "pool: zero amount"
    assert share_amount <= self.shares[msg.sender], "pool: insufficient shares"
    assert self._is_realized(msg.sender), "pool: not realized"
    self.withdrawal_shares[msg.sender] = share_amount
    self.withdrawal_at[msg.sender] = block.timestamp
    log WithdrawalRequested(staker=msg.sender, shares=share_amount)


@external
def cancel_withdrawal():
    """
    @notice Drop the caller's withdrawal request.
    """
    requested: uint256 = self.withdrawal_shares[msg.sender]
    assert requested != 0, "pool: no request"
    self.withdrawal_shares[msg.sender] = 0
    self.withdrawal_at[msg.sender] = 0
    log WithdrawalCancelled(staker=msg.sender, shares=requested)


@external
def withdraw() -> uint256:
    """
    @notice Burn the caller's requested shares for their value, `shares * assets //
            total_shares` (rounded down, for the pool), once the cooldown has passed, no loss
            is open and the caller has realized every charge.
    @return Stablecoin paid to the caller [rad].
    """
    requested: uint256 = self.withdrawal_shares[msg.sender]
    assert requested != 0, "pool: no request"
    assert self.withdrawal_at[msg.sender] + self.cooldown <= block.timestamp, "pool: cooling down"
    assert staticcall backstop.open_losses() == 0, "pool: losses open"
    assert self._is_realized(msg.sender), "pool: not realized"
    total: uint256 = self.total_shares
    amount: uint256 = math._mul_div(requested, self._assets(), total, False)
    # requested <= shares[msg.sender] <= total_shares: set by request_withdrawal, and shares
    # only decrease here, where the request is cleared
    remaining: uint256 = unsafe_sub(self.shares[msg.sender], requested)
    self.shares[msg.sender] = remaining
    self.total_shares = unsafe_sub(total, requested)
    if remaining == 0:
        # the staker had shares, so was counted
        self.staker_count = unsafe_sub(self.staker_count, 1)
    self.withdrawal_shares[msg.sender] = 0
    self.withdrawal_at[msg.sender] = 0
    extcall engine.transfer_stable(self, msg.sender, amount)
    log Withdrawn(staker=msg.sender, shares=requested, amount=amount)
    return amount


@external
def realize(staker: address, max_charges: uint256) -> uint256:
    """
    @notice Attribute to `staker`, in order, up to `max_charges` of the charges made while they
            held shares: `shares * charge_amount // charge_total_shares` each (rounded down),
            the last staker of a charge paying the rounding remainder. Logs a StakerCharged
            receipt per charge (also when it is 0). Anyone may call.
    @param staker The staker.
    @param max_charges At most 256.
    @return How many charges were realized.
    """
    staker_shares: uint256 = self.shares[staker]
    if staker_shares == 0:
        return 0
    charge_id: uint256 = self.next_charge[staker]
    last: uint256 = self.charge_count
    processed: uint256 = 0
    for i: uint256 in range(max_charges, bound=256):
        if charge_id > last:
            break
        # the staker was counted in the charge and has not realized it: stakers_left >= 1
        left: uint256 = unsafe_sub(self.charge_stakers_left[charge_id], 1)
        charged: uint256 = 0
        if left == 0:
            # the last staker of the charge pays what the others have not: attributed <= amount,
            # as the others' shares sum to at most the charge's total_shares
            charged = self.charge_amount[charge_id] - self.charge_attributed[charge_id]
        else:
            # shares <= the charge's total_shares: charged <= charge amount
            charged = math._mul_div(
                staker_shares,
                self.charge_amount[charge_id],
                self.charge_total_shares[charge_id],
                False,
            )
        self.charge_stakers_left[charge_id] = left
        self.charge_attributed[charge_id] += charged
        log StakerCharged(charge_id=charge_id, staker=staker, amount=charged)
        charge_id += 1
        processed += 1
    if processed != 0:
        self.next_charge[staker] = charge_id
    return processed


# ---------------------------------------------------------------- the Backstop


@external
def absorb(
    collateral_type: bytes32, auction: address, auction_id: uint256, amount: uint256
) -> uint256:
    """
    @notice Pay up to `amount` of a loss event's remaining loss to the Backstop (the POOL layer).
            Records a charge with the current total_shares and staker_count, which stakers
            realize later. Nothing is recorded if nothing is paid; a pool without shares pays
            nothing (stablecoin nobody owns, rounding dust, is not anyone's exposure).
    @param collateral_type The loss event's collateral type.
    @param auction The loss event's auction contract.
    @param auction_id The loss event's auction id.
    @param amount The loss still to cover [rad].
    @return Paid: min(amount, assets) [rad].
    """
    assert msg.sender == backstop.address, "pool: not backstop"
    if self.total_shares == 0:
        return 0
    paid: uint256 = min(amount, self._assets())
    if paid == 0:
        return 0
    charge_id: uint256 = self.charge_count + 1
    self.charge_count = charge_id
    self.charge_amount[charge_id] = paid
    self.charge_total_shares[charge_id] = self.total_shares
    self.charge_stakers_left[charge_id] = self.staker_count
    extcall engine.transfer_stable(self, backstop.address, paid)
    log Absorbed(
        charge_id=charge_id,
        collateral_type=collateral_type,
        auction=auction,
        auction_id=auction_id,
        amount=paid,
    )
    return paid


# ---------------------------------------------------------------- views


@view
@external
def assets() -> uint256:
    """
    @notice The stablecoin backing the shares: the pool's balance less pending stakes.
    @return [rad].
    """
    return self._assets()


@view
@external
def value_of(staker: address) -> uint256:
    """
    @notice What `staker`'s shares are worth now: shares * assets // total_shares (rounded down).
    @param staker The staker.
    @return [rad]; 0 without shares.
    """
    staker_shares: uint256 = self.shares[staker]
    if staker_shares == 0:
        return 0
    return math._mul_div(staker_shares, self._assets(), self.total_shares, False)


@view
@external
def is_realized(staker: address) -> bool:
    """
    @notice Whether `staker` has realized every charge made while they held shares.
    @param staker The staker.
    @return True if so (always for a staker without shares).
    """
    return self._is_realized(staker)


# ---------------------------------------------------------------- internal


@view
@internal
def _assets() -> uint256:
    return staticcall engine.stable(self) - self.pending_total


@view
@internal
def _is_realized(staker: address) -> bool:
    return self.shares[staker] == 0 or self.next_charge[staker] > self.charge_count


@internal
def _mint(staker: address, amount: uint256, pool_assets: uint256) -> uint256:
    """
    @dev Mint shares for `amount` [rad] at the price `pool_assets / total_shares` (rounded
         down, for the pool); the first shares are 1 per rad. A staker's first shares put them
         in the next charge on.
    """
    total: uint256 = self.total_shares
    minted: uint256 = amount
    if total != 0:
        assert pool_assets != 0, "pool: wiped out"
        minted = math._mul_div(amount, total, pool_assets, False)
        assert minted != 0, "pool: zero shares"
    old: uint256 = self.shares[staker]
    if old == 0:
        self.staker_count += 1
        self.next_charge[staker] = self.charge_count + 1
    self.shares[staker] = old + minted
    self.total_shares = total + minted
    return minted
