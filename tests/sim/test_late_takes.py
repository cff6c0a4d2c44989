"""A take that would land after its auction needs a reset is not sent (run/sending.py, `_late`).

With a block gas limit a keeper's transaction waits for room in the day's blocks, booked when it
is sent. Before this rule a 100,000-vault Black Thursday jammed for good: once the queue for room
was longer than an auction's takeable life (about nine bars: 1.2 x the oracle down to the 0.45
drop), every take landed after its auction needed a reset and reverted, the reset it prompted
queued as long, and the drain cleared none of 49,640 auctions in 1,008 bars. The keeper now asks,
when its take's room is booked, whether the auction will need a reset by then (the ledger's
auction clock from the Started and Reset events, model/dutch_auction.needs_reset_at), and gives
the room back if so. Where no take would revert (every 1,000-vault built-in), nothing changes."""

from __future__ import annotations

from offchain.backends import ModelBackend
from offchain.model import dutch_auction
from offchain.model.fixed_point import WAD
from offchain.sim.run.driver import Simulation
from offchain.sim.run.sending import Sending
from offchain.sim.scenario.load import load_scenario
from offchain.sim.scenario.timeline import genesis_time
from offchain.sim.strategies.actions import Action


def _run(name: str, vaults: int):
    scenario = load_scenario(name, vaults=vaults)
    sim = Simulation(scenario, ModelBackend(genesis_time(scenario)), "model", None, None,
                     drain=False)  # fmt: skip
    return sim, sim.run()


def test_needs_reset_at__the_contracts_judgement_at_every_second_of_an_auctions_life():
    """The ledger's clock of each running auction is the contract's (started, top), and
    needs_reset_at agrees with the auction's own status at every time across its reset."""
    sim, _ = _run("synthetic-crash", 200)  # 36 auctions still running at its end
    backend = sim.backend
    assert isinstance(backend, ModelBackend)
    auction = backend.contract(sim.deployment.types[sim.collateral.name].auction)
    ledger = sim.markets[sim.collateral.name].ledger
    seen = [aid for aid in ledger.clock if auction.auctions[aid].top]
    assert seen
    env = auction.env
    saved = env.timestamp
    try:
        for aid in seen[:5]:
            a = auction.auctions[aid]
            assert ledger.clock[aid] == (a.started, a.top)
            flips = 0
            before = None
            for now in range(a.started, a.started + auction.max_duration + 120, 7):
                env.timestamp = now
                judged = dutch_auction.needs_reset_at(
                    auction.curve, auction.max_duration, auction.max_drop, a.started, a.top, now
                )
                assert judged == auction.status(aid)[0] == ledger.needs_reset_at(aid, now)
                flips += before is not None and judged != before
                before = judged
            assert flips == 1  # fine, then needing a reset for good
    finally:
        env.timestamp = saved


def _take(auction_id: int) -> Action:
    return Action("taker", "0xtaker", "0xflash", "take", (auction_id, 1, 1, "0xtaker", b""),
                  (("auction", auction_id),), 1)  # fmt: skip


def test_late__a_take_landing_after_its_reset_gives_its_room_back__one_in_time_keeps_it():
    scenario = load_scenario("black-thursday-2020", vaults=100)
    sending = Sending(scenario, None, {"gas_bids": [], "deferred": []}, [0, 600, 1200],  # type: ignore[arg-type]
                      [2000 * WAD] * 3, lambda: 0)  # fmt: skip
    assert sending.blockspace is not None
    deadline = {7: 900, 8: 10**9}  # auction id -> first second it needs a reset
    asked: list[int] = []

    def needs_reset_at(action: Action, when: int) -> bool:
        asked.append(when)
        return when >= deadline[action.targets[0][1]]

    sending.needs_reset_at = needs_reset_at
    sending.bar_gas = {2: 5_000_000, 4: 5_000_000}
    late = _take(7)
    assert sending._late(late, 0, 2)  # lands at 1,200 s, past 900
    assert sending.late_takes == 1 and sending.bar_gas[2] < 5_000_000  # its room given back
    assert not sending._late(_take(8), 0, 2) and sending.late_takes == 1
    # past the bars known (the drain's), the landing time goes on at the bars' step
    assert not sending._late(_take(8), 0, 4) and asked[-1] == 1200 + 2 * 600
    # not a take, or no clock: never judged
    reset = Action("taker", "0xtaker", "0xauction", "reset", (7, "0xtaker"),
                   (("auction", 7),), 1)  # fmt: skip
    assert not sending._late(reset, 0, 2)
    sending.needs_reset_at = None
    assert not sending._late(late, 0, 2)


def test_a_thousand_vault_day__no_take_is_late__the_run_is_what_it_was():
    """Black Thursday at 1,000 vaults sends no take that would revert for a reset: the rule
    never fires and the run sends the transactions it did before (bench/results.json's
    `sim.black_thursday_1000_transactions`, measured before the rule)."""
    import json
    from pathlib import Path

    committed = json.loads(
        (Path(__file__).resolve().parents[2] / "bench" / "results.json").read_text()
    )["sim.black_thursday_1000_transactions"]
    sim, result = _run("black-thursday-2020", 1000)
    assert sim.sending.late_takes == 0 == result.facts["late_takes"]
    assert not any("takes were not sent" in line for line in result.facts["binding_limits"])
    txs = result.tables["txs"]
    assert not ((txs["status"] == "reverted") & (txs["reason"] == "auction: needs reset")).any()
    assert result.facts["transactions"] == committed
