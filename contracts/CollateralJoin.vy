# pragma version ~=0.4.3
"""
@title CollateralJoin
@notice Moves an ERC-20 collateral token into and out of the VaultEngine for one collateral
        type. Tokens with fewer than 18 decimals are scaled up to wad inside the engine.
@dev DSS analogue: GemJoin (GemJoin5 for small decimals). Keeps: the token balance of this
     contract * scale >= the engine's collateral of this type (joins create engine collateral
     only against tokens received, and destroy it before tokens leave).
"""
from ethereum.ercs import IERC20
from interfaces import IVaultEngine
from modules import authorized as auth

# admins (governance) shut the join
initializes: auth
exports: auth.__interface__

# the ledger
engine: public(immutable(IVaultEngine))
# the collateral type this join serves
collateral_type: public(immutable(bytes32))
# the ERC-20 collateral token
token: public(immutable(IERC20))
# the token's decimals (<= 18)
decimals: public(immutable(uint256))
# 10 ** (18 - decimals): token units -> wad
scale: public(immutable(uint256))

# false once shut: no more deposits
live: public(bool)


event Joined:
    account: indexed(address)
    payer: indexed(address)
    amount: uint256


event Exited:
    account: indexed(address)
    recipient: indexed(address)
    amount: uint256


event Shutdown:
    caller: indexed(address)


@deploy
def __init__(engine_: IVaultEngine, collateral_type_: bytes32, token_: IERC20, decimals_: uint256):
    """
    @param engine_ The VaultEngine.
    @param collateral_type_ The type id.
    @param token_ The ERC-20 collateral.
    @param decimals_ The token's decimals, at most 18 (passed in: `decimals()` is optional in
           ERC-20).
    """
    assert decimals_ <= 18, "join: decimals above 18"
    engine = engine_
    collateral_type = collateral_type_
    token = token_
    decimals = decimals_
    scale = 10**(18 - decimals_)
    auth.__init__(0)
    self.live = True


@external
def shutdown():
    """
    @notice Refuse further deposits (global settlement). Withdrawals stay open.
    """
    auth._check_authorized()
    self.live = False
    log Shutdown(caller=msg.sender)


@external
def join(account: address, amount: uint256):
    """
    @notice Deposit `amount` tokens from the caller; credit `account` in the engine.
    @param account Who is credited with free collateral.
    @param amount Token units (the token's own decimals).
    """
    assert self.live, "join: not live"
    extcall engine.modify_collateral_balance(
        collateral_type, account, convert(amount * scale, int256)
    )
    assert extcall token.transferFrom(
        msg.sender, self, amount, default_return_value=True
    ), "join: transfer failed"
    log Joined(account=account, payer=msg.sender, amount=amount)


@external
def join_and_modify(amount: uint256, delta_normalized_debt: int256):
    """
    @notice Open or top up a vault in one transaction: deposit `amount` tokens from the caller,
            lock all of them in the caller's vault, and draw (or repay) `delta_normalized_debt`
            to (or from) the caller's stablecoin balance in the engine. The caller must have
            approved the tokens; to draw or repay it must also have allowed this join in the
            engine (`engine.allow(join)`). The join acts only for its caller.
    @param amount Token units (the token's own decimals).
    @param delta_normalized_debt Signed change of the vault's normalized debt [wad].
    """
    assert self.live, "join: not live"
    assert extcall token.transferFrom(
        msg.sender, self, amount, default_return_value=True
    ), "join: transfer failed"
    log Joined(account=msg.sender, payer=msg.sender, amount=amount)
    # the engine locks the received collateral straight in the caller's vault (no free-balance
    # round trip) and checks the caller's consent (its allowance of this join) to draw or repay,
    # safety and ceilings
    extcall engine.join_vault(collateral_type, msg.sender, amount * scale, delta_normalized_debt)


@external
def exit(recipient: address, amount: uint256):
    """
    @notice Withdraw `amount` tokens of the caller's free collateral to `recipient`.
    @param recipient Who receives the tokens.
    @param amount Token units (the token's own decimals).
    """
    extcall engine.modify_collateral_balance(
        collateral_type, msg.sender, -convert(amount * scale, int256)
    )
    assert extcall token.transfer(
        recipient, amount, default_return_value=True
    ), "join: transfer failed"
    log Exited(account=msg.sender, recipient=recipient, amount=amount)
