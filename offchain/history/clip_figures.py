"""A run's figures under the model of MakerDAO's Liquidations 2.0 (replay/clip.py; not Backstop's
mechanism), as the bands of a day (days/may_2021.py, from bands.md of the market calibration)
define them. Each is computed from the run's exact amounts; floats only for the report.

- loss: per finished auction, the debt it took (`due`) less the DAI it raised, where positive;
  over the debt the finished auctions took (B1);
- debt liquidated: Σ tab at kick, the debt with its penalty (B2);
- penalty collected: per finished auction, the DAI raised beyond the debt, where positive; over
  the debt the finished auctions took (B3);
- discount to the market: per take, 1 - its price [DAI] / the close of its bar [USD] (DAI at
  par for this comparison: 1.000 to 1.005 on the day, S2); the mean over takes (B4);
- discount to the OSM: the worst take's, 1 - price / the OSM's price then (B5);
- kick to last take: per finished auction [min]; the median and the longest (B6);
- auctions won for nothing: auctions with a take under 1% of its bar's close (B7);
- auctions kicked (B8);
- incentives: paid at kicks and redos [DAI]; checked against chip x Σ tab + what redos paid (B9);
- returned: per finished auction, the lot given back to the owner over the lot at kick; the
  median (B10);
- late kicks: vaults unsafe at the oracle's price that no bark reached within a bar (B11);
  counted as such when the day ended first.

Auctions still running when the day ends are counted apart (`open`, `open_tab`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from fractions import Fraction

from offchain.history.replay.clip import ClipDayResult

__all__ = ["ClipFigures", "FOR_NOTHING"]

RAD = 10**45
RAY = 10**27
WAD = 10**18
FOR_NOTHING = Fraction(1, 100)  # a take under 1% of the market: won "for nothing"


@dataclass(frozen=True)
class ClipFigures:
    kicked: int
    finished: int
    open: int
    open_tab: float  # [DAI] the tab still wanted by the auctions running at the end
    debt_liquidated: float  # Σ tab at kick [DAI]
    debt_taken: float  # Σ due of the finished auctions [DAI]
    loss: float  # [DAI]
    loss_share: float
    penalty: float  # [DAI]
    penalty_share: float
    takes: int
    flash_takes: int
    discount_market: float  # mean over takes
    discount_osm_worst: float
    minutes_median: float
    minutes_max: float
    for_nothing: int
    incentives: float  # [DAI]
    incentives_identity: bool  # = chip x Σ tab + the redos' (the Clipper's own arithmetic)
    returned_median: float
    late_kicks: int
    unsafe_vaults: int
    raised: float  # [DAI]
    deficit: float  # [DAI] the Vow's: system debt less DAI (incentives included)

    @classmethod
    def of(cls, r: ClipDayResult, chip: int = WAD // 1000) -> ClipFigures:
        done = r.finished
        takes = [t for a in r.auctions for t in a.takes]
        due = sum(a.due for a in done)
        loss = sum(max(0, a.due - a.raised) for a in done)
        penalty = sum(max(0, a.raised - a.due) for a in done)
        # price [ray, DAI per ETH] / close [wad, USD per ETH]
        market = [1 - t.price / (t.close * 1e9) for t in takes]
        osm = [1 - t.price / (t.osm * 1e9) for t in takes]
        minutes = [(a.ended - a.kicked) / 60 for a in done if a.ended is not None]
        returned = [a.returned / a.lot for a in done if a.lot]
        cheap = {
            a.id
            for a in r.auctions
            for t in a.takes
            if t.price * WAD < FOR_NOTHING.numerator * t.close * RAY // FOR_NOTHING.denominator
        }
        expected = sum(a.tab * chip // WAD for a in r.auctions) + sum(
            a.redo_coin for a in r.auctions
        )
        late = sum(
            1
            for u, t in r.first_unsafe.items()
            if r.first_bark.get(u, r.end + r.bar + 1) - t > r.bar
            and (r.first_bark.get(u) is not None or r.end - t >= r.bar)
        )
        nan = float("nan")
        return cls(
            kicked=r.kicked,
            finished=len(done),
            open=r.kicked - len(done),
            open_tab=sum(a.tab - a.raised for a in r.auctions if a.ended is None) / RAD,
            debt_liquidated=r.debt_liquidated / RAD,
            debt_taken=due / RAD,
            loss=loss / RAD,
            loss_share=float(Fraction(loss, due)) if due else nan,
            penalty=penalty / RAD,
            penalty_share=float(Fraction(penalty, due)) if due else nan,
            takes=len(takes),
            flash_takes=sum(t.flash for t in takes),
            discount_market=statistics.fmean(market) if market else nan,
            discount_osm_worst=max(osm) if osm else nan,
            minutes_median=statistics.median(minutes) if minutes else nan,
            minutes_max=max(minutes) if minutes else nan,
            for_nothing=len(cheap),
            incentives=r.incentives / RAD,
            incentives_identity=r.incentives == expected,
            returned_median=statistics.median(returned) if returned else nan,
            late_kicks=late,
            unsafe_vaults=len(r.first_unsafe),
            raised=r.dai_raised / RAD,
            deficit=r.deficit / RAD,
        )
