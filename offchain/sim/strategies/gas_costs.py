"""What each keeper transaction costs in gas, and how a liquidation batch is sized: the one home
of these figures off chain. The strategies (keepers.py, taker.py, backstop_keeper.py,
soft_liquidator.py), the gas budget (gas_budget.py), the lab's sending (run/sending.py) and the
live bots (through the actions' `gas_limit`) all read them here.

Every figure is a benchmark figure (bench/gas-snapshot.json, `ape run gas`: the gas a node
counts for one transaction, with the 21,000 base), rounded up to the next 10,000 unless a wider
margin is stated; tests/sim/test_gas_costs.py holds each one to its snapshot figure, so a
contract change that raises a figure past its margin fails there until the figure here follows.
What a transaction really costs depends on the state it meets (which layers a cover charges, how
many charges a realize settles, whether a batch's auctions reuse slots); docs/simulation.md
compares the figures with a crash's receipts.

A liquidation batch (issue 63) is charged by the paths its vaults take in the Liquidator
(`vault_gas`): a vault unsafe at the base ratio is seized in proportion (LIQUIDATION_GAS); one
safe at the base ratio but unsafe at its size runs the size cut's bisection first (SIZE_CUT_GAS,
its bound). It is sized by the costliest path each vault can take in the batch's block
(`vault_gas_bound`, issue 72): a vault's path is decided by the state the batch meets, not the one
the keeper read, and between the two its owner may add collateral (a vault unsafe at the base
ratio topped up to safe at it but unsafe at its size takes the cut's path), anyone may accrue
fees or poke the safe price. So every vault of a type with a size margin is sized as a size cut,
whatever path it would take now; a type without one has a single path. A batch's gas limit
(`batch_limit`) is its own part, its vaults' bounds and the Liquidator's gas guard's reserve for
the costliest path among them (model/liquidator.py: the guard starts a vault only while the gas
left covers that reserve): with every vault at or under its bound, whatever happened before the
block, the guard never fires and the batch never runs out of gas, so no vault can push the vaults
after it out of their batch. `batches` splits the vaults, in order, into transactions whose limits
stay within a transaction's (TX_GAS).
"""

from __future__ import annotations

from offchain.backends.base import TX_GAS
from offchain.model.liquidator import CUT_RESERVE, LIQUIDATION_RESERVE
from offchain.sim.strategies.actions import Action

# ---------------------------------------------------------------- a liquidation batch [gas]

# Liquidator.liquidate_many: the batch's own part, gas.liquidate 257,332 less the part a vault
# adds, gas.liquidate_many_per_vault 132,276 (one batch of 50 over 50), so that a batch of one
# costs what a liquidation of one does
LIQUIDATION_TX_GAS = 130_000
# a vault seized in proportion (unsafe at the base ratio): gas.liquidate_many_per_vault 132,276
LIQUIDATION_GAS = 140_000
# a vault cut by its size (safe at the base ratio, unsafe at its size): the bisection at its
# widest, gas.liquidate_many_per_widest_cut 342,664 (a bracket of 2**103: 104 halvings, and a
# fifth of its batch's own part, which LIQUIDATION_TX_GAS charges again), plus the halvings a
# size cut can take beyond it (its bracket is below 2**107 while the rate is at least 1 ray) at
# HALVING_GAS each (about 1,800 measured: the two figures below differ by 70,814 over 31
# halvings, less the batch's part), rounded up. Issue 63's honest cuts of 60,000 (73 halvings)
# cost gas.liquidate_many_per_size_cut 271,850: the bound, not the common case, sizes a batch.
HALVINGS_BEYOND_WIDEST = 3
HALVING_GAS = 2_000
SIZE_CUT_GAS = 350_000
# the Liquidator's gas guard's reserve for each path's figure (model/liquidator.py)
RESERVE_OF = {LIQUIDATION_GAS: LIQUIDATION_RESERVE, SIZE_CUT_GAS: CUT_RESERVE}
# vaults a batch holds at most (the contract takes 100): with 40 plain vaults a batch is sized
# to 130,000 + 40 x 140,000 + 400,000 = 6,130,000 gas, within TX_GAS
MAX_BATCH = 40

# ---------------------------------------------------------------- other transactions [gas]

RESET_GAS = 110_000  # DutchAuction.reset: gas.reset_auction, 102,907
# the taker's, with which it prices a take's profit (a wider margin; never a gas limit: a take is
# sent with its estimate's): FlashTaker.take (through the pool), gas.flash_take 249,641;
# DutchAuction.take with own capital, gas.take_whole 142,886 and gas.take_partial 118,165. A
# take that refunds the owner costs more, gas.take_whole_with_refund 190,521 the first time a
# deployment sees one (152,236 later): the capital taker prices it 30,521 gas short (docs/
# security.md, 63.1; left as it is: raising it moves the lab's recorded runs)
FLASH_TAKE_GAS = 280_000
TAKE_GAS = 160_000
# FlashTaker.take selling on the outside venue (an OutsideVenue, synced in the same block):
# gas.flash_take_venue 292,132, the venue's curve (two square roots) and its storage read cold
FLASH_TAKE_VENUE_GAS = 300_000
# MarginCall.soft_liquidate: gas.soft_liquidate, 130,435 for the least cure (the caller's first
# free collateral of the type and the check that it repays no more than the cure included); the
# soft liquidator prices its gas with it too (soft_liquidator.py)
SOFT_LIQUIDATION_GAS = 135_000
# the backstop keeper's, by function: gas.accrue_fees 107,370; gas.cover_by_stability_pool
# 128,294; gas.heal 52,521; gas.settle_bad_debt 58,673; gas.debt_auction_start 167,969 (the
# surplus room read first, issue 63); gas.debt_auction_repay 71,630; gas.realize_one_charge
# 63,243; gas.surplus_auction_start 144,017. Three the benchmark does not send, as Anvil counts
# them in the contract tests that do: a dust close 157,569 (tests/security/test_findings.py,
# finding 10), a debt auction's finish 78,618 and restart 37,221 (tests/contracts/debt_auction/)
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
# Backstop.deleverage: its own part and each listed vault's (DELEVERAGE_TX_GAS +
# DELEVERAGE_GAS x vaults; gas.deleverage_4_vaults 260,711: the oracle's prices once, then about
# 55k a vault)
DELEVERAGE_TX_GAS = 40_000
DELEVERAGE_GAS = 60_000


# ---------------------------------------------------------------- the limit of an estimate

# The gas limit of a transaction that is not sized by its strategy: its estimate (a live bot's,
# the node's; the lab's, the action's figure above) x 2 + 50,000, at most GAS_LIMIT_CAP. The
# estimate holds for the state it was made on ("latest"), not for the state the transaction is
# mined on: a crash's round sends several covers, each estimated before the ones ahead of it are
# mined, and a cover the fund paid at estimate time may reach the stability pool's absorb (an
# external call, its cold accounts and slots) once the covers ahead have emptied the fund. Such
# a cover used 106,040 of a limit of 106,040 (its estimate x 1.25 + 21,000, so an estimate of
# 68,032: the mined state needed more than 1.56 x the estimate) and failed. Unused gas is not
# paid for (only the gas used is), so a wide margin costs nothing but the balance the funds check
# asks for; x 2 covers the 1.56 seen with room, + 50,000 a short call's cold accesses (a cold
# account 2,600, a cold slot 2,100, a slot written from zero 20,000, twice over). A liquidation
# batch is never sized by an estimate: with the Liquidator's gas guard a node finds it
# "succeeds" on the gas that skips every vault.
GAS_MARGIN_PPM = 2_000_000
GAS_MARGIN_FLAT = 50_000
GAS_LIMIT_CAP = TX_GAS
PPM = 10**6


def estimate_limit(estimate: int) -> int:
    """The gas limit to send with for an `estimate` [gas] (above)."""
    return min(estimate * GAS_MARGIN_PPM // PPM + GAS_MARGIN_FLAT, GAS_LIMIT_CAP)


# Floors under that limit, for the two functions whose cost a state moved on between the
# estimate and the block can raise beyond twice the estimate (issue 63's review of every
# keeper's gas limits, tests/contracts/stories/test_keeper_gas_limits.py, on a node):
# - a realize settles up to its `max_charges` (the backstop keeper sends 10): each charge past
#   the first costs about 29,658 more, and the keeper's own covers mined ahead of it in the same
#   round make charges its estimate did not see (one charge: 63,293, a limit of 176,586; ten:
#   about 330,215);
# - a cover estimated while the insurance fund pays it (58,292: a limit of 166,584) may be mined
#   after covers ahead emptied the fund: the pool pays (146,176) or fund, pool and debt auction
#   share it (162,138, the dearest measured): within the limit by 4,446 only.
REALIZE_CHARGE_GAS = 35_000
COVER_LIMIT = 210_000


def floor_limit(action: Action) -> int:
    """The least gas limit `action` is sent with whatever the estimate (above); 0: none."""
    if action.function == "realize":
        return BACKSTOP_GAS["realize"] + REALIZE_CHARGE_GAS * (max(action.args[1], 1) - 1)
    if action.function == "cover":
        return COVER_LIMIT
    return 0


# ---------------------------------------------------------------- sizing a liquidation batch


def cut_by_size(
    collateral: int, normalized_debt: int, rate: int, safe_price: int, size: int
) -> bool:
    """Whether the Liquidator takes the size cut's path for this vault (Liquidator.vy's
    `_liquidate`): a size margin is set and the vault is safe at the base ratio (collateral x
    safe price >= normalized debt x rate), so it asks for the bisection before it seizes."""
    return size != 0 and collateral * safe_price >= normalized_debt * rate


def vault_gas(collateral: int, normalized_debt: int, rate: int, safe_price: int, size: int) -> int:
    """The gas a vault adds to a liquidation batch [gas], by the path it takes in this state."""
    if cut_by_size(collateral, normalized_debt, rate, safe_price, size):
        return SIZE_CUT_GAS
    return LIQUIDATION_GAS


def vault_gas_bound(size: int) -> int:
    """The most gas a vault of a type with size margin word `size` can add to a liquidation
    batch [gas], whatever happens between the keeper's read and the batch's block (issue 72): with
    a size margin, a size cut's (a vault unsafe at the base ratio that its owner tops up, or that a
    poke of a higher safe price leaves safe at it, takes the cut's path if still unsafe at its
    size; one at or under the threshold crosses it when an accrual or a redistribution raises the
    rate); without one, a liquidation in proportion's (governance turning a size margin on is the
    one change this does not cover). Each path's figure is at most SIZE_CUT_GAS, so a vault
    never costs its batch more than this."""
    return SIZE_CUT_GAS if size else LIQUIDATION_GAS


def guard_reserve(vault_gases: tuple[int, ...] | list[int]) -> int:
    """The Liquidator's gas guard's reserve for the costliest path among a batch's vaults
    (`vault_gas`'s or `vault_gas_bound`'s figures): what must be left when the last of them
    starts."""
    return max((RESERVE_OF[g] for g in vault_gases), default=0)


def batch_limit(vault_gases: tuple[int, ...] | list[int]) -> int:
    """The gas limit a batch of vaults with these figures (the keeper sizes with their bounds,
    `vault_gas_bound`) is sent with [gas]: its own part, its vaults', and the guard's reserve
    (see the module docstring)."""
    return LIQUIDATION_TX_GAS + sum(vault_gases) + guard_reserve(vault_gases)


def least_block_gas() -> int:
    """The least block gas limit [gas] that holds each keeper transaction alone: the largest
    limit one is sent with (a liquidation of one vault cut by its size, 1,080,000; a flash take,
    the backstop keeper's chores and the rest are below it). A smaller block would refuse every
    liquidation (run/sending.py) for the whole run. A deleverage of many vaults is not counted:
    its keeper lists fewer vaults a call (gas_budget.py's rule too)."""
    others = (
        FLASH_TAKE_GAS,
        FLASH_TAKE_VENUE_GAS,
        TAKE_GAS,
        RESET_GAS,
        SOFT_LIQUIDATION_GAS,
        *BACKSTOP_GAS.values(),
    )
    return max(batch_limit([SIZE_CUT_GAS]), COVER_LIMIT, *map(estimate_limit, others))


def batches(
    vault_gases: list[int], limit: int = TX_GAS, most: int = MAX_BATCH
) -> list[tuple[int, int]]:
    """The vaults (their figures, in order) split into batches, as (start, end) index ranges:
    each batch in order takes vaults while its `batch_limit` stays within `limit` and it holds
    at most `most`. A vault that does not fit even alone is a batch of its own (its limit above
    `limit`: the lab refuses it, run/sending.py)."""
    out: list[tuple[int, int]] = []
    start = 0
    while start < len(vault_gases):
        end = start + 1
        while (
            end < len(vault_gases)
            and end - start < most
            and batch_limit(vault_gases[start : end + 1]) <= limit
        ):
            end += 1
        out.append((start, end))
        start = end
    return out


# ---------------------------------------------------------------- an action's gas


def action_gas(action: Action) -> int:
    """What `action` will cost [gas] as the keeper planned it: a liquidation batch its own part
    and its vaults' figures (`Action.target_gas`, by path; a batch planned without them, each
    at LIQUIDATION_GAS), a take, a reset, a soft liquidation, a deleverage, or one of the
    backstop keeper's (another function is a KeyError)."""
    f = action.function
    if f == "liquidate_many":
        per_vault = action.target_gas or (LIQUIDATION_GAS,) * len(action.targets)
        return LIQUIDATION_TX_GAS + sum(per_vault)
    if f == "take":
        # DutchAuction.take(id, size, price, recipient, data) with own capital, or
        # FlashTaker.take(id, size, price, min_profit[, on_venue]) (taker.taker_actions builds
        # all three)
        if isinstance(action.args[-1], bytes):
            return TAKE_GAS
        return FLASH_TAKE_VENUE_GAS if len(action.args) == 5 and action.args[4] else FLASH_TAKE_GAS
    if f == "reset":
        return RESET_GAS
    if f == "soft_liquidate":
        return SOFT_LIQUIDATION_GAS
    if f == "deleverage":
        return DELEVERAGE_TX_GAS + DELEVERAGE_GAS * len(action.args[1])
    return BACKSTOP_GAS[f]


def action_limit(action: Action) -> int:
    """The gas limit `action` is sent with [gas]: the one its strategy sized (`gas_limit`), else
    its figure's as an estimate's (`estimate_limit`: a live bot's limit had the node estimated
    the figure, at least its `floor_limit`), else, without a figure, a transaction's
    (TX_GAS)."""
    if action.gas_limit:
        return action.gas_limit
    try:
        return max(estimate_limit(action_gas(action)), floor_limit(action))
    except KeyError:
        return TX_GAS


__all__ = [
    "BACKSTOP_GAS",
    "COVER_LIMIT",
    "DELEVERAGE_GAS",
    "DELEVERAGE_TX_GAS",
    "FLASH_TAKE_GAS",
    "FLASH_TAKE_VENUE_GAS",
    "GAS_LIMIT_CAP",
    "GAS_MARGIN_FLAT",
    "GAS_MARGIN_PPM",
    "HALVINGS_BEYOND_WIDEST",
    "HALVING_GAS",
    "LIQUIDATION_GAS",
    "LIQUIDATION_TX_GAS",
    "MAX_BATCH",
    "REALIZE_CHARGE_GAS",
    "RESERVE_OF",
    "RESET_GAS",
    "SIZE_CUT_GAS",
    "SOFT_LIQUIDATION_GAS",
    "TAKE_GAS",
    "action_gas",
    "action_limit",
    "batch_limit",
    "batches",
    "cut_by_size",
    "estimate_limit",
    "floor_limit",
    "guard_reserve",
    "least_block_gas",
    "vault_gas",
    "vault_gas_bound",
]
