# pragma version ~=0.4.3
"""
@title deleverage
@notice The Backstop's deleveraging layer: a type's loss the waterfall parks here is charged to
        the listed vaults, each at most the share of its headroom (above a buffer over its
        requirement at the lowest price the type's oracle shows) the caller gives it, all scaled
        down together when they would charge more than the due (`_deleverage`, behind the
        Backstop's DELEVERAGE role: the keeper gives each vault the share that brings it down to
        the common strength level, offchain/model/deleverage.py). Bound (issue 45, finding 1):
        per vault and window of `deleverage_interval` seconds, the shares of its headroom
        charged add up to at most `deleverage_max_fraction` (the max fraction in force at each
        charge): a vault's window opens at its first charge, and each charge adds its share to
        the window's used share; a window older than the interval restarts at 0 used. A small
        charge therefore takes a small part of a vault's room for the window, not the whole
        window (as the CeilingManager's window bounds the ceiling's rise, not the number of
        raises). A call never charges more than the due, and a vault never more than its given
        share (issue 63, finding 2: the shares replace one fraction for the whole list, which
        cut a tie of strengths at the list's end).
@dev Compiled into the Backstop (`initializes: deleverage`, placed where these words were in
     its storage: the same slots; `deleverage_windows` takes the slot of the former
     `last_deleveraged` map). The Backstop checks roles and liveness and calls the internal
     functions; it writes two words itself: `cover` adds a loss the layer takes to
     `due_to_deleverage` and `deleverage_total` (inline: an internal call would cost every such
     cover 36 gas), and `shutdown` moves `deleverage_total` to settlement debt. The off-chain twin is
     offchain/model/deleverage.py (pure functions; offchain/model/backstop.py calls them).
"""
from . import constants
from . import size_margin as sizing
from ..interfaces import IVaultEngine


# what `_deleverage` reads on the Spotter and a type's PriceOracle: the prices the oracle shows
# (in effect, queued, and the latest post), which the engine's safe price may not show yet
interface ISpotterPrices:
    def oracles(collateral_type: bytes32) -> address: view
    def liquidation_ratios(collateral_type: bytes32) -> uint256: view


interface IOraclePrices:
    def current_price() -> uint256: view
    def next_price() -> uint256: view
    def source_price() -> uint256: view


# what `_set_buffer` reads on the MarginCall: the highest warning factor of its types [ray]
interface IMarginCallWarnings:
    def highest_warning_factor() -> uint256: view


# the most vaults one `deleverage` charges
MAX_VAULTS: constant(uint256) = 50
# the largest buffer governance may set: a charged vault keeps twice its requirement
MAX_BUFFER: constant(uint256) = constants.WAD
# the buffer at deployment: 25% above the liquidation requirement (at least the margin call's
# warning factors, 1.2 at deployment, so that a charge does not put a vault in the called band:
# `_check_warnings`)
DEFAULT_BUFFER: constant(uint256) = constants.WAD // 4
# at deployment, a vault pays at most half its headroom per window of a day
DEFAULT_MAX_FRACTION: constant(uint256) = constants.WAD // 2
DEFAULT_INTERVAL: constant(uint256) = 86400
MAX_INTERVAL: constant(uint256) = 365 * 86400
# the highest oracle price the lowest shown price takes [wad]: 1e18 stablecoin per token (as
# MarginCall's MAX_PRICE); a higher one (a post with no max_change) is skipped, never a candidate
# whose price x 1e36 would overflow (it could only be the lowest where every price is above it)
MAX_PRICE: constant(uint256) = 10**36
# a vault's window word: its start [unix seconds] << USED_BITS | the share used in it [wad, at
# most 1 wad < 2**60]
USED_BITS: constant(uint256) = 64
USED_MASK: constant(uint256) = 2**USED_BITS - 1

# a deleveraged vault keeps its collateral value at least (1 + buffer) x its requirement [wad]
deleverage_buffer: uint256
# the most of a vault's headroom charged within one window [wad, in (0, 1]]
deleverage_max_fraction: uint256
# a window's length [seconds]
deleverage_interval: uint256
# type -> owner -> the vault's window: start [unix seconds] << 64 | share used [wad]
# (`_pack_window`, `_unpack_window`; the Backstop's view `deleverage_window`)
deleverage_windows: HashMap[bytes32, HashMap[address, uint256]]
# per type: loss handed to the deleveraging layer, not yet charged to vaults [rad] (live only;
# the Backstop's view `deleverage_due` reads 0 after shutdown, when the total moved to
# settlement_debt)
due_to_deleverage: HashMap[bytes32, uint256]
# the sum of due_to_deleverage over the types while live; 0 after shutdown [rad]
deleverage_total: uint256
# the MarginCall whose warning factors the buffer stays at or above (issue 63, finding 3: a
# charge leaves a vault at 1 + buffer x its requirement, which must not be in the called band);
# empty until governance links it
margin_call: IMarginCallWarnings


event DeleverageBufferSet:
    buffer: uint256


event DeleverageLimitsSet:
    max_fraction: uint256
    interval: uint256


event MarginCallSet:
    margin_call: address


event DeleverageReleased:
    collateral_type: indexed(bytes32)
    amount: uint256


event VaultDeleveraged:
    collateral_type: indexed(bytes32)
    owner: indexed(address)
    normalized_debt: uint256
    debt: uint256


event Deleveraged:
    collateral_type: indexed(bytes32)
    charged: uint256
    due: uint256


@deploy
def __init__():
    self.deleverage_buffer = DEFAULT_BUFFER
    self.deleverage_max_fraction = DEFAULT_MAX_FRACTION
    self.deleverage_interval = DEFAULT_INTERVAL
    log DeleverageBufferSet(buffer=DEFAULT_BUFFER)
    log DeleverageLimitsSet(max_fraction=DEFAULT_MAX_FRACTION, interval=DEFAULT_INTERVAL)


@pure
@internal
def _pack_window(start: uint256, used: uint256) -> uint256:
    # used <= 1 wad < 2**64; start is a block timestamp (below 2**192 for ever)
    return start << USED_BITS | used


@pure
@internal
def _unpack_window(word: uint256) -> (uint256, uint256):
    return word >> USED_BITS, word & USED_MASK


@view
@internal
def _check_warnings(buffer: uint256, margin_call: IMarginCallWarnings):
    # every warning factor at most 1 + buffer (ray): a charge never leaves a vault called
    if margin_call.address != empty(address):
        highest: uint256 = staticcall margin_call.highest_warning_factor()
        assert highest <= constants.RAY + buffer * constants.WAD_TO_RAY, (
            "backstop: buffer below a warning factor"
        )


@internal
def _set_buffer(buffer: uint256):
    assert buffer <= MAX_BUFFER, "backstop: buffer too large"
    self._check_warnings(buffer, self.margin_call)
    self.deleverage_buffer = buffer
    log DeleverageBufferSet(buffer=buffer)


@internal
def _set_margin_call(margin_call: IMarginCallWarnings):
    assert margin_call.address != empty(address), "backstop: zero margin call"
    self._check_warnings(self.deleverage_buffer, margin_call)
    self.margin_call = margin_call
    log MarginCallSet(margin_call=margin_call.address)


@internal
def _set_limits(max_fraction: uint256, interval: uint256):
    assert max_fraction != 0 and max_fraction <= constants.WAD, "backstop: bad max fraction"
    assert interval <= MAX_INTERVAL, "backstop: interval too long"
    self.deleverage_max_fraction = max_fraction
    self.deleverage_interval = interval
    log DeleverageLimitsSet(max_fraction=max_fraction, interval=interval)


@internal
def _release(collateral_type: bytes32, amount: uint256):
    due: uint256 = self.due_to_deleverage[collateral_type]
    assert amount != 0 and amount <= due, "backstop: bad release"
    self.due_to_deleverage[collateral_type] = unsafe_sub(due, amount)
    # amount <= due <= deleverage_total
    self.deleverage_total = unsafe_sub(self.deleverage_total, amount)
    log DeleverageReleased(collateral_type=collateral_type, amount=amount)


@view
@internal
def _lowest_safe_price(
    engine: IVaultEngine, spotter: ISpotterPrices, collateral_type: bytes32
) -> uint256:
    # the engine's safe price, or lower: each non-zero price the type's oracle shows (in effect,
    # queued, latest posted; at most MAX_PRICE) over the liquidation ratio, rounded down as
    # Spotter.poke does
    lowest: uint256 = staticcall engine.safe_price(collateral_type)
    oracle: address = staticcall spotter.oracles(collateral_type)
    ratio: uint256 = staticcall spotter.liquidation_ratios(collateral_type)
    if oracle == empty(address) or ratio == 0:
        return lowest
    prices: IOraclePrices = IOraclePrices(oracle)
    for price: uint256 in [
        staticcall prices.current_price(),
        staticcall prices.next_price(),
        staticcall prices.source_price(),
    ]:
        if price != 0 and price <= MAX_PRICE:
            lowest = min(lowest, price * constants.WAD_TO_RAY * constants.RAY // ratio)
    return lowest


@internal
def _deleverage(
    engine: IVaultEngine,
    spotter: ISpotterPrices,
    collateral_type: bytes32,
    owners: DynArray[address, MAX_VAULTS],
    shares: DynArray[uint256, MAX_VAULTS],
) -> uint256:
    # Backstop.deleverage's body (its NatSpec states the rule), after the role and live checks
    due: uint256 = self.due_to_deleverage[collateral_type]
    assert due != 0, "backstop: nothing to deleverage"
    assert len(shares) == len(owners), "backstop: one share per owner"
    rate: uint256 = 0
    type_debt: uint256 = 0
    rate, type_debt = staticcall engine.rate_and_debt(collateral_type)
    safe_price: uint256 = self._lowest_safe_price(engine, spotter, collateral_type)
    size: uint256 = staticcall engine.size_margin_word(collateral_type)
    buffered: uint256 = constants.WAD + self.deleverage_buffer
    max_fraction: uint256 = self.deleverage_max_fraction
    interval: uint256 = self.deleverage_interval
    # first pass: each vault's normalized debt, limit (its value at the buffer), headroom, and
    # window (the share it may still pay in it; a new window when its last one has ended), and
    # the sum of what the listed vaults would pay at their shares (each rounded up, so that
    # the sum bounds the charges from above)
    debts: DynArray[uint256, MAX_VAULTS] = []
    limits: DynArray[uint256, MAX_VAULTS] = []
    headrooms: DynArray[uint256, MAX_VAULTS] = []
    # each vault's window word as the charge will find it (a new one when its last has ended)
    windows: DynArray[uint256, MAX_VAULTS] = []
    total: uint256 = 0
    previous: uint256 = 0
    for i: uint256 in range(len(owners), bound=MAX_VAULTS):
        owner: address = owners[i]
        key: uint256 = convert(owner, uint256)
        assert key > previous, "backstop: owners not ascending"
        previous = key
        vault: IVaultEngine.Vault = staticcall engine.vaults(collateral_type, owner)
        # floor(value x WAD / buffered), computed without value x WAD (buffered >= WAD)
        value: uint256 = vault.collateral * safe_price
        limit: uint256 = (
            value // buffered * constants.WAD + value % buffered * constants.WAD // buffered
        )
        need: uint256 = sizing.margin_debt(vault.normalized_debt * rate, size)
        # the window word, read through its masks in this loop (an internal call of
        # _unpack_window per vault would cost more): start above USED_BITS, used below
        window: uint256 = self.deleverage_windows[collateral_type][owner]
        if (window >> USED_BITS) + interval <= block.timestamp:
            # the window has ended (or none opened): a charge now opens one, at 0 used
            window = self._pack_window(block.timestamp, 0)
        used: uint256 = window & USED_MASK
        headroom: uint256 = 0
        if vault.normalized_debt != 0 and limit > need and used < max_fraction:
            headroom = unsafe_sub(limit, need)
            # ceil(headroom x share / WAD), the share at most what the window has left
            # (used < max_fraction)
            wanted: uint256 = headroom * min(shares[i], unsafe_sub(max_fraction, used))
            total += wanted // constants.WAD
            if wanted % constants.WAD != 0:
                total += 1
        debts.append(vault.normalized_debt)
        limits.append(limit)
        headrooms.append(headroom)
        windows.append(window)
    # second pass: the charges. Each vault pays min(its share, the share its window has left)
    # of its headroom, as normalized debt rounded down; when that would add up to more than
    # the due, every share is scaled by due / total in wad (rounded down), so the charges add
    # up to at most the due, and a vault's shares in a window to at most the max fraction
    scaled: bool = total > due
    scale: uint256 = 0
    if scaled:
        scale = due * constants.WAD // total
    charged: uint256 = 0
    for i: uint256 in range(len(owners), bound=MAX_VAULTS):
        headroom: uint256 = headrooms[i]
        if headroom == 0:
            continue
        # used < max_fraction (a vault without share left has no headroom here)
        share: uint256 = min(shares[i], unsafe_sub(max_fraction, windows[i] & USED_MASK))
        if scaled:
            share = share * scale // constants.WAD
        added: uint256 = headroom * share // constants.WAD // rate
        if added == 0:
            continue
        # the vault after the charge keeps its requirement with the buffer (always, without a
        # size margin: margin_debt grows by added x rate <= headroom)
        if sizing.margin_debt((debts[i] + added) * rate, size) > limits[i]:
            continue
        owner: address = owners[i]
        # the window's used share grows by `share`: used + share <= max_fraction <= 1 wad <
        # 2**USED_BITS, so the sum stays in its field (the start above it unchanged)
        self.deleverage_windows[collateral_type][owner] = unsafe_add(windows[i], share)
        # the engine moves added x rate of the Backstop's bad debt into the vault
        extcall engine.seize(collateral_type, owner, self, self, 0, convert(added, int256))
        charged += added * rate
        log VaultDeleveraged(
            collateral_type=collateral_type, owner=owner, normalized_debt=added, debt=added * rate
        )
    # charged <= the sum of floor(headroom x share / WAD) <= due: unscaled, that sum is at most
    # total <= due; scaled, at most (scale / WAD) x total <= due
    due = unsafe_sub(due, charged)
    self.due_to_deleverage[collateral_type] = due
    self.deleverage_total = unsafe_sub(self.deleverage_total, charged)
    log Deleveraged(collateral_type=collateral_type, charged=charged, due=due)
    return charged
