"""A model of MakerDAO's Liquidations 2.0 (the Dog and Clipper), not a twin of any Backstop
contract: 2021-05-19 as it happened to ETH-A, a day file of settings (days/__init__.py) run by
the clip family's day runner (replay/clip.py). Set up from sources written before the day (or
reading the live values: the spells' tests), named assumptions where no source gives a value,
and nothing chosen by looking at the outcome; then the figures history published, beside the
model's, each against a band fixed in a commit before the first comparison run.

Which mechanism ran the day: ETH-A (with ETH-B, ETH-C and WBTC-A) had run on the Dog and
Clipper since the 2021-04-30 executive (L1), passed and executed by 2021-05-06 (K5); the spells'
tests of 2021-05-07 to 2021-05-24 assert `liqType "clip"` for ETH-A with the settings below
(L3). `tip` was 0 on the day: the 300 DAI tip came on 2021-05-28 (L4).

Scope: the shipped data holds ETH/USD only, so the model replays ETH-A; history's outcomes
(O1 to O3) cover every vault type (WBTC-A first, then ETH-A, ZRX-A, ETH-B and others), and the
bands say how each carries over (a ratio, an upper bound, or an ETH-A figure). The day's data
covers 2021-05-19 00:00 to 23:50 UTC; auctions still running at its end are reported apart.
"""

from __future__ import annotations

from fractions import Fraction

from offchain.history.clip_figures import ClipFigures
from offchain.history.days import DayData
from offchain.history.days.calibration import cal, cal_rows, market_settings
from offchain.history.days.eve_2021 import eve as eve_vaults
from offchain.history.days.settings import Band, Setting, Values
from offchain.history.mechanisms.clip import ETH_A_2021
from offchain.history.replay.flip import Vault
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.sim.market.stable_price import StablePrice

NAME = "may-2021"
FAMILY = "clip"
DATE = "2021-05-19"
TITLE = "2021-05-19 under MakerDAO's Liquidations 2.0 (the Dog and Clipper), ETH-A"
FILES = {
    "prices": f"eth_usd_{DATE}.csv",
    "gas": f"gas_{DATE}.csv",
    "reserves": f"uniswap_eth_dai_reserves_{DATE}.csv",
}
# the lab's scenario of the day, the base of Backstop's counterfactual (backstop.py)
BACKSTOP_BASE = "may-2021"

SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        # the mechanism: the spells' values (L1, L3)
        Setting("clip", ETH_A_2021, "L1, L3", "ETH-A's Clipper: buf 1.30, tail 140 min, cusp "
                "0.40, chip 0.1%, tip 0 (the 2021-04-30 spell; the tests to 2021-05-24)"),
        Setting("Hole", 100_000_000 * RAD, "L3", "the Dog's global limit on DAI in auction",
                unit=RAD, low=RAD, high=10**12 * RAD, display="100M"),
        Setting("hole", 22_000_000 * RAD, "L1, L3", "ETH-A's limit on DAI in auction",
                unit=RAD, low=RAD, high=10**12 * RAD, display="22M"),
        Setting("chop", 113 * WAD // 100, "L1, L3", "the liquidation penalty, 13% [wad]",
                low=WAD, high=2 * WAD, display="1.13"),
        Setting("cut", 99 * RAY // 100, "L1", "the price's factor per step (StairstepExponential"
                "Decrease) [ray]", low=0, high=RAY, display="0.99"),
        Setting("step", 90, "L1", "seconds between the price's drops", low=1, high=86_400),
        Setting("mat", 3 * RAY // 2, "L3", "ETH-A's liquidation ratio, 150% [ray]", low=RAY,
                high=10 * RAY, display="1.50"),
        Setting("dust", 5_000 * RAD, "L3", "ETH-A's least vault debt (chost = dust x chop = "
                "5,650)", unit=RAD, low=0, high=10**9 * RAD, display="5,000"),
        # the oracle
        Setting("oracle_delay", 3600, "B1, L6", "the OSM's hop: one hour (still on the day, L6)",
                low=60, high=86_400),
        Setting("oracle_phase", 0, "assumed", "seconds from the first bar to the OSM's first "
                "poke: not published, so every other phase of the hour the bars tell apart is a "
                "run", alternatives=(600, 1200, 1800, 2400, 3000), low=0, high=3599),
        # the eve's vaults (eve_2021.py)
        Setting("eve_debt", cal("population_2021.eth_a_debt") * WAD, "P1", "ETH-A's debt: '2 "
                "billion', an aside of 2021-04-29, not a measurement",
                alternatives=tuple(x * WAD for x in cal_rows("population_2021.eth_a_debt")),
                unit=WAD, low=10**6 * WAD, high=10**11 * WAD),
        Setting("vaults", 5_000, "assumed", "ETH-A vaults with debt: no count was published",
                alternatives=(2_000, 10_000), low=16, high=100_000),
        Setting("ratio_scale", Fraction(1), "assumed", "the eve's debt over ratios and sizes is "
                "the 2020 eve's shape (C4, C5), every ratio scaled by this: no 2021 histogram "
                "was published", alternatives=(Fraction(9, 10), Fraction(11, 10)),
                low=Fraction(1, 2), high=Fraction(4)),
        # the keepers
        Setting("barkers", cal("keepers_2021.kickers"), "K7", "keepers that bark: 18 addresses "
                "kicked on the day, mostly three", alternatives=cal_rows("keepers_2021.kickers"),
                low=0, high=100),
        Setting("barker_gas", "p60", "assumed", "the barkers' gas bid: the step's 60th "
                "percentile (lands in the step)", alternatives=("p30",),
                choices=("node30", "node60", "p30", "p60")),
        Setting("takers", cal("keepers_2021.takers"), "K7", "keepers that take: 21 entities "
                "took on the day, three performing ones",
                alternatives=cal_rows("keepers_2021.takers"), low=1, high=100),
        Setting("flash_share", cal("keepers_2021.flash_share"), "K6, assumed", "the takers "
                "that take through an exchange callee (the rest with their own DAI): not "
                "published; the one large auction seen before the day split about half and half "
                "(K6)",
                alternatives=cal_rows("keepers_2021.flash_share"), low=Fraction(0),
                high=Fraction(1)),
        Setting("taker_capital", cal("keepers_2021.capital_dai_total"), "K4", "the capital "
                "takers' DAI together: 'the keepers that exist can handle around 20 million' "
                "(2021-04-29), split evenly",
                alternatives=cal_rows("keepers_2021.capital_dai_total"), low=0, high=10**10),
        Setting("taker_margin", Fraction(1, 20), "assumed", "a capital taker takes when the "
                "venue's quote for the slice, less gas, is at least the price paid x (1 + this): "
                "not published", alternatives=(Fraction(1, 50), Fraction(1, 10)),
                low=Fraction(0), high=Fraction(9, 10)),
        Setting("flash_min_profit", Fraction(0), "assumed", "the callee's minProfit over the "
                "DAI owed (the gas is counted apart): not published",
                alternatives=(Fraction(1, 100),), low=Fraction(0), high=Fraction(1, 2)),
        Setting("taker_gas", "p60", "assumed", "the takers' gas bid", alternatives=("p30",),
                choices=("node30", "node60", "p30", "p60")),
        Setting("resale_hours", Fraction(cal("keepers_2021.capital_resale_hours")), "assumed",
                "hours before a capital taker's "
                "collateral is resold (a flash taker's is sold in the take, K2): no 2021 source",
                alternatives=tuple(Fraction(x) for x in
                                   cal_rows("keepers_2021.capital_resale_hours")),
                low=Fraction(0), high=Fraction(72)),
        Setting("gas_bark", 200_000, "assumed", "gas of a bark and its kick: not published (a "
                "kick cost $100 to $300 in the week, N9)", low=21_000, high=5_000_000),
        Setting("gas_redo", 100_000, "assumed", "gas of a redo", low=21_000, high=5_000_000),
        Setting("gas_take", 150_000, "assumed", "gas of a take with the taker's DAI",
                low=21_000, high=5_000_000),
        Setting("gas_flash_take", 300_000, "assumed", "gas of a take through a callee and a "
                "Uniswap v2 swap", low=21_000, high=5_000_000),
        Setting("gas_scale", Fraction(1), "assumed", "every call's gas above x this",
                alternatives=(Fraction(1, 2), Fraction(2)), low=Fraction(1, 10),
                high=Fraction(10)),
        # the outside market (outside.py) and the pool (pool.py)
        Setting("outside", "open", "issue 64", "open: capital takers resell on the outside venue "
                "(its impact and memory, the day's candles), flash sales pass from the pool to "
                "it, DAI at its price; closed: at the step's close, no impact, DAI at par",
                alternatives=("closed",), choices=("open", "closed")),
        *market_settings(cal("venue.share_2021_05_19"), cal_rows("venue.share_2021_05_19"),
                         "V2, V3, D1, assumed", "the price file's share of the whole ETH spot "
                         "market's volume: the file traded $293M (D1) of about $20B a day (V3); "
                         "at most 17% (Bitfinex's ETH/USD alone traded $1.7B, V2)"),
        Setting("dai_price", cal("stablecoin_2021.price"), "S2, S3", "DAI's price [USD]: the "
                "PSM sold DAI at tin 0.1% and was not exhausted",
                alternatives=cal_rows("stablecoin_2021.price"), low=Fraction(1, 2),
                high=Fraction(2)),
        Setting("reserves_offset", cal("data.uniswap_reserves_2021_offset"), "D2", "the "
                "reserves file's rows run 7 hours ahead of their labels (its prices match the "
                "ETH/USD bar 42 rows later)",
                alternatives=(0,), low=0, high=86_400),
        # block space
        Setting("block_gas", cal("block_2021.gas_limit"), "N1, N2", "the block gas limit (15M "
                "from 2021-04-22); 0: no bound", low=0, high=100_000_000),
        Setting("competing_gas", cal("block_2021.competing_gas_share"), "N4, D6", "the share "
                "of block gas the day's other traffic used (94B of 99B a day): the keepers land "
                "at most the rest (the calibration's upper row, 1, leaves them nothing: 0.99 "
                "stands for it)",
                alternatives=(cal_rows("block_2021.competing_gas_share")[0], Fraction(99, 100)),
                low=Fraction(0), high=Fraction(99, 100)),
    )
}  # fmt: skip


def dai_price(v: Values) -> StablePrice:
    return StablePrice.constant(int(v.dai_price * WAD))


def eve(v: Values, data: DayData) -> list[Vault]:
    """The eve's ETH-A vaults (eve_2021.py) at the first bar's close."""
    population = eve_vaults(
        Fraction(data.prices.columns["close"][0], WAD), v.eve_debt, v.vaults, v.ratio_scale
    )
    return [Vault(f"vault-{k}", e.collateral, e.debt) for k, e in enumerate(population)]


def _f(name: str):
    """A band's figure: ClipFigures.of(run).<name> (clip_figures.py)."""
    return lambda r, debt: getattr(ClipFigures.of(r), name)


INF = float("inf")
# Fixed before the first comparison run (bands.md of issue 64's market calibration): the id,
# the figure, history's value with its sources, the band and its unit.
BANDS = (
    Band("loss (debt not covered) / debt liquidated, ETH-A",
         "all types: about 12,000 DAI of 41.1M, 0.03% (O1, D4); ETH-A 81 DAI", 0.0, 0.0005,
         _f("loss_share"), id="B1"),
    Band("debt liquidated, with penalty (Σ tab at kick)",
         "all types about 50M with two overnight waves; 46.4M of tab behind the penalty (D4); "
         "'over 40M' sold (O2); $60M (O3)", 0.0, 50e6, _f("debt_liquidated"), unit="DAI",
         id="B2"),
    Band("penalty collected / debt liquidated", "12.44% against a 13% chop, all types (O1)",
         0.115, 0.130, _f("penalty_share"), id="B3"),
    Band("mean discount of takes below the bar's close", "about 6% to 7% below market, ETH-A "
         "(O1, an estimate from off-chain prices)", 0.03, 0.12, _f("discount_market"), id="B4"),
    Band("worst take's discount below the OSM", "two ETH-A vaults about 25% under the OSM; "
         "'slippage towards OSM was 28%' (O1)", 0.15, 0.35, _f("discount_osm_worst"), id="B5"),
    Band("kick to last take, median", "mean 30 to 50 min per vault type, about 40 expected (O1, "
         "D3)", 25.0, 60.0, _f("minutes_median"), unit="minutes", id="B6"),
    Band("kick to last take, the longest", "the two worst ETH vaults 80 to 200 min (O1)", 0.0,
         210.0, _f("minutes_max"), unit="minutes", id="B6"),
    Band("auctions won for nothing (a take under 1% of the market)", "none (K4: Dutch auctions "
         "make zero bids impossible)", 0.0, 0.0, _f("for_nothing"), unit="count", id="B7"),
    Band("auctions kicked", "177, all types (O1)", 0.0, 177.0, _f("kicked"), unit="count",
         id="B8"),
    Band("keeper incentives paid (kicks and redos)", "not in the text; by the settings 0.1% of "
         "each tab, tip 0 (L1, L5)", 0.0, 100_000.0, _f("incentives"), unit="DAI", id="B9"),
    Band("collateral returned to the owner / the lot, median", "'closer to 20% for ETH-A' "
         "normally (O1)", 0.10, 0.30, _f("returned_median"), id="B10"),
)  # fmt: skip
# B11 (unsafe vaults not kicked within a bar): no band, reported (expected above 0, O4)
NO_BAND = ("B11", "unsafe vaults not kicked within a bar of becoming unsafe",
           "'some smaller Vaults were not necessarily kicked immediately' (O4)")  # fmt: skip
