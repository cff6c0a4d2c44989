"""A loss event from liquidation to close: the auction sells out below the seized debt and the event
closes with a loss to cover. The loss event used throughout:
tests/contracts/support/waterfall.py.
"""

from __future__ import annotations

from helpers import heal
from support.waterfall import RAISED
from support.waterfall import backstop as _backstop
from support.waterfall import bad_debt as _bad_debt
from support.waterfall import liquidate_borrower as _liquidate_borrower
from support.waterfall import sell_out_below_debt as _sell_out_below_debt
from support.waterfall import stable as _stable

from offchain.model.backstop import CLOSED, RUNNING


def test_loss_event__auction_sold_out_below_debt__closes_with_loss_to_cover(system):
    """Money flow: the seized D (13,000 x rate) is the Backstop's bad debt from the liquidation,
    plus the keeper's reward (unattributed). The take sells out, so its 11,880 goes straight to
    the Backstop (never to the auction's escrow), which settles it against the seized debt at
    close, when anyone heals it: until then it is unsettled proceeds, still attributed and held.
    What is left attributed to the event is its loss, D - 11,880; no surplus remains."""
    r, b = system.roles, system.d.backstop
    event = _liquidate_borrower(system)
    assert _backstop(system, "losses", *event.key) == (
        event.debt,
        event.to_raise,
        event.created_at,
        RUNNING,
    )
    assert _backstop(system, "open_losses") == 1
    assert _backstop(system, "attributed_debt") == event.debt
    assert _backstop(system, "unattributed_debt") == event.reward
    assert _stable(system, r.keeper) == event.reward

    _sell_out_below_debt(system, event, then_heal=False)
    # what the auction did not raise exceeds the penalty part: the debt itself is short
    assert event.to_raise - RAISED > event.to_raise - event.debt
    assert _backstop(system, "losses", *event.key) == (
        event.debt,
        event.loss,
        event.created_at,
        CLOSED,
    )
    assert _backstop(system, "open_losses") == 1
    assert _backstop(system, "unsettled_proceeds") == RAISED
    assert _backstop(system, "attributed_debt") == event.loss + RAISED
    assert _backstop(system, "unattributed_debt") == event.reward
    assert (_stable(system, b), _bad_debt(system, b)) == (RAISED, event.debt + event.reward)
    heal(system, RAISED)
    assert _backstop(system, "attributed_debt") == event.loss
    assert _backstop(system, "unattributed_debt") == event.reward
    assert (_stable(system, b), _bad_debt(system, b)) == (0, event.loss + event.reward)
    assert _stable(system, event.auction) == 0
    assert _stable(system, r.keeper) == event.reward
