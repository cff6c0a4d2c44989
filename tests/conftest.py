"""Shared fixtures: a real Anvil node (started by ape-foundry), the system deployed once per
session in lockstep with the off-chain model, and per-test isolation by EVM snapshot + model copy.

Every transaction a test sends through `system.tx` runs on the chain *and* in the model; the two
must agree on success or revert reason and on every event, and at the end of every test the
complete observable state and invariants I1-I5 are compared on both. So each unit test is also a
differential test.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator

import pytest
from ape import chain as ape_chain
from ape import project
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, settings

from offchain.backends import ChainBackend, Lockstep, ModelBackend, load_artifacts, reader_code
from offchain.backends.anvil import keep_ape_anvil_history_in_memory
from offchain.system.config import load_config
from offchain.system.deployment import Deployment, deploy_system
from offchain.testing.harness import TEST_FACTORIES, Roles, System

# before Ape starts its node (after collection): no state files left behind in ~/.foundry
keep_ape_anvil_history_in_memory()

# Hypothesis: a bounded profile for CI, a deep one for `make fuzz`.
# `ci` is derandomized: the same examples on every run, so its coverage checks (liquidations,
# takes and covers really happen) are reproducible; `deep` explores freshly every time.
settings.register_profile(
    "ci",
    max_examples=15,
    stateful_step_count=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
settings.register_profile(
    "deep",
    max_examples=300,
    stateful_step_count=150,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def node() -> ChainBackend:
    return ChainBackend(
        ape_chain.provider.uri, load_artifacts(project, TEST_FACTORIES), reader_code(project)
    )


@pytest.fixture(scope="session")
def roles(node: ChainBackend) -> Roles:
    accounts = [to_checksum_address(a) for a in node.rpc("eth_accounts", [])]
    return Roles(*accounts[:6])


@pytest.fixture(scope="session")
def deployed(node: ChainBackend, roles: Roles) -> tuple[Deployment, ModelBackend]:
    node.sync()
    model = ModelBackend(node.last_block_time, factories=TEST_FACTORIES)
    for account in roles.users:
        model.nonces[account] = int(node.rpc("eth_getTransactionCount", [account, "latest"]), 16)
    # pools unseeded: the types start without debt; tests that trade seed them (seed_pool)
    deployment = deploy_system(
        Lockstep(node, model), load_config(), roles.governance, roles.feeder, seed_pools=False
    )
    return deployment, model


@pytest.fixture
def system(
    node: ChainBackend, deployed: tuple[Deployment, ModelBackend], roles: Roles
) -> Iterator[System]:
    d, model = deployed
    snapshot = node.snapshot()
    try:
        s = System(node, copy.deepcopy(model), d, roles)
        yield s
        s.check()
    finally:
        node.revert_to(snapshot)
