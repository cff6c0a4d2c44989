"""The market driver's record of the venue's sales (offchain/live/venue.py, `DevnetVenue`) against
the reconciler's rebuild of it from the chain's events, when the bots answer a sync at once.

A CI run's `ape run reconcile` after the paced market session found every sync from one bar on
carrying less flow than the lab venue rebuilt from the events (chain - model = -0.50e18 and
decaying): the driver had read the chain's head to mark where the new bar's sales begin only
after a bot's flash sale, answering the sync, was mined; that sale lay before the mark and after
the bar before's last read, recorded by neither. On a loaded machine the driver is late often
enough. Here a scripted chain mines the bot's sale (and a block more) between the sync's receipt
and anything else the driver asks, every bar: the driver's syncs must be the rebuild's."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from offchain.live.venue import DevnetVenue, MarketSession
from offchain.model.fixed_point import RAY, WAD
from offchain.model.state import Event
from offchain.sim.scenario.load import load_scenario

VENUE = "0x" + "ab" * 20
TRADER = "0x" + "cd" * 20
FIRST = 7


class RacingChain:
    """A chain whose only contract with logs is the venue: a `sync` is mined into its own block
    and then, before the driver's next request, a bot's sale on the venue and one more block
    (another bot's answer); views give a book with nothing to liquidate and a full till."""

    def __init__(self, sale_tokens: int) -> None:
        self.head = FIRST
        self.logs: list[tuple[int, Event]] = []
        self.sale_tokens = sale_tokens
        self.last_receipt: dict[str, Any] | None = None
        self.names: dict[str, str] = {}
        self.synced: list[dict[str, int]] = []

    def _mine(self, event: Event | None) -> int:
        self.head += 1
        if event is not None:
            self.logs.append((self.head, event))
        return self.head

    def transact(self, address: str, function: str, sender: str, *args: Any) -> None:
        assert (address, function) == (VENUE, "sync"), (address, function)
        flow, num, root_v, fundamental = args
        synced = {"flow": flow, "num": num, "root_v": root_v, "fundamental": fundamental}
        self.synced.append(synced)
        block = self._mine(Event(VENUE, "Synced", synced))
        self.last_receipt = {"blockNumber": hex(block)}
        # the bots answer the sync before the driver asks anything more
        paid = self.sale_tokens * fundamental // WAD // 2
        sold = {"trader": TRADER, "amount_in": self.sale_tokens, "amount_out": paid}
        self._mine(Event(VENUE, "Sold", sold))
        self._mine(None)

    def rpc(self, method: str, params: list[Any]) -> Any:
        if method == "eth_blockNumber":
            return hex(self.head)
        assert method == "eth_getLogs", method
        (query,) = params
        low, high = int(query["fromBlock"], 16), int(query["toBlock"], 16)
        return [
            {"blockNumber": hex(block), "event": e}
            for block, e in self.logs
            if low <= block <= high and e.address == query["address"]
        ]

    def _decode_log(self, log: dict[str, Any]) -> Event:
        return log["event"]

    def view(self, address: str, function: str, *args: Any) -> Any:
        return {
            "collateral_types": (0, RAY),
            "liquidation_ratios": RAY,
            "current_price": 100 * WAD,
            "collateral": 0,
            "active_count": 0,
            "balanceOf": 10**40,
        }[function]

    def views(self, calls: list[tuple[str, str, tuple]]) -> list[Any]:
        return [self.view(a, f, *args) for a, f, args in calls]


def _venue(chain: RacingChain, bars: int) -> tuple[DevnetVenue, Any]:
    scenario = load_scenario("black-thursday-2020", vaults=10)
    times = [1_583_971_200 + 600 * k for k in range(bars)]
    fundamentals = [(190 - k) * WAD for k in range(bars)]
    session = MarketSession.of(scenario, "ETH-A", VENUE, FIRST + 1, times, fundamentals)
    t = SimpleNamespace(
        config=SimpleNamespace(name="ETH-A", token_decimals=18),
        type_id=b"ETH-A",
        oracle="oracle",
        auction="auction",
    )
    d = SimpleNamespace(
        governance="governance",
        engine="engine",
        spotter="spotter",
        stablecoin="stablecoin",
        stable_join="join",
        types={"ETH-A": t},
    )
    return DevnetVenue(chain, d, t, VENUE, session), d  # type: ignore[arg-type]


def test_devnet_venue__a_sale_mined_before_the_driver_reads_on__recorded_as_the_rebuild_does():
    bars = 6
    chain = RacingChain(sale_tokens=200 * WAD)
    venue, d = _venue(chain, bars)
    for k in range(bars):
        venue.open_bar(k)
    venue.close_bar()
    assert venue.sales == bars  # every bot's sale, each in its bar
    rebuilt, wrong = DevnetVenue.rebuild(chain, d, venue.session, chain.head)  # type: ignore[arg-type]
    assert wrong == []
    assert rebuilt.sales == venue.sales == bars
    # the sales moved the syncs: a driver that recorded none would have synced a flow of 0
    assert chain.synced[0]["flow"] == 0 and all(s["flow"] != 0 for s in chain.synced[1:])
    assert rebuilt.venue.effective(venue.times[-1]) == venue.venue.effective(venue.times[-1])
