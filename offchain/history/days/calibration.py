"""The outside market's calibration for the days of another protocol's history (MakerDAO's,
modelled; not Backstop's): the outside venue's sourced parameters (offchain/sim/market/venue.py:
the square-root law's prefactor, the data file's share of the whole market's volume, the
impact's decay, the window its depth is read over) and DAI's price through a day, each a
`Setting` with its source id (docs/history.md's source table: M, V, S, N ids, from the market
calibration of issue 64), fixed in a commit before any run was compared with history.

The values and their rows are read from the lab's one home of the calibration,
data/market/calibration.toml (offchain/sim/market/calibration.py: `cal`, `cal_rows`), so the
history days and the lab's built-in scenarios cannot drift apart.

Not run, because the shared venue fixes them: the law's exponent (0.5; the calibration's rows
0.4 and 0.6) and a permanent part of the impact (0; its row one third, M5). The venue's decay is
complete in the long run, as M1 finds for uninformed flow.
"""

from __future__ import annotations

from fractions import Fraction

from offchain.history.days.settings import Setting, Values
from offchain.model.fixed_point import WAD
from offchain.sim.market.calibration import setting
from offchain.sim.market.stable_price import StablePrice
from offchain.sim.market.venue import VenueParams

__all__ = ["cal", "cal_rows", "market_settings", "stable_price", "venue_params"]


def _exact(x: object) -> Fraction | int:
    """A calibration value as an exact number: an int stays one, a decimal is its Fraction."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise ValueError(f"not a number in the calibration: {x!r}")
    return x if isinstance(x, int) else Fraction(str(x))


def cal(path: str) -> Fraction | int:
    """The calibration's value at `path` ("impact.Y"), exact."""
    return _exact(setting(path).value)


def cal_rows(path: str) -> tuple[Fraction | int, ...]:
    """The calibration's sensitivity rows at `path`, exact."""
    return tuple(_exact(x) for x in setting(path).sensitivity)


# the square-root law's prefactor Y (I = Y sigma sqrt(Q / V)): "of order unity" (M3); the one
# measured value found, 0.69 raw (0.34 bias-corrected, M3); Donier & Bonart's own (M1) not found
IMPACT_COEFFICIENT = cal("impact.Y")
IMPACT_COEFFICIENT_ROWS = cal_rows("impact.Y")
# t0 of the impact's decay [s]: the shape is M4's inverse square root; its time scale is not
# published for a crypto venue: one bar, assumed, with a minute and the OSM's hour as rows
IMPACT_DECAY = cal("impact.decay_t0")
IMPACT_DECAY_ROWS = cal_rows("impact.decay_t0")
# bars of trailing candles a bar's depth reads (the lab's default, venue.py): the law holds for
# any window over which sigma and V are both measured
VENUE_WINDOW = 6


def market_settings(
    share: Fraction | int,
    share_rows: tuple[Fraction | int, ...],
    share_source: str,
    share_note: str,
) -> tuple[Setting, ...]:
    """The venue's settings of a day whose price file holds `share` of the whole market's
    volume (its rows, source and note the day's)."""
    return (
        Setting("impact_coefficient", IMPACT_COEFFICIENT, "M1, M3, assumed", "Y, the "
                "square-root law's prefactor (I = Y sigma sqrt(Q / V), M1): 'of order unity'; "
                "0.69 measured (0.34 bias-corrected), M3", alternatives=IMPACT_COEFFICIENT_ROWS,
                low=Fraction(1, 100), high=Fraction(10)),
        Setting("venue_share", share, share_source, share_note, alternatives=share_rows,
                low=Fraction(1, 10_000), high=Fraction(1)),
        Setting("impact_decay", IMPACT_DECAY, "M4, assumed", "t0 [s]: the impact of a flow "
                "decays as (1 + elapsed / t0)^(-1/2) (M4's shape); its time scale is not "
                "published: one bar", alternatives=IMPACT_DECAY_ROWS, low=1, high=30 * 86_400),
        Setting("venue_window", VENUE_WINDOW, "assumed", "bars (10 min) of trailing candles a "
                "bar's depth (volatility and volume) is read over (the lab's default)", low=1,
                high=144),
    )  # fmt: skip


def venue_params(v: Values) -> VenueParams:
    return VenueParams(
        coefficient=int(v.impact_coefficient * WAD),
        share=int(v.venue_share * WAD),
        decay=v.impact_decay,
        window=v.venue_window,
    )


def stable_price(points: tuple[tuple[int, Fraction], ...]) -> StablePrice:
    """DAI's price path from (time, price) points."""
    return StablePrice(tuple((t, int(p * WAD)) for t, p in points))
