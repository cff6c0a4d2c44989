"""Hardhat Network as the second local chain (offchain/backends/hardhat.py, docs/nodes.md): the
same transactions cost the same gas as on Anvil, a crash replay on Hardhat reconciles with the
model to the wei, and the backend covers what Hardhat lacks (auto-impersonation, a one-second
block interval, the callTracer, eth_getBlockReceipts).

Money flow checked here: the replay's losses are paid by the waterfall's layers to the wei, as on
Anvil (the reconciliation compares every event and every state variable with the model)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from offchain.backends import ANVIL_ACCOUNTS, ChainBackend, RevmBackend
from offchain.backends.hardhat import Hardhat
from offchain.model.errors import Revert
from offchain.sim.results.reconcile import reconcile
from offchain.sim.run.driver import simulate
from offchain.sim.scenario.load import load_scenario
from offchain.testing.gas_scenarios import all_gas_figures

ROOT = Path(__file__).resolve().parents[2]
GENESIS = 1_700_000_000
WAD = 10**18


@pytest.fixture(scope="module")
def hardhat(artifacts) -> Iterator[ChainBackend]:
    with Hardhat(GENESIS) as node:
        yield ChainBackend(node.url, *artifacts)


def test_gas__every_benchmark_transaction__equals_anvils(artifacts, hardhat):
    """scripts/_bench.py's transactions on Hardhat and on revm with exact gas (which
    tests/backends/test_revm_backend.py proves equal to Anvil's): every figure the same. A figure
    that differed would be named here, not hidden."""
    roles = list(ANVIL_ACCOUNTS)
    snapshot = hardhat.snapshot()
    try:
        on_hardhat = all_gas_figures(hardhat, roles)
    finally:
        hardhat.revert_to(snapshot)
    on_revm = all_gas_figures(
        RevmBackend(artifacts[0], artifacts[1], GENESIS, exact_gas=True), roles
    )
    assert len(on_hardhat) >= 25
    differ = {
        k: (on_revm[k], on_hardhat.get(k)) for k in on_revm if on_revm[k] != on_hardhat.get(k)
    }
    assert differ == {}, f"gas differs between Anvil and Hardhat (anvil, hardhat): {differ}"


def test_chain_backend__on_hardhat__one_second_blocks_reasons_and_one_block_of_many(hardhat):
    """What Anvil does by switch, the backend does on Hardhat: each block one second after the
    last (Hardhat would stamp the wall clock), a failed transaction mined with its reason read
    from the default tracer, and several transactions mined into one block in the order sent."""
    owner, other = ANVIL_ACCOUNTS[:2]
    snapshot = hardhat.snapshot()
    try:
        token = hardhat.deploy("TestToken", owner, "T", "T", 18)
        start = hardhat.last_block_time
        hardhat.transact(token, "mint", owner, owner, 10 * WAD)
        block = hardhat.rpc("eth_getBlockByNumber", ["latest", False])
        assert int(block["timestamp"], 16) == start + 1 == hardhat.last_block_time
        with pytest.raises(Revert) as refused:
            hardhat.transact(token, "transfer", other, owner, WAD)  # other holds nothing
        assert refused.value.reason and "balance" in refused.value.reason
        outcomes = hardhat.transact_block(
            [
                (token, "transfer", owner, (other, WAD)),
                (token, "transfer", other, (owner, 2 * WAD)),  # more than it has
                (token, "transfer", other, (owner, WAD)),
            ]
        )
        assert [o.ok for o in outcomes] == [True, False, True]
        assert outcomes[1].reason == refused.value.reason
        assert hardhat.view(token, "balanceOf", owner) == 10 * WAD
        block = hardhat.rpc("eth_getBlockByNumber", ["latest", False])
        assert len(block["transactions"]) == 3
        assert int(block["timestamp"], 16) == hardhat.last_block_time
    finally:
        hardhat.revert_to(snapshot)


def test_fund__a_stranger_on_hardhat__can_send(hardhat):
    """Hardhat has no --auto-impersonate: `fund` impersonates each account it funds."""
    stranger = "0x00000000000000000000000000000000000b0b0B"
    owner = ANVIL_ACCOUNTS[0]
    snapshot = hardhat.snapshot()
    try:
        hardhat.fund([stranger], 10**20)
        token = hardhat.deploy("TestToken", stranger, "T", "T", 18)
        hardhat.transact(token, "mint", stranger, owner, WAD)
        assert hardhat.view(token, "balanceOf", owner) == WAD
    finally:
        hardhat.revert_to(snapshot)


def test_replay__crash_with_50_vaults_on_hardhat__chain_and_model_agree_to_the_wei():
    """Black Thursday with thin liquidity (the scenario of tests/sim/test_simulation.py) on
    Hardhat Network: 0 differences with the model on every transaction, event, bar and state
    variable, and the waterfall paid."""
    from ape import project

    from offchain.backends import load_artifacts, reader_code

    scenario = load_scenario(str(ROOT / "tests" / "sim" / "data" / "thin-liquidity-2020.toml"))
    chain = simulate(
        scenario, "chain", load_artifacts(project), reader_code(project), node="hardhat"
    )
    model = simulate(scenario, "model")
    r = reconcile(chain, model)
    assert r.diffs == [] and r.diff_count == 0
    assert r.events_compared == len(chain.tables["events"]) > 1000
    assert r.bars_compared == 180
    events = chain.tables["events"]
    assert (events.event == "LossAllocated").sum() > 0


def test_node__the_lockstep_fixture__runs_on_the_node_named_by_backstop_node(node):
    """`make test-hardhat` (BACKSTOP_NODE=hardhat) really runs the lockstep tests on Hardhat."""
    wanted = os.environ.get("BACKSTOP_NODE", "anvil")
    assert node.hardhat == (wanted == "hardhat"), node.client


def test_simulate__unknown_node__refused():
    scenario = load_scenario(str(ROOT / "tests" / "sim" / "data" / "thin-liquidity-2020.toml"))
    with pytest.raises(ValueError, match="unknown node 'geth'"):
        simulate(scenario, "chain", node="geth")
