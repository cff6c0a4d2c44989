"""The gas of each keeper transaction, and a keeper's gas budget per bar.

A keeper with a budget (scenario `[keepers]`: `liquidation_gas_budget`, `taker_gas_budget`,
`backstop_gas_budget`, `soft_liquidation_gas_budget`, gas a bar; 0 = none) sends, of what its
strategy wants in a bar over every collateral type, the most valuable per unit of gas first, each
that still fits, and lets the rest wait: nothing it defers is in flight, so the strategy plans it
again next bar if it still wants it (`within_budget`). What an action is worth is the strategy's
`Action.values`: a take's expected profit after gas, a liquidated vault's debt, a cover's loss due;
an action without a value (a reset, an accrual, a heal) comes after those with one, in the
strategy's order. A liquidation is ranked vault by vault, and the vaults that fit are sent in
batches again.


The gas of a transaction is an estimate the keeper plans with before it sends, fixed per
function: the benchmark's figure (`make bench`, bench/results.json, the gas a node counts for one
transaction with the 21k base) rounded up to the next 10,000; a take's are the taker's own,
with which it prices a take's profit (taker.py: `FLASH_TAKE_GAS`, from gas.flash_take;
`TAKE_GAS`, from gas.take_whole; both with a wider margin). What a
transaction really costs depends on the state it meets (which layers a cover charges, how many
charges a realize settles, whether a batch's auctions reuse slots), which nothing here follows;
docs/simulation.md compares the estimates with a crash's receipts.
"""

from __future__ import annotations

from fractions import Fraction

from offchain.sim.strategies.keepers import MAX_BATCH, Action, liquidation_batches
from offchain.sim.strategies.taker import FLASH_TAKE_GAS, TAKE_GAS

# ---------------------------------------------------------------- gas of one transaction [gas]

# Liquidator.liquidate_many: its own part, gas.liquidate 256,617 less the part a vault adds,
# gas.liquidate_many_per_vault 132,126 (one batch of 50 over 50), so that a batch of one costs
# what a liquidation of one does
LIQUIDATION_TX_GAS = 130_000
LIQUIDATION_GAS = 140_000  # each vault of a batch: gas.liquidate_many_per_vault, 132,126
RESET_GAS = 110_000  # DutchAuction.reset: gas.reset_auction, 102,930
# MarginCall.soft_liquidate: gas.soft_liquidate, 130,435 for the least cure (the caller's first
# free collateral of the type and the check that it repays no more than the cure included); the
# soft liquidator prices its gas with it too (soft_liquidator.py)
SOFT_LIQUIDATION_GAS = 135_000
# the backstop keeper's, by function: gas.accrue_fees 106,973; gas.cover_by_stability_pool
# 128,245; gas.heal 52,521; gas.settle_bad_debt 58,601; gas.debt_auction_start 167,946 (the
# surplus room read first, issue 63); gas.debt_auction_repay 71,648;
# gas.realize_one_charge 63,243; gas.surplus_auction_start 144,040. Three the benchmark does not
# send, as Anvil counts them in the contract tests that do: a dust close 157,569
# (tests/security/test_findings.py, finding 10), a debt auction's finish 78,618 and restart
# 37,221 (tests/contracts/debt_auction/)
BACKSTOP_GAS = {
    "accrue": 110_000,
    "cover": 130_000,
    "close_dust_auction": 160_000,
    "heal": 60_000,
    "settle": 60_000,
    "start_debt_auction": 170_000,
    "repay": 80_000,
    "finish": 80_000,
    "restart": 40_000,
    "realize": 70_000,
    "start_surplus_auction": 150_000,
}
# the functions each budgeted keeper sends (a debt auction's bids are the bidder's, which has no
# budget); what the scenario's budget must at least cover once (`smallest_budget`)
KEEPER_FUNCTIONS = {
    "liquidation": ("liquidate_many",),
    "taker": ("take", "reset"),
    "backstop": tuple(BACKSTOP_GAS),
    "soft_liquidation": ("soft_liquidate",),
}


# Backstop.deleverage: its own part and each listed vault's (DELEVERAGE_TX_GAS +
# DELEVERAGE_GAS x vaults; gas.deleverage_4_vaults 257,571: the oracle's prices once, then about
# 55k a vault); not a chore every budget must fit (smallest_budget): a budget below a deleverage
# of many vaults defers it
DELEVERAGE_TX_GAS = 40_000
DELEVERAGE_GAS = 60_000


def action_gas(action: Action) -> int:
    """The estimated gas of `action` [gas]: a liquidation batch, a take, a reset or one of the
    backstop keeper's (another function is a KeyError)."""
    f = action.function
    if f == "liquidate_many":
        return LIQUIDATION_TX_GAS + LIQUIDATION_GAS * len(action.targets)
    if f == "take":
        # FlashTaker.take(id, size, price, min_profit), or DutchAuction.take(id, size, price,
        # recipient, data) with own capital (taker.taker_actions builds both)
        return FLASH_TAKE_GAS if len(action.args) == 4 else TAKE_GAS
    if f == "reset":
        return RESET_GAS
    if f == "soft_liquidate":
        return SOFT_LIQUIDATION_GAS
    if f == "deleverage":
        return DELEVERAGE_TX_GAS + DELEVERAGE_GAS * len(action.args[1])
    return BACKSTOP_GAS[f]


def smallest_budget(keeper: str, taker_mode: str = "flash") -> int:
    """The least budget [gas a bar] with which `keeper` ("liquidation", "taker", "backstop" or
    "soft_liquidation"; a taker in `taker_mode`) can send each of its transactions: its costliest
    one (a liquidation of one vault; a take in its mode, the flash take in "both")."""
    if keeper == "liquidation":
        return LIQUIDATION_TX_GAS + LIQUIDATION_GAS
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
    vaults of one collateral type that fit go out in batches of MAX_BATCH in their first
    batch's place (each batch costing its own part once), those that do not are deferred in
    batches too."""
    if budget == 0:
        return actions, []
    # (value, gas, position in `actions`, vault in the batch or -1 for the whole action)
    units: list[tuple[int, int, int, int]] = []
    for i, a in enumerate(actions):
        if a.sender != sender:
            continue
        if a.function == "liquidate_many":
            values = a.values or (0,) * len(a.targets)
            units += [(v, LIQUIDATION_GAS, i, k) for k, v in enumerate(values)]
        else:
            units.append((sum(a.values), action_gas(a), i, -1))
    units.sort(key=lambda u: (-Fraction(u[0], u[1]), u[2], u[3]))
    used, later = 0, set()
    vaults_sent: dict[bytes, int] = {}  # collateral type -> its vaults sent
    for _, gas, i, k in units:
        if k >= 0:
            type_id = actions[i].args[0]
            n = vaults_sent.get(type_id, 0)
            if n % MAX_BATCH == 0:  # the first vault of a batch pays the batch's own part
                gas += LIQUIDATION_TX_GAS
        if used + gas > budget:
            later.add((i, k))
            continue
        used += gas
        if k >= 0:
            vaults_sent[type_id] = n + 1
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
            now: list[tuple[str, int]] = []
            wait: list[tuple[str, int]] = []
            for j, b in enumerate(actions):
                if b.sender == sender and b.function == "liquidate_many" and b.args[0] == type_id:
                    values = b.values or (0,) * len(b.targets)
                    for k, (owner, value) in enumerate(zip(b.args[1], values)):
                        (wait if (j, k) in later else now).append((owner, value))
            sent += _batches(a, now)
            deferred += _batches(a, wait)
    return sent, deferred


def _batches(like: Action, vaults: list[tuple[str, int]]) -> list[Action]:
    """`vaults` (owner, value) liquidated as the batch `like` is (its type, keeper, liquidator
    and bid), in batches of MAX_BATCH."""
    type_id, _, keeper = like.args
    return liquidation_batches(
        type_id,
        [owner for owner, _ in vaults],
        [value for _, value in vaults],
        keeper,
        like.contract,
        like.gas_price,
    )
