"""The scenario's `[vaults]`, `[keepers]` and `[backstop]` tables (load.py): the vault
population (drawn, or read from a book: book.py), the keepers and bidders and their capital, and
who stands behind the protocol at the start, each with its defaults.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from offchain.model.fixed_point import RAY
from offchain.sim.scenario.book import load_book
from offchain.sim.scenario.market_data import DataError
from offchain.sim.scenario.reader import (
    ScenarioError,
    Source,
    file_path,
    format_ratio,
    format_wad,
)
from offchain.sim.scenario.types import BackstopSpec, KeeperSpec, PopulationSpec
from offchain.sim.strategies.gas_budget import smallest_budget
from offchain.sim.strategies.gas_strategy import GAS_PERCENTILES, parse_priced_out
from offchain.system.config import CollateralConfig, Reader
from offchain.system.schema import BACKSTOP, KEEPERS, MAX_SEED, MAX_VAULTS, VAULTS

TAKER_MODES = KEEPERS["taker_mode"].choices

# the tables' defaults (schema.py), as a file writes them
DEFAULT_VAULTS: dict[str, Any] = VAULTS.defaults()
DEFAULT_KEEPERS: dict[str, Any] = KEEPERS.defaults()
DEFAULT_BACKSTOP: dict[str, Any] = BACKSTOP.defaults()


def argument_problems(vaults: Any = None, seed: Any = None) -> list[str]:
    """What is wrong with the --vaults and --seed a command passes to load_scenario, one line
    each (the loader refuses the first; a command names them all with its own options' before
    it loads: offchain/system/cli.py one_line_usage's `checks`)."""
    problems = []
    if vaults is not None and (
        isinstance(vaults, bool) or not isinstance(vaults, int) or not 1 <= vaults <= MAX_VAULTS
    ):
        problems.append(f"--vaults: must be an integer between 1 and {MAX_VAULTS}, got {vaults!r}")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED
    ):
        problems.append(f"--seed: must be an integer between 0 and {MAX_SEED}, got {seed!r}")
    return problems


# the keys of a drawn population, which a book replaces
DRAW_KEYS = ("count", "debt_median", "debt_sigma", "ratio_min", "ratio_mode", "ratio_max")


def read_population(
    r: Reader, coll: CollateralConfig, vaults: int | None, source: Source | None = None
) -> PopulationSpec:
    """The [vaults] keys of `r` (a [vaults] or a [types.<name>] table). `source`: the scenario
    file, where a book's path is resolved; None (a further type's table): no book allowed."""
    if "book" in r.table:
        return _read_book(r, coll, vaults, source)
    count = r.read("count")
    if vaults is not None:
        for problem in argument_problems(vaults=vaults):
            raise ScenarioError(problem)
        count = vaults
    debt_median = r.read("debt_median")
    if debt_median * RAY <= coll.dust:
        raise r.fail(
            "debt_median",
            f"{format_wad(debt_median)} must be above {coll.name}'s dust "
            f"{format_wad(coll.dust // RAY)}",
        )
    debt_sigma = r.read("debt_sigma")
    ratios = {key: r.read(key) for key in ("ratio_min", "ratio_mode", "ratio_max")}
    opt_in_share = _opt_in_share(r, coll)
    lo, mode, hi = (float(ratios[k]) for k in ("ratio_min", "ratio_mode", "ratio_max"))
    num, den = lo.as_integer_ratio()  # the float the population draws with, exactly
    if num * RAY <= coll.liquidation_ratio * den:
        raise r.fail(
            "ratio_min",
            f"{ratios['ratio_min']} must be above {coll.name}'s liquidation ratio "
            f"{format_ratio(coll.liquidation_ratio, RAY)}",
        )
    if lo > mode:
        raise r.fail(
            "ratio_min", f"{ratios['ratio_min']} must not exceed ratio_mode {ratios['ratio_mode']}"
        )
    if mode > hi:
        raise r.fail(
            "ratio_max",
            f"{ratios['ratio_max']} must not be below ratio_mode {ratios['ratio_mode']}",
        )
    r.finish()
    return PopulationSpec(
        count=count,
        debt_median=debt_median,
        debt_sigma=debt_sigma,
        ratio_min=lo,
        ratio_mode=mode,
        ratio_max=hi,
        opt_in_share=opt_in_share,
    )


def _opt_in_share(r: Reader, coll: CollateralConfig) -> Decimal:
    opt_in_share = r.read("opt_in_share")
    if opt_in_share and not coll.margin_call:
        # the report said "N vaults' owners opted in" and no soft liquidation could happen
        raise r.fail(
            "opt_in_share",
            f'is {opt_in_share}, but {coll.name}\'s margin call is off (margin_call = "off"): '
            "no owner can opt in to it (set opt_in_share 0, or margin_call on)",
        )
    return opt_in_share


def _read_book(
    r: Reader, coll: CollateralConfig, vaults: int | None, source: Source | None
) -> PopulationSpec:
    """A population read from its `book` (book.py) instead of drawn: its vaults as the file
    gives them, its count the file's rows. The draw's keys beside it, --vaults and a book of a
    further type are refused, one line each."""
    if source is None:
        raise r.fail(
            "book",
            "only the first type's [vaults] may name a book; a further type's population is "
            "drawn (count, debt_median, ...)",
        )
    drawn = [key for key in DRAW_KEYS if key in r.table]
    if drawn:
        raise r.fail(
            "book",
            f"a book gives the vaults, the draw's keys cannot: drop {', '.join(drawn)} "
            "(or the book)",
        )
    if vaults is not None:
        raise ScenarioError(
            f"--vaults: {source.name}'s vaults come from its book ({r.raw('book')}), one a row: "
            "drop --vaults"
        )
    path = file_path(r, "book", source)
    try:
        book = load_book(path, coll)
    except DataError as exc:
        raise ScenarioError(
            "\n".join(f"{r.where}.book: {line}" for line in str(exc).splitlines())
        ) from None
    opt_in_share = _opt_in_share(r, coll)
    r.finish()
    return PopulationSpec(
        count=len(book),
        debt_median=0,
        debt_sigma=0.0,
        ratio_min=0.0,
        ratio_mode=0.0,
        ratio_max=0.0,
        opt_in_share=opt_in_share,
        book=book,
    )


def read_keepers(r: Reader) -> KeeperSpec:
    gas = {
        key: r.read(key) for key in ("liquidation_gas_gwei", "taker_gas_gwei", "backstop_gas_gwei")
    }
    mode = r.read("taker_mode")
    taker_capital = r.read("taker_capital")
    if mode in ("capital", "both") and taker_capital == 0:
        raise r.fail("taker_capital", f'must be > 0 when taker_mode = "{mode}"')
    threshold = r.read("arbitrage_threshold")
    budgets = {}
    for keeper, who in (
        ("liquidation", "the liquidation keeper's"),
        ("taker", f"a {'capital' if mode == 'capital' else 'flash'} taker's"),
        ("backstop", "the backstop keeper's"),
        ("soft_liquidation", "the soft liquidator's"),
    ):
        key = f"{keeper}_gas_budget"
        budget = budgets[key] = r.read(key)
        least = smallest_budget(keeper, mode)
        if 0 < budget < least:
            raise r.fail(
                key,
                f"{budget:,} gas is below {who} costliest transaction ({least:,}), which it "
                "could never send; 0 for no budget",
            )
    strategy = r.read("gas_strategy")
    percentile = r.read("gas_percentile")
    if percentile not in GAS_PERCENTILES:
        raise r.fail(
            "gas_percentile",
            f"must be one of {', '.join(map(str, GAS_PERCENTILES))} (the percentiles the latency "
            f"model knows), got {percentile}",
        )
    priced_text = r.read("priced_out")  # (its ConfigError names the file and key already)
    try:
        priced_out = parse_priced_out(priced_text)
    except ValueError as exc:
        raise r.fail("priced_out", str(exc)) from None
    if priced_out and strategy == "fixed":
        raise r.fail(
            "priced_out",
            'names roles priced out, but gas_strategy = "fixed" prices every keeper out of the '
            "market already: one or the other",
        )
    keepers = KeeperSpec(
        liquidation_gas_price=gas["liquidation_gas_gwei"],
        taker_gas_price=gas["taker_gas_gwei"],
        backstop_gas_price=gas["backstop_gas_gwei"],
        taker_mode=mode,
        taker_capital=taker_capital,
        take_min_profit=r.read("take_min_profit"),
        arbitrageur_capital=r.read("arbitrageur_capital"),
        arbitrage_threshold=threshold,
        debt_auction_capital=r.read("debt_auction_capital"),
        soft_liquidation_gas_price=r.read("soft_liquidation_gas_gwei"),
        soft_liquidation_capital=r.read("soft_liquidation_capital"),
        soft_liquidation_min_profit=r.read("soft_liquidation_min_profit"),
        soft_liquidation_repay=r.read("soft_liquidation_repay"),
        **budgets,
        gas_strategy=strategy,
        gas_percentile=percentile,
        priced_out=priced_out,
    )
    r.finish()
    return keepers


def read_backstop(r: Reader) -> BackstopSpec:
    backstop = BackstopSpec(
        insurance_fund=r.read("insurance_fund"),
        pool_stakers=r.read("pool_stakers"),
        pool_stake=r.read("pool_stake"),
    )
    r.finish()
    return backstop
