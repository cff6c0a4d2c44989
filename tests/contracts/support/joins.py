"""Readers and steps of the value gates' tests: CollateralJoin, StableJoin and the snekmate ERC-20
tokens Stablecoin and TestToken (tests/contracts/collateral_join/, stable_join/, stablecoin/,
test_token/).

Unit tests of the value gates: CollateralJoin (ERC-20 collateral <-> engine collateral [wad]),
StableJoin (engine stablecoin [rad] <-> ERC-20 Stablecoin [wad]), and the two snekmate ERC-20
tokens (Stablecoin and TestToken).

Every transaction goes to the chain and the model in lockstep (see conftest.py), so each test is
also a differential test; the fixture compares the complete state and invariants I1-I5 at the end.
"""

from __future__ import annotations

from offchain.model.fixed_point import WAD

MAX_UINT256 = 2**256 - 1
# one whole WBTC in token units (8 decimals), and token units -> wad inside the engine
ONE_BTC = 10**8
BTC_SCALE = 10**10


def logs(system) -> list[tuple]:
    """The last transaction's events as (emitter, name, args), identical on chain and model."""
    return [(e.address, e.name, e.args) for e in system.events]


def free_collateral(system, t, account: str) -> int:
    """engine.collateral[type][account] [wad], read on chain."""
    return system.view(system.d.engine, "collateral", t.type_id, account)


def join_holdings(system, t) -> int:
    """Collateral tokens held by the type's join (token units; the deployment may have seeded
    some)."""
    return system.view(t.token, "balanceOf", t.join)


def backing(system) -> tuple[int, int]:
    """(Stablecoin supply [wad], the StableJoin's engine balance [rad]), read on chain."""
    supply = system.view(system.d.stablecoin, "totalSupply")
    return supply, system.view(system.d.engine, "stable", system.d.stable_join)


def mint_and_approve(system, t, user: str, amount: int, allowance: int | None = None) -> None:
    """Governance mints `amount` collateral tokens to `user`, who approves the type's join."""
    system.tx(t.token, "mint", system.roles.governance, user, amount)
    system.tx(t.token, "approve", user, t.join, amount if allowance is None else allowance)


def borrow(system, user: str, normalized_debt: int) -> int:
    """`user` locks 10 ETH and draws `normalized_debt` [wad]; returns the internal stable [rad]."""
    system.open_vault(user, "ETH-A", 10 * WAD, normalized_debt)
    return system.view(system.d.engine, "stable", user)


def exit_stable(system, user: str, recipient: str, amount: int) -> None:
    """`user` delegates to the StableJoin and exits `amount` ERC-20 stablecoin [wad] to
    `recipient`."""
    system.tx(system.d.engine, "allow", user, system.d.stable_join)
    system.tx(system.d.stable_join, "exit", user, recipient, amount)
