"""Fixtures of the contract tests (tests/contracts/); the system, deployed once per session and
isolated per test, is tests/conftest.py's. Each directory holds the tests of one contract, one
file per function or group of related functions; stories/ the end-to-end stories across
contracts; support/ the helpers and scenarios shared by several files.
"""

from __future__ import annotations

import pytest

from offchain.model.fixed_point import RAD


@pytest.fixture
def dust_100(system) -> None:
    """The tests of vault_engine/, collateral_join/, stable_join/, stablecoin/ and test_token/
    (their conftest.py) use vaults of a few hundred BUSD: the devnet's dust (2,500 BUSD, set from
    gas economics, docs/security-sec-liq.md) is lowered by governance to 100 at the start of each
    test (the snapshot taken by `system` undoes it)."""
    for t in (system.eth, system.btc):
        system.tx(system.d.engine, "set_dust", system.roles.governance, t.type_id, 100 * RAD)
