# pragma version ~=0.4.3
"""
@title FeeAccumulator
@notice Charges each collateral type's stability fee by compounding its rate per second.
        The fee rises as a type's debt approaches its ceiling: above a utilization `kink`,
        the fee's excess over 1 ray (no fee) is multiplied by up to `max_multiplier` (linear between
        the kink and a full ceiling). A period between two accruals is priced by the
        utilization *during* it (time-weighted), not by the utilization at the moment of
        accrual (finding 5 of docs/security.md).
@dev DSS analogue: Jug (duty = base_fee, rho = last_accrual), with a curve-stablecoin-style
     utilization multiplier. Rounding: utilization, the multiplied fee and the compounded rate
     all round up (more fees to the protocol). Fees are credited to `fee_recipient` (the
     backstop's insurance fund) through engine.fold_rate; when a stability pool with stakers is
     set, its share `pool_fee_share` of each accrual (rounded down) goes to the pool instead, at
     most a yield on the pool's assets: assets x pool_max_yield x the accrual's seconds / a year
     (rounded down; finding 31-7: a lone small stake cannot take a type's whole fee share). The
     cap is per accrual of a type: with n types accruing, the pool's yield is at most n x
     pool_max_yield. What the cap holds back goes to the recipient.

     For a period of `seconds` since the last accrual:
     excess        = ceil((I(now) - I(last accrual)) / seconds)                [wad]
     multiplier    = 1 + ceil((max_multiplier - 1) * excess / (1 - kink))      [wad]
     effective_fee = 1 + ceil((base_fee - 1) * multiplier)                     [ray]
     new_rate      = rate * effective_fee ** seconds                          (rounded up)
     where I is the engine's utilization integral, the time-integral of max(0, u - kink) with
     u = min(1, ceil(type debt / type ceiling)) [wad], brought up to date by the engine before
     every change of the debt, rate, ceiling or kink. With a constant utilization this is the
     multiplier at that utilization; when utilization varies, the period's multiplier is its
     exact time average (the multiplier is linear in u - kink above the kink). Compounding the
     averaged per-second fee is at least the product of the per-segment fees (AM-GM): the
     protocol is never under-charged. The kink lives in the engine (`set_fee_kink`), which
     needs it to keep the integral; `effective_fee` is the spot fee at the current utilization,
     `period_fee` what the next accrual would charge per second.
"""
from interfaces import IVaultEngine
from interfaces import IStabilityPool
from snekmate.utils import math
from modules import fixed_point
from modules import constants
from modules import authorized as auth

# admins (governance) set fees
initializes: auth
exports: auth.__interface__

# the highest base fee: ~1000% a year, compounded per second [ray]
MAX_BASE_FEE: constant(uint256) = 1000000076036763191000000000
# the highest multiplier [wad]
MAX_MULTIPLIER: constant(uint256) = 10 * constants.WAD
# the highest yield cap of the stability pool: 1000% a year [wad per year]
MAX_POOL_YIELD: constant(uint256) = 10 * constants.WAD
# the year of the yield cap [seconds]
YEAR: constant(uint256) = 365 * 86400

# a type's fee record in two words (TypeFee is its unpacked form, as `fees` returns it):
# parameters = base_fee | kink << 96 | max_multiplier << 160 (base_fee <= MAX_BASE_FEE < 2**90,
# kink <= 1 wad, max_multiplier <= 10 wad, both < 2**64), read together by every accrual;
# clock = last_accrual | integral_at_accrual << 64 (the engine's integral stays far below 2**192),
# the one word an accrual writes
FIELD_MASK: constant(uint256) = 2**64 - 1
BASE_FEE_MASK: constant(uint256) = 2**96 - 1
KINK_SHIFT: constant(uint256) = 96
MULTIPLIER_SHIFT: constant(uint256) = 160
INTEGRAL_SHIFT: constant(uint256) = 64
ADDRESS_MASK: constant(uint256) = 2**160 - 1
# the field above a packed address (a share or a yield cap)
ABOVE_ADDRESS: constant(uint256) = 160


struct TypeFee:
    # per-second fee factor, >= 1 ray (1 ray = no fee) [ray]
    base_fee: uint256
    # when the rate was last compounded [seconds]; 0 = type not initialized
    last_accrual: uint256
    # utilization above which the multiplier starts [wad], < 1 wad
    kink: uint256
    # the multiplier at a full ceiling [wad], 1..10 wad
    max_multiplier: uint256
    # the engine's utilization integral at the last accrual [wad x seconds]
    integral_at_accrual: uint256


# the ledger
engine: public(immutable(IVaultEngine))

# collateral type -> fee parameters, packed (above)
fee_parameters: HashMap[bytes32, uint256]
# collateral type -> last accrual and the utilization integral then, packed (above)
fee_clock: HashMap[bytes32, uint256]
# who receives the fees inside the engine (the backstop), and the stability pool's yield cap
# [wad per year, at most MAX_POOL_YIELD < 2**96], in one word read by every accrual:
# fee_recipient | pool_max_yield << 160 (views `fee_recipient` and `pool_max_yield`)
recipient_and_yield: uint256
# the first-loss stability pool that earns a share of the fees (empty: none) and its share of
# each accrual [wad], at most 1 wad, in one word read by every accrual:
# pool address | pool_fee_share << 160 (views `stability_pool` and `pool_fee_share`)
pool_and_share: uint256


event TypeInitialized:
    collateral_type: indexed(bytes32)


event BaseFeeSet:
    collateral_type: indexed(bytes32)
    base_fee: uint256


event MultiplierSet:
    collateral_type: indexed(bytes32)
    kink: uint256
    max_multiplier: uint256


event FeeRecipientSet:
    recipient: indexed(address)


event PoolFeeShareSet:
    stability_pool: indexed(address)
    pool_fee_share: uint256


event PoolMaxYieldSet:
    pool_max_yield: uint256


event Accrued:
    collateral_type: indexed(bytes32)
    effective_fee: uint256
    rate: uint256


event FeesShared:
    collateral_type: indexed(bytes32)
    to_pool: uint256
    to_recipient: uint256


@deploy
def __init__(engine_: IVaultEngine, fee_recipient_: address):
    """
    @param engine_ The VaultEngine (this contract needs its RATE and FEE_KINK roles).
    @param fee_recipient_ Who is credited with fees (non-zero).
    """
    assert fee_recipient_ != empty(address), "fees: zero recipient"
    engine = engine_
    # no yield cap set: the pool earns nothing until governance sets one
    self.recipient_and_yield = convert(fee_recipient_, uint256)
    auth.__init__(0)
    log FeeRecipientSet(recipient=fee_recipient_)


@external
def init_type(collateral_type: bytes32):
    """
    @notice Start charging a type: no fee and no multiplier until set.
    @param collateral_type The type (must not be initialized here yet).
    """
    auth._check_authorized()
    assert self.fee_clock[collateral_type] & FIELD_MASK == 0, "fees: type exists"
    self._store_parameters(collateral_type, constants.RAY, constants.WAD, constants.WAD)
    self._store_clock(collateral_type, staticcall engine.utilization_integral(collateral_type))
    log TypeInitialized(collateral_type=collateral_type)


@external
def set_base_fee(collateral_type: bytes32, base_fee: uint256):
    """
    @notice Set a type's base fee. Fees due at the old fee are charged first.
    @param collateral_type The type.
    @param base_fee Per-second factor [ray], between 1 ray and MAX_BASE_FEE.
    """
    auth._check_authorized()
    assert base_fee >= constants.RAY, "fees: fee below 1"
    assert base_fee <= MAX_BASE_FEE, "fees: fee too high"
    self._accrue(collateral_type)
    fee: TypeFee = self._fee(collateral_type)
    self._store_parameters(collateral_type, base_fee, fee.kink, fee.max_multiplier)
    log BaseFeeSet(collateral_type=collateral_type, base_fee=base_fee)


@external
def set_multiplier(collateral_type: bytes32, kink: uint256, max_multiplier: uint256):
    """
    @notice Set how a type's fee rises near its ceiling. Fees due so far are charged first.
    @param collateral_type The type.
    @param kink Utilization where the rise starts [wad], below 1 wad.
    @param max_multiplier Multiplier at a full ceiling [wad], between 1 and 10 wad.
    """
    auth._check_authorized()
    assert kink < constants.WAD, "fees: kink not below 1"
    assert max_multiplier >= constants.WAD, "fees: multiplier below 1"
    assert max_multiplier <= MAX_MULTIPLIER, "fees: multiplier above 10"
    self._accrue(collateral_type)
    # the engine brings the integral up to date at the old kink first; it has not moved since
    # the accrual just made (same block), so integral_at_accrual stays right
    extcall engine.set_fee_kink(collateral_type, kink)
    self._store_parameters(
        collateral_type, self._fee(collateral_type).base_fee, kink, max_multiplier
    )
    log MultiplierSet(collateral_type=collateral_type, kink=kink, max_multiplier=max_multiplier)


@external
def set_fee_recipient(recipient: address):
    """
    @notice Set who is credited with fees. Fees not yet accrued (any type) go to the new
            recipient when they are: accrue every type first to settle them with the old one.
    @param recipient Non-zero address.
    """
    auth._check_authorized()
    assert recipient != empty(address), "fees: zero recipient"
    self.recipient_and_yield = (
        self.recipient_and_yield & ~ADDRESS_MASK | convert(recipient, uint256)
    )
    log FeeRecipientSet(recipient=recipient)


@external
def set_pool_fee_share(pool: IStabilityPool, share: uint256):
    """
    @notice Give a stability pool a share of every accrual (empty pool or 0: none).
    @param pool The StabilityPool.
    @param share Its share [wad], at most 1 wad.
    """
    auth._check_authorized()
    assert share <= constants.WAD, "fees: share above 1"
    self.pool_and_share = convert(pool.address, uint256) | share << ABOVE_ADDRESS
    log PoolFeeShareSet(stability_pool=pool.address, pool_fee_share=share)


@external
def set_pool_max_yield(max_yield: uint256):
    """
    @notice Cap the stability pool's income from each accrual at a yield on its assets: at most
            assets x max_yield x the accrual's seconds / a year; the rest of its fee share goes
            to the fee recipient. Accruals not yet made (any type) are capped at the new yield:
            accrue every type first to settle them at the old one.
    @param max_yield [wad per year], at most 10 wad (0: the pool earns nothing).
    """
    auth._check_authorized()
    assert max_yield <= MAX_POOL_YIELD, "fees: yield cap above 10"
    self.recipient_and_yield = (
        self.recipient_and_yield & ADDRESS_MASK
    ) | max_yield << ABOVE_ADDRESS
    log PoolMaxYieldSet(pool_max_yield=max_yield)


@external
def accrue(collateral_type: bytes32) -> uint256:
    """
    @notice Charge a type's fee up to now. Anyone may call.
    @param collateral_type The type.
    @return The type's new rate [ray].
    """
    return self._accrue(collateral_type)


@view
@external
def stability_pool() -> IStabilityPool:
    """
    @notice The first-loss stability pool that earns a share of the fees (empty: none).
    """
    return IStabilityPool(convert(self.pool_and_share & ADDRESS_MASK, address))


@view
@external
def fee_recipient() -> address:
    """
    @notice Who is credited with fees (the pool's share aside).
    """
    return convert(self.recipient_and_yield & ADDRESS_MASK, address)


@view
@external
def pool_max_yield() -> uint256:
    """
    @notice The stability pool's yield cap [wad per year]: each accrual pays the pool at most its
            assets x this x the accrual's seconds / a year.
    """
    return self.recipient_and_yield >> ABOVE_ADDRESS


@view
@external
def pool_fee_share() -> uint256:
    """
    @notice The pool's share of each accrual [wad], at most 1 wad.
    """
    return self.pool_and_share >> ABOVE_ADDRESS


@view
@external
def fees(collateral_type: bytes32) -> TypeFee:
    """
    @notice A type's fee record (all zero: not initialized).
    @param collateral_type The type.
    @return base_fee [ray], last_accrual [seconds], kink [wad], max_multiplier [wad],
            integral_at_accrual [wad x seconds].
    """
    return self._fee(collateral_type)


@view
@external
def effective_fee(collateral_type: bytes32) -> uint256:
    """
    @notice The per-second fee a type would be charged if its current utilization held for a
            whole period (the spot fee).
    @param collateral_type The type.
    @return Per-second factor [ray].
    """
    fee: TypeFee = self._fee(collateral_type)
    return self._fee_at(fee, self._spot_excess(fee, collateral_type))


@view
@external
def period_fee(collateral_type: bytes32) -> uint256:
    """
    @notice The per-second fee the next accrual would charge now: priced by the time-weighted
            utilization since the last accrual (the spot fee if no time has passed).
    @param collateral_type The type.
    @return Per-second factor [ray].
    """
    fee: TypeFee = self._fee(collateral_type)
    if block.timestamp == fee.last_accrual:
        return self._fee_at(fee, self._spot_excess(fee, collateral_type))
    return self._fee_at(
        fee, self._average_excess(fee, staticcall engine.utilization_integral(collateral_type))
    )


@internal
def _accrue(collateral_type: bytes32) -> uint256:
    fee: TypeFee = self._fee(collateral_type)
    assert fee.last_accrual != 0, "fees: type not initialized"
    rate: uint256 = 0
    normalized_debt: uint256 = 0
    rate, normalized_debt = staticcall engine.rate_and_debt(collateral_type)
    if block.timestamp == fee.last_accrual:
        return rate
    integral: uint256 = staticcall engine.utilization_integral(collateral_type)
    effective: uint256 = self._fee_at(fee, self._average_excess(fee, integral))
    seconds: uint256 = block.timestamp - fee.last_accrual
    # rounds up: the protocol is never under-charged
    new_rate: uint256 = fixed_point.rmul_up(fixed_point.rpow_up(effective, seconds), rate)
    delta_rate: uint256 = new_rate - rate
    packed: uint256 = self.pool_and_share
    pool: IStabilityPool = IStabilityPool(convert(packed & ADDRESS_MASK, address))
    share: uint256 = packed >> ABOVE_ADDRESS
    # the pool's assets while it has shares (0: it earns nothing)
    earning: uint256 = 0
    if share != 0 and pool.address != empty(address):
        earning = staticcall pool.earning_assets()
    recipient_word: uint256 = self.recipient_and_yield
    recipient: address = convert(recipient_word & ADDRESS_MASK, address)
    if earning == 0:
        extcall engine.fold_rate(collateral_type, recipient, convert(delta_rate, int256))
    else:
        # the engine credits exactly normalized_debt * delta_rate; split it here
        extcall engine.fold_rate(collateral_type, self, convert(delta_rate, int256))
        income: uint256 = normalized_debt * delta_rate
        # rounds down: the pool gets no more than its share, nor more than its yield cap,
        # assets x pool_max_yield [wad per year] x seconds / a year (exact in 512 bits)
        to_pool: uint256 = min(
            income * share // constants.WAD,
            math._mul_div(
                earning, (recipient_word >> ABOVE_ADDRESS) * seconds, constants.WAD * YEAR, False
            ),
        )
        # to_pool <= income since share <= WAD
        to_recipient: uint256 = unsafe_sub(income, to_pool)
        if to_pool != 0:
            extcall engine.transfer_stable(self, pool.address, to_pool)
            extcall pool.add_income(to_pool)
        if to_recipient != 0:
            extcall engine.transfer_stable(self, recipient, to_recipient)
        log FeesShared(collateral_type=collateral_type, to_pool=to_pool, to_recipient=to_recipient)
    self._store_clock(collateral_type, integral)
    log Accrued(collateral_type=collateral_type, effective_fee=effective, rate=new_rate)
    return new_rate


@view
@internal
def _fee(collateral_type: bytes32) -> TypeFee:
    parameters: uint256 = self.fee_parameters[collateral_type]
    clock: uint256 = self.fee_clock[collateral_type]
    return TypeFee(
        base_fee=parameters & BASE_FEE_MASK,
        last_accrual=clock & FIELD_MASK,
        kink=(parameters >> KINK_SHIFT) & FIELD_MASK,
        max_multiplier=parameters >> MULTIPLIER_SHIFT,
        integral_at_accrual=clock >> INTEGRAL_SHIFT,
    )


@internal
def _store_parameters(
    collateral_type: bytes32, base_fee: uint256, kink: uint256, max_multiplier: uint256
):
    # the setters bound every field (base_fee <= MAX_BASE_FEE, kink <= 1 wad, max <= 10 wad)
    self.fee_parameters[collateral_type] = (
        base_fee | kink << KINK_SHIFT | max_multiplier << MULTIPLIER_SHIFT
    )


@internal
def _store_clock(collateral_type: bytes32, integral: uint256):
    # now, and the engine's utilization integral now (far below 2**192)
    self.fee_clock[collateral_type] = block.timestamp | integral << INTEGRAL_SHIFT


@view
@internal
def _fee_at(fee: TypeFee, excess: uint256) -> uint256:
    # 1 + (base_fee - 1) * multiplier, the multiplier for a utilization `excess` above the kink
    if fee.base_fee == constants.RAY or fee.max_multiplier == constants.WAD or excess == 0:
        return fee.base_fee
    # excess <= 1 - kink, so kink < WAD here
    multiplier: uint256 = constants.WAD + fixed_point.div_up(
        (fee.max_multiplier - constants.WAD) * excess, constants.WAD - fee.kink
    )
    return constants.RAY + fixed_point.div_up(
        (fee.base_fee - constants.RAY) * multiplier, constants.WAD
    )


@view
@internal
def _spot_excess(fee: TypeFee, collateral_type: bytes32) -> uint256:
    # max(0, u - kink) at the current utilization, as the engine computes it [wad]
    if fee.kink >= constants.WAD:
        return 0
    ctype: IVaultEngine.CollateralType = staticcall engine.collateral_types(collateral_type)
    debt: uint256 = ctype.normalized_debt * ctype.rate
    utilization: uint256 = constants.WAD
    if ctype.debt_ceiling != 0:
        utilization = min(
            fixed_point.div_up(debt * constants.WAD, ctype.debt_ceiling), constants.WAD
        )
    elif debt == 0:
        utilization = 0
    if utilization <= fee.kink:
        return 0
    return utilization - fee.kink


@view
@internal
def _average_excess(fee: TypeFee, integral: uint256) -> uint256:
    # the average of max(0, u - kink) since the last accrual (now > last_accrual), rounded up
    # [wad]; `integral` is the engine's utilization integral now
    if integral == fee.integral_at_accrual:
        return 0
    return fixed_point.div_up(
        integral - fee.integral_at_accrual, block.timestamp - fee.last_accrual
    )
