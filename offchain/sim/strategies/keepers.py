"""Keeper strategies: pure functions from observed state to intended actions.

The simulation driver (offchain/sim/run/driver.py) observes the chain or the model, asks these
functions what each actor wants to do, passes each action through the latency model and sends
what lands. Nothing here reads a backend or keeps hidden state: the only state is what is passed
in (the vault index, built from events; the set of actions still in flight, so that no keeper
acts twice on the same thing). All arithmetic is integer, so the chain run and the model run
decide the same things from the same state.

- `VaultIndex`: every vault's collateral and normalized debt, from `VaultModified` and
  `VaultSeized` events, ordered by normalized debt per collateral (a vault's liquidation price
  is that times rate x liquidation ratio, so the order does not change as fees accrue). Unsafe
  vaults are found by bisection, not by scanning every vault.
- `liquidation_actions`: liquidate the unsafe vaults the Liquidator would not refuse, those
  unsafe at the base ratio first, in batches sized by the costliest path each vault can take in
  the batch's block (gas_costs.py: at most `MAX_BATCH` vaults and a transaction's gas limit).
- `taker_actions`: reset stale auctions; take when the profit after gas and pool slippage clears
  a threshold (flash take through the pool, or with own capital at the market price).
- `backstop_actions`: accrue fees (and heal the unsettled proceeds with them), cover queued
  losses, settle, start debt and surplus auctions, bid in and finish debt auctions, realize
  stakers' charges; `deleverage_actions`: charge a loss the deleveraging layer parked to the
  type's strongest vaults by the level rule, 50 a call (`deleverage_calls`,
  `deleverage_charges`).
- `oracle_actions`: post the market price, poke the oracle and the spotter when allowed.
- `arbitrage_action`: move the collateral pool towards the market price with finite inventory.
- `Latency`: a keeper's gas bid against the bar's gas percentiles -> lands now, next bar, or not.

`Action` and `Latency` live in actions.py, the taker's strategy in taker.py, the backstop
keeper's in backstop_keeper.py; this module holds the rest and is the face of them all: every name
callers import from it is here.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable

from offchain.backends.base import TX_GAS
from offchain.model import size_margin as sizing
from offchain.model.deleverage import lowest_safe_price
from offchain.model.fixed_point import RAY, WAD
from offchain.model.liquidator import refuses_size_cut
from offchain.model.state import Event
from offchain.sim.strategies.actions import Action, Latency
from offchain.sim.strategies.backstop_keeper import (
    MAX_DELEVERAGE_BATCHES,
    MIN_DELEVERAGE_CHARGE,
    BackstopParams,
    BackstopView,
    DebtAuctionView,
    DeleverageCall,
    DeleverageView,
    backstop_actions,
    deleverage_action,
    deleverage_actions,
    deleverage_calls,
    deleverage_charges,
    deleverage_ranked,
    deleverage_shares,
    share_left,
    vault_headroom,
)
from offchain.sim.strategies.gas_costs import (
    FLASH_TAKE_GAS,
    LIQUIDATION_GAS,
    MAX_BATCH,
    TAKE_GAS,
    batch_limit,
    batches,
    cut_by_size,
    vault_gas,
    vault_gas_bound,
)
from offchain.sim.strategies.taker import (
    AuctionView,
    PoolView,
    TakerParams,
    capital_spent,
    pool_out,
    price_ceiling,
    take_outcome,
    taker_actions,
)

__all__ = [
    "FLASH_TAKE_GAS",
    "KEY_SCALE",
    "MAX_BATCH",
    "MAX_DELEVERAGE_BATCHES",
    "MIN_DELEVERAGE_CHARGE",
    "TAKE_GAS",
    "Action",
    "AuctionView",
    "BackstopParams",
    "BackstopView",
    "DebtAuctionView",
    "DeleverageCall",
    "DeleverageView",
    "Latency",
    "PoolView",
    "TakerParams",
    "VaultIndex",
    "arbitrage_action",
    "backstop_actions",
    "capital_spent",
    "deleverage_action",
    "deleverage_actions",
    "deleverage_calls",
    "deleverage_charges",
    "deleverage_ranked",
    "deleverage_shares",
    "liquidation_actions",
    "liquidation_batches",
    "refused_vaults",
    "split_batch",
    "lowest_safe_price",
    "oracle_actions",
    "pool_out",
    "price_ceiling",
    "share_left",
    "take_outcome",
    "taker_actions",
    "vault_headroom",
]

KEY_SCALE = 10**45  # the index key: normalized debt per collateral, x 1e45, rounded down


# ---------------------------------------------------------------- the vault index


class VaultIndex:
    """Vaults of one collateral type, from the engine's events, ordered by normalized debt per
    collateral (highest first = closest to liquidation)."""

    def __init__(self, type_id: bytes):
        self.type_id = type_id
        self.vaults: dict[
            str, tuple[int, int]
        ] = {}  # owner -> (collateral [wad], normalized debt [wad])
        self.total_collateral = 0  # [wad] in every vault
        self._keys: list[tuple[int, str]] = []  # ascending (key, owner) of vaults with debt

    @staticmethod
    def _key(collateral: int, normalized_debt: int) -> int:
        if collateral == 0:
            return 2**256  # debt without collateral: first in line
        return normalized_debt * KEY_SCALE // collateral

    def _set(self, owner: str, collateral: int, normalized_debt: int) -> None:
        old = self.vaults.get(owner)
        if old is not None and old[1] != 0:
            entry = (self._key(*old), owner)
            del self._keys[bisect.bisect_left(self._keys, entry)]
        self.total_collateral += collateral - (old[0] if old is not None else 0)
        self.vaults[owner] = (collateral, normalized_debt)
        if normalized_debt != 0:
            bisect.insort(self._keys, (self._key(collateral, normalized_debt), owner))

    def apply(self, engine: str, events: Iterable[Event]) -> None:
        """Fold in the engine's vault events (anything else is ignored)."""
        for e in events:
            if e.address == engine and e.name in ("VaultModified", "VaultSeized"):
                self.apply_args(e.args)

    def apply_args(self, args: dict) -> None:
        """Fold in one VaultModified or VaultSeized event of the engine, by its args (the caller
        has checked the emitter and the name; other collateral types are ignored)."""
        if args["collateral_type"] != self.type_id:
            return
        owner = args["owner"]
        collateral, debt = self.vaults.get(owner, (0, 0))
        self._set(
            owner, collateral + args["delta_collateral"], debt + args["delta_normalized_debt"]
        )

    def unsafe(self, rate: int, safe_price: int, size: int = 0) -> list[str]:
        """Owners of unsafe vaults (collateral x safe price < normalized debt x rate weighted by
        the type's size margin `size`, the engine's packed word: offchain/model/size_margin.py),
        closest to liquidation first. Bisection finds the candidates (with a size margin, every
        vault whose ratio is within the cap of the base limit). A key above the base threshold
        floor(safe price x KEY_SCALE / rate) is unsafe without a check: key <= debt x KEY_SCALE /
        collateral, so debt / collateral > safe price / rate, and a size margin only adds to the
        debt (margin_debt(d, size) >= d). The others (a key at the threshold itself, or below it
        within the size cap) are checked exactly."""
        if rate == 0:
            return []
        base = safe_price * KEY_SCALE // rate
        threshold = base
        if size:
            cap = size & sizing.FIELD_MASK
            threshold = threshold * sizing.PPM // (sizing.PPM + cap)
        keys = self._keys
        start = bisect.bisect_left(keys, (threshold, ""))
        above = max(start, bisect.bisect_left(keys, (base + 1, "")))
        out = [owner for _, owner in reversed(keys[above:])]
        vaults = self.vaults
        if not size:  # margin_debt(debt, 0) is debt: the comparison written out
            for _, owner in reversed(keys[start:above]):
                collateral, debt = vaults[owner]
                if collateral * safe_price < debt * rate:
                    out.append(owner)
            return out
        for _, owner in reversed(keys[start:above]):
            collateral, debt = vaults[owner]
            if collateral * safe_price < sizing.margin_debt(debt * rate, size):
                out.append(owner)
        return out


# ---------------------------------------------------------------- strategies


def liquidation_actions(
    index: VaultIndex,
    rate: int,
    safe_price: int,
    in_flight: set[tuple],
    keeper: str,
    liquidator: str,
    gas_price: int,
    room: int | None = None,
    size: int = 0,
    tx_gas: int = TX_GAS,
    dust: int = 0,
    penalty: int = 0,
) -> list[Action]:
    """Liquidate every unsafe vault not already being liquidated, in batches. A safe price of 0
    means no valid price (the liquidator reverts every liquidation): nothing to do. `room` (the
    auctions the type's auction can still start, MAX_ACTIVE - running; None = no limit known)
    bounds how many vaults are proposed; `size` is the type's size margin (VaultIndex.unsafe),
    `dust` [rad] and `penalty` [wad] the type's. A vault the Liquidator refuses
    (model/liquidator.py's `refuses_size_cut`: under two dusts, safe at the base ratio and no
    size cut cures it; issue 72) is not listed: it would cost a size cut's gas every round and
    take a room's place for nothing (with a dust of 0, none is refused). The vaults unsafe at
    the base ratio come first (issue 63: whatever else is unsafe, they go in the first bar the
    keeper sees them, ahead of the size cuts), then those unsafe at their size alone, each group
    closest to liquidation first. Each vault is charged the gas of its path now (`target_gas`)
    and each batch is sized to `tx_gas` by the costliest path each of its vaults can take in the
    batch's block (gas_costs.vault_gas_bound): so that nothing done between this read and the
    block (an owner's top-up, an accrual, a poke) can make a vault push the ones after it out of
    their batch (issue 72). Each vault is valued at its debt (a keeper's reward is a share of
    it)."""
    if safe_price == 0:
        return []
    unsafe = [o for o in index.unsafe(rate, safe_price, size) if ("vault", o) not in in_flight]
    refused = refused_vaults(index, unsafe, rate, safe_price, size, dust, penalty)
    unsafe = [o for o in unsafe if o not in refused]
    cut = [cut_by_size(*index.vaults[o], rate, safe_price, size) for o in unsafe]
    owners = [o for o, c in zip(unsafe, cut) if not c] + [o for o, c in zip(unsafe, cut) if c]
    if room is not None:
        owners = owners[: max(room, 0)]
    debts = [index.vaults[o][1] * rate // RAY for o in owners]  # wad
    gases = [vault_gas(*index.vaults[o], rate, safe_price, size) for o in owners]
    bounds = [vault_gas_bound(size)] * len(owners)
    return liquidation_batches(
        index.type_id, owners, debts, keeper, liquidator, gas_price, gases, tx_gas, bounds
    )


def refused_vaults(
    index: VaultIndex,
    owners: Iterable[str],
    rate: int,
    safe_price: int,
    size: int,
    dust: int,
    penalty: int,
) -> set[str]:
    """Of `owners` (vaults of `index` unsafe at their size), those the Liquidator refuses: under
    two dusts, safe at the base ratio and cured by no size cut (model/liquidator.py's
    `refuses_size_cut`, the contract's rule). None without a size margin."""
    if size == 0:
        return set()
    out = set()
    for owner in owners:
        collateral, normalized_debt = index.vaults[owner]
        if refuses_size_cut(
            collateral=collateral,
            normalized_debt=normalized_debt,
            rate=rate,
            safe_price=safe_price,
            dust=dust,
            penalty=penalty,
            size=size,
        ):
            out.add(owner)
    return out


def liquidation_batches(
    type_id: bytes,
    owners: list[str],
    values: list[int],
    keeper: str,
    liquidator: str,
    gas_price: int,
    gases: list[int] | None = None,
    tx_gas: int = TX_GAS,
    bounds: list[int] | None = None,
) -> list[Action]:
    """`liquidate_many` of `owners` (each valued at `values`, adding `gases`, its path's figure:
    gas_costs.vault_gas, and at most `bounds`, gas_costs.vault_gas_bound; None: each a vault
    without a size cut, and its bound its figure), in order, in batches of at most MAX_BATCH
    whose gas limits (gas_costs.batch_limit of their bounds) stay within `tx_gas`."""
    if gases is None:
        gases = [LIQUIDATION_GAS] * len(owners)
    if bounds is None:
        bounds = gases
    actions = []
    for start, end in batches(bounds, tx_gas, MAX_BATCH):
        batch = tuple(owners[start:end])
        actions.append(
            Action(
                "liquidation_keeper",
                keeper,
                liquidator,
                "liquidate_many",
                (type_id, list(batch), keeper),
                tuple(("vault", o) for o in batch),
                gas_price,
                batch_limit(bounds[start:end]),
                tuple(values[start:end]),
                tuple(gases[start:end]),
                tuple(bounds[start:end]),
            )
        )
    return actions


def split_batch(action: Action) -> list[Action]:
    """A liquidation batch (of two vaults or more) as two, its first half and its second, each
    sized as the keeper sizes a batch: what a live bot sends instead when the node cannot
    estimate the whole (one vault's liquidation reverts, say: the others still go)."""
    type_id, owners, keeper = action.args
    half = len(owners) // 2
    values = list(action.values) or [0] * len(owners)
    gases = list(action.target_gas) or [LIQUIDATION_GAS] * len(owners)
    bounds = list(action.target_gas_bound) or gases
    out: list[Action] = []
    for lo, hi in ((0, half), (half, len(owners))):
        out += liquidation_batches(
            type_id,
            list(owners[lo:hi]),
            values[lo:hi],
            keeper,
            action.contract,
            action.gas_price,
            gases[lo:hi],
            bounds=bounds[lo:hi],
        )
    return out


def oracle_actions(
    feeder: str,
    oracle: str,
    spotter: str,
    type_id: bytes,
    market_price: int,
    now: int,
    last_poke: int,
    delay: int,
    reference: int = 0,
    max_change: int = 0,
) -> list[Action]:
    """Post the market price every bar; once a delay has passed, poke the oracle (the posted price
    becomes next, the next becomes current) and the spotter (the safe price follows). With the
    oracle's bound (`max_change` [wad] around `reference`, its queued price, or current if none),
    a move beyond it is posted as the largest move allowed: the rest follows after the poke."""
    price = market_price
    if max_change != 0 and reference != 0:
        if max_change < WAD:
            low = -(-reference * (WAD - max_change) // WAD)
            price = max(price, low)
        price = min(price, reference * (WAD + max_change) // WAD)
    actions = [Action("feeder", feeder, oracle, "post", (price,), (("post",),))]
    if now >= last_poke + delay:
        actions.append(Action("feeder", feeder, oracle, "poke", (), (("poke",),)))
        actions.append(Action("feeder", feeder, spotter, "poke", (type_id,), (("spot",),)))
    return actions


def arbitrage_action(
    pool: PoolView,
    market_price: int,
    threshold: int,
    collateral_tokens: int,
    stable: int,
    arbitrageur: str,
    pool_address: str,
) -> Action | None:
    """One swap that moves the pool's price (stablecoin per token) to the market price, as far as
    the arbitrageur's inventory (`collateral_tokens` [token units], `stable` [wad]) allows; none
    when the gap is within `threshold` [wad fraction]. Ignores the pool fee in the target (the
    price lands within the fee of the market)."""
    c, s = pool.reserve_collateral * pool.scale, pool.reserve_stable  # both wad
    if c == 0 or s == 0:
        return None
    pool_price = s * WAD // c
    if abs(pool_price - market_price) * WAD <= threshold * market_price:
        return None
    k = c * s
    if pool_price > market_price:  # sell collateral into the pool
        target_c = math.isqrt(k * WAD // market_price)
        amount = min((target_c - c) // pool.scale, collateral_tokens)
        if amount <= 0:
            return None
        return Action(
            "arbitrageur",
            arbitrageur,
            pool_address,
            "swap",
            (True, amount, 0, arbitrageur),
            (("arb",),),
        )
    target_s = math.isqrt(k * market_price // WAD)
    amount = min(target_s - s, stable)
    if amount <= 0:
        return None
    return Action(
        "arbitrageur",
        arbitrageur,
        pool_address,
        "swap",
        (False, amount, 0, arbitrageur),
        (("arb",),),
    )
