"""A keeper's gas budget per bar.

A keeper with a budget (scenario `[keepers]`: `liquidation_gas_budget`, `taker_gas_budget`,
`backstop_gas_budget`, `soft_liquidation_gas_budget`, gas a bar; 0 = none) sends, of what its
strategy wants in a bar over every collateral type, the most valuable per unit of gas first, each
that still fits, and lets the rest wait: nothing it defers is in flight, so the strategy plans it
again next bar if it still wants it (`within_budget`). What an action is worth is the strategy's
`Action.values`: a take's expected profit after gas, a liquidated vault's debt, a cover's loss due;
an action without a value (a reset, an accrual, a heal) comes after those with one, in the
strategy's order. A liquidation is ranked vault by vault, each at the gas of its path, and the
vaults that fit are sent in batches again, sized as the keeper sized them (by each vault's bound,
`Action.target_gas_bound`). The gas figures are gas_costs.py's.
"""

from __future__ import annotations

from fractions import Fraction

from offchain.backends.base import TX_GAS
from offchain.sim.strategies.gas_costs import (
    BACKSTOP_GAS,
    FLASH_TAKE_GAS,
    LIQUIDATION_GAS,
    LIQUIDATION_TX_GAS,
    MAX_BATCH,
    RESET_GAS,
    SIZE_CUT_GAS,
    SOFT_LIQUIDATION_GAS,
    TAKE_GAS,
    action_gas,
    batch_limit,
)
from offchain.sim.strategies.keepers import Action, liquidation_batches

# the functions each budgeted keeper sends (a debt auction's bids are the bidder's, which has no
# budget); what the scenario's budget must at least cover once (`smallest_budget`). A deleverage
# is not a chore every budget must fit: a budget below a deleverage of many vaults defers it.
KEEPER_FUNCTIONS = {
    "liquidation": ("liquidate_many",),
    "taker": ("take", "reset"),
    "backstop": tuple(BACKSTOP_GAS),
    "soft_liquidation": ("soft_liquidate",),
}


def smallest_budget(keeper: str, taker_mode: str = "flash") -> int:
    """The least budget [gas a bar] with which `keeper` ("liquidation", "taker", "backstop" or
    "soft_liquidation"; a taker in `taker_mode`) can send each of its transactions: its costliest
    one (a liquidation of one vault by its costlier path, a size cut; a take in its mode, the
    flash take in "both")."""
    if keeper == "liquidation":
        return LIQUIDATION_TX_GAS + max(LIQUIDATION_GAS, SIZE_CUT_GAS)
    if keeper == "taker":
        return max(RESET_GAS, TAKE_GAS if taker_mode == "capital" else FLASH_TAKE_GAS)
    if keeper == "soft_liquidation":
        return SOFT_LIQUIDATION_GAS
    return max(BACKSTOP_GAS.values())


# ---------------------------------------------------------------- the budget


def within_budget(
    actions: list[Action], budget: int, sender: str
) -> tuple[list[Action], list[Action]]:
    """(what is sent this bar, what `sender` defers) of `actions`, with at most `budget` gas of
    `sender`'s (0: no budget, everything goes). Others' actions pass untouched, and what is sent
    keeps the strategy's order. `sender`'s are ranked by value per gas, a liquidation vault by
    vault (ties in the strategy's order), and taken in that order, each that still fits. The
    vaults of one collateral type that fit go out in batches (gas_costs.batches) in their
    first batch's place (each batch costing its own part once), those that do not are deferred
    in batches too."""
    if budget == 0:
        return actions, []
    # (value, gas, position in `actions`, vault in the batch or -1 for the whole action)
    units: list[tuple[int, int, int, int]] = []
    bounds: dict[int, tuple[int, ...]] = {}  # a liquidation's position -> its vaults' bounds
    for i, a in enumerate(actions):
        if a.sender != sender:
            continue
        if a.function == "liquidate_many":
            values = a.values or (0,) * len(a.targets)
            gases = a.target_gas or (LIQUIDATION_GAS,) * len(a.targets)
            units += [(v, g, i, k) for k, (v, g) in enumerate(zip(values, gases))]
            bounds[i] = _bounds(a)
        else:
            units.append((sum(a.values), action_gas(a), i, -1))
    units.sort(key=lambda u: (-Fraction(u[0], u[1]), u[2], u[3]))
    used, later = 0, set()
    # collateral type -> the vault bounds of its batch being filled (in the order sent here)
    filling: dict[bytes, list[int]] = {}
    for _, own, i, k in units:
        gas = own
        if k >= 0:
            type_id = actions[i].args[0]
            bound = bounds[i][k]
            batch = filling.get(type_id, [])
            opens = not batch or len(batch) == MAX_BATCH or batch_limit([*batch, bound]) > TX_GAS
            if opens:  # the first vault of a batch pays the batch's own part
                gas += LIQUIDATION_TX_GAS
        if used + gas > budget:
            later.add((i, k))
            continue
        used += gas
        if k >= 0:
            filling[type_id] = [bound] if opens else [*batch, bound]
    if not later:
        return actions, []
    sent: list[Action] = []
    deferred: list[Action] = []
    batched: set[bytes] = set()
    for i, a in enumerate(actions):
        if a.sender != sender:
            sent.append(a)
        elif a.function != "liquidate_many":
            (deferred if (i, -1) in later else sent).append(a)
        elif a.args[0] not in batched:
            # every batch of this collateral type, vault by vault, sent or deferred
            type_id = a.args[0]
            batched.add(type_id)
            now: list[tuple[str, int, int, int]] = []
            wait: list[tuple[str, int, int, int]] = []
            for j, b in enumerate(actions):
                if b.sender == sender and b.function == "liquidate_many" and b.args[0] == type_id:
                    values = b.values or (0,) * len(b.targets)
                    gases = b.target_gas or (LIQUIDATION_GAS,) * len(b.targets)
                    for k, vault in enumerate(zip(b.args[1], values, gases, bounds[j])):
                        (wait if (j, k) in later else now).append(vault)
            sent += _batches(a, now)
            deferred += _batches(a, wait)
    return sent, deferred


def _bounds(batch: Action) -> tuple[int, ...]:
    """The most gas each vault of a liquidation `batch` can add, as its keeper sized it
    (`Action.target_gas_bound`; else its figures, else LIQUIDATION_GAS each)."""
    return batch.target_gas_bound or batch.target_gas or (LIQUIDATION_GAS,) * len(batch.targets)


def _batches(like: Action, vaults: list[tuple[str, int, int, int]]) -> list[Action]:
    """`vaults` (owner, value, gas, bound) liquidated as the batch `like` is (its type, keeper,
    liquidator and bid), in batches sized by their bounds (gas_costs.batches)."""
    type_id, _, keeper = like.args
    return liquidation_batches(
        type_id,
        [owner for owner, _, _, _ in vaults],
        [value for _, value, _, _ in vaults],
        keeper,
        like.contract,
        like.gas_price,
        [gas for _, _, gas, _ in vaults],
        bounds=[bound for _, _, _, bound in vaults],
    )
