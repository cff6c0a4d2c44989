"""The notice bot (`ape run keeper --role notifier`) as a real process on a devnet: a price queued
in the delayed oracle is announced, one JSON line per vault it will call or make unsafe, with the
time left until it can become current (the oracle's last poke + its delay), on stdout and to a
webhook; a webhook that dies costs one stderr line and nothing else; a vault whose owner adds
collateral is cleared. And its bad input: one line, exit status 2.

No money moves but the test's own: the notifier sends nothing (its account's nonce stays 0)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.request
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from live_support import ROOT, bots_started, free_port, wait_for

from offchain.live.market import advance, open_vaults
from offchain.live.webhook import Webhook, check_webhook_url
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.sim.scenario.population import VaultPlan
from offchain.system import governance


class Hook:
    """A webhook receiver on a local port: the lines POSTed to it, in order."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                hook.lines.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook():
    h = Hook()
    try:
        yield h
    finally:
        h.close()


def _queue(devnet, price: int) -> int:
    """Post `price` [wad] as the feeder and poke it into the oracle's queue once the delay allows:
    the poke's block."""
    chain, t = devnet.chain, devnet.eth
    chain.transact(t.oracle, "post", devnet.d.feeder, price)
    advance(chain, chain.view(t.oracle, "delay"))
    chain.transact(t.oracle, "poke", devnet.d.feeder)
    return devnet.block()


def _plans(devnet, ratios_milli: list[int]) -> list[VaultPlan]:
    """One vault per collateral ratio [thousandths] at the configured price (2,000), 5,000 of
    debt each."""
    base = devnet.plans(len(ratios_milli))
    price = devnet.eth.config.initial_price
    return [
        VaultPlan(p.owner, p.debt * r * WAD // (1_000 * price), p.debt)
        for p, r in zip(base, ratios_milli)
    ]


def _processed_block(bot) -> int:
    """The last block the bot processed, from its /metrics."""
    url = bot.events("metrics")[0]["url"]
    with urllib.request.urlopen(url, timeout=5) as reply:
        text = reply.read().decode()
    line = next(x for x in text.splitlines() if x.startswith("backstop_keeper_processed_block"))
    return int(line.split()[-1])


def test_notifier__queued_price__one_line_per_vault_with_the_time_left__dead_hook_ignored(
    devnet, bots, hook
):
    """Vaults at 1.9 (opted in), 1.6 and 2.5 of a type with liquidation ratio 1.5 and warning
    factor 1.2 (called below 1.8). A queued 1,800 (-10%) calls the first (1.71) and makes the
    second unsafe (1.44); the third (2.25) is left alone."""
    chain, d, t = devnet.chain, devnet.d, devnet.eth
    plans = _plans(devnet, [1_900, 1_600, 2_500])
    open_vaults(chain, d, t, plans)
    called, unsafe, safe = (p.owner for p in plans)
    chain.transact(d.margin_call, "opt_in", called)
    chain.transact(d.engine, "allow", called, d.margin_call)
    _queue(devnet, 2_000 * WAD)
    _queue(devnet, 2_000 * WAD)  # current: a price posted one delay ago, valid
    details = devnet.tmp / "notifier-details.log"
    notifier = bots(
        "notifier", None, "notifier", "--webhook", hook.url, "--metrics-port", "0",
        "--log", str(details), "--summary-every", "1",
    )  # fmt: skip
    bots_started(notifier)

    def detail(event: str) -> list[dict]:
        """The notifier's lines of `event` in its log file (its terminal has a summary)."""
        text = details.read_text() if details.exists() else ""
        lines = [json.loads(x) for x in text.splitlines() if x.startswith("{")]
        return [x for x in lines if x.get("event") == event]

    _queue(devnet, 1_800 * WAD)
    last_poke, delay = chain.view(t.oracle, "last_poke"), chain.view(t.oracle, "delay")
    head_time = int(chain.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def notices(price: str) -> list[dict]:
        return [x for x in detail("notice") if x["queued_price"] == price]

    lines = wait_for(
        lambda: len(notices("1800")) == 2 and notices("1800"),
        60,
        "the notices of 1,800",
        notifier.describe,
    )
    by_owner = {x["owner"]: x for x in lines}
    assert set(by_owner) == {called, unsafe}
    c, u = by_owner[called], by_owner[unsafe]
    assert (c["status"], c["status_now"], u["status"], u["status_now"]) == (
        "called", "safe", "unsafe", "called"
    )  # fmt: skip
    assert c["current_at"] == last_poke + delay
    assert c["as_of"] == head_time + 1  # the next block's time: the first a poke can have
    assert c["seconds_left"] == last_poke + delay - (head_time + 1)
    assert (c["opted_in"], c["soft_liquidable"], u["opted_in"]) == (True, True, False)
    # the debt is 5,000 x the type's rate, which fees have moved a hair above 1 since deployment
    # (the exact arithmetic: tests/sim/test_notice.py)
    near = {"collateral_ratio": "1.9", "projected_ratio": "1.71", "debt": "5000"}
    assert all(abs(Decimal(c[k]) / Decimal(v) - 1) < Decimal("1e-5") for k, v in near.items()), c
    near = {"collateral_ratio": "1.6", "projected_ratio": "1.44", "debt": "5000"}
    assert all(abs(Decimal(u[k]) / Decimal(v) - 1) < Decimal("1e-5") for k, v in near.items()), u
    assert (c["liquidation_ratio"], c["warning_ratio"]) == ("1.5", "1.8")
    # at its start the queued 2,000 already called the second vault: one line for it
    assert [(x["owner"], x["status"]) for x in notices("2000")] == [(unsafe, "called")]

    # the webhook got the same lines
    def hooked() -> list[dict]:
        return [x for x in hook.lines if x["queued_price"] == "1800"]

    wait_for(lambda: len(hooked()) == 2, 30, "the webhook's lines", notifier.describe)
    assert sorted(hooked(), key=lambda x: x["owner"]) == sorted(lines, key=lambda x: x["owner"])
    assert len(hook.lines) == 3

    # the called vault's owner adds collateral (1.9 -> 2.1: 1.89 at 1,800): cleared
    extra = plans[0].collateral * 2 // 19
    chain.transact(t.token, "mint", d.governance, d.governance, extra)
    chain.transact(t.token, "approve", d.governance, t.join, extra)
    chain.transact(t.join, "join", d.governance, called, extra)
    chain.transact(d.engine, "modify_vault", called, t.type_id, called, called, called, extra, 0)
    cleared = wait_for(lambda: detail("notice_cleared"), 60, "the cleared line", notifier.describe)
    assert [(x["owner"], x["status"], x["was"], x["reason"]) for x in cleared] == [
        (called, "safe", "called", "the vault changed")
    ]
    # the hook dies; the next queued price (1,500: 1.575 called, 1.2 unsafe, 1.875 safe) is
    # still announced (in the log file, counted on stdout), with one stderr line, and the
    # notifier runs on
    hook.close()
    _queue(devnet, 1_500 * WAD)
    later = wait_for(
        lambda: len(notices("1500")) == 2 and notices("1500"),
        60,
        "the notices of 1,500",
        notifier.describe,
    )
    assert {x["owner"]: x["status"] for x in later} == {called: "called", unsafe: "unsafe"}
    assert notifier.running()
    errors = [x for x in notifier.text().splitlines() if x.startswith("keeper: webhook")]
    assert len(errors) == 1 and hook.url in errors[0], notifier.text()
    # one line per vault per queued price: none more once the notifier has processed later blocks
    chain.transact(t.token, "mint", d.governance, safe, 1)
    chain.transact(t.token, "mint", d.governance, safe, 1)
    head = devnet.block()
    wait_for(lambda: _processed_block(notifier) >= head, 60, "block processed", notifier.describe)
    assert len(detail("notice")) == 5 and len(detail("notice_cleared")) == 1
    assert notifier.stop() == 0
    # its terminal (stdout): no line per vault, a summary per interval with the counts and the
    # worst vaults, the log file named (issue 65: 7,455 of a session's 9,000 lines were these)
    assert not notifier.events("notice") and not notifier.events("notice_cleared")
    summaries = notifier.events("summary")
    assert sum(x["notices"] for x in summaries) == 5
    assert sum(x["cleared"] for x in summaries) == 1
    assert all(x["details"] == str(details) for x in summaries)
    first = next(x for x in summaries if any(w["status"] == "unsafe" for w in x["worst"]))
    assert first["worst"][0]["status"] == "unsafe"  # the worst first
    assert detail("summary") == summaries  # the summaries are in the log file too


def test_webhook__dead_hook__false_and_one_line__then_back(hook, tmp_path):
    """A refused connection is one line on the error stream and a False, and the posts after it
    are skipped for the pause; when the hook answers again, one line with what it missed."""
    errors = (tmp_path / "errors.txt").open("w+")
    dead = f"http://127.0.0.1:{free_port()}/hook"
    w = Webhook(dead, timeout=1, pause=0, errors=errors)
    assert not w.post('{"n": 1}') and not w.post('{"n": 2}')
    errors.seek(0)
    assert len(errors.read().splitlines()) == 1
    w.url = hook.url  # the hook comes back
    assert w.post('{"n": 3}')
    errors.seek(0)
    said = errors.read().splitlines()
    assert len(said) == 2 and "answers again (2 lines missed)" in said[1]
    assert hook.lines == [{"n": 3}]
    # within the pause, a post is skipped without trying
    paused = Webhook(dead, timeout=1, pause=3_600, errors=errors)
    assert not paused.post("{}") and not paused.post("{}") and paused.failures == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--webhook", "ftp://example.org/hook"], "--webhook 'ftp://example.org/hook' is not"),
        (["--webhook", "http://127.0.0.1:99999/x"], "is not an http(s) URL"),
        (["--webhook", "hook"], "--webhook 'hook' is not an http(s) URL"),
        (["--account", "dev:2"], "--role notifier sends no transactions"),
        (["--webhook-timeout", "0"], "--webhook-timeout"),
        (["--frobnicate"], "No such option: --frobnicate"),
    ],
)
def test_notifier_cli__bad_input__one_line_exit_2(args, expected):
    result = subprocess.run(
        [sys.executable, "-m", "offchain.live.cli", "--role", "notifier", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr


def test_webhook_flag__for_another_role__one_line_exit_2():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "offchain.live.cli",
            "--role",
            "liquidator",
            "--webhook",
            "http://h",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "keeper: --webhook is for --role notifier, not liquidator"
    assert check_webhook_url("https://hooks.example.org/x") == "https://hooks.example.org/x"


def test_notifier__queued_proposal__warns_each_vault_it_would_call_or_make_unsafe(devnet, bots):
    """A proposal queued in governance's Timelock raises ETH-A's liquidation ratio from 1.5 to
    1.7 (warning factor 1.2: called below 2.04). At the current price (2,000), the vault at 1.9
    would be called (safe now) and the vault at 1.65 unsafe (called now); the vault at 2.5 is
    left alone. Each owner is told once, with the time left until the proposal's eta. Its other
    calls, a role granted and stablecoin created unbacked, get a line each, the ratio change
    one too (its vaults warned one by one)."""
    chain, d, t = devnet.chain, devnet.d, devnet.eth
    plans = _plans(devnet, [1_900, 1_650, 2_500])
    open_vaults(chain, d, t, plans)
    called, unsafe, safe = (p.owner for p in plans)
    _queue(devnet, 2_000 * WAD)
    _queue(devnet, 2_000 * WAD)
    details = devnet.tmp / "notifier-details.log"
    notifier = bots("notifier", None, "notifier", "--log", str(details))
    bots_started(notifier)
    stranger = "0x" + "5e" * 20
    calls = [
        (d.spotter, "set_liquidation_ratio", (t.type_id, 17 * RAY // 10)),
        (d.engine, "grant_role", (stranger, 1)),  # a right that, once run, acts at once
        (d.engine, "create_unbacked", (d.backstop, stranger, 10**6 * RAD)),  # value, at the eta
    ]
    proposal_id, eta = governance.propose(chain, d, calls)

    def lines() -> list[dict]:
        text = details.read_text() if details.exists() else ""
        found = [json.loads(x) for x in text.splitlines() if x.startswith("{")]
        return [x for x in found if x.get("event") == "proposal_notice"]

    wait_for(lambda: len(lines()) == 2, 60, "the proposal's notices", notifier.describe)
    found = [json.loads(x) for x in details.read_text().splitlines() if x.startswith("{")]
    (grant,) = [x for x in found if x.get("event") == "proposal_grant"]
    assert (grant["proposal"], grant["call"], grant["grants"]) == (
        proposal_id,
        "grant_role",
        "role",
    )
    assert (grant["contract"], grant["account"].lower(), grant["role"]) == (
        "VaultEngine",
        stranger,
        1,
    )
    assert grant["eta"] == eta
    (value,) = [x for x in found if x.get("event") == "proposal_value"]
    assert (value["proposal"], value["index"], value["contract"], value["call"]) == (
        proposal_id,
        2,
        "VaultEngine",
        "create_unbacked",
    )
    # the arguments by their ABI names, integers exact in the contract's units
    assert {k: str(v).lower() for k, v in value["args"].items()} == {
        "debt_dst": d.backstop.lower(),
        "stable_dst": stranger,
        "amount": str(10**6 * RAD),
    }
    assert value["eta"] == eta and value["seconds_left"] == eta - value["as_of"]
    (limit,) = [x for x in found if x.get("event") == "proposal_vault_limit"]
    assert (limit["call"], limit["args"], limit["per_vault"]) == (
        "set_liquidation_ratio",
        {"collateral_type": "ETH-A", "new_value": str(17 * RAY // 10)},
        True,
    )
    by_owner = {x["owner"]: x for x in lines()}
    assert set(by_owner) == {called, unsafe}
    c, u = by_owner[called], by_owner[unsafe]
    assert (c["status"], c["status_now"], u["status"], u["status_now"]) == (
        "called", "safe", "unsafe", "called"
    )  # fmt: skip
    assert c["proposal"] == u["proposal"] == proposal_id and c["eta"] == eta
    assert c["seconds_left"] == eta - c["as_of"] and 0 < c["seconds_left"] <= 6 * 3600
    assert (c["liquidation_ratio_now"], c["liquidation_ratio"]) == ("1.5", "1.7")
    # told once: another round adds nothing
    advance(chain, 60)
    chain.rpc("evm_mine", [])
    time.sleep(3)
    assert len(lines()) == 2
    text = details.read_text()
    assert [text.count(f'"proposal_{x}"') for x in ("grant", "value", "vault_limit")] == [1, 1, 1]
