"""The devnet's market and the lab are one market (issue 74): `ape run market` on a built-in day
plays the lab's outside venue on the devnet (offchain/live/venue.py). An OutsideVenue per type,
synced every bar with the lab's venue; the taker bot's FlashTaker bound to it (the test's
deployment record has none at first: its FlashTaker is bound to the zero address, then deployed
again once the session keeps a venue beside the record); its flash takes choose the pool or the
venue on the lab's rule; the outcome marks the open book on the venue. A short slice of Black
Thursday (the 09:00 to 13:00 crash, 167 to 133) at a small book, with the real bots."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from live_support import ROOT, bots_started

from offchain.live.venue import read_venues, venues_path

pytestmark = pytest.mark.slow

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
