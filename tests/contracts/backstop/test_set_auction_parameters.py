"""Backstop.set_auction_parameters (the surplus buffer and the debt and surplus auctions' sizes):
stored, logged, zero sizes refused (more in test_setters.py). Scenario and helpers:
tests/contracts/support/debt_and_surplus.py.
"""

from __future__ import annotations

from support.debt_and_surplus import backstop as _backstop
from support.debt_and_surplus import set_sizes as _set_sizes

from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_set_auction_parameters__stores_logs_and_rejects_zero_sizes(system):
    b = system.d.backstop
    _set_sizes(system, 0, 1, 2)
    assert _events(system) == [
        (
            b,
            "AuctionParametersSet",
            {"surplus_buffer": 0, "surplus_lot": 1, "debt_auction_bid_size": 2},
        )
    ]
    assert [
        _backstop(system, n) for n in ("surplus_buffer", "surplus_lot", "debt_auction_bid_size")
    ] == [0, 1, 2]
    with reverts("backstop: zero auction size"):
        _set_sizes(system, 0, 0, 2)
    with reverts("backstop: zero auction size"):
        _set_sizes(system, 0, 1, 0)
