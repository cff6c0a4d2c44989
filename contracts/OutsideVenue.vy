# pragma version ~=0.4.3
"""
@title OutsideVenue
@notice The market beyond the keepers' pool, as a chain sees it: the lab's (and a devnet's)
        stand-in for the exchanges where a flash keeper sells an auction's lot inside its take
        (MakerDAO's exchange callees, K2 of docs/market.md). It quotes the square-root law of
        market impact of the lab's venue (offchain/sim/market/venue.py) from what the market's
        driver syncs at the start of a block: the effective flow the venue remembers before the
        block, the curve's coefficient and depth for the bar, and the fundamental price in
        stablecoin. A sale walks the curve from that flow plus the block's sales so far; a sale
        in a block the driver did not sync is refused (the quote would be stale: the memory
        decays every second, and its exact sum over every earlier flow is no contract's to
        loop). It pays from the stablecoin the driver deposits and keeps the collateral; the
        driver records each block's flow in its venue and takes both out (`withdraw`).
@dev Not part of the protocol: a lab and devnet contract, like CollateralPool (no dss analogue;
     on mainnet the venue is an exchange). Sales only (a flash take sells). The curve is
     offchain/model/venue_curve.py, `walk` (its one home off chain), restated here for a sale:
     value = F x (x - c x 2/3 x (h(Q0 + x) - h(Q0))), h(Q) = |Q|^(3/2), c = num / WAD / root_v,
     at least FLOOR x F per token for what the curve would price below it; the cost rounds up
     and the value down (the venue never loses a wei). The bounds `sync` and `swap` keep make
     every product fit 256 bits. Twin: offchain/model/outside_venue.py.
"""
from ethereum.ercs import IERC20
from modules import constants

WAD: constant(uint256) = constants.WAD
# the lowest price the curve gives, as a share of the fundamental [wad] (venue_curve.FLOOR)
FLOOR: constant(uint256) = WAD // 20
# bounds on what the driver syncs and a sale (every product below then fits 256 bits)
MAX_FLOW: constant(uint256) = 2**100
MAX_NUM: constant(uint256) = 2**128
MAX_ROOT_V: constant(uint256) = 2**128
MAX_FUNDAMENTAL: constant(uint256) = 2**96
# a floor quantity whose square root reaches this is beyond any flow (no floor)
MAX_FLOOR_ROOT: constant(uint256) = 2**100
NO_FLOOR: constant(int256) = 2**200

# the market's driver: syncs, deposits, withdraws
market: public(immutable(address))
collateral_token: public(immutable(IERC20))
stable_token: public(immutable(IERC20))
# collateral token units -> wad
scale: public(immutable(uint256))

# when the curve below was synced [s]: sales only in that block's time
synced_at: public(uint256)
# the effective flow the venue remembers at the sync [signed tokens, wad; sales positive]
flow: public(int256)
# the curve's coefficient Y x sigma [wad x wad] and depth sqrt(V) [wad] for the bar
num: public(uint256)
root_v: public(uint256)
# the fundamental price [stablecoin per token, wad]
fundamental: public(uint256)
# tokens sold since the sync [wad]
sold: public(uint256)


event Synced:
    flow: int256
    num: uint256
    root_v: uint256
    fundamental: uint256


event Sold:
    trader: indexed(address)
    recipient: indexed(address)
    amount_in: uint256
    amount_out: uint256
    floored: bool


@deploy
def __init__(collateral_token_: IERC20, stable_token_: IERC20, decimals: uint256):
    """
    @param collateral_token_ The collateral ERC-20.
    @param stable_token_ The stablecoin ERC-20 (18 decimals).
    @param decimals The collateral token's decimals (at most 18).
    """
    assert decimals <= 18, "venue: decimals above 18"
    market = msg.sender
    collateral_token = collateral_token_
    stable_token = stable_token_
    scale = 10**(18 - decimals)


@external
def sync(flow: int256, num: uint256, root_v: uint256, fundamental: uint256):
    """
    @notice The driver's quote for this block (the market only): sales in this block walk the
            curve from `flow`.
    @param flow The effective flow before this block [signed tokens, wad].
    @param num Y x sigma for the bar [wad x wad].
    @param root_v sqrt(V) for the bar [wad].
    @param fundamental The fundamental price [stablecoin per token, wad].
    """
    assert msg.sender == market, "venue: not the market"
    assert abs(flow) < convert(MAX_FLOW, int256), "venue: flow out of range"
    assert num < MAX_NUM and root_v < MAX_ROOT_V, "venue: depth out of range"
    assert fundamental < MAX_FUNDAMENTAL, "venue: price out of range"
    self.synced_at = block.timestamp
    self.flow = flow
    self.num = num
    self.root_v = root_v
    self.fundamental = fundamental
    self.sold = 0
    log Synced(flow=flow, num=num, root_v=root_v, fundamental=fundamental)


@external
def swap(collateral_in: bool, amount_in: uint256, min_out: uint256, recipient: address) -> uint256:
    """
    @notice Sell `amount_in` collateral tokens for stablecoin at the synced curve (the same
            call as CollateralPool.swap, so a flash taker sells to either).
    @param collateral_in Must be True: the venue only buys collateral here.
    @param amount_in Collateral tokens sold (pulled from the caller) [token units].
    @param min_out Revert if less stablecoin would be paid [wad].
    @param recipient Who receives the stablecoin.
    @return Stablecoin paid [wad].
    """
    assert collateral_in, "venue: sales only"
    assert amount_in != 0, "venue: zero amount"
    assert block.timestamp == self.synced_at, "venue: not synced"
    tokens: uint256 = amount_in * scale
    sold: uint256 = self.sold
    assert tokens < MAX_FLOW and sold + tokens < MAX_FLOW, "venue: sale too large"
    # |flow| < 2**100 and sold + tokens < 2**100: q0 and the end fit 2**101
    q0: int256 = self.flow + convert(sold, int256)
    paid: uint256 = 0
    floored: bool = False
    paid, floored = self._walk(q0, tokens)
    assert paid != 0, "venue: zero output"
    assert paid >= min_out, "venue: slippage"
    self.sold = sold + tokens
    assert extcall collateral_token.transferFrom(
        msg.sender, self, amount_in, default_return_value=True
    ), "venue: transfer failed"
    assert extcall stable_token.transfer(recipient, paid, default_return_value=True), (
        "venue: transfer failed"
    )
    log Sold(
        trader=msg.sender,
        recipient=recipient,
        amount_in=amount_in,
        amount_out=paid,
        floored=floored,
    )
    return paid


@external
def withdraw(token: IERC20, amount: uint256, recipient: address):
    """
    @notice Take tokens the venue holds out (the market only): the collateral it bought, the
            stablecoin it did not pay.
    @param token The collateral or the stablecoin.
    @param amount [token units].
    @param recipient Who receives them.
    """
    assert msg.sender == market, "venue: not the market"
    assert extcall token.transfer(recipient, amount, default_return_value=True), (
        "venue: transfer failed"
    )


@view
@external
def quote(amount_in: uint256) -> uint256:
    """
    @notice What a sale of `amount_in` collateral tokens would be paid now [wad]; 0 outside the
            synced block.
    @param amount_in [token units].
    @return Stablecoin [wad].
    """
    if block.timestamp != self.synced_at or amount_in == 0:
        return 0
    tokens: uint256 = amount_in * scale
    if tokens >= MAX_FLOW or self.sold + tokens >= MAX_FLOW:
        return 0
    return self._walk(self.flow + convert(self.sold, int256), tokens)[0]


@view
@internal
def _walk(q0: int256, tokens: uint256) -> (uint256, bool):
    # venue_curve.walk for a sale (tokens > 0): (value [wad], floored)
    num: uint256 = self.num
    root_v: uint256 = self.root_v
    fundamental: uint256 = self.fundamental
    if root_v == 0 or num == 0:
        return tokens * fundamental // WAD, False
    # the flow at which the marginal price reaches the floor: c sqrt(Q) = 1 - FLOOR
    floor_root: uint256 = (WAD - FLOOR) * root_v * WAD // num
    q_floor: int256 = NO_FLOOR
    if floor_root < MAX_FLOOR_ROOT:
        q_floor = convert(floor_root * floor_root // WAD, int256)
    end: int256 = q0 + convert(tokens, int256)
    curve_end: int256 = end
    floored: bool = False
    if end > q_floor:
        curve_end = max(q_floor, q0)
        floored = True
    # tokens walked on the curve (>= 0: curve_end >= q0 for a sale)
    walked: uint256 = convert(curve_end - q0, uint256)
    # the walk's cost in tokens' worth, rounded up; may be negative where the walk crosses
    # flow the venue bought (a price above the fundamental there)
    dh: int256 = convert(self._h(curve_end), int256) - convert(self._h(q0), int256)
    numerator: int256 = 2 * convert(num, int256) * dh
    denominator: int256 = convert(3 * WAD * root_v, int256)
    cost: int256 = 0
    if numerator >= 0:
        cost = (numerator + denominator - 1) // denominator
    else:
        # Vyper's signed division truncates toward zero: the ceiling of a negative quotient
        cost = numerator // denominator
    value_tokens: int256 = convert(walked, int256) - cost
    # at the fundamental, rounded down (toward minus infinity, as the model's floor division)
    value: int256 = 0
    if value_tokens >= 0:
        value = convert(convert(value_tokens, uint256) * fundamental // WAD, int256)
    else:
        value = -convert((convert(-value_tokens, uint256) * fundamental + WAD - 1) // WAD, int256)
    if floored:
        value += convert(
            convert(end - curve_end, uint256) * fundamental * FLOOR // (WAD * WAD), int256
        )
    return convert(max(value, 0), uint256), floored


@pure
@internal
def _h(q: int256) -> uint256:
    # |q|^(3/2), wad-scaled, rounded down (venue_curve.h)
    a: uint256 = convert(abs(q), uint256)
    return a * isqrt(a * WAD) // WAD
