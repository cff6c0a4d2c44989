"""Differential stateful fuzzing: random action sequences applied to the contracts on Anvil and to
the off-chain model, which must agree to the wei.

Every rule sends real transactions through `Lockstep`, which fails on any difference in outcome,
revert reason, block time or emitted events. After every step the complete observable state is
compared (every variable of every contract for every actor, read in one batched eth_call) and
invariants I1-I5 are checked on the chain's state and on the model's complete storage.

Actions: liquidations (single and batched), auction takes (whole, partial, above and below the
taker's maximum price, flash takes through the pool), resets, swaps and liquidity in the
collateral pools, circuit breakers, price crashes; funding and withdrawing collateral, locking /
freeing / drawing / repaying (near the
safe, dust and ceiling boundaries, and beyond them), delegation, internal transfers, stablecoin
in and out, price posts (including zero and from strangers), oracle and spotter pokes, time
jumps (including past the oracle's max age), fee accrual, ceiling updates, governance parameter
changes (valid and invalid), seizures, unbacked debt and its settlement, and privileged calls
from accounts that are not allowed; the loss waterfall: stability-pool stakes, pending stakes,
withdrawal requests and withdrawals (also at the minimum shares and the exit window's last
second), realizations, covers of closed losses under several waterfall orders (and invalid
ones), debt auctions (start, bid, restart, finish, cancel), surplus
auctions, margin calls (owners opting in and out, soft liquidations of called vaults on each of
their edges, governance changing the MarginCall's parameters), and, late in an example, global
settlement with every step after it. Loss
conservation (receipts = loss, per event and per pool charge) is checked after every step.

The machines live here, not in tests/, so that the benchmark can run them too; the tests are
tests/fuzz/test_differential.py. Profiles: `ci` (default, bounded) and `deep` (`make fuzz`), in
tests/conftest.py. Each Hypothesis example starts from the same deployed state: an EVM snapshot
is reverted and the model copied.
"""

from __future__ import annotations

from hypothesis.stateful import RuleBasedStateMachine

from offchain.backends import EvmBackend, ModelBackend
from offchain.system.deployment import Deployment
from offchain.testing.harness import Roles
from offchain.testing.machine.attacker import AttackerRules
from offchain.testing.machine.base import MachineBase
from offchain.testing.machine.governance import GovernanceRules
from offchain.testing.machine.margin_call import MarginCallRules
from offchain.testing.machine.market import MarketRules
from offchain.testing.machine.settlement import SettlementRules
from offchain.testing.machine.stability_pool import StabilityPoolRules
from offchain.testing.machine.stories import StoryRules
from offchain.testing.machine.vaults import VaultRules
from offchain.testing.stats import Totals

__all__ = ["MACHINES", "Differential", "LiquidationFocus", "make_machine"]


class Differential(
    VaultRules,
    MarketRules,
    SettlementRules,  # with the waterfall's and the auctions' rules it builds on
    StabilityPoolRules,
    GovernanceRules,
    MarginCallRules,
    StoryRules,
    AttackerRules,
    MachineBase,
):
    """The whole system: every contract's actions, valid and invalid (see the module docstring):
    every rule group of offchain/testing/machine/. Bound to a node, a deployment and its model
    by `make_machine`."""


# the liquidation story's rules
_LIQUIDATION_RULES = {
    "fund",
    "modify_vault",
    "short_warp",
    "accrue",
    "crash",
    "liquidate",
    "liquidate_unsafe",
    "take_running",
    "liquidate_many",
    "keeper_gas_round",
    "take",
    "flash_take",
    "reset",
    "circuit_breaker",
    "set_auction_cap",
    "set_curve",
    "swap",
    "liquidity",
    "backstop",
    "stable_exit",
    "transfer_stable",
    "poke",
    "delegate",
    "stake",
    "pool_exit",
    "pool_story",
    "cover",
    "set_waterfall",
    "debt_auction",
    "sell_out_below_debt",
    "liquidation_story",
    "debt_auction_story",
    "debt_repay_story",
    "edge_story",
    "attack",
    "governance_move",
}


class LiquidationFocus(Differential):
    """The same machine with only the rules of the liquidation story, so that sequences like
    crash -> liquidate -> take / reset -> settle are dense instead of rare."""


def _hide_rules(machine: type[RuleBasedStateMachine], keep: set[str]) -> None:
    """Hide every inherited rule of `machine` not named in `keep`."""
    for name in dir(machine):
        if (
            getattr(getattr(machine, name), "hypothesis_stateful_rule", None) is not None
            and name not in keep
        ):
            setattr(machine, name, None)


_hide_rules(LiquidationFocus, _LIQUIDATION_RULES)


# the machines by kind (make_machine)
MACHINES = ("full", "liquidations")


def make_machine(
    node: EvmBackend,
    deployed: tuple[Deployment, ModelBackend],
    roles: Roles,
    kind: str = "full",
    totals: Totals | None = None,
    storage_check: bool | None = None,
    checked: bool = True,
) -> type[Differential]:
    """The state machine class (`"full"` or `"liquidations"`) bound to a node, a deployment and
    the counts its examples add to (`totals`; new ones if None: read them as the class's
    `totals`). `storage_check` False keeps revm on the view-based check (the benchmark's
    side-by-side; None: storage on revm, offchain/testing/checking.py). `checked` False runs
    the same steps with no check but the lockstep's (outcomes and events of each transaction)
    and the rules' few inline asserts: the benchmark's floor, never used to check anything.
    Used by the tests, the campaign and the benchmark."""
    base = {"full": Differential, "liquidations": LiquidationFocus}[kind]
    bound = {
        "node": node,
        "deployed": deployed,
        "roles": roles,
        "totals": totals or Totals(),
        "storage_check": storage_check,
        "checked": checked,
    }
    return type(base.__name__, (base,), bound)
