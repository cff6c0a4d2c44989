"""The gas round's probe (offchain/testing/machine/auctions.py `_guard_probe`): the 10M campaign
at a5222a2 failed 67 times on one example (seed 920, 86 steps, on revm): the deleverage tie
stories had left 754 vaults of a type unsafe, and the probe sent all of them in one
`liquidate_many` with a drawn limit of 118,879 gas, under the call's intrinsic gas (154,640 by
revm's standard count), which revm refuses with an error that is not a revert. A node never runs
it either (Anvil 1.7.1 takes it into its pool and drops it), so the probe tested nothing. Now it
sends at most the Liquidator's MAX_BATCH owners (its ABI bound) and does not send a call under
its intrinsic gas."""

from __future__ import annotations

from eth_utils import to_checksum_address

from offchain.backends.base import intrinsic_gas
from offchain.model.liquidator import MAX_BATCH
from offchain.testing.differential import make_machine
from offchain.testing.fuzz import FuzzTarget
from offchain.testing.stats import Totals

FIRST_VAULTS = {"amount": 20, "debt_fraction": 900_000, "depth": 1_000_000}


def _probe(revm: FuzzTarget, owners: list[str], gas: int) -> Totals:
    totals = Totals()
    machine = make_machine(revm.evm, revm.deployed, revm.roles, "full", totals)()
    try:
        machine.open_first_vaults(**FIRST_VAULTS)
        machine._guard_probe("WBTC-A", owners, gas)
        machine.chain_equals_model_and_invariants_hold()  # the probe is undone
    finally:
        machine.teardown()
    return totals


def test_probe__754_owners_at_118879_gas__the_first_100_are_probed(revm):
    """The campaign's failing probe: 754 owners (as the tie stories' addresses are: mostly zero
    bytes) at 118,879 gas. The call of all of them is over that gas and over the ABI's bound; the
    first MAX_BATCH are sent, and the gas guard skips what that gas cannot finish (none of them
    is a vault: nothing is liquidated, and the call does not revert)."""
    owners = [str(to_checksum_address(f"0x{0x7E1E0000 + i:040x}")) for i in range(754)]
    liquidator, keeper = revm.deployed[0].liquidator, revm.roles.keeper
    wbtc = b"WBTC-A".ljust(32, b"\0")
    whole = revm.evm.calldata(liquidator, "liquidate_many", wbtc, owners, keeper)
    assert intrinsic_gas(whole) > 118_879
    outcomes = _probe(revm, owners, 118_879).outcomes
    assert outcomes["gas guard probe: skipped"] + outcomes["gas guard probe: all done"] == 1
    assert MAX_BATCH == 100


def test_probe__under_the_calls_intrinsic_gas__not_sent(revm):
    """100 owners whose addresses have no zero byte: the call's intrinsic gas (EIP-7623's floor)
    is over the least probe the rule draws (100,000): counted, not sent."""
    owners = [str(to_checksum_address(f"0x{'11' * 18}{0x1111 + i:04x}")) for i in range(MAX_BATCH)]
    outcomes = _probe(revm, owners, 100_000).outcomes
    assert outcomes["gas guard probe: under its intrinsic gas, not sent"] == 1
    assert not any(k.startswith("gas guard probe: ") and "intrinsic" not in k for k in outcomes)
