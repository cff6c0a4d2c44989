"""The Backstop's deployment and setters: set_queue_delay on events already open, set_waterfall,
set_layer_contracts and set_auction_parameters, and each setter called by a stranger. Helpers:
tests/contracts/support/waterfall.py.
"""

from __future__ import annotations

import pytest
from support.waterfall import DEFAULT_WATERFALL, POOL_FEE_SHARE, QUEUE_DELAY
from support.waterfall import assert_done as _assert_done
from support.waterfall import backstop as _backstop
from support.waterfall import loss_event as _loss_event
from support.waterfall import receipts as _receipts
from support.waterfall import set_waterfall as _set_waterfall

from offchain.model.backstop import DEBT_AUCTION, DELEVERAGE, FUND, POOL, REDISTRIBUTION
from offchain.model.fixed_point import RAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts

SURPLUS_BUFFER = 500_000 * RAD
SURPLUS_LOT = 10_000 * RAD
DEBT_AUCTION_BID = 50_000 * RAD
BACKSTOP_SETTERS = {
    "set_waterfall": lambda s: ([FUND],),
    "set_layer_contracts": lambda s: (ZERO_ADDRESS, ZERO_ADDRESS, ZERO_ADDRESS),
    "set_auction_parameters": lambda s: (0, 1, 1),
    "set_queue_delay": lambda s: (0,),
}


def test_set_queue_delay__applies_to_events_already_open__and_logs(system):
    """Money flow: none until the cover; the delay is read when `cover` is called, so
    lengthening it holds back an event already closed, and shortening it releases it."""
    r, b = system.roles, system.d.backstop
    event = _loss_event(system, surplus=2_000 * RAD)
    system.tx(b, "set_queue_delay", r.governance, 2 * QUEUE_DELAY)
    assert _events(system) == [(b, "QueueDelaySet", {"queue_delay": 2 * QUEUE_DELAY})]
    assert _backstop(system, "queue_delay") == 2 * QUEUE_DELAY
    system.lockstep.set_next_block_time(event.created_at + 2 * QUEUE_DELAY - 1)
    with reverts("backstop: still queued"):
        system.tx(b, "cover", r.stranger, *event.key)
    system.tx(b, "set_queue_delay", r.governance, 0)
    system.tx(b, "cover", r.stranger, *event.key)
    assert _receipts(system, event) == [(FUND, b, event.loss)]
    _assert_done(system, event, healed=event.loss)


def test_deployment__waterfall_wired_as_configured(system):
    """Money flow: none. The devnet [backstop] values the tests above rely on."""
    d = system.d
    assert _backstop(system, "get_waterfall") == tuple(DEFAULT_WATERFALL)
    assert _backstop(system, "stability_pool") == d.stability_pool
    assert _backstop(system, "debt_auction") == d.debt_auction
    assert _backstop(system, "surplus_auction") == d.surplus_auction
    assert _backstop(system, "queue_delay") == QUEUE_DELAY
    assert (
        _backstop(system, "surplus_buffer"),
        _backstop(system, "surplus_lot"),
        _backstop(system, "debt_auction_bid_size"),
    ) == (SURPLUS_BUFFER, SURPLUS_LOT, DEBT_AUCTION_BID)
    assert (_read(system, d.fees, "stability_pool"), _read(system, d.fees, "pool_fee_share")) == (
        d.stability_pool,
        POOL_FEE_SHARE,
    )
    assert _backstop(system, "open_losses") == 0


@pytest.mark.parametrize(
    "order",
    [
        [],
        [REDISTRIBUTION],
        [POOL, FUND],
        [4, 3, 2, 1],
        [DEBT_AUCTION, FUND, POOL],
        [FUND, POOL, DELEVERAGE, REDISTRIBUTION],
        [FUND, POOL, DEBT_AUCTION, REDISTRIBUTION, DELEVERAGE],
    ],
)
def test_set_waterfall__valid_order__stored_and_logged(system, order):
    b = system.d.backstop
    _set_waterfall(system, order)
    assert _events(system) == [(b, "WaterfallSet", {"waterfall": tuple(order)})]
    assert _backstop(system, "get_waterfall") == tuple(order)


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        ([0], "backstop: unknown layer"),
        ([5], "backstop: unknown layer"),
        ([FUND, POOL, 5], "backstop: unknown layer"),
        ([FUND, FUND], "backstop: layer repeated"),
        ([POOL, DEBT_AUCTION, POOL], "backstop: layer repeated"),
        ([7], "backstop: unknown layer"),
        ([FUND, POOL, DEBT_AUCTION, REDISTRIBUTION, FUND], "backstop: layer repeated"),
        # six layers do not fit the DynArray[uint8, 5] argument: no reason
        ([FUND, POOL, DEBT_AUCTION, REDISTRIBUTION, DELEVERAGE, FUND], None),
    ],
)
def test_set_waterfall__invalid__reverts_with_reason(system, order, reason):
    with reverts(reason):
        _set_waterfall(system, order)
    assert _backstop(system, "get_waterfall") == tuple(DEFAULT_WATERFALL)


@pytest.mark.parametrize("function", sorted(BACKSTOP_SETTERS))
def test_backstop_setter__called_by_stranger__reverts_not_authorized(system, function):
    with reverts("authorized: not authorized"):
        system.tx(
            system.d.backstop, function, system.roles.stranger, *BACKSTOP_SETTERS[function](system)
        )


def test_set_layer_contracts__stores_and_logs(system):
    r, b = system.roles, system.d.backstop
    system.tx(b, "set_layer_contracts", r.governance, r.other, r.keeper, r.stranger)
    assert _events(system) == [
        (
            b,
            "LayerContractsSet",
            {"stability_pool": r.other, "debt_auction": r.keeper, "surplus_auction": r.stranger},
        )
    ]
    assert (
        _backstop(system, "stability_pool"),
        _backstop(system, "debt_auction"),
        _backstop(system, "surplus_auction"),
    ) == (r.other, r.keeper, r.stranger)


def test_set_auction_parameters__stores_and_logs(system):
    r, b = system.roles, system.d.backstop
    system.tx(b, "set_auction_parameters", r.governance, 0, 7 * RAD, 9 * RAD + 1)
    assert _events(system) == [
        (
            b,
            "AuctionParametersSet",
            {"surplus_buffer": 0, "surplus_lot": 7 * RAD, "debt_auction_bid_size": 9 * RAD + 1},
        ),
    ]
    assert (
        _backstop(system, "surplus_buffer"),
        _backstop(system, "surplus_lot"),
        _backstop(system, "debt_auction_bid_size"),
    ) == (0, 7 * RAD, 9 * RAD + 1)


@pytest.mark.parametrize(("lot", "bid"), [(0, DEBT_AUCTION_BID), (SURPLUS_LOT, 0), (0, 0)])
def test_set_auction_parameters__zero_size__reverts(system, lot, bid):
    with reverts("backstop: zero auction size"):
        system.tx(
            system.d.backstop,
            "set_auction_parameters",
            system.roles.governance,
            SURPLUS_BUFFER,
            lot,
            bid,
        )
    assert (_backstop(system, "surplus_lot"), _backstop(system, "debt_auction_bid_size")) == (
        SURPLUS_LOT,
        DEBT_AUCTION_BID,
    )
