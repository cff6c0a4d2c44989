# pragma version ~=0.4.3
"""
@title FeeAccumulator
@notice Charges each collateral type's stability fee by compounding its rate per second.
        The fee rises as a type's debt approaches its ceiling: above a utilization `kink`,
        the fee's excess over 1 ray (no fee) is multiplied by up to `max_multiplier` (linear between
        the kink and a full ceiling).
@dev DSS analogue: Jug (duty = base_fee, rho = last_accrual), with a curve-stablecoin-style
     utilization multiplier. Rounding: utilization, the multiplied fee and the compounded rate
     all round up (more fees to the protocol). Fees are credited to `fee_recipient` (the
     backstop's insurance fund) through engine.fold_rate; when a stability pool with stakers is
     set, its share `pool_fee_share` of each accrual (rounded down) goes to the pool instead.

     effective_fee = 1 + (base_fee - 1) * multiplier                         [ray]
     multiplier    = 1 + (max_multiplier - 1) * (u - kink) / (1 - kink)    if u > kink, else 1
     u             = min(1, type debt / type ceiling)                        [wad]
     new_rate      = rate * effective_fee ** seconds_since_last_accrual
"""
from interfaces import IVaultEngine
from interfaces import IStabilityPool
from modules import fixed_point
from modules import constants
from modules import authorized as auth

# who may set fees
initializes: auth
exports: (auth.authorized, auth.add_authority, auth.remove_authority)

# the highest base fee: ~1000% a year, compounded per second [ray]
MAX_BASE_FEE: constant(uint256) = 1000000076036763191000000000
# the highest multiplier [wad]
MAX_MULTIPLIER: constant(uint256) = 10 * constants.WAD


struct TypeFee:
    # per-second fee factor, >= 1 ray (1 ray = no fee) [ray]
    base_fee: uint256
    # when the rate was last compounded [seconds]; 0 = type not initialized
    last_accrual: uint256
    # utilization above which the multiplier starts [wad], < 1 wad
    kink: uint256
    # the multiplier at a full ceiling [wad], 1..10 wad
    max_multiplier: uint256


# the ledger
engine: public(immutable(IVaultEngine))

# collateral type -> fee parameters
fees: public(HashMap[bytes32, TypeFee])
# who receives the fees inside the engine (the backstop)
fee_recipient: public(address)
# the first-loss stability pool that earns a share of the fees (empty: none)
stability_pool: public(IStabilityPool)
# the pool's share of each accrual [wad], <= 1 wad
pool_fee_share: public(uint256)


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
    @param engine_ The VaultEngine (this contract must be authorized on it).
    @param fee_recipient_ Who is credited with fees (non-zero).
    """
    assert fee_recipient_ != empty(address), "fees: zero recipient"
    engine = engine_
    self.fee_recipient = fee_recipient_
    auth.__init__()
    log FeeRecipientSet(recipient=fee_recipient_)


@external
def init_type(collateral_type: bytes32):
    """
    @notice Start charging a type: no fee and no multiplier until set.
    @param collateral_type The type (must not be initialized here yet).
    """
    auth._check_authorized()
    assert self.fees[collateral_type].last_accrual == 0, "fees: type exists"
    self.fees[collateral_type] = TypeFee(
        base_fee=constants.RAY,
        last_accrual=block.timestamp,
        kink=constants.WAD,
        max_multiplier=constants.WAD,
    )
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
    self.fees[collateral_type].base_fee = base_fee
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
    self.fees[collateral_type].kink = kink
    self.fees[collateral_type].max_multiplier = max_multiplier
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
    self.fee_recipient = recipient
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
    self.stability_pool = pool
    self.pool_fee_share = share
    log PoolFeeShareSet(stability_pool=pool.address, pool_fee_share=share)


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
def effective_fee(collateral_type: bytes32) -> uint256:
    """
    @notice The per-second fee a type would be charged at its current utilization.
    @param collateral_type The type.
    @return Per-second factor [ray].
    """
    return self._effective_fee(
        self.fees[collateral_type], staticcall engine.collateral_types(collateral_type)
    )


@internal
def _accrue(collateral_type: bytes32) -> uint256:
    fee: TypeFee = self.fees[collateral_type]
    assert fee.last_accrual != 0, "fees: type not initialized"
    ctype: IVaultEngine.CollateralType = staticcall engine.collateral_types(collateral_type)
    if block.timestamp == fee.last_accrual:
        return ctype.rate
    effective: uint256 = self._effective_fee(fee, ctype)
    # rounds up: the protocol is never under-charged
    new_rate: uint256 = fixed_point.rmul_up(
        fixed_point.rpow_up(effective, block.timestamp - fee.last_accrual), ctype.rate
    )
    delta_rate: uint256 = new_rate - ctype.rate
    pool: IStabilityPool = self.stability_pool
    share: uint256 = self.pool_fee_share
    if share == 0 or pool.address == empty(address) or staticcall pool.total_shares() == 0:
        extcall engine.fold_rate(collateral_type, self.fee_recipient, convert(delta_rate, int256))
    else:
        # the engine credits exactly normalized_debt * delta_rate; split it here
        extcall engine.fold_rate(collateral_type, self, convert(delta_rate, int256))
        income: uint256 = ctype.normalized_debt * delta_rate
        # rounds down: the pool gets no more than its share
        to_pool: uint256 = income * share // constants.WAD
        # to_pool <= income since share <= WAD
        to_recipient: uint256 = unsafe_sub(income, to_pool)
        if to_pool != 0:
            extcall engine.transfer_stable(self, pool.address, to_pool)
            extcall pool.add_income(to_pool)
        if to_recipient != 0:
            extcall engine.transfer_stable(self, self.fee_recipient, to_recipient)
        log FeesShared(collateral_type=collateral_type, to_pool=to_pool, to_recipient=to_recipient)
    self.fees[collateral_type].last_accrual = block.timestamp
    log Accrued(collateral_type=collateral_type, effective_fee=effective, rate=new_rate)
    return new_rate


@view
@internal
def _effective_fee(fee: TypeFee, ctype: IVaultEngine.CollateralType) -> uint256:
    if fee.base_fee == constants.RAY or fee.max_multiplier == constants.WAD:
        return fee.base_fee
    debt: uint256 = ctype.normalized_debt * ctype.rate
    # utilization, rounded up and capped at 1 [wad]
    utilization: uint256 = constants.WAD
    if ctype.debt_ceiling != 0:
        utilization = min(
            fixed_point.div_up(debt * constants.WAD, ctype.debt_ceiling), constants.WAD
        )
    elif debt == 0:
        utilization = 0
    if utilization <= fee.kink:
        return fee.base_fee
    # kink < WAD and utilization > kink here, so both subtractions are positive
    multiplier: uint256 = constants.WAD + fixed_point.div_up(
        (fee.max_multiplier - constants.WAD) * (utilization - fee.kink), constants.WAD - fee.kink
    )
    return constants.RAY + fixed_point.div_up(
        (fee.base_fee - constants.RAY) * multiplier, constants.WAD
    )
