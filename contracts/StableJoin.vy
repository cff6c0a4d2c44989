# pragma version ~=0.4.3
"""
@title StableJoin
@notice Converts internal stablecoin in the VaultEngine [rad] into the ERC-20 Stablecoin
        [wad] and back.
@dev DSS analogue: DaiJoin. Keeps: Stablecoin.totalSupply * ray <= engine.stable[self]
     (as long as it is the only minter; holders who burn tokens directly leave the join
     over-backed). Must be a minter of the Stablecoin.
"""
from interfaces import IVaultEngine
from interfaces import IStablecoin
from modules import constants


# the ledger
engine: public(immutable(IVaultEngine))
# the ERC-20 stablecoin
stablecoin: public(immutable(IStablecoin))


event Joined:
    account: indexed(address)
    payer: indexed(address)
    amount: uint256


event Exited:
    account: indexed(address)
    recipient: indexed(address)
    amount: uint256


@deploy
def __init__(engine_: IVaultEngine, stablecoin_: IStablecoin):
    """
    @param engine_ The VaultEngine.
    @param stablecoin_ The ERC-20 stablecoin (this join must become its minter).
    """
    engine = engine_
    stablecoin = stablecoin_


@external
def join(account: address, amount: uint256):
    """
    @notice Burn `amount` ERC-20 stablecoin of the caller (needs an allowance) and credit
            `account` in the engine.
    @param account Who is credited [rad = amount * ray].
    @param amount Stablecoin [wad].
    """
    extcall engine.transfer_stable(self, account, amount * constants.RAY)
    extcall stablecoin.burn_from(msg.sender, amount)
    log Joined(account=account, payer=msg.sender, amount=amount)


@external
def exit(recipient: address, amount: uint256):
    """
    @notice Debit the caller's internal stablecoin and mint the ERC-20 to `recipient`.
            The caller must have delegated to this join in the engine (`engine.allow`).
    @param recipient Who receives the ERC-20.
    @param amount Stablecoin [wad].
    """
    extcall engine.transfer_stable(msg.sender, self, amount * constants.RAY)
    extcall stablecoin.mint(recipient, amount)
    log Exited(account=msg.sender, recipient=recipient, amount=amount)
