# pragma version ~=0.4.3
"""
@title FlashTaker
@notice Takes a Dutch auction with no capital: in the auction's callback it withdraws the
        collateral, sells it into the market the take names (the keepers' CollateralPool, or
        the outside venue where it has one: an OutsideVenue in the lab, an exchange on
        mainnet), turns the stablecoin back into internal stablecoin, and lets the auction
        collect its payment; what is left is the owner's profit. Reverts if that profit is
        below the caller's minimum.
@dev DSS analogue: an exchange callee (UniswapV2Callee) for the Clipper. Only its owner may
     start a take; only the auction may call back, and only for a take this contract started,
     so the market the callback sells into (carried in the callback's data) is the pool or
     the venue, never another. Collateral below one token unit (tokens with < 18 decimals)
     stays in the engine as this contract's free collateral.
"""
from ethereum.ercs import IERC20
from interfaces import IVaultEngine
from interfaces import IDutchAuction
from interfaces import IAuctionCallee

implements: IAuctionCallee


interface ICollateralJoin:
    def exit(recipient: address, amount: uint256): nonpayable
    def scale() -> uint256: view


interface IStableJoin:
    def join(account: address, amount: uint256): nonpayable
    def exit(recipient: address, amount: uint256): nonpayable


# the pool's swap, which the OutsideVenue shares (it only buys collateral)
interface ICollateralPool:
    def swap(
        collateral_in: bool, amount_in: uint256, min_out: uint256, recipient: address
    ) -> uint256: nonpayable


UNLIMITED: constant(uint256) = max_value(uint256)

# who may take and withdraw profits
owner: public(immutable(address))
engine: public(immutable(IVaultEngine))
auction: public(immutable(IDutchAuction))
collateral_join: public(immutable(ICollateralJoin))
stable_join: public(immutable(IStableJoin))
pool: public(immutable(ICollateralPool))
# the outside venue a take may sell on instead of the pool; empty: none
venue: public(immutable(ICollateralPool))
# collateral token units -> wad
scale: public(immutable(uint256))


event FlashTaken:
    auction_id: indexed(uint256)
    collateral: uint256
    owe: uint256
    profit: uint256


event Withdrawn:
    recipient: indexed(address)
    amount: uint256


@deploy
def __init__(
    engine_: IVaultEngine,
    auction_: IDutchAuction,
    collateral_join_: ICollateralJoin,
    stable_join_: IStableJoin,
    pool_: ICollateralPool,
    venue_: ICollateralPool,
    collateral_token: IERC20,
    stablecoin: IERC20,
):
    """
    @param engine_ The VaultEngine.
    @param auction_ The DutchAuction this taker serves.
    @param collateral_join_ The collateral's join.
    @param stable_join_ The StableJoin.
    @param pool_ The CollateralPool of this collateral.
    @param venue_ The outside venue of this collateral (an OutsideVenue); empty for none.
    @param collateral_token The collateral ERC-20.
    @param stablecoin The stablecoin ERC-20.
    """
    owner = msg.sender
    engine = engine_
    auction = auction_
    collateral_join = collateral_join_
    stable_join = stable_join_
    pool = pool_
    venue = venue_
    scale = staticcall collateral_join_.scale()
    # the auction collects payment from this contract; the StableJoin withdraws profits
    extcall engine_.allow(auction_.address)
    extcall engine_.allow(stable_join_.address)
    assert extcall collateral_token.approve(
        pool_.address, UNLIMITED, default_return_value=True
    ), "flash: approve failed"
    if venue_.address != empty(address):
        assert extcall collateral_token.approve(
            venue_.address, UNLIMITED, default_return_value=True
        ), "flash: approve failed"
    assert extcall stablecoin.approve(
        stable_join_.address, UNLIMITED, default_return_value=True
    ), "flash: approve failed"


@external
def take(
    auction_id: uint256,
    max_collateral: uint256,
    max_price: uint256,
    min_profit: uint256,
    on_venue: bool = False,
):
    """
    @notice Take an auction with a market's liquidity as capital (owner only): the pool's, or
            with `on_venue` the outside venue's.
    @param auction_id The auction.
    @param max_collateral Most collateral to buy [wad].
    @param max_price Highest acceptable price [ray].
    @param min_profit Revert unless the take leaves at least this much stablecoin [rad].
    @param on_venue Sell on the venue (reverts where there is none), not into the pool.
    """
    assert msg.sender == owner, "flash: not the owner"
    market: address = pool.address
    if on_venue:
        market = venue.address
        assert market != empty(address), "flash: no venue"
    before: uint256 = staticcall engine.stable(self)
    extcall auction.take(
        auction_id,
        max_collateral,
        max_price,
        self,
        abi_encode(min_profit, before, auction_id, market),
    )


@external
def on_auction_take(sender: address, owe: uint256, collateral: uint256, data: Bytes[1024]):
    """
    @notice The auction's callback: sell the collateral, keep the stablecoin for the payment.
    @param sender Who called take (must be this contract).
    @param owe Stablecoin the auction will collect [rad].
    @param collateral Collateral received [wad].
    @param data (min_profit, balance before, auction id, the market to sell into), from
           `take`: only `take` starts a take here, so the market is the pool or the venue.
    """
    assert msg.sender == auction.address, "flash: not the auction"
    assert sender == self, "flash: not started here"
    min_profit: uint256 = 0
    before: uint256 = 0
    auction_id: uint256 = 0
    market: address = empty(address)
    min_profit, before, auction_id, market = abi_decode(data, (uint256, uint256, uint256, address))
    tokens: uint256 = collateral // scale
    if tokens != 0:
        extcall collateral_join.exit(self, tokens)
        bought: uint256 = extcall ICollateralPool(market).swap(True, tokens, 0, self)
        extcall stable_join.join(self, bought)
    balance: uint256 = staticcall engine.stable(self)
    assert balance >= before + owe + min_profit, "flash: profit below minimum"
    log FlashTaken(
        auction_id=auction_id, collateral=collateral, owe=owe, profit=balance - before - owe
    )


@external
def withdraw(recipient: address, amount: uint256):
    """
    @notice Send profits out as ERC-20 stablecoin (owner only).
    @param recipient Who receives them.
    @param amount [wad].
    """
    assert msg.sender == owner, "flash: not the owner"
    extcall stable_join.exit(recipient, amount)
    log Withdrawn(recipient=recipient, amount=amount)
