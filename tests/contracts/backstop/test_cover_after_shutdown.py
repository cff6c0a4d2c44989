"""Backstop.cover after a global settlement's shutdown: FUND and POOL pay in waterfall order and
SETTLEMENT takes the rest, without the queue delay; debt auction and redistribution are skipped.
Scenario and helpers: tests/contracts/support/global_settlement.py.
"""

from __future__ import annotations

import pytest
from helpers import heal
from support.global_settlement import CLOSED, DONE, ETH, QUEUE_DELAY
from support.global_settlement import allocations as _allocations
from support.global_settlement import allow as _allow
from support.global_settlement import bs as _bs
from support.global_settlement import liquidate as _liquidate
from support.global_settlement import rate as _rate
from support.global_settlement import shutdown as _shutdown
from support.global_settlement import stable as _stable
from support.global_settlement import take as _take
from support.global_settlement import to_raise as _to_raise
from support.global_settlement import top as _top

from offchain.model.backstop import DEBT_AUCTION, FUND, POOL, REDISTRIBUTION, SETTLEMENT
from offchain.model.fixed_point import RAD, WAD
from offchain.testing.harness import move_prices as _move_prices
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def _surplus_and_a_closed_loss(system, stake: int) -> tuple[int, int, int]:
    """The other (100 ETH / 30,000) stakes `stake` [rad] in the stability pool. ETH falls to 900.
    The stranger's 20 ETH / 13,000 auction is bought whole at 1,080: it raises T = 13,000 x rate
    x 1.13, so the fund gets T - 13,000 x rate (~1,690) of penalty income. The borrower's 10 ETH
    / 13,000 sells out at 1,080 for 10,800: a loss of 13,000 x rate - 10,800 (~2,200) waits for
    cover. The stranger heals the proceeds that covered seized debt (13,000 x rate + 10,800).
    Returns (that auction's id, the fund, the loss)."""
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    _allow(system, r.other, d.stability_pool)
    system.tx(d.stability_pool, "stake", r.other, stake)
    # the stake becomes shares an exposure delay (the oracle delay) later
    system.warp(_read(system, d.stability_pool, "exposure_delay"))
    system.tx(d.stability_pool, "activate", r.other)
    system.open_vault(r.stranger, ETH, 20 * WAD, 13_000 * WAD)
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    _move_prices(system, [(t, 900 * WAD)])
    _allow(system, r.other, t.auction)
    first = _liquidate(system, t, r.stranger)
    _take(system, r.other, t, first, 20 * WAD, _top(900 * WAD))
    second = _liquidate(system, t, r.borrower)
    liquidated_at = system.now
    _take(system, r.other, t, second, 10 * WAD, _top(900 * WAD))
    debt = 13_000 * WAD * _rate(system, t)
    fund, loss = _to_raise(debt) - debt, debt - 10_800 * RAD
    heal(system, debt + 10_800 * RAD)
    assert _stable(system, d.backstop) == fund
    assert _bs(system, "losses", t.type_id, t.auction, second)[1:] == (loss, liquidated_at, CLOSED)
    return second, fund, loss


_COVER_CASES = {
    "default": ([FUND, POOL, DEBT_AUCTION, REDISTRIBUTION], [FUND, POOL, SETTLEMENT]),
    "no-pool": ([DEBT_AUCTION, REDISTRIBUTION, FUND], [FUND, SETTLEMENT]),
    "pool-first": ([POOL, FUND], [POOL, FUND, SETTLEMENT]),
}


@pytest.mark.parametrize("case", list(_COVER_CASES))
def test_cover__after_shutdown__fund_pool_then_settlement_without_queue_delay(system, case):
    """Money flow: the ~2,200 loss is paid by the enabled FUND and POOL layers in waterfall order
    (the fund's ~1,690 of surplus, the pool's 100 of stake) and SETTLEMENT takes the rest (~410,
    or ~510 without the pool) as settlement debt: unbacked, the holders' haircut. Debt auction
    and redistribution are skipped after shutdown, and the queue delay no longer applies."""
    r, d, t = system.roles, system.d, system.eth
    waterfall, layers = _COVER_CASES[case]
    system.tx(d.backstop, "set_waterfall", r.governance, waterfall)
    auction_id, fund, loss = _surplus_and_a_closed_loss(system, 100 * RAD)
    with reverts("backstop: still queued"):
        system.tx(d.backstop, "cover", r.keeper, t.type_id, t.auction, auction_id)
    _shutdown(system)
    created_at = _bs(system, "losses", t.type_id, t.auction, auction_id)[2]
    assert system.now + 1 < created_at + QUEUE_DELAY

    system.tx(d.backstop, "cover", r.keeper, t.type_id, t.auction, auction_id)

    capacity = {FUND: fund, POOL: 100 * RAD, SETTLEMENT: loss}
    participants = {FUND: d.backstop, POOL: d.stability_pool, SETTLEMENT: d.settlement}
    expected, remaining = [], loss
    for layer in layers:
        paid = min(remaining, capacity[layer])
        expected.append((layer, participants[layer], paid))
        remaining -= paid
    assert _allocations(system) == expected
    paid = {layer: amount for layer, _, amount in expected}
    assert paid[SETTLEMENT] == loss - fund - paid.get(POOL, 0) > 0
    assert _bs(system, "settlement_debt") == paid[SETTLEMENT]
    assert _bs(system, "losses", t.type_id, t.auction, auction_id) == (
        13_000 * WAD * _rate(system, t),
        0,
        created_at,
        DONE,
    )
    # the fund's and the pool's payments wait, still attributed, for a heal (thaw heals first)
    held = paid[FUND] + paid.get(POOL, 0)
    assert _bs(system, "open_losses") == 0 and _bs(system, "attributed_debt") == held
    assert _stable(system, d.backstop) == held
    heal(system, held)
    assert _bs(system, "attributed_debt") == 0
    assert _stable(system, d.backstop) == 0
    assert _read(system, d.stability_pool, "assets") == 100 * RAD - paid.get(POOL, 0)
    with reverts("backstop: nothing to cover"):
        system.tx(d.backstop, "cover", r.keeper, t.type_id, t.auction, auction_id)
