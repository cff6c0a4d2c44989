"""The outside market's calibration for the days of another protocol's history (MakerDAO's,
modelled; not Backstop's): the outside venue's sourced parameters (offchain/sim/market/venue.py:
the square-root law's prefactor, the data file's share of the whole market's volume, the
impact's decay, the window its depth is read over) and DAI's price through a day, each a
`Setting` with its source id (docs/history.md's source table, M ids), fixed in a commit before
any run was compared with history.
"""

from __future__ import annotations

from fractions import Fraction

from offchain.history.days.settings import Setting, Values
from offchain.model.fixed_point import WAD
from offchain.sim.market.stable_price import StablePrice
from offchain.sim.market.venue import VenueParams

__all__ = ["market_settings", "stable_price", "venue_params"]

# the square-root law's prefactor Y (I = Y sigma sqrt(Q / V)) and its bounds
IMPACT_COEFFICIENT = Fraction(1)
# tau of the impact's decay [s]: a flow's weight falls as tau / (tau + elapsed)
IMPACT_DECAY = 600
# bars of trailing data a bar's depth reads
VENUE_WINDOW = 6


def market_settings(share: Fraction, share_source: str, share_note: str) -> tuple[Setting, ...]:
    """The venue's settings of a day whose price file holds `share` of the whole market's
    volume (its source and note the day's)."""
    return (
        Setting("impact_coefficient", IMPACT_COEFFICIENT, "M1", "Y, the square-root law's "
                "prefactor (I = Y sigma sqrt(Q / V))", alternatives=(Fraction(1, 2), Fraction(2)),
                low=Fraction(1, 100), high=Fraction(10)),
        Setting("venue_share", share, share_source, share_note,
                alternatives=(share / 2, min(Fraction(1), share * 2)), low=Fraction(1, 10_000),
                high=Fraction(1)),
        Setting("impact_decay", IMPACT_DECAY, "M3", "tau [s]: the impact of a flow decays as "
                "(1 + elapsed / tau)^(-1/2)", alternatives=(IMPACT_DECAY // 4, IMPACT_DECAY * 4),
                low=1, high=30 * 86_400),
        Setting("venue_window", VENUE_WINDOW, "M4", "bars (10 min) of trailing candles a bar's "
                "depth (volatility and volume) is read over", low=1, high=144),
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
