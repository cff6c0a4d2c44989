"""Keepers' capital that moves (offchain/sim/market/capital.py) and the stablecoin's own price
(offchain/sim/market/stable_price.py)."""

from __future__ import annotations

import pytest

from offchain.model.fixed_point import WAD
from offchain.sim.market.capital import Resales, stable_for, usd_for
from offchain.sim.market.stable_price import PAR, StablePrice


def test_resales__a_lot_is_due_at_its_time__in_the_order_it_became_ready():
    r = Resales()
    r.add("a", "ETH-A", 5 * WAD, ready=100)
    r.add("b", "ETH-A", 7 * WAD, ready=50)  # a shorter delay: ready first
    r.add("a", "ETH-A", 1 * WAD, ready=100)
    assert r.held("a", "ETH-A") == 6 * WAD
    assert r.due(49) == {}
    assert r.due(50) == {("b", "ETH-A"): 7 * WAD}
    assert list(r.due(1_000).items()) == [(("a", "ETH-A"), 6 * WAD)]
    assert r.held("a", "ETH-A") == 0 and not r.queue


def test_resales__nothing_added_for_no_tokens():
    r = Resales()
    r.add("a", "ETH-A", 0, ready=0)
    assert not r.queue and r.due(10) == {}


def test_stable_for__a_premium_buys_less_stablecoin__rounded_down():
    """Money flow: a keeper with 1,126 USD from a resale buys 1,000 DAI at 1.126."""
    assert stable_for(1_126 * WAD, 1_126 * WAD // 1_000) == 1_000 * WAD
    assert stable_for(10, 3 * WAD) == 3  # 3.33 rounded down
    assert usd_for(1_000 * WAD, 1_126 * WAD // 1_000) == 1_126 * WAD
    assert stable_for(-5, WAD) == 0


def test_stable_price__linear_between_points__flat_outside():
    p = StablePrice(((100, WAD), (200, 2 * WAD)))
    assert p.at(0) == WAD and p.at(100) == WAD and p.at(150) == 3 * WAD // 2
    assert p.at(200) == 2 * WAD and p.at(10**9) == 2 * WAD
    assert PAR.at(123) == WAD


@pytest.mark.parametrize("points", [(), ((1, WAD), (1, WAD)), ((2, WAD), (1, WAD)), ((1, 0),)])
def test_stable_price__refuses_no_points_unordered_times_or_a_price_of_zero(points):
    with pytest.raises(ValueError):
        StablePrice(points)
