# pragma version ~=0.4.3
"""
@title CollateralPool
@notice A constant-product market between one collateral token and the stablecoin (both
        ERC-20), with a fee on the input. Keepers sell seized collateral into it: its liquidity
        is finite, so a large sale moves the price against the seller, as on a crash day.
@dev DSS-era analogue: a Uniswap v2 pair, simplified: reserves are tracked by the pool (tokens
     sent to it directly are ignored), no flash swaps, no price oracle, liquidity shares are
     internal (not a token). Keeps: reserve_collateral * reserve_stable never decreases through
     a swap. Rounding: amounts out and shares minted round down, in the pool's favour.
"""
from ethereum.ercs import IERC20
from modules import constants

# the highest fee: 10% [wad]
MAX_FEE: constant(uint256) = constants.WAD // 10

# the collateral token
collateral_token: public(immutable(IERC20))
# the stablecoin
stable_token: public(immutable(IERC20))
# fee on the input of a swap [wad]
fee: public(immutable(uint256))

# reserves [token units]
reserve_collateral: public(uint256)
reserve_stable: public(uint256)
# liquidity shares
total_shares: public(uint256)
shares: public(HashMap[address, uint256])


event LiquidityAdded:
    provider: indexed(address)
    collateral: uint256
    stable: uint256
    shares: uint256


event LiquidityRemoved:
    provider: indexed(address)
    collateral: uint256
    stable: uint256
    shares: uint256


event Swapped:
    trader: indexed(address)
    recipient: indexed(address)
    collateral_in: bool
    amount_in: uint256
    amount_out: uint256


@deploy
def __init__(collateral_token_: IERC20, stable_token_: IERC20, fee_: uint256):
    """
    @param collateral_token_ The collateral ERC-20.
    @param stable_token_ The stablecoin ERC-20.
    @param fee_ Fee on the input [wad], at most 10%.
    """
    assert fee_ <= MAX_FEE, "pool: fee above 10%"
    assert collateral_token_.address != stable_token_.address, "pool: same token"
    collateral_token = collateral_token_
    stable_token = stable_token_
    fee = fee_


@external
def add_liquidity(
    collateral_amount: uint256, stable_amount: uint256, min_shares: uint256
) -> uint256:
    """
    @notice Deposit both tokens for liquidity shares. Deposit in the pool's ratio: any excess
            of one token over the ratio is a gift to the other providers.
    @param collateral_amount Collateral tokens.
    @param stable_amount Stablecoins.
    @param min_shares Revert if fewer shares would be minted.
    @return Shares minted.
    """
    assert collateral_amount != 0 and stable_amount != 0, "pool: zero amount"
    minted: uint256 = 0
    total: uint256 = self.total_shares
    if total == 0:
        minted = isqrt(collateral_amount * stable_amount)
    else:
        minted = min(
            collateral_amount * total // self.reserve_collateral,
            stable_amount * total // self.reserve_stable,
        )
    assert minted != 0, "pool: zero shares"
    assert minted >= min_shares, "pool: slippage"
    self.total_shares = total + minted
    self.shares[msg.sender] += minted
    self.reserve_collateral += collateral_amount
    self.reserve_stable += stable_amount
    assert extcall collateral_token.transferFrom(
        msg.sender, self, collateral_amount, default_return_value=True
    ), "pool: transfer failed"
    assert extcall stable_token.transferFrom(
        msg.sender, self, stable_amount, default_return_value=True
    ), "pool: transfer failed"
    log LiquidityAdded(
        provider=msg.sender, collateral=collateral_amount, stable=stable_amount, shares=minted
    )
    return minted


@external
def remove_liquidity(
    share_amount: uint256, min_collateral: uint256, min_stable: uint256
) -> (uint256, uint256):
    """
    @notice Burn liquidity shares for both tokens, pro rata.
    @param share_amount Shares to burn.
    @param min_collateral Revert if less collateral would be paid.
    @param min_stable Revert if fewer stablecoins would be paid.
    @return (collateral, stable) paid.
    """
    assert self.shares[msg.sender] >= share_amount, "pool: insufficient shares"
    total: uint256 = self.total_shares
    collateral_out: uint256 = share_amount * self.reserve_collateral // total
    stable_out: uint256 = share_amount * self.reserve_stable // total
    assert collateral_out >= min_collateral and stable_out >= min_stable, "pool: slippage"
    self.shares[msg.sender] -= share_amount
    self.total_shares = total - share_amount
    self.reserve_collateral -= collateral_out
    self.reserve_stable -= stable_out
    assert extcall collateral_token.transfer(
        msg.sender, collateral_out, default_return_value=True
    ), "pool: transfer failed"
    assert extcall stable_token.transfer(
        msg.sender, stable_out, default_return_value=True
    ), "pool: transfer failed"
    log LiquidityRemoved(
        provider=msg.sender, collateral=collateral_out, stable=stable_out, shares=share_amount
    )
    return collateral_out, stable_out


@external
def swap(collateral_in: bool, amount_in: uint256, min_out: uint256, recipient: address) -> uint256:
    """
    @notice Sell `amount_in` of one token for the other.
    @param collateral_in True: sell collateral for stablecoin; False: the reverse.
    @param amount_in Tokens sold (pulled from the caller).
    @param min_out Revert if fewer tokens would be bought.
    @param recipient Who receives the tokens bought.
    @return Tokens bought.
    """
    assert amount_in != 0, "pool: zero amount"
    reserve_in: uint256 = self.reserve_stable
    reserve_out: uint256 = self.reserve_collateral
    if collateral_in:
        reserve_in = self.reserve_collateral
        reserve_out = self.reserve_stable
    amount_out: uint256 = self._amount_out(amount_in, reserve_in, reserve_out)
    assert amount_out != 0, "pool: zero output"
    assert amount_out >= min_out, "pool: slippage"
    token_in: IERC20 = stable_token
    token_out: IERC20 = collateral_token
    if collateral_in:
        token_in = collateral_token
        token_out = stable_token
        self.reserve_collateral = reserve_in + amount_in
        self.reserve_stable = reserve_out - amount_out
    else:
        self.reserve_stable = reserve_in + amount_in
        self.reserve_collateral = reserve_out - amount_out
    assert extcall token_in.transferFrom(
        msg.sender, self, amount_in, default_return_value=True
    ), "pool: transfer failed"
    assert extcall token_out.transfer(
        recipient, amount_out, default_return_value=True
    ), "pool: transfer failed"
    log Swapped(
        trader=msg.sender,
        recipient=recipient,
        collateral_in=collateral_in,
        amount_in=amount_in,
        amount_out=amount_out,
    )
    return amount_out


@view
@external
def quote(collateral_in: bool, amount_in: uint256) -> uint256:
    """
    @notice What a swap of `amount_in` would buy now.
    @param collateral_in Direction, as in `swap`.
    @param amount_in Tokens sold.
    @return Tokens bought.
    """
    if collateral_in:
        return self._amount_out(amount_in, self.reserve_collateral, self.reserve_stable)
    return self._amount_out(amount_in, self.reserve_stable, self.reserve_collateral)


@view
@internal
def _amount_out(amount_in: uint256, reserve_in: uint256, reserve_out: uint256) -> uint256:
    assert reserve_in != 0 and reserve_out != 0, "pool: no liquidity"
    in_after_fee: uint256 = amount_in * (constants.WAD - fee)
    # rounds down: the pool never pays out more than the curve allows
    return in_after_fee * reserve_out // (reserve_in * constants.WAD + in_after_fee)
