"""A model of MakerDAO's 2020 Flipper and Cat, not a twin of any Backstop contract: Black Thursday
(2020-03-12) as it happened, a day file of settings (days/__init__.py) run by the flip family's
day runner (replay/flip.py): set up from sources published before the crash (or reading the live
values of the day) and nothing chosen by looking at the outcome; then the figures history
published, beside the model's.

Every input is a `Setting` (days/settings.py): its value, where it comes from (an id of
docs/history.md's source table, or "assumed" when no source gives it) and, for an assumption,
the values the sensitivity table runs instead. The settings of the 2020 mechanism and keepers
were fixed in one commit before the first comparison run (2c2a32d, docs/history.md); the
outside market's (`outside` and the venue's) in another before the re-run on the new market;
a later change to any value is a new commit that says why.

The day's data (data/market/) covers 2020-03-12 00:00-23:50 UTC only; the crash went on into
2020-03-13 (the low of the two days, about 96, came some 26 hours after 1 AM PT). What happened
on the 13th is not in the model; history's figures cover both days.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from fractions import Fraction

from offchain.history.days import DayData
from offchain.history.days.calibration import cal, cal_rows, market_settings
from offchain.history.days.eve_2020 import PUBLISHED, Assumptions, eve_population
from offchain.history.days.settings import Band, Setting, Values
from offchain.history.mechanisms.flip import DAY_2020_03_12
from offchain.history.replay.flip import DayResult, Vault
from offchain.model.fixed_point import WAD
from offchain.sim.market.stable_price import StablePrice

NAME = "black-thursday-2020"
FAMILY = "flip"
DATE = "2020-03-12"
TITLE = "Black Thursday (2020-03-12) under MakerDAO's 2020 Cat and Flipper"
FILES = {"prices": f"eth_usd_{DATE}.csv", "gas": f"gas_{DATE}.csv"}


# the outside market's settings (days/calibration.py) with this day's price file's share of the
# market, and DAI's price
MARKET_SETTINGS = (
    *market_settings(cal("venue.share_2020_03_12"), cal_rows("venue.share_2020_03_12"),
                     "V4, V5, D1, assumed", "the price file's share of the whole ETH spot "
                     "market's volume: the file traded $18.5M (D1); only all-asset totals were "
                     "found (V4, V5)"),
    Setting("dai_price", cal("stablecoin_2020.constant"), "S1, F8", "DAI's price [USD]: the "
            "day's VWAP in StableSims' DAI/USD bars (1.0365; the feed itself is not shipped); "
            "the rows are the day's lowest low and highest high",
            alternatives=cal_rows("stablecoin_2020.constant"), low=Fraction(1, 2),
            high=Fraction(2)),
)  # fmt: skip


def utc(hhmm: str) -> int:
    return int(datetime.fromisoformat(f"{DATE}T{hhmm}:00+00:00").astimezone(UTC).timestamp())


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("flip", DAY_2020_03_12, "A1-A5, A7", "beg 3%, ttl 600 s, tau 3 days, lump 50 ETH, "
                "chop 13%, dust 20 DAI: the live values (the 3/12 spell's tests assert them)"),
        Setting("oracle_delay", 3600, "B1", "the OSM's hop: one hour", low=60, high=86_400),
        Setting("oracle_phase", 0, "assumed", "seconds from the first bar to the OSM's first "
                "poke: not published, an arbitrary choice, so every other phase of the hour the "
                "bars tell apart is a run", alternatives=(600, 1200, 1800, 2400, 3000), low=0,
                high=3599),
        Setting("oracle_stall_gwei", 100, "B2", "the price feeds' updates did not land while gas "
                "was over 100 gwei (a bar whose 30th percentile is over it)",
                alternatives=(None,), optional=True, low=1, high=10_000),
        Setting("oracle_stall_until", "17:00", "B2, assumed", "resolved by the time of the day's "
                "governance call (B2); the call's summary gives no hour: 17:00 UTC is the weekly "
                "call's later hour (episode 142), assumed", alternatives=("14:00", "20:00")),
        Setting("eve_debt", PUBLISHED.debt, "C2", "DAI drawn against ETH, 2020-02-27: 114M",
                alternatives=(100_000_000 * WAD,), unit=WAD, low=10**6 * WAD, high=10**11 * WAD),
        Setting("vaults", 5_000, "assumed", "no vault count was published (docs/history.md, H)",
                alternatives=(1_000, 20_000), low=16, high=100_000),
        Setting("ratio_scale", Fraction(1), "assumed", "the 2020-02-20 ratio distribution (C4) "
                "still held on the eve: owners kept their ratios as ETH fell",
                alternatives=(Fraction(9, 10), Fraction(11, 10)), low=Fraction(1, 2),
                high=Fraction(4)),
        Setting("biter_gas", "node30", "F5, G1", "bites at the node's default gas price: geth "
                "1.9's is the 60th percentile of each recent block's lowest price (G1), under the "
                "bar's 30th percentile on a congested day: the bar before's 30th percentile "
                "stands for it (an upper bound)", alternatives=("node60", "p60"),
                choices=("node30", "node60", "p30", "p60")),
        Setting("bites_per_step", 4, "A13, F5", "bites of one vault a minute: the reference "
                "keeper bites every unsafe vault on every block (about 13 s), one auction a block "
                "(A13); the 2020 Cat has no limit", alternatives=(1, None), optional=True, low=1,
                high=1_000),
        Setting("bidders", 3, "assumed", "how many keepers bid honestly: not published (F2; 2021's "
                "ETH-A flips averaged 3.67 bidders)", alternatives=(1, 6), low=0, high=100),
        Setting("bidder_capital", cal("keepers_2020.capital_dai"), "calibrated (E1, E2)",
                "DAI each honest keeper holds: not published; calibrated on this day's two "
                "bands, the interval's middle (3.25M to 5.75M put both within; docs/history.md, "
                "'Keeper capital')", alternatives=cal_rows("keepers_2020.capital_dai"), low=0,
                high=10**10),
        Setting("bidder_margin", Fraction(1, 10), "assumed", "an honest keeper bids the market "
                "price less this: not published", alternatives=(Fraction(1, 20), Fraction(1, 5)),
                low=Fraction(0), high=Fraction(99, 100)),
        Setting("bidder_gas", "node30", "F5, G1", "the reference auction-keeper sent bids at "
                "the node's default gas price, without escalation (as biter_gas)",
                alternatives=("node60", "p60"), choices=("node30", "node60", "p30", "p60")),
        Setting("late_landing", "uniform", "assumed", "a transaction the gas model delays a bar "
                "lands at a uniformly drawn minute of the next ten (seeded), not exactly ten "
                "minutes later: that is the flip's ttl, and every delayed counter-bid would "
                "arrive just too late", alternatives=("bar",), choices=("uniform", "bar")),
        Setting("lowballers", 1, "F1", "one keeper bid near zero at 300 gwei (four addresses "
                "overall, E3)", low=0, high=100),
        Setting("lowball_gas_gwei", 300, "F1", "the low bidder's gas price", low=1,
                high=100_000),
        Setting("resale_hours", cal("keepers_2020.resale_hours"), "F9 (post)", "hours a keeper "
                "needed to turn ETH won back into DAI (6 to 8), from a call of 2020-03-18",
                alternatives=(0,), low=0, high=72),
        # the outside market (outside.py): where the keepers resell, and DAI's price
        Setting("outside", "open", "issue 64", "open: resales on the outside venue (its impact "
                "and memory, the day's candles) and DAI bought back at its price; closed: at the "
                "step's close, no impact, DAI at par (the model before the market room)",
                alternatives=("closed",), choices=("open", "closed")),
        *MARKET_SETTINGS,
        Setting("block_gas", cal("block_2020.gas_limit"), "N1, N3", "the block gas limit (10M "
                "from September 2019 to June 2020); 0: no bound", low=0, high=100_000_000),
        Setting("competing_gas", cal("block_2020.competing_gas_share"), "N5, D6, assumed",
                "the share of block gas the day's other traffic used (over 50B of about 66B a "
                "day from 2020-03-09): the keepers land at most the rest (the calibration's "
                "upper row, 1, leaves them nothing: 0.99 stands for it)",
                alternatives=(cal_rows("block_2020.competing_gas_share")[0], Fraction(99, 100)),
                low=Fraction(0), high=Fraction(99, 100)),
        Setting("gas_bite", 150_000, "assumed", "gas of a bite and its kick: not published",
                low=21_000, high=5_000_000),
        Setting("gas_bid", 100_000, "assumed", "gas of a tend or a dent", low=21_000,
                high=5_000_000),
    )
}  # fmt: skip


def dai_price(v: Values) -> StablePrice:
    """DAI's price through the day: a constant (S1's VWAP; the 10-minute feed is not shipped)."""
    return StablePrice.constant(int(v.dai_price * WAD))


def eve(v: Values, data: DayData) -> list[Vault]:
    """The eve's vaults (eve_2020.py: from published aggregates) at the first bar's close."""
    facts = replace(PUBLISHED, debt=v.eve_debt)
    population = eve_population(
        Fraction(data.prices.columns["close"][0], WAD),
        facts,
        Assumptions(vaults=v.vaults, ratio_scale=v.ratio_scale),
    )
    return [Vault(f"vault-{k}", e.collateral, e.debt) for k, e in enumerate(population)]


def _deficit_share(r: DayResult, debt: int) -> float:
    return float(Fraction(r.deficit, debt * 10**27))


BANDS = (
    Band("zero-bid share of the auctions dealt", "36% (E2)", 0.26, 0.46,
         lambda r, d: float(r.zero_bid_share)),
    # 5.67M (E1) of about 114M (C2): 4.97%; +/- 30%
    Band("deficit / ETH-A debt", "5.67M of ~114M: 4.97% (E1, C2; 4M to 6.65M: 3.5% to 5.8%)",
         0.0497 * 0.7, 0.0497 * 1.3, _deficit_share),
)  # fmt: skip
