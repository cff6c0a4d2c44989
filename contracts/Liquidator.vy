# pragma version ~=0.4.3
"""
@title Liquidator
@notice Starts the liquidation of unsafe vaults: seizes the vault (or, when a cap on debt in
        auction is near, part of it), its debt becoming the Backstop's bad debt, adds the
        liquidation penalty to the amount to raise and starts a Dutch auction of the collateral,
        which pays the caller's keeper a reward.
@dev DSS analogue: Dog (Hole = max_debt_in_auction, Dirt = debt_in_auction, chop = penalty,
     hole/dirt per type, bark = liquidate, digs = remove_debt_in_auction).
     Caps: debt_in_auction <= max_debt_in_auction globally and per type, except one documented
     overshoot: if a partial liquidation would leave the vault with less than the dust, the
     whole vault is taken instead (a dust vault could never be liquidated profitably).
     Rounding: seized collateral rounds up and the debt to raise (with penalty) rounds up,
     both in the protocol's favour. A zero safe price means "no valid price": no liquidation.
"""
from interfaces import IVaultEngine
from interfaces import IBackstop
from interfaces import IDutchAuction
from interfaces import ILiquidator
from modules import fixed_point
from modules import constants
from modules import penalty_grid
from modules import size_margin as sizing
from modules import authorized as auth

# admins (governance) configure; roles: DEBT_IN_AUCTION (the auctions, which report debt
# raised), SHUTDOWN (global settlement)
initializes: auth
exports: auth.__interface__

implements: ILiquidator
# the struct TypeConfig is defined in interfaces/ILiquidator.vyi


# the Liquidator itself, for the size cut's bisection (curing_cut below): a call to self keeps
# the bisection's frames out of _liquidate's call tree, so a liquidation without a cut does not
# expand memory past them (docs/security.md, "What round four costs")
interface SizeCut:
    def curing_cut(
        collateral: uint256,
        normalized_debt: uint256,
        rate: uint256,
        safe_price: uint256,
        dust: uint256,
        penalty: uint256,
        size: uint256,
    ) -> uint256: view


# the highest liquidation penalty: 100% on top of the debt [wad]
MAX_PENALTY: constant(uint256) = 2 * constants.WAD
# the most vaults one liquidate_many call looks at
MAX_BATCH: constant(uint256) = 100
# liquidate_many's gas guard (issue 63): a vault is started only while the gas left covers the
# worst its liquidation can cost, plus the batch's end (the later owners skipped, the
# SkippedForGas event, the return), so that no batch runs out of gas because of the vaults it was
# given. LIQUIDATION_RESERVE is checked before a vault's reads and covers the path without a size
# cut at its worst: every account cold, an auction that opens a new slot word and a new summary
# word, a new loss-number word. CUT_RESERVE is checked just before the size cut's bisection and
# covers it at its bound (128 halvings: a vault's normalized debt is below 2**128; while the
# rate is at least 1 ray, as fees and redistribution keep it, 107: a wider bracket overflows the
# tab of its first probe and reverts before halving) under the 63/64 rule of its static call,
# then the same liquidation. Each is its worst case measured on a node's gas count plus a
# margin (docs/security.md, 63.1; tests/contracts/liquidator/test_gas_guard.py).
LIQUIDATION_RESERVE: constant(uint256) = 400_000
CUT_RESERVE: constant(uint256) = 600_000
# _liquidate's answer when the guard kept a size cut from starting (never an auction id: ids
# are (generation << 24 | slot) + 1)
SHORT_OF_GAS: constant(uint256) = max_value(uint256)
# the highest cap on debt in auction: 1e12 stablecoin [rad] (room * WAD must not overflow)
MAX_CAP: constant(uint256) = 10**57
# `limits`' top bit: live
LIVE_BIT: constant(uint256) = 1 << 255
# the debt-in-auction counters' kept bit (constants.KEPT_SET), set at deployment (the global
# one) or when a type is configured; the counts stay at most a cap, MAX_CAP < 2**190, plus one
# liquidation's debt
COUNTER_SET: constant(uint256) = constants.KEPT_SET
COUNT_MASK: constant(uint256) = COUNTER_SET - 1
# a type's auction_penalty word: penalty << PENALTY_SHIFT | auction address
ADDRESS_MASK: constant(uint256) = 2**160 - 1
PENALTY_SHIFT: constant(uint256) = 160

# the ledger
engine: public(immutable(IVaultEngine))
# who takes on seized debt
backstop: public(immutable(IBackstop))

# what every liquidation reads, in one slot: live (false once shut down: global settlement) << 255
# | the cap on all debt in auction (incl. penalties) [rad], at most MAX_CAP < 2**190; the views
# live() and max_debt_in_auction() unpack it
limits: uint256
# all debt in auction now [rad] | COUNTER_SET (view debt_in_auction)
debt_in_auction_word: uint256


# a type's liquidation configuration as stored: its auction and penalty share a slot (the view
# `types` returns ILiquidator.TypeConfig)
struct TypeSlots:
    # penalty [wad] (at most 2 wad < 2**96) << 160 | the type's DutchAuction
    auction_penalty: uint256
    # cap on this type's debt in auction (incl. penalty) [rad]
    max_debt_in_auction: uint256
    # this type's debt in auction now [rad] | COUNTER_SET once configured
    debt_in_auction: uint256


# collateral type -> liquidation configuration
type_slots: HashMap[bytes32, TypeSlots]


event MaxDebtInAuctionSet:
    amount: uint256


event TypeConfigured:
    collateral_type: indexed(bytes32)
    auction: address
    penalty: uint256
    max_debt_in_auction: uint256


event Liquidated:
    collateral_type: indexed(bytes32)
    owner: indexed(address)
    collateral: uint256
    normalized_debt: uint256
    debt: uint256
    auction: address
    auction_id: uint256


event DebtInAuctionRemoved:
    collateral_type: indexed(bytes32)
    amount: uint256


event Shutdown:
    caller: indexed(address)


# liquidate_many left `vaults` of its owners for want of gas (the guard above): sent again with
# more gas, they are liquidated as any others
event SkippedForGas:
    collateral_type: indexed(bytes32)
    vaults: uint256


@deploy
def __init__(engine_: IVaultEngine, backstop_: IBackstop):
    """
    @param engine_ The VaultEngine (this contract needs its SEIZE role).
    @param backstop_ The Backstop (this contract needs its OPEN_LOSS role).
    """
    engine = engine_
    backstop = backstop_
    self.limits = LIVE_BIT
    self.debt_in_auction_word = COUNTER_SET
    auth.__init__(auth.DEBT_IN_AUCTION | auth.SHUTDOWN)


@external
def set_max_debt_in_auction(amount: uint256):
    """
    @notice Set the cap on all debt in auction.
    @param amount [rad], at most 1e12 stablecoin.
    """
    auth._check_authorized()
    assert amount <= MAX_CAP, "liquidator: cap too large"
    self.limits = self.limits & LIVE_BIT | amount
    log MaxDebtInAuctionSet(amount=amount)


@external
def configure_type(
    collateral_type: bytes32, auction: address, penalty: uint256, max_debt_in_auction: uint256
):
    """
    @notice Set a type's auction, penalty and cap (its debt in auction is kept).
    @param collateral_type The type.
    @param auction Its DutchAuction (non-zero, deployed for this type).
    @param penalty [wad], between 1 and 2 wad, a multiple of 1e-7 (10**11).
    @param max_debt_in_auction [rad], at most 1e12 stablecoin.
    """
    auth._check_authorized()
    assert auction != empty(address), "liquidator: zero auction"
    # the auction sells this type's collateral (its own type is fixed at its deployment)
    assert staticcall IDutchAuction(auction).collateral_type() == collateral_type, (
        "liquidator: auction of another type"
    )
    assert penalty >= constants.WAD, "liquidator: penalty below 1"
    assert penalty <= MAX_PENALTY, "liquidator: penalty above 2"
    assert penalty % penalty_grid.STEP == 0, "liquidator: penalty not a multiple of 1e-7"
    assert max_debt_in_auction <= MAX_CAP, "liquidator: cap too large"
    self.type_slots[collateral_type] = TypeSlots(
        auction_penalty=penalty << PENALTY_SHIFT | convert(convert(auction, uint160), uint256),
        max_debt_in_auction=max_debt_in_auction,
        debt_in_auction=self.type_slots[collateral_type].debt_in_auction | COUNTER_SET,
    )
    log TypeConfigured(
        collateral_type=collateral_type,
        auction=auction,
        penalty=penalty,
        max_debt_in_auction=max_debt_in_auction,
    )


@external
def shutdown():
    """
    @notice Stop all new liquidations (global settlement).
    """
    auth._check_role(auth.SHUTDOWN)
    self.limits = self.limits & (LIVE_BIT - 1)
    log Shutdown(caller=msg.sender)


@external
@nonreentrant
def liquidate(collateral_type: bytes32, owner: address, keeper: address) -> uint256:
    """
    @notice Liquidate an unsafe vault (all of it, or part when a cap is near).
    @param collateral_type The type.
    @param owner The vault's owner.
    @param keeper Who receives the keeper reward.
    @return The id of the auction started.
    """
    assert self.limits >= LIVE_BIT, "liquidator: not live"
    ctype: IVaultEngine.CollateralType = staticcall engine.collateral_types(collateral_type)
    size: uint256 = staticcall engine.size_margin_word(collateral_type)
    return self._liquidate(collateral_type, ctype, size, owner, keeper, True)


@external
@nonreentrant
def liquidate_many(
    collateral_type: bytes32, owners: DynArray[address, MAX_BATCH], keeper: address
) -> uint256:
    """
    @notice Liquidate every unsafe vault among `owners` in one transaction. Vaults that are safe,
            empty, or cannot be liquidated now (cap reached, dust remainder, the type's auction
            running its maximum number of auctions) are skipped, and so are those the gas left
            cannot finish (LIQUIDATION_RESERVE, CUT_RESERVE: one SkippedForGas event counts
            them): a batch never runs out of gas because of the vaults it was given.
    @param collateral_type The type.
    @param owners Vault owners to look at.
    @param keeper Who receives the keeper rewards.
    @return How many vaults were liquidated.
    """
    assert self.limits >= LIVE_BIT, "liquidator: not live"
    ctype: IVaultEngine.CollateralType = staticcall engine.collateral_types(collateral_type)
    size: uint256 = staticcall engine.size_margin_word(collateral_type)
    count: uint256 = 0
    # vaults the gas guard skipped
    short: uint256 = 0
    for owner: address in owners:
        if msg.gas < LIQUIDATION_RESERVE:
            short += 1
            continue
        auction_id: uint256 = self._liquidate(collateral_type, ctype, size, owner, keeper, False)
        if auction_id == SHORT_OF_GAS:
            short += 1
        elif auction_id != 0:
            count += 1
    if short != 0:
        log SkippedForGas(collateral_type=collateral_type, vaults=short)
    return count


@internal
def _liquidate(
    collateral_type: bytes32,
    ctype: IVaultEngine.CollateralType,
    size: uint256,
    owner: address,
    keeper: address,
    strict: bool,
) -> uint256:
    """
    @dev Liquidates one vault; the rate, safe price, dust and size margin (`size`,
         modules/size_margin.vy) do not change during a batch (seizing changes only the type's
         normalized debt, which is not used here).
         With `strict`, every reason not to liquidate reverts; without, it returns 0, or
         SHORT_OF_GAS for a size cut the gas left (below CUT_RESERVE) cannot finish.
    """
    config: ILiquidator.TypeConfig = self._type_config(collateral_type)
    assert config.auction != empty(address), "liquidator: type not configured"
    assert ctype.safe_price != 0, "liquidator: no valid price"
    vault: IVaultEngine.Vault = staticcall engine.vaults(collateral_type, owner)
    value: uint256 = vault.collateral * ctype.safe_price
    if vault.normalized_debt == 0 or value >= sizing.margin_debt(
        vault.normalized_debt * ctype.rate, size
    ):
        assert not strict, "liquidator: vault is safe"
        return 0
    max_debt_in_auction: uint256 = self.limits & (LIVE_BIT - 1)
    # both counters as stored, with COUNTER_SET (_type_config does not mask it)
    all_debt_in_auction: uint256 = self.debt_in_auction_word
    if (
        max_debt_in_auction <= all_debt_in_auction & COUNT_MASK
        or config.max_debt_in_auction <= config.debt_in_auction & COUNT_MASK
    ):
        assert not strict, "liquidator: debt in auction at cap"
        return 0
    if not strict and not staticcall IDutchAuction(config.auction).has_room():
        # the type's auction runs its maximum number of auctions: skip, do not revert the batch
        return 0
    # both differences are positive (checked just above)
    room: uint256 = min(
        unsafe_sub(max_debt_in_auction, all_debt_in_auction & COUNT_MASK),
        unsafe_sub(config.max_debt_in_auction, config.debt_in_auction & COUNT_MASK),
    )
    # rounds down: never seize more debt than the room allows (penalty included)
    seized_debt: uint256 = min(
        vault.normalized_debt, room * constants.WAD // ctype.rate // config.penalty
    )
    # a size cut's collateral (worth its tab at the safe price); 0: seized in proportion
    seized_collateral: uint256 = 0
    # (nested, not `and`: vyper 0.4.3's `and` here cost a liquidation without a size margin 66
    # gas more, measured with `ape run gas`)
    if size == 0:
        pass
    elif value >= vault.normalized_debt * ctype.rate:
        # The size cut (issue 45, finding 3). A vault safe at the base ratio but unsafe at its
        # own size is cut, never taken whole: the least normalized debt (at least the dust) whose
        # seizure, with collateral worth its tab (debt x penalty) at the safe price, rounded up,
        # leaves a remainder safe at its own size with sizing.CUT_SPARE (1% of its requirement)
        # to spare and at least the dust (sizing.least_cure, through this contract's curing_cut;
        # the excess collateral stays in the vault). Bound: the cut is at most the least cure
        # (the cut one wei less does not cure; as the collateral rounds to whole wei, an earlier
        # cure may exist within one wei of collateral's worth of net cure: docs/size-margin.md),
        # or the dust where the dust binds; the caps' `seized_debt` when that is less (a smaller
        # cut, same collateral rule). When no cut cures it: a vault under two dusts is refused
        # (no cut can leave the dust); a larger one (its value within about
        # penalty x (1 + spare) of its base requirement, where each tab-worth cut takes more
        # value than it frees) is liquidated as a vault unsafe at the base ratio, never left
        # unliquidatable. A vault unsafe at the base ratio is seized in proportion, as without a
        # size margin.
        if not strict:
            if msg.gas < CUT_RESERVE:
                # liquidate_many's gas guard: not started (a failed static call would revert
                # the whole batch)
                return SHORT_OF_GAS
        cut: uint256 = staticcall SizeCut(self).curing_cut(
            vault.collateral,
            vault.normalized_debt,
            ctype.rate,
            ctype.safe_price,
            ctype.dust,
            config.penalty,
            size,
        )
        if cut != 0:
            # the caps allow less than the cut: a smaller cut (a larger remainder)
            seized_debt = min(cut, seized_debt)
            seized_collateral = sizing.cut_collateral(
                seized_debt * ctype.rate, config.penalty, ctype.safe_price
            )
        # (debt // 2 < dust: debt < 2 x dust without overflow for any dust)
        elif vault.normalized_debt * ctype.rate // 2 < ctype.dust:
            # safe at the base ratio, under two dusts, and no cut leaves a remainder safe at its
            # size (with the spare) and at least the dust: not taken whole (that would seize
            # more than its size calls for)
            assert not strict, "liquidator: no size cut"
            return 0
    if seized_debt < vault.normalized_debt:
        # (a size cut leaves at least the dust: these only act on the caps' amount)
        if (vault.normalized_debt - seized_debt) * ctype.rate < ctype.dust:
            # the documented overshoot: take the whole vault rather than leave dust behind
            seized_debt = vault.normalized_debt
        elif seized_debt * ctype.rate < ctype.dust:
            assert not strict, "liquidator: partial auction below dust"
            return 0
    if seized_collateral == 0:
        seized_collateral = min(
            # rounds up: the auction holds at least its share of the collateral (exact for a
            # whole vault)
            fixed_point.div_up(vault.collateral * seized_debt, vault.normalized_debt),
            vault.collateral,
        )
        # (a cut's collateral is 0 only for a cut of 0 debt, and then so is this)
        if seized_collateral == 0:
            assert not strict, "liquidator: nothing to seize"
            return 0
    if seized_collateral == vault.collateral:
        # rounding took all the collateral: take all the debt too, never leave debt without collateral
        seized_debt = vault.normalized_debt

    extcall engine.seize(
        collateral_type,
        owner,
        config.auction,
        backstop.address, -convert(seized_collateral, int256), -convert(seized_debt, int256),
    )
    debt: uint256 = seized_debt * ctype.rate
    # rounds up: the penalty is never under-charged
    to_raise: uint256 = penalty_grid.to_raise(debt, config.penalty)
    # the counters keep COUNTER_SET (they stay far below it: checked arithmetic still guards)
    self.debt_in_auction_word = all_debt_in_auction + to_raise
    self.type_slots[collateral_type].debt_in_auction = config.debt_in_auction + to_raise
    auction_id: uint256 = extcall IDutchAuction(config.auction).start(
        to_raise, seized_collateral, owner, keeper
    )
    # the loss event: the auction's proceeds will be measured against the seized debt
    extcall backstop.open_loss(collateral_type, config.auction, auction_id, debt, config.penalty)
    log Liquidated(
        collateral_type=collateral_type,
        owner=owner,
        collateral=seized_collateral,
        normalized_debt=seized_debt,
        debt=debt,
        auction=config.auction,
        auction_id=auction_id,
    )
    return auction_id


@view
@external
def curing_cut(
    collateral: uint256,
    normalized_debt: uint256,
    rate: uint256,
    safe_price: uint256,
    dust: uint256,
    penalty: uint256,
    size: uint256,
) -> uint256:
    """
    @notice The size cut's bisection, for this contract only (_liquidate calls it on itself, a
            static call paid only by a cut, to keep the bisection's memory out of every
            liquidation: docs/security.md, "What round four costs"). Any other caller is
            refused: the module's arithmetic assumes a configured type's numbers (a valid size
            word, a penalty of at least 1, a rate and a price not 0), which only the Liquidator
            passes.
    @dev modules/size_margin.vy least_cure: the least normalized debt [wad] (at least the dust)
         whose seizure, with collateral worth its tab at the safe price, leaves a remainder safe
         at its own size with 1% to spare and at least the dust; 0 when no cut does.
    @param collateral The vault's collateral [wad].
    @param normalized_debt The vault's normalized debt [wad].
    @param rate The type's rate [ray].
    @param safe_price The type's safe price [ray].
    @param dust The type's dust [rad].
    @param penalty The type's liquidation penalty [wad].
    @param size The type's size margin word (VaultEngine.size_margin_word).
    @return The least curing cut [wad], or 0.
    """
    assert msg.sender == self, "liquidator: only itself"
    return sizing.least_cure(collateral, normalized_debt, rate, safe_price, dust, penalty, size)


@external
def remove_debt_in_auction(collateral_type: bytes32, amount: uint256):
    """
    @notice An auction reports debt raised or written off (auctions only).
    @param collateral_type The type.
    @param amount [rad].
    """
    auth._check_role(auth.DEBT_IN_AUCTION)
    # as checked subtractions of the counts (COUNTER_SET stays)
    all_debt_in_auction: uint256 = self.debt_in_auction_word
    assert all_debt_in_auction & COUNT_MASK >= amount
    self.debt_in_auction_word = unsafe_sub(all_debt_in_auction, amount)
    type_debt_in_auction: uint256 = self.type_slots[collateral_type].debt_in_auction
    assert type_debt_in_auction & COUNT_MASK >= amount
    self.type_slots[collateral_type].debt_in_auction = unsafe_sub(type_debt_in_auction, amount)
    log DebtInAuctionRemoved(collateral_type=collateral_type, amount=amount)


@view
@external
def penalty(collateral_type: bytes32) -> uint256:
    """
    @notice The type's liquidation penalty [wad]: one storage word (`types` reads four), for
            the auctions' reward bound.
    @param collateral_type The type.
    """
    return self.type_slots[collateral_type].auction_penalty >> PENALTY_SHIFT


@view
@external
def types(collateral_type: bytes32) -> ILiquidator.TypeConfig:
    """
    @notice A type's liquidation configuration.
    @param collateral_type The type.
    @return (auction, penalty [wad], max_debt_in_auction [rad], debt_in_auction [rad]).
    """
    config: ILiquidator.TypeConfig = self._type_config(collateral_type)
    config.debt_in_auction &= COUNT_MASK
    return config


@view
@external
def live() -> bool:
    """
    @notice False once shut down (global settlement).
    @return Whether liquidations may start.
    """
    return self.limits >= LIVE_BIT


@view
@external
def debt_in_auction() -> uint256:
    """
    @notice All debt in auction now (incl. penalties).
    @return [rad].
    """
    return self.debt_in_auction_word & COUNT_MASK


@view
@external
def max_debt_in_auction() -> uint256:
    """
    @notice The cap on all debt in auction (incl. penalties).
    @return [rad].
    """
    return self.limits & (LIVE_BIT - 1)


@view
@internal
def _type_config(collateral_type: bytes32) -> ILiquidator.TypeConfig:
    # debt_in_auction as stored: with COUNTER_SET once the type is configured
    slots: TypeSlots = self.type_slots[collateral_type]
    return ILiquidator.TypeConfig(
        auction=convert(convert(slots.auction_penalty & ADDRESS_MASK, uint160), address),
        penalty=slots.auction_penalty >> PENALTY_SHIFT,
        max_debt_in_auction=slots.max_debt_in_auction,
        debt_in_auction=slots.debt_in_auction,
    )
