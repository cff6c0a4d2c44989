"""The model of MakerDAO's Liquidations 2.0 (offchain/history/mechanisms/dog.py, clip.py,
abaci.py; not Backstop's mechanism) against dss's own code: each rule of dss src/dog.sol,
src/clip.sol and src/abaci.sol (as deployed in April 2021) checked with the numbers of dss's
own tests (src/test/clip.t.sol at dss 3f30552), which the contracts pass: the same world (a
vault of 40 GLD owing 100 DAI, the price falling from 5 to 4 at a 200% ratio, dust 20, chop
10%), the same calls, the same figures to the unit. Each refusal carries clip.sol's or dog.sol's
revert text."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from offchain.history.mechanisms.abaci import (
    AbacusError,
    LinearDecrease,
    StairstepExponentialDecrease,
    rpow,
)
from offchain.history.mechanisms.clip import ETH_A_2021, GOV, ClipError, ClipParams, Clipper
from offchain.history.mechanisms.dog import Dog, DogError, DogParams
from offchain.history.mechanisms.vat import CLIPPER, DOG, VOW, Refusal, Urn, Vat, VatError
from offchain.model.fixed_point import RAD, RAY, WAD

T0 = 604_411_200  # clip.t.sol's startTime
ME, ALI, BOB = "me", "ali", "bob"


def ray(x: float | int) -> int:
    return int(round(x * 10**9)) * 10**18 if isinstance(x, float) else x * RAY


@dataclass
class World:
    """clip.t.sol's setUp: pip 4 (spot 2 at mat 2), dust 20, chop 1.1, hole and Hole 1,000; the
    vault `me` of 40 GLD owing 100 DAI (unsafe); ali, bob and me hold 1,000 DAI."""

    vat: Vat
    dog: Dog
    clip: Clipper
    feed: dict[str, int] = field(default_factory=dict)

    def vault(self, ink: int = 40 * WAD, art: int = 100 * WAD) -> None:
        self.vat.urns[ME] = Urn(ink, art)


def world(
    calc: StairstepExponentialDecrease | LinearDecrease | None = None,
    params: ClipParams | None = None,
    hole: int = 1_000 * RAD,
    Hole: int = 1_000 * RAD,
    chop: int = 11 * WAD // 10,
    rate: int = RAY,
) -> World:
    feed = {"price": 4 * WAD}
    vat = Vat(rate=rate, spot=2 * RAY, dust=20 * RAD)
    dog = Dog(vat, DogParams(Hole=Hole, hole=hole, chop=chop))
    clip = Clipper(
        vat,
        dog,
        calc or StairstepExponentialDecrease(cut=RAY - ray(0.01), step=1),
        params or ClipParams(buf=RAY, tail=0, cusp=0, chip=0, tip=0),
        feed=lambda now: feed["price"],
    )
    clip.upchost()
    dog.clipper = clip
    vat.gem[ME] = 960 * WAD
    for who in (ME, ALI, BOB):
        vat.dai[who] = 1_000 * RAD
    w = World(vat, dog, clip, feed)
    w.vault()
    return w


def take_setup() -> World:
    """clip.t.sol's takeSetup: 1% a second, buf 1.25, cusp 0.3, tail 1 h; barked at T0: tab 110,
    lot 40, top 5."""
    w = world(params=ClipParams(buf=ray(1.25), tail=3600, cusp=ray(0.3), chip=0, tip=0))
    w.dog.bark(ME, "keeper", T0)
    s = w.clip.sales[1]
    assert (s.pos, s.tab, s.lot, s.usr, s.tic, s.top) == (0, 110 * RAD, 40 * WAD, ME, T0, 5 * RAY)
    return w


# --- abaci.sol ---


def test_abacus__stairstep_is_dss_rpow_rounded_half_up_at_each_product():
    """5 x 0.99^60 = 2.735783211953807380973706855 (clip.t.sol's figure); the step floors the
    elapsed time; cut above RAY refused."""
    calc = StairstepExponentialDecrease(cut=RAY - ray(0.01), step=1)
    assert calc.price(5 * RAY, 60) == 2735783211953807380973706855
    assert calc.price(5 * RAY, 100) == 1830161706366147524653080130
    eth_a = StairstepExponentialDecrease(cut=99 * RAY // 100, step=90)
    assert eth_a.price(1000 * RAY, 179) == 990 * RAY  # one step of 90 s passed
    assert eth_a.price(1000 * RAY, 180) == 980_100 * RAY // 1000
    assert rpow(3 * RAY // 2, 0, RAY) == RAY and rpow(0, 5, RAY) == 0
    with pytest.raises(AbacusError, match="StairstepExponentialDecrease/cut-gt-RAY"):
        calc.file("cut", RAY + 1)


def test_abacus__linear_reaches_zero_at_tau():
    calc = LinearDecrease(tau=3600)
    assert calc.price(5 * RAY, 1800) == 5 * RAY // 2
    assert calc.price(5 * RAY, 3600) == 0


# --- dog.sol: bark ---


def test_kick__tip_and_chip_paid_to_the_barker_top_from_the_feed_x_buf():
    """test_kick: tip 100, chip 0: ali barks the whole vault (tab 110 = 100 x 1.1, lot 40, top
    4 at buf 1) and is paid 100; then, buf 1.25, tip 100, chip 2%: bob gets 100 + 2.2."""
    w = world(params=ClipParams(buf=RAY, tail=0, cusp=0, chip=0, tip=100 * RAD))
    w.dog.bark(ME, ALI, T0)
    s = w.clip.sales[1]
    assert (s.pos, s.tab, s.lot, s.usr, s.tic, s.top) == (0, 110 * RAD, 40 * WAD, ME, T0, 4 * RAY)
    assert w.vat.dai[ALI] == 1_100 * RAD
    assert (w.vat.urns[ME].ink, w.vat.urns[ME].art) == (0, 0)
    # the Vow's system debt: the vault's 100 and the 100 of new DAI paid to the keeper
    assert w.vat.sin[VOW] == 200 * RAD
    w.vault()
    w.clip.file("buf", ray(1.25))
    w.clip.file("chip", 2 * WAD // 100)
    w.dog.bark(ME, BOB, T0 + 100)
    s = w.clip.sales[2]
    assert (s.pos, s.tab, s.lot, s.tic, s.top) == (1, 110 * RAD, 40 * WAD, T0 + 100, 5 * RAY)
    assert w.vat.dai[BOB] == 1_000 * RAD + 100 * RAD + 110 * RAD * 2 // 100


def test_kick__refusals():
    w = world()
    for args, reason in (
        ((0, 2 * WAD, "x"), "Clipper/zero-tab"),
        ((RAD, 0, "x"), "Clipper/zero-lot"),
        ((RAD, 2 * WAD, ""), "Clipper/zero-usr"),
    ):
        with pytest.raises(ClipError, match=reason):
            w.clip.kick(*args, "k", T0)
    with pytest.raises(ClipError, match="Clipper/not-authorized"):
        w.clip.kick(RAD, WAD, "x", "k", T0, sender=ALI)
    w.feed["price"] = 0
    with pytest.raises(ClipError, match="Clipper/zero-top-price"):
        w.dog.bark(ME, "k", T0)
    assert w.vat.urns[ME].ink == 40 * WAD and w.dog.Dirt == 0  # nothing moved


def test_bark__not_leaving_dust():
    """hole 80, chop 1: room 80 leaves exactly the dust (20): a partial bark of 80 for 32."""
    w = world(hole=80 * RAD, chop=WAD)
    w.dog.bark(ME, "k", T0)
    s = w.clip.sales[1]
    assert (s.tab, s.lot, s.top) == (80 * RAD, 32 * WAD, 4 * RAY)
    assert (w.vat.urns[ME].ink, w.vat.urns[ME].art) == (8 * WAD, 20 * WAD)
    assert w.dog.Dirt == w.dog.dirt == 80 * RAD


def test_bark__over_the_hole_by_a_wei_takes_the_whole_vault():
    """room 80 + 1 wei: the rest would be dusty (< 20), so the whole vault (tab 100 > hole)."""
    w = world(hole=80 * RAD + RAY, chop=WAD)
    w.dog.bark(ME, "k", T0)
    assert (w.clip.sales[1].tab, w.clip.sales[1].lot) == (100 * RAD, 40 * WAD)
    assert (w.vat.urns[ME].ink, w.vat.urns[ME].art) == (0, 0)


def test_bark__with_a_rate__dusty_rest_whole_vault__rest_at_the_dust_partial():
    """rate 1.02, hole 100: the rest ~2 < dust: the whole 102; hole 81.6, dust 20.4: the rest is
    exactly the dust: a partial bark of 80 art (tab 81.6, lot 32)."""
    w = world(hole=100 * RAD, chop=WAD, rate=ray(1.02))
    w.dog.bark(ME, "k", T0)
    assert (w.clip.sales[1].tab, w.clip.sales[1].lot) == (100 * WAD * ray(1.02), 40 * WAD)
    w = world(hole=816 * RAD // 10, chop=WAD, rate=ray(1.02))
    w.vat.dust = 204 * RAD // 10
    w.clip.upchost()
    w.dog.bark(ME, "k", T0)
    assert (w.clip.sales[1].tab, w.clip.sales[1].lot) == (816 * RAD // 10, 32 * WAD)
    assert (w.vat.urns[ME].ink, w.vat.urns[ME].art) == (8 * WAD, 20 * WAD)
    assert w.vat.urns[ME].art * w.vat.rate == w.vat.dust


@pytest.mark.parametrize("limit", ["Hole", "hole"])
def test_bark__partial_liquidation_at_the_limit(limit):
    """Hole (or hole) 75 with chop 1.1: dart = 75 / 1.1 (rounded down), tab = 75 less the 0.2 ray
    of rounding, lot = 40 x dart / 100."""
    w = world(**{limit: 75 * RAD})  # type: ignore[arg-type]
    w.dog.bark(ME, "k", T0)
    s = w.clip.sales[1]
    dart = s.tab * WAD // RAY // (11 * WAD // 10)
    assert s.tab == 75 * RAD - ray(0.2)
    assert s.lot == 40 * WAD * dart // (100 * WAD)
    assert (w.vat.urns[ME].ink, w.vat.urns[ME].art) == (40 * WAD - s.lot, 100 * WAD - dart)
    assert w.dog.Dirt == w.dog.dirt == s.tab
    # 0.2 ray of room is left: a bark would take 0 art, under the dust
    with pytest.raises(DogError, match="Dog/dusty-auction-from-partial-liquidation"):
        w.dog.bark(ME, "k", T0)


def test_bark__no_room_left():
    """hole 110: the first vault's tab (110) fills it; a second unsafe vault is refused until a
    take gives the room back."""
    w = world(hole=110 * RAD)
    w.dog.bark(ME, "k", T0)
    assert w.dog.dirt == 110 * RAD
    w.vault()
    with pytest.raises(DogError, match="Dog/liquidation-limit-hit"):
        w.dog.bark(ME, "k", T0)
    w.clip.take(1, 11 * WAD, 4 * RAY, ALI, T0)  # 44 of the 110 raised: 44 of room back
    w.dog.params = DogParams(Hole=1_000 * RAD, hole=110 * RAD, chop=WAD)
    bark = w.dog.bark(ME, "k", T0)
    assert bark.tab == 44 * RAD and w.dog.dirt == 110 * RAD


def test_bark__refusals():
    w = world(hole=10 * RAD, chop=WAD)  # room 10 leaves 90 (not dusty), takes 10 < dust 20
    with pytest.raises(DogError, match="Dog/dusty-auction-from-partial-liquidation"):
        w.dog.bark(ME, "k", T0)
    w = world()
    w.vat.spot = 3 * RAY  # 40 x 3 = 120 >= 100: safe
    with pytest.raises(DogError, match="Dog/not-unsafe"):
        w.dog.bark(ME, "k", T0)
    w = world()
    w.vat.urns[ME] = Urn(1, 100 * WAD)  # dink = 1 x 1 / 100e18 rounds to 0
    w.dog.params = DogParams(Hole=1_000 * RAD, hole=RAD, chop=WAD)
    w.vat.dust = 0
    with pytest.raises(DogError, match="Dog/null-auction"):
        w.dog.bark(ME, "k", T0)
    w = world()
    w.dog.cage()
    with pytest.raises(DogError, match="Dog/not-live"):
        w.dog.bark(ME, "k", T0)
    with pytest.raises(DogError, match="Dog/file-chop-lt-WAD"):
        DogParams(Hole=RAD, hole=RAD, chop=WAD - 1)


# --- clip.sol: take ---


def test_take__over_tab__pays_the_tab_only__rest_of_the_lot_to_the_owner():
    """owe 25 x 5 = 125 > tab 110: slice = 110 / 5 = 22; 18 back to me; the Dog forgets it all."""
    w = take_setup()
    t = w.clip.take(1, 25 * WAD, 5 * RAY, ALI, T0)
    assert (t.owe, t.slice, t.done) == (110 * RAD, 22 * WAD, True)
    assert w.vat.gem[ALI] == 22 * WAD and w.vat.dai[ALI] == 890 * RAD
    assert w.vat.gem[ME] == 978 * WAD
    assert 1 not in w.clip.sales and w.dog.Dirt == w.dog.dirt == 0
    assert w.vat.dai[VOW] == 110 * RAD


def test_take__at_tab_and_under_tab():
    w = take_setup()
    w.clip.take(1, 22 * WAD, 5 * RAY, ALI, T0)
    assert (w.vat.gem[ALI], w.vat.dai[ALI], w.vat.gem[ME]) == (22 * WAD, 890 * RAD, 978 * WAD)
    w = take_setup()
    t = w.clip.take(1, 11 * WAD, 5 * RAY, ALI, T0)
    assert (w.vat.gem[ALI], w.vat.dai[ALI], w.vat.gem[ME]) == (11 * WAD, 945 * RAD, 960 * WAD)
    s = w.clip.sales[1]
    assert (s.tab, s.lot, s.tic, s.top, t.done) == (55 * RAD, 29 * WAD, T0, 5 * RAY, False)
    assert w.dog.Dirt == w.dog.dirt == 55 * RAD


def test_take__the_whole_lot_for_less_than_the_tab__the_dog_forgets_the_rest():
    """69 s later (price 5 x 0.99^69, about 2.5): the whole lot for about 100 < 110; the auction
    ends and every bit of dirt is gone, though 10 of the tab was never raised."""
    w = take_setup()
    price = w.clip.price(1, T0 + 69)
    t = w.clip.take(1, 40 * WAD, ray(2.5), ALI, T0 + 69)
    assert t.owe == 40 * WAD * price and t.done and t.tab == 110 * RAD - t.owe
    assert abs(1_000 * RAD - w.vat.dai[ALI] - 100 * RAD) < RAD // 10
    assert w.vat.gem[ALI] == 40 * WAD and w.vat.gem[ME] == 960 * WAD
    assert w.dog.Dirt == w.dog.dirt == 0


def test_take__too_expensive_refused():
    w = take_setup()
    with pytest.raises(ClipError, match="Clipper/too-expensive"):
        w.clip.take(1, 22 * WAD, 4 * RAY, ALI, T0)
    with pytest.raises(ClipError, match="Clipper/not-running-auction"):
        w.clip.take(2, 25 * WAD, 5 * RAY, ALI, T0)


def test_take__a_partial_take_never_leaves_less_than_chost():
    """chost = 20 x 1.1 = 22: a take of 18 (90 DAI) would leave 20 < 22, so it is cut to leave 22:
    owe 88, slice 88 / 5 = 17.6."""
    w = take_setup()
    assert w.clip.chost == 22 * RAD
    w.clip.take(1, 18 * WAD, 5 * RAY, ALI, T0)
    s = w.clip.sales[1]
    assert s.tab == w.clip.chost
    assert s.lot == 40 * WAD - (110 * RAD - w.clip.chost) // (5 * RAY)


def test_take__no_more_lot__the_chost_rule_does_not_apply():
    """60 s later (2.7357... x 40 = 109.43 < 110): the whole lot; what is left of the tab, under
    chost, does not matter: the auction is over."""
    w = take_setup()
    price = w.clip.price(1, T0 + 60)
    assert price == 2735783211953807380973706855
    t = w.clip.take(1, 40 * WAD, ray(2.8), ALI, T0 + 60)
    assert t.done and (t.lot, t.owe) == (0, 40 * WAD * price)
    assert 1 not in w.clip.sales


def test_take__at_or_under_chost_only_the_whole_tab():
    """After a take of 17.6 the tab is 22 = chost: a partial take of 1 is refused; the whole tab
    (22 / 5 = 4.4 of the 22.4 left) passes."""
    w = take_setup()
    w.clip.take(1, 176 * WAD // 10, 5 * RAY, ME, T0)
    s = w.clip.sales[1]
    assert (s.tab, s.lot) == (22 * RAD, 224 * WAD // 10)
    with pytest.raises(ClipError, match="Clipper/no-partial-purchase"):
        w.clip.take(1, WAD, 5 * RAY, ME, T0)
    t = w.clip.take(1, s.tab // (5 * RAY), 5 * RAY, ME, T0)
    assert t.done and t.tab == 0


def test_take__two_takers_at_two_prices__the_rest_back_to_the_owner():
    """ali 10 at 5 (50); 30 s later bob buys the rest of the tab (60) at 5 x 0.99^30: 60 / price
    of the 30 left, the rest back to me."""
    w = take_setup()
    w.clip.take(1, 10 * WAD, 5 * RAY, ALI, T0)
    assert (w.clip.sales[1].tab, w.clip.sales[1].lot) == (60 * RAD, 30 * WAD)
    price = w.clip.price(1, T0 + 30)
    w.clip.take(1, 30 * WAD, price, BOB, T0 + 30)
    expected = RAY * 60 * WAD // price
    assert w.vat.gem[BOB] == expected and w.vat.dai[BOB] == 940 * RAD
    assert w.vat.gem[ME] == 960 * WAD + 30 * WAD - expected
    assert 1 not in w.clip.sales


def test_take__without_the_dai__reverts_whole():
    w = take_setup()
    w.vat.dai["che"] = 0
    with pytest.raises(VatError, match="Vat/insufficient-dai"):
        w.clip.take(1, 25 * WAD, 5 * RAY, "che", T0)
    s = w.clip.sales[1]
    assert (s.tab, s.lot, w.vat.gem["che"], w.dog.Dirt) == (110 * RAD, 40 * WAD, 0, 110 * RAD)


@dataclass
class Exchange:
    """clip.t.sol's Trader: sells gem at 5.5 (goldPrice x 1.1) for DAI, paying the sender owe."""

    vat: Vat
    price: int = 55 * WAD // 10
    refuse: bool = False

    def check(self, sender: str, owe: int, gem_amt: int, now: int) -> None:
        if self.refuse or gem_amt * self.price * 10**9 < owe:
            raise Refusal("UniswapV2Router: INSUFFICIENT_OUTPUT_AMOUNT")

    def call(self, sender: str, owe: int, gem_amt: int, now: int) -> None:
        self.vat.gem["exchange"] = self.vat.gem["exchange"] + gem_amt
        self.vat.gem["che"] -= gem_amt
        self.vat.dai[sender] += gem_amt * self.price * 10**9


def test_take__a_flash_sale_pays_for_itself():
    """test_flashsale: che holds no DAI; 22 GLD sold at 5.5 pay the 110 owed and leave 11."""
    w = take_setup()
    w.vat.dai["che"] = 0
    w.clip.take(1, 25 * WAD, 5 * RAY, "che", T0, callee=Exchange(w.vat))
    assert w.vat.dai["che"] == 11 * RAD and w.vat.dai[VOW] == 110 * RAD
    w = take_setup()
    w.vat.dai["che"] = 0
    with pytest.raises(Refusal, match="INSUFFICIENT_OUTPUT_AMOUNT"):
        w.clip.take(1, 25 * WAD, 5 * RAY, "che", T0, callee=Exchange(w.vat, refuse=True))
    assert w.clip.sales[1].lot == 40 * WAD and w.vat.gem[CLIPPER] == 40 * WAD


# --- clip.sol: redo ---


def reset_setup(tau: int) -> World:
    """clip.t.sol's auctionResetSetup: a linear curve to 0 at tau, buf 1.25, cusp 0.5, tail 1 h."""
    w = world(
        calc=LinearDecrease(tau=tau),
        params=ClipParams(buf=ray(1.25), tail=3600, cusp=ray(0.5), chip=0, tip=0),
    )
    w.dog.bark(ME, "k", T0)
    return w


def test_redo__after_tail__new_top_from_the_feed_now():
    w = reset_setup(10 * 3600)
    w.feed["price"] = 3 * WAD
    assert w.clip.sales[1].top == 5 * RAY
    assert not w.clip.needs_redo(1, T0 + 3600)
    with pytest.raises(ClipError, match="Clipper/cannot-reset"):
        w.clip.redo(1, "k", T0 + 3600)
    assert w.clip.needs_redo(1, T0 + 3601)
    w.clip.redo(1, "k", T0 + 3601)
    assert (w.clip.sales[1].tic, w.clip.sales[1].top) == (T0 + 3601, ray(3.75))
    with pytest.raises(ClipError, match="Clipper/cannot-reset"):
        w.clip.redo(1, "k", T0 + 3601)


def test_redo__under_cusp():
    w = reset_setup(3600)
    w.feed["price"] = 3 * WAD
    assert not w.clip.needs_redo(1, T0 + 1800)
    assert w.clip.needs_redo(1, T0 + 1801)
    w.clip.redo(1, "k", T0 + 1801)
    assert w.clip.sales[1].top == ray(3.75)
    with pytest.raises(ClipError, match="Clipper/needs-reset"):
        reset_setup(3600).clip.take(1, WAD, 5 * RAY, ALI, T0 + 1801)
    with pytest.raises(ClipError, match="Clipper/not-running-auction"):
        w.clip.redo(2, "k", T0)


def test_redo__incentives_only_for_an_auction_worth_chost():
    """test_redo_incentive: tip 100; then chip 2% as well; then chip alone; then nothing once
    chost (dust x chop) is above the tab; then nothing for a lot worth under chost at the feed
    (2 left x 4 = 8 < 22)."""
    w = take_setup()
    w.clip.file("tip", 100 * RAD)
    t = T0 + 300
    assert w.clip.redo(1, "k1", t) == 100 * RAD and w.vat.dai["k1"] == 100 * RAD
    w.clip.file("chip", 2 * WAD // 100)
    t += 300
    assert w.clip.redo(1, "k2", t) == 100 * RAD + 110 * RAD * 2 // 100
    w.clip.file("tip", 0)
    t += 300
    assert w.clip.redo(1, "k3", t) == 110 * RAD * 2 // 100
    w.vat.dust = 100 * RAD + 1
    w.clip.upchost()
    assert w.clip.chost == 110 * RAD + 1
    t += 300
    assert w.clip.redo(1, "k4", t) == 0 and w.vat.dai["k4"] == 0
    w.vat.dust = 20 * RAD
    w.clip.upchost()
    t += 100
    price = w.clip.price(1, t)
    assert price == 1830161706366147524653080130
    w.clip.take(1, 38 * WAD, 5 * RAY, ME, t)
    assert (w.clip.sales[1].tab, w.clip.sales[1].lot) == (110 * RAD - 38 * WAD * price, 2 * WAD)
    t += 300
    assert w.clip.redo(1, "k5", t) == 0 and w.vat.dai["k5"] == 0


# --- clip.sol: yank, stopped, the active list ---


def test_yank__the_dog_forgets_the_tab__the_lot_to_governance():
    w = take_setup()
    w.clip.yank(1)
    assert 1 not in w.clip.sales and w.dog.Dirt == w.dog.dirt == 0
    assert w.vat.gem[GOV] == 40 * WAD
    with pytest.raises(ClipError, match="Clipper/not-authorized"):
        take_setup().clip.yank(1, sender=ALI)


@pytest.mark.parametrize(
    ("level", "kick", "take", "redo"),
    [(1, False, True, True), (2, False, True, False), (3, False, False, False)],
)
def test_stopped__the_breaker_s_levels(level, kick, take, redo):
    """1: no kick; 2: no kick nor redo; 3: no kick, redo nor take."""
    w = take_setup()
    w.clip.file("stopped", level)
    for allowed, call in (
        (kick, lambda: w.clip.kick(RAD, WAD, "x", "k", T0, sender=DOG)),
        (take, lambda: w.clip.take(1, WAD, 5 * RAY, ALI, T0)),
        (redo, lambda: w.clip.redo(1, "k", T0 + 3601)),
    ):
        if allowed:
            call()
        else:
            with pytest.raises(ClipError, match="Clipper/stopped-incorrect"):
                call()


def test_remove__the_last_active_id_takes_the_place():
    """test_remove_id: [1,2,3,4,5] less 3 is [1,2,5,4]; less 4 is [1,2,5]."""
    w = world()
    for _ in range(5):
        w.clip.kick(RAD, WAD, "x", "k", T0, sender=DOG)
    w.clip._remove(3)
    assert w.clip.list() == [1, 2, 5, 4] and w.clip.sales[5].pos == 2
    w.clip._remove(4)
    assert w.clip.list() == [1, 2, 5] and [w.clip.sales[i].pos for i in (1, 2, 5)] == [0, 1, 2]


def test_eth_a_on_2021_05_19__the_spells_values():
    """The 2021-04-30 spell's ETH-A Clipper (asserted by the spells' tests to 2021-05-24)."""
    assert ETH_A_2021 == ClipParams(
        buf=13 * RAY // 10, tail=8_400, cusp=4 * RAY // 10, chip=WAD // 1000, tip=0
    )
