# pragma version ~=0.4.3
"""
@title StabilityPool
@notice First-loss staking pool of the loss waterfall (layer POOL). Stakers deposit internal
        stablecoin for shares; fees paid into the pool raise every share's value; the Backstop
        takes losses out of it (`absorb`), and each staker's part of every loss is published
        as a receipt (`StakerCharged`) when the staker realizes it.
@dev Analogue: Aave Umbrella / Safety Module, Liquity's stability pool. Spec:
     docs/loss-waterfall.md, "StabilityPool"; threat model: docs/security.md (findings 2-4).
     Assets are accounted inside the pool (`assets`, rad): stakes, fee income the
     FeeAccumulator reports (`add_income`), withdrawals and charges move it; stablecoin sent to
     the pool any other way belongs to nobody and prices nothing. Shares: the first stake mints
     shares = amount; later ones amount * total_shares // assets (rounded down, for the pool).
     A staker's value = shares * assets // total_shares (rounded down). Whenever a staker's shares
     change they are 0 or at least the shares worth MIN_STAKE (one stablecoin) at that moment's
     price (rounded down): a value, so the least entry does not grow with the share price
     (finding 31-7). The share price starts at 1 rad and rises only by income, which the
     FeeAccumulator caps at a yield on the assets (`pool_max_yield`), so the shares outstanding
     stay many and rounding a stake down costs it less than one share's value.
     Exposure (who pays a loss) follows the loss events the Backstop numbers in order:
     - entry: a stake waits as `pending` (earning nothing, exposed to nothing, cancellable at any
       time) for `exposure_delay` (at least the oracle delay), and only its staker turns it into
       shares, when every loss event opened so far is done; so a newcomer never pays for a loss
       opened before it joined, nor for one whose price was already queued when it staked;
     - exit: a request at time t ends the requested shares' exposure at
       t + max(cooldown, exposure_delay) (>= one oracle delay: a price queued when the staker
       asked cannot be escaped); the withdrawal waits until every loss event opened by then is
       done, and nothing else (no global freeze); requested shares keep paying losses but stop
       earning: their cap (`withdrawal_value`) is their value at the request less their part of
       every charge since (rounded up, lowered as the staker realizes each charge), the
       withdrawal pays min(cap, value now) and sends what the shares earned after the request
       (value now - paid, `IncomeForfeited`) to the Backstop's surplus, also income that
       refilled a charge (finding 31-8); a request replaced or cancelled forfeits that income
       too, in shares; a request lapses `exit_window` after it matured;
     - charges: a charge (`absorb`) is shared by the shares outstanding at that moment, each
       staker's part published when realized (`StakerCharged`). No share is minted while any
       loss event is open, so those shares are the shares at the loss's opening less those
       whose exposure ended before it.
     Keeps: pending_total = sum of pending; total_shares = sum of shares; staker_count = number
     of stakers with shares > 0; withdrawal_shares[s] <= shares[s]; engine.stable(self) >=
     assets + pending_total; a staker with shares is in exactly the charges
     next_charge[s]..charge_count still to realize, and shares[s] cannot change before they are
     realized; per charge, the sum of StakerCharged amounts = charge_amount once stakers_left
     is 0. Products of two rad quantities (amount x shares) exceed 256 bits, so every
     `x * y // z` of the spec is computed exactly in 512 bits (snekmate's mul_div, rounded down).
"""
from interfaces import IVaultEngine
from interfaces import IBackstop
from interfaces import IStabilityPool
from snekmate.utils import math
from modules import authorized as auth

# admins (governance) set parameters; the INCOME role (the FeeAccumulator) reports income
initializes: auth
exports: auth.__interface__

implements: IStabilityPool

# the longest withdrawal cooldown, exposure delay or exit window governance may set [seconds]
MAX_COOLDOWN: constant(uint256) = 365 * 86400
# the least value a staker's shares may have when they change, other than none [rad: 1
# stablecoin]; as shares: those worth it at the current price, rounded down (`_min_shares`)
MIN_STAKE: constant(uint256) = 10**45
# a charge's amount is packed in the low 192 bits of its record, its stakers left above
CHARGE_AMOUNT_BITS: constant(uint256) = 192
CHARGE_AMOUNT_LIMIT: constant(uint256) = 2**192
# `counts`: staker_count in the low 64 bits, charge_count above
STAKERS_BITS: constant(uint256) = 64
STAKERS_MASK: constant(uint256) = 2**STAKERS_BITS - 1

# the ledger
engine: public(immutable(IVaultEngine))
# the Backstop: the only caller of `absorb`, and the record of loss events
backstop: public(immutable(IBackstop))

# seconds between a withdrawal request and the withdrawal
cooldown: public(uint256)
# seconds a stake waits before it can become shares, and the least time a request stays
# exposed: at least the longest oracle delay [seconds]
exposure_delay: public(uint256)
# seconds after a request matures during which it can be carried out [seconds]
exit_window: public(uint256)
# stablecoin backing the shares (stakes + income - withdrawals - charges) [rad]
assets: public(uint256)
# all shares outstanding [shares; the first stake mints 1 share per rad]
total_shares: public(uint256)
# staker -> shares
shares: public(HashMap[address, uint256])
# staker -> stablecoin staked while losses were open (or before realizing), not yet shares [rad]
pending: public(HashMap[address, uint256])
# staker -> time of the staker's last stake (the pending stake's clock) [unix seconds]
pending_at: public(HashMap[address, uint256])
# sum of `pending` [rad]
pending_total: public(uint256)
# staker -> shares requested for withdrawal (0: no request) [shares]
withdrawal_shares: public(HashMap[address, uint256])
# staker -> time of the withdrawal request [unix seconds]
withdrawal_at: public(HashMap[address, uint256])
# staker -> the most the withdrawal pays [rad]: the requested shares' value at the request, less
# their part of every charge realized since (rounded up): requested shares never earn
withdrawal_value: public(HashMap[address, uint256])
# charge_count << STAKERS_BITS | staker_count (views charge_count and staker_count): the number
# of charges (losses absorbed; charge ids are 1..charge_count) and the number of stakers with
# shares > 0, in one word: a charge reads both, and the first charge updates the word the first
# stake created instead of creating one (17.1k gas less)
counts: uint256
# staker -> first charge id the staker has not realized
next_charge: public(HashMap[address, uint256])
# charge id -> stakers of the charge who have not realized it yet << 192 | stablecoin taken by
# the charge [rad] (below 2**192: a loss event's debt is); views charge_amount and
# charge_stakers_left. One word: a charge creates one slot less, and realize reads one less.
charge_record: HashMap[uint256, uint256]
# charge id -> total_shares when the charge was made [shares]
charge_total_shares: public(HashMap[uint256, uint256])
# charge id -> sum of the StakerCharged amounts logged for the charge so far [rad]
charge_attributed: public(HashMap[uint256, uint256])


event CooldownSet:
    cooldown: uint256


event ExposureSet:
    exposure_delay: uint256
    exit_window: uint256


event IncomeAdded:
    amount: uint256


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
    value: uint256


event WithdrawalCancelled:
    staker: indexed(address)
    shares: uint256


event IncomeForfeited:
    staker: indexed(address)
    amount: uint256


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
def __init__(
    engine_: IVaultEngine,
    backstop_: IBackstop,
    cooldown_: uint256,
    exposure_delay_: uint256,
    exit_window_: uint256,
):
    """
    @param engine_ The VaultEngine.
    @param backstop_ The Backstop (calls `absorb`; numbers the loss events).
    @param cooldown_ Seconds between a withdrawal request and the withdrawal, at most a year.
    @param exposure_delay_ Seconds a stake waits and a request stays exposed at least: the
           longest oracle delay or more, at most a year.
    @param exit_window_ Seconds a matured request can be carried out, 1 to a year.
    """
    assert cooldown_ <= MAX_COOLDOWN, "pool: cooldown too long"
    engine = engine_
    backstop = backstop_
    auth.__init__(auth.INCOME)
    self.cooldown = cooldown_
    log CooldownSet(cooldown=cooldown_)
    self._set_exposure(exposure_delay_, exit_window_)


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


@external
def set_exposure(exposure_delay_: uint256, exit_window_: uint256):
    """
    @notice Set the exposure delay and the exit window. Apply to pending stakes and requests.
    @param exposure_delay_ Seconds, at least the longest oracle delay (governance's duty: the
           pool cannot see the oracles), at most a year.
    @param exit_window_ Seconds, 1 to a year.
    """
    auth._check_authorized()
    self._set_exposure(exposure_delay_, exit_window_)


@external
def add_income(amount: uint256):
    """
    @notice Count `amount` of stablecoin already sent to the pool as income of the shares (the
            FeeAccumulator, after sending the pool its fee share).
    @param amount [rad]; the pool must hold it beyond its assets and pending stakes.
    """
    auth._check_role(auth.INCOME)
    new_assets: uint256 = self.assets + amount
    assert (
        staticcall engine.stable(self) >= new_assets + self.pending_total
    ), "pool: income not received"
    self.assets = new_assets
    log IncomeAdded(amount=amount)


# ---------------------------------------------------------------- stakers


@external
def stake(amount: uint256):
    """
    @notice Deposit `amount` of internal stablecoin (the caller must have `engine.allow`ed the
            pool) as a pending stake: it earns nothing and pays nothing until the staker
            activates it, `exposure_delay` after its last stake. Restarts that clock.
    @param amount Stablecoin [rad].
    """
    assert amount != 0, "pool: zero amount"
    self.pending[msg.sender] += amount
    self.pending_total += amount
    self.pending_at[msg.sender] = block.timestamp
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
def activate():
    """
    @notice Turn the caller's pending stake into shares at the current price, once
            `exposure_delay` has passed since its last stake, every loss event opened so far is
            done, and the caller has realized every charge. The staker must end with shares
            worth at least MIN_STAKE at the activation price (rounded down).
    """
    amount: uint256 = self.pending[msg.sender]
    assert amount != 0, "pool: no pending"
    assert (
        self.pending_at[msg.sender] + self.exposure_delay <= block.timestamp
    ), "pool: stake too recent"
    assert staticcall backstop.losses_done_before(block.timestamp), "pool: losses open"
    assert self._is_realized(msg.sender), "pool: not realized"
    minted: uint256 = self._mint(msg.sender, amount)
    self.pending[msg.sender] = 0
    # pending_total is the sum of `pending`, so it holds at least `amount`
    self.pending_total = unsafe_sub(self.pending_total, amount)
    log Activated(staker=msg.sender, amount=amount, shares=minted)


@external
def request_withdrawal(share_amount: uint256):
    """
    @notice Ask to withdraw `share_amount` shares. Replaces any previous request (and restarts
            its clock), whose shares first forfeit what they earned since it was made (see
            `_forfeit_request`). The shares stay exposed until max(cooldown, exposure_delay)
            after this request and until every loss event opened by then is done; from now on
            they pay losses but earn nothing (the withdrawal pays at most their value now).
    @param share_amount Shares, at most the caller's, leaving 0 or shares worth at least
           MIN_STAKE now (rounded down).
    """
    assert share_amount != 0, "pool: zero amount"
    assert self._is_realized(msg.sender), "pool: not realized"
    # a request replaced: what its shares earned since it was made is forfeited first
    self._forfeit_request(msg.sender)
    staker_shares: uint256 = self.shares[msg.sender]
    assert share_amount <= staker_shares, "pool: insufficient shares"
    total: uint256 = self.total_shares
    pool_assets: uint256 = self.assets
    self._check_left(staker_shares - share_amount, total, pool_assets)
    value: uint256 = math._mul_div(share_amount, pool_assets, total, False)
    self.withdrawal_shares[msg.sender] = share_amount
    self.withdrawal_at[msg.sender] = block.timestamp
    self.withdrawal_value[msg.sender] = value
    log WithdrawalRequested(staker=msg.sender, shares=share_amount, value=value)


@external
def cancel_withdrawal():
    """
    @notice Drop the caller's withdrawal request. Its shares first forfeit what they earned
            since it was made (see `_forfeit_request`): a request cancelled (or replaced) does
            not earn back the income it stopped earning. The caller must have realized every
            charge (each lowers the request's cap).
    """
    requested: uint256 = self.withdrawal_shares[msg.sender]
    assert requested != 0, "pool: no request"
    assert self._is_realized(msg.sender), "pool: not realized"
    self._forfeit_request(msg.sender)
    self.withdrawal_shares[msg.sender] = 0
    self.withdrawal_at[msg.sender] = 0
    self.withdrawal_value[msg.sender] = 0
    log WithdrawalCancelled(staker=msg.sender, shares=requested)


@external
def withdraw() -> uint256:
    """
    @notice Burn the caller's requested shares for min(their cap, their value now)
            (`shares * assets // total_shares`, rounded down, for the pool; the cap: their value
            at the request less their part of every charge since, `withdrawal_value`), once the
            request matured (max(cooldown, exposure_delay) after it), within `exit_window`
            after that, every loss event opened up to its maturity is done and the caller has
            realized every charge. The rest of their value now (what they earned after the
            request) goes to the Backstop's surplus (`IncomeForfeited`).
    @return Stablecoin paid to the caller [rad].
    """
    requested: uint256 = self.withdrawal_shares[msg.sender]
    assert requested != 0, "pool: no request"
    matured: uint256 = self.withdrawal_at[msg.sender] + max(self.cooldown, self.exposure_delay)
    assert matured <= block.timestamp, "pool: cooling down"
    assert block.timestamp <= matured + self.exit_window, "pool: request lapsed"
    assert staticcall backstop.losses_done_before(matured), "pool: exposed to open losses"
    assert self._is_realized(msg.sender), "pool: not realized"
    total: uint256 = self.total_shares
    pool_assets: uint256 = self.assets
    value_now: uint256 = math._mul_div(requested, pool_assets, total, False)
    amount: uint256 = min(value_now, self.withdrawal_value[msg.sender])
    # what the requested shares earned after the request is neither the staker's (they stopped
    # earning) nor the remaining stakers' (a newcomer activated during the cooldown would buy
    # into income earned before it joined; with no shares left it would be anyone's who stakes
    # first): it goes to the Backstop's surplus, as fees do while the pool has no shares
    forfeited: uint256 = unsafe_sub(value_now, amount)
    # requested <= shares[msg.sender] <= total_shares: set by request_withdrawal, and shares
    # only decrease here, where the request is cleared
    remaining: uint256 = unsafe_sub(self.shares[msg.sender], requested)
    self.shares[msg.sender] = remaining
    self.total_shares = unsafe_sub(total, requested)
    # value_now = requested * assets // total <= assets
    self.assets = unsafe_sub(pool_assets, value_now)
    if remaining == 0:
        # the staker had shares, so was counted (staker_count >= 1: no borrow from charge_count)
        self.counts = unsafe_sub(self.counts, 1)
    self.withdrawal_shares[msg.sender] = 0
    self.withdrawal_at[msg.sender] = 0
    self.withdrawal_value[msg.sender] = 0
    extcall engine.transfer_stable(self, msg.sender, amount)
    if forfeited != 0:
        extcall engine.transfer_stable(self, backstop.address, forfeited)
        log IncomeForfeited(staker=msg.sender, amount=forfeited)
    log Withdrawn(staker=msg.sender, shares=requested, amount=amount)
    return amount


@external
def realize(staker: address, max_charges: uint256) -> uint256:
    """
    @notice Attribute to `staker`, in order, up to `max_charges` of the charges made while they
            held shares: `shares * charge_amount // charge_total_shares` each (rounded down),
            the last staker of a charge paying the rounding remainder. Logs a StakerCharged
            receipt per charge (also when it is 0). A staker with a withdrawal request has its
            cap (`withdrawal_value`) lowered by the requested shares' part of each charge,
            `requested * charge_amount / charge_total_shares` rounded up (at least 0), so that
            income after a charge does not refill it. Anyone may call.
    @param staker The staker.
    @param max_charges At most 256.
    @return How many charges were realized.
    """
    staker_shares: uint256 = self.shares[staker]
    if staker_shares == 0:
        return 0
    charge_id: uint256 = self.next_charge[staker]
    last: uint256 = self.counts >> STAKERS_BITS
    processed: uint256 = 0
    # a request's cap, lowered by the requested shares' part of each charge (every charge
    # realized here was made after the request: a request needs the staker realized)
    requested: uint256 = self.withdrawal_shares[staker]
    cap: uint256 = 0
    if requested != 0:
        cap = self.withdrawal_value[staker]
    for i: uint256 in range(max_charges, bound=256):
        if charge_id > last:
            break
        record: uint256 = self.charge_record[charge_id]
        amount: uint256 = record & (CHARGE_AMOUNT_LIMIT - 1)
        # the staker was counted in the charge and has not realized it: stakers_left >= 1
        left: uint256 = unsafe_sub(record >> CHARGE_AMOUNT_BITS, 1)
        charged: uint256 = 0
        if left == 0:
            # the last staker of the charge pays what the others have not: attributed <= amount,
            # as the others' shares sum to at most the charge's total_shares
            charged = amount - self.charge_attributed[charge_id]
        else:
            # shares <= the charge's total_shares: charged <= charge amount
            charged = math._mul_div(
                staker_shares, amount, self.charge_total_shares[charge_id], False
            )
        self.charge_record[charge_id] = left << CHARGE_AMOUNT_BITS | amount
        self.charge_attributed[charge_id] += charged
        if cap != 0:
            # rounded up, for the pool; requested <= staker_shares <= the charge's total_shares
            part: uint256 = math._mul_div(
                requested, amount, self.charge_total_shares[charge_id], True
            )
            cap = unsafe_sub(cap, min(cap, part))
        log StakerCharged(charge_id=charge_id, staker=staker, amount=charged)
        charge_id += 1
        processed += 1
    if processed != 0:
        self.next_charge[staker] = charge_id
        if requested != 0:
            self.withdrawal_value[staker] = cap
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
    pool_assets: uint256 = self.assets
    paid: uint256 = min(amount, pool_assets)
    if paid == 0:
        return 0
    # the Backstop's due is below 2**192 (a loss event's debt is): never hit
    assert paid < CHARGE_AMOUNT_LIMIT, "pool: value too large"
    self.assets = unsafe_sub(pool_assets, paid)
    counts: uint256 = self.counts
    charge_id: uint256 = (counts >> STAKERS_BITS) + 1
    self.counts = counts + (1 << STAKERS_BITS)
    # the shift keeps only staker_count, the low 64 bits of counts (it counts accounts, far
    # below 2**64)
    self.charge_record[charge_id] = counts << CHARGE_AMOUNT_BITS | paid
    self.charge_total_shares[charge_id] = self.total_shares
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
def staker_count() -> uint256:
    """
    @notice The number of stakers with shares.
    @return A count.
    """
    return self.counts & STAKERS_MASK


@view
@external
def charge_count() -> uint256:
    """
    @notice The number of charges (losses absorbed); charge ids are 1..charge_count.
    @return A count.
    """
    return self.counts >> STAKERS_BITS


@view
@external
def charge_amount(charge_id: uint256) -> uint256:
    """
    @notice The stablecoin a charge took from the pool.
    @param charge_id 1..charge_count.
    @return [rad]; 0 for no such charge.
    """
    return self.charge_record[charge_id] & (CHARGE_AMOUNT_LIMIT - 1)


@view
@external
def charge_stakers_left(charge_id: uint256) -> uint256:
    """
    @notice The stakers of a charge who have not realized it yet.
    @param charge_id 1..charge_count.
    @return A count.
    """
    return self.charge_record[charge_id] >> CHARGE_AMOUNT_BITS


@view
@external
def earning_assets() -> uint256:
    """
    @notice The assets that earn the pool's fee share (the FeeAccumulator caps each accrual's
            income at a yield on them): `assets`, or 0 while the pool has no shares.
    @return [rad].
    """
    if self.total_shares == 0:
        return 0
    return self.assets


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
    return math._mul_div(staker_shares, self.assets, self.total_shares, False)


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
def _is_realized(staker: address) -> bool:
    return self.shares[staker] == 0 or self.next_charge[staker] > self.counts >> STAKERS_BITS


@internal
def _set_exposure(exposure_delay_: uint256, exit_window_: uint256):
    assert exposure_delay_ <= MAX_COOLDOWN, "pool: exposure delay too long"
    assert exit_window_ != 0, "pool: zero exit window"
    assert exit_window_ <= MAX_COOLDOWN, "pool: exit window too long"
    self.exposure_delay = exposure_delay_
    self.exit_window = exit_window_
    log ExposureSet(exposure_delay=exposure_delay_, exit_window=exit_window_)


@internal
def _forfeit_request(staker: address):
    """
    @dev A request's shares earn nothing from the request on: when it is replaced or cancelled,
         what they earned since (their value now above the request's value) leaves the pool for
         the Backstop's surplus, paid by burning the staker's shares worth it (rounded up, for
         the pool), as `withdraw` does. The callers check that the staker is realized (its
         shares change, and each charge lowers the request's cap). A staker would be left with
         fewer shares than those worth MIN_STAKE now (`_min_shares`), but some: then only the
         shares above that minimum are burned (none if it holds no more) and their value
         (rounded down) forfeited, so such a staker keeps less than the income on MIN_STAKE.
    """
    requested: uint256 = self.withdrawal_shares[staker]
    if requested == 0:
        return
    total: uint256 = self.total_shares
    pool_assets: uint256 = self.assets
    value_now: uint256 = math._mul_div(requested, pool_assets, total, False)
    cap: uint256 = self.withdrawal_value[staker]
    if value_now <= cap:
        return
    # value_now > cap >= 0, so pool_assets > 0
    forfeited: uint256 = unsafe_sub(value_now, cap)
    # forfeited < value_now <= requested * assets / total: burned <= requested <= shares
    burned: uint256 = math._mul_div(forfeited, total, pool_assets, True)
    staker_shares: uint256 = self.shares[staker]
    left: uint256 = unsafe_sub(staker_shares, burned)
    least: uint256 = self._min_shares(total, pool_assets)
    if left != 0 and left < least:
        # shares that change keep at least those worth MIN_STAKE now (all, if no more)
        left = min(staker_shares, least)
        burned = unsafe_sub(staker_shares, left)
        forfeited = math._mul_div(burned, pool_assets, total, False)
    if burned == 0:
        return
    self.shares[staker] = left
    self.total_shares = unsafe_sub(total, burned)
    # forfeited <= burned * assets / total <= assets
    self.assets = unsafe_sub(pool_assets, forfeited)
    if left == 0:
        # the staker had shares, so was counted
        self.counts = unsafe_sub(self.counts, 1)
    if forfeited != 0:
        extcall engine.transfer_stable(self, backstop.address, forfeited)
        log IncomeForfeited(staker=staker, amount=forfeited)


@pure
@internal
def _min_shares(total: uint256, pool_assets: uint256) -> uint256:
    # the shares worth MIN_STAKE at the price pool_assets / total, rounded down (one per rad in
    # an empty pool; none are worth it in a wiped-out one)
    if total == 0:
        return MIN_STAKE
    if pool_assets == 0:
        return max_value(uint256)
    return math._mul_div(MIN_STAKE, total, pool_assets, False)


@pure
@internal
def _check_left(staker_shares: uint256, total: uint256, pool_assets: uint256):
    # 0, or at least the shares worth MIN_STAKE now; at a price of at least 1 (assets >= total)
    # those are at most MIN_STAKE shares, so MIN_STAKE shares suffice without the division
    if staker_shares == 0 or (staker_shares >= MIN_STAKE and pool_assets >= total):
        return
    assert staker_shares >= self._min_shares(total, pool_assets), "pool: below minimum shares"


@internal
def _mint(staker: address, amount: uint256) -> uint256:
    """
    @dev Mint shares for `amount` [rad] at the price `assets / total_shares` (rounded down, for
         the pool); the first shares are 1 per rad. A staker's first shares put them in the next
         charge on. The staker must end with shares worth at least MIN_STAKE at that price
         (rounded down), and so must what a pending withdrawal request leaves.
    """
    total: uint256 = self.total_shares
    pool_assets: uint256 = self.assets
    minted: uint256 = amount
    if total != 0:
        assert pool_assets != 0, "pool: wiped out"
        minted = math._mul_div(amount, total, pool_assets, False)
        assert minted != 0, "pool: zero shares"
    old: uint256 = self.shares[staker]
    self._check_left(old + minted, total, pool_assets)
    # and what a pending withdrawal request leaves (the request checked it against the shares
    # then; a full request and a small stake after it would leave less than MIN_STAKE)
    self._check_left(old + minted - self.withdrawal_shares[staker], total, pool_assets)
    if old == 0:
        # staker_count counts accounts, far below 2**64
        counts: uint256 = self.counts + 1
        self.counts = counts
        self.next_charge[staker] = (counts >> STAKERS_BITS) + 1
    self.shares[staker] = old + minted
    self.total_shares = total + minted
    self.assets = pool_assets + amount
    return minted
