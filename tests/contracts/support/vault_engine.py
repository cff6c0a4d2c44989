"""VaultEngine tests' readers and steps (tests/contracts/vault_engine/).

Each transaction runs on Anvil and in offchain/model/vault_engine.py at once (see
tests/conftest.py), so every test of vault_engine/ is also a differential test, and the `system`
fixture checks full state equality and invariants I1-I5 after each one. Assertions read the chain;
the model is known equal.

Units: collateral and normalized debt in wad, rate and safe price in ray, stable balances, bad
debt, ceilings and dust in rad. ETH-A's rate is a little above 1 ray after deployment, so every
expected debt in the tests is `normalized_debt * rate`, computed exactly.
"""

from __future__ import annotations

from typing import Any

from offchain.model.state import Event
from offchain.model.vault_engine import CollateralType, Vault
from offchain.system.reads import read_chain_state, state_keys

# a type id nobody initialized
UNKNOWN_TYPE = b"NOPE-A".ljust(32, b"\0")
# a type id initialized only by the tests that say so (outside the deployment, so no join and
# outside the I1-I5 bookkeeping of the fixture: never draw debt on it)
NEW_TYPE = b"NEW-A".ljust(32, b"\0")
MIN_INT256 = -(2**255)
# the engine packs locked collateral, normalized debts and rates into 128-bit halves of a slot
MAX_FIELD = 2**128 - 1


def send(system, function: str, sender: str, *args: Any) -> None:
    """One engine transaction, on chain and in the model."""
    system.tx(system.d.engine, function, sender, *args)


def read(system, getter: str, *args: Any) -> Any:
    """One engine getter, read on chain."""
    return system.view(system.d.engine, getter, *args)


def ctype(system, type_id: bytes) -> CollateralType:
    return CollateralType(*read(system, "collateral_types", type_id))


def vault(system, type_id: bytes, owner: str) -> Vault:
    return Vault(*read(system, "vaults", type_id, owner))


def rate(system) -> int:
    return ctype(system, system.eth.type_id).rate


def free(system, owner: str) -> int:
    return read(system, "collateral", system.eth.type_id, owner)


def engine_events(system) -> list[Event]:
    return [e for e in system.events if e.address == system.d.engine]


def logged(system, name: str, **args: Any) -> bool:
    """The last transaction emitted exactly this one engine event."""
    return engine_events(system) == [Event(system.d.engine, name, args)]


def snapshot_state(system) -> dict[str, Any]:
    """Every observable variable of the system, read on chain."""
    return read_chain_state(
        system.chain, system.d, state_keys(system.model, system.d, system.roles.users)
    )


def lock(system, owner: str, collateral: int, debt: int) -> None:
    """`owner` changes its own ETH-A vault from and to its own balances (signed deltas)."""
    send(system, "modify_vault", owner, system.eth.type_id, owner, owner, owner, collateral, debt)
