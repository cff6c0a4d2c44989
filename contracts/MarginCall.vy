# pragma version ~=0.4.3
"""
@title MarginCall
@notice A margin call before liquidation, then a soft liquidation. A vault is *called* when it
        is safe at its type's liquidation ratio but would not be with its required collateral
        value multiplied by the type's warning factor. For owners who opted in (here, and by
        `VaultEngine.allow(this contract)`), anyone may repay part of a called vault's debt
        from their own internal stablecoin and receive the vault's collateral worth the debt
        repaid x (1 + bonus) at the oracle price: at most the close factor of the vault's
        normalized debt per call, only if the vault ends above its warning level, and only the
        least repayment that cures it (within CURE_TOLERANCE): the bonus is paid on the cure.
@dev Anchor: Morpho's opt-in pre-liquidation; dss has no analogue. The contract holds no
     engine role: it acts on a vault as its owner's delegate (`VaultEngine.allow`), and the
     engine's own checks still apply to every soft liquidation (the vault ends safe, its debt 0
     or at least dust, the caller's stablecoin pays, through the caller's own `allow` of this
     contract, as `DutchAuction.take` is paid).

     Prices. The type's oracle is the Spotter's (`Spotter.oracles`, read on every call: an
     oracle governance changes there applies here at once; this contract keeps no oracle map).
     The called test reads the type's current oracle price (valid, as the Spotter reads it:
     `peek`) over the Spotter's liquidation ratio: safe price = floor(price / ratio), what
     the next `Spotter.poke` would give the engine, so a safe price left stale in the engine by
     an oracle update nobody poked through can neither call a vault nor keep one uncalled. The
     collateral is priced for the exchange at the highest price the oracle knows: the current
     one, the queued one (current after the next poke) and the latest post. A caller who sees a
     rise queued in the delayed oracle cannot buy the collateral below it: the owner gives up at
     most the bonus on the debt repaid, at any of those prices (docs/margin-call.md). Every
     price read is at most MAX_PRICE or the call is refused ("margin: price above bound", as
     `exchange_price` is; `is_called` answers false), so no product below overflows whatever
     a feeder posts.

     The bonus is paid on the cure. A soft liquidation of n must cure the vault, and n - step
     (step = max(1, floor(n x CURE_TOLERANCE / WAD))) must not: so n - step < n*, the least
     cure, and the caller's bonus is at most the bonus on n* + step: the least cure plus 1 bp
     of the repayment (or 1 wei of normalized debt). (The end test is monotone in n, up to the
     collateral's rounding: each unit repaid lowers the warning requirement by at least
     rate x w and the collateral's value by at most rate x (1 + b) / ratio, as s <= P / ratio;
     where w x ratio <= 1 + b, repaying more never helps, no call cures and every one is
     refused "still called".)

     Rounding, all in the owner's favour: the collateral out rounds down; the close factor's
     limit rounds down; the warning requirement ceil(margin debt x warning / RAY) rounds up, in
     the start test (called) and the end test (no longer called) alike. The requirement is
     computed as q x warning + ceil(r x warning / RAY) for margin debt = q x RAY + r, which is
     exact and cannot overflow for any debt the engine can hold with a warning factor <= 1.5.

     Invariants kept: every soft liquidation repays exactly the debt it names from the caller
     (normalized debt x rate), moves to the caller exactly the collateral its event names and
     leaves this contract's engine balances unchanged (it holds none); the vault was called
     before and is neither called nor unsafe after. No re-entrancy lock: the only calls are
     views of the type's oracle and the Spotter (governance's choice, trusted) and the engine.
     Every check that reads the size rule goes through `_margin_debt` (the engine's rule: a
     vault is safe iff margin debt <= collateral x safe price).

     Parameters that cannot fight (issue 63, finding 3): the Backstop's deleveraging layer
     leaves a vault it charges at (1 + its buffer) x its requirement at the lowest price the
     oracle shows; a warning factor above 1 + buffer would let that charge put an opted-in
     vault in the called band. So every warning factor is at most 1 + the Backstop's buffer:
     `set_parameters` refuses one above it, and the Backstop refuses a buffer below the highest
     (`highest_warning_factor`, over the types with margin calls).
"""
from interfaces import IVaultEngine
from interfaces import IPriceOracle
from modules import constants
from modules import authorized as auth

# admins (governance) set each type's parameters and oracle; no capability roles
initializes: auth
exports: auth.__interface__


# what this contract reads on the Spotter: a type's liquidation ratio and price oracle
interface ISpotterReads:
    def liquidation_ratios(collateral_type: bytes32) -> uint256: view
    def oracles(collateral_type: bytes32) -> IPriceOracle: view


# what this contract reads on a PriceOracle besides `peek`: the queued price and the latest post
interface IQueuedPrices:
    def next_price() -> uint256: view
    def source_price() -> uint256: view


# what this contract reads on the engine besides IVaultEngine: whether an owner allowed it
interface IEngineDelegation:
    def can_act(owner: address, actor: address) -> bool: view


# what this contract reads on the Backstop: the buffer a deleveraging charge leaves [wad]
interface IDeleverageBuffer:
    def deleverage_buffer() -> uint256: view


# bounds for governance parameters
# the highest warning factor: a vault is called up to 1.5 x its required collateral value [ray]
MAX_WARNING_FACTOR: constant(uint256) = 3 * constants.RAY // 2
# the highest bonus: 5% of the debt repaid [wad]
MAX_BONUS: constant(uint256) = constants.WAD // 20
# the highest close factor: half the vault's normalized debt per call [wad]
MAX_CLOSE_FACTOR: constant(uint256) = constants.WAD // 2
# how far past the least cure a soft liquidation may repay: 1 bp of the repayment [wad]. A keeper
# reads the vault, then its transaction lands a block or more later; fees accrued in between
# (a drip raising the rate) raise the least cure, so a keeper sending exactly the cure it read
# would be refused "still called". Repaying up to the tolerance above it survives that: for a
# vault whose cure is a sixth of its debt, about an hour of fees at 5% a year. The owner gives
# up at most the bonus on 1 bp more than the cure (2e-6 of the repayment at a 2% bonus).
CURE_TOLERANCE: constant(uint256) = constants.WAD // 10_000
# the highest price this contract computes with [wad]: 1e18 stablecoin per collateral token.
# Below it price x WAD_TO_RAY x RAY (the safe price) and price x WAD_TO_RAY x WAD (the exchange
# divisor) fit in 2**256 with room; above it the call is refused, not left to overflow
MAX_PRICE: constant(uint256) = 10**36
# the most types with margin calls at once (`highest_warning_factor` reads each)
MAX_TYPES: constant(uint256) = 32
# packed_parameters' fields, each read as (word >> X_SHIFT) & FIELD_MASK: warning factor [ray]
# << 128 | bonus [wad] << 64 | close factor [wad] (bonus and close factor < 2**64, warning
# factor < 2**91)
WARNING_SHIFT: constant(uint256) = 128
BONUS_SHIFT: constant(uint256) = 64
FIELD_MASK: constant(uint256) = 2**64 - 1

# the ledger
engine: public(immutable(IVaultEngine))
# the Spotter: each type's liquidation ratio and price oracle
spotter: public(immutable(ISpotterReads))
# the Backstop: its deleverage buffer bounds every warning factor
backstop: public(immutable(IDeleverageBuffer))

# collateral type -> warning factor [ray] << 128 | bonus [wad] << 64 | close factor [wad];
# 0: the type has no margin calls (the view `parameters` unpacks it)
packed_parameters: HashMap[bytes32, uint256]
# owner -> whether its vaults (of every type) may be soft-liquidated; also needs the owner's
# VaultEngine.allow(this contract)
opted_in: public(HashMap[address, bool])
# the types with margin calls (parameters set), in no order
margin_types: DynArray[bytes32, MAX_TYPES]


event ParametersSet:
    collateral_type: indexed(bytes32)
    warning_factor: uint256
    bonus: uint256
    close_factor: uint256


event ParametersRemoved:
    collateral_type: indexed(bytes32)


event OptedIn:
    owner: indexed(address)


event OptedOut:
    owner: indexed(address)


event SoftLiquidated:
    collateral_type: indexed(bytes32)
    owner: indexed(address)
    caller: indexed(address)
    # normalized debt repaid [wad]
    normalized_debt: uint256
    # debt repaid by the caller: normalized debt x rate [rad]
    debt: uint256
    # collateral from the vault to the caller's free balance [wad]
    collateral: uint256
    # the exchange price: the highest of the oracle's current, queued and latest prices [wad]
    price: uint256
    # collateral x price - debt, the caller's bonus at the exchange price (0 if rounding left
    # none) [rad]
    bonus_value: uint256


@deploy
def __init__(engine_: IVaultEngine, spotter_: ISpotterReads, backstop_: IDeleverageBuffer):
    """
    @param engine_ The VaultEngine (no role needed: owners allow this contract).
    @param spotter_ The Spotter, whose liquidation ratios and price oracles this contract reads.
    @param backstop_ The Backstop, whose deleverage buffer bounds every warning factor.
    """
    assert backstop_.address != empty(address), "margin: zero backstop"
    engine = engine_
    spotter = spotter_
    backstop = backstop_
    auth.__init__(0)


# ---------------------------------------------------------------- administration


@external
def set_parameters(
    collateral_type: bytes32, warning_factor: uint256, bonus: uint256, close_factor: uint256
):
    """
    @notice Give a type margin calls, or change them; applies at once to every vault of the type.
    @param collateral_type The type.
    @param warning_factor [ray], above 1 ray, at most 1.5 ray and at most 1 + the Backstop's
           deleverage buffer (a charge leaves a vault there: it must not call it): a vault is
           called while its collateral value is below its required value x this factor.
    @param bonus [wad], at most 0.05 wad: the caller receives collateral worth the debt it repays
           x (1 + bonus).
    @param close_factor [wad], non-zero and at most 0.5 wad: the most normalized debt one soft
           liquidation repays, as a share of the vault's.
    """
    auth._check_authorized()
    assert warning_factor > constants.RAY, "margin: warning factor not above 1"
    assert warning_factor <= MAX_WARNING_FACTOR, "margin: warning factor above 1.5"
    assert bonus <= MAX_BONUS, "margin: bonus above 5%"
    assert close_factor != 0, "margin: zero close factor"
    assert close_factor <= MAX_CLOSE_FACTOR, "margin: close factor above 50%"
    # a deleveraging charge leaves a vault at (1 + buffer) x its requirement: not called there
    buffer: uint256 = staticcall backstop.deleverage_buffer()
    assert warning_factor <= constants.RAY + buffer * constants.WAD_TO_RAY, (
        "margin: warning above the deleverage buffer"
    )
    if self.packed_parameters[collateral_type] == 0:
        assert len(self.margin_types) < MAX_TYPES, "margin: too many types"
        self.margin_types.append(collateral_type)
    self.packed_parameters[collateral_type] = (
        warning_factor << WARNING_SHIFT | bonus << BONUS_SHIFT | close_factor
    )
    log ParametersSet(
        collateral_type=collateral_type,
        warning_factor=warning_factor,
        bonus=bonus,
        close_factor=close_factor,
    )


@external
def remove(collateral_type: bytes32):
    """
    @notice End margin calls on a type: no vault of it is called any more.
    @param collateral_type The type.
    """
    auth._check_authorized()
    if self.packed_parameters[collateral_type] != 0:
        # out of the list: the last type takes its place
        count: uint256 = len(self.margin_types)
        for i: uint256 in range(count, bound=MAX_TYPES):
            if self.margin_types[i] == collateral_type:
                self.margin_types[i] = self.margin_types[count - 1]
                # the last slot cleared, not left stale past the length
                self.margin_types[count - 1] = empty(bytes32)
                self.margin_types.pop()
                break
    self.packed_parameters[collateral_type] = 0
    log ParametersRemoved(collateral_type=collateral_type)


@view
@external
def highest_warning_factor() -> uint256:
    """
    @notice The highest warning factor of the types with margin calls (the Backstop keeps its
            deleverage buffer at or above it - 1).
    @return [ray]; 0 without margin calls.
    """
    highest: uint256 = 0
    for collateral_type: bytes32 in self.margin_types:
        highest = max(highest, self.packed_parameters[collateral_type] >> WARNING_SHIFT)
    return highest


# ---------------------------------------------------------------- owners


@external
def opt_in():
    """
    @notice Let anyone soft-liquidate the caller's called vaults (every type). Needs also the
            caller's VaultEngine.allow(this contract), which lets it free the collateral.
    """
    self.opted_in[msg.sender] = True
    log OptedIn(owner=msg.sender)


@external
def opt_out():
    """
    @notice No more soft liquidations of the caller's vaults, from now on.
    """
    self.opted_in[msg.sender] = False
    log OptedOut(owner=msg.sender)


# ---------------------------------------------------------------- soft liquidation


@external
def soft_liquidate(
    collateral_type: bytes32, owner: address, normalized_debt: uint256, min_collateral: uint256
) -> uint256:
    """
    @notice Repay `normalized_debt` of a called vault from the caller's internal stablecoin (the
            caller must have allowed this contract in the engine) for the vault's collateral
            worth the debt x (1 + bonus) at the exchange price, rounded down, to the caller's
            free balance. The vault must be called before and end above its warning level, and
            repaying max(1, floor(normalized_debt x CURE_TOLERANCE / WAD)) less must not lift
            it there (the bonus is paid on the least cure, not on more).
    @param collateral_type The type.
    @param owner The vault's owner (opted in, and allowed this contract in the engine).
    @param normalized_debt Normalized debt to repay [wad], non-zero, at most the close factor
           x the vault's normalized debt, and at most the least cure + the tolerance.
    @param min_collateral The least collateral the caller accepts [wad].
    @return The collateral received [wad].
    """
    packed: uint256 = self.packed_parameters[collateral_type]
    assert packed != 0, "margin: type not configured"
    assert self.opted_in[owner], "margin: owner not opted in"
    assert normalized_debt != 0, "margin: zero repay"
    price: uint256 = 0
    exchange_price: uint256 = 0
    price, exchange_price = self._prices(collateral_type)
    safe_price: uint256 = self._safe_price(collateral_type, price)
    warning: uint256 = packed >> WARNING_SHIFT
    rate: uint256 = 0
    type_debt: uint256 = 0
    rate, type_debt = staticcall engine.rate_and_debt(collateral_type)
    vault: IVaultEngine.Vault = staticcall engine.vaults(collateral_type, owner)
    assert self._called(
        collateral_type, vault.collateral, vault.normalized_debt * rate, safe_price, warning
    ), "margin: not called"
    # the limit rounds down (less repaid per call: the owner's side)
    assert (
        normalized_debt <= vault.normalized_debt * (packed & FIELD_MASK) // constants.WAD
    ), "margin: above close factor"

    debt: uint256 = normalized_debt * rate
    bonus: uint256 = (packed >> BONUS_SHIFT) & FIELD_MASK
    collateral: uint256 = self._collateral_out(debt, bonus, exchange_price)
    # a repayment that takes no collateral frees nothing, so the engine would not ask for the
    # owner's allowance: refused, so that every soft liquidation has both consents
    assert collateral != 0, "margin: no collateral"
    assert collateral >= min_collateral, "margin: collateral below minimum"
    # the vault must end above its warning level (so also safe); `and` stops before the
    # subtraction when the collateral does not cover the exchange
    assert collateral <= vault.collateral and not self._called_or_unsafe(
        collateral_type,
        vault.collateral - collateral,
        (vault.normalized_debt - normalized_debt) * rate,
        safe_price,
        warning,
    ), "margin: still called"
    # the bonus is paid on the cure: step less must leave the vault below its warning level.
    # step >= normalized_debt repays nothing then, and the vault was called: passes. The
    # collateral out for less is at most `collateral` <= the vault's: no underflow
    step: uint256 = max(1, normalized_debt * CURE_TOLERANCE // constants.WAD)
    if normalized_debt > step:
        less: uint256 = normalized_debt - step
        assert self._called_or_unsafe(
            collateral_type,
            vault.collateral - self._collateral_out(less * rate, bonus, exchange_price),
            (vault.normalized_debt - less) * rate,
            safe_price,
            warning,
        ), "margin: repays more than the cure"
    # the engine frees the collateral to the caller and takes the repayment from the caller's
    # balance: it checks the owner's and the caller's allowances, safety and dust
    extcall engine.modify_vault(
        collateral_type,
        owner,
        msg.sender,
        msg.sender, -convert(collateral, int256), -convert(normalized_debt, int256),
    )
    value: uint256 = collateral * exchange_price * constants.WAD_TO_RAY
    bonus_value: uint256 = 0
    if value > debt:
        bonus_value = value - debt
    log SoftLiquidated(
        collateral_type=collateral_type,
        owner=owner,
        caller=msg.sender,
        normalized_debt=normalized_debt,
        debt=debt,
        collateral=collateral,
        price=exchange_price,
        bonus_value=bonus_value,
    )
    return collateral


# ---------------------------------------------------------------- views


@view
@external
def parameters(collateral_type: bytes32) -> (uint256, uint256, uint256):
    """
    @notice A type's margin-call parameters.
    @param collateral_type The type.
    @return (warning factor [ray], bonus [wad], close factor [wad]); all 0: no margin calls.
    """
    packed: uint256 = self.packed_parameters[collateral_type]
    return packed >> WARNING_SHIFT, (packed >> BONUS_SHIFT) & FIELD_MASK, packed & FIELD_MASK


@view
@external
def is_called(collateral_type: bytes32, owner: address) -> bool:
    """
    @notice Whether a vault is called now: the type has margin calls and a valid oracle price
            (at most MAX_PRICE), and the vault is safe but below its warning level at that
            price (whether or not its owner opted in).
    @param collateral_type The type.
    @param owner The vault's owner.
    @return True if called.
    """
    packed: uint256 = self.packed_parameters[collateral_type]
    oracle: IPriceOracle = staticcall spotter.oracles(collateral_type)
    if packed == 0 or oracle.address == empty(address):
        return False
    price: uint256 = 0
    valid: bool = False
    price, valid = staticcall oracle.peek()
    if not valid or price > MAX_PRICE:
        return False
    rate: uint256 = 0
    type_debt: uint256 = 0
    rate, type_debt = staticcall engine.rate_and_debt(collateral_type)
    vault: IVaultEngine.Vault = staticcall engine.vaults(collateral_type, owner)
    return self._called(
        collateral_type,
        vault.collateral,
        vault.normalized_debt * rate,
        self._safe_price(collateral_type, price),
        packed >> WARNING_SHIFT,
    )


@view
@external
def can_soft_liquidate(collateral_type: bytes32, owner: address) -> bool:
    """
    @notice Whether a vault's owner lets it be soft-liquidated now: opted in here and allowed
            this contract in the engine (whether the vault is called: `is_called`).
    @param collateral_type The type (kept for symmetry with is_called; opting in covers every type).
    @param owner The vault's owner.
    @return True if both consents are given.
    """
    return self.opted_in[owner] and staticcall IEngineDelegation(engine.address).can_act(
        owner, self
    )


@view
@external
def max_repay(collateral_type: bytes32, owner: address) -> uint256:
    """
    @notice The most normalized debt one soft liquidation of a vault may repay now.
    @param collateral_type The type.
    @param owner The vault's owner.
    @return floor(normalized debt x close factor) [wad]; 0 without margin calls.
    """
    vault: IVaultEngine.Vault = staticcall engine.vaults(collateral_type, owner)
    return (
        vault.normalized_debt
        * (self.packed_parameters[collateral_type] & FIELD_MASK) // constants.WAD
    )


@view
@external
def exchange_price(collateral_type: bytes32) -> uint256:
    """
    @notice The price a soft liquidation would pay collateral at now (reverts without a valid
            price, or above MAX_PRICE): the highest of the oracle's current, queued and latest
            prices.
    @param collateral_type The type.
    @return [wad].
    """
    price: uint256 = 0
    exchange: uint256 = 0
    price, exchange = self._prices(collateral_type)
    return exchange


# ---------------------------------------------------------------- internal


@view
@internal
def _prices(collateral_type: bytes32) -> (uint256, uint256):
    # (the current price, the exchange price) [wad], from the Spotter's oracle for the type; an
    # invalid current price: no soft liquidation. The exchange price is at least the current
    # one, so one bound on it bounds both
    oracle: IPriceOracle = staticcall spotter.oracles(collateral_type)
    assert oracle.address != empty(address), "margin: no oracle"
    price: uint256 = 0
    valid: bool = False
    price, valid = staticcall oracle.peek()
    assert valid, "margin: invalid price"
    queued: IQueuedPrices = IQueuedPrices(oracle.address)
    exchange: uint256 = max(
        price, max(staticcall queued.next_price(), staticcall queued.source_price())
    )
    assert exchange <= MAX_PRICE, "margin: price above bound"
    return price, exchange


@view
@internal
def _safe_price(collateral_type: bytes32, price: uint256) -> uint256:
    # what Spotter.poke would set: floor(price / liquidation ratio) [ray]
    ratio: uint256 = staticcall spotter.liquidation_ratios(collateral_type)
    assert ratio != 0, "margin: no liquidation ratio"
    return price * constants.WAD_TO_RAY * constants.RAY // ratio


@pure
@internal
def _collateral_out(debt: uint256, bonus: uint256, exchange_price: uint256) -> uint256:
    # floor(debt x (1 + bonus) / exchange price) [rad x wad / (ray x wad) = wad]; rounds down:
    # the owner keeps the remainder. exchange price <= MAX_PRICE: the divisor fits
    return debt * (constants.WAD + bonus) // (exchange_price * constants.WAD_TO_RAY * constants.WAD)


@view
@internal
def _margin_debt(collateral_type: bytes32, debt: uint256) -> uint256:
    # the debt the engine's safety rule weighs [rad] (its size margin): the one place the size
    # rule enters
    return staticcall engine.margin_debt(collateral_type, debt)


@view
@internal
def _warning_requirement(margin_debt: uint256, warning: uint256) -> uint256:
    # ceil(margin debt x warning / RAY) [rad], exact: margin debt = q x RAY + r
    return margin_debt // constants.RAY * warning + (
        (margin_debt % constants.RAY * warning + constants.RAY - 1) // constants.RAY
    )


@view
@internal
def _called(
    collateral_type: bytes32,
    collateral: uint256,
    debt: uint256,
    safe_price: uint256,
    warning: uint256,
) -> bool:
    # safe at the liquidation ratio, below the warning level
    margin_debt: uint256 = self._margin_debt(collateral_type, debt)
    value: uint256 = collateral * safe_price
    return margin_debt <= value and self._warning_requirement(margin_debt, warning) > value


@view
@internal
def _called_or_unsafe(
    collateral_type: bytes32,
    collateral: uint256,
    debt: uint256,
    safe_price: uint256,
    warning: uint256,
) -> bool:
    # below the warning level (called, or unsafe: the requirement is at least the margin debt)
    return (
        self._warning_requirement(self._margin_debt(collateral_type, debt), warning)
        > collateral * safe_price
    )
