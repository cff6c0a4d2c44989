"""A scenario's debt ceilings (load.py): what is sized to the book follows a population
raised by --vaults, and the check that every vault starts safe and that everything the vaults and
the actors draw fits the type's and the global debt ceilings.

The rule (docs/simulation.md, "Scale"): where --vaults raises a population above the scenario's
own count, what governance and keepers size to the book grows with it, by the population's ratio
(a type's own for its ceilings and auction cap; all types' for the global ones and the keepers,
who act on every type), rounded up: the debt ceilings and automatic-ceiling maxima, the auction
caps (each type's and the debt in auction over all), the keepers' capital (the capital taker's,
the debt-auction bidder's, the soft liquidator's) and their gas budgets a bar. The market's depth
(the pools, the external market's impact depth, the arbitrageur's capital) does not follow by
default: a bigger protocol sells into the same market, and that cascade is the scale risk the lab
shows; `market.depth_with_vaults = "scaled"` scales it too, for comparison. A smaller population
keeps the scenario's values. A limit that still binds (a cap the scaled book reaches, the
market's depth) is named by the run (results/limits.py). The auction contract's running slots
(`auction_slots.MAX_ACTIVE`, 2**24) bound no population the lab can build.
"""

from __future__ import annotations

import math
from dataclasses import replace

from offchain.model import size_margin as sizing
from offchain.model.fixed_point import RAY, WAD_TO_RAY
from offchain.sim.market.liquidity import add_inventory
from offchain.sim.scenario.population import population_plans, type_seed
from offchain.sim.scenario.reader import ScenarioError, Source, format_ratio, format_wad
from offchain.sim.scenario.types import (
    BackstopSpec,
    KeeperSpec,
    MarketSpec,
    PopulationSpec,
    TypeSpec,
)
from offchain.system.config import CollateralConfig, SystemConfig, deleverage_buffer_problem


def split_population(
    vaults: int, file_counts: list[int], fixed: list[bool] | None = None
) -> list[int]:
    """`--vaults` over the scenario's collateral types (its populations' `file_counts`, the
    first type's first): a type whose count is `fixed` (a sweep's grid sets it) keeps it; of the
    others, each but the first gets its share of `vaults`, rounded down, and the first of them
    the rest, so their counts add up to `vaults` in the scenario's proportions. One type:
    `vaults` itself."""
    fixed = fixed or [False] * len(file_counts)
    free = [k for k, f in enumerate(fixed) if not f]
    if not free:
        raise ScenarioError(
            "--vaults: the grid sets every collateral type's count; drop --vaults or a count key"
        )
    if vaults < len(free):
        raise ScenarioError(
            f"--vaults: {vaults} is fewer than one vault per collateral type "
            f"({len(free)} types in this scenario take their count from it)"
        )
    total = sum(file_counts[k] for k in free)
    counts = list(file_counts)
    for k in free[1:]:
        counts[k] = max(1, vaults * file_counts[k] // total)
    counts[free[0]] = vaults - sum(counts[k] for k in free[1:])
    return counts


def scaled_up(x: int, count: int, file_count: int) -> int:
    """`x` times `count` / `file_count`, rounded up, where the population grew (count >
    file_count); else `x`."""
    return -(-x * count // file_count) if count > file_count else x


# the [keepers] keys sized to the book (KeeperSpec's fields of the same names)
SIZED_KEEPER_KEYS = (
    "taker_capital",
    "debt_auction_capital",
    "soft_liquidation_capital",
    "liquidation_gas_budget",
    "taker_gas_budget",
    "backstop_gas_budget",
    "soft_liquidation_gas_budget",
)


def sized_keepers(keepers: KeeperSpec, total: int, file_total: int) -> KeeperSpec:
    """The keepers' capital and gas budgets a bar, sized to a population of `total` vaults where
    the scenario had `file_total` (scaled_up; a budget of 0, none, stays 0)."""
    return replace(
        keepers,
        **{
            name: scaled_up(getattr(keepers, name), total, file_total) for name in SIZED_KEEPER_KEYS
        },
    )


def deepened_market(
    market: MarketSpec,
    keepers: KeeperSpec,
    types: tuple[TypeSpec, ...],
    counts: list[int],
    file_counts: list[int],
) -> tuple[MarketSpec, KeeperSpec, tuple[TypeSpec, ...]]:
    """`market.depth_with_vaults = "scaled"`: each type's pool and external impact depth times its
    population's growth, the arbitrageur's capital times the total's (scaled_up). A reserves file
    sets the pool's depth per bar as a ratio to its first row (market/liquidity.py), so scaling the
    starting depth scales every bar."""
    total, file_total = sum(counts), sum(file_counts)
    market = replace(
        market,
        pool_depth=scaled_up(market.pool_depth, counts[0], file_counts[0]),
        impact_depth=scaled_up(market.impact_depth, counts[0], file_counts[0]),
    )
    keepers = replace(
        keepers, arbitrageur_capital=scaled_up(keepers.arbitrageur_capital, total, file_total)
    )
    types = tuple(
        replace(
            t,
            pool_depth=scaled_up(t.pool_depth, n, f),
            impact_depth=scaled_up(t.impact_depth, n, f),
        )
        for t, n, f in zip(types, counts[1:], file_counts[1:], strict=True)
    )
    return market, keepers, types


def scaled_ceilings(
    system: SystemConfig, counts: list[int], file_counts: list[int]
) -> tuple[SystemConfig, tuple[int, int] | None]:
    """Each type's debt ceiling, automatic-ceiling maximum and auction cap times its
    population's `counts[k]` / `file_counts[k]`, and the global ceiling and the debt in auction
    over all types times their totals' ratio (scaled_up), where the population grew: a
    population larger than the scenario's, chosen with --vaults, meets ceilings and caps as far
    from binding as the scenario's own did. A smaller population keeps the scenario's. With the
    scale (the totals: vaults, the scenario's own count), None where nothing grew."""
    up = scaled_up
    colls = tuple(
        replace(
            c,
            debt_ceiling=up(c.debt_ceiling, n, f),
            ceiling_max=up(c.ceiling_max, n, f),
            auction_cap=up(c.auction_cap, n, f),
        )
        for c, n, f in zip(system.collateral, counts, file_counts, strict=True)
    )
    total, file_total = sum(counts), sum(file_counts)
    if all(n <= f for n, f in zip(counts, file_counts, strict=True)) and total <= file_total:
        return system, None
    scaled = replace(
        system,
        global_debt_ceiling=up(system.global_debt_ceiling, total, file_total),
        max_debt_in_auction=up(system.max_debt_in_auction, total, file_total),
        collateral=colls,
    )
    return scaled, (total, file_total)


def actor_draws(
    market: MarketSpec, keepers: KeeperSpec, backstop: BackstopSpec, opt_ins: bool = False
) -> int:
    """Stablecoin [wad] the actors draw from the type besides the vaults: half the arbitrageur's
    capital, the capital taker's, the debt-auction bidder's, the insurance fund, the stakes, and
    the pool seed (deployment.seed_pool draws `pool_depth`, rounded up by at most a wei); with
    `opt_ins` (some vaults opt in to soft liquidation) the soft liquidator's capital too."""
    return (
        keepers.arbitrageur_capital // 2
        + keepers.taker_capital
        + keepers.debt_auction_capital
        + backstop.insurance_fund
        + backstop.pool_stakers * backstop.pool_stake
        + market.pool_depth
        + (add_inventory(market.pool_depth, market.reserves) if market.reserves else 0)
        + (keepers.soft_liquidation_capital if opt_ins else 0)
    )


def has_opt_ins(vaults: PopulationSpec, types: tuple[TypeSpec, ...] = ()) -> bool:
    """Whether any vault of the scenario opts in to soft liquidation (then the soft liquidator
    is funded and runs)."""
    specs = [vaults, *(t.vaults for t in types)]
    return any(math.floor(s.count * s.opt_in_share) > 0 for s in specs)


def check_population(
    source: Source,
    spec: PopulationSpec,
    seed: int,
    coll: CollateralConfig,
    system: SystemConfig,
    market: MarketSpec,
    keepers: KeeperSpec,
    backstop: BackstopSpec,
    cli_count: bool,
    types: tuple[TypeSpec, ...] = (),
) -> None:
    """Every vault safe at the first price, and everything drawn within the debt ceilings: the
    first type's population and the actors' draws within its ceiling; each further type's
    population and its pool's seed within its own; all of it within the global ceiling. A
    book's vaults are checked as a drawn population's (book.py names an unsafe row first), and
    a book over a ceiling is refused: the ceilings are the scenario's, not sized to the book."""
    problem = deleverage_buffer_problem(system)
    if problem:
        raise ScenarioError(f"{source.name}: protocol: {problem}")
    where = f"{source.name}: vaults"
    population = _safe_population(where, spec, seed, coll)
    draws = actor_draws(market, keepers, backstop, has_opt_ins(spec, types))
    total = population + draws
    others = 0
    for k, t in enumerate(types):
        t_coll = system.collateral[k + 1]
        t_where = f"{source.name}: types.{t.name}"
        t_total = _safe_population(t_where, t.vaults, type_seed(seed, k), t_coll) + t.pool_depth
        if t_total * RAY > t_coll.debt_ceiling:
            raise ScenarioError(
                f"{t_where}: its population's debt plus its pool's seed "
                f"{format_wad(t.pool_depth)} = "
                f"{format_wad(t_total)} stablecoin exceeds {t.name}'s debt ceiling "
                f"{format_wad(t_coll.debt_ceiling // RAY)}; lower count, debt_median or pool_depth"
            )
        others += t_total
    fix = (
        f"lower {'--vaults' if cli_count else 'vaults.count'}, vaults.debt_median or the keepers' "
        "and "
        f"backstop's capital"
    )
    if market.reserves is not None:  # the draws hold the pool's seed, the reserves x its scale
        fix += (
            f", the pool's seed {format_wad(market.pool_depth)} (a smaller market.reserves_scale, "
            "--reserves-scale)"
        )
    elif market.pool_share_of_venue is not None:  # a share of the venue's volume a day
        fix += (
            f", the pool's seed {format_wad(market.pool_depth)} (a smaller "
            "market.pool_share_of_venue, or a market.pool_depth)"
        )
    whose = "the population's debt"
    if spec.book is not None:  # a book's debt is the user's: the ceilings are not sized to it
        fix = "lower the book's debt or the keepers' and backstop's capital"
        whose = f"the book's debt ({len(spec.book):,} vaults)"
    summary = (
        f"{whose} {format_wad(population)} plus the actors' draws "
        f"{format_wad(draws)} "
        f"= {format_wad(total)} stablecoin exceeds"
    )
    if total * RAY > coll.debt_ceiling:
        raise ScenarioError(
            f"{where}: {summary} {coll.name}'s debt ceiling "
            f"{format_wad(coll.debt_ceiling // RAY)}; "
            f"{fix}, or raise protocol.collateral_overrides.debt_ceiling"
        )
    if (total + others) * RAY > system.global_debt_ceiling:
        if others:
            summary = (
                f"the debt drawn on every type, {format_wad(total + others)} stablecoin, exceeds"
            )
        raise ScenarioError(
            f"{where}: {summary} the global debt ceiling "
            f"{format_wad(system.global_debt_ceiling // RAY)}; "
            f"{fix}, or use a protocol.config with a higher system.global_debt_ceiling"
        )


def _safe_population(where: str, spec: PopulationSpec, seed: int, coll: CollateralConfig) -> int:
    """The population's total debt [wad]; ScenarioError if a vault starts unsafe."""
    price = coll.initial_price
    size = coll.size_margin
    plans = population_plans(spec, seed, price, coll.token_decimals, coll.dust, size=size)
    # as Spotter.poke, at rate = RAY
    safe_price = price * WAD_TO_RAY * RAY // coll.liquidation_ratio
    packed = sizing.pack(*size) if size[0] else 0
    for i, plan in enumerate(plans):
        if sizing.margin_debt(plan.debt * RAY, packed) > plan.collateral * safe_price:
            raise ScenarioError(
                f"{where}.ratio_min: vault {i} starts unsafe once its collateral is rounded down "
                "to "
                f"whole token units; raise ratio_min further above {coll.name}'s liquidation ratio "
                f"{format_ratio(coll.liquidation_ratio, RAY)}"
            )
    return sum(p.debt for p in plans)
