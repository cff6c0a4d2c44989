"""Backstop.add_authority, remove_authority and revoke_role, and every privileged function called by
a stranger: an authority may open and close a loss event; the Liquidator's and an auction's roles
gate exactly their own calls. Scenario and helpers: tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

import pytest
from helpers import heal
from support.liquidation import DONE, RUNNING
from support.liquidation import auction as _auction
from support.liquidation import authorized as _authorized
from support.liquidation import backstop as _backstop
from support.liquidation import backstop_bad_debt as _backstop_bad_debt
from support.liquidation import bad_debt as _bad_debt
from support.liquidation import borrow_stable as _borrow_stable
from support.liquidation import liquidate as _liquidate
from support.liquidation import loss as _loss
from support.liquidation import stable as _stable
from support.liquidation import unattributed_debt as _unattributed_debt
from support.liquidation import unsafe_eth_vault as _unsafe_eth_vault

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import Role
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts

BACKSTOP_PRIVILEGED = {
    "add_authority": lambda s: (s.roles.stranger,),
    "remove_authority": lambda s: (s.d.liquidator,),
    "set_queue_delay": lambda s: (0,),
    "open_loss": lambda s: (s.eth.type_id, s.roles.stranger, 1, 0, WAD),
    "close_loss": lambda s: (s.eth.type_id, 1, 0, 0),
}


def test_backstop_add_authority__lets_account_open_and_close_a_loss_event(system):
    """Money flow: the other account, once authorized, plays an auction. 1,000 of the Backstop's
    bad debt (its stablecoin given to the other account) is opened as a loss event to raise 1,130;
    closing it having raised everything (unraised 0), the other account pays the 1,130 (130 more
    lent by governance) to the Backstop, which settles the 1,000 and keeps 130 as surplus: the
    event is done, with no loss and no bad debt left."""
    r, b, t, e = system.roles, system.d.backstop, system.eth, system.d.engine
    _backstop_bad_debt(system, 1_000 * RAD, to=r.other)
    system.tx(e, "create_unbacked", r.governance, r.governance, r.other, 130 * RAD)
    system.tx(b, "add_authority", r.governance, r.other)
    assert _events(system) == [(b, "AuthorityAdded", {"account": r.other})]
    assert _authorized(system, b, r.other)

    system.tx(b, "open_loss", r.other, t.type_id, r.other, 7, 1_000 * RAD, 113 * WAD // 100)
    opened_at = system.now
    assert _events(system) == [
        (
            b,
            "LossOpened",
            {
                "collateral_type": t.type_id,
                "auction": r.other,
                "auction_id": 7,
                "debt": 1_000 * RAD,
                "to_raise": 1_130 * RAD,
            },
        ),
    ]
    assert _loss(system, t, 7, auction=r.other) == (1_000 * RAD, 1_130 * RAD, opened_at, RUNNING)
    assert _backstop(system, "open_losses") == 1
    assert _backstop(system, "attributed_debt") == 1_000 * RAD
    assert _unattributed_debt(system) == 0

    # the Backstop pulls the proceeds from the closer: only with its permission in the engine
    with reverts("engine: not allowed"):
        system.tx(b, "close_loss", r.other, t.type_id, 7, 0, 0)
    system.tx(e, "allow", r.other, b)
    system.tx(b, "close_loss", r.other, t.type_id, 7, 0, 0)
    assert _events(system) == [
        (e, "StableTransferred", {"src": r.other, "dst": b, "amount": 1_130 * RAD}),
        (
            b,
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": r.other,
                "auction_id": 7,
                "raised": 1_130 * RAD,
                "covered": 1_000 * RAD,
                "loss": 0,
            },
        ),
    ]
    assert _loss(system, t, 7, auction=r.other) == (1_000 * RAD, 0, opened_at, DONE)
    assert _backstop(system, "open_losses") == 0
    # the 1,000 that covered the seized debt wait, attributed, until anyone heals them
    assert _backstop(system, "attributed_debt") == _backstop(system, "unsettled_proceeds")
    assert (_stable(system, b), _bad_debt(system, b)) == (1_130 * RAD, 1_000 * RAD)
    heal(system, 1_000 * RAD)
    assert _backstop(system, "attributed_debt") == 0
    assert (_stable(system, b), _bad_debt(system, b)) == (130 * RAD, 0)
    assert _stable(system, r.other) == 0


def test_backstop_remove_authority__locks_account_out(system):
    r, b = system.roles, system.d.backstop
    system.tx(b, "add_authority", r.governance, r.other)
    system.tx(b, "remove_authority", r.governance, r.other)
    assert _events(system) == [(b, "AuthorityRemoved", {"account": r.other})]
    assert not _authorized(system, b, r.other)
    with reverts("authorized: not authorized"):
        system.tx(b, "open_loss", r.other, system.eth.type_id, r.other, 1, 0, WAD)
    with reverts("authorized: not authorized"):
        system.tx(b, "close_loss", r.other, system.eth.type_id, 1, 0, 0)


@pytest.mark.parametrize("function", sorted(BACKSTOP_PRIVILEGED))
def test_backstop_privileged_function__called_by_stranger__reverts_not_authorized(system, function):
    args = BACKSTOP_PRIVILEGED[function](system)
    with reverts("authorized: not authorized"):
        system.tx(system.d.backstop, function, system.roles.stranger, *args)


def test_backstop_revoke_role__close_loss_of_auction__only_its_finishing_take_reverts(system):
    """Money flow: a partial take only pays the auction's escrow and goes through; the take that
    would finish the auction must close its loss event, which the Backstop refuses to a revoked
    auction: that take is undone whole, until the auction holds CLOSE_LOSS again."""
    r, t, b = system.roles, system.eth, system.d.backstop
    _borrow_stable(system, r.other)
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    system.tx(b, "revoke_role", r.governance, t.auction, int(Role.CLOSE_LOSS))
    system.tx(t.auction, "take", r.other, 1, WAD, 2_280 * RAY, r.other, b"")
    assert _stable(system, t.auction) == 2_280 * RAD
    with reverts("authorized: not authorized"):
        system.tx(t.auction, "take", r.other, 1, 10 * WAD, 2_280 * RAY, r.other, b"")
    assert _auction(system, t, 1).lot == 9 * WAD
    system.tx(b, "grant_role", r.governance, t.auction, int(Role.CLOSE_LOSS))
    system.tx(t.auction, "take", r.other, 1, 10 * WAD, 2_280 * RAY, r.other, b"")
    assert _loss(system, t, 1)[3] == DONE
    assert _stable(system, t.auction) == 0
