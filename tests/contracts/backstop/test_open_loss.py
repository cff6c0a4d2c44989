"""Backstop.open_loss: an event is opened once, its debt fits 2**192 and its penalty is kept exactly
or refused. Scenario and helpers: tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

import pytest
from helpers import heal
from support.liquidation import DEBT_LIMIT, DONE
from support.liquidation import backstop as _backstop
from support.liquidation import backstop_bad_debt as _backstop_bad_debt
from support.liquidation import bad_debt as _bad_debt
from support.liquidation import event as _event
from support.liquidation import loss as _loss
from support.liquidation import own_event as _own_event

from offchain.model.fixed_point import PENALTY_STEP, RAD, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_open_loss__same_event_twice__reverts_loss_exists_even_once_done(system):
    """An event is (type, auction, auction id): opening it again reverts while it runs and after
    it is done (ids are never reused); another id, auction or type is another event."""
    r, t, b = system.roles, system.eth, system.d.backstop
    _own_event(system, 100 * RAD)
    with reverts("backstop: loss exists"):
        system.tx(b, "open_loss", r.governance, t.type_id, r.governance, 1, 100 * RAD, WAD)
    with reverts("backstop: loss exists"):
        system.tx(b, "open_loss", r.governance, t.type_id, r.governance, 1, 0, WAD)
    # different keys are different events (empty ones here, closed at once)
    for type_id, auction, auction_id in (
        (t.type_id, r.governance, 2),
        (t.type_id, r.other, 1),
        (system.btc.type_id, r.governance, 1),
    ):
        system.tx(b, "open_loss", r.governance, type_id, auction, auction_id, 0, WAD)
        assert _events(system)[0][1] == "LossOpened"
    assert _backstop(system, "open_losses") == 4
    system.tx(b, "close_loss", r.governance, t.type_id, 2, 0, 0)
    system.tx(b, "close_loss", r.governance, system.btc.type_id, 1, 0, 0)
    system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)
    assert _loss(system, t, 1, auction=r.governance)[3] == DONE
    with reverts("backstop: loss exists"):
        system.tx(b, "open_loss", r.governance, t.type_id, r.governance, 1, 0, WAD)
    # the other account's event cannot be closed by governance (the closer is the auction); it is
    # authorized to close its own
    system.tx(b, "add_authority", r.governance, r.other)
    system.tx(b, "close_loss", r.other, t.type_id, 1, 0, 0)
    assert _backstop(system, "open_losses") == 0


def test_open_loss__debt_of_2_192__reverts_debt_too_large(system):
    """The event's debt is packed into 192 bits: 2**192 is refused, 2**192 - 1 accepted (and here
    raised in full, so the books close once healed)."""
    r, t, b = system.roles, system.eth, system.d.backstop
    with reverts("backstop: debt too large"):
        system.tx(b, "open_loss", r.governance, t.type_id, r.governance, 1, DEBT_LIMIT, WAD)
    _own_event(system, DEBT_LIMIT - 1)
    assert _loss(system, t, 1, auction=r.governance)[:2] == (DEBT_LIMIT - 1, DEBT_LIMIT - 1)
    system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)
    assert _event(system, "LossClosed")["covered"] == DEBT_LIMIT - 1
    heal(system, DEBT_LIMIT - 1)
    assert _bad_debt(system, b) == 0


@pytest.mark.parametrize(
    ("penalty", "accepted"),
    [
        (WAD, True),
        (WAD + PENALTY_STEP, True),
        (113 * WAD // 100 + 7 * PENALTY_STEP, True),
        # the largest the event's 24-bit field holds (above the Liquidator's 2 wad)
        (WAD + (2**24 - 1) * PENALTY_STEP, True),
        (WAD + 2**24 * PENALTY_STEP, False),
        (WAD + 1, False),
        (113 * WAD // 100 + PENALTY_STEP // 2, False),
        (WAD - PENALTY_STEP, False),
        (0, False),
    ],
)
def test_open_loss__penalty__kept_exactly_or_refused(system, penalty, accepted):
    """A running event keeps its penalty, not what its auction must raise, in its one word: a
    penalty the word cannot hold exactly (off the 1e-7 grid, below 1, above 24 bits of steps)
    is refused; an accepted one gives back ceil(debt x penalty) as the event's due, and closing
    the event takes exactly that as raised."""
    r, t, b = system.roles, system.eth, system.d.backstop
    debt = 1_000 * RAD + 1
    if not accepted:
        with reverts("backstop: penalty not representable"):
            system.tx(b, "open_loss", r.governance, t.type_id, r.governance, 1, debt, penalty)
        return
    to_raise = -(-debt * penalty // WAD)
    _backstop_bad_debt(system, to_raise)
    system.tx(system.d.engine, "allow", r.governance, b)
    system.tx(b, "open_loss", r.governance, t.type_id, r.governance, 1, debt, penalty)
    assert _event(system, "LossOpened")["to_raise"] == to_raise
    assert _loss(system, t, 1, auction=r.governance)[:2] == (debt, to_raise)
    system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)
    assert _event(system, "LossClosed")["raised"] == to_raise
