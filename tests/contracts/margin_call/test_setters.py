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

from offchain.model.fixed_point import RAY, WAD
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
    # a warning factor of 1.5 needs a deleverage buffer of at least 0.5 (issue 63, finding 3)
    system.tx(system.d.backstop, "set_deleverage_buffer", r.governance, WAD // 2)
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
        ((MAX_WARNING, BONUS, CLOSE_FACTOR), "margin: warning above the deleverage buffer"),
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


# ---------------------------------------------------------------- issue 63, finding 3


def test_finding_63_3__warning_factor_at_most_one_plus_the_deleverage_buffer__in_both_setters(
    system,
):
    """A deleveraging charge leaves a vault at (1 + buffer) x its requirement at the lowest price
    the oracle shows; a warning factor above 1 + buffer called it there, and anyone took the
    bonus from its opted-in owner (before: 1.5 accepted beside the default buffer 0.25). With
    the default buffer, 1.25 is accepted and one ray-unit more refused; the Backstop then
    refuses a buffer below 0.25 (the highest warning - 1), accepts it at 0.25; raised to 0.5,
    the MarginCall accepts 1.5. Removing the type's parameters lowers the highest warning
    factor: the buffer may fall again. Linking a MarginCall again checks the same (the zero
    address refused)."""
    r, m, b, t = system.roles, system.d.margin_call, system.d.backstop, system.eth
    assert read(system, m, "backstop") == b
    assert read(system, b, "margin_call") == m
    assert read(system, m, "highest_warning_factor") == WARNING
    edge = RAY + RAY // 4
    with reverts("margin: warning above the deleverage buffer"):
        system.tx(m, "set_parameters", r.governance, t.type_id, edge + 1, BONUS, CLOSE_FACTOR)
    system.tx(m, "set_parameters", r.governance, t.type_id, edge, BONUS, CLOSE_FACTOR)
    assert read(system, m, "highest_warning_factor") == edge
    with reverts("backstop: buffer below a warning factor"):
        system.tx(b, "set_deleverage_buffer", r.governance, WAD // 4 - 1)
    system.tx(b, "set_deleverage_buffer", r.governance, WAD // 4)
    system.tx(b, "set_deleverage_buffer", r.governance, WAD // 2)
    system.tx(m, "set_parameters", r.governance, t.type_id, MAX_WARNING, BONUS, CLOSE_FACTOR)
    with reverts("backstop: buffer below a warning factor"):
        system.tx(b, "set_deleverage_buffer", r.governance, WAD // 2 - 1)
    system.tx(m, "remove", r.governance, t.type_id)
    assert read(system, m, "highest_warning_factor") == WARNING  # WBTC-A's
    system.tx(b, "set_deleverage_buffer", r.governance, WAD // 5)
    system.tx(b, "set_margin_call", r.governance, m)
    assert events(system) == [(b, "MarginCallSet", {"margin_call": m})]
    with reverts("backstop: zero margin call"):
        system.tx(b, "set_margin_call", r.governance, ZERO)
    with reverts("authorized: not authorized"):
        system.tx(b, "set_margin_call", r.stranger, m)


def test_finding_63_3__types_listed_for_the_highest_warning__set_removed_bounded(system):
    """The MarginCall lists the types with margin calls to find the highest warning factor: a
    type joins once when its parameters are set (not again when they change), leaves when
    they are removed (the last one takes its place), and at 32 types a new one is refused."""
    r, m = system.roles, system.d.margin_call
    types = [bytes([i + 1]) * 32 for i in range(30)]  # with ETH-A and WBTC-A: 32
    for i, type_id in enumerate(types):
        system.tx(m, "set_parameters", r.governance, type_id, RAY + i + 1, BONUS, CLOSE_FACTOR)
    system.tx(m, "set_parameters", r.governance, types[0], RAY + 1, BONUS, CLOSE_FACTOR)
    with reverts("margin: too many types"):
        system.tx(m, "set_parameters", r.governance, NEW_TYPE, WARNING, BONUS, CLOSE_FACTOR)
    system.tx(m, "remove", r.governance, types[3])
    system.tx(m, "remove", r.governance, types[3])  # (nothing left to remove: no change)
    system.tx(m, "set_parameters", r.governance, NEW_TYPE, WARNING, BONUS, CLOSE_FACTOR)
    assert read(system, m, "highest_warning_factor") == WARNING
