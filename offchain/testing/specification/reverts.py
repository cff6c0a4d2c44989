"""The specification's per-revert checks: a revert's reason must hold in the state before the
transaction (`Before`); each check says why it did not (None when it did). `REVERT_CHECKS` maps a
revert reason to its check."""

from __future__ import annotations

from typing import Any

from offchain.model.fixed_point import RAY, WAD_TO_RAY
from offchain.testing.specification.base import (
    Before,
    SpecificationBase,
    caps_allowed,
    least_shares,
    request_forfeit,
)
from offchain.testing.specification.curves import (
    ceil_div,
    curve,
    curve_price_up,
    exact_curve_ceil,
    margin_debt,
    size_cut_with_caps,
)


def _not_safe(spec: SpecificationBase, pre: Before) -> str | None:
    joins = {t.join: t for t in spec.d.types.values()}
    if pre.function == "modify_vault" and pre.address == spec.d.engine:
        t, owner, _, _, delta_collateral, delta_debt = pre.args
    elif pre.function == "join_and_modify" and pre.address in joins:
        # the join locks all `amount` (token units, scaled to wad) in its caller's vault
        joined = joins[pre.address]
        amount, delta_debt = pre.args
        t, owner = joined.type_id, pre.sender
        delta_collateral = amount * 10 ** (18 - joined.config.token_decimals)
    else:
        return None
    ctype, vault = pre.state["ctypes"][t], pre.state["vaults"][(t, owner)]
    debt = (vault.normalized_debt + delta_debt) * ctype.rate
    size = pre.state["size_margins"][t]
    if margin_debt(debt, size) <= (vault.collateral + delta_collateral) * ctype.safe_price:
        return "the vault would have been safe"
    return None


def _vault_is_safe(spec: SpecificationBase, pre: Before) -> str | None:
    """A liquidation refused as safe: the vault must have been safe at its size (or empty)."""
    if pre.address != spec.d.liquidator or pre.function != "liquidate":
        return None
    t, owner = pre.args[0], pre.args[1]
    ctype, vault = pre.state["ctypes"][t], pre.state["vaults"][(t, owner)]
    debt = vault.normalized_debt * ctype.rate
    if debt == 0 or margin_debt(debt, pre.state["size_margins"][t]) <= (
        vault.collateral * ctype.safe_price
    ):
        return None
    return f"vault {owner} was unsafe at its size"


def _no_size_cut(spec: SpecificationBase, pre: Before) -> str | None:
    """A liquidation refused because a vault unsafe by its size alone has no cut: it must be
    safe at the base ratio, unsafe at its size, without a cut (size_cut_with_caps 0) and under
    two dusts of debt (a larger one is liquidated in proportion)."""
    if pre.address != spec.d.liquidator or pre.function != "liquidate":
        return None
    t, owner = pre.args[0], pre.args[1]
    ctype, vault = pre.state["ctypes"][t], pre.state["vaults"][(t, owner)]
    allowed = caps_allowed(pre, t, owner)
    size = pre.state["size_margins"][t]
    cut = size_cut_with_caps(
        vault.collateral,
        vault.normalized_debt,
        ctype.rate,
        ctype.safe_price,
        ctype.dust,
        size,
        pre.state["liquidator_types"][t].penalty,
        allowed,
    )
    if cut != 0:
        return f"vault {owner} had a size cut ({cut}) or was not unsafe by its size alone"
    if vault.normalized_debt * ctype.rate >= 2 * ctype.dust:
        return f"vault {owner} has no size cut but two dusts of debt: liquidated in proportion"
    if margin_debt(vault.normalized_debt * ctype.rate, size) <= vault.collateral * ctype.safe_price:
        return f"vault {owner} was safe"
    return None


def _collateral_source_not_allowed(spec: SpecificationBase, pre: Before) -> str | None:
    joins = {t.join for t in spec.d.types.values()}
    if pre.function == "join_and_modify" and pre.address in joins:
        # the join locks its caller's own received tokens in its caller's vault: no consent
        return "a join locking its caller's own tokens needs no allowance"
    if pre.function == "modify_vault" and pre.address == spec.d.engine:
        src, delta_collateral = pre.args[2], pre.args[4]
        if delta_collateral <= 0:
            return "no collateral was locked"
        if pre.sender == src or pre.state["delegates"][(src, pre.sender)]:
            return f"{pre.sender} may act for {src}"
    return None


def _insufficient_surplus(spec: SpecificationBase, pre: Before) -> str | None:
    if pre.address != spec.d.backstop or pre.function != "settle":
        # only a direct settle may be refused so: thaw heals before it settles
        return f"{pre.function} on {pre.address} is not Backstop.settle"
    # the unsettled proceeds are owed to the seized debt: settle may not spend them
    free = pre.state["backstop_stable"] - pre.state["backstop_unsettled"]
    if pre.args[0] <= free:
        return f"settling {pre.args[0]} of a free surplus of {free}"
    return None


def _losses_open(spec: SpecificationBase, pre: Before) -> str | None:
    """Backstop.settle after shutdown, refused while loss events are open."""
    if pre.address != spec.d.backstop or pre.function != "settle":
        return f"{pre.function} on {pre.address} is not Backstop.settle"
    if pre.state["backstop_live"] or not pre.state["backstop_open_losses"]:
        return "live, or no loss event open"
    return None


def _request_lapsed(spec: SpecificationBase, pre: Before) -> str | None:
    if pre.address != spec.d.stability_pool:
        return None
    cooldown, exposure, window = pre.state["pool_timing"]
    matured = pre.state["pool_withdrawal_at"][pre.sender] + max(cooldown, exposure)
    if spec.model.env.timestamp <= matured + window:
        return f"at {spec.model.env.timestamp}, inside the window ending {matured + window}"
    return None


def _below_minimum_shares(spec: SpecificationBase, pre: Before) -> str | None:
    """The staker would have held some shares but fewer than those worth MIN_STAKE (rounded
    down): after a request, its shares less those a replaced request burns and the requested,
    at the price after that burn; after an activation, its shares plus its pending stake's,
    minted at floor(pending x total_shares / assets) (one per rad in an empty pool), or those
    less its pending withdrawal request, at the price before it."""
    if pre.address != spec.d.stability_pool:
        return None
    shares = pre.state["pool_shares"][pre.sender]
    assets, total = pre.state["pool_assets"]
    if pre.function == "request_withdrawal":
        # after the shares a replaced request burns (and the stablecoin it forfeits)
        forfeited, burned = request_forfeit(pre, pre.sender)
        held = [shares - burned - pre.args[0]]
        least = least_shares(total - burned, assets - forfeited)
    elif pre.function == "activate":
        pending = pre.state["pool_pending"]
        after = shares + (pending * total // assets if total and assets else pending)
        # and what a pending withdrawal request would leave of them
        held = [after, after - pre.state["pool_withdrawal_shares"][pre.sender]]
        least = least_shares(total, assets)
    else:
        return None
    if all(left == 0 or left >= least for left in held):
        return f"the staker would hold {' then '.join(str(left) for left in held)} shares"
    return None


def _auction_before(spec: SpecificationBase, pre: Before) -> tuple[Any, Any, int] | None:
    """(the auction contract, the auction before the call, seconds since its start) of a take or
    reset sent to a DutchAuction."""
    name = spec._type_of_auction(pre.address)
    if name is None or pre.function not in ("take", "reset", "close_dust_auction"):
        return None
    if not pre.args:
        return None
    auction = pre.state[f"auctions:{name}"][pre.args[0]]
    if auction.top == 0:
        return None
    return spec.c(pre.address), auction, spec.model.env.timestamp - auction.started


def _cannot_reset(spec: SpecificationBase, pre: Before) -> str | None:
    found = _auction_before(spec, pre)
    if found is not None:
        contract, _, elapsed = found
        if elapsed > contract.max_duration:
            return f"{elapsed} s after the start, past max_duration {contract.max_duration}"
    return None


def _needs_reset(spec: SpecificationBase, pre: Before) -> str | None:
    found = _auction_before(spec, pre)
    if found is not None:
        contract, auction, elapsed = found
        # the contract's price is at least this
        lowest = exact_curve_ceil(*curve(contract), auction.top, elapsed)
        if (
            elapsed <= contract.max_duration
            and lowest > 0
            and lowest * RAY // auction.top >= contract.max_drop
        ):
            return f"{elapsed} s after the start, above max_drop: no reset was needed"
    return None


def _dust_close_refusal(spec: SpecificationBase, pre: Before, reason: str) -> str | None:
    """A dust close refused (issue 31): the reason must hold before the call. 'not ended': the
    auction did not need a reset; 'lot not dust' / 'lot covers the debt': at the start price a
    reset would give it (oracle price x buffer, rounded up), its lot was worth at least
    min_auction / its debt."""
    if pre.function != "close_dust_auction":
        return None
    found = _auction_before(spec, pre)
    if found is None:
        return None
    contract, auction, elapsed = found
    if reason == "not ended":
        price = curve_price_up(curve(contract), auction.top, elapsed)
        if (
            elapsed > contract.max_duration
            or price == 0
            or price * RAY // auction.top < contract.max_drop
        ):
            return f"{elapsed} s after the start at price {price}: the auction needed a reset"
        return None
    oracle_price, valid = spec.c(contract.oracle).peek()
    if not valid:
        return None
    worth = auction.lot * ceil_div(oracle_price * WAD_TO_RAY * contract.buffer, RAY)
    name = spec._type_of_auction(pre.address)
    bound = pre.state[f"min_auction:{name}"] if reason == "lot not dust" else auction.debt
    if worth < bound:
        return f"the lot was worth {worth} at a fresh start price, below {bound}"
    return None


def _at_cap(spec: SpecificationBase, pre: Before) -> str | None:
    """A liquidation refused at a cap: the cap on all debt in auction, or the type's, had no room
    left before it."""
    if pre.function != "liquidate" or pre.address != spec.d.liquidator:
        return None
    config = pre.state["liquidator_types"][pre.args[0]]
    room = pre.state["liquidator_room"]
    if room > 0 and config.max_debt_in_auction > config.debt_in_auction:
        return (
            f"room left: {room} under the cap on all debt in auction, "
            f"{config.max_debt_in_auction - config.debt_in_auction} under the type's"
        )
    return None


def _threshold_dust_refusal(spec: SpecificationBase, pre: Before) -> str | None:
    """A size threshold or dust refused (issue 45, finding 4) only when the pair would leave
    the threshold below the dust."""
    if pre.address != spec.d.engine:
        return None
    t = pre.args[0]
    dust = pre.state["ctypes"][t].dust if t in pre.state["ctypes"] else 0
    threshold = pre.state["size_margins"].get(t, (0, 0, 0))[0]
    if pre.function == "set_size_margin":
        threshold = pre.args[1]
    elif pre.function == "set_dust":
        dust = pre.args[1]
    else:
        return None
    if threshold and threshold * 10**45 < dust:
        return None
    return f"threshold {threshold} and dust {dust} refused, though the threshold is not below it"


# restated from SurplusAuction.vy and DebtAuction.vy (the seventh round, docs/security.md 7.1)
_MAX_BID_STEP = 3 * 10**18 // 2
_MIN_AUCTION_DURATION = 600


def _auction_parameters(spec: SpecificationBase, pre: Before) -> tuple[int, int, int] | None:
    """(step, bid duration, auction duration) of a surplus or debt auction's set_parameters."""
    if pre.function != "set_parameters":
        return None
    if pre.address == spec.d.surplus_auction:
        return pre.args[0], pre.args[1], pre.args[2]
    if pre.address == spec.d.debt_auction:
        return pre.args[1], pre.args[3], pre.args[4]
    return None


def _step_refusal(spec: SpecificationBase, pre: Before) -> str | None:
    """An auction's step refused (the seventh round) only when it is above 1.5 wad: a refusal of
    an allowed step is a bound tightened, not a bound kept."""
    params = _auction_parameters(spec, pre)
    if params is None or params[0] > _MAX_BID_STEP:
        return None
    return f"step {params[0]} refused, though at most 1.5 wad"


def _duration_refusal(spec: SpecificationBase, pre: Before) -> str | None:
    """An auction's durations refused (the seventh round) only when one is below ten minutes
    (and not 0, refused as a zero duration), its step allowed (checked first)."""
    params = _auction_parameters(spec, pre)
    if params is None:
        return None
    step, bid_duration, auction_duration = params
    if step <= _MAX_BID_STEP and 0 < min(bid_duration, auction_duration) < _MIN_AUCTION_DURATION:
        return None
    return f"durations {bid_duration} and {auction_duration} refused, step {step}"


def _guardian_stops_more(spec: SpecificationBase, pre: Before) -> str | None:
    """ "auction: guardian only stops more": the sender, not an admin of the auction, asked for a
    level no higher than the one in force (the state is as before: the call reverted)."""
    if pre.function != "set_stopped" or spec._type_of_auction(pre.address) is None:
        return None
    auction = spec.c(pre.address)
    if auction.authorized[pre.sender]:
        return "the sender is an admin: it may set any level"
    if pre.args[0] > auction.stopped:
        return f"level {pre.args[0]} is above the {auction.stopped} in force"
    return None


REVERT_CHECKS = {
    "surplus auction: min increase above 1.5": _step_refusal,
    "debt auction: min decrease above 1.5": _step_refusal,
    "surplus auction: duration below 10 minutes": _duration_refusal,
    "debt auction: duration below 10 minutes": _duration_refusal,
    "engine: not safe": _not_safe,
    "liquidator: vault is safe": _vault_is_safe,
    "liquidator: no size cut": _no_size_cut,
    "engine: size threshold below dust": _threshold_dust_refusal,
    "engine: dust above size threshold": _threshold_dust_refusal,
    "liquidator: debt in auction at cap": _at_cap,
    "engine: collateral source not allowed": _collateral_source_not_allowed,
    "backstop: insufficient surplus": _insufficient_surplus,
    "backstop: losses open": _losses_open,
    "pool: request lapsed": _request_lapsed,
    "pool: below minimum shares": _below_minimum_shares,
    "auction: cannot reset": _cannot_reset,
    "auction: guardian only stops more": _guardian_stops_more,
    "auction: needs reset": _needs_reset,
    "auction: not ended": lambda spec, pre: _dust_close_refusal(spec, pre, "not ended"),
    "auction: lot not dust": lambda spec, pre: _dust_close_refusal(spec, pre, "lot not dust"),
    "auction: lot covers the debt": lambda spec, pre: _dust_close_refusal(
        spec, pre, "lot covers the debt"
    ),
}
