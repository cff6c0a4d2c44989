"""The outside venue: the market beyond the keepers' pool, where collateral bought in auctions
leaves and where keepers' stablecoin comes back from. One room for every caller: Backstop's runs
(the takers' resales, the arbitrageur's rebalancing, the end-of-run mark) and the models of other
protocols' days (offchain/history/) trade with the same `Venue`.

**The law.** A sale of Q tokens moves the price by the square-root law of market impact,

    I(Q) = Y x sigma x sqrt(Q / V),

where sigma and V are the price's volatility and the whole market's traded volume over the same
window (the law is the same for any window over which both are measured: sigma^2 and V both
grow with its length). Y, the law's prefactor, and the data file's share of the whole market's
volume are sourced settings (data/market/calibration.toml); so is the decay below.

**The depth moves through the day with the day's own data** (`depths_from_candles`): for each
bar, sigma is the Parkinson estimate from the bar's high and low (ln(high/low)^2 / (4 ln 2) per
bar, summed over the trailing `window` bars), V the file's `volume_eth` over the same bars
divided by the file's share of the market. A bar after the data (a run's tail, a drain, the
end-of-run mark) keeps the last bar's depth. Everything is an integer (wad) from the loader on:
the logarithms are taken once, with Python's correctly rounded decimal arithmetic, so a chain run
and a model run (and every platform) see the same venue to the wei.

**Memory and its decay.** The venue remembers the signed flow it took (sales positive, purchases
negative) as an effective quantity Q_eff(t) = sum of q_i x tau / (tau + t - t_i): a flow's weight
falls as 1 / (1 + elapsed / tau), so its impact (the square root) decays as
(1 + elapsed / tau)^(-1/2), the inverse-square-root decay of the "double square-root law"; the
decay is complete in the long run (uninformed flow). The market price every actor sees is the
fundamental price x (1 - I(Q_eff)) (`price`).

**A trade walks the curve**: the marginal price after an effective flow Q is F x (1 - c x
sign(Q) sqrt(|Q|)) with c = Y sigma / sqrt(V), so a trade of x tokens (signed) from Q0 receives

    F x (x - c x 2/3 x (h(Q0 + x) - h(Q0))),   h(Q) = |Q|^(3/2)

(a sale from Q0 = 0 gets the average price F x (1 - 2/3 I(x)), the law's execution cost), never
less than 0 for a sale and never a price below `FLOOR` x F (a sale large enough to push the
curve below it gets the floor for the rest; the law has no meaning there, and the report says
how often that happened: `floored`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from offchain.model.fixed_point import WAD
from offchain.model.venue_curve import FLOOR, isqrt_wad, walk

__all__ = [
    "FLOOR",
    "Depth",
    "Venue",
    "VenueParams",
    "depths_from_candles",
    "isqrt_wad",
]


@dataclass(frozen=True)
class VenueParams:
    """The venue's sourced settings (data/market/calibration.toml names each source)."""

    coefficient: int  # Y, the law's prefactor [wad]
    share: int  # the data file's share of the whole market's traded volume [wad], (0, 1]
    decay: int  # tau [s]: a flow's weight falls as tau / (tau + elapsed)
    window: int = 6  # bars of trailing data a bar's depth reads


@dataclass(frozen=True)
class Depth:
    """A bar's depth: the whole market's `volume` [tokens, wad] and the price's volatility
    `sigma` [wad] over the bar's window."""

    volume: int
    sigma: int


def _parkinson_variance(high: int, low: int) -> Decimal:
    """A bar's variance of log price from its range: ln(high / low)^2 / (4 ln 2)."""
    if high <= 0 or low <= 0 or high <= low:
        return Decimal(0)
    r = (Decimal(high) / Decimal(low)).ln()
    return r * r / (4 * Decimal(2).ln())


def depths_from_candles(
    highs: Sequence[int],
    lows: Sequence[int],
    volumes: Sequence[int],
    params: VenueParams,
) -> list[Depth]:
    """Each bar's depth (module docstring) from the file's `highs`, `lows` [wad prices] and
    `volumes` [tokens, wad] per bar: the trailing `params.window` bars' summed Parkinson variance
    and volume, the volume scaled to the whole market by the file's share."""
    n = len(highs)
    if not (len(lows) == len(volumes) == n):
        raise ValueError("highs, lows and volumes must have one value per bar")
    out: list[Depth] = []
    with localcontext() as ctx:
        ctx.prec = 50
        variances = [_parkinson_variance(h, lo) for h, lo in zip(highs, lows)]
        for b in range(n):
            first = max(0, b - params.window + 1)
            variance = sum(variances[first : b + 1], Decimal(0))
            volume = sum(volumes[first : b + 1]) * WAD // params.share
            sigma = int(variance.sqrt() * WAD)
            out.append(Depth(volume, sigma))
    return out


@dataclass
class Venue:
    """The outside venue of one collateral type (module docstring). `depths[b]` is bar b's
    depth; a bar past the last keeps the last's. Trades are recorded as (time, signed tokens)."""

    params: VenueParams
    depths: list[Depth]
    flows: list[tuple[int, int]] = field(default_factory=list)  # (time, signed tokens [wad])
    floored: int = 0  # trades that reached the floor
    sold: int = 0  # tokens [wad] sold to the venue, in all
    bought: int = 0  # tokens [wad] bought from it, in all
    _cache: tuple | None = field(default=None, repr=False, compare=False)
    # each bar's (Y x sigma, sqrt(V)): the depth never changes, a run quotes it many times a bar
    _coefficients: dict[int, tuple[int, int]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def depth(self, bar: int) -> Depth:
        return self.depths[min(max(bar, 0), len(self.depths) - 1)]

    def effective(self, now: int) -> int:
        """Q_eff at `now` [signed tokens, wad]: every flow so far, weighted tau / (tau + age)
        (each term rounded toward 0). Kept for the last `now` asked until the next trade: a
        taker values many lots at one moment."""
        key = (now, len(self.flows), self.flows[-1] if self.flows else None)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        tau = self.params.decay
        total = 0
        for t, q in self.flows:
            age = max(now - t, 0)
            total += q * tau // (tau + age) if q >= 0 else -((-q) * tau // (tau + age))
        self._cache = (key, total)
        return total

    def _c(self, bar: int) -> tuple[int, int]:
        """(Y x sigma [wad x wad], sqrt(V) [wad]) of bar `bar`: c = first / WAD / second."""
        found = self._coefficients.get(bar)
        if found is None:
            d = self.depth(bar)
            found = self._coefficients[bar] = (
                self.params.coefficient * d.sigma,
                isqrt_wad(d.volume),
            )
        return found

    def impact(self, bar: int, q_eff: int) -> int:
        """I(Q_eff) [wad, signed: positive lowers the price], capped at 1 - FLOOR."""
        num, root_v = self._c(bar)
        if root_v == 0 or q_eff == 0:
            return 0
        root_q = isqrt_wad(abs(q_eff))
        i = num * root_q // (WAD * root_v)
        i = min(i, WAD - FLOOR)
        return i if q_eff > 0 else -i

    def price(self, bar: int, now: int, fundamental: int) -> int:
        """The market price [wad] at `now` in bar `bar`: the fundamental x (1 - I(Q_eff))."""
        return fundamental * (WAD - self.impact(bar, self.effective(now))) // WAD

    def quote(self, bar: int, now: int, fundamental: int, tokens: int) -> int:
        """What a trade of `tokens` [wad, signed: + sells to the venue, - buys from it] receives
        [stablecoin-USD, wad; negative: pays], walking the curve from Q_eff at `now`; nothing
        is recorded. A sale receives at least the floor price for what the curve would price
        below it; a purchase pays the curve (no cap above)."""
        return self._walk(bar, now, fundamental, tokens)[0]

    def trade(self, bar: int, now: int, fundamental: int, tokens: int) -> int:
        """The trade `quote` prices, recorded: the venue remembers the flow."""
        value, floored = self._walk(bar, now, fundamental, tokens)
        if tokens:
            cached = self._cache is not None and self._cache[0][0] == now
            q_eff = self.effective(now) if cached else None
            if self.flows and self.flows[-1][0] == now:
                t, q = self.flows[-1]
                self.flows[-1] = (t, q + tokens)
            else:
                self.flows.append((now, tokens))
            if q_eff is not None:
                # a flow at `now` has age 0, weight tau / tau = 1: Q_eff moves by the trade
                # exactly, so the sum over every flow need not be taken again at this moment
                self._cache = ((now, len(self.flows), self.flows[-1]), q_eff + tokens)
            if tokens > 0:
                self.sold += tokens
            else:
                self.bought -= tokens
            self.floored += floored
        return value

    def _walk(self, bar: int, now: int, fundamental: int, tokens: int) -> tuple[int, int]:
        if tokens == 0:
            return 0, 0
        num, root_v = self._c(bar)
        return walk(self.effective(now), tokens, num, root_v, fundamental)

    def coefficients(self, bar: int) -> tuple[int, int]:
        """(Y x sigma [wad x wad], sqrt(V) [wad]) of bar `bar`: what a venue on chain is synced
        with (offchain/model/outside_venue.py)."""
        return self._c(bar)
