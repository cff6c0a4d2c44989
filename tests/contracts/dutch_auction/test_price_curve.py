"""The auction's price curves (linear, stairstep, exponential): at many times the exact curve
rounded up. Exact prices: tests/contracts/support/dutch_auction.py.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from helpers import auction_sale, crash, eth_auction, liquidate
from support.dutch_auction import ETH, EXPONENTIAL, LINEAR, STAIRSTEP, WBTC
from support.dutch_auction import assert_price_rounded_up as _assert_price_rounded_up
from support.dutch_auction import exact_price as _exact_price
from support.dutch_auction import mine_at as _mine_at
from support.dutch_auction import status as _status

from offchain.model.fixed_point import RAY, WAD
from offchain.testing.harness import read as _read

CURVES = {
    # the deployed ETH curve: x0.99 every 90 s
    "stairstep_deployed": (
        ETH,
        None,
        [0, 1, 89, 90, 91, 179, 180, 900, 3599, 7199, 7200, 8400, 8401, 20_000],
    ),
    # an awkward step and cut: every product rounds
    "stairstep_odd": (
        ETH,
        (STAIRSTEP, 0, 7, 987_654_321_987_654_321_987_654_321),
        [0, 6, 7, 13, 14, 100, 701, 3_000, 8_401],
    ),
    "exponential": (
        ETH,
        (EXPONENTIAL, 0, 0, 999_876_543_210_987_654_321_098_765),
        [0, 1, 2, 3, 59, 600, 3_599, 6_000, 8_400, 8_401],
    ),
    # the deployed WBTC curve: linear to zero over 10,000 s
    "linear_deployed": (
        WBTC,
        None,
        [0, 1, 2, 3_333, 5_499, 5_500, 5_501, 8_400, 9_999, 10_000, 10_001],
    ),
    "linear_odd": (ETH, (LINEAR, 7_777, 0, 0), [0, 1, 3, 1_000, 7_776, 7_777, 7_778]),
}


@pytest.mark.parametrize("case", sorted(CURVES))
def test_price_curve__at_many_times__is_exact_curve_rounded_up(system, case):
    """status() on chain (== the model) against the exact rational curve, with the needs-reset
    flag recomputed from the docstring: older than max_duration, below max_drop x top, or zero."""
    r = system.roles
    type_name, curve, times = CURVES[case]
    t = system.d.types[type_name]
    if curve is not None:
        system.tx(t.auction, "set_curve", r.governance, curve)
    if type_name == ETH:
        auction_id = eth_auction(system)
    else:
        system.open_vault(r.borrower, WBTC, 1 * WAD, 19_000 * WAD)
        crash(system, t, 25_000 * WAD)
        auction_id = liquidate(system, t, r.borrower)
    curve = _read(system, t.auction, "curve")
    _, debt, lot, _, started, top = auction_sale(system, t, auction_id)
    assert top == {ETH: 1_800 * RAY, WBTC: 30_000 * RAY}[type_name]
    max_duration, max_drop = (
        _read(system, t.auction, "max_duration"),
        _read(system, t.auction, "max_drop"),
    )
    for elapsed in times:
        if elapsed:
            _mine_at(system, started + elapsed)
        assert system.now == started + elapsed
        needs_reset, price, status_lot, status_debt = _status(system, t, auction_id)
        _assert_price_rounded_up(price, curve, top, elapsed)
        assert needs_reset == (
            elapsed > max_duration or price * RAY // top < max_drop or price == 0
        )
        assert (status_lot, status_debt) == (lot, debt)
    if case == "stairstep_deployed":
        # exact by hand: the first step at 90 s, and the step where 0.99 ** n falls below 0.45
        assert _exact_price(curve, top, 89) == top
        assert _exact_price(curve, top, 90) == 1_782 * RAY
        assert Fraction(99, 100) ** 79 >= Fraction(45, 100) > Fraction(99, 100) ** 80


def test_price_curve__exponential_with_zero_cut__needs_reset_at_once(system):
    """A cut of zero prices everything after the start at zero: such an auction needs a reset
    rather than giving the collateral away."""
    r, t = system.roles, system.eth
    system.tx(t.auction, "set_curve", r.governance, (EXPONENTIAL, 0, 0, 0))
    auction_id = eth_auction(system)
    assert _status(system, t, auction_id)[:2] == (False, 1_800 * RAY)
    _mine_at(system, system.now + 1)
    assert _status(system, t, auction_id)[:2] == (True, 0)
