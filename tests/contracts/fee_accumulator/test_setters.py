"""FeeAccumulator.init_type and set_fee_recipient: a new type starts without fee or multiplier,
once; later fees go to the new recipient. Helpers: tests/contracts/support/fees_and_ceiling.py.
"""

from __future__ import annotations

from support.fees_and_ceiling import DAY, NEW_TYPE, YEAR
from support.fees_and_ceiling import collateral_type as _ctype
from support.fees_and_ceiling import effective_fee as _effective_fee
from support.fees_and_ceiling import fee_params as _fee_params
from support.fees_and_ceiling import open_eth_vault as _open_eth_vault
from support.fees_and_ceiling import stable as _stable

from offchain.model.fixed_point import RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts


def test_init_type__starts_with_no_fee_and_no_multiplier(system):
    """Money flow: none; a type initialized here compounds at exactly 1 ray until a fee is set."""
    r, fees = system.roles, system.d.fees
    system.tx(system.d.engine, "init_type", r.governance, NEW_TYPE)
    system.tx(fees, "init_type", r.governance, NEW_TYPE)
    initialized_at = system.now
    assert _events(system) == [(fees, "TypeInitialized", {"collateral_type": NEW_TYPE})]
    # the engine's utilization integral starts at 0 (and a kink of 1 keeps it there)
    assert tuple(_fee_params(system, NEW_TYPE)) == (RAY, initialized_at, WAD, WAD, 0)
    assert _effective_fee(system, NEW_TYPE) == RAY

    system.warp(YEAR)
    system.tx(fees, "accrue", r.keeper, NEW_TYPE)
    assert _events(system) == [
        (
            system.d.engine,
            "RateFolded",
            {
                "collateral_type": NEW_TYPE,
                "recipient": system.d.backstop,
                "delta_rate": 0,
                "delta_stable": 0,
            },
        ),
        (fees, "Accrued", {"collateral_type": NEW_TYPE, "effective_fee": RAY, "rate": RAY}),
    ]
    assert _ctype(system, NEW_TYPE).rate == RAY
    assert _fee_params(system, NEW_TYPE).last_accrual == system.now


def test_init_type__twice__reverts_type_exists(system):
    with reverts("fees: type exists"):
        system.tx(system.d.fees, "init_type", system.roles.governance, system.eth.type_id)


def test_set_fee_recipient__redirects_later_fees(system):
    """Money flow: after the switch, a month of ETH-A fees is credited to `other`, not to
    governance."""
    r, tid, fees = system.roles, system.eth.type_id, system.d.fees
    _open_eth_vault(system)
    system.tx(fees, "set_fee_recipient", r.governance, r.other)
    assert _events(system) == [(fees, "FeeRecipientSet", {"recipient": r.other})]
    assert system.view(fees, "fee_recipient") == system.contract(fees).fee_recipient == r.other
    rate_0 = _ctype(system, tid).rate
    governance_0, other_0 = _stable(system, system.d.backstop), _stable(system, r.other)

    system.warp(30 * DAY)
    system.tx(fees, "accrue", r.keeper, tid)
    rate_1 = _ctype(system, tid).rate
    assert system.events[0].args["recipient"] == r.other
    assert _stable(system, r.other) == other_0 + 5_000 * WAD * (rate_1 - rate_0)
    assert _stable(system, system.d.backstop) == governance_0


def test_set_fee_recipient__zero_address__reverts(system):
    with reverts("fees: zero recipient"):
        system.tx(system.d.fees, "set_fee_recipient", system.roles.governance, ZERO_ADDRESS)
