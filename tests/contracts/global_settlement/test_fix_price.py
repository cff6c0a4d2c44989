"""GlobalSettlement.fix_price: final_price = ceil(WAD * RAY / price) from the current oracle price.
Scenario and helpers: tests/contracts/support/global_settlement.py.
"""

from __future__ import annotations

from support.global_settlement import ETH, WBTC
from support.global_settlement import final_price as _final_price
from support.global_settlement import gs as _gs
from support.global_settlement import shutdown as _shutdown

from offchain.model.fixed_point import RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts

# a type nobody configured
NEW_TYPE = b"NEW-A".ljust(32, b"\0")


def test_fix_price__final_price_is_wad_ray_over_the_lowest_price_shown_rounded_up(system):
    """ETH 2,000 current with 1,000 queued -> the lower, 1/1,000 ETH per BUSD exactly (issue 72:
    the settlement takes the lowest price the oracle shows; the crash is already public in the
    queued price); WBTC 30,000 -> 1/30,000 rounded up by one ray-wei. Each type's normalized
    debt is recorded."""
    r, d, eth, btc = system.roles, system.d, system.eth, system.btc
    system.open_vault(r.borrower, ETH, 10 * WAD, 5_000 * WAD)
    system.open_vault(r.other, WBTC, WAD, 10_000 * WAD)
    system.tx(eth.oracle, "post", r.feeder, 1_000 * WAD)
    system.warp(eth.config.oracle_delay)
    system.tx(eth.oracle, "poke", r.keeper)
    assert (
        _read(system, eth.oracle, "current_price"),
        _read(system, eth.oracle, "next_price"),
    ) == (2_000 * WAD, 1_000 * WAD)
    _shutdown(system)

    system.tx(d.settlement, "fix_price", r.stranger, eth.type_id)
    assert _events(system) == [
        (
            d.settlement,
            "PriceFixed",
            {"collateral_type": eth.type_id, "price": 1_000 * WAD, "final_price": RAY // 1_000},
        )
    ]
    system.tx(d.settlement, "fix_price", r.stranger, btc.type_id)
    final_btc = RAY // 30_000 + 1  # 1e27 / 30,000 = 3.33...e22, rounded up
    assert final_btc == _final_price(30_000 * WAD)
    assert _events(system) == [
        (
            d.settlement,
            "PriceFixed",
            {"collateral_type": btc.type_id, "price": 30_000 * WAD, "final_price": final_btc},
        )
    ]
    assert _gs(system, "final_price", eth.type_id) == RAY // 1_000
    assert _gs(system, "final_price", btc.type_id) == final_btc
    assert _gs(system, "type_debt", eth.type_id) == 5_000 * WAD
    assert _gs(system, "type_debt", btc.type_id) == 10_000 * WAD

    with reverts("settlement: price fixed"):
        system.tx(d.settlement, "fix_price", r.stranger, eth.type_id)
    with reverts("settlement: no oracle"):
        system.tx(d.settlement, "fix_price", r.stranger, NEW_TYPE)


def test_fix_price__a_queued_price_above_the_current_one_does_not_count(system):
    """Current 2,000 with 2,500 queued: the settlement takes 2,000 (the lower)."""
    r, d, eth = system.roles, system.d, system.eth
    system.tx(eth.oracle, "post", r.feeder, 2_500 * WAD)
    system.warp(eth.config.oracle_delay)
    system.tx(eth.oracle, "poke", r.keeper)
    _shutdown(system)
    system.tx(d.settlement, "fix_price", r.stranger, eth.type_id)
    assert _events(system)[0][2]["price"] == 2_000 * WAD


def test_fix_price__a_queued_price_below_a_later_post_counts(system):
    """Issue 72: the crash is queued (1,800) and the feeder posts 2,000 again before anyone
    pokes. The current price and the latest post both read 2,000; the queued price counts too,
    so the settlement fixes 1,800 (a shutdown timed before the poke cannot skip the crash)."""
    r, d, eth = system.roles, system.d, system.eth
    system.tx(eth.oracle, "post", r.feeder, 1_800 * WAD)
    system.warp(eth.config.oracle_delay)
    system.tx(eth.oracle, "poke", r.keeper)
    system.tx(eth.oracle, "post", r.feeder, 2_000 * WAD)
    assert (
        _read(system, eth.oracle, "current_price"),
        _read(system, eth.oracle, "next_price"),
        _read(system, eth.oracle, "source_price"),
    ) == (2_000 * WAD, 1_800 * WAD, 2_000 * WAD)
    _shutdown(system)
    system.tx(d.settlement, "fix_price", r.stranger, eth.type_id)
    assert _events(system)[0][2]["price"] == 1_800 * WAD


def test_fix_price__a_post_no_poke_has_queued_yet_counts(system):
    """Issue 72: the feeder posts the crash (1,700) and the shutdown comes before any poke. The
    current and queued prices still read 2,000; the latest post counts too, so the settlement
    fixes 1,700 (a shutdown timed before the poke cannot skip a public post)."""
    r, d, eth = system.roles, system.d, system.eth
    system.tx(eth.oracle, "post", r.feeder, 1_700 * WAD)
    assert (
        _read(system, eth.oracle, "current_price"),
        _read(system, eth.oracle, "next_price"),
        _read(system, eth.oracle, "source_price"),
    ) == (2_000 * WAD, 2_000 * WAD, 1_700 * WAD)
    _shutdown(system)
    system.tx(d.settlement, "fix_price", r.stranger, eth.type_id)
    assert _events(system)[0][2]["price"] == 1_700 * WAD


def test_fix_price__a_void_before_shutdown_cannot_raise_the_price(system):
    """Issue 72's finding: the guardian voids the queued crash price (1,400) so that the held
    2,000 stays in force, shuts down and fixes in the same block. The voided price still counts
    while its lock runs (two pokes): the settlement fixes 1,400, not 2,000 (a 2.0x vault of
    1,000,000 would have got 500 ETH back instead of 285.71). Two pokes later a price posted
    after the void is current and the voided one no longer counts."""
    r, d, eth = system.roles, system.d, system.eth
    guardian = r.other
    system.open_vault(r.borrower, ETH, 1_000 * WAD, 1_000_000 * WAD)
    system.tx(eth.oracle, "grant_role", r.governance, guardian, 2**15)
    system.tx(d.settlement, "grant_role", r.governance, guardian, 2**15)
    system.tx(eth.oracle, "post", r.feeder, 1_400 * WAD)
    system.warp(eth.config.oracle_delay)
    system.tx(eth.oracle, "poke", r.keeper)
    assert _read(system, eth.oracle, "next_price") == 1_400 * WAD
    with system.what_if():
        system.tx(eth.oracle, "void", guardian)
        assert _read(system, eth.oracle, "next_price") == 2_000 * WAD
        assert _read(system, eth.oracle, "void_lock") == 2
        assert _read(system, eth.oracle, "voided_price") == 1_400 * WAD
        system.tx(d.settlement, "shutdown", guardian)
        system.tx(d.settlement, "fix_price", r.stranger, eth.type_id)
        assert _events(system)[0][2]["price"] == 1_400 * WAD
        # the 2.0x vault gives up its debt's worth at 1,400 and keeps 285.71 ETH (500 at 2,000)
        system.tx(d.settlement, "close_vault", r.stranger, eth.type_id, r.borrower)
        kept = system.view(d.engine, "vaults", eth.type_id, r.borrower)[0]
        assert kept // 10**16 == 28_571  # 285.71 ETH
    # the lock runs out with the second poke: the voided price is forgotten
    system.tx(eth.oracle, "void", guardian)
    for price in (1_500 * WAD, 1_600 * WAD):
        system.tx(eth.oracle, "post", r.feeder, price)
        system.warp(eth.config.oracle_delay)
        system.tx(eth.oracle, "poke", r.keeper)
    assert _read(system, eth.oracle, "void_lock") == 0
    assert _read(system, eth.oracle, "voided_price") == 0
    assert _read(system, eth.oracle, "current_price") == 1_500 * WAD
    _shutdown(system)
    system.tx(d.settlement, "fix_price", r.stranger, eth.type_id)
    assert _events(system)[0][2]["price"] == 1_500 * WAD


def test_fix_price__a_void_drops_a_lower_post_too_and_it_counts(system):
    """Issue 72: 1,400 is queued and the feeder then posts 1,300; the guardian's void drops
    both, and keeps the lower (1,300) as the voided price, which the settlement counts while the
    lock runs: fixed at 1,300, not at the queued 1,400 nor the held 2,000."""
    r, d, eth = system.roles, system.d, system.eth
    guardian = r.other
    system.tx(eth.oracle, "grant_role", r.governance, guardian, 2**15)
    system.tx(d.settlement, "grant_role", r.governance, guardian, 2**15)
    system.tx(eth.oracle, "post", r.feeder, 1_400 * WAD)
    system.warp(eth.config.oracle_delay)
    system.tx(eth.oracle, "poke", r.keeper)
    system.tx(eth.oracle, "post", r.feeder, 1_300 * WAD)
    system.tx(eth.oracle, "void", guardian)
    assert (
        _read(system, eth.oracle, "next_price"),
        _read(system, eth.oracle, "source_price"),
        _read(system, eth.oracle, "voided_price"),
    ) == (2_000 * WAD, 0, 1_300 * WAD)
    system.tx(d.settlement, "shutdown", guardian)
    system.tx(d.settlement, "fix_price", r.stranger, eth.type_id)
    assert _events(system)[0][2]["price"] == 1_300 * WAD


def test_fix_price__a_stale_price_fixes_once_the_wait_has_passed(system):
    """After shutdown nobody posts: the stale current price is refused until the settlement's
    `wait` has passed since shutdown, then it fixes (no role can hold the settlement back)."""
    r, d, eth = system.roles, system.d, system.eth
    _shutdown(system)
    shutdown_at = _gs(system, "shutdown_at")
    wait = _gs(system, "wait")
    system.lockstep.set_next_block_time(shutdown_at + wait - 1)
    with reverts("settlement: invalid price"):
        system.tx(d.settlement, "fix_price", r.stranger, eth.type_id)
    system.lockstep.set_next_block_time(shutdown_at + wait)
    system.tx(d.settlement, "fix_price", r.stranger, eth.type_id)
    assert _events(system)[0][2]["price"] == 2_000 * WAD
