"""The eve of a history day under Backstop's own mechanism and waterfall (issue 48's second half,
issue 64 for 2021-05-19; docs/history.md): the history model's vaults as a scenario's book,
replayed by the lab on a chain and in the model and reconciled, as `ape run simulate` does. One
`Counterfactual` per day (COUNTERFACTUALS); the text below tells Black Thursday's, and the
may-2021 one differs only where its spec says (the lab's `may-2021` scenario, a factor of 164,
dust 5,000 and reward 600 by the same rule, the day's 20M of capital takers' DAI, K4). Both run
on the day's outside market: the venue, resale delay and DAI price of the day file's settings
(`market_keys`), the same as the model of MakerDAO's day uses.

This is Backstop's side of the counterfactual table, not a model of MakerDAO's 2020 auctions.
What it takes from the history check, and why:

- the vaults: the eve's population (population.py) under the day's settings, one a row of the
  book, exactly (ETH and DAI in wad);
- the day: the lab's own `black-thursday-2020` scenario (its prices, gas, keepers, pool and
  backstop layers), unchanged but for what the list below names;
- the dust and the keeper's flat reward: Backstop's rule (docs/security.md, finding 1: the
  penalty income at dust must pay the reward, and the flat reward a liquidation's gas) applied to
  this book at the day's ETH price, not devnet's 2,500 and 300 (set for ETH at 2,000). Half the
  eve's vaults owe under 2,500 (the smallest 1,059 DAI), and a population cut or raised to
  devnet's minimum would not be the same one. Dust 1,000 (the smallest vault, rounded down) and a
  flat reward of 100: 1,000 x 0.13 = 130 >= 100 + 0.1% x 1,130; and 100 BUSD pays a liquidation's
  295,616 gas up to about 1,700 gwei at the eve's 195 (the day's p90 peaked near 300). With
  devnet's 300 the config refuses this dust: the bound at work. The bound allows 0 to 128.87;
  the sensitivity runs 30 and 128;
- the keepers' stablecoin: the capital taker holds what the day's honest keepers held together
  (the day file's `bidders` x `bidder_capital`), not the lab's 6M. It spends it once:
  the lab's taker never sells the ETH it buys, where the flip model's keepers resell theirs after
  `resale_hours` and bid again. `turnover_capital` gives Backstop what those keepers put into
  auctions over the day (their capital and their resales), a second column of the table; the
  flash taker needs none (it sells into the pool: a mechanism Backstop has and the 2020 Flipper
  had not);
- the auction caps (the type's `auction_cap`, and `max_debt_in_auction` over all types): the
  day's protocol's limits, by a stated rule (`Counterfactual.caps`, issue 73), not sized to the
  book. 2021-05-19: the Dog's ETH-A `hole`, 22M (L1), and its `Hole`, 100M (L3), read from the
  day's settings (so `--set hole=...` moves both sides). 2020-03-12: the Cat had no limit on DAI
  in auction (A12: `box` came with Liquidations 1.2, 30M from the 2020-08-28 spell, 15M from
  2020-09-14, A23), so neither does Backstop: both caps are the eve's debt x chop, rounded up
  to the million (129M), which no auction the book can start reaches. `cap_sweep` runs other
  caps beside the rule (the report's cap sweep), the sizing rule's below among them;
- the debt ceilings and the debt-auction bidder's capital: the form of the lab's sizing rule
  (sim/scenario/ceilings.py), by `SIZE_FACTOR`, the eve's debt over the built-in population's
  (9), not its vault count's ratio (5): a book fixes the debt. A ceiling bounds what vaults
  draw, not what liquidations sell; the day's own lines held the eve's debt (ETH-A's 150M on
  2020-03-06, A24; its automatic line up to 15B in 2021, L3). The caps were sized by the same
  rule before issue 73 (devnet's 10M ETH-A cap x the factor: 90M, 1.64B), a row of the sweep.
  The market's depth is not sized (the same rule).

What differs between the two sides and is not aligned (docs/history.md lists it):
- the keepers' gas: the lab's keepers bid the bar's 60th percentile and raise it after a drop
  (the built-in's strategy), the 2020 keepers the node's default without escalation (F5); the
  sensitivity runs the built-in's fixed bids (`gas_strategy = "fixed"`);
- the oracle: the lab's posts on schedule, the 2020 feeds stalled over 100 gwei (B2): the lab has
  no such stall;
- the horizon: Backstop's run goes on 36 bars (6 h) at the last price after the data, as the
  built-in does; the flip model stops at the data's end.
"""

from __future__ import annotations

import json
import re
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from offchain.history.days import DayData, day, load
from offchain.history.days.eve_2020 import PopulationError
from offchain.history.days.settings import Values
from offchain.history.days.settings import values as day_values
from offchain.history.replay.flip import DayResult
from offchain.report.phases import figures as headline_figures
from offchain.report.tables import paid_by_layer, realized_bad_debt, uncovered_loss
from offchain.sim.results.tables import SimulationResult
from offchain.sim.run.replay import Replay, replay
from offchain.sim.scenario.load import BUILTIN_DIR, ScenarioError, load_scenario, with_phase
from offchain.sim.scenario.market import OPEN_ONLY_KEYS
from offchain.sim.scenario.timeline import oracle_phase, period_phases
from offchain.sim.scenario.types import Scenario
from offchain.system.config import DEFAULT_CONFIG, load_config

WAD = 10**18
RAD = 10**45
BASE = "black-thursday-2020"  # the lab's scenario of the day
NAME = "black-thursday-2020-eve-under-backstop"
# the eve's debt (114M) over the built-in population's at its own 1,000 vaults (12,750,784
# BUSD), rounded up: tests/history/test_history_backstop.py derives it
SIZE_FACTOR = 9
# the dust and flat reward of the docstring (Backstop's rule for this book) [BUSD]
DUST = "1000"
KEEPER_REWARD_FLAT = "100"
# the built-in's and devnet's values the factor multiplies (checked against the files)
SIZED = {"debt_ceiling": 30_000_000, "ceiling_max": 40_000_000}  # the built-in's overrides
AUCTION_CAP = 10_000_000  # ETH-A's in config/devnet.toml (the sizing rule's base: a sweep row)
SIZED_SYSTEM = {"global_debt_ceiling": 50_000_000}
DEBT_IN_AUCTION = 20_000_000  # devnet's max_debt_in_auction (checked: the caps replace it)
MILLION = 10**6
DEBT_AUCTION_CAPITAL = 500_000  # the lab's default bidder (actors.DEFAULT_KEEPERS)


@dataclass(frozen=True)
class Counterfactual:
    """One day's eve under Backstop (the module docstring says why each): the day file, the
    lab's scenario of the day it starts from, the sizing factor (the eve's debt over the
    built-in population's at its 1,000 vaults, rounded up; a test derives it), the sized keys'
    bases (the built-in's overrides, or devnet's values where the built-in sets none), Backstop's
    dust and flat reward for this book, the capital taker's stablecoin and taker mode, the
    sensitivity rows of Backstop's side, the auction caps' rule (the module docstring) and the
    caps the report's sweep runs beside it."""

    day: str
    base: str
    name: str
    description: str
    size_factor: int
    sized: dict[str, int]
    dust: str
    reward: str
    taker_capital: Callable[[Values], int]
    taker_mode: str | None
    sensitivity: tuple[tuple[tuple[str, str], object, str], ...]
    # the auction caps' rule: (the type's auction_cap, max_debt_in_auction) [whole stablecoin]
    # from the day's settings, and the rule in words
    caps: Callable[[Values], tuple[int, int]]
    caps_rule: str
    # the cap sweep's rows beside the rule: (cap [whole stablecoin], why)
    cap_sweep: tuple[tuple[int, str], ...]


def _no_limit(v: Values) -> int:
    """A cap no auction of the eve's book reaches [whole stablecoin]: its debt x the Cat's chop,
    rounded up to the million (2020-03-12: the Cat had no limit, A12)."""
    most = v.eve_debt * v.flip.chop  # [wad x ray]
    return -(-most // (WAD * 10**27 * MILLION)) * MILLION


def sweep_caps(cf: Counterfactual, v: Values) -> list[tuple[tuple[int, int], str]]:
    """The cap sweep's (caps, why), the rule's included, by cap: each row the type's cap, and
    the cap over all types the larger of it and the rule's."""
    rule = cf.caps(v)
    rows = {rule[0]: (rule, f"the rule: {cf.caps_rule}")}
    for cap, why in cf.cap_sweep:
        rows.setdefault(cap, ((cap, max(cap, rule[1])), why))
    return [rows[c] for c in sorted(rows)]


def _fraction_text(x: Fraction) -> str:
    """A fraction with a terminating decimal as its exact decimal text ("0.015")."""
    with localcontext() as ctx:
        ctx.prec = 60
        return format(Decimal(x.numerator) / Decimal(x.denominator), "f")


# the day's settings that are the scenario's [market] keys (market_keys), by setting
MARKET_SETTINGS = {
    "impact_coefficient": "impact_coefficient",
    "venue_share": "venue_share",
    "impact_decay": "impact_decay",
    "venue_window": "venue_window",
    "resale_hours": "resale_delay",
    "dai_price": "stable_price",
}


def _venue_keys(v: Values) -> dict[str, object]:
    """The [market] keys of the day's outside venue (MARKET_SETTINGS), as a file gives them.
    The flash takes sell into the keepers' pool (`flash_route = "pool"`), as the day's model's
    flash keepers sell into the day's Uniswap pair (keepers/clip.py), and as these eves were
    measured before a lab's flash take could sell on the venue (docs/history.md)."""
    return {
        "impact_coefficient": _fraction_text(v.impact_coefficient),
        "venue_share": _fraction_text(v.venue_share),
        "impact_decay": v.impact_decay,
        "venue_window": v.venue_window,
        "resale_delay": int(v.resale_hours * 3600),
        "stable_price": _fraction_text(v.dai_price),
        "flash_route": "pool",
    }


def market_keys(v: Values) -> dict[str, object]:
    """The scenario's outside market from the day's calibration (days/calibration.py): the same
    venue, resale delay and DAI price as the day's model of MakerDAO; a closed market (`--set
    outside=closed`) has none of them (a scenario file refuses them there)."""
    return {"outside": v.outside, **(_venue_keys(v) if v.outside == "open" else {})}


COUNTERFACTUALS = {
    "black-thursday-2020": Counterfactual(
        day="black-thursday-2020",
        base=BASE,
        name=NAME,
        description=(
            "The eve of Black Thursday (issue 48's population: 114M DAI in 5,000 ETH-A vaults "
            "from published aggregates) on the day's prices and gas, under Backstop's mechanism "
            "and waterfall (docs/history.md)"
        ),
        size_factor=SIZE_FACTOR,
        sized=SIZED,
        dust=DUST,
        reward=KEEPER_REWARD_FLAT,
        taker_capital=lambda v: v.bidders * v.bidder_capital,
        taker_mode=None,
        sensitivity=(
            (("market", "pool_depth"), "1_000_000", "a third of the lab's pool"),
            (("market", "pool_depth"), "10_000_000", ""),
            (("market", "pool_depth"), "30_000_000", ""),
            (("keepers", "arbitrageur_capital"), "1_000_000", "the pool's restorer, a third"),
            (("keepers", "arbitrageur_capital"), "10_000_000", ""),
            (
                ("keepers", "taker_capital"),
                "3_000_000",
                "the assumption before the calibration (3 x 1M)",
            ),
            (("keepers", "taker_capital"), "54_000_000", "the lab's 6M x 9"),
            (("keepers", "gas_strategy"), "fixed", "the built-in's fixed bids (150 and 100 gwei)"),
            (
                ("protocol.collateral_overrides", "keeper_reward_flat"),
                "30",
                "the bound allows up to 128.87",
            ),
            (("protocol.collateral_overrides", "keeper_reward_flat"), "128", ""),
            (("market", "drain_bars"), 144, "a day more at the last price, not 6 h"),
            (("market", "venue_share"), "0.005", "the calibration's rows (V4, V5)"),
            (("market", "venue_share"), "0.05", ""),
        ),
        caps=lambda v: (_no_limit(v), _no_limit(v)),
        caps_rule="none, as the 2020 Cat had none (A12): both caps the eve's debt x chop, "
        "rounded up to the million",
        cap_sweep=(
            (5_000_000, ""),
            (10_000_000, ""),
            (15_000_000, "the Cat's box from 2020-09-14 (A23)"),
            (30_000_000, "the Cat's first box, 2020-08-28 (A23)"),
            (AUCTION_CAP * SIZE_FACTOR, "the sizing rule before issue 73 (10M x 9)"),
        ),
    ),
    "may-2021": Counterfactual(
        day="may-2021",
        base="may-2021",
        name="may-2021-eve-under-backstop",
        description=(
            "The eve of 2021-05-19 (ETH-A's ~2B DAI in 5,000 vaults of the 2020 eve's shape, "
            "an assumption) on the day's prices, gas and Uniswap reserves, under Backstop's "
            "mechanism and waterfall (docs/history.md)"
        ),
        # 2B over the built-in population's 12,225,159 at its 1,000 vaults, rounded up
        size_factor=164,
        # devnet's ETH-A ceilings (the built-in sets none)
        sized={"debt_ceiling": 20_000_000, "ceiling_max": 30_000_000},
        # the smallest vault owes MakerDAO's dust, 5,000: 5,000 x 0.13 = 650 >= 600 + 0.1% x
        # 5,650; 600 BUSD pays a liquidation's 295,616 gas up to about 800 gwei at ETH 2,500
        dust="5000",
        reward="600",
        taker_capital=lambda v: v.taker_capital,
        taker_mode="both",
        sensitivity=(
            (("market", "reserves_scale"), "0.01", "a quarter of the lab's pool (4% of the pair)"),
            (("market", "reserves_scale"), "0.16", "four times"),
            (("keepers", "taker_capital"), "6_000_000", "the calibration's rows (K4)"),
            (("keepers", "taker_capital"), "40_000_000", ""),
            (("keepers", "gas_strategy"), "fixed", "the built-in's fixed bids (100 and 150 gwei)"),
            (
                ("protocol.collateral_overrides", "keeper_reward_flat"),
                "300",
                "the bound allows up to 644.35",
            ),
            (("protocol.collateral_overrides", "keeper_reward_flat"), "640", ""),
            (("market", "drain_bars"), 144, "a day more at the last price, not 6 h"),
            (("market", "venue_share"), "0.0075", "the calibration's rows (V2, V3)"),
            (("market", "venue_share"), "0.05", ""),
        ),
        caps=lambda v: (v.hole // RAD, v.Hole // RAD),
        caps_rule="ETH-A's hole (22M, L1) and the Dog's Hole (100M, L3)",
        cap_sweep=(
            (5_000_000, ""),
            (10_000_000, ""),
            (50_000_000, ""),
            (100_000_000, "the Dog's Hole (L3)"),
            (500_000_000, ""),
            (AUCTION_CAP * 164, "the sizing rule before issue 73 (10M x 164)"),
        ),
    ),
}
BLACK_THURSDAY = COUNTERFACTUALS["black-thursday-2020"]


def values(
    overrides: dict[str, object] | None = None, cf: Counterfactual = BLACK_THURSDAY
) -> Values:
    return day_values(day(cf.day).SETTINGS, overrides)


def market(cf: Counterfactual = BLACK_THURSDAY) -> DayData:
    return load(day(cf.day))


def vaults_of(v: Values, data: DayData, cf: Counterfactual = BLACK_THURSDAY):
    return day(cf.day).eve(v, data)


def _units(x: int) -> str:
    """A wad amount as an exact decimal."""
    return f"{x // WAD}.{x % WAD:018d}"


def book_text(v: Values | None = None, cf: Counterfactual = BLACK_THURSDAY) -> str:
    """The eve's vaults as a book (sim/scenario/book.py): collateral [ETH] and debt [DAI], exact."""
    v = v or values(cf=cf)
    rows = ["collateral,debt"]
    rows += [f"{_units(x.ink)},{_units(x.art)}" for x in vaults_of(v, market(cf), cf)]
    return "\n".join(rows) + "\n"


def config_text(
    cf: Counterfactual = BLACK_THURSDAY,
    v: Values | None = None,
    caps: tuple[int, int] | None = None,
) -> str:
    """The deployment config: config/devnet.toml with its global ceiling sized by the factor and
    its debt in auction over all types the caps' (`caps`, default the rule's under `v`; the
    scenario cannot override system keys)."""
    caps = caps or cf.caps(v or values(cf=cf))
    text = DEFAULT_CONFIG.read_text()
    for key, base, new in (
        *((key, base, base * cf.size_factor) for key, base in SIZED_SYSTEM.items()),
        ("max_debt_in_auction", DEBT_IN_AUCTION, caps[1]),
    ):
        line = re.compile(rf'^{key} = "([0-9_]+)"', re.M)
        found = line.findall(text)
        if found != [f"{base:_}"]:
            raise ScenarioError(f"{DEFAULT_CONFIG}: {key} is {found}, the sizing expects {base:_}")
        text = line.sub(f'{key} = "{new:_}"', text)
    return text


def scenario_data(
    v: Values | None = None,
    cf: Counterfactual = BLACK_THURSDAY,
    caps: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """The scenario: the built-in day with the book, the dust and reward, the sizes and caps
    above (`caps`: the type's auction cap and the debt in auction over all types; default the
    rule's) and the day's outside market (market_keys)."""
    v = v or values(cf=cf)
    data = tomllib.loads((BUILTIN_DIR / f"{cf.base}.toml").read_text())
    overrides = data["protocol"].setdefault("collateral_overrides", {})
    eth_a = load_config().collateral[0]
    for key, base in cf.sized.items():
        given = overrides.get(key)
        have = int(str(given).replace("_", "")) if given is not None else getattr(eth_a, key) // RAD
        if have != base:
            raise ScenarioError(f"{cf.base}: {key} is {have:_}, the sizing expects {base:_}")
        overrides[key] = str(base * cf.size_factor)
    cap = eth_a.auction_cap
    if cap != AUCTION_CAP * RAD:
        raise ScenarioError(
            f"{DEFAULT_CONFIG}: ETH-A's auction_cap is {cap // RAD}, the sizing "
            f"expects {AUCTION_CAP:_}"
        )
    overrides["auction_cap"] = str((caps or cf.caps(v))[0])
    overrides["dust"] = cf.dust
    overrides["keeper_reward_flat"] = cf.reward
    data["scenario"]["name"] = cf.name
    data["scenario"]["description"] = cf.description
    data["vaults"] = {"book": "book.csv"}
    if v.outside != "open":  # the built-in's venue is open: a closed market keeps none of it
        for key in OPEN_ONLY_KEYS:
            data["market"].pop(key, None)
    data["market"].update(market_keys(v))
    # the comparison with MakerDAO's day stays on the end-of-run mark (the lab's headline before
    # issue 73): its tables were measured so; the headline's drain (sim/run/drain.py) is not run
    data["market"]["drain_horizon"] = 0
    data["keepers"]["taker_capital"] = str(cf.taker_capital(v))
    if cf.taker_mode is not None:
        data["keepers"]["taker_mode"] = cf.taker_mode
    data["keepers"]["debt_auction_capital"] = str(DEBT_AUCTION_CAPITAL * cf.size_factor)
    data["protocol"]["config"] = "config.toml"
    return data


def settings_problem(
    overrides: dict[str, object], cf: Counterfactual = BLACK_THURSDAY
) -> str | None:
    """Why the day's settings with `overrides` (`--set`) make no scenario Backstop's side can
    run, in the scenario file's own words (the loader's checks, sim/scenario), each key named as
    the `--set` that gave it; None: they do. A setting given explicitly is put in the scenario
    even where market_keys would leave it out, so that `--set outside=closed --set
    venue_share=0.05` is refused as the same pair in a scenario file is ("applies only to an
    open market"), not run with the share in silence. The eve's vaults, book and config are
    built and loaded in a scratch folder, as the run does (about a second)."""
    v = values(overrides, cf)
    try:
        data = scenario_data(v, cf)
        # (resale_hours is left out: under a closed market the model of MakerDAO's day still
        # resells after it, outside.py, so the setting is not idle)
        data["market"].update(
            {
                key: value
                for key, value in _venue_keys(v).items()
                if _setting(key) in overrides and (v.outside == "open" or key != "resale_delay")
            }
        )
        with tempfile.TemporaryDirectory() as scratch:
            path = write_inputs(Path(scratch), v, cf)
            path.write_text(yaml.safe_dump(data, sort_keys=False))
            try:
                load_scenario(str(path))
            except ScenarioError as exc:
                lines = [line.removeprefix(f"{path}: ") for line in str(exc).splitlines()]
                return "\n".join(_as_setting(line) for line in lines)
    except PopulationError as exc:
        return f"--set: the eve's vaults cannot be drawn under these settings: {exc}"
    return None


def _setting(key: str) -> str:
    """The day's setting that gives [market] `key` (MARKET_SETTINGS), or the key itself."""
    return next((s for s, k in MARKET_SETTINGS.items() if k == key), key)


def _as_setting(line: str) -> str:
    """A scenario loader's line about the eve's scenario, named by the `--set` that gave it."""
    field, sep, why = line.partition(": ")
    table, _, key = field.partition(".")
    why = why.replace("market.outside is closed", "--set outside=closed")
    if sep and table == "market" and (key in MARKET_SETTINGS.values() or key == "outside"):
        return f"--set {_setting(key)}: {why}"
    return f"--set: the eve's scenario under Backstop refuses these settings: {line}"


def write_inputs(
    directory: Path,
    v: Values | None = None,
    cf: Counterfactual = BLACK_THURSDAY,
    caps: tuple[int, int] | None = None,
) -> Path:
    """Write the scenario (YAML), its book and its config into `directory` (`caps`: the auction
    caps, default the rule's); the scenario's path. `ape run simulate --scenario <it>` replays
    it alone."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "book.csv").write_text(book_text(v, cf))
    (directory / "config.toml").write_text(config_text(cf, v, caps))
    path = directory / "scenario.yaml"
    header = (
        f"# written by `ape run history` (offchain/history/backstop.py): the eve of {cf.day}\n"
        "# under Backstop; replay it alone with `ape run simulate --scenario <this file>`\n"
    )
    path.write_text(header + yaml.safe_dump(scenario_data(v, cf, caps), sort_keys=False))
    return path


@dataclass(frozen=True)
class BackstopDay:
    scenario: Scenario
    done: Replay


def run(
    directory: Path,
    chain: bool = True,
    v: Values | None = None,
    changes: dict[tuple[str, str], object] | None = None,
    phase: int | None = None,
    cf: Counterfactual = BLACK_THURSDAY,
    caps: tuple[int, int] | None = None,
) -> BackstopDay:
    """Write the inputs in `directory` and replay them (on Anvil and in the model, reconciled,
    with `chain`; the model alone without). `changes`: {(table, key): value} replacing the
    scenario's keys (a sensitivity run); `phase`: the oracle's phase [s]; `caps`: the auction
    caps (the type's, all types') instead of the rule's (the cap sweep)."""
    path = write_inputs(directory, v, cf, caps)
    if changes:
        data = scenario_data(v, cf, caps)
        for (table, key), value in changes.items():
            node = data
            for part in table.split("."):  # "protocol.collateral_overrides": a nested table
                node = node[part]
            node[key] = value
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    scenario = load_scenario(str(path))
    if phase is not None:
        scenario = with_phase(scenario, phase, "phase")
    return BackstopDay(
        scenario, replay(scenario, chain=chain, full_check_every=6 if chain else None)
    )


# a take "for nothing": under 1% of the market's price, as a zero bid is a winning bid under 1%
# of the lot's value (report.py)
FOR_NOTHING = 0.01
RAD_F = 1e45


@dataclass(frozen=True)
class BackstopFigures:
    """A run's figures for the counterfactual table [BUSD, hours; floats: the report's]."""

    vaults_liquidated: int
    debt_liquidated: float
    auctions: int
    finished: int
    open_auctions: int
    open_debt: float
    takes: int
    auctions_for_nothing: int  # auctions with a take under FOR_NOTHING of the market
    value_for_nothing: float  # the collateral of those takes at the market price
    realized: float
    insolvency_last_price: float
    insolvency: float
    paid: dict[str, float]  # by layer, the run's waterfall order
    uncovered: float
    lowest_clearing: float  # the lowest take price over the market's
    rewards: float  # keeper rewards at starts and resets: new stablecoin the penalties are to pay
    hours_to_finish: tuple[float, float]  # start to finish of the finished auctions: median, p90
    keepers: dict[str, tuple[int, int]]  # role -> (actions landed, planned)
    unsafe_left: int  # vaults unsafe at the end and never liquidated
    cover_minutes: float  # the longest wait from a short auction's finish to its first cover
    # the run's headline figures (report/phases.py `figures`): a row of the phase table when the
    # run is one of the oracle's phases
    headline: dict[str, float] = field(default_factory=dict)
    # the open book's parts (sim/results/insolvency.py): the running auctions' shortfall and the
    # unsafe vaults' debt and shortfall, sold on the market
    open_marked: float = 0.0
    unsafe_debt: float = 0.0
    unsafe_marked: float = 0.0

    @classmethod
    def of(cls, result: SimulationResult) -> BackstopFigures:
        f = result.facts
        liquidations = result.tables["liquidations"]
        takes = result.tables["takes"]
        losses = result.tables["losses"]
        events = result.tables["events"]
        actions = result.tables["keeper_actions"]
        cheap = takes[takes["price"] < FOR_NOTHING * takes["market_price"]]
        ratio = takes["price"] / takes["market_price"]
        rewarded = events[events["event"].isin(("Started", "Reset"))]
        rewards = sum(int(json.loads(a).get("reward", "0")) for a in rewarded["args"])
        done = losses[losses["closed"].notna()]
        hours = (done["closed"] - done["opened"]) / 3600
        first_cover = result.tables["allocations"].groupby("auction_id")["time"].min()
        short = done[done["loss"] > 0]
        waits = [
            (float(first_cover[a]) - float(c)) / 60
            for a, c in zip(short["auction_id"], short["closed"])
            if a in first_cover.index
        ]
        return cls(
            vaults_liquidated=int(liquidations["owner"].nunique()),
            debt_liquidated=float(liquidations["debt"].sum()),
            auctions=len(liquidations),
            finished=len(liquidations) - int(f["open_auctions"]),
            open_auctions=int(f["open_auctions"]),
            open_debt=float(f["open_auction_debt"]),
            takes=len(takes),
            auctions_for_nothing=int(cheap["auction_id"].nunique()),
            value_for_nothing=float((cheap["collateral"] * cheap["market_price"]).sum()),
            realized=realized_bad_debt(result),
            insolvency_last_price=float(f["insolvency_last_price"]),
            insolvency=float(f["insolvency"]),
            paid=paid_by_layer(result),
            uncovered=uncovered_loss(result),
            lowest_clearing=float(ratio.min()) if len(takes) else float("nan"),
            rewards=rewards / RAD_F,
            hours_to_finish=(hours.quantile(0.5), hours.quantile(0.9)),
            cover_minutes=max(waits) if waits else float("nan"),
            keepers={
                str(r): (int(m), int(n))
                for r, m, n in zip(actions["role"], actions["mined"], actions["planned"])
            },
            unsafe_left=int(f["unsafe_vaults_left"]),
            headline=headline_figures(result),
            open_marked=float(f["open_auction_marked_shortfall"]),
            unsafe_debt=float(f["unsafe_vault_debt"]),
            unsafe_marked=float(f["unsafe_vault_marked_shortfall"]),
        )


def turnover_capital(flip: DayResult, v: Values | None = None) -> int:
    """What the flip model's honest keepers put into auctions over the day [DAI, whole]: their
    capital and the DAI their resales brought back to bid again."""
    v = v or values()
    honest = [k for name, k in flip.keepers.items() if name.startswith("keeper-")]
    return v.bidders * v.bidder_capital + sum(k.sold_for for k in honest) // RAD


# the sensitivity of Backstop's side (the model alone): the counterfactual's rows ((table, key),
# value, why), one at a time, and the oracle's phase over its period
SENSITIVITY = BLACK_THURSDAY.sensitivity


def sensitivity_tasks(cf: Counterfactual) -> list[tuple[str, str, str, dict, int | None]]:
    """(setting, value shown, why, changes, phase) of each row and each other oracle phase."""
    out: list[tuple[str, str, str, dict, int | None]] = []
    for (table, key), value, why in cf.sensitivity:
        shown = f"{value:,}" if isinstance(value, int) else str(value).replace("_", ",")
        name = key if table.startswith("protocol") else f"{table}.{key}"
        out.append((name, shown, why, {(table, key): value}, None))
    with tempfile.TemporaryDirectory() as scratch:
        scenario = load_scenario(str(write_inputs(Path(scratch), cf=cf)))
    for phase in period_phases(scenario):
        if phase != oracle_phase(scenario):
            out.append(("oracle phase", f"{phase:,} s", "", {}, phase))
    return out


def sensitivity(
    directory: Path, cf: Counterfactual = BLACK_THURSDAY, v: Values | None = None
) -> list[tuple[str, str, str, BackstopFigures]]:
    """(setting, value, why, figures) of each row under the day's values `v` (default: its
    settings), each a model run in its own directory under `directory` (one after the other;
    report.py runs them on a process pool)."""
    out = []
    for k, (name, shown, why, changes, phase) in enumerate(sensitivity_tasks(cf)):
        done = run(
            directory / f"s{k}", chain=False, v=v, changes=changes or None, phase=phase, cf=cf
        )
        out.append((name, shown, why, BackstopFigures.of(done.done.model)))
    return out
