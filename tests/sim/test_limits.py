"""The limits a run names in its first lines (offchain/sim/results/limits.py): the auction's running
slots full while unsafe vaults waited, the debt in auction at its cap, the pool's price pushed
below the market's; nothing when none bound. On tables built by hand, then on a real run."""

from __future__ import annotations

import pandas as pd
import pytest

from offchain.model.dutch_auction import MAX_ACTIVE
from offchain.sim.results.keeper_outcomes import console_lines
from offchain.sim.results.limits import binding_limits
from offchain.sim.run.driver import simulate
from offchain.sim.scenario.load import load_scenario


def _bars(pool: list[float], market: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"bar": range(len(pool)), "pool_price": pool, "market_price": market})


def test_nothing_bound__no_line():
    bars = _bars([100.0, 95.0, 91.0], [100.0, 100.0, 100.0])
    assert binding_limits({"ETH-A": [0, 0, 0]}, bars, 989.0, 1_000.0, "fixed") == []


def test_vaults_waited_for_a_slot__named_with_the_bars_and_the_most_waiting():
    waits = {"ETH-A": [0, 7, 12, 0], "WBTC-A": [0, 0]}
    [line] = binding_limits(waits, _bars([1.0], [1.0]), 0.0, 1.0, "fixed")
    assert line == (
        f"ETH-A: unsafe vaults waited for one of the auction's {MAX_ACTIVE:,} running slots in 2 "
        "bars (up to 12 at once); a contract constant (auction_slots.MAX_ACTIVE) that --vaults "
        "does not raise"
    )


def test_debt_in_auction_at_its_cap__and_the_pool_below_the_market__each_one_line():
    bars = _bars([100.0, 60.0, 80.0], [100.0, 100.0, 100.0])
    cap, pool = binding_limits({}, bars, 990.0, 1_000.0, "fixed")
    assert cap == "the debt in auction reached 990 of its cap 1,000 (max_debt_in_auction)"
    assert pool == (
        "the pool's price fell to 60% of the market's (bar 1): liquidation sales outran the "
        'pool\'s depth; its depth does not follow --vaults (market.depth_with_vaults = "fixed")'
    )
    [type_cap] = binding_limits({}, _bars([1.0], [1.0]), 95.0, 1e6, "fixed", ("ETH-A", 95.5))
    assert type_cap == (
        "ETH-A: the debt in auction reached 95 of the type's auction cap 96 (auction_cap)"
    )
    assert binding_limits({}, _bars([1.0], [1.0]), 94.0, 1e6, "fixed", ("ETH-A", 95.5)) == []
    [scaled] = binding_limits({}, bars, 0.0, 1_000.0, "scaled")
    assert scaled.endswith('its depth follows --vaults (market.depth_with_vaults = "scaled")')


def test_keepers_waited_for_the_day_s_blocks__named_with_the_count():
    """Block space (market/blockspace.py): transactions that waited a bar for room are a limit
    --vaults does not raise, named with how many times they waited; none waited, no line."""
    [line] = binding_limits({}, _bars([1.0], [1.0]), 0.0, 1.0, "fixed", None, 2_160)
    assert line.startswith("keeper transactions waited a bar for room in the day's blocks 2,160 ")
    assert binding_limits({}, _bars([1.0], [1.0]), 0.0, 1.0, "fixed", None, 0) == []


def test_takes_not_sent_for_a_reset__named_with_the_count():
    """A take whose first room in the blocks is after its auction's reset is not sent
    (sim/run/sending.py, `_late`), nor planned where the taker could tell before valuing it
    (`late_filter`): a keeper the blocks failed, named with how many of each; none, no line."""
    bars = _bars([1.0], [1.0])
    waited, late = binding_limits({}, bars, 0.0, 1.0, "fixed", None, 9, 1_234, 56_789)
    assert waited.startswith("keeper transactions waited a bar for room")
    assert late.startswith(
        "1,234 takes were not sent and 56,789 not planned (an auction, a taker and a round "
        "each): the first room in the day's blocks "
    )
    (only,) = binding_limits({}, bars, 0.0, 1.0, "fixed", None, 0, 0, 3)
    assert only.startswith("0 takes were not sent and 3 not planned")
    assert binding_limits({}, bars, 0.0, 1.0, "fixed", None, 0, 0, 0) == []


@pytest.mark.slow  # a 10,000-vault day in the model: tens of seconds
def test_a_run_at_ten_times_its_vaults__the_pool_named_first__no_vault_waits_for_a_slot():
    """Black Thursday at 10,000 vaults (the market's depth fixed): liquidation sales push the
    pool below the market, and keeper transactions wait for the day's blocks; the run's first
    lines name both. The auction's slots bind no more
    (2**24 since 2026-11-26; at 1,024 this run left 13% of its vaults waiting for one, unsafe and
    never liquidated): more auctions run at once than the old cap, and no vault is left unsafe.
    The flash takes sell into the keepers' pool alone (`flash_route = "pool"`): on the venue
    route (the default since issue 73) they leave the pool to the arbitrageur and it no longer
    binds (the next test)."""
    pool_route = {"market": {"flash_route": "pool"}}
    result = simulate(
        load_scenario("black-thursday-2020", vaults=10_000, overrides=pool_route), "model"
    )
    f = result.facts
    # the day's blocks (10M gas, 2020) bind too: the open market's block space
    pool, blocks = f["binding_limits"]
    assert pool.startswith("the pool's price fell to ")
    assert blocks.startswith("keeper transactions waited a bar for room in the day's blocks ")
    assert f["block_space_waits"] > 0
    assert f["unsafe_vaults_left"] == 0
    assert result.tables["bars"]["active_auctions"].max() > 1024
    lines = console_lines(result.tables["keeper_actions"], f)
    assert [x for x in lines if x.startswith("LIMIT: ")] == [f"LIMIT: {pool}", f"LIMIT: {blocks}"]


def test_a_run_at_ten_times_its_vaults_on_the_venue_route__the_blocks_bind_not_the_pool():
    """The same book with the flash takes selling on the outside venue (issue 73, the default):
    the keepers' pool is no longer where the lots go, so its price is not named; the day's blocks
    still bind, and no vault is left unsafe."""
    result = simulate(load_scenario("black-thursday-2020", vaults=10_000), "model")
    f = result.facts
    assert len(f["binding_limits"]) == 1, f["binding_limits"]
    (blocks,) = f["binding_limits"]
    assert blocks.startswith("keeper transactions waited a bar for room in the day's blocks ")
    assert f["unsafe_vaults_left"] == 0
