"""The model of MakerDAO's 2020 Flipper (offchain/history/flip.py; not a Backstop contract): every
rule of flip.sol as of early 2020, each refusal by its reason, the beg boundaries exactly at the
threshold and one unit past it, and who receives what. Pure Python, no chain."""

from __future__ import annotations

import pytest

from offchain.history.mechanisms.flip import (
    DAY_2020_03_12,
    MIN_BID,
    FlipError,
    Flipper,
    is_zero_bid,
)
from offchain.history.mechanisms.vat import CAT, FLIPPER, VOW, Vat, VatError
from offchain.model.fixed_point import RAD, WAD

T0 = 1_583_971_200  # 2020-03-12T00:00:00Z
TTL = DAY_2020_03_12.ttl  # 600 s
TAU = DAY_2020_03_12.tau  # 3 days
LOT = 50 * WAD
TAB = 5650 * RAD
OWNER = "owner"
ALICE, BOB = "alice", "bob"
BUDGET = 10_000 * RAD


@pytest.fixture
def house() -> Flipper:
    """A flipper over a Vat where the Cat holds 50 ETH and two bidders 10,000 DAI each; auction 1
    kicked at T0 for 5,650 DAI."""
    vat = Vat()
    vat.gem[CAT] = LOT
    vat.dai[ALICE] = vat.dai[BOB] = BUDGET
    flipper = Flipper(vat, DAY_2020_03_12)
    assert flipper.kick(lot=LOT, tab=TAB, usr=OWNER, gal=VOW, now=T0) == 1
    return flipper


def refused(reason: str):
    return pytest.raises(FlipError, match=f"^{reason}$")


def test_kick__no_bid_cat_as_guy_end_after_tau__collateral_held(house):
    a = house.auction(1)
    assert (a.bid, a.lot, a.guy, a.tic, a.end, a.usr, a.gal, a.tab) == (
        0,
        LOT,
        CAT,
        0,
        T0 + TAU,
        OWNER,
        VOW,
        TAB,
    )
    assert house.vat.gem[FLIPPER] == LOT and house.vat.gem[CAT] == 0


def test_kick__second_auction__id_two():
    vat = Vat()
    vat.gem[CAT] = 2 * LOT
    flipper = Flipper(vat, DAY_2020_03_12)
    assert [flipper.kick(LOT, TAB, OWNER, VOW, T0) for _ in range(2)] == [1, 2]


def test_tend__first_bid__bidder_pays_vow_tic_set(house):
    """Money flow: Alice pays 100 DAI, all of it to the Vow (the outbid guy, the Cat, had 0)."""
    house.tend(1, ALICE, LOT, 100 * RAD, T0 + 5)
    a = house.auction(1)
    assert (a.guy, a.bid, a.tic) == (ALICE, 100 * RAD, T0 + 5 + TTL)
    assert house.vat.dai[ALICE] == BUDGET - 100 * RAD
    assert house.vat.dai[VOW] == 100 * RAD


def test_tend__outbid__previous_bidder_refunded_vow_gets_increase(house):
    """Money flow: Bob pays 103; Alice gets her 100 back; the Vow holds 103 in all."""
    house.tend(1, ALICE, LOT, 100 * RAD, T0)
    house.tend(1, BOB, LOT, 103 * RAD, T0 + 60)
    assert house.vat.dai[ALICE] == BUDGET
    assert house.vat.dai[BOB] == BUDGET - 103 * RAD
    assert house.vat.dai[VOW] == 103 * RAD
    assert house.auction(1).tic == T0 + 60 + TTL


def test_tend__exactly_beg_over__accepted_one_unit_under__refused(house):
    house.tend(1, ALICE, LOT, 100 * RAD, T0)
    least = 103 * RAD  # 100 x 1.03: bid x ONE == beg x previous
    with refused("Flipper/insufficient-increase"):
        house.tend(1, BOB, LOT, least - 1, T0 + 1)
    house.tend(1, BOB, LOT, least, T0 + 1)
    assert house.auction(1).bid == least


def test_tend__tab_itself__accepted_under_beg(house):
    house.tend(1, ALICE, LOT, TAB - 10 * RAD, T0)
    house.tend(1, BOB, LOT, TAB, T0 + 1)  # +0.18%: below beg, but the whole tab
    assert house.auction(1).bid == TAB


def test_tend__least_positive_bid_on_an_auction_without_bid__accepted(house):
    house.tend(1, ALICE, LOT, MIN_BID, T0)
    assert house.auction(1).bid == 1
    assert house.vat.dai[VOW] == 1


def test_tend__zero__refused_bid_not_higher(house):
    with refused("Flipper/bid-not-higher"):
        house.tend(1, ALICE, LOT, 0, T0)


def test_tend__equal_bid__refused_bid_not_higher(house):
    house.tend(1, ALICE, LOT, 100 * RAD, T0)
    with refused("Flipper/bid-not-higher"):
        house.tend(1, BOB, LOT, 100 * RAD, T0 + 1)


def test_tend__above_tab__refused(house):
    with refused("Flipper/higher-than-tab"):
        house.tend(1, ALICE, LOT, TAB + 1, T0)


def test_tend__other_lot__refused(house):
    with refused("Flipper/lot-not-matching"):
        house.tend(1, ALICE, LOT - 1, 100 * RAD, T0)


def test_tend__unknown_auction__refused_guy_not_set(house):
    with refused("Flipper/guy-not-set"):
        house.tend(2, ALICE, LOT, 100 * RAD, T0)


def test_tend__at_tic__refused_already_finished_tic(house):
    house.tend(1, ALICE, LOT, 100 * RAD, T0)
    house.tend(1, BOB, LOT, 200 * RAD, T0 + TTL - 1)  # one second before tic: still open
    with refused("Flipper/already-finished-tic"):
        house.tend(1, ALICE, LOT, 300 * RAD, T0 + TTL - 1 + TTL)


def test_tend__at_end__refused_already_finished_end(house):
    with refused("Flipper/already-finished-end"):
        house.tend(1, ALICE, LOT, 100 * RAD, T0 + TAU)
    house.tend(1, ALICE, LOT, 100 * RAD, T0 + TAU - 1)


def test_tend__bidder_without_dai__refused_by_the_vat(house):
    with pytest.raises(VatError, match="Vat/insufficient-dai"):
        house.tend(1, "carol", LOT, 100 * RAD, T0)


def test_tend__own_bid_raised__needs_the_old_bid_on_hand(house):
    """flip.sol of the day moved the old bid to the guy (here, himself) before the increase to
    the Vow. Alice (9,900 left after bidding 100) raises to 200. Dave, with exactly 210, outbids
    her (Alice refunded 200); raising his own bid to 300 would need his 210 on hand first: he has
    0, so the Vat refuses although the increase alone is 90."""
    house.tend(1, ALICE, LOT, 100 * RAD, T0)
    house.tend(1, ALICE, LOT, 200 * RAD, T0 + 1)
    assert house.vat.dai[ALICE] == BUDGET - 200 * RAD
    house.vat.dai["dave"] = 210 * RAD
    house.tend(1, "dave", LOT, 210 * RAD, T0 + 2)
    assert house.vat.dai[ALICE] == BUDGET and house.vat.dai["dave"] == 0
    house.vat.dai["dave"] = 90 * RAD
    with pytest.raises(VatError, match="Vat/insufficient-dai"):
        house.tend(1, "dave", LOT, 300 * RAD, T0 + 3)


@pytest.fixture
def dent_phase(house) -> Flipper:
    house.tend(1, ALICE, LOT, TAB, T0)
    return house


def test_dent__lot_down__owner_gets_the_rest_previous_bidder_refunded(dent_phase):
    """Money flow: Bob pays the tab, which goes to Alice (her tab back); the owner receives the
    10 ETH Bob gave up; the Vow keeps the tab Alice paid."""
    dent_phase.dent(1, BOB, 40 * WAD, TAB, T0 + 60)
    a = dent_phase.auction(1)
    assert (a.guy, a.lot, a.bid, a.tic) == (BOB, 40 * WAD, TAB, T0 + 60 + TTL)
    assert dent_phase.vat.gem[OWNER] == 10 * WAD
    assert dent_phase.vat.gem[FLIPPER] == 40 * WAD
    assert dent_phase.vat.dai[ALICE] == BUDGET
    assert dent_phase.vat.dai[BOB] == BUDGET - TAB
    assert dent_phase.vat.dai[VOW] == TAB


def test_dent__exactly_beg_under__accepted_one_unit_over__refused(dent_phase):
    most = LOT * WAD // DAY_2020_03_12.beg  # the largest lot with beg x lot <= old x ONE
    assert DAY_2020_03_12.beg * most <= LOT * WAD < DAY_2020_03_12.beg * (most + 1)
    with refused("Flipper/insufficient-decrease"):
        dent_phase.dent(1, BOB, most + 1, TAB, T0 + 1)
    dent_phase.dent(1, BOB, most, TAB, T0 + 1)
    assert dent_phase.vat.gem[OWNER] == LOT - most


def test_dent__in_tend_phase__refused_tend_not_finished(house):
    house.tend(1, ALICE, LOT, 100 * RAD, T0)
    with refused("Flipper/tend-not-finished"):
        house.dent(1, BOB, 40 * WAD, 100 * RAD, T0 + 1)


def test_dent__other_bid__refused_not_matching_bid(dent_phase):
    with refused("Flipper/not-matching-bid"):
        dent_phase.dent(1, BOB, 40 * WAD, TAB - 1, T0 + 1)


def test_dent__same_lot__refused_lot_not_lower(dent_phase):
    with refused("Flipper/lot-not-lower"):
        dent_phase.dent(1, BOB, LOT, TAB, T0 + 1)


def test_dent__at_tic__refused_already_finished_tic(dent_phase):
    with refused("Flipper/already-finished-tic"):
        dent_phase.dent(1, BOB, 40 * WAD, TAB, T0 + TTL)


def test_deal__at_tic__refused_one_second_later__winner_gets_lot(house):
    house.tend(1, ALICE, LOT, 100 * RAD, T0)
    with refused("Flipper/not-finished"):
        house.deal(1, T0 + TTL)
    ended = house.deal(1, T0 + TTL + 1)
    assert (ended.guy, ended.bid, ended.lot) == (ALICE, 100 * RAD, LOT)
    assert house.vat.gem[ALICE] == LOT and house.vat.gem[FLIPPER] == 0
    assert house.auction(1).guy == ""  # deleted: a late bid finds no guy
    with refused("Flipper/guy-not-set"):
        house.tend(1, BOB, LOT, 200 * RAD, T0 + TTL + 2)


def test_deal__after_tau_with_a_standing_bid__before_tic(house):
    house.tend(1, ALICE, LOT, 100 * RAD, T0 + TAU - 1)  # tic = end - 1 + ttl
    with refused("Flipper/not-finished"):
        house.deal(1, T0 + TAU)  # end == now: not passed; tic still ahead
    house.deal(1, T0 + TAU + 1)
    assert house.vat.gem[ALICE] == LOT


def test_deal__without_bid__refused_even_after_end(house):
    with refused("Flipper/not-finished"):
        house.deal(1, T0 + TAU + 1)


def test_tick__without_bid_after_end__restarts(house):
    with refused("Flipper/not-finished"):
        house.tick(1, T0 + TAU)
    house.tick(1, T0 + TAU + 1)
    assert house.auction(1).end == T0 + TAU + 1 + TAU
    house.tend(1, ALICE, LOT, 100 * RAD, T0 + TAU + 2)  # open again


def test_tick__with_a_bid__refused_bid_already_placed(house):
    house.tend(1, ALICE, LOT, 100 * RAD, T0 + TAU - 1)
    with refused("Flipper/bid-already-placed"):
        house.tick(1, T0 + TAU + 1)


def test_is_zero_bid__one_percent_of_value__boundary():
    """50 ETH at 100 DAI: worth 5,000 DAI; 1% is 50 DAI; a bid of 50 is not a zero bid, one unit
    of rad under it is."""
    price = 100 * WAD
    assert not is_zero_bid(50 * RAD, LOT, price)
    assert is_zero_bid(50 * RAD - 1, LOT, price)
    assert is_zero_bid(MIN_BID, LOT, price)
