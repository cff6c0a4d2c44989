"""FeeAccumulator's constructor, add_authority and remove_authority, and its privileged functions
called by a stranger. Helpers: tests/contracts/support/fees_and_ceiling.py.
"""

from __future__ import annotations

import pytest
from support.fees_and_ceiling import NEW_TYPE
from support.fees_and_ceiling import authorized as _authorized
from support.fees_and_ceiling import fee_params as _fee_params

from offchain.model.errors import Revert
from offchain.model.fixed_point import RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import reverts

FEES_PRIVILEGED = {
    "add_authority": lambda s: (s.roles.stranger,),
    "remove_authority": lambda s: (s.roles.governance,),
    "init_type": lambda s: (NEW_TYPE,),
    "set_base_fee": lambda s: (s.eth.type_id, RAY),
    "set_multiplier": lambda s: (s.eth.type_id, 0, WAD),
    "set_fee_recipient": lambda s: (s.roles.stranger,),
}


def test_fees_add_authority__lets_account_set_fees(system):
    r, fees = system.roles, system.d.fees
    assert not _authorized(system, fees, r.other)
    system.tx(fees, "add_authority", r.governance, r.other)
    assert _events(system) == [(fees, "AuthorityAdded", {"account": r.other})]
    assert _authorized(system, fees, r.other)
    system.tx(fees, "set_base_fee", r.other, system.eth.type_id, RAY)
    assert _fee_params(system, system.eth.type_id).base_fee == RAY


def test_fees_remove_authority__locks_account_out(system):
    r, fees = system.roles, system.d.fees
    system.tx(fees, "add_authority", r.governance, r.other)
    system.tx(fees, "remove_authority", r.governance, r.other)
    assert _events(system) == [(fees, "AuthorityRemoved", {"account": r.other})]
    assert not _authorized(system, fees, r.other)
    assert _authorized(system, fees, r.governance)
    with reverts("authorized: not authorized"):
        system.tx(fees, "set_base_fee", r.other, system.eth.type_id, RAY)


@pytest.mark.parametrize("function", sorted(FEES_PRIVILEGED))
def test_fees_privileged_function__called_by_stranger__reverts_not_authorized(system, function):
    args = FEES_PRIVILEGED[function](system)
    with reverts("authorized: not authorized"):
        system.tx(system.d.fees, function, system.roles.stranger, *args)


def test_fees_constructor__zero_recipient__reverts_on_chain_and_in_model(system):
    """The constructor's check, deployed by hand on each backend (Lockstep.deploy stops at the
    chain's revert, before the model has run)."""
    for backend in (system.chain, system.model):
        with pytest.raises(Revert) as raised:
            backend.deploy("FeeAccumulator", system.roles.other, system.d.engine, ZERO_ADDRESS)
        assert raised.value.reason == "fees: zero recipient"
    assert system.chain.last_block_time == system.model.last_block_time
