"""The ETH-A vaults on the eve of 2021-05-19, for the model of MakerDAO's Liquidations 2.0 (not
Backstop's mechanism; not a record of the real vaults: no list, histogram or count of them was
published for that eve).

What is published, and used: ETH-A's debt, about 2 billion DAI (P1: an aside of 2021-04-29, not
a measurement; its rows 1.5B and 2.5B), its liquidation ratio (150%) and dust (5,000 DAI, L3).

What is not, and assumed (each a row of the sensitivity table): the shape of the debt over
ratios and sizes is the 2020 eve's (eve_2020.py: C4's bands, C5's mean and concentration),
scaled by `ratio_scale`; the number of vaults. The outcome (the debt liquidated on the day) is a
band, never an input: nothing here is shaped to reproduce it.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from offchain.history.days.eve_2020 import PUBLISHED, Assumptions, EveVault, eve_population

__all__ = ["ETH_A_2021", "eve"]

WAD = 10**18

ETH_A_2021 = replace(
    PUBLISHED,
    debt=2_000_000_000 * WAD,
    liquidation_ratio=Fraction(3, 2),
    dust=5_000 * WAD,
)


def eve(price: Fraction, debt: int, vaults: int, ratio_scale: Fraction) -> list[EveVault]:
    """The vaults at the eve's ETH price `price` [DAI per ETH]."""
    return eve_population(
        price,
        replace(ETH_A_2021, debt=debt),
        Assumptions(vaults=vaults, ratio_scale=ratio_scale, seed=20210519),
    )
