# pragma version ~=0.4.3
"""
@title CeilingManager
@notice Keeps each managed type's debt ceiling at min(max_ceiling, current debt + gap). The
        ceiling rises by at most `gap` per cooldown window (so debt cannot be run up faster than
        governance intends); it falls at once.
@dev DSS analogue: DssAutoLine (line = max_ceiling, gap = gap, ttl = cooldown), with two
     differences. Finding 12 of docs/security.md: DssAutoLine allows one increase per ttl, so
     any increase, however small, restarts the wait; a borrower who repays just before an
     `update` and redraws after it held the ceiling nearly flat. Here the amount is limited, not
     the number of increases: the first rise after a window ends opens a window of `cooldown`
     seconds, and within the window the ceiling may rise, any number of times, up to its base +
     gap. Finding 5 of issue 31: a fall applies at once, so a borrower who repaid all and called
     `update` just before a window opened based it at the lowered ceiling, and held the ceiling
     flat again. So a window's base is the higher of the ceiling when it opens and, if the
     previous window ended less than one cooldown before (consecutive windows), the highest
     ceiling this manager set in that previous window (`window_high`); after a quiet cooldown it
     is the ceiling when it opens. A fall before a window opens no longer lowers its cap, and
     each window's cap is still at most a gap above the previous window's highest (a ceiling this
     manager set, so at most the debt then + gap) or above the ceiling governance set: the
     ceiling rises by at most one gap per window. Holds the CEILING role on the engine.
     Governance's own set_debt_ceiling calls are overwritten by the next `update` of a managed
     type (a window opening right after another may rise back to the previous highest + gap):
     to brake a managed type, configure a lower max_ceiling (the next update applies it).
"""
from interfaces import IVaultEngine
from modules import authorized as auth

# admins (governance) configure types
initializes: auth
exports: auth.__interface__


struct Config:
    # the highest ceiling this manager will set [rad]; 0 = type not managed
    max_ceiling: uint256
    # headroom kept above the current debt [rad]
    gap: uint256
    # length of a window within which the ceiling rises by at most `gap` [seconds]
    cooldown: uint256
    # when the current window opened (the first rise after the previous one ended) [seconds]
    last_increase: uint256
    # the current window's base: it rises to at most window_base + gap [rad]
    window_base: uint256
    # the highest ceiling this manager set in the current window [rad]
    window_high: uint256


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
    @notice Manage a type's ceiling (or change how it is managed). The current window (when it
            opened, its base, its highest) is kept: a new gap applies to it at once, a new
            cooldown moves its end.
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
        window_high=self.configs[collateral_type].window_high,
    )
    log TypeConfigured(
        collateral_type=collateral_type, max_ceiling=max_ceiling, gap=gap, cooldown=cooldown
    )


@external
def remove(collateral_type: bytes32):
    """
    @notice Stop managing a type (its ceiling stays where it is). Its window is forgotten: if
            it is managed again, the first rise opens a window based at the ceiling then.
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
    @dev A window opened at `now` (the previous one opened at last_increase and ended at
         last_increase + cooldown <= now) is based at the current ceiling, or at the previous
         window's window_high if higher and now < last_increase + 2 * cooldown. window_high is
         the opening rise's ceiling, raised by every higher rise within the window.
    @param collateral_type The type.
    @return The type's ceiling after the call [rad].
    """
    # only what every call needs is read here (a fall reads no window)
    max_ceiling: uint256 = self.configs[collateral_type].max_ceiling
    assert max_ceiling != 0, "ceiling: type not managed"
    gap: uint256 = self.configs[collateral_type].gap
    ctype: IVaultEngine.CollateralType = staticcall engine.collateral_types(collateral_type)
    target: uint256 = min(max_ceiling, ctype.normalized_debt * ctype.rate + gap)
    if target == ctype.debt_ceiling:
        return target
    if target > ctype.debt_ceiling:
        config: Config = self.configs[collateral_type]
        base: uint256 = config.window_base
        high: uint256 = config.window_high
        if block.timestamp >= config.last_increase + config.cooldown:
            # the last window ended: this rise opens a new one, based at today's ceiling, or at
            # the last window's highest if higher and it ended less than a cooldown ago (no
            # overflow: last_increase + cooldown <= block.timestamp)
            base = ctype.debt_ceiling
            if block.timestamp < config.last_increase + 2 * config.cooldown:
                base = max(base, high)
            high = 0
            self.configs[collateral_type].last_increase = block.timestamp
            self.configs[collateral_type].window_base = base
        target = min(target, base + gap)
        if target <= ctype.debt_ceiling:
            return ctype.debt_ceiling
        if target > high:
            self.configs[collateral_type].window_high = target
    extcall engine.set_debt_ceiling(collateral_type, target)
    log CeilingUpdated(
        collateral_type=collateral_type, old_ceiling=ctype.debt_ceiling, new_ceiling=target
    )
    return target
