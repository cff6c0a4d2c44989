"""The market around another protocol's day (MakerDAO's 2020 and 2021 liquidations, modelled):
where the keepers of those days resell the collateral they win and buy back their DAI. Not a new
market: the shared market room of Backstop's lab (offchain/sim/market/), used as the lab uses it:

- `offchain.sim.market.capital.Resales`: collateral a keeper won waits for its resale delay (a
  day's sourced setting: 6 to 8 hours in 2020, F9), then is sold;
- `offchain.sim.market.venue.Venue`: the outside venue that prices the sale, its depth per bar
  from the day's own candles (`depths_from_candles`: the bar's high, low and volume, with the
  calibration's `VenueParams`), with the square-root law's impact and its decaying memory;
- `offchain.sim.market.capital.stable_for` with a `StablePrice`: the DAI the sale's dollars buy
  at DAI's own price then (a premium above 1 makes DAI dear: 1.04 to 1.22 on 2020-03-12, F8).

`outside = "closed"` switches all three off, as the 2020 model ran before the room existed: a
sale at the close of the step it is due in, no impact, DAI at par. Closed, the 2020 model gives
its old figures to the wei (tests/history/test_closed_market.py).

What the keepers see as the market price (`price`): the day's close, closed; the venue's price
(the close moved by the impact of the keepers' own sales, decaying), open. The oracle and the
value of a lot at its deal read the day's closes either way: the day as it was, whose prices
already carry the real keepers' sales; the venue adds the modelled keepers' own.

Amounts as dss: collateral [wad], DAI [rad] (a sale's DAI: closed, tokens x close exactly;
open, the venue's dollars [wad] over DAI's price, rounded down, x 1e27).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from offchain.model.fixed_point import RAY, WAD_TO_RAY
from offchain.sim.market.capital import Resales, stable_for
from offchain.sim.market.stable_price import PAR, StablePrice
from offchain.sim.market.venue import Venue, VenueParams, depths_from_candles
from offchain.sim.results.insolvency import MarkVenue, VenueMark
from offchain.sim.scenario.market_data import Series

__all__ = ["CLOSED", "OPEN", "DayMarket", "OutsideSpec"]

CLOSED, OPEN = "closed", "open"
GEM = "ETH"  # the collateral's name in the resale queue


@dataclass(frozen=True)
class OutsideSpec:
    """A day's outside market: `kind` CLOSED or OPEN; open, the venue's sourced `venue`
    parameters and DAI's `stable` price through the day; `resale` the delay [s] before a
    keeper's collateral is sold."""

    kind: str
    resale: int
    venue: VenueParams | None = None
    stable: StablePrice = PAR

    def __post_init__(self) -> None:
        if self.kind not in (CLOSED, OPEN):
            raise ValueError(f"outside must be {CLOSED!r} or {OPEN!r}, got {self.kind!r}")
        if self.kind == OPEN and self.venue is None:
            raise ValueError("an open outside market needs the venue's parameters")
        if self.resale < 0:
            raise ValueError(f"the resale delay must be >= 0, got {self.resale}")


@dataclass
class DayMarket:
    """The outside market of one day (module docstring): `prices` the day's closes, `candles`
    its high, low and volume (for an open venue)."""

    prices: Series
    spec: OutsideSpec
    candles: Series | None = None
    resales: Resales = field(default_factory=Resales)
    # every sale: (time, keeper, tokens [wad], DAI [rad])
    sales: list[tuple[int, str, int, int]] = field(default_factory=list)
    passed_on: int = 0  # tokens [wad] the pools' arbitrage carried to the venue
    venue: Venue | None = None

    def __post_init__(self) -> None:
        times = self.prices.times
        self.start = times[0]
        self.bar = times[1] - times[0] if len(times) > 1 else 600
        if self.spec.kind == OPEN:
            if self.candles is None or self.candles.times != times:
                raise ValueError("an open outside market needs the day's candles, bar by bar")
            assert self.spec.venue is not None
            c = self.candles.columns
            self.venue = Venue(
                self.spec.venue,
                depths_from_candles(c["high"], c["low"], c["volume_eth"], self.spec.venue),
            )

    @property
    def closed(self) -> bool:
        return self.venue is None

    def close(self, now: int) -> int:
        """The day's close at `now` [wad] (the bar's, held after the data)."""
        return self.prices.at("close", now)

    def bar_of(self, now: int) -> int:
        return (now - self.start) // self.bar

    def price(self, now: int) -> int:
        """The market price the keepers see at `now` [USD per token, wad] (module docstring)."""
        if self.venue is None:
            return self.close(now)
        return self.venue.price(self.bar_of(now), now, self.close(now))

    def dai_price(self, now: int) -> int:
        """DAI's price at `now` [USD, wad] (par when closed)."""
        return PAR.at(now) if self.venue is None else self.spec.stable.at(now)

    def hold(self, keeper: str, tokens: int, now: int) -> None:
        """`keeper` won `tokens` [wad] at `now`: queued for resale after the delay."""
        self.resales.add(keeper, GEM, tokens, now + self.spec.resale)

    def held(self, keeper: str) -> int:
        return self.resales.held(keeper, GEM)

    def due(self, now: int) -> list[tuple[str, int, int]]:
        """Sell what is due at `now`, in the order it was won: (keeper, tokens [wad], DAI
        [rad]) per keeper."""
        out = []
        for (keeper, _), tokens in self.resales.due(now).items():
            out.append((keeper, tokens, self.sell(keeper, tokens, now)))
        return out

    def sell(self, keeper: str, tokens: int, now: int) -> int:
        """`keeper` sells `tokens` [wad] outside at `now`: the DAI it gets [rad], recorded."""
        dai = self._dai(tokens, now, record=True)
        self.sales.append((now, keeper, tokens, dai))
        return dai

    def quote(self, tokens: int, now: int) -> int:
        """What selling `tokens` [wad] outside at `now` would bring [DAI, rad]; nothing
        recorded."""
        return self._dai(tokens, now, record=False)

    def pass_on(self, tokens: int, now: int) -> None:
        """`tokens` [wad] sold into a pool at `now` leave it for the venue (the pool's arbitrage):
        the venue remembers the flow; closed, nothing."""
        if self.venue is not None and tokens:
            self.venue.trade(self.bar_of(now), now, self.close(now), tokens)
            self.passed_on += tokens

    def mark(self, bars: int) -> MarkVenue:
        """The end-of-run mark's market (sim/results/insolvency.py's `VenueMark`), as Backstop's
        side builds its own: a copy of the venue with the day's memory, selling the open book
        in equal parts over `bars` bars after the last bar, at the last close."""
        venue = self.venue
        if venue is None:
            raise ValueError("a closed market has no venue to mark on")
        times = self.prices.times
        last = times[-1]

        def mark(total: int) -> VenueMark:
            return VenueMark(venue, len(times) - 1, last, self.bar, self.close(last), bars, total)

        return mark

    def _dai(self, tokens: int, now: int, record: bool) -> int:
        if self.venue is None:
            return tokens * self.close(now) * WAD_TO_RAY
        bar, close = self.bar_of(now), self.close(now)
        usd = (
            self.venue.trade(bar, now, close, tokens)
            if record
            else self.venue.quote(bar, now, close, tokens)
        )
        return stable_for(usd, self.spec.stable.at(now)) * RAY
