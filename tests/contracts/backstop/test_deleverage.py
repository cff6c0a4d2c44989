"""Backstop's deleveraging layer (issue 35, item 3): `cover` parks what reaches the layer as the
type's loss due for deleveraging, and `deleverage(type, owners)` (the DELEVERAGE role) charges it
to the listed vaults in proportion to their headroom above the buffer, at most the max fraction
of it per call and once per interval per vault, never taking one below (1 + buffer) x its
requirement at the lowest price the oracle shows. The loss event used throughout: tests/
contracts/support/waterfall.py (a loss of about 1,120 BUSD on ETH-A after ETH fell to 1,000).

Three other vaults of 10 ETH each open before the crash; at 1,000 the safe price is 1,000 / 1.5
(ETH-A's liquidation ratio), so each vault's collateral carries 6,666.67 of margin debt, and
5,333.33 with the deployment's 25% buffer:
- `other`, 3,000 of debt: headroom about 2,333.3 (the strongest);
- `keeper`, 4,500 of debt: headroom about 833.3;
- `stranger`, no debt: headroom 0 (a vault without debt is not charged).
The deployment's limits: within a window of a day (opened by a vault's first charge), the shares
of its headroom charged to a vault add up to at most half (issue 45, finding 1: the share is
bounded per window, not the number of charges).
"""

from __future__ import annotations

from support.waterfall import backstop as _backstop
from support.waterfall import bad_debt as _bad_debt
from support.waterfall import cover as _cover
from support.waterfall import ctype as _ctype
from support.waterfall import loss_event as _loss_event
from support.waterfall import set_waterfall as _set_waterfall

from offchain.model.backstop import (
    DEFAULT_DELEVERAGE_BUFFER,
    DEFAULT_DELEVERAGE_INTERVAL,
    DEFAULT_DELEVERAGE_MAX_FRACTION,
    DELEVERAGE,
    FUND,
    POOL,
    REDISTRIBUTION,
)
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import Role
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def _vaults(system):
    r = system.roles
    return [
        (r.other, 10 * WAD, 3_000 * WAD),
        (r.keeper, 10 * WAD, 4_500 * WAD),
        (r.stranger, 10 * WAD, 0),
    ]


def _ascending(owners):
    return sorted(owners, key=lambda a: int(a, 16))


def _vault(system, owner):
    return _read(system, system.d.engine, "vaults", system.eth.type_id, owner)


def _parked(system, order=(DELEVERAGE,)):
    """The loss event with the three vaults, a waterfall `order`, and the cover: returns the
    event and its receipts; the keeper holds the DELEVERAGE role."""
    event = _loss_event(system, vaults=_vaults(system))
    _set_waterfall(system, order)
    receipts = _cover(system, event)
    system.tx(
        system.d.backstop,
        "grant_role",
        system.roles.governance,
        system.roles.keeper,
        int(Role.DELEVERAGE),
    )
    return event, receipts


def _common_share(due, rooms):
    """One share for every listed vault [wad]: (due - n) / their headroom, rounded down, so that
    each pays the same fraction of its headroom and the charges (each rounded up in the
    contract's sum) stay within the due, never scaled down."""
    return (due - len(rooms)) * WAD // sum(rooms)


def _whole(owners):
    """Every listed vault's share: its whole headroom (the max fraction then binds)."""
    return [WAD] * len(owners)


def _headroom(system, owner, buffer=DEFAULT_DELEVERAGE_BUFFER, safe_price=None):
    """floor(C x s x WAD / (WAD + buffer)) - D, 0 without debt or room (no size margin)."""
    collateral, normalized_debt = _vault(system, owner)
    ct = _ctype(system)
    limit = collateral * (safe_price or ct.safe_price) * WAD // (WAD + buffer)
    debt = normalized_debt * ct.rate
    return limit - debt if normalized_debt and limit > debt else 0


def test_deleverage__loss_parked_then_charged_by_headroom__strong_vault_pays_most(system):
    """Money flow: the layer takes the whole loss L (about 1,120) as due for deleveraging (the
    Backstop's bad debt, no longer attributed to the event); the keeper lists the three owners
    and the borrower (liquidated: no debt) and each vault with headroom pays the same fraction
    (L - 2 rad) / (total headroom), about 35% (below the max fraction of 50%), of it, the share
    the keeper gives each of them (one for all here: they are listed alike): `other` about 825,
    `keeper` about 295, the others nothing. What rounding leaves stays due. The Backstop's bad
    debt falls by what was charged, and every charged vault keeps its collateral worth 1.25 x
    its debt at the safe price."""
    r, b, e = system.roles, system.d.backstop, system.d.engine
    event, receipts = _parked(system)
    assert receipts == [(DELEVERAGE, e, event.loss)]
    assert _backstop(system, "deleverage_due", event.type_id) == event.loss
    assert _backstop(system, "deleverage_total") == event.loss
    assert _backstop(system, "attributed_debt") == 0
    owners = _ascending([r.other, r.keeper, r.stranger, r.borrower])
    rooms = {owner: _headroom(system, owner) for owner in owners}
    total = sum(rooms.values())
    assert 3_166 * RAD < total < 3_167 * RAD
    rate, bad = _ctype(system).rate, _bad_debt(system, b)
    before = {owner: _vault(system, owner) for owner in owners}

    fraction = _common_share(event.loss, [rooms[o] for o in owners if rooms[o]])
    assert fraction < WAD // 2
    system.tx(b, "deleverage", r.keeper, event.type_id, owners, [fraction] * len(owners))

    charges = {owner: rooms[owner] * fraction // WAD // rate for owner in owners if rooms[owner]}
    assert set(charges) == {r.other, r.keeper}
    assert 825 * WAD < charges[r.other] < 826 * WAD
    assert 294 * WAD < charges[r.keeper] < 295 * WAD
    charged = sum(charges.values()) * rate
    # rounding leaves less than one wad-th of the headroom and one rate and a rad per vault
    assert event.loss - charged < total // WAD + 2 * rate + 2
    expected = []
    for owner in (o for o in owners if o in charges):
        seized = {"collateral_type": event.type_id, "owner": owner, "collateral_dst": b}
        seized |= {"debt_dst": b, "delta_collateral": 0, "delta_normalized_debt": charges[owner]}
        receipt = {"collateral_type": event.type_id, "owner": owner}
        receipt |= {"normalized_debt": charges[owner], "debt": charges[owner] * rate}
        expected += [(e, "VaultSeized", seized), (b, "VaultDeleveraged", receipt)]
    done = {"collateral_type": event.type_id, "charged": charged, "due": event.loss - charged}
    assert _events(system) == [*expected, (b, "Deleveraged", done)]
    for owner in owners:
        collateral, normalized_debt = _vault(system, owner)
        assert collateral == before[owner][0]
        assert normalized_debt == before[owner][1] + charges.get(owner, 0)
        ct = _ctype(system)
        assert normalized_debt * ct.rate * 5 // 4 <= collateral * ct.safe_price
        window = _backstop(system, "deleverage_window", event.type_id, owner)
        assert window == ((system.now, fraction) if owner in charges else (0, 0))
    assert _bad_debt(system, b) == bad - charged
    assert _backstop(system, "deleverage_due", event.type_id) == event.loss - charged
    assert _backstop(system, "deleverage_total") == event.loss - charged


def test_deleverage__shares__each_vault_pays_at_most_its_own_share(system):
    """Money flow (issue 63): the keeper gives each listed vault its own share of its headroom:
    `other` 10% (about 233.3), `keeper` 20% (about 166.7), together below the due (about
    1,120), so neither is scaled: each pays exactly its share, rounded down to whole normalized
    debt, and its window records that share; the rest stays due."""
    r, b = system.roles, system.d.backstop
    event, _ = _parked(system)
    rate = _ctype(system).rate
    owners = _ascending([r.other, r.keeper])
    given = {r.other: WAD // 10, r.keeper: WAD // 5}
    rooms = {o: _headroom(system, o) for o in owners}
    system.tx(b, "deleverage", r.keeper, event.type_id, owners, [given[o] for o in owners])
    charged = 0
    for o in owners:
        added = rooms[o] * given[o] // WAD // rate
        assert _vault(system, o)[1] == {r.other: 3_000, r.keeper: 4_500}[o] * WAD + added
        assert _backstop(system, "deleverage_window", event.type_id, o) == (system.now, given[o])
        charged += added * rate
    assert 399 * RAD < charged < 401 * RAD
    assert _backstop(system, "deleverage_due", event.type_id) == event.loss - charged


def test_deleverage__shares_above_the_due__scaled_down_together_never_past_it(system):
    """Money flow (issue 63): both vaults asked for their whole headroom (each capped at the max
    fraction, half: about 1,166.7 and 416.7, 1,583.3 together) against a due of about 1,120:
    every share is scaled by due / 1,583.3 (rounded down), so each pays the same share of its
    headroom, about 35.4%, and the charges stay within the due; what rounding leaves stays
    due."""
    r, b = system.roles, system.d.backstop
    event, _ = _parked(system)
    rate = _ctype(system).rate
    owners = _ascending([r.other, r.keeper])
    rooms = {o: _headroom(system, o) for o in owners}
    asked = sum(-(-room * (WAD // 2) // WAD) for room in rooms.values())
    assert 1_583 * RAD < asked < 1_584 * RAD and asked > event.loss
    system.tx(b, "deleverage", r.keeper, event.type_id, owners, _whole(owners))
    share = WAD // 2 * (event.loss * WAD // asked) // WAD
    assert WAD * 35 // 100 < share < WAD * 36 // 100
    charged = 0
    for o in owners:
        added = rooms[o] * share // WAD // rate
        assert _vault(system, o)[1] == {r.other: 3_000, r.keeper: 4_500}[o] * WAD + added
        assert _backstop(system, "deleverage_window", event.type_id, o) == (system.now, share)
        charged += added * rate
    due = _backstop(system, "deleverage_due", event.type_id)
    assert due == event.loss - charged
    assert due < sum(rooms.values()) // WAD + 2 * rate + 2


def test_deleverage__capacity_short__half_the_headroom_per_window(system):
    """Money flow: only `keeper` is listed, with about 833.3 of headroom against a loss of about
    1,120: one call charges it half its headroom (the max fraction), about 416.7, and its
    window (a day) has used all of it; a second call at once charges nothing; a day later a new
    window opens and it pays half of what is left, about 208.3. The rest stays due."""
    r, b = system.roles, system.d.backstop
    event, _ = _parked(system)
    room, rate = _headroom(system, r.keeper), _ctype(system).rate
    system.tx(b, "deleverage", r.keeper, event.type_id, [r.keeper], [WAD])
    first = room // 2 // rate * rate
    assert 416 * RAD < first < 417 * RAD
    assert _backstop(system, "deleverage_due", event.type_id) == event.loss - first
    opened = system.now
    assert _backstop(system, "deleverage_window", event.type_id, r.keeper) == (opened, WAD // 2)
    system.tx(b, "deleverage", r.keeper, event.type_id, [r.keeper], [WAD])
    assert _events(system) == [
        (
            b,
            "Deleveraged",
            {"collateral_type": event.type_id, "charged": 0, "due": event.loss - first},
        )
    ]
    system.warp(DEFAULT_DELEVERAGE_INTERVAL)
    room = _headroom(system, r.keeper)
    system.tx(b, "deleverage", r.keeper, event.type_id, [r.keeper], [WAD])
    second = room // 2 // rate * rate
    assert 208 * RAD < second < 209 * RAD
    assert system.now >= opened + DEFAULT_DELEVERAGE_INTERVAL
    assert _backstop(system, "deleverage_window", event.type_id, r.keeper) == (system.now, WAD // 2)
    assert _backstop(system, "deleverage_due", event.type_id) == event.loss - first - second


def _small_loss(system, amount):
    """A second loss event of `amount` [rad], parked at once: governance grants the stranger
    OPEN_LOSS and CLOSE_LOSS (as the Liquidator and an auction hold them), gives the Backstop
    `amount` of bad debt (as a seizure would), and the stranger opens the event and closes it
    raising nothing; covered after the queue delay (the waterfall in force parks it)."""
    r, b, e = system.roles, system.d.backstop, system.d.engine
    roles = int(Role.OPEN_LOSS | Role.CLOSE_LOSS)
    system.tx(b, "grant_role", r.governance, r.stranger, roles)
    system.tx(e, "create_unbacked", r.governance, b, r.governance, amount)
    t = system.eth.type_id
    system.tx(b, "open_loss", r.stranger, t, r.stranger, 1, amount, WAD)
    opened = system.now
    system.tx(b, "close_loss", r.stranger, t, 1, amount, 0)
    system.lockstep.set_next_block_time(opened + _backstop(system, "queue_delay"))
    system.tx(b, "cover", r.stranger, t, r.stranger, 1)


def test_finding_45_1__small_charge_first__big_loss_charged_as_if_it_had_not_come(system):
    """Money flow (issue 45, finding 1): a loss of 5 reaches the layer first and the keeper
    charges it to the two strong vaults (each about 0.16% of its headroom); 100 s later the
    loss of about 1,120 is parked. Before the fix each vault rested for a day after its tiny
    charge, so the second call charged nothing and the whole loss stayed parked (the strongest
    owner had a day to move collateral out). Now each window bounds the share charged, not the
    calls: the second call charges every vault the share (due - 2 rad) / listed headroom (about
    35%), as if the small loss had not come, because that is below what the window has left
    (50% - 0.16%); the windows' used shares add up to the two shares, below the max
    fraction."""
    r, b = system.roles, system.d.backstop
    event = _loss_event(system, vaults=_vaults(system))
    _set_waterfall(system, (DELEVERAGE,))
    system.tx(b, "grant_role", r.governance, r.keeper, int(Role.DELEVERAGE))
    owners = _ascending([r.other, r.keeper])
    small = 5 * RAD
    _small_loss(system, small)
    assert _backstop(system, "deleverage_due", event.type_id) == small
    rooms = {o: _headroom(system, o) for o in owners}
    first = _common_share(small, list(rooms.values()))
    system.tx(b, "deleverage", r.keeper, event.type_id, owners, [first] * 2)
    assert 0 < first < WAD // 500
    opened = system.now
    for o in owners:
        assert _backstop(system, "deleverage_window", event.type_id, o) == (opened, first)
    left = _backstop(system, "deleverage_due", event.type_id)
    system.warp(100)
    _cover(system, event)
    due = _backstop(system, "deleverage_due", event.type_id)
    assert due == left + event.loss
    rooms = {o: _headroom(system, o) for o in owners}
    rate = _ctype(system).rate
    fraction = _common_share(due, list(rooms.values()))
    system.tx(b, "deleverage", r.keeper, event.type_id, owners, [fraction] * 2)
    assert WAD // 3 < fraction < WAD // 2 - first
    charges = {o: rooms[o] * fraction // WAD // rate for o in owners}
    assert 820 * WAD < charges[r.other] < 826 * WAD
    assert 290 * WAD < charges[r.keeper] < 295 * WAD
    charged = sum(charges.values()) * rate
    assert _backstop(system, "deleverage_due", event.type_id) == due - charged
    # what rounding leaves: below one wad-th of the listed headroom and one rate and rad a vault
    assert due - charged < sum(rooms.values()) // WAD + 2 * rate + 2
    for o in owners:
        window = _backstop(system, "deleverage_window", event.type_id, o)
        assert window == (opened, first + fraction)
        assert window[1] <= DEFAULT_DELEVERAGE_MAX_FRACTION


def test_deleverage__window_bound__many_small_charges_add_up_to_the_max_fraction(system):
    """Money flow: with a max fraction of 10%, `keeper` (about 833.3 of headroom) alone is
    listed four times, ten minutes apart: a window holds 10% of its headroom in all, so the
    first call takes 10% and the next three, within the day, nothing; a day after the first
    charge a new window opens and takes 10% of the headroom then."""
    r, b = system.roles, system.d.backstop
    event, _ = _parked(system)
    system.tx(b, "set_deleverage_limits", r.governance, WAD // 10, DEFAULT_DELEVERAGE_INTERVAL)
    rate = _ctype(system).rate
    room = _headroom(system, r.keeper)
    system.tx(b, "deleverage", r.keeper, event.type_id, [r.keeper], [WAD])
    first = room // 10 // rate * rate
    opened = system.now
    for _ in range(3):
        system.warp(600)
        system.tx(b, "deleverage", r.keeper, event.type_id, [r.keeper], [WAD])
        assert _events(system)[-1][2]["charged"] == 0
    assert _backstop(system, "deleverage_window", event.type_id, r.keeper) == (opened, WAD // 10)
    assert _backstop(system, "deleverage_due", event.type_id) == event.loss - first
    system.lockstep.set_next_block_time(opened + DEFAULT_DELEVERAGE_INTERVAL)
    room = _headroom(system, r.keeper)
    system.tx(b, "deleverage", r.keeper, event.type_id, [r.keeper], [WAD])
    second = room // 10 // rate * rate
    assert second > 0
    assert _backstop(system, "deleverage_due", event.type_id) == event.loss - first - second
    window = (opened + DEFAULT_DELEVERAGE_INTERVAL, WAD // 10)
    assert _backstop(system, "deleverage_window", event.type_id, r.keeper) == window


def test_deleverage__fall_queued_in_the_oracle__vaults_judged_at_the_lower_price(system):
    """Money flow: ETH's next price, 800, is queued in the delayed oracle but not yet the
    engine's: at 800 `keeper`'s 4,500 is above its limit with the buffer (4,266.7) and pays
    nothing, and `other` pays half its headroom at 800 (about 633.3), not at 1,000. Once 800 is
    in effect, `other` still keeps 1.25 x its requirement."""
    r, b, t = system.roles, system.d.backstop, system.eth
    event, _ = _parked(system)
    system.tx(t.oracle, "post", r.feeder, 800 * WAD)
    system.warp(t.config.oracle_delay)
    system.tx(t.oracle, "poke", r.keeper)
    assert _read(system, t.oracle, "next_price") == 800 * WAD
    low = (
        800 * 10**9 * WAD * RAY // _read(system, system.d.spotter, "liquidation_ratios", t.type_id)
    )
    assert low < _ctype(system).safe_price
    assert _headroom(system, r.keeper, safe_price=low) == 0
    room, rate = _headroom(system, r.other, safe_price=low), _ctype(system).rate
    owners = _ascending([r.other, r.keeper])
    system.tx(b, "deleverage", r.keeper, event.type_id, owners, _whole(owners))
    added = room // 2 // rate
    assert 633 * WAD < added < 634 * WAD
    assert _vault(system, r.other)[1] == 3_000 * WAD + added
    assert _vault(system, r.keeper)[1] == 4_500 * WAD
    system.warp(t.config.oracle_delay)
    system.tx(t.oracle, "poke", r.keeper)
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    ct = _ctype(system)
    collateral, normalized_debt = _vault(system, r.other)
    assert normalized_debt * ct.rate * 5 // 4 <= collateral * ct.safe_price
    # `keeper`, not charged, is within its buffer at 800 (safe, 1.19 x), as it would be anyway
    collateral, normalized_debt = _vault(system, r.keeper)
    assert normalized_debt * ct.rate <= collateral * ct.safe_price


def test_adv45_5__a_post_above_max_price__skipped_by_the_lowest_price_not_an_overflow(system):
    """Found by the adversarial read of issue 45: with `max_change` 0 a post of 1e42 made the
    lowest shown price's product (price x 1e36) overflow, so every `deleverage` reverted until a
    sane post replaced it. A price above MAX_PRICE (1e36) is no candidate now: the vaults are
    judged at the engine's price (the Specification checks each charge exactly, after the
    call), and both pay the same share of their headroom as with no such post."""
    r, b, t = system.roles, system.d.backstop, system.eth
    event, _ = _parked(system)
    system.tx(t.oracle, "set_max_change", r.governance, 0)
    system.tx(t.oracle, "post", r.feeder, 10**42)
    assert _read(system, t.oracle, "source_price") == 10**42
    rooms = {o: _headroom(system, o) for o in (r.other, r.keeper)}
    due = _read(system, b, "deleverage_due", event.type_id)
    fraction = min(WAD // 2, _common_share(due, list(rooms.values())))
    owners = _ascending(list(rooms))
    system.tx(b, "deleverage", r.keeper, event.type_id, owners, [fraction] * 2)
    rate = _ctype(system).rate
    assert _vault(system, r.other)[1] == 3_000 * WAD + rooms[r.other] * fraction // WAD // rate
    assert _vault(system, r.keeper)[1] == 4_500 * WAD + rooms[r.keeper] * fraction // WAD // rate


def test_deleverage__refusals(system):
    """No money moves: a list out of order or with an owner twice, a share list not one per
    owner, a caller without the role,
    a type with nothing due, a buffer above 1 wad, a max fraction of 0 or above 1, an interval
    above a year, and releases of nothing or more than is due are refused; `deleverage` is not a
    layer number governance may give twice, nor are 5 (global settlement) and 7."""
    r, b = system.roles, system.d.backstop
    event, _ = _parked(system)
    owners = _ascending([r.other, r.keeper])
    with reverts("backstop: owners not ascending"):
        system.tx(b, "deleverage", r.keeper, event.type_id, owners[::-1], _whole(owners))
    with reverts("backstop: owners not ascending"):
        system.tx(b, "deleverage", r.keeper, event.type_id, [owners[0], owners[0]], _whole(owners))
    for shares in ([WAD], [WAD] * 3):
        with reverts("backstop: one share per owner"):
            system.tx(b, "deleverage", r.keeper, event.type_id, owners, shares)
    with reverts("authorized: not authorized"):
        system.tx(b, "deleverage", r.stranger, event.type_id, owners, _whole(owners))
    with reverts("backstop: nothing to deleverage"):
        system.tx(b, "deleverage", r.keeper, system.btc.type_id, owners, _whole(owners))
    with reverts("backstop: buffer too large"):
        system.tx(b, "set_deleverage_buffer", r.governance, WAD + 1)
    for fraction, interval in ((0, 0), (WAD + 1, 0)):
        with reverts("backstop: bad max fraction"):
            system.tx(b, "set_deleverage_limits", r.governance, fraction, interval)
    with reverts("backstop: interval too long"):
        system.tx(b, "set_deleverage_limits", r.governance, WAD, 365 * 86400 + 1)
    for amount in (0, event.loss + 1):
        with reverts("backstop: bad release"):
            system.tx(b, "release_deleverage", r.governance, event.type_id, amount)
    for order in ([5], [7], [DELEVERAGE, DELEVERAGE]):
        with reverts("backstop: unknown layer" if len(order) == 1 else "backstop: layer repeated"):
            _set_waterfall(system, order)
    for function, args in (
        ("set_deleverage_buffer", (0,)),
        ("set_deleverage_limits", (WAD, 0)),
        ("release_deleverage", (event.type_id, 1)),
    ):
        with reverts("authorized: not authorized"):
            system.tx(b, function, r.keeper, *args)


def test_deleverage__size_margin_after_the_charge__a_vault_it_would_push_past_the_buffer_skipped(
    system,
):
    """A charge raises a vault's debt, and with a size margin its requirement grows faster than
    the debt: the headroom is measured at today's size, so a charge of most of it can take the
    vault past (1 + buffer) x its requirement. The layer then skips the vault (nothing charged,
    its window untouched). ETH-A's size margin: +50% per 2,500 of debt above 2,500 (the dust), at
    most +100%; the max fraction 1. `other` (3,000 of debt, requirement x 1.1: 3,300 against a
    limit of about 5,333) has about 2,033 of headroom; the loss (about 1,120) would take it to
    about 4,120 of debt, whose requirement (x 1.324, about 5,455) is past the limit. Without the
    size margin the same call charges it the loss (its whole headroom asked, scaled down to the
    due). (The planted bug deleverage-size-check-skipped
    survived the fuzz and every test before this one.)"""
    r, b, e = system.roles, system.d.backstop, system.d.engine
    event, _ = _parked(system)
    system.tx(b, "set_deleverage_limits", r.governance, WAD, DEFAULT_DELEVERAGE_INTERVAL)
    system.tx(e, "set_size_margin", r.governance, event.type_id, 2_500, 500_000, 1_000_000)
    before = _vault(system, r.other)
    system.tx(b, "deleverage", r.keeper, event.type_id, [r.other], [WAD])
    done = {"collateral_type": event.type_id, "charged": 0, "due": event.loss}
    assert _events(system) == [(b, "Deleveraged", done)]
    assert _vault(system, r.other) == before
    assert _backstop(system, "deleverage_window", event.type_id, r.other) == (0, 0)
    # the control: no size margin, the same call charges `other` the whole loss (its headroom,
    # about 2,333, is larger), less what the fraction's and the units' rounding leave
    system.tx(e, "set_size_margin", r.governance, event.type_id, 0, 0, 0)
    room, rate = _headroom(system, r.other), _ctype(system).rate
    system.tx(b, "deleverage", r.keeper, event.type_id, [r.other], [WAD])
    charged = _vault(system, r.other)[1] - before[1]
    assert charged > 0 and 0 <= event.loss - charged * rate < room // WAD + 2 * rate + 1
    assert _backstop(system, "deleverage_due", event.type_id) == event.loss - charged * rate


def test_deleverage__larger_buffer__charges_less_and_keeps_more_margin(system):
    """Money flow: governance raises the buffer to 50% while the loss is due: `keeper`'s vault
    (4,500 against 4,444.4 of limit) then pays nothing; `other` pays half its headroom at 1.5 x
    its requirement (about 1,444.4), about 722.2; about 397.8 stays due."""
    r, b = system.roles, system.d.backstop
    event, _ = _parked(system)
    system.tx(b, "set_deleverage_buffer", r.governance, WAD // 2)
    assert _headroom(system, r.keeper, WAD // 2) == 0
    rate, room = _ctype(system).rate, _headroom(system, r.other, WAD // 2)
    assert 1_444 * RAD < room < 1_445 * RAD
    owners = _ascending([r.other, r.keeper])
    system.tx(b, "deleverage", r.keeper, event.type_id, owners, _whole(owners))
    assert _vault(system, r.keeper)[1] == 4_500 * WAD
    added = room // 2 // rate
    assert _vault(system, r.other)[1] == 3_000 * WAD + added
    assert _backstop(system, "deleverage_due", event.type_id) == event.loss - added * rate


def test_deleverage__release_moves_a_stuck_due_to_the_debt_auction(system):
    """Money flow: governance releases 500 of the parked loss (about 1,120) to the debt-auction
    layer (as it would when no vault can take it: the type's debt repaid, no headroom left),
    which auctions it; the other ~620 stays due."""
    r, b = system.roles, system.d.backstop
    event, _ = _parked(system)
    system.tx(b, "release_deleverage", r.governance, event.type_id, 500 * RAD)
    assert _events(system) == [
        (b, "DeleverageReleased", {"collateral_type": event.type_id, "amount": 500 * RAD})
    ]
    assert _backstop(system, "deleverage_due", event.type_id) == event.loss - 500 * RAD
    assert _backstop(system, "deleverage_total") == event.loss - 500 * RAD
    assert _backstop(system, "debt_to_auction") == 500 * RAD
    system.tx(b, "start_debt_auction", r.stranger)
    assert _backstop(system, "debt_to_auction") == 0


def test_deleverage__type_without_debt__layer_pays_nothing__next_layer_covers(system):
    """Money flow: no other vault: once the borrower is liquidated ETH-A has no debt, so the
    deleveraging layer, placed first, takes nothing and the fund, next, pays the whole loss."""
    b = system.d.backstop
    event = _loss_event(system, surplus=2_000 * RAD, for_reward=True)
    _set_waterfall(system, [DELEVERAGE, FUND])
    assert _ctype(system).normalized_debt == 0
    assert _cover(system, event) == [(FUND, b, event.loss)]
    assert _backstop(system, "deleverage_due", event.type_id) == 0


def test_deleverage__before_redistribution__takes_everything__shutdown_moves_it_to_settlement(
    system,
):
    """Money flow: with [fund, pool, deleverage, redistribution] and no surplus or stakes, the
    layer takes the whole loss and redistribution is not reached (the rate is unchanged). At
    shutdown what is still due becomes settlement debt, the view reads 0 and `deleverage` is
    refused."""
    r, b = system.roles, system.d.backstop
    rate = _ctype(system).rate
    event, receipts = _parked(system, [FUND, POOL, DELEVERAGE, REDISTRIBUTION])
    assert receipts == [(DELEVERAGE, system.d.engine, event.loss)]
    assert _ctype(system).rate == rate
    system.tx(b, "shutdown", r.governance)
    assert _backstop(system, "settlement_debt") == event.loss
    assert _backstop(system, "deleverage_due", event.type_id) == 0
    assert _backstop(system, "deleverage_total") == 0
    with reverts("backstop: not live"):
        system.tx(b, "deleverage", r.keeper, event.type_id, [r.other], [WAD])
    assert _backstop(system, "get_waterfall") == (FUND, POOL, DELEVERAGE, REDISTRIBUTION)


def test_deleverage__a_headroom_that_overflows_before_a_repeated_owner__both_revert_alike(system):
    """Found by the 1,000,000-step campaign at 840f4bb (337 failures, one example replayed): the
    contract's first pass runs per owner, so an owner whose headroom x share overflows reverts
    (no reason) before a later owner's order is checked; the twin checked every owner's order
    first and reverted "backstop: owners not ascending". Now it runs the pass per owner too
    (`deleverage.first_pass`). A vault of 1e12 ETH (headroom about 5.3e59 rad: times the max
    fraction, half a wad, it overflows), listed twice."""
    r, b = system.roles, system.d.backstop
    huge = 10**30
    vaults = [(r.other, huge, 3_000 * WAD), (r.keeper, 10 * WAD, 4_500 * WAD)]
    event = _loss_event(system, vaults=vaults)
    _set_waterfall(system, (DELEVERAGE,))
    _cover(system, event)
    system.tx(b, "grant_role", r.governance, r.keeper, int(Role.DELEVERAGE))
    # its first-pass product, headroom x min(share, max fraction), overflows
    assert _headroom(system, r.other) * DEFAULT_DELEVERAGE_MAX_FRACTION >= 2**256
    with reverts(None):
        system.tx(b, "deleverage", r.keeper, event.type_id, [r.other, r.other], [WAD, WAD])
    # listed once, its share small enough: the product fits and the vault is charged
    share = 2**256 // _headroom(system, r.other) - 1
    due = _read(system, b, "deleverage_due", event.type_id)
    system.tx(b, "deleverage", r.keeper, event.type_id, [r.other], [share])
    assert _read(system, b, "deleverage_due", event.type_id) < due
