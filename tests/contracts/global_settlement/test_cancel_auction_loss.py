"""GlobalSettlement.cancel_auction over an underwater lot (issue 63, finding 4): the cancel is a
sale of the whole lot at the final price. The owner re-owes what the lot is worth at that price
(at most the tab), the loss event closes with that as its proceeds, and the loss it leaves goes
through the waterfall (fund, pool, then settlement) instead of becoming the type's `gap`.

The scenario, on revm in lockstep with the model (every transaction, event and the complete
state compared, the invariants and the specification checked): the stranger (an honest holder)
and the other (a staker) borrow 300,000 and 200,000 BUSD against 1,000 ETH each, and the other
stakes its 200,000 in the stability pool; the keeper borrows 100,000 against 500 ETH (a taker's
money). ETH-A's auction curve is set linear over 600 s, so that 100 s into an auction its price
is exactly 5/6 of its start: the oracle price. The borrower's 100 ETH / 130,000 vault is
liquidated after ETH falls to 1,000 (debt D = 130,000 x rate, tab T = ceil(D x 1.13), about
146,900), and the system is shut down with the auction running; the final price is 1,000.
Then either the auction is cancelled, or the keeper buys the whole lot 100 s in at exactly
1,000 (100,000 BUSD): either way the loss D - 100,000 (about 30,000) waits for `cover`, which
the fund (no free surplus: only the keeper's reward, unattributed) pays nothing of and the pool
pays in full. Before the fix the cancel made the borrower re-owe T, the event closed with no
loss, the pool paid 0 and closing the vault left a gap of owe(T) - 100 ETH (about 46.9 ETH) to
every holder.
"""

from __future__ import annotations

import pytest
from helpers import at, started_auction
from support.global_settlement import DONE, ETH, WAIT
from support.global_settlement import allocations as _allocations
from support.global_settlement import allow as _allow
from support.global_settlement import bad_debt as _bad_debt
from support.global_settlement import bs as _bs
from support.global_settlement import collateral as _collateral
from support.global_settlement import gs as _gs
from support.global_settlement import owe as _owe
from support.global_settlement import rate as _rate
from support.global_settlement import shutdown as _shutdown
from support.global_settlement import stable as _stable
from support.global_settlement import to_raise as _to_raise
from support.global_settlement import vault as _vault

from offchain.model.backstop import POOL
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.price_curves import LINEAR
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices as _move_prices
from offchain.testing.harness import read as _read

CRASH = 1_000 * WAD
FINAL = 10**24  # ceil(WAD x RAY / 1,000 wad): collateral per stablecoin [ray]
LOT = 100 * WAD
WORTH = 100_000 * RAD  # the lot at the final price
CURVE = (LINEAR, 600, 0, 0)  # 100 s in, the price is 1,200 x 5/6 = 1,000 exactly


def _underwater_auction_at_shutdown(system) -> tuple[int, int]:
    """The module docstring's state up to the final price, the auction running. Returns (the
    auction id, the seized debt D)."""
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.stranger, ETH, 1_000 * WAD, 300_000 * WAD)
    system.open_vault(r.other, ETH, 1_000 * WAD, 200_000 * WAD)
    system.open_vault(r.keeper, ETH, 500 * WAD, 100_000 * WAD)
    _allow(system, r.other, d.stability_pool)
    system.tx(d.stability_pool, "stake", r.other, 200_000 * RAD)
    system.warp(_read(system, d.stability_pool, "exposure_delay"))
    system.tx(d.stability_pool, "activate", r.other)
    system.tx(t.auction, "set_curve", r.governance, CURVE)
    system.open_vault(r.borrower, ETH, LOT, 130_000 * WAD)
    _move_prices(system, [(t, CRASH)])
    system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper)
    auction_id = started_auction(system, t.auction)
    debt = 130_000 * WAD * _rate(system, t)
    _shutdown(system)
    system.tx(d.settlement, "fix_price", r.keeper, t.type_id)
    assert _gs(system, "final_price", t.type_id) == FINAL
    return auction_id, debt


def _sell_at_the_final_price(system, auction_id: int) -> None:
    """The keeper buys the whole lot 100 s into the auction, at exactly the final price."""
    r, t = system.roles, system.eth
    _allow(system, r.keeper, t.auction)
    started = _read(system, t.auction, "auctions", auction_id)[4]
    at(system, started + 100)
    system.tx(t.auction, "take", r.keeper, auction_id, LOT, 1_000 * RAY, r.keeper, b"")
    assert _collateral(system, t, r.keeper) == LOT


@pytest.mark.parametrize("ending", ["cancelled", "sold"])
def test_finding_63_4__auction_running_at_shutdown__pool_pays_the_same_cancelled_or_sold(
    revm_system, ending
):
    """Money flow: cancelled, the borrower re-owes WORTH (100,000: the lot at the final price,
    below the tab T), which the event takes as proceeds; sold, the keeper pays 100,000 for the
    lot. Either way the event closes with the loss L = D - 100,000 (about 30,000), and `cover`
    charges it FUND (nothing free) then POOL: the stakers pay all of L, settlement nothing;
    closing the borrower's vault leaves no gap (the cancelled lot pays its 100,000 at 1,000).
    Before the fix the cancelled event closed with no loss, the pool paid 0 and the gap was
    owe(T) - 100 ETH (about 46.9 ETH), shared by every holder."""
    system = revm_system
    r, d, t = system.roles, system.d, system.eth
    auction_id, debt = _underwater_auction_at_shutdown(system)
    tab = _to_raise(debt)
    assert tab > WORTH  # the lot does not cover its tab at the final price
    if ending == "cancelled":
        system.tx(d.settlement, "cancel_auction", r.stranger, t.type_id, t.auction, auction_id)
        normalized = WORTH // _rate(system, t)
        assert _vault(system, t, r.borrower) == (LOT, normalized)
        cancelled = [a for _, name, a in _events(system) if name == "Cancelled"]
        assert cancelled == [
            {
                "auction_id": auction_id,
                "collateral_returned": LOT,
                "debt": tab,
                "normalized_debt": normalized,
            }
        ]
        raised = normalized * _rate(system, t)
    else:
        _sell_at_the_final_price(system, auction_id)
        assert _vault(system, t, r.borrower) == (0, 0)
        raised = WORTH
    closed = [a for _, name, a in _events(system) if name == "LossClosed"]
    loss = debt - raised
    assert closed[0]["raised"] == raised and closed[0]["loss"] == loss
    # the rate's rounding of the re-owed debt: the cancel raises at most one rate less
    assert 0 <= WORTH - raised < _rate(system, t)
    system.tx(d.settlement, "close_vault", r.keeper, t.type_id, r.borrower)
    assert _gs(system, "gap", t.type_id) == 0
    system.tx(d.backstop, "cover", r.keeper, t.type_id, t.auction, auction_id)
    # the fund holds no free surplus (the keeper's reward is unattributed bad debt): the pool
    # pays the whole loss, settlement nothing
    assert _allocations(system) == [(POOL, d.stability_pool, loss)]
    assert _bs(system, "losses", t.type_id, t.auction, auction_id)[1::2] == (0, DONE)
    assert _bs(system, "settlement_debt") == 0
    assert _read(system, d.stability_pool, "assets") == 200_000 * RAD - loss
    system.check()


def test_cancel_auction__lot_worth_less_than_its_tab__closing_takes_at_most_the_lot(revm_system):
    """Money flow: the cancel creates WORTH // rate x rate of new debt in the borrower's vault,
    its stablecoin pays the event (raised), nothing else: the Backstop's bad debt is unchanged
    (created, then moved into the vault), its stablecoin grows by what was raised, all of it
    unsettled proceeds (below the seized debt: no penalty income). Closing the vault takes
    owe(its debt) <= LOT of collateral at the final price: no gap."""
    system = revm_system
    r, d, t = system.roles, system.d, system.eth
    auction_id, debt = _underwater_auction_at_shutdown(system)
    stable_0, bad_0 = _stable(system, d.backstop), _bad_debt(system, d.backstop)
    system.tx(d.settlement, "cancel_auction", r.stranger, t.type_id, t.auction, auction_id)
    rate = _rate(system, t)
    returned = WORTH // rate * rate
    assert _stable(system, d.backstop) == stable_0 + returned
    assert _bs(system, "unsettled_proceeds") == returned
    assert _bad_debt(system, d.backstop) == bad_0
    assert _bs(system, "open_losses") == 1
    owed = _owe(returned, FINAL)
    assert owed <= LOT
    system.tx(d.settlement, "close_vault", r.keeper, t.type_id, r.borrower)
    assert _gs(system, "gap", t.type_id) == 0
    # the borrower keeps what the re-owed debt's rounding left of the lot (below 1 wei of ETH
    # per rate's worth), as after a sale at the final price it would get the unsold rest
    assert _vault(system, t, r.borrower) == (LOT - owed, 0)
    # the rest of the settlement: the pool pays the loss, every vault is closed, thaw and the
    # cash price follow (nothing waits on the cancelled event), and a packed wad of BUSD
    # redeems at most par at the final price (1/1,000 ETH)
    system.tx(d.backstop, "cover", r.keeper, t.type_id, t.auction, auction_id)
    assert _allocations(system) == [(POOL, d.stability_pool, debt - returned)]
    for owner in (r.stranger, r.other, r.keeper):
        system.tx(d.settlement, "close_vault", r.keeper, t.type_id, owner)
    system.lockstep.set_next_block_time(_gs(system, "shutdown_at") + WAIT)
    system.tx(d.settlement, "thaw", r.keeper)
    system.tx(d.settlement, "fix_cash_price", r.keeper, t.type_id)
    assert 0 < _gs(system, "cash_price", t.type_id) <= RAY // 1_000
    system.check()
