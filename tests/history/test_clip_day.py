"""The day runner of the Liquidations 2.0 model (offchain/history/replay/clip.py; a model of
MakerDAO's Dog and Clipper, not Backstop's mechanism) on a short slice of the shipped 2021-05-19
files (10:00 to 16:00 UTC) with four hand-made vaults and the day's settings: each figure below
follows from the files' closes, dss's rules and the settings, by hand."""

from __future__ import annotations

from fractions import Fraction

import pytest

from offchain.history import report_clip, tasks
from offchain.history.clip_figures import ClipFigures
from offchain.history.days import DayData, day, load
from offchain.history.days.settings import values
from offchain.history.mechanisms.abaci import StairstepExponentialDecrease
from offchain.history.mechanisms.dog import DogParams
from offchain.history.mechanisms.oracle import Oracle
from offchain.history.pool import Pool, amount_out
from offchain.history.replay import clip
from offchain.history.replay.flip import Vault
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.sim.scenario.market_data import Series

MAY = day("may-2021")
DATA = load(MAY)
assert DATA.reserves is not None
RESERVES = DATA.reserves
H14 = 1_621_432_800  # 2021-05-19 14:00 UTC
# every vault is safe at the 13:00 OSM (12:00's close, 2,746.23) and unsafe at 14:00's (13:00's
# close, 1,944.91): c, 1,000 ETH owing 1.3M (1,000 x 1,944.91 / 1.5 = 1,296,607 < 1.3M); a, 100
# owing 150,000; b, 10 owing 16,000; d, 3 owing the dust, 5,000
VAULTS = [
    Vault("a", 100 * WAD, 150_000 * WAD),
    Vault("b", 10 * WAD, 16_000 * WAD),
    Vault("c", 1_000 * WAD, 1_300_000 * WAD),
    Vault("d", 3 * WAD, 5_000 * WAD),
]


def _cut(s: Series, a: int, b: int) -> Series:
    return Series(s.source, s.times[a:b], {k: v[a:b] for k, v in s.columns.items()})


def slice_run(**overrides):
    a, b = 60, 96  # 10:00 to 16:00
    data = DayData(
        _cut(DATA.prices, a, b), _cut(DATA.candles, a, b), _cut(DATA.gas, a, b), DATA.reserves
    )
    v = values(MAY.SETTINGS, overrides)
    return clip.run_day(
        VAULTS,
        DogParams(v.Hole, v.hole, v.chop),
        v.clip,
        StairstepExponentialDecrease(v.cut, v.step),
        clip.keepers_of(v),
        data.prices,
        data.gas,
        clip.market_of(MAY, v, data),
        Pool(RESERVES, v.reserves_offset),
        Oracle(v.oracle_delay, v.oracle_phase),
        v.mat,
        v.dust,
        capacity=clip.capacity_of(v, 60),
    )


def test_slice__the_day_s_settings__a_flash_take_then_a_capital_take():
    """14:00: c is barked in the step (the barkers bid the 60th percentile): tab 1.3M x 1.13 =
    1,469,000, lot 1,000, top = 1,944.91 x 1.30 = 2,528.383; barker-1 gets chip x tab = 1,469.
    a's, b's and d's chips (169.5, 18.08 and 5.65 DAI) do not pay a bark's gas (200,000 at the
    step's 60th percentile, in ETH at the market), so no one barks them: three late kicks.
    Three takers, half of them flash (rounded up: flash-1, flash-2; taker-1 with the 20M):
    at 14:09 (six 90 s steps: top x 0.99^6) the day's pair pays above the auction's price and
    flash-1 takes what it pays for; at 14:11 (0.99^7) taker-1 takes the rest of the tab; the
    rest of the lot goes back to c's owner. The Vow raised the tab: its deficit is the
    incentive less the penalty."""
    r = slice_run()
    assert r.first_unsafe == {"a": H14, "b": H14, "c": H14, "d": H14}
    assert r.first_bark == {"c": H14}
    (a,) = r.auctions
    assert (a.usr, a.kicked, a.kpr) == ("c", H14, "barker-1")
    assert (a.tab, a.lot, a.due) == (1_469_000 * RAD, 1_000 * WAD, 1_300_000 * RAD)
    assert a.top == 194_491 * WAD // 100 * 10**9 * 13 // 10
    assert a.coin == 1_469 * RAD and r.incentives == a.coin
    calc = StairstepExponentialDecrease(99 * RAY // 100, 90)
    flash, capital = a.takes
    assert (flash.time, flash.taker, flash.flash) == (H14 + 540, "flash-1", True)
    assert flash.price == calc.price(a.top, 540) and flash.owe == flash.slice * flash.price
    assert (capital.time, capital.taker, capital.flash) == (H14 + 660, "taker-1", False)
    assert capital.price == calc.price(a.top, 660) and capital.owe == a.tab - flash.owe
    assert capital.slice == capital.owe // capital.price
    assert a.returned == a.lot - flash.slice - capital.slice and a.ended == capital.time
    assert r.dai_raised == a.tab
    assert r.deficit == a.coin - (a.tab - a.due)
    # the taker resold what it bought an hour later (15:11) on the venue, under the bar's
    # close (its own sale's impact) at DAI's price of 1.001, the DAI back in its capital
    taker = r.keepers["taker-1"]
    assert taker.gem == 0 and taker.dai == 20_000_000 * RAD - capital.owe + taker.sold_for
    close = DATA.prices.at("close", H14 + 660 + 3600)
    assert 0 < taker.sold_for < capital.slice * close * 10**27 // (1001 * WAD // 1000)
    f = ClipFigures.of(r)
    assert (f.kicked, f.finished, f.loss, f.penalty_share, f.for_nothing) == (1, 1, 0, 0.13, 0)
    assert f.incentives_identity and f.late_kicks == 3  # a, b and d, never barked


def test_slice__flash_takers__the_pool_pays_the_auction_in_the_take():
    """All takers flash: each take sells its slice into the day's pair (the file's reserves 7
    hours on) and the taker keeps what the pool paid beyond the DAI owed; the slices pass to
    the outside venue; the auction ends with the tab raised."""
    r = slice_run(flash_share=Fraction(1))
    (a,) = r.auctions
    assert a.takes and all(t.flash and t.taker == "flash-1" for t in a.takes)
    assert a.raised == a.tab and a.ended is not None
    assert r.passed_on == a.sold
    flash = r.keepers["flash-1"]
    assert flash.paid == a.tab and flash.gem == 0 and flash.flash_profit > 0
    # the first take: the size whose last unit the pool pays at the auction's price
    pool = Pool(RESERVES, 25_200)
    first = a.takes[0]
    pool.at(first.time)
    assert amount_out(first.slice, pool.weth, pool.dai) * RAY >= first.owe


def test_slice__no_block_space__nothing_lands():
    """With 99% of each block taken by other traffic, a bark's 200,000 gas still fits (1% of 15M
    x 60 / 13.1 = 687,022 a step); with block_gas 0 there is no bound: the same run."""
    assert slice_run(competing_gas=Fraction(99, 100)).auctions
    assert slice_run(block_gas=0).auctions[0].takes == slice_run().auctions[0].takes


def test_run__refuses_a_day_without_a_pool():
    with pytest.raises(ValueError, match="reserves file"):
        clip.run(MAY, data=DayData(DATA.prices, DATA.candles, DATA.gas, None))


def test_report__each_band_s_verdict_from_the_run__a_miss_names_its_sources():
    """report_clip.summary on the slice's run: every band's row with the run's figure and
    verdict; the median kick-to-last-take of 11 min is under B6's 25: a miss that names what it
    rests on and how far."""
    r = slice_run()
    text = report_clip.summary(MAY, r, [("takers", 2, "2", r)])
    assert "not Backstop's mechanism" in text
    for band in MAY.BANDS:
        value = band.of(r, 0)
        assert f"| {band.id} | {band.name} | {band.history} | {band.show(value)} |" in text
        assert band.verdict(value) in text
    assert ClipFigures.of(r).minutes_median == 11
    assert "- B6 (kick to last take, median): 11 min against 25 min to 60 min; it would have " \
           "to be 2.3 times larger. It rests on the takers' margin" in text  # fmt: skip
    assert "| takers | 2 |" in text


def test_tasks__serial_in_this_process__progress_after_each(monkeypatch):
    with pytest.raises(ValueError, match="unknown task 'nope'"):
        tasks.run_task(("nope",))
    seen: list[tuple[int, int]] = []
    monkeypatch.setattr(tasks, "run_task", lambda task: (task[2], task[3]))
    out = tasks.execute(
        [("history", "x", "a", 1), ("history", "x", "b", 2)], 1, lambda d, t: seen.append((d, t))
    )
    assert out == {"a": 1, "b": 2} and seen == [(1, 2), (2, 2)]


@pytest.mark.slow
def test_the_day__command__bands_verdicts_and_the_docs_quote_the_report(tmp_path):
    """`ape run history --day may-2021 --backend model`: every band's verdict printed is that of
    `clip.run` under the day's settings; the report's tables are those docs/history.md quotes
    (Backstop's in the model: a reconciled chain run gives the same figures)."""
    from click.testing import CliRunner
    from helpers import script_cli

    from offchain.history.days import ROOT

    base = clip.run(MAY)
    args = ["--day", "may-2021", "--backend", "model", "--out", str(tmp_path / "r")]
    # stdout alone: the progress lines a pipe gets go to stderr
    result = CliRunner(mix_stderr=False).invoke(script_cli("history"), args)
    assert result.exit_code == 0, result.output + result.stderr
    assert result.output.splitlines()[: len(MAY.BANDS)] == report_clip.headline(MAY, base)
    text = (tmp_path / "r" / "summary.md").read_text()
    doc = (ROOT / "docs" / "history.md").read_text()
    for heading in (
        "| id | figure | history | model",
        "| setting | value | debt liquidated",
        "| keeper | kind",
        "| figure | history | MakerDAO 2021",
        "| setting | value | why |",
    ):
        start = text.index(heading)
        quoted = text[start : text.index("\n\n", start)]
        assert quoted in doc, heading


def test_slice__end_of_day__the_unsafe_vaults_never_barked_counted_like_backstop_s():
    """Counted as Backstop's side counts its own (history/accounting.py): the slice cut at 14:10
    (its last market price 2,483.32) with e, 2 ETH owing 6,000, unsafe from the start and never
    barked (its chip, 0.1% of 6,780, does not pay a bark's gas: O4's small vaults). c's auction
    finished with its tab raised (no loss), so the model's own loss is 0; what the day leaves
    owed is e's debt less its collateral at the last price, 6,000 - 2 x 2,483.32 = 1,033.36,
    and d (3 ETH owing 5,000: unsafe at 2,483.32 under 1.5, but covered) adds debt, no
    shortfall. Sold on the day's venue, e's 2 ETH fetch a little more than at the last market
    price (the venue's own quote, its memory of the day)."""
    a, b = 60, 86
    data = DayData(
        _cut(DATA.prices, a, b), _cut(DATA.candles, a, b), _cut(DATA.gas, a, b), DATA.reserves
    )
    v = values(MAY.SETTINGS)
    r = clip.run_day(
        [*VAULTS, Vault("e", 2 * WAD, 6_000 * WAD)],
        DogParams(v.Hole, v.hole, v.chop),
        v.clip,
        StairstepExponentialDecrease(v.cut, v.step),
        clip.keepers_of(v),
        data.prices,
        data.gas,
        clip.market_of(MAY, v, data),
        Pool(RESERVES, v.reserves_offset),
        Oracle(v.oracle_delay, v.oracle_phase),
        v.mat,
        v.dust,
        capacity=clip.capacity_of(v, 60),
    )
    assert [(x.usr, x.ended is not None) for x in r.auctions] == [("c", True)]
    assert ClipFigures.of(r).loss == 0  # the model's own count: finished auctions only
    e = r.end_of_day
    assert e is not None
    # the market's price at the last step: the bar's close (2,486.26) under the venue's impact
    close = e.mark_price
    assert close // 10**16 == 248_332 and close < DATA.prices.columns["close"][b - 1]
    assert (e.realized, e.open_auctions) == (0, 0)
    assert (e.unsafe_vaults, e.unsafe_debt) == (2, 11_000 * RAD)
    assert [(row[0], row[2], row[3]) for row in e.rows] == [("vault", "e", 6_000.0),
                                                            ("vault", "d", 5_000.0)]  # fmt: skip
    assert e.unsafe_shortfall == 6_000 * RAD - 2 * WAD * close * 10**9
    assert round(e.insolvency_last_price / RAD, 2) == 1_033.36
    # sold on the venue: e's sale fetched 4,969.34, d's is covered
    assert round(e.marked_unsafe_shortfall / RAD, 2) == 1_030.66
    assert e.insolvency == e.marked_unsafe_shortfall
