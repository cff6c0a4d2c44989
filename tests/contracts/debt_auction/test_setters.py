"""The debt and surplus auctions' deployment, DebtAuction.set_parameters and revoke_role, and the
privileged functions of both auctions called by a stranger. Scenario and helpers:
tests/contracts/support/debt_and_surplus.py.
"""

from __future__ import annotations

import pytest
from support.debt_and_surplus import (
    AUCTION_DURATION,
    BID_DURATION,
    DEBT_BID,
    INITIAL_LOT,
    LOT_GROWTH,
    MAX_DURATION,
    MAX_FIELD,
    MIN_DECREASE,
    MIN_INCREASE,
    SURPLUS_BUFFER,
    SURPLUS_LOT,
)
from support.debt_and_surplus import backstop as _backstop
from support.debt_and_surplus import gov_supply as _gov_supply
from support.debt_and_surplus import loss_to_debt_auction as _loss_to_debt_auction
from support.debt_and_surplus import set_debt_params as _set_debt_params
from support.debt_and_surplus import start_debt_auction as _start_debt_auction

from offchain.model.fixed_point import WAD
from offchain.model.state import ZERO_ADDRESS, Role
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts

PRIVILEGED = [
    (
        "debt_auction",
        "set_parameters",
        (INITIAL_LOT, MIN_DECREASE, LOT_GROWTH, BID_DURATION, AUCTION_DURATION),
        "authorized: not authorized",
    ),
    ("debt_auction", "start", (DEBT_BID,), "authorized: not authorized"),
    ("debt_auction", "shutdown", (), "authorized: not authorized"),
    ("debt_auction", "add_authority", (ZERO_ADDRESS,), "authorized: not authorized"),
    ("debt_auction", "remove_authority", (ZERO_ADDRESS,), "authorized: not authorized"),
    (
        "surplus_auction",
        "set_parameters",
        (MIN_INCREASE, BID_DURATION, AUCTION_DURATION),
        "authorized: not authorized",
    ),
    ("surplus_auction", "start", (SURPLUS_LOT,), "authorized: not authorized"),
    ("surplus_auction", "shutdown", (), "authorized: not authorized"),
    ("surplus_auction", "add_authority", (ZERO_ADDRESS,), "authorized: not authorized"),
    ("surplus_auction", "remove_authority", (ZERO_ADDRESS,), "authorized: not authorized"),
    ("backstop", "on_debt_auction_bid", (0,), "backstop: not debt auction"),
    (
        "backstop",
        "set_auction_parameters",
        (0, SURPLUS_LOT, DEBT_BID),
        "authorized: not authorized",
    ),
]


def test_deployment__auctions_and_token_wired_as_configured(system):
    """Money flow: none. The devnet values every test below relies on."""
    d = system.d
    da, sa, gov = d.debt_auction, d.surplus_auction, d.governance_token
    assert [
        _read(system, da, name)
        for name in (
            "initial_lot",
            "min_decrease",
            "lot_growth",
            "bid_duration",
            "auction_duration",
            "live",
            "count",
        )
    ] == [INITIAL_LOT, MIN_DECREASE, LOT_GROWTH, BID_DURATION, AUCTION_DURATION, True, 0]
    assert [
        _read(system, sa, name)
        for name in ("min_increase", "bid_duration", "auction_duration", "live", "count")
    ] == [MIN_INCREASE, BID_DURATION, AUCTION_DURATION, True, 0]
    assert [
        _backstop(system, name)
        for name in ("surplus_buffer", "surplus_lot", "debt_auction_bid_size")
    ] == [SURPLUS_BUFFER, SURPLUS_LOT, DEBT_BID]
    assert (_backstop(system, "debt_auction"), _backstop(system, "surplus_auction")) == (da, sa)
    for auction in (da, sa):
        assert system.view(auction, "engine") == d.engine
        assert system.view(auction, "backstop") == d.backstop
        assert system.view(auction, "token") == gov
        # the Backstop starts and shuts down, nothing else; governance is the only admin
        assert _read(system, auction, "roles", d.backstop) == Role.START | Role.SHUTDOWN
        assert not _read(system, auction, "authorized", d.backstop)
        assert _read(system, auction, "authorized", system.roles.governance)
    # governance owns the token and mints; the DebtAuction mints; the SurplusAuction only burns
    assert system.view(gov, "owner") == system.roles.governance
    assert _read(system, gov, "is_minter", system.roles.governance)
    assert _read(system, gov, "is_minter", da)
    assert not _read(system, gov, "is_minter", sa)
    assert (system.view(gov, "decimals"), system.view(gov, "symbol"), system.view(gov, "name")) == (
        18,
        "BSG",
        "Backstop Governance",
    )
    assert _gov_supply(system) == 0


def test_debt_auction_set_parameters__stores_values_and_logs(system):
    da = system.d.debt_auction
    _set_debt_params(system, 7 * WAD, 11 * WAD // 10, 2 * WAD, 600, 3_600)
    assert _events(system) == [
        (
            da,
            "DebtAuctionParametersSet",
            {
                "initial_lot": 7 * WAD,
                "min_decrease": 11 * WAD // 10,
                "lot_growth": 2 * WAD,
                "bid_duration": 600,
                "auction_duration": 3_600,
            },
        )
    ]
    assert [
        _read(system, da, name)
        for name in (
            "initial_lot",
            "min_decrease",
            "lot_growth",
            "bid_duration",
            "auction_duration",
        )
    ] == [7 * WAD, 11 * WAD // 10, 2 * WAD, 600, 3_600]


def test_debt_auction_set_parameters__at_the_bounds__is_accepted(system):
    da = system.d.debt_auction
    _set_debt_params(system, MAX_FIELD, WAD + 1, WAD, MAX_DURATION, MAX_DURATION)
    assert [
        _read(system, da, name)
        for name in (
            "initial_lot",
            "min_decrease",
            "lot_growth",
            "bid_duration",
            "auction_duration",
        )
    ] == [MAX_FIELD, WAD + 1, WAD, MAX_DURATION, MAX_DURATION]
    # the step's upper bound and the durations' lower one (the seventh round): 1.5 and ten
    # minutes exactly are accepted
    _set_debt_params(system, 1, 3 * WAD // 2, LOT_GROWTH, 600, 600)
    assert [
        _read(system, da, name)
        for name in ("initial_lot", "min_decrease", "bid_duration", "auction_duration")
    ] == [1, 3 * WAD // 2, 600, 600]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"initial_lot": 0}, "debt auction: zero lot"),
        ({"min_decrease": WAD}, "debt auction: min decrease not above 1"),
        ({"min_decrease": 0}, "debt auction: min decrease not above 1"),
        ({"min_decrease": 3 * WAD // 2 + 1}, "debt auction: min decrease above 1.5"),
        ({"min_decrease": 2**200}, "debt auction: min decrease above 1.5"),
        ({"bid_duration": 599}, "debt auction: duration below 10 minutes"),
        ({"auction_duration": 599}, "debt auction: duration below 10 minutes"),
        ({"bid_duration": 1, "auction_duration": 1}, "debt auction: duration below 10 minutes"),
        ({"lot_growth": WAD - 1}, "debt auction: lot growth below 1"),
        ({"bid_duration": 0}, "debt auction: zero duration"),
        ({"auction_duration": 0}, "debt auction: zero duration"),
        ({"initial_lot": MAX_FIELD + 1}, "debt auction: value too large"),
        ({"bid_duration": MAX_DURATION + 1}, "debt auction: value too large"),
        ({"auction_duration": MAX_DURATION + 1}, "debt auction: value too large"),
    ],
)
def test_debt_auction_set_parameters__invalid__reverts_with_reason(system, params, reason):
    with reverts(reason):
        _set_debt_params(system, **params)
    assert _read(system, system.d.debt_auction, "initial_lot") == INITIAL_LOT


@pytest.mark.parametrize(
    ("contract", "function", "args", "reason"),
    PRIVILEGED,
    ids=[f"{c}.{f}" for c, f, _, _ in PRIVILEGED],
)
def test_privileged_function__called_by_stranger__reverts_with_reason(
    system, contract, function, args, reason
):
    """Only the Backstop (and governance) start auctions; only the DebtAuction reports a paid
    bid."""
    with reverts(reason):
        system.tx(getattr(system.d, contract), function, system.roles.stranger, *args)


def test_debt_auction_revoke_role__start_of_backstop__blocks_start(system):
    r, da, backstop = system.roles, system.d.debt_auction, system.d.backstop
    _loss_to_debt_auction(system)
    system.tx(da, "revoke_role", r.governance, backstop, int(Role.START))
    assert _events(system) == [(da, "RoleRevoked", {"account": backstop, "role": int(Role.START)})]
    assert _read(system, da, "roles", backstop) == Role.SHUTDOWN
    with reverts("authorized: not authorized"):
        _start_debt_auction(system)
    system.tx(da, "grant_role", r.governance, backstop, int(Role.START))
    assert _events(system) == [(da, "RoleGranted", {"account": backstop, "role": int(Role.START)})]
    assert _start_debt_auction(system) == 1
