"""A Timelock beside the deployed system (tests/contracts/timelock/): deployed by governance, its
proposer, and made an admin of the Spotter, so that its proposals have something to change."""

from __future__ import annotations

from typing import Any

from offchain.model.timelock import calls_hash
from offchain.testing.harness import System

DELAY = 2 * 86_400
GRACE = 7 * 86_400


def deploy(system: System, delay: int = DELAY, grace: int = GRACE, admin_of_spotter: bool = True):
    """The Timelock's address (proposer: governance, guardian: the keeper account); with
    `admin_of_spotter`, an admin of the Spotter (governance stays one too)."""
    r = system.roles
    timelock = system.lockstep.deploy(
        "Timelock", r.governance, r.governance, r.keeper, delay, grace, system.d.settlement
    )
    system.extra_holders.append(timelock)
    if admin_of_spotter:
        system.tx(system.d.spotter, "add_authority", r.governance, timelock)
    return timelock


def data(system: System, address: str, function: str, *args: Any) -> bytes:
    """The calldata of `function(*args)` on the contract at `address`."""
    return system.chain.calldata(address, function, *args)


def call(system: System, address: str, function: str, *args: Any) -> tuple[str, bytes]:
    """One call of a proposal: (target, calldata)."""
    return (address, data(system, address, function, *args))


def proposal(system: System, timelock: str, proposal_id: int) -> tuple[bytes, int, int, int, bool]:
    """(calls_hash, eta, expires, status, rescue) on chain, asserted equal in the model."""
    on_chain = tuple(system.view(timelock, "proposals", proposal_id))
    assert on_chain == tuple(system.contract(timelock).proposals[proposal_id])
    return on_chain


def getters(system: System, timelock: str) -> dict[str, Any]:
    """The Timelock's scalar getters on chain, asserted equal in the model."""
    out = {}
    for name in ("proposer", "guardian", "delay", "grace", "proposal_count"):
        out[name] = system.view(timelock, name)
        assert out[name] == getattr(system.contract(timelock), name), name
    return out


__all__ = ["calls_hash"]
