# pragma version ~=0.4.3
"""
@title GovernanceToken
@notice The governance ERC-20 (18 decimals, EIP-2612 permit): the protocol's equity. The
        DebtAuction mints it to raise stablecoin against bad debt no other layer could cover
        (debt for equity); the SurplusAuction buys it with surplus stablecoin and burns it.
@dev Built on snekmate's audited ERC-20 module, exactly as the Stablecoin. The deployer is the
     owner and a minter; the deployment makes the DebtAuction a minter (`set_minter`). Supply
     changes only through minters' `mint` (debt auctions, initial distribution) and holders'
     `burn` / `burn_from` (the SurplusAuction burns the winning bids it holds).
"""
from snekmate.auth import ownable as ow
from snekmate.tokens import erc20

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
