"""A model of MakerDAO's 2020 Flipper and Cat, not a twin of any Backstop contract: Black Thursday
(2020-03-12) as it happened, set up from sources published before the crash (or reading the live
values of the day) and nothing chosen by looking at the outcome; then the figures history
published, beside the model's.

Every input is a `Setting`: its value, where it comes from (an id of docs/history.md's source
table, or "assumed" when no source gives it) and, for an assumption, the values the sensitivity
table runs instead. `SETTINGS` was fixed in one commit before the first comparison run (its hash
is in docs/history.md); a later change to any value is a new commit that says why.

The day's data (data/market/) covers 2020-03-12 00:00-23:50 UTC only; the crash went on into
2020-03-13 (the low of the two days, about 96, came some 26 hours after 1 AM PT). What happened
on the 13th is not in the model; history's figures cover both days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from offchain.history.day import DayResult, Oracle, Vault, run_day
from offchain.history.flip import DAY_2020_03_12, FlipParams
from offchain.history.keepers import (
    GWEI,
    Biter,
    FixedGas,
    Keeper,
    LowBaller,
    MarginBidder,
    PercentileGas,
)
from offchain.history.population import PUBLISHED, Assumptions, eve_population
from offchain.model.fixed_point import RAD, WAD
from offchain.sim.scenario.market_data import Series, load_gas, load_prices
from offchain.sim.strategies.actions import Latency

ROOT = Path(__file__).resolve().parents[2]
MARKET = ROOT / "data" / "market"
DAY = "2020-03-12"


def _utc(hhmm: str) -> int:
    return int(datetime.fromisoformat(f"{DAY}T{hhmm}:00+00:00").astimezone(UTC).timestamp())


@dataclass(frozen=True)
class Setting:
    """One input: `value`, its `source` (a docs/history.md id, or "assumed") and `note`; for an
    assumption, `alternatives` the sensitivity table runs one at a time."""

    name: str
    value: object
    source: str
    note: str
    alternatives: tuple = ()


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("flip", DAY_2020_03_12, "A1-A5, A7", "beg 3%, ttl 600 s, tau 3 days, lump 50 ETH, "
                "chop 13%, dust 20 DAI: the live values (the 3/12 spell's tests assert them)"),
        Setting("oracle_delay", 3600, "B1", "the OSM's hop: one hour"),
        Setting("oracle_phase", 0, "assumed", "seconds from the first bar to the OSM's first "
                "poke: not published, an arbitrary choice, so every other phase of the hour the "
                "bars tell apart is a run", alternatives=(600, 1200, 1800, 2400, 3000)),
        Setting("oracle_stall_gwei", 100, "B2", "the price feeds' updates did not land while gas "
                "was over 100 gwei (a bar whose 30th percentile is over it)",
                alternatives=(None,)),
        Setting("oracle_stall_until", "17:00", "B2, assumed", "resolved by the time of the day's "
                "governance call (B2); the call's summary gives no hour: 17:00 UTC is the weekly "
                "call's later hour (episode 142), assumed", alternatives=("14:00", "20:00")),
        Setting("eve_debt", PUBLISHED.debt, "C2", "DAI drawn against ETH, 2020-02-27: 114M",
                alternatives=(100_000_000 * WAD,)),
        Setting("vaults", 5_000, "assumed", "no vault count was published (docs/history.md, H)",
                alternatives=(1_000, 20_000)),
        Setting("ratio_scale", Fraction(1), "assumed", "the 2020-02-20 ratio distribution (C4) "
                "still held on the eve: owners kept their ratios as ETH fell",
                alternatives=(Fraction(9, 10), Fraction(11, 10))),
        Setting("biter_gas", "node30", "F5, G1", "bites at the node's default gas price: geth "
                "1.9's is the 60th percentile of each recent block's lowest price (G1), under the "
                "bar's 30th percentile on a congested day: the bar before's 30th percentile "
                "stands for it (an upper bound)", alternatives=("node60", "p60")),
        Setting("bites_per_step", 4, "A13, F5", "bites of one vault a minute: the reference "
                "keeper bites every unsafe vault on every block (about 13 s), one auction a block "
                "(A13); the 2020 Cat has no limit", alternatives=(1, None)),
        Setting("bidders", 3, "assumed", "how many keepers bid honestly: not published (F2; 2021's "
                "ETH-A flips averaged 3.67 bidders)", alternatives=(1, 6)),
        Setting("bidder_capital", 1_000_000, "assumed", "DAI each honest keeper holds: not "
                "published", alternatives=(250_000, 4_000_000)),
        Setting("bidder_margin", Fraction(1, 10), "assumed", "an honest keeper bids the market "
                "price less this: not published", alternatives=(Fraction(1, 20), Fraction(1, 5))),
        Setting("bidder_gas", "node30", "F5, G1", "the reference auction-keeper sent bids at "
                "the node's default gas price, without escalation (as biter_gas)",
                alternatives=("node60", "p60")),
        Setting("late_landing", "uniform", "assumed", "a transaction the gas model delays a bar "
                "lands at a uniformly drawn minute of the next ten (seeded), not exactly ten "
                "minutes later: that is the flip's ttl, and every delayed counter-bid would "
                "arrive just too late", alternatives=("bar",)),
        Setting("lowballers", 1, "F1", "one keeper bid near zero at 300 gwei (four addresses "
                "overall, E3)"),
        Setting("lowball_gas_gwei", 300, "F1", "the low bidder's gas price"),
        Setting("resale_hours", 6, "F9 (post)", "hours a keeper needed to turn ETH won back "
                "into DAI (6 to 8), from a call of 2020-03-18", alternatives=(0,)),
    )
}  # fmt: skip


@dataclass(frozen=True)
class NodeGas:
    """A node's default gas price, from the bar before `now` (a node prices a transaction from its
    last blocks, so it trails a rising market by about a bar): its `percentile` (30 or 60)."""

    percentile: int = 30
    bar: int = 600

    def price(self, latency: Latency, now: int) -> int:
        p30, p60 = latency.percentiles(now - self.bar)
        return p30 if self.percentile == 30 else p60


def gas_policy(kind: str) -> NodeGas | PercentileGas:
    """A gas setting's policy: "node30", "node60" (NodeGas) or "p60" (the bar's own 60th
    percentile: a keeper that escalates to the market at once, keepers.PercentileGas)."""
    if kind in ("node30", "node60"):
        return NodeGas(int(kind[4:]))
    if kind == "p60":
        return PercentileGas(60)
    raise ValueError(f"unknown gas setting {kind!r}")


@dataclass(frozen=True)
class Market:
    prices: Series
    gas: Series


def market() -> Market:
    return Market(load_prices(MARKET / f"eth_usd_{DAY}.csv"), load_gas(MARKET / f"gas_{DAY}.csv"))


@dataclass(frozen=True)
class Values:
    """The settings' values (SETTINGS, by the same names), typed."""

    flip: FlipParams
    oracle_delay: int
    oracle_phase: int
    oracle_stall_gwei: int | None
    oracle_stall_until: str
    eve_debt: int  # [wad]
    vaults: int
    ratio_scale: Fraction
    biter_gas: str
    bites_per_step: int | None
    bidders: int
    bidder_capital: int  # DAI
    bidder_margin: Fraction
    bidder_gas: str
    late_landing: str
    lowballers: int
    lowball_gas_gwei: int
    resale_hours: int


def values(overrides: dict[str, object] | None = None) -> Values:
    """Every setting's value, with `overrides` by name."""
    out: dict[str, Any] = {name: s.value for name, s in SETTINGS.items()}
    for name, value in (overrides or {}).items():
        if name not in out:
            raise KeyError(f"unknown setting {name!r}")
        out[name] = value
    return Values(**out)


def vaults_of(v: Values, m: Market) -> list[Vault]:
    facts = replace(PUBLISHED, debt=v.eve_debt)
    eve = eve_population(
        Fraction(m.prices.columns["close"][0], WAD),  # the eve's price: the first bar's close
        facts,
        Assumptions(vaults=v.vaults, ratio_scale=v.ratio_scale),
    )
    return [Vault(f"vault-{k}", e.collateral, e.debt) for k, e in enumerate(eve)]


def keepers_of(v: Values) -> tuple[Biter, list[Keeper]]:
    biter = Biter("biter", gas_policy(v.biter_gas), per_step=v.bites_per_step)
    keepers: list[Keeper] = [
        MarginBidder(
            f"keeper-{i + 1}",
            gas_policy(v.bidder_gas),
            v.bidder_capital * RAD,
            int(v.bidder_margin * WAD),
        )
        for i in range(v.bidders)
    ]
    keepers += [
        LowBaller(f"low-bidder-{i + 1}", FixedGas.gwei(v.lowball_gas_gwei), 10**6 * RAD)
        for i in range(v.lowballers)
    ]
    return biter, keepers


def run(overrides: dict[str, object] | None = None, m: Market | None = None) -> DayResult:
    """The day under the 2020 mechanism with SETTINGS (and `overrides`)."""
    v = values(overrides)
    m = m or market()
    biter, keepers = keepers_of(v)
    stall = v.oracle_stall_gwei
    oracle = Oracle(
        delay=v.oracle_delay,
        lag=v.oracle_phase,
        stall_gwei=stall,
        stall_until=_utc(v.oracle_stall_until) if stall is not None else None,
    )
    return run_day(
        vaults_of(v, m),
        v.flip,
        keepers,
        biter,
        m.prices,
        m.gas,
        oracle=oracle,
        resale=v.resale_hours * 3600,
        late=v.late_landing,
    )


@dataclass(frozen=True)
class Band:
    """A published figure and the band the model must land in (issue 48's done-when)."""

    name: str
    history: str  # as published, with its source ids
    low: float
    high: float
    of: Callable[[DayResult, int], float]  # the model's figure from a run and its eve debt


def _deficit_share(r: DayResult, debt: int) -> float:
    return float(Fraction(r.deficit, debt * 10**27))


BANDS = (
    Band("zero-bid share of the auctions dealt", "36% (E2)", 0.26, 0.46,
         lambda r, d: float(r.zero_bid_share)),
    # 5.67M (E1) of about 114M (C2): 4.97%; +/- 30%
    Band("deficit / ETH-A debt", "5.67M of ~114M: 4.97% (E1, C2; 4M to 6.65M: 3.5% to 5.8%)",
         0.0497 * 0.7, 0.0497 * 1.3, _deficit_share),
)  # fmt: skip


def gwei(wei: int) -> float:
    return wei / GWEI
