# pragma version ~=0.4.3
"""
@title ReentrantTaker
@notice TEST ONLY, never deployed outside the test suite. A malicious flash-take callee: from
        DutchAuction's on_auction_take callback it tries to re-enter the auction (take or
        reset) or the liquidator (liquidate, which starts an auction), to show that the
        auction's re-entrancy lock holds. With mode NOTHING the callback only logs, which shows
        that the callback itself is reached; `act` makes the same call outside any callback.
@dev The off-chain twin is offchain/model/testing/reentrant_taker.py. `data` = abi_encode(mode, auction id, collateral
     type, vault owner); the target of each re-entry is taken from it.
"""
from ..interfaces import IAuctionCallee

implements: IAuctionCallee


interface IAuction:
    def take(
        auction_id: uint256,
        max_collateral: uint256,
        max_price: uint256,
        recipient: address,
        data: Bytes[1024],
    ): nonpayable
    def reset(auction_id: uint256, keeper: address): nonpayable


interface ILiquidate:
    def liquidate(collateral_type: bytes32, owner: address, keeper: address) -> uint256: nonpayable


# what the callback does
NOTHING: constant(uint256) = 0
TAKE: constant(uint256) = 1
RESET: constant(uint256) = 2
LIQUIDATE: constant(uint256) = 3

# the auction it re-enters
auction: public(immutable(IAuction))
# the liquidator it re-enters
liquidator: public(immutable(ILiquidate))


event CallbackEntered:
    sender: indexed(address)
    owe: uint256
    collateral: uint256
    mode: uint256


@deploy
def __init__(auction_: IAuction, liquidator_: ILiquidate):
    """
    @param auction_ The DutchAuction to re-enter.
    @param liquidator_ The Liquidator to re-enter.
    """
    auction = auction_
    liquidator = liquidator_


@external
def on_auction_take(sender: address, owe: uint256, collateral: uint256, data: Bytes[1024]):
    """
    @notice The auction's callback: attempt the re-entry `data` asks for.
    @param sender Who called take.
    @param owe Stablecoin the auction will collect [rad].
    @param collateral Collateral received [wad].
    @param data (mode, auction id, collateral type, vault owner); bytes after the first 128 are
           ignored.
    """
    mode: uint256 = self._attempt(collateral, data)
    log CallbackEntered(sender=sender, owe=owe, collateral=collateral, mode=mode)


@external
def act(collateral: uint256, data: Bytes[1024]):
    """
    @notice The same call as the callback would make, outside any callback (the control).
    @param collateral Collateral to ask for, for TAKE [wad].
    @param data As for on_auction_take.
    """
    self._attempt(collateral, data)


@internal
def _attempt(collateral: uint256, data: Bytes[1024]) -> uint256:
    mode: uint256 = 0
    auction_id: uint256 = 0
    collateral_type: bytes32 = empty(bytes32)
    owner: address = empty(address)
    mode, auction_id, collateral_type, owner = abi_decode(
        slice(data, 0, 128), (uint256, uint256, bytes32, address)
    )
    if mode == TAKE:
        extcall auction.take(auction_id, collateral, max_value(uint256), self, b"")
    elif mode == RESET:
        extcall auction.reset(auction_id, self)
    elif mode == LIQUIDATE:
        extcall liquidator.liquidate(collateral_type, owner, self)
    return mode
