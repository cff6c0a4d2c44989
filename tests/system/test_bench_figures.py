"""`make bench`'s figures module (offchain/bench/figures.py, the logic scripts/_bench.py calls):
how results are merged and written, what the committed records contribute, and one scale run
end to end in a process of its own (the heavier groups run in `make bench` itself)."""

from __future__ import annotations

import json

import pytest

from offchain.bench.figures import RETIRED, record_figures, timed_run, write_results
from offchain.testing.gas_report import DSS_ANCHORS


def test_write_results__merges_keeps_other_keys_drops_retired_writes_the_table(tmp_path):
    results, report = tmp_path / "results.json", tmp_path / "results.md"
    anchored = next(iter(DSS_ANCHORS))
    results.write_text(
        json.dumps({"other.figure": 7, RETIRED[0]: 1.0, anchored: 1, "_meta": {"kept_note": "yes"}})
    )
    lines = write_results(
        {anchored: DSS_ANCHORS[anchored][0] * 2, "sim.example_s": 1.5},
        steps=123,
        samples={"chain": [1.0], "model": [0.5]},
        sweep_meta={"sweep_note": "n"},
        results_path=results,
        report_path=report,
    )
    written = json.loads(results.read_text())
    assert written["other.figure"] == 7  # another benchmark's figure stays
    assert RETIRED[0] not in written
    assert written[anchored] == DSS_ANCHORS[anchored][0] * 2
    meta = written["_meta"]
    assert meta["kept_note"] == "yes" and meta["sweep_note"] == "n"
    assert meta["fuzz_steps_measured"] == 123 and meta["sim_samples_s"]["model"] == [0.5]
    assert list(written) == sorted(written)  # keys sorted: diffs stay small
    assert report.read_text().splitlines() == lines
    row = next(x for x in lines if x.startswith(f"| `{anchored}`"))
    assert row.endswith("| 2.00 |")  # the ratio to MakerDAO's figure
    assert any(x.startswith("| `other.figure` | 7 |") for x in lines)
    assert not any("_meta" in x for x in lines)


def test_record_figures__a_partial_campaign_adds_no_steps__mutants_counted(tmp_path):
    campaign, mutants = tmp_path / "c.json", tmp_path / "m.json"
    assert record_figures(campaign, mutants) == {}  # no records: no figures
    campaign.write_text(json.dumps({"steps": 5_000, "complete": False}))
    mutants.write_text(
        json.dumps({"total": 4, "killed": 3, "kill_rate": 0.75, "killed_by_fuzz": 2})
    )
    assert record_figures(campaign, mutants) == {
        "mutants.total": 4,
        "mutants.killed": 3,
        "mutants.kill_rate": 0.75,
        "mutants.killed_by_fuzz": 2,
    }
    campaign.write_text(json.dumps({"steps": 1_000_123, "complete": True}))
    assert record_figures(campaign, mutants)["fuzz.campaign_steps"] == 1_000_123


def test_timed_run__one_model_run_in_its_own_process__its_headline_counts():
    """The scale figures' unit: a small built-in run through `python -m
    offchain.sim.run.timing`, as `make bench` runs each size."""
    run = timed_run("synthetic-crash", 60, "fixed")
    assert run["s"] > 0 and run["peak_mib"] > 0 and run["transactions"] > 0
    assert 0 <= run["unsafe_left_share"] <= 1
    assert run["unsafe_left_share"] == round(run["unsafe_vaults_left"] / 60, 5)
    assert isinstance(run["binding_limits"], list)
    assert run["auction_views"] > 0  # the crash starts auctions, and the taker lists them
    assert 0 < run["auction_reads"] <= run["auction_views"]  # and reads some


@pytest.mark.parametrize("drain", ["drained", "undrained"])
def test_auction_reads__every_status_the_takers_read__counted(monkeypatch, drain):
    """`auction_reads`: the running auctions whose status a taker read, one a type and round
    each, the headline drain's rounds too; counted here at the model's own
    `DutchAuction.status` and `statuses` (the model's reader answers a run of status reads with
    it: one count an auction), which only the takers' round read calls, in a two-type run whose
    book is still open at the data's end. `auction_views` (make bench's market pairs divide
    their CPU by it) counts the auctions listed, those read among them; a round that reads
    every auction (as a live bot does) reads as many as it lists."""
    from offchain.backends import ModelBackend
    from offchain.model.dutch_auction import DutchAuction
    from offchain.sim.run.driver import Simulation, simulate
    from offchain.sim.scenario.load import load_scenario
    from offchain.sim.scenario.timeline import genesis_time

    calls = 0
    status, statuses = DutchAuction.status, DutchAuction.statuses

    def counted(self, auction_id):
        nonlocal calls
        calls += 1
        return status(self, auction_id)

    def counted_all(self, auction_ids):
        nonlocal calls
        calls += len(auction_ids)
        return statuses(self, auction_ids)

    monkeypatch.setattr(DutchAuction, "status", counted)
    monkeypatch.setattr(DutchAuction, "statuses", counted_all)
    overrides = {"market": {"drain_horizon": 0}} if drain == "undrained" else None
    scenario = load_scenario("may-2021-two-types", vaults=200, overrides=overrides)
    run = simulate(scenario, "model", full_check_every=None)  # no full-state reads
    assert run.facts["auction_reads"] == calls > 0
    assert run.facts["auction_views"] >= calls
    calls = 0
    every = Simulation(scenario, ModelBackend(genesis_time(scenario)), "model", None, None)
    every.choose_running = False
    assert every.run().facts["auction_views"] == run.facts["auction_views"] == calls


def test_bench_replay_figures__are_todays__the_model_run_sends_as_many_transactions():
    """Doc drift (issue 47, item 8): bench/results.md read 3,689 transactions for the
    1,000-vault Black Thursday replay while the replay sent 3,692. The model sends exactly the
    chain's transactions (they run in lockstep), so a model run (a quarter second) tells whether
    the committed `sim.*` figures were measured on today's code: when this fails, run
    `ape run bench --sim-only` and commit bench/results.*."""
    from offchain.bench.figures import RESULTS
    from offchain.sim.run.driver import simulate
    from offchain.sim.scenario.load import load_scenario

    committed = json.loads(RESULTS.read_text())["sim.black_thursday_1000_transactions"]
    run = simulate(load_scenario("black-thursday-2020", vaults=1000), "model", None)
    assert run.facts["transactions"] == committed


def test_phase_spread__a_real_day_over_every_phase__a_synthetic_path_one():
    """`make bench`'s figures that quote a run's insolvency lead with the distribution over the
    oracle's phases (issue 73): `phase_spread` runs the scenario at every phase of its period,
    each in a process of its own, and gives the median and the worst, which equal the runs made
    here; a synthetic path runs one phase (as `ape run simulate --phases auto`): None, and no
    median or worst key."""
    import statistics

    from offchain.bench.figures import phase_keys, phase_spread
    from offchain.sim.run.driver import simulate
    from offchain.sim.scenario.load import load_scenario, with_phase
    from offchain.sim.scenario.timeline import period_phases

    scenario = load_scenario("may-2021", vaults=300)
    here = {}
    for phase in period_phases(scenario):
        run = simulate(with_phase(scenario, phase, "t"), "model", None)
        debt = float(run.tables["vaults"]["debt_start"].sum())
        here[str(phase)] = round(run.facts["insolvency"] / debt, 6)
    spread = phase_spread("may-2021", 300, "fixed")
    assert spread is not None and spread["per_phase"] == here
    assert spread["median"] == round(statistics.median(here.values()), 6)
    assert spread["worst"] == max(here.values()) and here[str(spread["worst_phase"])] == max(
        here.values()
    )
    assert spread["median"] != here["3000"]  # the scenario's own phase is not the lead here
    assert phase_keys("scale.x", spread) == {
        "scale.x_insolvency_per_debt_median": spread["median"],
        "scale.x_insolvency_per_debt_worst": spread["worst"],
    }
    assert phase_spread("synthetic-crash", 60, "fixed") is None
    assert phase_keys("scale.y", None) == {}


def test_write_results__a_figure_measured_again_and_no_longer_written_goes(tmp_path):
    """A drained run whose book cleared once had `_time_to_clear_h`; measured again, the book
    no longer clears and the key is not written: the old value must not outlive its run."""
    from offchain.bench.figures import drained_keys, scale_key

    results, report = tmp_path / "results.json", tmp_path / "results.md"
    key = scale_key("black-thursday-2020", 100_000, "fixed")
    scaled = scale_key("black-thursday-2020", 100_000, "scaled")
    results.write_text(json.dumps({
        f"{key}_time_to_clear_h": 13.67, f"{key}_insolvency_per_debt": 0.05,
        f"{scaled}_insolvency_per_debt": 0.01, "gas.other": 5,
    }))  # fmt: skip
    again = drained_keys()
    write_results({f"{key}_insolvency_per_debt": 0.015}, None, None, results_path=results,
                  report_path=report, stale=lambda k: k in again)  # fmt: skip
    written = json.loads(results.read_text())
    assert f"{key}_time_to_clear_h" not in written
    assert written[f"{key}_insolvency_per_debt"] == 0.015
    # the depth-scaled run and other groups were not measured again: they stay
    assert written[f"{scaled}_insolvency_per_debt"] == 0.01 and written["gas.other"] == 5


def test_committed_figures__every_real_day_s_insolvency_has_its_phases():
    """bench/results.json: every insolvency figure of a real day's run (scale.*, market.*) has
    its median and worst over the oracle's phases beside the scenario's own phase, the ceiling
    curve's 100k tail included; the only figures of one phase are a synthetic path's."""
    from offchain.bench.figures import OPEN_SCENARIO, RESULTS, scale_runs
    from offchain.sim.scenario.load import builtin_scenarios, load_scenario

    results = json.loads(RESULTS.read_text())
    synthetic = {n for n in builtin_scenarios() if load_scenario(n).market.synthetic is not None}
    runs = {key: name for name, _, _, key in scale_runs(builtin_scenarios())}
    runs |= {f"market.{m}_{s}": OPEN_SCENARIO for m in ("open", "closed") for s in ("1k", "100k")}
    one_phase = []
    for key in results:
        if not key.endswith("_insolvency_per_debt"):
            continue
        run = key.removesuffix("_insolvency_per_debt")
        if runs.get(run) in synthetic:
            continue
        assert run in runs or run.startswith("ceiling."), key
        if not {f"{key}_median", f"{key}_worst"} <= results.keys():
            one_phase.append(key)
    assert one_phase == []


def test_market_note__the_committed_one_is_what_the_market_pairs_write():
    """`bench --market-only` writes the market pairs' note with their keys (the scale path's
    `_meta` was its only writer, so a market-only record kept an older note): the committed note
    is the code's."""
    from offchain.bench.figures import MARKET_NOTE, RESULTS

    assert json.loads(RESULTS.read_text())["_meta"]["market_note"] == MARKET_NOTE


def test_market_figures__the_block_space_split__run_in_the_same_turns_and_divided_pairwise(
    monkeypatch,
):
    """market_figures' pairs (timed_run stubbed: each run's CPU by its options and turn): at
    1k open and closed in turn; at 100k each turn runs open, closed, open unblocked and closed
    blocked in that order; open_unblocked_over_closed is the median of the turns' unblocked /
    closed, open_over_closed_blocked of open / blocked (not a ratio of medians), and the
    unblocked and blocked runs' own keys are written at 100k alone."""
    from offchain.bench import figures

    made: list[tuple] = []
    # CPU seconds by (options, turn): the turns' ratios differ, so a ratio of medians would not
    # give the median of the ratios
    cpu = {
        ("fixed", "undrained", "split"): [90.0, 100.0, 80.0],
        ("closed", "undrained", "split"): [50.0, 40.0, 60.0],
        ("fixed", "undrained", "unblocked", "split"): [55.0, 60.0, 63.0],
        ("closed", "undrained", "blocked", "split"): [70.0, 50.0, 64.0],
    }

    def run(name, vaults, depth, *options, phase=None, kept=False):
        key = (depth, *options)
        turn = sum(1 for m in made if m[1:] == (vaults, key))
        made.append((name, vaults, key))
        made_run = {
            "s": 1.0, "cpu_s": cpu[key][turn], "transactions": 10 + turn, "auction_views": 5,
            "auction_reads": 3,
            "open_auctions": 7 + turn, "peak_mib": 100, "insolvency_per_debt": 0.0,
        }  # fmt: skip
        if "split" in key:  # CPU seconds by part (not wall's): the rounds and mining by turn
            opened = depth == "fixed"
            rounds = ([30.0, 20.0, 10.0] if opened else [10.0, 5.0, 20.0])[turn]
            mining = ([20.0, 25.0, 30.0] if opened else [10.0, 20.0, 12.0])[turn]
            made_run["split_s"] = {
                "setup": 1.0, "mining": mining, "auction_reads": rounds / 2, "plans": rounds / 4,
                "backstop_reads": rounds / 4, "sending": 2.0, "rest": 3.0 + turn,
            }  # fmt: skip
        return made_run

    monkeypatch.setattr(figures, "timed_run", run)
    monkeypatch.setattr(figures, "phase_spread", lambda *args, **kwargs: None)
    keys, _ = figures.market_figures(pairs=3)
    small, large = figures.SCALE_VAULTS[0], figures.SCALE_VAULTS[-1]
    pairs = [(small, k) for _ in range(3) for k in list(cpu)[:2]]
    assert [m[1:] for m in made] == pairs + [(large, k) for _ in range(3) for k in cpu]
    assert keys["market.open_unblocked_over_closed_100k"] == round(
        sorted([55 / 50, 60 / 40, 63 / 60])[1], 3
    )
    assert keys["market.open_over_closed_blocked_100k"] == round(
        sorted([90 / 70, 100 / 50, 80 / 64])[1], 3
    )
    assert keys["market.open_unblocked_100k_cpu_s"] == 60.0
    assert keys["market.closed_blocked_100k_cpu_s"] == 64.0
    assert keys["market.open_unblocked_100k_open_auctions"] == 9  # the last turn's
    assert keys["market.closed_blocked_100k_transactions"] == 12
    assert not any("unblocked_1k" in k or "blocked_1k" in k for k in keys)
    # the split: each part's median; CPU seconds less the rounds (reads, plans, the backstop
    # keeper's reads), divided pair by pair: (90 - 30) / (50 - 10), (100 - 20) / (40 - 5), ...
    for label in ("1k", "100k"):
        without = sorted([60 / 40, 80 / 35, 70 / 40])
        assert [
            keys[f"market.open_over_closed_{label}_without_rounds{end}"]
            for end in ("_low", "", "_high")
        ] == [round(ratio, 3) for ratio in without]
        assert [keys[f"market.open_over_closed_{label}{end}"] for end in ("_low", "", "_high")] == [
            round(ratio, 3) for ratio in sorted([90 / 50, 100 / 40, 80 / 60])
        ]
        assert keys[f"market.open_over_closed_{label}_mining"] == 2.0  # of 2.0, 1.25, 2.5
        assert keys[f"market.open_{label}_split_mining_s"] == 25.0
        assert keys[f"market.closed_{label}_split_auction_reads_s"] == 5.0
        assert keys[f"market.closed_{label}_split_rest_s"] == 4.0
        # the auctions each run listed and read (the last pair's)
        assert keys[f"market.open_{label}_auction_views"] == 5
        assert keys[f"market.closed_{label}_auction_reads"] == 3
