"""SurplusAuction.set_parameters: stored, logged, invalid values refused. Helpers:
tests/contracts/support/debt_and_surplus.py.
"""

from __future__ import annotations

import pytest
from support.debt_and_surplus import AUCTION_DURATION, BID_DURATION, MAX_DURATION, MIN_INCREASE

from offchain.model.fixed_point import WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def test_surplus_auction_set_parameters__stores_values_and_logs(system):
    r, sa = system.roles, system.d.surplus_auction
    system.tx(sa, "set_parameters", r.governance, 11 * WAD // 10, 600, 3_600)
    assert _events(system) == [
        (
            sa,
            "ParametersSet",
            {"min_increase": 11 * WAD // 10, "bid_duration": 600, "auction_duration": 3_600},
        )
    ]
    assert [_read(system, sa, n) for n in ("min_increase", "bid_duration", "auction_duration")] == [
        11 * WAD // 10,
        600,
        3_600,
    ]
    system.tx(sa, "set_parameters", r.governance, WAD + 1, MAX_DURATION, MAX_DURATION)
    assert [_read(system, sa, n) for n in ("min_increase", "bid_duration", "auction_duration")] == [
        WAD + 1,
        MAX_DURATION,
        MAX_DURATION,
    ]
    # the step's upper bound and the durations' lower one (the seventh round): 1.5 and ten
    # minutes exactly are accepted
    system.tx(sa, "set_parameters", r.governance, 3 * WAD // 2, 600, 600)
    assert [_read(system, sa, n) for n in ("min_increase", "bid_duration", "auction_duration")] == [
        3 * WAD // 2,
        600,
        600,
    ]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ((WAD, BID_DURATION, AUCTION_DURATION), "surplus auction: min increase not above 1"),
        (
            (3 * WAD // 2 + 1, BID_DURATION, AUCTION_DURATION),
            "surplus auction: min increase above 1.5",
        ),
        ((2**200, BID_DURATION, AUCTION_DURATION), "surplus auction: min increase above 1.5"),
        ((MIN_INCREASE, 599, AUCTION_DURATION), "surplus auction: duration below 10 minutes"),
        ((MIN_INCREASE, BID_DURATION, 599), "surplus auction: duration below 10 minutes"),
        ((MIN_INCREASE, 1, 1), "surplus auction: duration below 10 minutes"),
        ((MIN_INCREASE, 0, AUCTION_DURATION), "surplus auction: zero duration"),
        ((MIN_INCREASE, BID_DURATION, 0), "surplus auction: zero duration"),
        ((MIN_INCREASE, MAX_DURATION + 1, AUCTION_DURATION), "surplus auction: value too large"),
        ((MIN_INCREASE, BID_DURATION, MAX_DURATION + 1), "surplus auction: value too large"),
    ],
)
def test_surplus_auction_set_parameters__invalid__reverts_with_reason(system, params, reason):
    with reverts(reason):
        system.tx(system.d.surplus_auction, "set_parameters", system.roles.governance, *params)
    assert _read(system, system.d.surplus_auction, "min_increase") == MIN_INCREASE
