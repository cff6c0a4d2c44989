"""A global settlement from shutdown to cash: each stablecoin redeems its exact share of both types.
Scenario and helpers: tests/contracts/support/global_settlement.py.
"""

from __future__ import annotations

from fractions import Fraction

from support.global_settlement import ETH, WBTC
from support.global_settlement import allocations as _allocations
from support.global_settlement import allow as _allow
from support.global_settlement import bs as _bs
from support.global_settlement import collateral as _collateral
from support.global_settlement import final_price as _final_price
from support.global_settlement import gs as _gs
from support.global_settlement import liquidate as _liquidate
from support.global_settlement import owe as _owe
from support.global_settlement import pack_all as _pack_all
from support.global_settlement import rate as _rate
from support.global_settlement import reward as _reward
from support.global_settlement import shutdown as _shutdown
from support.global_settlement import stable as _stable
from support.global_settlement import take as _take
from support.global_settlement import thaw_after_wait as _thaw_after_wait
from support.global_settlement import to_raise as _to_raise
from support.global_settlement import top as _top
from support.global_settlement import vault as _vault

from offchain.model.backstop import FUND, POOL, SETTLEMENT
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices as _move_prices
from offchain.testing.harness import read as _read


def test_global_settlement__full_story__each_stablecoin_redeems_its_exact_share_of_both_types(
    system,
):
    """Money flow, ETH 2,000 -> 900 and WBTC 30,000 -> 20,000 (amounts below are x rate, rounded):
    - the other locks 100 ETH for 30,000 BUSD and stakes 100 in the stability pool;
    - the borrower's 20 ETH / 13,000 vault is liquidated (to raise T ~14,690); the other buys
      5 ETH at 1,080 (5,400): the auction is in flight at shutdown;
    - the stranger's 10 ETH / 13,000 vault is liquidated and sells out at 1,080 for 10,800: a
      ~2,200 loss; the stranger's 1 WBTC / 20,500 vault is underwater and never liquidated;
    - the keeper earned 2 x ~314.69 of rewards (unbacked).
    Settlement: cancelling the borrower's auction raises ~14,690 (5,400 + the re-owed ~9,290):
    ~1,690 of penalty income; the ~2,200 loss is paid by the fund (~1,690), the pool (100) and
    settlement (~410); the vaults are closed at 1/900 ETH and 1/20,000 WBTC per BUSD, the WBTC
    vault short by ~0.025 WBTC. ~60,829 BUSD are outstanding: exactly the closed vaults' debt
    plus the unbacked settlement debt and rewards. They are backed by ~39,290 BUSD of ETH and
    20,000 of WBTC (the vault's 1 WBTC): the haircut is the ~410 + ~629 + ~500 nobody backs.
    Every holder packs everything and cashes both types."""
    r, d, eth, btc = system.roles, system.d, system.eth, system.btc
    rate_eth, rate_btc = _rate(system, eth), _rate(system, btc)
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    _allow(system, r.other, d.stability_pool)
    system.tx(d.stability_pool, "stake", r.other, 100 * RAD)
    # the stake becomes shares an exposure delay (the oracle delay) later
    system.warp(_read(system, d.stability_pool, "exposure_delay"))
    system.tx(d.stability_pool, "activate", r.other)
    system.open_vault(r.borrower, ETH, 20 * WAD, 13_000 * WAD)
    system.open_vault(r.stranger, ETH, 10 * WAD, 13_000 * WAD)
    system.open_vault(r.stranger, WBTC, WAD, 20_500 * WAD)
    _move_prices(system, [(eth, 900 * WAD), (btc, 20_000 * WAD)])
    _allow(system, r.other, eth.auction)
    in_flight = _liquidate(system, eth, r.borrower)
    _take(system, r.other, eth, in_flight, 5 * WAD, _top(900 * WAD))
    sold_out = _liquidate(system, eth, r.stranger)
    _take(system, r.other, eth, sold_out, 10 * WAD, _top(900 * WAD))
    # the sold-out take paid the Backstop directly; only the in-flight auction's 5,400 is escrowed
    assert _events(system)[1][1:] == (
        "StableTransferred",
        {"src": r.other, "dst": d.backstop, "amount": 10_800 * RAD},
    )
    assert _stable(system, eth.auction) == 5_400 * RAD
    seized = 13_000 * WAD * rate_eth  # each of the two liquidations [rad]
    to_raise = _to_raise(seized)
    reward = _reward(to_raise)
    assert _stable(system, r.keeper) == 2 * reward

    # shutdown -> fix prices -> cancel -> close vaults -> cover
    _shutdown(system)
    for t in (eth, btc):
        system.tx(d.settlement, "fix_price", r.keeper, t.type_id)
    final_eth, final_btc = _final_price(900 * WAD), _final_price(20_000 * WAD)
    assert _gs(system, "type_debt", eth.type_id) == 30_000 * WAD
    assert _gs(system, "type_debt", btc.type_id) == 20_500 * WAD
    system.tx(d.settlement, "cancel_auction", r.keeper, eth.type_id, eth.auction, in_flight)
    re_owed = (to_raise - 5_400 * RAD) // rate_eth
    assert _events(system)[-3][2]["raised"] == 5_400 * RAD + re_owed * rate_eth
    assert _vault(system, eth, r.borrower) == (15 * WAD, re_owed)
    assert _gs(system, "type_debt", eth.type_id) == 30_000 * WAD + re_owed
    fund = 5_400 * RAD + re_owed * rate_eth - seized
    # nobody heals: the proceeds that covered seized debt (the sold-out 10,800 and the cancelled
    # auction's seized debt) wait in the Backstop's stablecoin, which the fund may not spend
    assert _bs(system, "unsettled_proceeds") == 10_800 * RAD + seized
    assert _stable(system, d.backstop) == fund + 10_800 * RAD + seized
    for t, owner in ((eth, r.other), (eth, r.borrower), (btc, r.stranger)):
        system.tx(d.settlement, "close_vault", r.keeper, t.type_id, owner)
    owe_other = _owe(30_000 * WAD * rate_eth, final_eth)
    owe_borrower = _owe(re_owed * rate_eth, final_eth)
    gap = _owe(20_500 * WAD * rate_btc, final_btc) - WAD
    assert _collateral(system, eth, d.settlement) == owe_other + owe_borrower
    assert _collateral(system, btc, d.settlement) == WAD
    assert (_gs(system, "gap", eth.type_id), _gs(system, "gap", btc.type_id)) == (0, gap)
    system.tx(d.backstop, "cover", r.keeper, eth.type_id, eth.auction, sold_out)
    loss = seized - 10_800 * RAD
    settlement_debt = loss - fund - 100 * RAD
    assert _allocations(system) == [
        (FUND, d.backstop, fund),
        (POOL, d.stability_pool, 100 * RAD),
        (SETTLEMENT, d.settlement, settlement_debt),
    ]
    system.tx(d.stability_pool, "realize", r.keeper, r.other, 10)
    assert _events(system) == [
        (
            d.stability_pool,
            "StakerCharged",
            {"charge_id": 1, "staker": r.other, "amount": 100 * RAD},
        )
    ]
    for owner in (r.other, r.borrower):
        system.tx(d.settlement, "free_collateral", owner, eth.type_id)
    assert _collateral(system, eth, r.borrower) == 15 * WAD - owe_borrower

    # thaw -> cash prices
    _thaw_after_wait(system)
    holdings = {  # [rad]
        r.other: 30_000 * WAD * rate_eth - 5_400 * RAD - 10_800 * RAD - 100 * RAD,
        r.borrower: seized,
        r.stranger: seized + 20_500 * WAD * rate_btc,
        r.keeper: 2 * reward,
    }
    debt = sum(holdings.values())
    assert _gs(system, "debt") == debt
    # what holders hold is exactly the closed vaults' debt plus the debt nobody backs
    closed = (30_000 * WAD + re_owed) * rate_eth + 20_500 * WAD * rate_btc
    assert debt == closed + settlement_debt + 2 * reward
    for t in (eth, btc):
        system.tx(d.settlement, "fix_cash_price", r.keeper, t.type_id)
    cash_eth = (30_000 * WAD + re_owed) * rate_eth // RAY * final_eth // RAY * RAY // (debt // RAY)
    backing_btc = 20_500 * WAD * rate_btc // RAY * final_btc // RAY - gap
    assert (
        WAD - 2 <= backing_btc <= WAD
    )  # the vault's 1 WBTC, less the round-downs of value and gap
    cash_btc = backing_btc * RAY // (debt // RAY)
    assert _gs(system, "cash_price", eth.type_id) == cash_eth
    assert _gs(system, "cash_price", btc.type_id) == cash_btc
    # per BUSD: ~39,290 / 900 / 60,829 ETH and ~1 / 60,829 WBTC, both rounded down
    value_per_busd = Fraction(cash_eth * 900 + cash_btc * 20_000, RAY)  # at the final prices
    backed = closed - gap * 20_000 * RAY  # [rad]
    assert abs(value_per_busd - Fraction(backed, debt)) < Fraction(1, 10**18)
    assert 0.974 < value_per_busd < 0.975  # a ~2.5% haircut

    # pack -> cash, every holder, both types
    held = {t.type_id: _collateral(system, t, d.settlement) for t in (eth, btc)}
    paid = {t.type_id: 0 for t in (eth, btc)}
    for holder, stable in holdings.items():
        amount = _pack_all(system, holder)
        assert amount == stable // RAY
        for t, cash_price in ((eth, cash_eth), (btc, cash_btc)):
            free_0 = _collateral(system, t, holder)
            system.tx(d.settlement, "cash", holder, t.type_id, amount)
            out = amount * cash_price // RAY
            assert _events(system)[-1][2]["collateral"] == out
            assert _collateral(system, t, holder) == free_0 + out
            paid[t.type_id] += out
        # worth less than the stablecoin given up, at the final prices
        assert Fraction(
            amount * cash_eth // RAY * 900 + amount * cash_btc // RAY * 20_000, WAD
        ) < Fraction(amount, WAD)
    # the other's ~13,700 BUSD: ~9.832 ETH + ~0.2252 WBTC, worth ~13,353 BUSD at final prices
    other = holdings[r.other] // RAY
    assert 9_831 * WAD // 1_000 < other * cash_eth // RAY < 9_833 * WAD // 1_000
    assert 2_251 * WAD // 10_000 < other * cash_btc // RAY < 2_253 * WAD // 10_000
    for t in (eth, btc):
        assert paid[t.type_id] <= held[t.type_id]
        assert _collateral(system, t, d.settlement) == held[t.type_id] - paid[t.type_id]
    assert _read(system, d.stability_pool, "assets") == 0
