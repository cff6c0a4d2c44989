# pragma version ~=0.4.3
"""
@title Stablecoin
@notice The ERC-20 stablecoin (18 decimals, EIP-2612 permit). Only minters (the StableJoin)
        create it; anyone with an allowance burns it through `burn_from`.
@dev Built on snekmate's audited ERC-20 module. The deployer is the owner and a minter until
     the deployment renounces ownership, after which the supply is backed one to one by the
     StableJoin's internal balance in the VaultEngine (I1).
"""
from interfaces import IStablecoin
from snekmate.auth import ownable as ow
from snekmate.tokens import erc20

implements: IStablecoin

initializes: ow
initializes: erc20[ownable := ow]

exports: erc20.__interface__


@deploy
def __init__(name_: String[25], symbol_: String[5]):
    """
    @param name_ Token name.
    @param symbol_ Token symbol.
    """
    ow.__init__()
    erc20.__init__(name_, symbol_, 18, name_, "1")
