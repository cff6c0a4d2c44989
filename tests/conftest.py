"""Shared fixtures: a real Anvil node (started by ape-foundry), the system deployed once per
session in lockstep with the off-chain model, and per-test isolation by EVM snapshot + model copy;
the same deployment on revm in process (`revm`) for the differential fuzz at depth.

Every transaction a test sends through `system.tx` runs on the chain *and* in the model; the two
must agree on success or revert reason and on every event, and at the end of every test the
complete observable state and invariants I1-I5 are compared on both. So each unit test is also a
differential test.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ape import chain as ape_chain
from ape import project
from eth_utils import to_checksum_address
from hypothesis import HealthCheck, settings

from offchain.backends import ChainBackend, ModelBackend, load_artifacts, reader_code
from offchain.backends.anvil import keep_ape_anvil_history_in_memory
from offchain.backends.hardhat import NODES
from offchain.system.deployment import Deployment
from offchain.testing import constants
from offchain.testing.fuzz import Artifacts, FuzzTarget, deploy_target, revm_target
from offchain.testing.harness import TEST_FACTORIES, Roles, System

# before Ape starts its node (after collection): no state files left behind in ~/.foundry
keep_ape_anvil_history_in_memory()

# Hypothesis: every property test runs derandomized (the same examples on every run, so that
# coverage checks are reproducible) and keeps no example database. The differential machines
# have their own profiles (offchain/testing/fuzz.py: `ci` on revm, `ci-anvil`, and `deep` for
# `make fuzz`).
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
settings.load_profile("ci")


@pytest.fixture(scope="session", autouse=True)
def _pinned_hypothesis_constants() -> Iterator[None]:
    """The constants Hypothesis draws from are the model's, whatever the session imported
    before a test (offchain/testing/constants.py): a test's draws do not depend on which tests
    ran before it (state shared through session fixtures is each test's to leave as found)."""
    with constants.pinned():
        yield


# pytest markers (`make test-fast` runs `-m "not slow and not live and not fuzz"`; `make test`
# and CI run everything): by folder for `live` (devnets, bot processes) and `fuzz` (the
# differential machines, campaigns, planted bugs), by file for `slow` (measured with
# --durations: each of these takes tens of seconds or more)
MARKERS = {
    "live": "starts a devnet, bot processes or the ape CLI against a node (tests/live)",
    "fuzz": "runs the differential machines, a campaign or planted bugs (tests/fuzz)",
    "slow": "a crash replay, a sweep, a second node or a long property run",
}
SLOW_FILES = frozenset(
    {
        "backends/test_gas_gate.py",  # `ape run gas` as a command, twice
        "backends/test_hardhat.py",  # a Hardhat node (seconds to start) and a replay on it
        "sweep/test_sweep.py",  # sweeps on process pools and Dask clusters
    }
)


def pytest_configure(config: pytest.Config) -> None:
    for name, meaning in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {meaning}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    tests = Path(__file__).resolve().parent
    for item in items:
        path = Path(str(item.fspath)).resolve()
        relative = path.relative_to(tests).as_posix() if path.is_relative_to(tests) else ""
        folder = relative.split("/", 1)[0]
        if folder in ("live", "fuzz"):
            item.add_marker(folder)
        if relative in SLOW_FILES:
            item.add_marker("slow")


@pytest.fixture(scope="session")
def artifacts() -> Artifacts:
    """ABIs and bytecode of every contract the tests deploy, and the BatchReader's code."""
    return load_artifacts(project, TEST_FACTORIES), reader_code(project)


@pytest.fixture(scope="session")
def node(artifacts: Artifacts) -> Iterator[ChainBackend]:
    """The chain of the lockstep tests: Ape's Anvil, or with `BACKSTOP_NODE=hardhat` (`make
    test-hardhat`) a private Hardhat Network started for the session (Ape's Anvil still runs for
    the few tests that use Ape's own accounts)."""
    kind = os.environ.get("BACKSTOP_NODE", "anvil")
    if kind == "anvil":
        yield ChainBackend(ape_chain.provider.uri, *artifacts)
        return
    if kind not in NODES:
        raise pytest.UsageError(f"BACKSTOP_NODE={kind!r}: one of {', '.join(NODES)}")
    with NODES[kind](int(time.time())) as running:
        yield ChainBackend(running.url, *artifacts)


@pytest.fixture(scope="session")
def roles(node: ChainBackend) -> Roles:
    accounts = [to_checksum_address(a) for a in node.rpc("eth_accounts", [])]
    return Roles(*accounts[:6])


@pytest.fixture(scope="session")
def deployed(node: ChainBackend, roles: Roles) -> tuple[Deployment, ModelBackend]:
    node.sync()
    # pools unseeded: the types start without debt; tests that trade seed them (seed_pool)
    return deploy_target(node, roles).deployed


@pytest.fixture(scope="session")
def revm(artifacts: Artifacts) -> FuzzTarget:
    """The system deployed on revm in process, in lockstep with its model."""
    return revm_target(artifacts)


@pytest.fixture
def revm_system(revm: FuzzTarget) -> Iterator[System]:
    """A System on the session's revm (a copy of its model), the EVM reverted afterwards."""
    d, model = revm.deployed
    snapshot = revm.evm.snapshot()
    try:
        yield System(revm.evm, copy.deepcopy(model), d, revm.roles)
    finally:
        revm.evm.revert_to(snapshot)


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
