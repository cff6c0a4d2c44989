"""RevmBackend as a node: the gas of every transaction `make bench` measures equals Anvil's (with
`exact_gas`), and why that needs a mode of its own; snapshots that nest and drop the later ones;
nonces and CREATE addresses; revert reasons.

Money flow checked here: tokens minted and transferred move the same amounts as in the model;
what a snapshot revert undoes is undone entirely (balances, nonces, the clock)."""

from __future__ import annotations

import pytest

from offchain.backends import ANVIL_ACCOUNTS, ChainBackend, RevmBackend, create_address
from offchain.backends.anvil import Anvil
from offchain.model.errors import Revert
from offchain.testing.gas_scenarios import all_gas_figures

GENESIS = 1_700_000_000
WAD = 10**18


@pytest.fixture
def evm(artifacts) -> RevmBackend:
    return RevmBackend(artifacts[0], artifacts[1], GENESIS)


def test_gas__every_benchmark_transaction__equals_anvils(artifacts):
    """The same deployment and transactions (scripts/_bench.py's) on a fresh Anvil and on revm
    with exact gas, from the same genesis: every figure is the same, to the unit."""
    roles = list(ANVIL_ACCOUNTS)
    on_revm = all_gas_figures(
        RevmBackend(artifacts[0], artifacts[1], GENESIS, exact_gas=True), roles
    )
    with Anvil(GENESIS) as node:
        on_anvil = all_gas_figures(ChainBackend(node.url, artifacts[0], artifacts[1]), roles)
    assert len(on_anvil) >= 25
    assert on_revm == on_anvil


def test_gas__pyrevm_keeps_slots_warm__only_the_exact_count_is_a_nodes(artifacts):
    """pyrevm counts the second of two identical transfers with its slots still warm from the
    first; the exact count (a fresh, cold EVM) charges both alike, as a node does."""
    evm = RevmBackend(artifacts[0], artifacts[1], GENESIS, exact_gas=True)
    owner, other = ANVIL_ACCOUNTS[:2]
    token = evm.deploy("TestToken", owner, "T", "T", 18)
    evm.transact(token, "mint", owner, owner, 10 * WAD)
    exact = []
    for _ in range(2):
        evm.transact(token, "transfer", owner, other, WAD)
        assert evm.evm.result is not None
        warm = evm.evm.result.gas_used
        exact.append(evm.gas_used())
    assert exact[0] > exact[1]  # the first transfer creates the receiver's balance slot
    evm.transact(token, "transfer", owner, other, WAD)
    assert evm.gas_used() == exact[1]
    assert warm < exact[1]  # pyrevm's own count of a repeated transfer: too low


def test_gas__without_exact_gas__is_refused(evm):
    owner = ANVIL_ACCOUNTS[0]
    evm.deploy("TestToken", owner, "T", "T", 18)
    with pytest.raises(RuntimeError, match="exact_gas"):
        evm.gas_used()


def test_deploy__after_calls_by_the_deployer__gets_the_nodes_create_address(evm):
    """A node counts every transaction in the sender's nonce, calls too: so does the backend."""
    owner, other = ANVIL_ACCOUNTS[:2]
    first = evm.deploy("TestToken", owner, "A", "A", 18)
    assert first == create_address(owner, 0)
    for _ in range(3):
        evm.transact(first, "mint", owner, other, WAD)
    assert evm.deploy("TestToken", owner, "B", "B", 18) == create_address(owner, 4)
    assert evm.nonce(owner) == 5 and evm.nonce(other) == 0


def test_transact__revert__raises_the_reason_and_changes_nothing(evm):
    owner, other = ANVIL_ACCOUNTS[:2]
    token = evm.deploy("TestToken", owner, "T", "T", 18)
    with pytest.raises(Revert) as reverted:
        evm.transact(token, "mint", other, other, WAD)  # only the owner mints
    assert reverted.value.reason == "erc20: access is denied"
    assert evm.last_events == []
    assert evm.views([(token, "totalSupply", ()), (token, "balanceOf", (other,))]) == [0, 0]
    assert evm.nonce(other) == 1  # a reverted transaction is still a transaction


def test_block_times__one_second_apart_unless_set(evm):
    owner = ANVIL_ACCOUNTS[0]
    token = evm.deploy("TestToken", owner, "T", "T", 18)
    assert evm.last_block_time == GENESIS + 1 and evm.block_number == 1
    evm.set_next_block_time(GENESIS + 100)
    evm.transact(token, "mint", owner, owner, WAD)
    assert evm.last_block_time == GENESIS + 100
    evm.transact(token, "mint", owner, owner, WAD)
    assert evm.last_block_time == GENESIS + 101 and evm.block_number == 3
    with pytest.raises(ValueError, match="must increase"):
        evm.set_next_block_time(GENESIS + 101)


def test_snapshots__nested__revert_restores_state_nonces_and_clock_and_drops_later_ones(evm):
    """Money flow: 5 tokens minted before the outer snapshot stay; the 7 and 11 minted after it
    are undone by reverting to it, with the nonces and the clock."""
    owner = ANVIL_ACCOUNTS[0]
    token = evm.deploy("TestToken", owner, "T", "T", 18)
    evm.transact(token, "mint", owner, owner, 5)
    outer, time, nonce = evm.snapshot(), evm.last_block_time, evm.nonce(owner)
    evm.transact(token, "mint", owner, owner, 7)
    inner = evm.snapshot()
    evm.set_next_block_time(time + 1_000)
    evm.transact(token, "mint", owner, owner, 11)
    assert evm.view(token, "totalSupply") == 23
    evm.revert_to(outer)
    assert evm.view(token, "totalSupply") == 5
    assert (evm.last_block_time, evm.nonce(owner)) == (time, nonce)
    with pytest.raises(RuntimeError, match="no such snapshot"):
        evm.revert_to(inner)  # dropped with the outer one
    with pytest.raises(RuntimeError, match="no such snapshot"):
        evm.revert_to(outer)  # a snapshot is reverted to once
    # the same transaction again gives the same address as before the revert
    again = evm.snapshot()
    second = evm.deploy("TestToken", owner, "U", "U", 18)
    evm.revert_to(again)
    assert evm.deploy("TestToken", owner, "U", "U", 18) == second
