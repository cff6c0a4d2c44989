"""Backstop's deleveraging layer (issue 35, item 3): `cover` parks what reaches the layer as the
type's loss due for deleveraging, and `deleverage(type, owners)` (the DELEVERAGE role) charges it
to the listed vaults in proportion to their headroom above the buffer, never taking one below
(1 + buffer) x its requirement. The loss event used throughout: tests/contracts/support/
waterfall.py (a loss of about 1,120 BUSD on ETH-A after ETH fell to 1,000).

Three other vaults of 10 ETH each open before the crash; at 1,000 the safe price is 1,000 / 1.5
(ETH-A's liquidation ratio), so each vault's collateral carries 6,666.67 of margin debt, and
6,060.61 with the deployment's 10% buffer:
- `other`, 3,000 of debt: headroom about 3,060.6 (the strongest);
- `keeper`, 5,500 of debt: headroom about 560.6;
- `stranger`, no debt: headroom 0 (a vault without debt is not charged).
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
    DELEVERAGE,
    FUND,
    POOL,
    REDISTRIBUTION,
)
from offchain.model.fixed_point import RAD, WAD
from offchain.model.state import Role
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def _vaults(system):
    r = system.roles
    return [
        (r.other, 10 * WAD, 3_000 * WAD),
        (r.keeper, 10 * WAD, 5_500 * WAD),
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


def _headroom(system, owner, buffer=DEFAULT_DELEVERAGE_BUFFER):
    """floor(C x s x WAD / (WAD + buffer)) - D, 0 without debt or room (no size margin)."""
    collateral, normalized_debt = _vault(system, owner)
    ct = _ctype(system)
    limit = collateral * ct.safe_price * WAD // (WAD + buffer)
    debt = normalized_debt * ct.rate
    return limit - debt if normalized_debt and limit > debt else 0


def test_deleverage__loss_parked_then_charged_by_headroom__strong_vault_pays_most(system):
    """Money flow: the layer takes the whole loss L (about 1,120) as due for deleveraging (the
    Backstop's bad debt, no longer attributed to the event); the keeper lists the three owners
    and the borrower (liquidated: no debt) and each vault with headroom pays the same fraction
    L / (total headroom), about 31%, of it: `other` about 946.6, `keeper` about 173.4, the others
    nothing. What rounding leaves (under one normalized wei x rate per vault) stays due. The
    Backstop's bad debt falls by what was charged, and every charged vault keeps its collateral
    worth 1.1 x its debt at the safe price."""
    r, b, e = system.roles, system.d.backstop, system.d.engine
    event, receipts = _parked(system)
    assert receipts == [(DELEVERAGE, e, event.loss)]
    assert _backstop(system, "deleverage_due", event.type_id) == event.loss
    assert _backstop(system, "deleverage_total") == event.loss
    assert _backstop(system, "attributed_debt") == 0
    owners = _ascending([r.other, r.keeper, r.stranger, r.borrower])
    rooms = {owner: _headroom(system, owner) for owner in owners}
    total = sum(rooms.values())
    assert 3_621 * RAD < total < 3_622 * RAD
    rate, bad = _ctype(system).rate, _bad_debt(system, b)
    before = {owner: _vault(system, owner) for owner in owners}

    system.tx(b, "deleverage", r.keeper, event.type_id, owners)

    fraction = event.loss * WAD // total
    charges = {owner: rooms[owner] * fraction // WAD // rate for owner in owners if rooms[owner]}
    assert set(charges) == {r.other, r.keeper}
    assert 946 * WAD < charges[r.other] < 947 * WAD
    assert 173 * WAD < charges[r.keeper] < 174 * WAD
    charged = sum(charges.values()) * rate
    # rounding leaves less than one wad-th of the headroom and one rate per vault
    assert event.loss - charged < total // WAD + 2 * rate
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
        assert normalized_debt * ct.rate * 11 // 10 <= collateral * ct.safe_price
    assert _bad_debt(system, b) == bad - charged
    assert _backstop(system, "deleverage_due", event.type_id) == event.loss - charged
    assert _backstop(system, "deleverage_total") == event.loss - charged


def test_deleverage__capacity_short__each_vault_pays_its_whole_headroom_rest_stays_due(system):
    """Money flow: only `keeper` is listed, with about 560.6 of headroom against a loss of about
    1,120: it pays all of its headroom (rounded down to a normalized wei) and ends at 1.1 x its
    requirement; the other ~560 stays due for a later list."""
    r, b = system.roles, system.d.backstop
    event, _ = _parked(system)
    room = _headroom(system, r.keeper)
    rate = _ctype(system).rate
    system.tx(b, "deleverage", r.keeper, event.type_id, [r.keeper])
    charged = room // rate * rate
    assert 560 * RAD < charged < 561 * RAD
    assert _backstop(system, "deleverage_due", event.type_id) == event.loss - charged
    assert _headroom(system, r.keeper) < rate
    # the keeper's vault has no headroom left: a second call charges nothing
    system.tx(b, "deleverage", r.keeper, event.type_id, [r.keeper])
    assert _events(system)[-1] == (
        b,
        "Deleveraged",
        {"collateral_type": event.type_id, "charged": 0, "due": event.loss - charged},
    )


def test_deleverage__refusals(system):
    """No money moves: a list out of order or with an owner twice, a caller without the role,
    a type with nothing due, and a buffer above 1 wad are refused; `deleverage` is not a layer
    number governance may give twice or as 5 (global settlement) or 7."""
    r, b = system.roles, system.d.backstop
    event, _ = _parked(system)
    owners = _ascending([r.other, r.keeper])
    with reverts("backstop: owners not ascending"):
        system.tx(b, "deleverage", r.keeper, event.type_id, owners[::-1])
    with reverts("backstop: owners not ascending"):
        system.tx(b, "deleverage", r.keeper, event.type_id, [owners[0], owners[0]])
    with reverts("authorized: not authorized"):
        system.tx(b, "deleverage", r.stranger, event.type_id, owners)
    with reverts("backstop: nothing to deleverage"):
        system.tx(b, "deleverage", r.keeper, system.btc.type_id, owners)
    with reverts("backstop: buffer too large"):
        system.tx(b, "set_deleverage_buffer", r.governance, WAD + 1)
    for order in ([5], [7], [DELEVERAGE, DELEVERAGE]):
        with reverts("backstop: unknown layer" if len(order) == 1 else "backstop: layer repeated"):
            _set_waterfall(system, order)
    with reverts("authorized: not authorized"):
        system.tx(b, "set_deleverage_buffer", r.stranger, 0)


def test_deleverage__larger_buffer__charges_less_and_keeps_more_margin(system):
    """Money flow: governance raises the buffer to 50% while the loss is due: `keeper`'s vault
    (5,500 against 6,666.67 of capacity) is then within the buffer and pays nothing; `other`
    pays the whole loss, within its headroom at 1.5 x its requirement (about 1,444)."""
    r, b = system.roles, system.d.backstop
    event, _ = _parked(system)
    system.tx(b, "set_deleverage_buffer", r.governance, WAD // 2)
    assert _headroom(system, r.keeper, WAD // 2) == 0
    rate, room = _ctype(system).rate, _headroom(system, r.other, WAD // 2)
    assert 1_444 * RAD < room < 1_445 * RAD
    owners = _ascending([r.other, r.keeper])
    system.tx(b, "deleverage", r.keeper, event.type_id, owners)
    assert _vault(system, r.keeper)[1] == 5_500 * WAD
    # the one vault with headroom pays the fraction loss / room of it: the loss, to rounding
    added = room * (event.loss * WAD // room) // WAD // rate
    assert event.loss - added * rate < room // WAD + rate
    assert _vault(system, r.other)[1] == 3_000 * WAD + added
    assert _backstop(system, "deleverage_due", event.type_id) == event.loss - added * rate


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
        system.tx(b, "deleverage", r.keeper, event.type_id, [r.other])
    assert _backstop(system, "get_waterfall") == (FUND, POOL, DELEVERAGE, REDISTRIBUTION)
