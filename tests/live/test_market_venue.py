"""The devnet's market and the lab are one market (issue 74): `ape run market` on a built-in day
plays the lab's outside venue on the devnet (offchain/live/venue.py). An OutsideVenue per type,
synced every bar with the lab's venue; the taker bot's FlashTaker bound to it (the test's
deployment record has none at first: its FlashTaker is bound to the zero address, then deployed
again once the session keeps a venue beside the record); its flash takes choose the pool or the
venue on the lab's rule; the outcome marks the open book on the venue. A short slice of Black
Thursday (the 09:00 to 13:00 crash, 167 to 133) at a small book, with the real bots.

Then the lab (`ape run simulate`, the model) plays the same slice, book and oracle phase (the
session prints its phase): the same insolvency as the lab's end-of-run mark (the devnet's
headline is that mark: it has no drain), the same liquidations, and every flash take on the
venue in both. What still differs (docs/keepers.md, the session's first lines: prices relative
to the devnet's configured price, the bots' lineup without the lab's capital taker, no block
space, the arbitrageur's inventory) does not reach this book's figures; at 1,000 vaults on the
whole day it does (docs/keepers.md gives both figures)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from live_support import ROOT, bots_started

from offchain.live.venue import (
    MarketSession,
    SessionError,
    read_session,
    read_venues,
    session_path,
    venues_path,
    write_session,
)

DAY = ROOT / "data" / "market" / "eth_usd_2020-03-12.csv"
FIRST, BARS = 54, 24  # 09:00 UTC, four hours: the crash from 167 to 133
VAULTS = 30
APE = str(Path(sys.executable).parent / "ape")  # the environment's (a worktree has no .venv)


def slice_scenario(tmp: Path) -> Path:
    """black-thursday-2020 over bars FIRST..FIRST+BARS (its settings, its file's rows)."""
    lines = DAY.read_text().splitlines()
    prices = tmp / "bt-slice.csv"
    prices.write_text("\n".join([lines[0], *lines[1 + FIRST : 1 + FIRST + BARS]]) + "\n")
    text = (ROOT / "offchain" / "sim" / "scenarios" / "black-thursday-2020.toml").read_text()
    text = text.replace('prices = "data/market/eth_usd_2020-03-12.csv"', f'prices = "{prices}"')
    text = text.replace('gas = "data/market/gas_2020-03-12.csv"\n', "")
    text = text.replace('name = "black-thursday-2020"', 'name = "black-thursday-slice"')
    scenario = tmp / "bt-slice.toml"
    scenario.write_text(text)
    return scenario


def market(devnet, scenario: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [APE, "run", "market", "--scenario", str(scenario),
         "--vaults", str(VAULTS), "--speed", "1000000", "--rpc", devnet.node.url,
         "--deployment", str(devnet.record_file), *extra],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip


@pytest.mark.slow
def test_market_venue__the_lab_venue_on_the_devnet__takers_bound_and_synced(devnet, bots):
    scenario = slice_scenario(devnet.tmp)
    started = [
        bots(role, account, role)
        for role, account in (("liquidator", "dev:2"), ("taker", "dev:3"), ("backstop", "dev:4"))
    ]
    bots_started(*started)
    taker = started[1]
    # the record has no venue yet: the taker's FlashTaker sells into the pool only
    first = taker.events("deployed")
    assert first and first[0]["contract"] == "FlashTaker", taker.describe()
    paced_by = [x for b in started for x in ("--checkpoints", str(b.checkpoint))]
    run = market(devnet, scenario, *paced_by)
    out = run.stdout
    print(out)
    assert run.returncode == 0, out[-3000:] + run.stderr[-2000:]
    rec = devnet.record
    venues = read_venues(devnet.record_file, rec.chain_id, rec.identity)
    assert set(venues) == {"ETH-A"}, venues_path(devnet.record_file).read_text()
    venue = venues["ETH-A"]
    assert f"market: outside venue {venue} (deployed)" in out, out[:3000]
    # the FlashTaker bound to the zero address was deployed again, bound to the venue
    rebound = taker.events("flash_taker_rebound")
    assert rebound and rebound[0]["venue"] == venue, taker.describe()
    flash_taker = json.loads(taker.checkpoint.read_text())["state"]["flash_takers"]["ETH-A"]
    devnet.chain.names[flash_taker] = "FlashTaker"
    assert devnet.chain.view(flash_taker, "venue") == venue
    assert "is not bound to the outside venue" not in out, out[:3000]
    for bot in started:
        assert bot.running(), bot.describe()
    # the session's figures
    headline = re.search(r"^  (ETH-A: INSOLVENCY ([\d,.]+) = .*)$", out, re.M)
    window = re.search(r"in the window: (\d+) liquidations .*?; (\d+) takes", out)
    sales = re.search(r"(\d+) syncs, (\d+) flash sales", out)
    phase = re.search(r"market: oracle phase ([\d,]+) s", out)
    assert headline and window and sales and phase, out[-3000:]
    assert int(window[1]) > 0, out[-3000:]  # the crash liquidates
    # the lab on the same slice, book and phase
    lab = subprocess.run(
        [APE, "run", "simulate", "--scenario", str(scenario), "--vaults", str(VAULTS),
         "--backend", "model", "--phases", "one", "--oracle-phase", phase[1].replace(",", ""),
         "--out", str(devnet.tmp / "lab"), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert lab.returncode == 0, lab.stdout[-3000:] + lab.stderr[-2000:]
    facts = json.loads((devnet.tmp / "lab" / "facts.json").read_text())
    liquidations = (devnet.tmp / "lab" / "data" / "liquidations.csv").read_text().splitlines()
    insolvency = float(headline[2].replace(",", ""))
    assert insolvency == pytest.approx(facts["insolvency_mark"], abs=0.005), (out, facts)
    assert len(liquidations) - 1 == int(window[1]), (out, liquidations)
    run_facts = facts["run"]
    assert run_facts["flash_takes_pool"] == 0, run_facts
    assert run_facts["flash_takes_venue"] == int(sales[2]) == int(window[2]), (out, run_facts)
    # `make reconcile`: 0 differences, the open book marked on the session's venue rebuilt from
    # the session kept beside the record and the chain's events: the session's headline
    for bot in started:
        bot.stop()
    check = reconcile(devnet)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-2000:]
    lines = check.stdout.splitlines()
    assert lines[-1] == "0 differences", check.stdout[-3000:]
    assert lines[0] == f"outcome at the head: {headline[1]}", (lines[0], headline[1])
    marked = next(ln for ln in out.splitlines() if "on a copy of the outside venue" in ln)
    assert marked in lines, (marked, check.stdout[-3000:])  # the same mark, on the venue
    note = next(ln for ln in lines if ln.startswith("the open book of ETH-A is marked on"))
    rebuilt = re.search(
        r"([\d,]+) syncs \(bars\), ([\d,]+) sales, every sync the lab venue's", note
    )
    assert f"outside venue {venue} of the last market session" in note, note
    assert rebuilt and rebuilt[1] == sales[1] and rebuilt[2] == sales[2], (note, sales[0])
    # a session file that is not the one the chain played: its syncs are differences
    kept = session_path(devnet.record_file)
    data = json.loads(kept.read_text())
    data["session"]["fundamentals"][3] += 1
    kept.write_text(json.dumps(data))
    check = reconcile(devnet)
    assert check.returncode == 1, check.stdout[-3000:] + check.stderr[-2000:]
    assert "venue[ETH-A].the sync's fundamental: chain " in check.stdout, check.stdout[-3000:]
    # a session file that does not read: refused, one line and exit 2, before any replay (the
    # headline is not marked in the pool instead)
    kept.write_bytes(b"\x89PNG\r\n\x1a\n\xff")
    check = reconcile(devnet)
    said = (check.stdout + check.stderr).strip().splitlines()
    assert check.returncode == 2, check.stdout[-3000:] + check.stderr[-2000:]
    assert len(said) == 1 and "does not read (UnicodeDecodeError)" in said[0], said


def reconcile(devnet) -> subprocess.CompletedProcess:
    return subprocess.run(
        [APE, "run", "reconcile", "--rpc", devnet.node.url, "--deployment",
         str(devnet.record_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip


@pytest.mark.parametrize(
    "content",
    [
        '{"deployment": [31337, "another"], "venues": {"ETH-A": "0x1"}}',  # another deployment's
        '{"deployment": [1, "ident"], "venues": {"ETH-A": "0x1"}}',  # another chain's
        "not json",
        '["a list"]',
    ],
)
def test_read_venues__another_deployments_or_unreadable_file__none(tmp_path, content):
    record = tmp_path / "31337-0xabc.json"
    venues_path(record).write_text(content)
    assert read_venues(record, 31337, "ident") == {}


def test_read_venues__this_deployments_file__its_venues(tmp_path):
    record = tmp_path / "31337-0xabc.json"
    assert venues_path(record) == tmp_path / "31337-0xabc.venues.json"
    assert read_venues(record, 31337, "ident") == {}  # no file
    venues_path(record).write_text('{"deployment": [31337, "ident"], "venues": {"ETH-A": "0x1"}}')
    assert read_venues(record, 31337, "ident") == {"ETH-A": "0x1"}


def test_market_session__kept_beside_the_record__read_back_as_written(tmp_path):
    from offchain.sim.scenario.load import load_scenario

    scenario = load_scenario("black-thursday-2020", vaults=10)
    record = tmp_path / "31337-0xabc.json"
    times, fundamentals = [0, 600, 1200], [10**21, 9 * 10**20, 8 * 10**20]
    session = MarketSession.of(scenario, "ETH-A", "0x" + "ab" * 20, 7, times, fundamentals)
    assert session.venue is not None and session.params == scenario.market.venue
    write_session(record, 31337, "ident", session)
    assert session_path(record) == tmp_path / "31337-0xabc.market.json"
    assert read_session(record, 31337, "ident") == (session, "")
    # without a venue: why, kept
    none = MarketSession.of(scenario, "ETH-A", None, 7, times, fundamentals, "--outside none")
    write_session(record, 31337, "ident", none)
    assert read_session(record, 31337, "ident") == (none, "")
    assert none.params is None and none.why == "--outside none"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"deployment": [31337, "another"], "session": {}}', "is of another deployment"),
        (None, "no market session kept beside the record (31337-0xabc.market.json)"),
    ],
)
def test_read_session__missing_or_anothers__none_and_why(tmp_path, content, why):
    record = tmp_path / "31337-0xabc.json"
    if content is not None:
        session_path(record).write_text(content)
    session, said = read_session(record, 31337, "ident")
    assert session is None and why in said, said


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"not json", "does not read (JSONDecodeError)"),
        (b"\x89PNG\r\n\x1a\n\xff\xfe", "does not read (UnicodeDecodeError)"),
        (b"[1, 2]", "is not a market session (no deployment)"),
        (
            b'{"deployment": [31337, "ident"], "session": {"type": "ETH-A"}}',
            "is not a market session",
        ),
    ],
)
def test_read_session__damaged__refused(tmp_path, content, why):
    record = tmp_path / "31337-0xabc.json"
    session_path(record).write_bytes(content)
    with pytest.raises(SessionError, match=re.escape(why)):
        read_session(record, 31337, "ident")


def test_read_session__a_venue_without_its_settings__refused(tmp_path):
    from offchain.sim.scenario.load import load_scenario

    scenario = load_scenario("black-thursday-2020", vaults=10)
    record = tmp_path / "31337-0xabc.json"
    session = MarketSession.of(scenario, "ETH-A", "0x" + "ab" * 20, 7, [0, 600], [1, 2])
    data = {"deployment": [31337, "ident"], "session": session.to_json()}
    for key, value in (
        ("fundamentals", [1]),
        ("depths", []),
        ("times", [0, True]),
        ("mark_bars", 0),
    ):
        bad = json.loads(json.dumps(data))
        bad["session"][key] = value
        session_path(record).write_text(json.dumps(bad))
        with pytest.raises(SessionError, match="is not a market session"):
            read_session(record, 31337, "ident")


class _Head:
    """A chain's head as DevnetVenue.mark_cash reads it: the outside's stablecoin in the engine
    [rad], the venue's till [wad], the head block's time."""

    def __init__(self, stable: int, till: int, time: int):
        self.reads: list[list[tuple]] = []
        self.values, self.last_block_time = [stable, till], time

    def views(self, calls, cache=True):
        self.reads.append(calls)
        return list(self.values)


@pytest.mark.parametrize("stable, till", [(0, 0), (7 * 10**45 + 5, 3 * 10**18), (10**60, 0)])
def test_devnet_venue_mark__paid_only_from_what_the_outside_holds_at_the_head(stable, till):
    """The devnet's mark (DevnetVenue.mark) is the lab's: its sales on the venue paid only from
    the outside's stablecoin in the engine and the venue's till at the head, in dollars at the
    stablecoin's price then (sim/market/type_market.py's mark_cash); an outside with nothing
    left sells nothing there: its lots fetch the fallback."""
    from types import SimpleNamespace

    from offchain.live.venue import OUTSIDE, DevnetVenue
    from offchain.model.fixed_point import RAD, RAY, WAD
    from offchain.sim.market.capital import usd_for
    from offchain.sim.scenario.load import load_scenario

    scenario = load_scenario("black-thursday-2020", vaults=10)
    times, fundamentals = [0, 600, 1200], [150 * WAD, 140 * WAD, 130 * WAD]
    session = MarketSession.of(scenario, "ETH-A", "0x" + "ab" * 20, 7, times, fundamentals)
    head = _Head(stable, till, 1800)
    d = SimpleNamespace(engine="0xengine", stablecoin="0xstable", governance="0xgov")
    t = SimpleNamespace(config=SimpleNamespace(name="ETH-A", token_decimals=18))
    venue = DevnetVenue(head, d, t, "0xvenue", session)  # type: ignore[arg-type]
    assert venue.mark() is None  # no bar played
    venue.bar, venue.prices = 2, [150 * WAD, 140 * WAD, 130 * WAD]
    make = venue.mark()
    assert make is not None
    assert head.reads[-1] == [
        ("0xengine", "stable", (OUTSIDE,)),
        ("0xstable", "balanceOf", ("0xvenue",)),
    ]
    lot = 10 * WAD
    cash = make(lot).cash
    assert cash is not None
    assert cash.left == usd_for(stable // RAY + till, session.stable_price.at(1800))
    fallback = lot * 100 * RAD // WAD  # the lot's value elsewhere: 100 a token, under the venue's
    rich = DevnetVenue(_Head(10**60, 0, 1800), d, t, "0xvenue", session)  # type: ignore[arg-type]
    rich.bar, rich.prices = 2, venue.prices
    unlimited = rich.mark()(lot).sell(lot, fallback)  # type: ignore[misc]
    assert unlimited > fallback
    mark = make(lot)
    got = mark.sell(lot, fallback)
    if stable == 0:  # nothing left: every token fetches the fallback, none is sold on the venue
        assert (got, mark.unpaid) == (fallback, lot)
    elif stable < 10**50:  # 10 stablecoin: a part paid on the venue, the rest the fallback
        assert 0 < mark.unpaid < lot and fallback < got < unlimited
    else:  # enough: the unlimited mark
        assert (got, mark.unpaid) == (unlimited, 0)
