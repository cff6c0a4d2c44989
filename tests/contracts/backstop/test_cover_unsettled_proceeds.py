"""Backstop.cover adds its paying layers to the unsettled proceeds as close_loss does, and a sum
that would not fit 192 bits is settled at once. Scenario and helpers:
tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

from support.liquidation import DEBT_LIMIT
from support.liquidation import assert_all_cancelled as _assert_all_cancelled
from support.liquidation import backstop as _backstop
from support.liquidation import bad_debt as _bad_debt
from support.liquidation import loss as _loss
from support.liquidation import own_event as _own_event
from support.liquidation import stable as _stable

from offchain.model.backstop import FUND
from offchain.model.fixed_point import RAD
from offchain.testing.harness import events as _events


def test_cover__unsettled_proceeds_would_reach_2_192__settled_at_once(system):
    """The cover's paying layers add to the unsettled proceeds as a close does, and a sum that
    would not fit its 192 bits is cancelled at once there too. Money flow: an event of
    2**192 - 1 raised in full leaves that much unsettled; a second event of 100 closes having
    raised nothing (a loss of 100), and the Backstop gets 100 of free surplus. Its cover (FUND
    only, no queue delay) pays the 100 from the free surplus; that would bring the unsettled
    proceeds to 2**192 - 1 + 100, so the cover cancels them all against as much bad debt before
    its receipt, and nothing is left to heal, attributed, held or owed."""
    r, t, b, e = system.roles, system.eth, system.d.backstop, system.d.engine
    amount = DEBT_LIMIT - 1
    _own_event(system, amount, auction_id=1)
    system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)
    assert _backstop(system, "unsettled_proceeds") == amount
    _own_event(system, 100 * RAD, auction_id=2)
    system.tx(b, "close_loss", r.governance, t.type_id, 2, 100 * RAD, 0)
    assert _loss(system, t, 2, auction=r.governance)[1:2] == (100 * RAD,)
    # the 100 governance received for the second event, back as the Backstop's free surplus
    system.tx(e, "transfer_stable", r.governance, r.governance, b, 100 * RAD)
    system.tx(b, "set_waterfall", r.governance, [FUND])
    system.tx(b, "set_queue_delay", r.governance, 0)
    assert (_stable(system, b), _bad_debt(system, b)) == (amount + 100 * RAD, amount + 100 * RAD)

    system.tx(b, "cover", r.stranger, t.type_id, r.governance, 2)
    ids = {"collateral_type": t.type_id, "auction": r.governance, "auction_id": 2}
    assert _events(system) == [
        (e, "DebtSettled", {"account": b, "amount": amount + 100 * RAD}),
        (b, "LossAllocated", {**ids, "layer": FUND, "participant": b, "amount": 100 * RAD}),
    ]
    _assert_all_cancelled(system)
