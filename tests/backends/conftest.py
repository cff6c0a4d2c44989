"""The backends' tests run on both EVMs: `system` here is the session's deployment on Anvil and
on revm in process (each with its model), so the harness's lockstep tests cover both."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest

from offchain.testing.harness import System


@pytest.fixture(params=["anvil", "revm"])
def system(request, node, deployed, roles, revm) -> Iterator[System]:
    if request.param == "anvil":
        chain, (d, model), accounts = node, deployed, roles
    else:
        chain, (d, model), accounts = revm.evm, revm.deployed, revm.roles
    snapshot = chain.snapshot()
    try:
        s = System(chain, copy.deepcopy(model), d, accounts)
        yield s
        s.check()
    finally:
        chain.revert_to(snapshot)
