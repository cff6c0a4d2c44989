"""StabilityPool.cancel_withdrawal (cancelling or replacing a request): the income since the request
is forfeited in shares, stopping at the shares worth the minimum stake. Stakers and the loss:
tests/contracts/support/stability_pool.py.
"""

from __future__ import annotations

from support.stability_pool import cover as _cover
from support.stability_pool import crash_and_liquidate as _crash_and_liquidate
from support.stability_pool import gift as _gift
from support.stability_pool import pool as _pool
from support.stability_pool import realize as _realize
from support.stability_pool import sell_out as _sell_out
from support.stability_pool import stable as _stable
from support.stability_pool import stake as _stake
from support.stability_pool import staker as _staker

from offchain.model.fixed_point import RAD
from offchain.testing.harness import events as _events

MIN_SHARES = 10**45


def test_cancel_or_replace_request__forfeits_the_income_since_the_request_in_shares(system):
    """Money flow (found by a review: a request replaced before it lapsed, or cancelled, used to
    earn back everything its shares had stopped earning, so a matured request could be held open
    at no cost): A stakes 3,000 and asks for all; 600 of income arrives; A cancels. The 600 go to
    the Backstop, paid with ceil(600 x 3,000 / 3,600) = 500 of A's shares: A keeps its 3,000.
    A then asks for 1,000 shares (worth 1,200); 500 of income arrives; A asks again for 1,000:
    the first request's income (1,000 x 3,500 / 2,500 - 1,200 = 200) is forfeited the same way
    before the new request is valued. Without income since the request, nothing is forfeited."""
    r, d, p = system.roles, system.d, system.d.stability_pool
    a = r.other
    for who in (a, r.feeder):
        _staker(system, who)
    _stake(system, a, 3_000 * RAD)
    system.tx(p, "request_withdrawal", a, 3_000 * RAD)
    _gift(system, r.feeder, 600 * RAD)
    backstop_0 = _stable(system, d.backstop)
    system.tx(p, "cancel_withdrawal", a)
    assert _events(system) == [
        (d.engine, "StableTransferred", {"src": p, "dst": d.backstop, "amount": 600 * RAD}),
        (p, "IncomeForfeited", {"staker": a, "amount": 600 * RAD}),
        (p, "WithdrawalCancelled", {"staker": a, "shares": 3_000 * RAD}),
    ]
    assert _stable(system, d.backstop) == backstop_0 + 600 * RAD
    assert _pool(system, "shares", a) == _pool(system, "total_shares") == 2_500 * RAD
    assert _pool(system, "assets") == _pool(system, "value_of", a) == 3_000 * RAD

    system.tx(p, "request_withdrawal", a, 1_000 * RAD)
    assert _pool(system, "withdrawal_value", a) == 1_200 * RAD
    _gift(system, r.feeder, 500 * RAD)
    forfeited = 1_000 * RAD * 3_500 // 2_500 - 1_200 * RAD
    burned = -(-forfeited * 2_500 * RAD // (3_500 * RAD))
    system.tx(p, "request_withdrawal", a, 1_000 * RAD)
    assert [(name, args) for _, name, args in _events(system) if name != "StableTransferred"] == [
        ("IncomeForfeited", {"staker": a, "amount": forfeited}),
        (
            "WithdrawalRequested",
            {
                "staker": a,
                "shares": 1_000 * RAD,
                "value": 1_000 * RAD * (3_300 * RAD) // (2_500 * RAD - burned),
            },
        ),
    ]
    assert forfeited == 200 * RAD
    assert _pool(system, "shares", a) == 2_500 * RAD - burned
    assert _pool(system, "assets") == 3_300 * RAD

    # a request replaced with no income since: nothing forfeited
    system.tx(p, "request_withdrawal", a, 500 * RAD)
    assert [name for _, name, _ in _events(system)] == ["WithdrawalRequested"]
    system.tx(p, "cancel_withdrawal", a)
    assert [name for _, name, _ in _events(system)] == ["WithdrawalCancelled"]


def test_cancel_request__a_burn_that_would_leave_less_than_min_stake__stops_at_the_shares_worth_it(
    system,
):
    """Money flow: the minimum is a value (MIN_STAKE, one stablecoin), not a share count
    (finding 31-7). A stakes 1.5 and asks for all its shares; B stakes 1,000. A loss L of about
    1,000 is charged to the pool: realizing it lowers A's cap to 1.5 less A's part, rounded up
    (finding 31-8), about 0.002. 1,000 of income refills the pool. Cancelling would burn all but
    the shares worth that cap, leaving A some shares worth less than MIN_STAKE: only the shares
    above those worth MIN_STAKE now (rounded down) are burned, their value forfeited, and A keeps
    shares worth one stablecoin (to the rounding). Without a charge (the price only rising), a
    request's shares left after a cancel are worth their cap, at least one stablecoin: no stop
    (test_cancel_or_replace_request__forfeits_the_income_since_the_request_in_shares)."""
    r, d, p = system.roles, system.d, system.d.stability_pool
    a, b = r.other, r.stranger
    for who in (a, b, r.feeder):
        _staker(system, who)
    _stake(system, a, 3 * MIN_SHARES // 2)
    _stake(system, b, 1_000 * RAD)
    system.tx(p, "request_withdrawal", a, 3 * MIN_SHARES // 2)
    assert _pool(system, "withdrawal_value", a) == 3 * MIN_SHARES // 2
    (auction_id,), loss = _crash_and_liquidate(system, [r.borrower])
    _sell_out(system, auction_id, loss)
    _cover(system, auction_id)
    total = _pool(system, "total_shares")
    assert total == 3 * MIN_SHARES // 2 + 1_000 * RAD
    assert _pool(system, "charge_amount", 1) == loss
    _realize(system, a)
    cap = 3 * MIN_SHARES // 2 - -(-(3 * MIN_SHARES // 2) * loss // total)
    assert _pool(system, "withdrawal_value", a) == cap < MIN_SHARES // 100
    _gift(system, r.feeder, 1_000 * RAD)

    assets = _pool(system, "assets")
    value_now = _pool(system, "value_of", a)
    burned_all_but_cap = -(-(value_now - cap) * total // assets)
    assert 0 < 3 * MIN_SHARES // 2 - burned_all_but_cap < MIN_SHARES * total // assets
    least = MIN_SHARES * total // assets  # the shares worth MIN_STAKE now, rounded down
    burned = 3 * MIN_SHARES // 2 - least
    forfeited = burned * assets // total
    backstop_0 = _stable(system, d.backstop)
    system.tx(p, "cancel_withdrawal", a)
    assert [(name, args) for _, name, args in _events(system) if name != "StableTransferred"] == [
        ("IncomeForfeited", {"staker": a, "amount": forfeited}),
        ("WithdrawalCancelled", {"staker": a, "shares": 3 * MIN_SHARES // 2}),
    ]
    assert _stable(system, d.backstop) == backstop_0 + forfeited
    assert _pool(system, "shares", a) == least
    assert _pool(system, "total_shares") == total - burned
    assert _pool(system, "assets") == assets - forfeited
    # A keeps shares worth one stablecoin, less than one share's value (the rounding down)
    assert MIN_SHARES - assets // total - 1 <= _pool(system, "value_of", a) <= MIN_SHARES
