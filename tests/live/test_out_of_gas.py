"""A bot's transaction that runs out of gas, with real processes on a real node: the estimate an
endpoint gives may fall short of what the transaction needs where it is mined (a crash's covers,
each estimated before the ones ahead of it are mined, once used 106,040 of a limit of 106,040
and failed, logged with no reason). Each bot sends with a margin over the estimate
(offchain/sim/strategies/gas_costs.py GAS_MARGIN_PPM), names an out-of-gas failure as such in its
log line and its metrics (a counter by reason), and sends the action again with more gas."""

from __future__ import annotations

import urllib.request

from live_support import UnderEstimatingProxy, free_port, wait_for

from offchain.live.txs import OUT_OF_GAS, gas_limit
from offchain.sim.strategies.gas_costs import GAS_MARGIN_FLAT, GAS_MARGIN_PPM


def test_margin__twice_the_estimate_and_50k():
    assert (GAS_MARGIN_PPM, GAS_MARGIN_FLAT) == (2_000_000, 50_000)
    # the cover that ran out: an estimate of 68,032 sent with 106,040, used more than that
    assert gas_limit(68_032) == 186_064 > 106_040
    assert gas_limit(10**9) == 10_000_000


def _metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def test_estimate_short__out_of_gas_named__sent_again_with_more_gas__mined(devnet, bots):
    proxy = UnderEstimatingProxy(devnet.node.url, factor=8)
    port = free_port()
    try:
        backstop = bots("backstop", "dev:4", "bs", "--metrics-port", str(port), rpc=proxy.url)
        wait_for(lambda: backstop.events("retry"), 90, "a retry", backstop.describe)
        reverted = backstop.events("reverted")[0]
        assert reverted["reason"] == OUT_OF_GAS, reverted
        assert reverted["gas"] == reverted["limit"] or reverted["gas"] * 16 >= reverted["limit"]
        retry = backstop.events("retry")[0]
        assert retry["label"] == reverted["label"] and retry["gas"] >= 2 * reverted["limit"]
        wait_for(
            lambda: any(m["label"] == reverted["label"] for m in backstop.events("mined")),
            60,
            "the retried action mined",
            backstop.describe,
        )
        text = _metrics(port)
        assert (
            f'backstop_keeper_reverts_by_reason_total{{role="backstop",reason="{OUT_OF_GAS}"}}'
            in text
        ), text
        assert 'backstop_keeper_retries_total{role="backstop"} ' in text
        assert 'backstop_keeper_retries_total{role="backstop"} 0' not in text
        assert backstop.running()
    finally:
        proxy.close()
