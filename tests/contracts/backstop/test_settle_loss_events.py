"""Backstop.settle with loss events: only unattributed bad debt is settleable, never an event's debt
or debt handed to the debt auction. The loss event used throughout:
tests/contracts/support/waterfall.py.
"""

from __future__ import annotations

from helpers import heal
from support.waterfall import backstop as _backstop
from support.waterfall import bad_debt as _bad_debt
from support.waterfall import cover as _cover
from support.waterfall import give_surplus as _give_surplus
from support.waterfall import loss_event as _loss_event
from support.waterfall import stable as _stable

from offchain.model.fixed_point import RAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_settle__cancels_only_unattributed_bad_debt(system):
    """Money flow: 2,000 of surplus, bad debt = the loss L (attributed to the open event)
    + the keeper reward (unattributed). `settle` (anyone) may cancel the reward against
    surplus, not a wei of the event's loss: that is for `cover`."""
    r, b = system.roles, system.d.backstop
    event = _loss_event(system, surplus=2_000 * RAD)
    assert _backstop(system, "unattributed_debt") == event.reward
    with reverts("backstop: insufficient unattributed debt"):
        system.tx(b, "settle", r.stranger, event.reward + 1)
    system.tx(b, "settle", r.stranger, event.reward)
    assert _events(system) == [
        (system.d.engine, "DebtSettled", {"account": b, "amount": event.reward}),
        (b, "DebtSettled", {"amount": event.reward}),
    ]
    assert (_stable(system, b), _bad_debt(system, b)) == (2_000 * RAD - event.reward, event.loss)
    assert _backstop(system, "unattributed_debt") == 0
    assert _backstop(system, "attributed_debt") == event.loss
    with reverts("backstop: insufficient unattributed debt"):
        system.tx(b, "settle", r.stranger, 1)


def test_settle__debt_handed_to_debt_auction__not_settleable(system):
    """Money flow: the default waterfall hands L - 800 to the debt-auction layer; it stays the
    Backstop's bad debt but belongs to debt auctions (debt_to_auction), so with 2,000 of fresh
    surplus `settle` still cancels only the keeper's reward."""
    r, b = system.roles, system.d.backstop
    event = _loss_event(system, surplus=300 * RAD, stake=500 * RAD, for_reward=True)
    _cover(system, event)
    heal(system, 800 * RAD)
    _give_surplus(system, 2_000 * RAD)
    assert _bad_debt(system, b) == event.reward + event.loss - 800 * RAD
    assert _backstop(system, "unattributed_debt") == event.reward
    with reverts("backstop: insufficient unattributed debt"):
        system.tx(b, "settle", r.stranger, event.reward + 1)
    system.tx(b, "settle", r.stranger, event.reward)
    assert (_stable(system, b), _bad_debt(system, b)) == (2_000 * RAD, event.loss - 800 * RAD)
    assert _backstop(system, "debt_to_auction") == event.loss - 800 * RAD


def test_settle__beyond_surplus__reverts_insufficient_surplus(system):
    """Money flow: the reward (about 314.69) is settleable, but only 100 of surplus is there: 100
    can be settled, not a wei more."""
    r, b = system.roles, system.d.backstop
    event = _loss_event(system, surplus=100 * RAD)
    with reverts("backstop: insufficient surplus"):
        system.tx(b, "settle", r.keeper, 100 * RAD + 1)
    system.tx(b, "settle", r.keeper, 100 * RAD)
    assert (_stable(system, b), _bad_debt(system, b)) == (0, event.loss + event.reward - 100 * RAD)
    assert _backstop(system, "unattributed_debt") == event.reward - 100 * RAD
    with reverts("backstop: insufficient surplus"):
        system.tx(b, "settle", r.keeper, 1)
