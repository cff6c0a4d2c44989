# pragma version ~=0.4.3
"""
@title Spotter
@notice Turns oracle prices into each type's safe price in the engine:
        safe_price = price / liquidation_ratio.
@dev DSS analogue: Spotter (mat = liquidation_ratio, spot = safe_price). A price the oracle
     reports invalid (zero, stale, never set) becomes a safe price of 0: no vault of that type
     can draw or free collateral until a valid price returns. It never keeps an old price that
     could make a vault look safer than it is. Division rounds down (a lower safe price favours
     the protocol).
"""
from interfaces import IVaultEngine
from interfaces import IPriceOracle
from interfaces import ISpotter
from modules import constants
from modules import authorized as auth

# admins (governance) set oracles and ratios
initializes: auth
exports: auth.__interface__

implements: ISpotter

# a liquidation ratio above 100x is a configuration mistake
MAX_LIQUIDATION_RATIO: constant(uint256) = 100 * constants.RAY

# the ledger
engine: public(immutable(IVaultEngine))

# collateral type -> its price oracle
oracles: public(HashMap[bytes32, IPriceOracle])
# collateral type -> collateral value / debt below which a vault is unsafe [ray], >= 1 ray
liquidation_ratios: public(HashMap[bytes32, uint256])


event OracleSet:
    collateral_type: indexed(bytes32)
    oracle: address


event LiquidationRatioSet:
    collateral_type: indexed(bytes32)
    new_value: uint256


event Poked:
    collateral_type: indexed(bytes32)
    price: uint256
    valid: bool
    safe_price: uint256


@deploy
def __init__(engine_: IVaultEngine):
    """
    @param engine_ The VaultEngine (this contract needs its PRICE role).
    """
    engine = engine_
    auth.__init__(0)


@external
def set_oracle(collateral_type: bytes32, oracle: IPriceOracle):
    """
    @notice Set the price oracle of a type.
    @param collateral_type The type.
    @param oracle The oracle (non-zero).
    """
    auth._check_authorized()
    assert oracle.address != empty(address), "spotter: zero oracle"
    self.oracles[collateral_type] = oracle
    log OracleSet(collateral_type=collateral_type, oracle=oracle.address)


@external
def set_liquidation_ratio(collateral_type: bytes32, new_value: uint256):
    """
    @notice Set the liquidation ratio of a type.
    @param collateral_type The type.
    @param new_value [ray], between 1 ray (100%) and 100 ray.
    """
    auth._check_authorized()
    assert new_value >= constants.RAY, "spotter: ratio below 1"
    assert new_value <= MAX_LIQUIDATION_RATIO, "spotter: ratio above 100"
    self.liquidation_ratios[collateral_type] = new_value
    log LiquidationRatioSet(collateral_type=collateral_type, new_value=new_value)


@external
def poke(collateral_type: bytes32) -> uint256:
    """
    @notice Update the engine's safe price of a type from its oracle. Anyone may call.
    @param collateral_type The type.
    @return The new safe price [ray] (0 if the oracle's price is invalid).
    """
    oracle: IPriceOracle = self.oracles[collateral_type]
    assert oracle.address != empty(address), "spotter: no oracle"
    ratio: uint256 = self.liquidation_ratios[collateral_type]
    assert ratio != 0, "spotter: no liquidation ratio"
    price: uint256 = 0
    valid: bool = False
    price, valid = staticcall oracle.peek()
    safe_price: uint256 = 0
    if valid:
        # rounds down: a lower safe price is the conservative side
        safe_price = price * constants.WAD_TO_RAY * constants.RAY // ratio
    extcall engine.set_safe_price(collateral_type, safe_price)
    log Poked(collateral_type=collateral_type, price=price, valid=valid, safe_price=safe_price)
    return safe_price
