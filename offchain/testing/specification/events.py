"""The specification's per-event checks: for each event a transaction logs, from the state
before it (`Before`) and the state after it, why the event is not what the protocol promises (None
when it is). `EVENT_CHECKS` maps an event's name to its check."""

from __future__ import annotations

from offchain.model.fixed_point import RAY, WAD, WAD_TO_RAY
from offchain.model.state import Event
from offchain.testing.specification.base import (
    YEAR,
    Before,
    SpecificationBase,
    caps_allowed,
    least_shares,
    request_forfeit,
)
from offchain.testing.specification.curves import (
    ceil_div,
    curve,
    curve_price_problem,
    curve_price_up,
    effective_fee,
    exact_curve_ceil,
    margin_debt,
    power_up,
    size_cut_collateral,
    size_cut_problem,
    size_cut_with_caps,
)


def _taken(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    name = spec._type_of_auction(e.address)
    if name is None:
        return None
    auction = pre.state[f"auctions:{name}"][e.args["auction_id"]]
    contract = spec.c(e.address)
    elapsed = now - auction.started
    price, owe, collateral = e.args["price"], e.args["owe"], e.args["collateral"]
    problem = curve_price_problem(tuple(contract.curve), auction.top, elapsed, price)
    if problem:
        return problem
    if elapsed > contract.max_duration or price * RAY // auction.top < contract.max_drop:
        return f"auction {e.args['auction_id']} needed a reset, yet was taken"
    if collateral * price > owe:
        return f"{collateral} collateral at {price} for {owe}: below the price"
    min_auction = pre.state[f"min_auction:{name}"]
    if e.args["debt"] != 0 and e.args["lot"] != 0 and e.args["debt"] < min_auction:
        return f"partial take left debt {e.args['debt']} < min_auction {min_auction}"
    return None


def _dust_closed(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    """A dust close (issue 31): only of an auction that ran its curve unsold (it needed a reset)
    and whose whole lot, at the start price a reset would give it (the oracle price x buffer, as
    `_started` states it), is worth less than min_auction and less than its debt; the event names
    the whole lot (sent to the Backstop) and the whole debt (written off)."""
    name = spec._type_of_auction(e.address)
    if name is None:
        return None
    auction = pre.state[f"auctions:{name}"][e.args["auction_id"]]
    if (e.args["collateral"], e.args["debt"]) != (auction.lot, auction.debt):
        held = (auction.lot, auction.debt)
        return f"dust close of {e.args['collateral']} / {e.args['debt']}, the auction held {held}"
    contract = spec.c(e.address)
    elapsed = now - auction.started
    price = curve_price_up(curve(contract), auction.top, elapsed)
    if (
        elapsed <= contract.max_duration
        and price != 0
        and price * RAY // auction.top >= contract.max_drop
    ):
        return f"auction {e.args['auction_id']} closed as dust at {elapsed} s, before its end"
    oracle_price, _ = spec.c(contract.oracle).peek()
    top = ceil_div(oracle_price * WAD_TO_RAY * contract.buffer, RAY)
    min_auction = pre.state[f"min_auction:{name}"]
    if auction.lot * top >= min(min_auction, auction.debt):
        return (
            f"closed as dust a lot worth {auction.lot * top} at a fresh start price, min_auction "
            f"{min_auction}, its debt {auction.debt}"
        )
    return None


def _finished(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    """An auction returns collateral to the vault's owner only once its debt is raised: a
    write-off never hands the owner its collateral (issue 31)."""
    if spec._type_of_auction(e.address) is None:
        return None
    if e.args["collateral_returned"] != 0 and e.args["debt_unraised"] != 0:
        return (
            f"returned {e.args['collateral_returned']} of collateral with "
            f"{e.args['debt_unraised']} of debt unraised"
        )
    return None


def _started(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    name = spec._type_of_auction(e.address)
    if name is None or not e.args.get("top"):
        return None
    contract = spec.c(e.address)
    price, valid = spec.c(contract.oracle).peek()
    expected = ceil_div(price * WAD_TO_RAY * contract.buffer, RAY)
    if e.name == "Reset":
        # the contract's price is at least the exact curve's: when even ceil(exact) keeps the
        # auction above max_drop before max_duration, it needed no reset
        auction = pre.state[f"auctions:{name}"][e.args["auction_id"]]
        elapsed = now - auction.started
        floor_price = exact_curve_ceil(*curve(contract), auction.top, elapsed)
        if (
            elapsed <= contract.max_duration
            and floor_price > 0
            and floor_price * RAY // auction.top >= contract.max_drop
        ):
            return f"auction {e.args['auction_id']} reset at {elapsed} s, before it needed one"
    if valid and e.args["top"] != expected:
        return f"top {e.args['top']} is not the oracle price x buffer {expected}"
    return None


def _seized(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    """A liquidation seizes as much debt as the room of both caps allows (penalty included), the
    whole vault when the rest would be below dust or the collateral rounds to all of it, nothing
    when the part would be below dust; it raises ceil(debt x penalty); several in one transaction
    share the room."""
    if e.args["debt_dst"] != spec.d.backstop or pre.address != spec.d.liquidator:
        return None
    t = e.args["collateral_type"]
    ctype = pre.state["ctypes"][t]
    vault = pre.state["vaults"][(t, e.args["owner"])]
    config = pre.state["liquidator_types"][t]
    size = pre.state["size_margins"][t]
    debt = vault.normalized_debt * ctype.rate
    if margin_debt(debt, size) <= vault.collateral * ctype.safe_price:
        return f"vault {e.args['owner']} liquidated while safe at its size"
    raised_before = spec.raised.get(t, 0), sum(spec.raised.values())
    allowed = caps_allowed(pre, t, e.args["owner"], raised_before)
    cut = size_cut_with_caps(
        vault.collateral,
        vault.normalized_debt,
        ctype.rate,
        ctype.safe_price,
        ctype.dust,
        size,
        config.penalty,
        allowed,
    )
    if cut == 0:
        # no cut cures it: refused under two dusts (no cut can leave the dust); a larger vault
        # is liquidated as one unsafe at the base ratio (the caps' room, in proportion)
        if debt < 2 * ctype.dust:
            return f"vault {e.args['owner']} had no size cut and was liquidated"
        cut = None
    if cut is not None:
        # unsafe by its size alone: at most the least cure (the dust's, the caps' when less),
        # its collateral worth its tab at the safe price, the remainder safe at its size with
        # the 1% spare
        seized = -e.args["delta_normalized_debt"]
        problem = size_cut_problem(
            vault.collateral,
            vault.normalized_debt,
            ctype.rate,
            ctype.safe_price,
            ctype.dust,
            size,
            config.penalty,
            allowed,
            seized,
        )
        if problem:
            return problem
        out = size_cut_collateral(seized, ctype.rate, ctype.safe_price, config.penalty)
        if -e.args["delta_collateral"] != out:
            return f"size cut seized {-e.args['delta_collateral']} collateral, its tab is {out}"
        allowed = seized
    expected = vault.normalized_debt
    if allowed < vault.normalized_debt:
        if allowed * ctype.rate < ctype.dust <= (vault.normalized_debt - allowed) * ctype.rate:
            return f"a partial liquidation of {allowed * ctype.rate} below dust happened"
        if (vault.normalized_debt - allowed) * ctype.rate >= ctype.dust and (
            cut is not None
            or ceil_div(vault.collateral * allowed, vault.normalized_debt) < vault.collateral
        ):
            expected = allowed
    seized = -e.args["delta_normalized_debt"]
    if seized != expected:
        return f"seized {seized} normalized debt, the caps' room and dust give {expected}"
    to_raise = ceil_div(seized * ctype.rate * config.penalty, WAD)
    spec.raised[t] = spec.raised.get(t, 0) + to_raise
    started = [
        x
        for x in spec.events
        if x.name == "Started"
        and x.address == config.auction
        and x.args["owner"] == e.args["owner"]
    ]
    if started and started[-1].args["debt"] != to_raise:
        return f"auction raises {started[-1].args['debt']}, not ceil(debt x penalty) = {to_raise}"
    return None


def _vault_modified(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    t, owner = e.args["collateral_type"], e.args["owner"]
    engine = spec.c(spec.d.engine)
    ctype, vault = engine.collateral_types[t], engine.vaults[(t, owner)]
    debt = vault.normalized_debt * ctype.rate
    delta_debt, delta_collateral = e.args["delta_normalized_debt"], e.args["delta_collateral"]
    if delta_debt != 0 and debt != 0 and debt < ctype.dust:
        return f"vault {owner} left with debt {debt} below dust {ctype.dust}"
    if delta_debt > 0 and ctype.normalized_debt * ctype.rate > ctype.debt_ceiling:
        return f"type debt {ctype.normalized_debt * ctype.rate} above its ceiling"
    if delta_debt > 0 or delta_collateral < 0:
        # the engine's caller: the sender, or the MarginCall acting as the owner's delegate
        actor = pre.address if pre.address == spec.d.margin_call else pre.sender
        allowed = actor == owner or pre.state["delegates"][(owner, actor)]
        if not allowed:
            return f"{actor} made {owner}'s vault riskier without being allowed"
        if margin_debt(debt, engine.size_margin(t)) > vault.collateral * ctype.safe_price:
            return f"vault {owner} left unsafe"
    if pre.function == "join_and_modify" and delta_debt != 0:
        # the join acts for its caller, who must have allowed it to draw or repay (locking its own
        # joined tokens needs no consent)
        if not pre.state["delegates"][(owner, pre.address)]:
            return f"the join drew or repaid for {owner}, who has not allowed it"
    return None


def _accrued(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    t = e.args["collateral_type"]
    fee = pre.state["fees"][t]
    after = spec.c(spec.d.fees).fees[t]
    elapsed = now - fee.last_accrual
    excess = 0
    if after.integral_at_accrual != fee.integral_at_accrual:
        excess = ceil_div(after.integral_at_accrual - fee.integral_at_accrual, elapsed)
    expected = effective_fee(fee.base_fee, fee.kink, fee.max_multiplier, excess)
    if e.args["effective_fee"] != expected:
        return f"effective fee {e.args['effective_fee']}, the formula gives {expected}"
    rate = pre.state["ctypes"][t].rate
    expected_rate = ceil_div(power_up(expected, elapsed) * rate, RAY)
    if e.args["rate"] != expected_rate:
        return f"rate {e.args['rate']}, fee {expected} over {elapsed} s gives {expected_rate}"
    return None


def _fees_shared(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    """The pool gets floor(income x share), at most its yield cap: floor(its assets x max yield
    x the seconds since the type's last accrual / a year) (finding 31-7); a pool without shares
    or assets gets no split at all."""
    income = e.args["to_pool"] + e.args["to_recipient"]
    assets, total = pre.state["pool_assets"]
    if total == 0 or assets == 0:
        return f"fees shared with a pool of {assets} assets and {total} shares"
    seconds = now - pre.state["fees"][e.args["collateral_type"]].last_accrual
    cap = assets * pre.state["pool_max_yield"] * seconds // (WAD * YEAR)
    expected = min(income * pre.state["pool_fee_share"] // WAD, cap)
    if e.args["to_pool"] != expected:
        return (
            f"pool's share {e.args['to_pool']} of {income} is not min(floor(income x share), "
            f"the yield cap {cap})"
        )
    return None


def _price_posted(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    name = spec._oracles.get(e.address)
    if name is None:
        return None
    reference, bound, is_feeder = pre.state[f"oracle:{name}"]
    if not is_feeder:
        return f"{pre.sender} is no feeder, yet posted"
    price = e.args["price"]
    if bound != 0 and reference != 0:
        if price * WAD > reference * (WAD + bound) or (
            bound < WAD and price * WAD < reference * (WAD - bound)
        ):
            return f"price {price} beyond max_change {bound} of the reference {reference}"
    return None


def _spotter_poked(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    if e.address != spec.d.spotter:
        return None
    ratio = spec.c(spec.d.spotter).liquidation_ratios[e.args["collateral_type"]]
    expected = e.args["price"] * WAD_TO_RAY * RAY // ratio if e.args["valid"] else 0
    if e.args["safe_price"] != expected:
        return f"safe price {e.args['safe_price']}, floor(price / ratio) = {expected}"
    return None


def _safe_price_set(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    """The safe price and the size margin share a slot (issue 35): setting one keeps the other."""
    t = e.args["collateral_type"]
    engine = spec.c(spec.d.engine)
    if engine.safe_price(t) != e.args["new_value"]:
        return f"safe price {engine.safe_price(t)} after setting {e.args['new_value']}"
    if t in pre.state["size_margins"] and engine.size_margin(t) != pre.state["size_margins"][t]:
        return f"setting the safe price changed the size margin to {engine.size_margin(t)}"
    return None


def _size_margin_set(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    t = e.args["collateral_type"]
    engine = spec.c(spec.d.engine)
    size = (e.args["threshold"], e.args["slope"], e.args["cap"])
    if engine.size_margin(t) != size:
        return f"size margin {engine.size_margin(t)} after setting {size}"
    before = pre.state["ctypes"].get(t)
    if before is not None and engine.safe_price(t) != before.safe_price:
        return f"setting the size margin changed the safe price to {engine.safe_price(t)}"
    return _threshold_below_dust(engine, t)


def _threshold_below_dust(engine, t: bytes) -> str | None:
    """Issue 45, finding 4: a type's size threshold is never below its dust (a size cut leaves
    at least the dust, so a threshold below it left large vaults without a cut)."""
    threshold = engine.size_margin(t)[0]
    dust = engine.collateral_types[t].dust
    if threshold and threshold * 10**45 < dust:
        return f"size threshold {threshold} below the dust {dust}"
    return None


def _dust_set(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    return _threshold_below_dust(spec.c(spec.d.engine), e.args["collateral_type"])


def _loss_closed(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    key = (e.args["collateral_type"], e.args["auction"], e.args["auction_id"])
    loss = pre.state["losses"].get(key)
    if loss is None:  # opened and closed in this transaction
        debt = spec.c(spec.d.backstop).losses[key].debt
    else:
        debt = loss.debt
    expected = min(e.args["raised"], debt)
    if e.args["covered"] != expected:
        return f"covered {e.args['covered']}, min(raised, debt) = {expected}"
    return None


def _loss_allocated(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    key = (e.args["collateral_type"], e.args["auction"], e.args["auction_id"])
    loss = pre.state["losses"].get(key)
    if loss is not None and pre.state["backstop_live"]:
        if loss.created_at + pre.state["queue_delay"] > now:
            return f"loss {key[2]} covered before its queue delay ended"
    return None


def _withdrawn(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    if e.address != spec.d.stability_pool:
        return None
    staker = e.args["staker"]
    if not pre.state["pool_realized"].get(staker, True):
        return f"{staker} withdrew with charges not realized"
    cooldown, exposure, window = pre.state["pool_timing"]
    matured = pre.state["pool_withdrawal_at"][staker] + max(cooldown, exposure)
    if not matured <= now <= matured + window:
        return f"withdrawal at {now} outside its window {matured}..{matured + window}"
    value_now, paid = _withdrawal_split(pre, staker)
    if e.args["amount"] != paid:
        return f"paid {e.args['amount']}, min(value at the request, value now) = {paid}"
    # the shares leave the pool's assets at their whole value now: what they earned after the
    # request goes to the Backstop (IncomeForfeited), not to the stakers who stay
    assets, _ = pre.state["pool_assets"]
    if spec.c(spec.d.stability_pool).assets != assets - value_now:
        return f"assets {assets} -> {spec.c(spec.d.stability_pool).assets}, not - {value_now}"
    return None


def _withdrawal_split(pre: Before, staker: str) -> tuple[int, int]:
    """The requested shares' value now and what the withdrawal pays: min(value at the request,
    value now) [rad]."""
    assets, total = pre.state["pool_assets"]
    value_now = pre.state["pool_withdrawal_shares"][staker] * assets // total
    return value_now, min(value_now, pre.state["pool_withdrawal_value"][staker])


def _income_forfeited(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    if pre.function == "withdraw":
        value_now, paid = _withdrawal_split(pre, e.args["staker"])
        expected = value_now - paid
    else:
        expected, _ = request_forfeit(pre, e.args["staker"])
    if e.args["amount"] != expected or expected == 0:
        return f"forfeited {e.args['amount']} in {pre.function}, expected {expected}"
    return None


def _withdrawal_requested(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    if e.address != spec.d.stability_pool:
        return None
    broken = _request_forfeited(spec, pre, e.args["staker"])
    if broken:
        return broken
    pool = spec.c(spec.d.stability_pool)
    left = pool.shares[e.args["staker"]] - e.args["shares"]
    least = least_shares(pool.total_shares, pool.assets)
    if left != 0 and left < least:
        return f"the request leaves {left} shares, fewer than the {least} worth MIN_STAKE"
    return None


def _withdrawal_cancelled(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    if e.address != spec.d.stability_pool:
        return None
    return _request_forfeited(spec, pre, e.args["staker"])


def _request_forfeited(spec: SpecificationBase, pre: Before, staker: str) -> str | None:
    """After a request was replaced or cancelled: the staker's shares, the pool's shares and
    its assets are less exactly what the old request forfeited (`request_forfeit`)."""
    forfeited, burned = request_forfeit(pre, staker)
    pool = spec.c(spec.d.stability_pool)
    assets, total = pre.state["pool_assets"]
    before = (pre.state["pool_shares"][staker], total, assets)
    after = (pool.shares[staker], pool.total_shares, pool.assets)
    if after != (before[0] - burned, total - burned, assets - forfeited):
        return (
            f"{pre.function}: (staker shares, total shares, assets) {before} -> {after}, "
            f"burned {burned} for {forfeited}"
        )
    return None


def _bid(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    if e.address == spec.d.debt_auction:
        old = pre.state["debt_auctions"][e.args["auction_id"]]
        min_decrease = spec.c(spec.d.debt_auction).min_decrease
        if e.args["lot"] * min_decrease > old.lot * WAD:
            return f"lot {old.lot} -> {e.args['lot']}: not lower by min_decrease"
    elif e.address == spec.d.surplus_auction:
        old = pre.state["surplus_auctions"][e.args["auction_id"]]
        min_increase = spec.c(spec.d.surplus_auction).min_increase
        if e.args["bid"] * WAD < old.bid * min_increase:
            return f"bid {old.bid} -> {e.args['bid']}: not higher by min_increase"
    return None


# restated from SurplusAuction.vy and DebtAuction.vy (the seventh round): the largest step
# between bids. A standing bid is beaten by one at most 1.5 times it (a lot by one at most 1.5
# times smaller), so the winner pays more than 2/3 of the most any bidder would pay (takes less
# than 1.5 times the least lot any bidder would accept)
_MAX_BID_STEP = 3 * WAD // 2
# and the shortest bid and auction duration: a rival has ten minutes to answer a bid
_MIN_AUCTION_DURATION = 600


def _auction_step_set(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    """The surplus and debt auctions' steps stay in (1, 1.5] and their bid and auction
    durations at least ten minutes: a step of 2**200, or durations of a second, let a first bid
    of a wei win the whole surplus (docs/security.md, 7.1)."""
    if e.name == "ParametersSet" and e.address == spec.d.surplus_auction:
        step, name = e.args["min_increase"], "min_increase"
    elif e.name == "DebtAuctionParametersSet" and e.address == spec.d.debt_auction:
        step, name = e.args["min_decrease"], "min_decrease"
    else:
        return None
    if not WAD < step <= _MAX_BID_STEP:
        return f"{name} set to {step}: outside (1, 1.5] wad"
    durations = (e.args["bid_duration"], e.args["auction_duration"])
    if min(durations) < _MIN_AUCTION_DURATION:
        return f"bid and auction durations set to {durations}: below ten minutes"
    return None


def _ceiling_updated(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    """The ceiling moves from the old one to exactly min(max, debt + gap): at once if that is
    lower; if higher, to at most the window's base + gap. A rise at or after the end of the
    window (opened at last_increase, `cooldown` long) opens a new one, based at the old ceiling,
    or at the ended window's highest ceiling if higher and it ended less than a cooldown ago;
    the window's highest is then the new ceiling, and a rise within it raises its highest. The
    window the manager keeps afterwards is checked too (a wrong base would pass every event of
    the window it opened)."""
    old, new = e.args["old_ceiling"], e.args["new_ceiling"]
    t = e.args["collateral_type"]
    ctype, config = pre.state["ctypes"][t], pre.state["ceilings"][t]
    if old != ctype.debt_ceiling:
        return f"old ceiling {old}, the type's was {ctype.debt_ceiling}"
    wanted = min(config.max_ceiling, ctype.normalized_debt * ctype.rate + config.gap)
    opened, base, high = config.last_increase, config.window_base, config.window_high
    if wanted <= old:
        expected, where = wanted, "a fall"
    else:
        window_end = config.last_increase + config.cooldown
        if now < window_end:
            where = "in the open window"
        elif now - window_end < config.cooldown:
            opened, base, high = now, max(old, config.window_high), 0
            where = "opening right after a window"
        else:
            opened, base, high = now, old, 0
            where = "opening after a quiet cooldown"
        expected = min(wanted, base + config.gap)
        high = max(high, expected)
    if new != expected:
        return f"ceiling {old} -> {new} ({where}), the rule gives {expected}"
    after = spec.c(spec.d.ceiling).configs[t]
    window = (after.last_increase, after.window_base, after.window_high)
    if window != (opened, base, high):
        return (
            f"window (opened, base, highest) {window} after {where}, the rule gives "
            f"{(opened, base, high)}"
        )
    return None


def _swapped(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    name = spec._pools.get(e.address)
    if name is None:
        return None
    reserve_collateral, reserve_stable, fee = pre.state[f"pool:{name}"]
    reserve_in, reserve_out = (
        (reserve_collateral, reserve_stable)
        if e.args["collateral_in"]
        else (reserve_stable, reserve_collateral)
    )
    in_after_fee = e.args["amount_in"] * (WAD - fee)
    expected = in_after_fee * reserve_out // (reserve_in * WAD + in_after_fee)
    if e.args["amount_out"] != expected:
        return f"paid {e.args['amount_out']}, the constant product after the fee gives {expected}"
    return None


def _vault_closed(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    t = e.args["collateral_type"]
    ctype = pre.state["ctypes"][t]
    final = spec.c(spec.d.settlement).final_price[t]
    debt = e.args["normalized_debt"] * ctype.rate
    owe = ceil_div(ceil_div(debt, RAY) * final, RAY)
    collateral = pre.state["vaults"][(t, e.args["owner"])].collateral
    if e.args["collateral"] != min(owe, collateral) or e.args["shortfall"] != owe - min(
        owe, collateral
    ):
        return f"took {e.args['collateral']} (short {e.args['shortfall']}), owed {owe}"
    return None


def _cashed(spec: SpecificationBase, pre: Before, e: Event, now: int) -> str | None:
    price = spec.c(spec.d.settlement).cash_price[e.args["collateral_type"]]
    expected = e.args["amount"] * price // RAY
    if e.args["collateral"] != expected:
        return (
            f"paid {e.args['collateral']} for {e.args['amount']}, floor(x cash price) = {expected}"
        )
    return None


EVENT_CHECKS = {
    "Taken": _taken,
    "DustClosed": _dust_closed,
    "Finished": _finished,
    "Started": _started,
    "Reset": _started,
    "VaultSeized": _seized,
    "VaultModified": _vault_modified,
    "Accrued": _accrued,
    "FeesShared": _fees_shared,
    "PricePosted": _price_posted,
    "Poked": _spotter_poked,
    "SafePriceSet": _safe_price_set,
    "SizeMarginSet": _size_margin_set,
    "DustSet": _dust_set,
    "LossClosed": _loss_closed,
    "LossAllocated": _loss_allocated,
    "Withdrawn": _withdrawn,
    "IncomeForfeited": _income_forfeited,
    "WithdrawalRequested": _withdrawal_requested,
    "WithdrawalCancelled": _withdrawal_cancelled,
    "Bid": _bid,
    "ParametersSet": _auction_step_set,
    "DebtAuctionParametersSet": _auction_step_set,
    "CeilingUpdated": _ceiling_updated,
    "Swapped": _swapped,
    "VaultClosed": _vault_closed,
    "Cashed": _cashed,
}
