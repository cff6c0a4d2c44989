"""MarginCall's governance setters (bounds, events, authorization), opting in and out, and the
views a bot reads. Helpers: tests/contracts/support/margin_call.py.
"""

from __future__ import annotations

import pytest
from support.margin_call import (
    BONUS,
    CLOSE_FACTOR,
    MAX_BONUS,
    MAX_CLOSE_FACTOR,
    MAX_WARNING,
    NEW_TYPE,
    WARNING,
)

from offchain.model.fixed_point import RAY
from offchain.testing.harness import events, read, reverts

ZERO = "0x0000000000000000000000000000000000000000"


def test_margin_call__deployed__parameters_spotters_oracles_and_no_role(system):
    r, m = system.roles, system.d.margin_call
    assert read(system, m, "engine") == system.d.engine
    assert read(system, m, "spotter") == system.d.spotter
    for t in (system.eth, system.btc):
        assert read(system, m, "parameters", t.type_id) == (WARNING, BONUS, CLOSE_FACTOR)
        # its oracle is the Spotter's (it keeps none): the exchange price is that oracle's
        assert read(system, system.d.spotter, "oracles", t.type_id) == t.oracle
        assert read(system, m, "exchange_price", t.type_id) == read(
            system, t.oracle, "current_price"
        )
    assert read(system, m, "parameters", NEW_TYPE) == (0, 0, 0)
    assert read(system, m, "authorized", r.governance) is True
    # it acts only as owners' delegate: no role on the engine
    assert read(system, system.d.engine, "roles", m) == 0
    assert read(system, system.d.engine, "authorized", m) is False


def test_set_parameters__at_the_bounds__stored_and_logged(system):
    r, m, t = system.roles, system.d.margin_call, system.eth
    system.tx(
        m, "set_parameters", r.governance, t.type_id, MAX_WARNING, MAX_BONUS, MAX_CLOSE_FACTOR
    )
    assert read(system, m, "parameters", t.type_id) == (MAX_WARNING, MAX_BONUS, MAX_CLOSE_FACTOR)
    assert events(system) == [
        (
            m,
            "ParametersSet",
            {
                "collateral_type": t.type_id,
                "warning_factor": MAX_WARNING,
                "bonus": MAX_BONUS,
                "close_factor": MAX_CLOSE_FACTOR,
            },
        )
    ]
    system.tx(m, "set_parameters", r.governance, t.type_id, RAY + 1, 0, 1)
    assert read(system, m, "parameters", t.type_id) == (RAY + 1, 0, 1)


@pytest.mark.parametrize(
    "args, reason",
    [
        ((RAY, BONUS, CLOSE_FACTOR), "margin: warning factor not above 1"),
        ((MAX_WARNING + 1, BONUS, CLOSE_FACTOR), "margin: warning factor above 1.5"),
        ((WARNING, MAX_BONUS + 1, CLOSE_FACTOR), "margin: bonus above 5%"),
        ((WARNING, BONUS, 0), "margin: zero close factor"),
        ((WARNING, BONUS, MAX_CLOSE_FACTOR + 1), "margin: close factor above 50%"),
    ],
)
def test_set_parameters__out_of_bounds__reverts(system, args, reason):
    with reverts(reason):
        system.tx(
            system.d.margin_call,
            "set_parameters",
            system.roles.governance,
            system.eth.type_id,
            *args,
        )


def test_setters__stranger__reverts_not_authorized(system):
    r, m, t = system.roles, system.d.margin_call, system.eth
    for function, args in (
        ("set_parameters", (t.type_id, WARNING, BONUS, CLOSE_FACTOR)),
        ("remove", (t.type_id,)),
    ):
        with reverts("authorized: not authorized"):
            system.tx(m, function, r.stranger, *args)


def test_remove__clears_the_parameters(system):
    r, m, t = system.roles, system.d.margin_call, system.eth
    system.tx(m, "remove", r.governance, t.type_id)
    assert read(system, m, "parameters", t.type_id) == (0, 0, 0)
    assert events(system) == [(m, "ParametersRemoved", {"collateral_type": t.type_id})]


def test_opt_in_and_out__flag_and_events(system):
    r, m = system.roles, system.d.margin_call
    assert read(system, m, "opted_in", r.borrower) is False
    system.tx(m, "opt_in", r.borrower)
    assert read(system, m, "opted_in", r.borrower) is True
    assert events(system) == [(m, "OptedIn", {"owner": r.borrower})]
    system.tx(system.d.engine, "allow", r.borrower, m)
    assert read(system, m, "can_soft_liquidate", system.eth.type_id, r.borrower) is True
    system.tx(m, "opt_out", r.borrower)
    assert read(system, m, "opted_in", r.borrower) is False
    assert read(system, m, "can_soft_liquidate", system.eth.type_id, r.borrower) is False
    assert events(system) == [(m, "OptedOut", {"owner": r.borrower})]


def test_views__no_oracle_or_parameters__not_called_and_no_repay(system):
    r, m = system.roles, system.d.margin_call
    assert read(system, m, "is_called", NEW_TYPE, r.borrower) is False
    assert read(system, m, "max_repay", NEW_TYPE, r.borrower) == 0
    assert read(system, m, "exchange_price", system.eth.type_id) == 2_000 * 10**18
