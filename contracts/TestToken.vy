# pragma version ~=0.4.3
"""
@title TestToken
@notice A plain ERC-20 collateral token for devnets and tests, with any number of decimals.
        The deployer (owner) mints.
@dev snekmate's ERC-20 module; no fee on transfer, no rebasing.
"""
from snekmate.auth import ownable as ow
from snekmate.tokens import erc20

initializes: ow
initializes: erc20[ownable := ow]

exports: erc20.__interface__


@deploy
def __init__(name_: String[25], symbol_: String[5], decimals_: uint8):
    """
    @param name_ Token name.
    @param symbol_ Token symbol.
    @param decimals_ Token decimals.
    """
    ow.__init__()
    erc20.__init__(name_, symbol_, decimals_, name_, "1")
