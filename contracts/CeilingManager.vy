# pragma version ~=0.4.3
"""
@title CeilingManager
@notice Keeps each managed type's debt ceiling at min(max_ceiling, current debt + gap). The
        ceiling rises by at most `gap` per cooldown window (so debt cannot be run up faster than
        governance intends); it falls at once.
@dev DSS analogue: DssAutoLine (line = max_ceiling, gap = gap, ttl = cooldown), with one
     difference (finding 12 of docs/security.md): DssAutoLine allows one increase per ttl, so
     any increase, however small, restarts the wait; a borrower who repays just before an
     `update` and redraws after it held the ceiling nearly flat. Here the amount is limited, not
     the number of increases: the first rise after a window ends opens a window of `cooldown`
     seconds whose base is the ceiling at that moment, and within the window the ceiling may
     rise, any number of times, up to base + gap. Holds the CEILING role on the engine.
     Governance's own set_debt_ceiling calls are overwritten by the next `update` of a managed
     type.
"""
from interfaces import IVaultEngine
from modules import authorized as auth

# admins (governance) configure types
initializes: auth
exports: (
    auth.authorized,
    auth.roles,
    auth.add_authority,
    auth.remove_authority,
    auth.grant_role,
    auth.revoke_role,
)


struct Config:
    # the highest ceiling this manager will set [rad]; 0 = type not managed
    max_ceiling: uint256
    # headroom kept above the current debt [rad]
    gap: uint256
    # length of a window within which the ceiling rises by at most `gap` [seconds]
    cooldown: uint256
    # when the current window opened (the first rise after the previous one ended) [seconds]
    last_increase: uint256
    # the ceiling when the current window opened: it rises to at most window_base + gap [rad]
    window_base: uint256


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
    @param engine_ The VaultEngine (this contract needs its CEILING role).
    """
    engine = engine_
    auth.__init__(0)


@external
def configure(collateral_type: bytes32, max_ceiling: uint256, gap: uint256, cooldown: uint256):
    """
    @notice Manage a type's ceiling (or change how it is managed).
    @param collateral_type The type.
    @param max_ceiling Highest ceiling [rad], non-zero.
    @param gap Headroom above current debt [rad], non-zero and <= max_ceiling.
    @param cooldown Seconds of a window within which the ceiling rises by at most `gap`.
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
        window_base=self.configs[collateral_type].window_base,
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
            A fall applies at once; a rise opens a window if none is open and is capped at the
            window's base + gap.
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
        base: uint256 = config.window_base
        if block.timestamp >= config.last_increase + config.cooldown:
            # the last window ended: this rise opens a new one, based at today's ceiling
            base = ctype.debt_ceiling
            self.configs[collateral_type].last_increase = block.timestamp
            self.configs[collateral_type].window_base = base
        target = min(target, base + config.gap)
        if target <= ctype.debt_ceiling:
            return ctype.debt_ceiling
    extcall engine.set_debt_ceiling(collateral_type, target)
    log CeilingUpdated(
        collateral_type=collateral_type, old_ceiling=ctype.debt_ceiling, new_ceiling=target
    )
    return target
