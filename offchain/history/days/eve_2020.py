"""The ETH-A vaults on the eve of Black Thursday (2020-03-12), built from published pre-crash
aggregates only, for the history check's model of MakerDAO's 2020 auctions (issue 48; sources in
docs/history.md, "Sources"). Not a record of the real vaults: no list of them was published.

What is published, and used (each fact's id in docs/history.md):

- the DAI drawn against ETH: about 114M on 2020-02-27 (C2);
- the debt-weighted collateralization: 27M of 115M at or under 225%, 57M at or under 275%, 65M
  at or under 300% (2020-02-20, C4), and a debt-weighted mean of about 330% (C5);
- the concentration: the top three vaults hold 25% of the debt, the top fifteen about half, and
  the top three are at about 275% (2020-02-27, C5);
- the liquidation ratio (150%) and the dust (20 DAI) of ETH-A (A6, A7).

What is not published, and assumed (each a parameter, and a row of the sensitivity table):

- the number of vaults (`vaults`);
- that the distribution of 2020-02-20 still held on the eve (`ratio_scale` 1: owners kept their
  ratios as the price moved; another scale moves every ratio but the liquidation floor's);
- that the top three are of one size and one ratio, and that sizes fall from the fourth vault on
  as a power of the rank (a Zipf law), its exponent set so that the fourth to fifteenth hold the
  published 25% and the rest the other 50%;
- within each published band, the ratio spread evenly over the debt; above 300%, an exponential
  tail whose mean gives the published 330% overall.

Amounts are integers: debt in DAI wad, collateral in ETH wad, ratios as Fractions. The seed only
orders the vaults below the top three before their ratios are assigned (a stratified draw: the
debt-weighted distribution is met within the largest such vault's share).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction

WAD = 10**18


@dataclass(frozen=True)
class EveFacts:
    """The published aggregates (see the module's docstring for each one's source)."""

    debt: int  # DAI drawn against ETH-A [wad]
    # debt-weighted cumulative shares: (ratio, share of the debt at or under it), ascending
    bands: tuple[tuple[Fraction, Fraction], ...]
    mean_ratio: Fraction  # debt-weighted mean collateralization
    top3_share: Fraction
    top15_share: Fraction
    top3_ratio: Fraction
    liquidation_ratio: Fraction
    dust: int  # [wad]


PUBLISHED = EveFacts(
    debt=114_000_000 * WAD,
    bands=(
        (Fraction(225, 100), Fraction(27, 115)),
        (Fraction(275, 100), Fraction(57, 115)),
        (Fraction(300, 100), Fraction(65, 115)),
    ),
    mean_ratio=Fraction(330, 100),
    top3_share=Fraction(1, 4),
    top15_share=Fraction(1, 2),
    top3_ratio=Fraction(275, 100),
    liquidation_ratio=Fraction(3, 2),
    dust=20 * WAD,
)


@dataclass(frozen=True)
class Assumptions:
    """What no source gives (the module's docstring); each is a row of the sensitivity table."""

    vaults: int = 5_000
    ratio_scale: Fraction = Fraction(1)
    seed: int = 20200312


@dataclass(frozen=True)
class EveVault:
    collateral: int  # ETH [wad]
    debt: int  # DAI [wad]
    ratio: Fraction  # collateral value at the eve's price / debt, as drawn


class PopulationError(ValueError):
    """Facts or assumptions that cannot make a population; the message is one line."""


def zipf_exponent(
    vaults: int, head: int = 3, middle: int = 15, ratio: Fraction = Fraction(2)
) -> float:
    """The exponent a of debt ~ rank**-a (ranks head+1 ... vaults) for which ranks middle+1 ...
    vaults hold `ratio` times what ranks head+1 ... middle hold (the published 50% against
    25%). Bisection: the ratio falls as a rises."""
    if vaults <= middle:
        raise PopulationError(f"vaults: must be more than {middle}, got {vaults}")

    def tail_over_middle(a: float) -> float:
        mid = sum(k**-a for k in range(head + 1, middle + 1))
        return sum(k**-a for k in range(middle + 1, vaults + 1)) / mid

    lo, hi = 0.0, 20.0
    if tail_over_middle(lo) < ratio:
        raise PopulationError(
            f"vaults: {vaults} are too few for the published concentration (ranks "
            f"{middle + 1}+ cannot hold {ratio} times ranks {head + 1}-{middle})"
        )
    for _ in range(200):
        a = (lo + hi) / 2
        if tail_over_middle(a) > ratio:
            lo = a
        else:
            hi = a
    return (lo + hi) / 2


def debts(facts: EveFacts, vaults: int) -> list[int]:
    """Each vault's debt [wad], largest first: the top three equal, then a Zipf law (the
    docstring), each at least the dust; rounded down, the last vault takes the rest."""
    a = zipf_exponent(
        vaults, 3, 15, (1 - facts.top15_share) / (facts.top15_share - facts.top3_share)
    )
    top = [facts.debt * facts.top3_share.numerator // (3 * facts.top3_share.denominator)] * 3
    weights = [k**-a for k in range(4, vaults + 1)]
    middle = sum(weights[:12])
    middle_debt = facts.debt * (facts.top15_share - facts.top3_share)
    out = top + [
        max(facts.dust, int(middle_debt * Fraction(w) / Fraction(middle))) for w in weights
    ]
    out[-1] += facts.debt - sum(out)
    if out[-1] < facts.dust:
        raise PopulationError(f"vaults: {vaults} vaults leave the smallest under the dust")
    return out


def _inverse_cdf(facts: EveFacts, u: Fraction, rest: Fraction, tail_mean: Fraction) -> Fraction:
    """The ratio at debt-weighted quantile `u` of the vaults below the top three (the bands with
    the top three's debt taken out of theirs, normalised to `rest`)."""
    points = [(facts.liquidation_ratio, Fraction(0))]
    taken = Fraction(0)
    for ratio, share in facts.bands:
        if ratio >= facts.top3_ratio and taken == 0:
            taken = facts.top3_share
        points.append((ratio, (share - taken) / rest))
    for (r0, c0), (r1, c1) in zip(points, points[1:]):
        if u <= c1:
            return r0 + (r1 - r0) * (u - c0) / (c1 - c0)
    r_last, c_last = points[-1]
    # exponential tail above the last band: excess over r_last with mean tail_mean
    p = (u - c_last) / (1 - c_last)
    return r_last + Fraction(-math.log1p(-float(p))) * tail_mean


def tail_mean(facts: EveFacts) -> Fraction:
    """The mean excess over the last band (300%) that gives the published mean overall."""
    total = facts.top3_share * facts.top3_ratio
    low, low_share = facts.liquidation_ratio, Fraction(0)
    for ratio, share in facts.bands:
        band = share - low_share - (facts.top3_share if low < facts.top3_ratio <= ratio else 0)
        total += band * (low + ratio) / 2
        low, low_share = ratio, share
    tail_share = 1 - facts.bands[-1][1]
    mean_excess = (facts.mean_ratio - total) / tail_share - facts.bands[-1][0]
    if mean_excess <= 0:
        raise PopulationError("mean_ratio: too low for the published bands")
    return mean_excess


def eve_population(
    price: Fraction, facts: EveFacts = PUBLISHED, assume: Assumptions = Assumptions()
) -> list[EveVault]:
    """The vaults, largest first, at the eve's ETH price `price` [DAI per ETH]."""
    sizes = debts(facts, assume.vaults)
    rest = 1 - facts.top3_share
    excess = tail_mean(facts)
    order = list(range(3, assume.vaults))
    random.Random(assume.seed).shuffle(order)
    ratios: dict[int, Fraction] = {k: facts.top3_ratio for k in range(3)}
    rest_debt = sum(sizes[3:])
    below = 0
    for k in order:
        u = Fraction(2 * below + sizes[k], 2 * rest_debt)  # the vault's debt-weighted midpoint
        ratios[k] = _inverse_cdf(facts, u, rest, excess)
        below += sizes[k]
    out = []
    for k, debt in enumerate(sizes):
        ratio = ratios[k]
        if assume.ratio_scale != 1:  # every ratio moved, none below the liquidation floor
            floor = facts.liquidation_ratio
            ratio = max(floor, ratio * assume.ratio_scale)
        collateral = int(debt * ratio / price)
        out.append(EveVault(collateral, debt, ratio))
    return out
