"""Backstop.close_loss: the auction that finishes closes its loss event, the Backstop pulls the
escrowed rest of the proceeds, settles the seized debt with them and keeps the penalty as
surplus; unsettled proceeds that would reach 2**192 are settled at once. Scenario and helpers:
tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

from helpers import heal
from support.liquidation import DEBT_LIMIT, DONE, RUNNING
from support.liquidation import assert_all_cancelled as _assert_all_cancelled
from support.liquidation import backstop as _backstop
from support.liquidation import backstop_surplus as _backstop_surplus
from support.liquidation import bad_debt as _bad_debt
from support.liquidation import liquidate as _liquidate
from support.liquidation import loss as _loss
from support.liquidation import own_event as _own_event
from support.liquidation import stable as _stable
from support.liquidation import unsafe_eth_vault as _unsafe_eth_vault

from offchain.model.fixed_point import RAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_close_loss__unsettled_proceeds_would_reach_2_192__settled_at_once(system):
    """The unsettled proceeds share a word with open_losses, in the 192 bits above it. Money flow:
    two events of 2**192 - 1 each, raised in full. The first close leaves its proceeds unsettled;
    the second would bring them to 2**193 - 2, which does not fit: that close cancels both against
    as much bad debt at once, and nothing is left to heal. Without that, the packed word would
    overflow into nothing (a revert: every auction's close would be stuck)."""
    r, t, b = system.roles, system.eth, system.d.backstop
    amount = DEBT_LIMIT - 1
    _own_event(system, amount, auction_id=1)
    system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)
    assert _backstop(system, "unsettled_proceeds") == amount
    _own_event(system, amount, auction_id=2)
    assert _backstop(system, "open_losses") == 1
    assert _backstop(system, "attributed_debt") == 2 * amount
    system.tx(b, "close_loss", r.governance, t.type_id, 2, 0, 0)
    assert [(n, a) for _, n, a in _events(system) if n in ("DebtSettled", "LossClosed")] == [
        ("DebtSettled", {"account": b, "amount": 2 * amount}),
        (
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": r.governance,
                "auction_id": 2,
                "raised": amount,
                "covered": amount,
                "loss": 0,
            },
        ),
    ]
    _assert_all_cancelled(system)


def test_close_loss__event_not_running__reverts_loss_not_running(system):
    """Money flow: none. close_loss closes the caller's own event: an id never opened, the running
    event of another auction (here the ETH auction's, which governance cannot close in its stead)
    and an event already closed all revert."""
    r, t, b = system.roles, system.eth, system.d.backstop
    with reverts("backstop: loss not running"):
        system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    assert _loss(system, t, 1)[3] == RUNNING
    with reverts("backstop: loss not running"):
        system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)
    assert _loss(system, t, 1)[3] == RUNNING
    _own_event(system, 100 * RAD, auction_id=5)
    system.tx(b, "close_loss", r.governance, t.type_id, 5, 0, 0)
    with reverts("backstop: loss not running"):
        system.tx(b, "close_loss", r.governance, t.type_id, 5, 0, 0)


def test_close_loss__unraised_above_amount_to_raise__reverts_arithmetic(system):
    """An auction cannot report more unraised than it had to raise (raised = to_raise - unraised
    would underflow); unraised equal to it is a close that raised nothing."""
    r, t, b = system.roles, system.eth, system.d.backstop
    _own_event(system, 100 * RAD)
    with reverts(None):
        system.tx(b, "close_loss", r.governance, t.type_id, 1, 100 * RAD + 1, 0)
    assert _loss(system, t, 1, auction=r.governance)[3] == RUNNING
    system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)


def test_close_loss__paid_directly__pulls_only_the_rest_and_above_raised_reverts_arithmetic(system):
    """Money flow: governance plays an auction of an event of 100 (debt = to raise = 100) that
    raised it all and paid 30 of it to the Backstop itself, as a finishing take does. Reporting
    more paid directly than raised (101) would underflow the pull (raised - paid_directly) and
    reverts. Reporting 30, the Backstop pulls only the other 70 from the closer and keeps the 100
    received as unsettled proceeds; healed, they cancel the seized debt: the event is done with no
    loss and no surplus."""
    r, t, b, e = system.roles, system.eth, system.d.backstop, system.d.engine
    _own_event(system, 100 * RAD)
    created_at = system.now
    with reverts(None):
        system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 100 * RAD + 1)
    assert _loss(system, t, 1, auction=r.governance) == (100 * RAD, 100 * RAD, created_at, RUNNING)

    _backstop_surplus(system, 30 * RAD)  # the finishing payment, straight to the Backstop
    closer_0, surplus_0, bad_0 = (
        _stable(system, r.governance),
        _stable(system, b),
        _bad_debt(system, b),
    )
    assert surplus_0 == 30 * RAD
    system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 30 * RAD)
    assert _events(system) == [
        (e, "StableTransferred", {"src": r.governance, "dst": b, "amount": 70 * RAD}),
        (
            b,
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": r.governance,
                "auction_id": 1,
                "raised": 100 * RAD,
                "covered": 100 * RAD,
                "loss": 0,
            },
        ),
    ]
    assert _stable(system, r.governance) == closer_0 - 70 * RAD
    assert (_stable(system, b), _bad_debt(system, b)) == (100 * RAD, bad_0)
    assert _loss(system, t, 1, auction=r.governance) == (100 * RAD, 0, created_at, DONE)
    assert _backstop(system, "open_losses") == 0
    heal(system, 100 * RAD)
    assert (_stable(system, b), _bad_debt(system, b)) == (0, bad_0 - 100 * RAD)
    assert _backstop(system, "attributed_debt") == 0
