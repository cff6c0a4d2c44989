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
from shards import DURATIONS, parse_shard, read_durations, record_durations, split

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
        "system/test_shards.py",  # `ape test --collect-only` as a command, four times
    }
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("shards", "the suite in shards side by side (tests/shards.py)")
    group.addoption(
        "--shard",
        default=None,
        metavar="K/N",
        help="run only the K-th of N groups of test files, balanced by tests/durations.json",
    )
    group.addoption(
        "--record-durations",
        default=None,
        metavar="PATH",
        help="add the seconds each test file took to PATH (JSON, as tests/durations.json; "
        "shards side by side may name the same file)",
    )


TESTS = Path(__file__).resolve().parent
# seconds per test file in this process (`--record-durations`), and each test's file
_SECONDS: dict[str, float] = {}
_FILE_OF: dict[str, str] = {}


def _relative(path: Path | str) -> str:
    resolved = Path(str(path)).resolve()
    return resolved.relative_to(TESTS).as_posix() if resolved.is_relative_to(TESTS) else ""


def pytest_configure(config: pytest.Config) -> None:
    for name, meaning in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {meaning}")
    shard = config.getoption("--shard")
    if shard is not None:
        try:
            parse_shard(shard)
        except ValueError as why:
            raise pytest.UsageError(str(why)) from None
        try:
            read_durations()
        except (OSError, ValueError) as why:  # json's and UTF-8's decode errors are ValueErrors
            raise pytest.UsageError(f"{DURATIONS}: not seconds per test file ({why})") from None
        config.pluginmanager.register(_Shard(), "backstop-shard")
    record = config.getoption("--record-durations")
    if record is not None and not Path(record).resolve().parent.is_dir():
        # found now, not after the run: the record is written at the session's end
        raise pytest.UsageError(f"--record-durations {record}: no such folder")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        relative = _relative(item.path)
        folder = relative.split("/", 1)[0]
        if folder in ("live", "fuzz"):
            item.add_marker(folder)
        if relative in SLOW_FILES:
            item.add_marker("slow")


class _Shard:
    """`--shard K/N`: after -k and -m have chosen (trylast), keep this shard's files of what they
    chose; the markers above are set before them, so -m sees them."""

    selected = 0  # tests chosen before the split: 0 means the selection itself is empty

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        index, count = parse_shard(str(config.getoption("--shard")))
        _Shard.selected = len(items)
        mine = set(split((_relative(i.path) for i in items), read_durations(), count)[index])
        kept = [i for i in items if _relative(i.path) in mine]
        dropped = [i for i in items if _relative(i.path) not in mine]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    _FILE_OF.update((item.nodeid, _relative(item.path)) for item in session.items)


def pytest_report_header(config: pytest.Config) -> str | None:
    shard = config.getoption("--shard")
    return f"shard {shard} of the suite's files (tests/shards.py)" if shard else None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # setup, call and teardown, so a module's fixtures count toward its file (a session
    # fixture's toward the first file that asked for it)
    relative = _FILE_OF.get(report.nodeid, "")
    if relative:
        _SECONDS[relative] = _SECONDS.get(relative, 0.0) + report.duration


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = session.config.getoption("--record-durations")
    if path:
        record_durations(Path(path), _SECONDS)
    shard = session.config.getoption("--shard")
    if shard is not None and exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and _Shard.selected:
        # a narrowed run (TEST_PATHS, -k) may leave a shard nothing while another runs what was
        # chosen: not a failure of `make test`. A selection empty in every shard (a -k that
        # matches nothing) still fails, as pytest alone would.
        session.config.get_terminal_writer().line(
            f"shard {shard}: no test of the selection is in this shard's files"
        )
        session.exitstatus = pytest.ExitCode.OK


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
