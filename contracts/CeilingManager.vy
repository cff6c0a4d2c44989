# pragma version ~=0.4.3
"""
@title CeilingManager
@notice Keeps each managed type's debt ceiling at min(max_ceiling, current debt + gap). The
        ceiling may rise at most once per cooldown (so debt cannot be run up faster than
        governance intends); it falls at once.
@dev DSS analogue: DssAutoLine (line = max_ceiling, gap = gap, ttl = cooldown). Must be
     authorized on the engine. Governance's own set_debt_ceiling calls are overwritten by the
     next `update` of a managed type.
"""
from interfaces import IVaultEngine
from modules import authorized as auth

# who may configure types
initializes: auth
exports: (auth.authorized, auth.add_authority, auth.remove_authority)


struct Config:
    # the highest ceiling this manager will set [rad]; 0 = type not managed
    max_ceiling: uint256
    # headroom kept above the current debt [rad]
    gap: uint256
    # minimum seconds between two increases
    cooldown: uint256
    # when the ceiling last rose [seconds]
    last_increase: uint256


# the ledger
engine: public(immutable(IVaultEngine))

# collateral type -> configuration
configs: public(HashMap[bytes32, Config])


event TypeConfigured:
    collateral_type: indexed(bytes32)
    max_ceiling: uint256
    gap: uint256
    cooldown: uint256


event TypeRemoved:
    collateral_type: indexed(bytes32)


event CeilingUpdated:
    collateral_type: indexed(bytes32)
    old_ceiling: uint256
    new_ceiling: uint256


@deploy
def __init__(engine_: IVaultEngine):
    """
    @param engine_ The VaultEngine (this contract must be authorized on it).
    """
    engine = engine_
    auth.__init__()


@external
def configure(collateral_type: bytes32, max_ceiling: uint256, gap: uint256, cooldown: uint256):
    """
    @notice Manage a type's ceiling (or change how it is managed).
    @param collateral_type The type.
    @param max_ceiling Highest ceiling [rad], non-zero.
    @param gap Headroom above current debt [rad], non-zero and <= max_ceiling.
    @param cooldown Minimum seconds between increases.
    """
    auth._check_authorized()
    assert max_ceiling != 0, "ceiling: zero max"
    assert gap != 0, "ceiling: zero gap"
    assert gap <= max_ceiling, "ceiling: gap above max"
    self.configs[collateral_type] = Config(
        max_ceiling=max_ceiling,
        gap=gap,
        cooldown=cooldown,
        last_increase=self.configs[collateral_type].last_increase,
    )
    log TypeConfigured(
        collateral_type=collateral_type, max_ceiling=max_ceiling, gap=gap, cooldown=cooldown
    )


@external
def remove(collateral_type: bytes32):
    """
    @notice Stop managing a type (its ceiling stays where it is).
    @param collateral_type The type.
    """
    auth._check_authorized()
    assert self.configs[collateral_type].max_ceiling != 0, "ceiling: type not managed"
    self.configs[collateral_type] = empty(Config)
    log TypeRemoved(collateral_type=collateral_type)


@external
def update(collateral_type: bytes32) -> uint256:
    """
    @notice Move a managed type's ceiling toward min(max_ceiling, debt + gap). Anyone may call.
            A rise within the cooldown of the last rise does nothing.
    @param collateral_type The type.
    @return The type's ceiling after the call [rad].
    """
    config: Config = self.configs[collateral_type]
    assert config.max_ceiling != 0, "ceiling: type not managed"
    ctype: IVaultEngine.CollateralType = staticcall engine.collateral_types(collateral_type)
    target: uint256 = min(config.max_ceiling, ctype.normalized_debt * ctype.rate + config.gap)
    if target == ctype.debt_ceiling:
        return target
    if target > ctype.debt_ceiling:
        if block.timestamp < config.last_increase + config.cooldown:
            return ctype.debt_ceiling
        self.configs[collateral_type].last_increase = block.timestamp
    extcall engine.set_debt_ceiling(collateral_type, target)
    log CeilingUpdated(
        collateral_type=collateral_type, old_ceiling=ctype.debt_ceiling, new_ceiling=target
    )
    return target
