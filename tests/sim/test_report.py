"""The risk report (offchain/report/documents.py) on hand-built results: the numbers governance
reads, the
plots and data files, the comparison of waterfall orders, and that a report directory is only
ever replaced whole. Pure Python: no chain involved."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from offchain.report import documents as report
from offchain.report.documents import ReportError, write_comparison, write_report
from offchain.sim.results.tables import TABLES, Reconciliation, SimulationResult, empty_table

T0 = 1_584_000_000  # 2020-03-12 08:00 UTC
BAR = 600
SCENARIO = [
    ("price path", "eth_usd_2020-03-12.csv"),
    ("vaults", "10"),
    ("waterfall", "fund -> pool"),
]
PLOTS = (
    "price",
    "unsafe_vaults",
    "gas",
    "debt_collateral",
    "auctions",
    "waterfall",
    "collateralization",
)


def t(bar: int) -> int:
    return T0 + bar * BAR


def synthetic_result(name: str = "crash", liquidations: bool = True) -> SimulationResult:
    """20 bars of a crash and recovery, 10 vaults; with `liquidations`: 3 liquidations of 2 vaults,
    3 takes, 2 auctions closing short by 15,000.75 DAI, of which 500.00 is still uncovered."""
    market = [200 - 6 * b if b < 15 else 110 + 5 * (b - 15) for b in range(20)]
    oracle = [market[max(b - 1, 0)] for b in range(20)]
    bars = pd.DataFrame(
        {
            "bar": range(20),
            "time": [t(b) for b in range(20)],
            "market_price": map(float, market),
            "oracle_price": map(float, oracle),
            "safe_price": [p / 1.5 for p in oracle],
            "pool_price": map(float, market),
            "gas_p60_gwei": [50.0] * 20,
            "debt": [1e6 - 1e3 * b for b in range(20)],
            "collateral_locked": [1e4 - 10 * b for b in range(20)],
            "collateral_in_auction": [0.0] * 5 + [20.0] * 10 + [0.0] * 5,
            "active_auctions": [0] * 5 + [1, 2, 3] + [2] * 4 + [1] * 3 + [0] * 5,
            "vaults_unsafe": [0] * 4 + [3] * 4 + [1] * 12,
            "vaults_liquidated": [0] * 5 + [1] + [2] * 14,
            "unbacked_debt": [0.0] * 20,
            "surplus": [0.0] * 20,
            "open_losses": [0] * 20,
            "stability_pool_assets": [5e4] * 20,
            "debt_to_auction": [0.0] * 20,
            "governance_supply": [1e6] * 20,
            "fundamental_price": map(float, market),
        }
    )
    events = pd.DataFrame(
        {
            "bar": [5, 6],
            "time": [t(5), t(6)],
            "tx": [0, 1],
            "log": [0, 0],
            "contract": ["Liquidator"] * 2,
            "address": ["0x00000000000000000000000000000000000000aa"] * 2,
            "event": ["Liquidated"] * 2,
            "args": [
                json.dumps({"owner": "0xv0", "debt": "5000000000000000000000"}),
                json.dumps({"owner": "0xv1", "debt": "20000000000000000000000"}),
            ],
        }
    )
    txs = pd.DataFrame(
        {
            "bar": [5, 6, 7],
            "time": [t(5), t(6), t(7)],
            "tx": [0, 1, -1],
            "actor": ["keeper"] * 3,
            "contract": ["Liquidator"] * 3,
            "function": ["liquidate"] * 3,
            "submitted_bar": [4, 5, 7],
            "status": ["ok", "reverted", "dropped"],
            "reason": [None, "liquidator: not unsafe", "gas too low"],
        }
    )
    vaults = pd.DataFrame(
        {
            "owner": [f"0xv{i}" for i in range(10)],
            "collateral_start": [100.0] * 10,
            "debt_start": [10_000.0] * 10,
            "ratio_start": [1.6 + 0.1 * i for i in range(10)],
            "collateral_end": [0.0, 0.0] + [100.0] * 8,
            "debt_end": [0.0, 0.0] + [10_000.0] * 8,
            "ratio_end": [math.inf, math.inf] + [1.1 + 0.1 * i for i in range(8)],
            "unsafe_since": [t(4) - 300, t(4), t(7)] + [math.nan] * 7,
            "liquidated_at": [t(7), t(6), math.nan] + [math.nan] * 7,
            "liquidations": [2, 1] + [0] * 8,
        }
    )
    tables = {"bars": bars, "events": events, "txs": txs, "vaults": vaults}
    if liquidations:
        tables |= {
            "liquidations": pd.DataFrame(
                {
                    "bar": [5, 6, 7],
                    "time": [t(5), t(6), t(7)],
                    "owner": ["0xv0", "0xv1", "0xv0"],
                    "auction_id": [1, 2, 3],
                    "collateral": [40.0, 100.0, 60.0],
                    "debt": [5_000.0, 20_000.0, 8_000.0],
                    "unsafe_since": [t(4) - 300, t(4), t(4) - 300],
                    "delay_s": [900.0, 1_200.0, 3_000.0],
                }
            ),
            "takes": pd.DataFrame(
                {
                    "bar": [8, 12, 15],
                    "time": [t(8), t(12), t(15)],
                    "auction_id": [1, 2, 3],
                    "taker": ["0xtaker"] * 3,
                    "price": [135.0, 104.0, 88.0],
                    "market_price": [152.0, 128.0, 110.0],
                    "collateral": [10.0, 5.0, 5.0],
                    "owe": [1_350.0, 520.0, 440.0],
                }
            ),
            "losses": pd.DataFrame(
                {
                    "auction_id": [1, 2, 3],
                    "opened": [t(5), t(6), t(7)],
                    "closed": [t(8), t(12), t(15)],
                    "debt": [5_000.0, 20_000.0, 8_000.0],
                    "raised": [5_500.0, 7_999.5, 4_999.75],
                    "covered": [5_000.0, 7_999.5, 4_999.75],
                    "loss": [0.0, 12_000.50, 3_000.25],
                    "allocated": [0.0, 12_000.50, 2_500.25],
                    "outstanding": [0.0, 0.0, 500.0],
                }
            ),
            "allocations": pd.DataFrame(
                {
                    "bar": [14, 14, 17],
                    "time": [t(14), t(14), t(17)],
                    "auction_id": [2, 2, 3],
                    "layer": ["fund", "stability_pool", "redistribution"],
                    "participant": ["0xbackstop", "0xpool", "0xengine"],
                    "amount": [8_000.0, 4_000.50, 2_500.25],
                }
            ),
            "payers": pd.DataFrame(
                {
                    "payer": ["0xstaker1", "0xbackstop", "0xv3", "0xstaker2", "0xv4"],
                    "kind": ["staker", "fund", "vault", "staker", "vault"],
                    "layer": [
                        "stability_pool",
                        "fund",
                        "redistribution",
                        "stability_pool",
                        "redistribution",
                    ],
                    "amount": [3_000.50, 8_000.0, 1_500.25, 1_000.0, 1_000.0],
                }
            ),
        }
    for table in TABLES:
        tables.setdefault(table, empty_table(table))
    facts = {
        "stable_symbol": "DAI",
        "collateral_symbol": "ETH",
        "liquidation_ratio": 1.5,
        "waterfall": ["fund", "stability_pool", "debt_auction", "redistribution"],
        "peak_debt_in_auction": 33_000.004,
    }
    return SimulationResult(scenario_name=name, backend="model", tables=tables, facts=facts)


def agreeing() -> Reconciliation:
    return Reconciliation(
        events_compared=1_234,
        txs_compared=321,
        bars_compared=180,
        state_checks=15,
        state_variables_compared=812_345,
    )


def row(markdown: str, *cells: str) -> bool:
    return "| " + " | ".join(cells) + " |" in markdown


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("reports") / "crash"
    summary = write_report(out, synthetic_result(), agreeing(), SCENARIO)
    return out, summary.read_text()


def test_write_report__returns_summary_in_out_dir(written):
    out, _ = written
    assert sorted(p.name for p in out.iterdir()) == [
        ".backstop-output.json",  # the marker: simulate's output (offchain/system/outputs.py)
        "data",
        "facts.json",  # the headline, machine-readable (report/headline.py lead_facts)
        "plots",
        "summary.html",
        "summary.md",
    ]


def test_summary__outcome_numbers(written):
    _, md = written
    assert md.startswith("# Backstop risk report: crash\n")
    assert "**Backend:** model\n" in md
    assert row(md, "vaults", "10")
    assert row(md, "vaults that became unsafe", "3")
    assert row(md, "vaults liquidated (distinct owners)", "2")
    assert row(md, "liquidations", "3")
    # Kaplan-Meier (report/survival.py), nothing censored here: waits of 15, 20 and 50 min
    assert row(
        md,
        "time from unsafe to liquidated",
        "median 20.0 min, p90 50.0 min (Kaplan-Meier over 3 unsafe spells: 3 liquidated, 0 never "
        "liquidated, counted as waiting at least until the end)",
    )
    assert row(md, "auctions started / finished", "3 / 3")
    assert row(md, "collateral sold", "20.00 ETH")
    # take / market: 135/152, 104/128, 88/110 = 0.888, 0.8125, 0.8; weighted by 10, 5, 5 ETH
    assert row(
        md,
        "auction clearing price vs market",
        "84.7% of market (volume-weighted mean), lowest 80.0%",
    )
    assert row(md, "realized bad debt (auctions that finished short)", "15,000.75 DAI")
    # every auction closed: from the first liquidation (bar 5) to the last close (bar 15)
    cleared = f"{10 * BAR / 3600:,.1f} h"
    assert row(md, "time to clear (first liquidation to the last auction's close)", cleared)
    assert row(md, "of it, not yet paid by any layer", "500.00 DAI")
    assert row(md, "peak debt in auction", "33,000.00 DAI")
    assert row(md, "parameter", "value") and row(md, "price path", "eth_usd_2020-03-12.csv")


def test_summary__who_paid_per_layer_and_uncovered(written):
    _, md = written
    assert row(md, "fund", "8,000.00 DAI", "53.3%")
    assert row(md, "stability_pool", "4,000.50 DAI", "26.7%")
    assert row(md, "redistribution", "2,500.25 DAI", "16.7%")
    assert row(md, "debt_auction", "0.00 DAI", "0.0%")  # in the waterfall, paid nothing
    # auction 3's loss: a cover allocated 2,500.25 and the layers could not pay the rest
    assert row(md, "uncovered: no cover landed", "0.00 DAI", "0.0%")
    assert row(md, "uncovered: parked", "0.00 DAI", "0.0%")
    assert row(md, "uncovered: layers exhausted", "500.00 DAI", "3.3%")
    assert row(md, "total bad debt", "15,000.75 DAI", "100.0%")
    who_paid = md.split("## Who paid")[1].split("##")[0]
    lines = [line for line in who_paid.splitlines()[4:] if line.startswith("|")]
    assert [line.split(" | ")[0].lstrip("| ") for line in lines] == [
        "fund",
        "stability_pool",
        "debt_auction",
        "redistribution",
        "uncovered: no cover landed",
        "uncovered: parked",
        "uncovered: layers exhausted",
        "total bad debt",
    ]


def test_summary__uncovered_split__no_cover_landed_and_parked_are_not_paid(tmp_path):
    """Money flow: auction 2's loss of 12,000.50 was never covered (no allocation: its covers
    never landed); auction 3's 3,000.25 went to the deleveraging layer, which parked 1,000.25 of
    it that no vault took. Paid: deleverage 2,000 (what vaults paid); uncovered: no cover landed
    12,000.50, parked 1,000.25, layers exhausted 0."""
    result = synthetic_result()
    t = result.tables
    t["losses"] = t["losses"].assign(
        allocated=[0.0, 0.0, 3_000.25], outstanding=[0.0, 12_000.50, 0.0]
    )
    t["allocations"] = t["allocations"].iloc[[2]].assign(layer="deleverage", amount=3_000.25)
    result.facts["waterfall"] = ["deleverage"]
    result.facts["deleverage_due"] = 1_000.25
    md = write_report(tmp_path / "r", result, None, SCENARIO).read_text()
    assert row(md, "deleverage", "2,000.00 DAI", "13.3%")
    assert row(md, "uncovered: no cover landed", "12,000.50 DAI", "80.0%")
    assert row(md, "uncovered: parked", "1,000.25 DAI", "6.7%")
    assert row(md, "uncovered: layers exhausted", "0.00 DAI", "0.0%")
    assert row(md, "total bad debt", "15,000.75 DAI", "100.0%")
    # the comparison says the same: deleveraging paid what vaults paid, the rest parked
    comparison = write_comparison(tmp_path / "c", [("deleverage", result)], SCENARIO)
    csv = pd.read_csv(comparison.parent / "comparison.csv")
    assert csv["deleverage"].tolist() == [2_000.0]
    assert csv["uncovered: parked"].tolist() == [1_000.25]
    assert csv["uncovered: no cover landed"].tolist() == [12_000.50]


def test_summary__headline__drained_insolvency_beside_the_mark_and_the_pool_sale(tmp_path):
    """The headline is the drained figure (sim/run/drain.py); the drain's line says how it went
    (auctions open at the end, what the horizon left open), and the end-of-run mark and the pool
    sale are the bounds beside it."""
    result = synthetic_result()
    result.facts |= {
        "insolvency": 120_000.0,
        "insolvency_mark": 95_000.0,
        "insolvency_pool_sale": 140_000.0,
        "drain_horizon": 1008,
        "headline_drained_bars": 1008,
        "time_to_clear_s": None,
        "auctions_open_at_horizon": 1,
        "horizon_unsafe_vaults_left": 0,
        "horizon_marked_shortfall": 40_000.0,
        "bar_seconds": 600,
        "insolvency_last_price": 16_000.0,
        "realized_bad_debt": 15_000.75,
        "unsafe_vaults_left": 3,
        "unsafe_vault_debt": 30_000.0,
        "unsafe_vault_shortfall": 0.0,
        "unsafe_vault_marked_shortfall": 30_000.0,
        "open_auctions": 2,
        "open_auction_debt": 50_000.0,
        "open_auction_collateral": 400.0,
        "open_auction_shortfall": 1_000.0,
        "open_auction_marked_shortfall": 50_000.0,
        "open_auction_sale_value": 20_000.0,
        "open_auction_fire_sale_shortfall": 30_000.0,
        "mark_price": 130.0,
        "mark_depth": 100_000.0,
        "mark_price_after_sales": 40.0,
    }
    md = write_report(tmp_path / "r", result, None, SCENARIO).read_text()
    headline = md.split("## Headline")[1].split("##")[0]
    debt = float(result.tables["vaults"]["debt_start"].sum())
    assert row(
        headline,
        "insolvency: the open book run out by the run's keepers at the last price, at one oracle "
        "phase, not a distribution over the oracle's phases",
        f"120,000.00 DAI ({120_000 / debt:.1%} of the starting debt, {debt:,.2f} DAI)",
    )
    assert row(
        headline,
        "the drain: auctions open at the end, time to clear",
        "2 auctions and 3 unsafe vaults open at the run's end; after 1,008 bars (7.0 days) at the "
        "last price 1 still run, marked: 40,000.00 of the figure",
    )
    assert row(
        headline,
        "bound: everything open at the run's end marked, as if sold into the market's depth "
        "with no keeper and no block space in the way",
        "95,000.00 DAI",
    )
    assert row(
        headline,
        "bound: the open auctions' lots sold at once into the keepers' pool (pessimistic)",
        "140,000.00 DAI",
    )
    assert row(
        headline,
        "of the realized bad debt, uncovered: layers exhausted",
        "500.00 DAI",
    )
    assert row(headline, "unsafe vaults never liquidated", "3 (30,000.00 DAI of debt)")
    assert row(headline, "auctions still running", "2 (50,000.00 DAI not yet raised)")
    # the headline leads the report, before the keepers' table
    assert md.index("## Headline") < md.index("Backend")
    # the outcome's end-of-run rows: the mark's market, both figures
    assert row(
        md,
        "marked: everything still open sold in the keepers' order into a constant-product "
        "market of 100,000.00 DAI per side (the external market's depth, or without price "
        "impact the keepers' pool's stablecoin reserve at the end), the price falling to 40.00 "
        "DAI",
        "auctions 50,000.00 DAI short, unsafe vaults 30,000.00 DAI short",
    )
    assert (
        "| insolvency marked at the run's end (realized bad debt + both marked shortfalls) | "
        "95,000.00 DAI |" in md
    )
    assert (
        "| INSOLVENCY (the open book run out by the run's keepers at the last price, what is "
        "still open at the horizon marked: the headline) | 120,000.00 DAI |" in md
    )


def test_summary__headline__with_the_phases_leads_with_their_median__the_run_only_named(tmp_path):
    """With the oracle's phases measured (the facts' phases_insolvency, report/phases.py), the
    headline's every figure is the median over them, insolvency's worst beside it; the run the
    report's sections are of is named, its own insolvency not in the headline; the outcome
    section says which phase it is; facts.json leads with the median, the run's facts under
    `run`."""
    result = synthetic_result()
    result.facts |= {
        "insolvency": 12_345.0,
        "insolvency_last_price": 12_000.0,
        "insolvency_pool_sale": 13_000.0,
        "realized_bad_debt": 15_000.75,
        "unsafe_vaults_left": 0,
        "unsafe_vault_debt": 0.0,
        "unsafe_vault_shortfall": 0.0,
        "open_auctions": 0,
        "open_auction_debt": 0.0,
        "open_auction_collateral": 0.0,
        "open_auction_shortfall": 0.0,
        "open_auction_sale_value": 0.0,
        "open_auction_fire_sale_shortfall": 0.0,
        "mark_price": 130.0,
        "oracle_phase": 600,
        "phases_insolvency": {
            "phases": 4,
            "median": 20_000.5,
            "worst": 90_000.0,
            "worst_phase": 1200,
            "best": 12_345.0,
            "best_phase": 600,
            "per_phase": {0: 30_000.0, 600: 12_345.0, 1200: 90_000.0, 1800: 11_001.0},
            "insolvency_mark_median": 19_500.0,
            "insolvency_last_price_median": 19_000.0,
            "insolvency_pool_sale_median": 21_000.0,
            "realized_bad_debt_median": 18_000.0,
            "open_auctions_median": 1.5,
            "open_auction_debt_median": 2_500.0,
            "unsafe_vaults_left_median": 0.0,
            "unsafe_vault_debt_median": 0.0,
            "unsafe_recovered_median": 2.0,
            "reported_phase": 600,
        },
    }
    out = tmp_path / "r"
    md = write_report(out, result, None, SCENARIO).read_text()
    headline = md.split("## Headline")[1].split("\n## ")[0]
    debt = float(result.tables["vaults"]["debt_start"].sum())
    first = [x for x in headline.splitlines() if x.startswith("| insolvency")][0]
    assert first == (
        "| insolvency: the open book run out by the run's keepers at the last price, the median "
        "over the oracle's 4 phases (model), the worst beside it | 20,000.50 DAI "
        f"({20_000.5 / debt:.1%} of the starting debt, {debt:,.2f} DAI); worst 90,000.00 DAI "
        f"({90_000 / debt:.1%}, phase 1,200 s) |"
    )
    assert row(headline, "bound: everything open at the run's end marked, as if sold into the "
               "market's depth with no keeper and no block space in the way, the median over the "
               "phases",
               "19,500.00 DAI")  # fmt: skip
    assert row(headline, "the drain of the reported run (oracle phase 600 s): auctions open at "
               "the end, time to clear", "nothing open at the run's end")  # fmt: skip
    assert row(headline, "realized bad debt (finished auctions), the median over the phases",
               "18,000.00 DAI")  # fmt: skip
    assert row(headline, "auctions still running, the median over the phases",
               "1.5 (2,500.00 DAI not yet raised)")  # fmt: skip
    assert "12,345.00" not in headline  # the reported run's own insolvency
    assert "| the run this report is of | oracle phase 600 s, one of the 4:" in headline
    assert "of the reported run's realized bad debt, uncovered: layers exhausted" in headline
    assert "## Outcome: the reported run, oracle phase 600 s (one of the 4 in the headline)" in md
    facts = json.loads((out / "facts.json").read_text())
    assert facts["insolvency"] == 20_000.5 and facts["insolvency_worst"] == 90_000.0
    assert facts["lead"] == "the median over the oracle's 4 phases (model)"
    assert facts["run"]["insolvency"] == 12_345.0 and "phases_insolvency" not in facts["run"]
    assert facts["per_phase"]["1200"] == 90_000.0


def test_summary__keeper_failure_opens_the_report__first_table_is_the_keepers(tmp_path):
    result = synthetic_result()
    result.tables["keeper_actions"] = pd.DataFrame(
        [
            ("liquidation_keeper", 10, 9, 8, 0, 1, 0, 0, 1, 0, 0, 0.8),
            ("backstop_keeper", 30, 0, 0, 0, 0, 30, 0, 0, 0, 0, 0.0),
        ],
        columns=list(TABLES["keeper_actions"]),
    )
    result.facts["gas_strategy"] = "fixed"
    result.facts["keeper_failures"] = [
        "The backstop keeper landed NONE of its 30 planned actions: 30 dropped, its gas bid "
        "below the bar's 30th percentile."
    ]
    md = write_report(tmp_path / "r", result, None, SCENARIO).read_text()
    lines = md.splitlines()
    assert lines[2].startswith("**Keeper failure:** The backstop keeper landed NONE of its 30")
    first_table = md.split("\n| ")[1]
    assert first_table.startswith("keeper | planned | sent | mined | dropped: bid below")
    assert row(md, "backstop keeper", "30", "0", "0", "30", "0", "0", "0", "0", "0", "0", "0.0%")
    assert row(md, "liquidation keeper", "10", "9", "8", "0", "0", "1", "0", "1", "0", "0", "80.0%")


def test_summary__layers_outside_the_waterfall_follow_it(tmp_path):
    result = synthetic_result()
    result.facts["waterfall"] = ["stability_pool"]
    md = write_report(tmp_path / "r", result, None, SCENARIO).read_text()
    who_paid = md.split("## Who paid")[1].split("##")[0]
    lines = [line for line in who_paid.splitlines()[4:] if line.startswith("|")]
    assert [line.split(" | ")[0].lstrip("| ") for line in lines] == [
        "stability_pool",
        "fund",
        "redistribution",
        "uncovered: no cover landed",
        "uncovered: parked",
        "uncovered: layers exhausted",
        "total bad debt",
    ]


def test_summary__run_facts(tmp_path):
    result = synthetic_result()
    result.facts |= {
        "bars": 20,
        "bar_seconds": 600,
        "start": "2020-03-12T08:00:00Z",
        "end": "2020-03-12T11:10:00Z",
        "transactions": 1_234,
        "run_s": 99.0,
        "chain_run_s": 61.25,
        "model_run_s": 2.5,
    }
    del result.facts["peak_debt_in_auction"]
    md = write_report(tmp_path / "r", result, None, SCENARIO).read_text()
    assert (
        "**Backend:** model; 20 bars of 600 s, 2020-03-12T08:00:00Z to 2020-03-12T11:10:00Z; "
        "1,234 transactions; Anvil 61.2 s; model 2.5 s\n"
    ) in md
    assert row(md, "peak debt in auction", "- (not recorded)")


def test_summary__largest_payers_by_amount(written):
    _, md = written
    payers = md.split("## Largest payers")[1].split("##")[0]
    assert row(payers, "payer", "kind", "layer", "amount")
    order = [
        line.split(" | ")[0].lstrip("| ") for line in payers.splitlines() if line.startswith("| 0x")
    ]
    assert order == ["0xbackstop", "0xstaker1", "0xv3", "0xstaker2", "0xv4"]
    assert row(payers, "0xbackstop", "fund", "fund", "8,000.00 DAI")


def test_summary__timeline_in_time_order(written):
    _, md = written
    timeline = md.split("## Timeline")[1].split("##")[0]
    whats = [line.split(" | ")[1] for line in timeline.splitlines() if line.startswith("| 2020")]
    assert [w.split(":")[0] for w in whats] == [
        "first vault unsafe",
        "first liquidation",
        "first loss",
        "first cover",
        "lowest market price",
    ]
    assert row(timeline, "2020-03-12 08:35 UTC", "first vault unsafe: 0xv0")
    assert row(
        timeline,
        "2020-03-12 08:50 UTC",
        "first liquidation: 0xv0, 40.00 ETH seized for 5,000.00 DAI of debt",
    )
    assert row(timeline, "2020-03-12 10:00 UTC", "first loss: auction 2 closed 12,000.50 DAI short")
    assert row(timeline, "2020-03-12 10:20 UTC", "first cover: fund paid 8,000.00 DAI (auction 2)")
    assert row(timeline, "2020-03-12 10:30 UTC", "lowest market price: 110.00 DAI")


def test_summary__plots_embedded_and_data_listed(written):
    _, md = written
    for name in PLOTS:
        assert f"![{name}](plots/{name}.png)" in md
    assert "- data/liquidations.parquet, data/liquidations.csv (3 rows)" in md


def test_reconciliation__agreement_line(written):
    _, md = written
    assert (
        "**Reconciliation:** Chain and model agree: 1,234 events, 321 transactions, 180 bar "
        "snapshots, "
        "15 full-state checks (every state variable, 812,345 values) — 0 differences"
    ) in md


def test_reconciliation__differences_listed_up_to_ten(tmp_path):
    diffs = [f"bar {b}: Backstop.debt_to_auction chain {b} model {b + 1}" for b in range(12)]
    rec = Reconciliation(events_compared=10, bars_compared=20, diffs=diffs, diff_count=40)
    md = write_report(tmp_path / "r", synthetic_result(), rec, SCENARIO).read_text()
    assert (
        "Chain and model DISAGREE: 40 differences — first: bar 0: Backstop.debt_to_auction chain "
        "0 model 1" in md
    )
    code = md.split("```\n")[1]
    assert code.splitlines() == diffs[:10] + ["... and 30 more"]
    assert "agree" not in md


def test_reconciliation__none_is_model_only(tmp_path):
    md = write_report(tmp_path / "r", synthetic_result(), None, SCENARIO).read_text()
    assert "**Reconciliation:** model only, not reconciled with a chain run" in md


def test_plots__valid_non_trivial_pngs_and_no_open_figures(written):
    out, _ = written
    assert plt.get_fignums() == []
    for name in PLOTS:
        png = (out / "plots" / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n", name
        assert len(png) > 10_000, name


def test_data__every_table_parquet_equals_csv(written):
    out, _ = written
    result = synthetic_result()
    for name in TABLES:
        parquet = pd.read_parquet(out / "data" / f"{name}.parquet")
        csv = pd.read_csv(out / "data" / f"{name}.csv", keep_default_na=False, na_values=[""])
        assert list(parquet.columns) == list(TABLES[name]), name
        assert len(parquet) == len(result.tables[name]), name
        nulls_as_none = lambda df: df.astype(object).where(df.notna(), None)  # noqa: E731
        pd.testing.assert_frame_equal(
            nulls_as_none(parquet), nulls_as_none(csv), check_dtype=False, obj=name
        )
    args = pd.read_parquet(out / "data" / "events.parquet")["args"]
    assert json.loads(args[1]) == {"owner": "0xv1", "debt": "20000000000000000000000"}


def test_html__same_content_with_img_tags_and_no_external_assets(written):
    out, _ = written
    page = (out / "summary.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    for name in PLOTS:
        assert f'<img src="plots/{name}.png" alt="{name}">' in page
    assert '<td>vaults liquidated (distinct owners)</td><td class="num">2</td>' in page
    assert "Chain and model agree: 1,234 events" in page
    assert "http" not in page


def test_no_liquidations__complete_report(tmp_path):
    out = tmp_path / "calm"
    md = write_report(out, synthetic_result("calm", liquidations=False), None, SCENARIO).read_text()
    assert row(md, "vaults liquidated (distinct owners)", "0")
    assert row(md, "time from unsafe to liquidated", "- (no liquidations, no vault left unsafe)")
    assert row(md, "auction clearing price vs market", "- (no takes)")
    assert row(md, "realized bad debt (auctions that finished short)", "0.00 DAI")
    assert "No vault was liquidated." in md
    assert "No bad debt: no layer paid anything." in md
    for name in PLOTS:
        assert (out / "plots" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    for name in TABLES:
        assert (out / "data" / f"{name}.parquet").is_file() and (
            out / "data" / f"{name}.csv"
        ).is_file()
    assert (out / "summary.html").is_file()


def test_comparison__one_row_per_order(tmp_path):
    base = synthetic_result()
    debt_first = synthetic_result()
    debt_first.tables["allocations"] = debt_first.tables["allocations"].assign(layer="debt_auction")
    debt_first.tables["payers"] = pd.DataFrame(
        {
            "payer": ["0xbidders"],
            "kind": ["debt_auction"],
            "layer": ["debt_auction"],
            "amount": [14_500.75],
        }
    )
    calm = synthetic_result(liquidations=False)
    runs = [("fund,pool,redistribution", base), ("debt_auction", debt_first), ("none", calm)]
    md = write_comparison(tmp_path / "cmp", runs, SCENARIO).read_text()
    csv = pd.read_csv(tmp_path / "cmp" / "comparison.csv", keep_default_na=False)
    assert list(csv.columns) == [
        "order",
        "realized_bad_debt",
        "fund",
        "stability_pool",
        "debt_auction",
        "redistribution",
        "settlement",
        "deleverage",
        "uncovered: no cover landed",
        "uncovered: parked",
        "uncovered: layers exhausted",
        "uncovered",
        "largest_payer",
        "largest_payer_amount",
        "vaults_liquidated",
        "open_auctions",
        "insolvency",
        "charged_to_vaults",
        "vaults_charged",
        "top_share",
        "made_unsafe",
        "liquidated_after",
        "band <1",
        "band 1-1.1",
        "band 1.1-1.25",
        "band 1.25-1.5",
        "band 1.5-2",
        "band >=2",
        "deleverage_due",
        "unbacked_at_end",
        "unsafe_vaults_left",
    ]
    assert list(csv["order"]) == ["fund,pool,redistribution", "debt_auction", "none"]
    first, second, third = csv.to_dict("records")
    assert (
        first["realized_bad_debt"],
        first["fund"],
        first["stability_pool"],
        first["redistribution"],
    ) == (
        15_000.75,
        8_000.0,
        4_000.50,
        2_500.25,
    )
    assert (first["debt_auction"], first["settlement"], first["uncovered"]) == (
        0.0,
        0.0,
        pytest.approx(500.0),
    )
    assert (first["largest_payer"], first["largest_payer_amount"], first["vaults_liquidated"]) == (
        "0xbackstop",
        8_000.0,
        2,
    )
    assert (second["debt_auction"], second["fund"], second["largest_payer"]) == (
        14_500.75,
        0.0,
        "0xbidders",
    )
    assert (
        third["realized_bad_debt"],
        third["uncovered"],
        third["largest_payer"],
        third["vaults_liquidated"],
    ) == (0.0, 0.0, "", 0)
    assert row(
        md,
        "debt_auction",
        "15,000.75",
        "0.00",
        "0.00",
        "14,500.75",
        "0.00",
        "0.00",
        "0.00",
        "0.00",
        "0.00",
        "500.00",
        "0xbidders (14,500.75)",
        "2",
    )
    # the layers that charge vaults: the first order's redistribution charged two vaults (its
    # payers), the debt auction none; what no layer paid is unbacked at the end
    assert "## Vaults charged by a layer, per order" in md and "## Who paid, by strength" in md
    assert row(md, "debt_auction", "0.00", "0", "-", "0", "0", "0.00", "500.00")
    assert (first["charged_to_vaults"], first["vaults_charged"], first["top_share"]) == (
        2_500.25,
        2,
        1.0,
    )
    assert first["unbacked_at_end"] == pytest.approx(500.0) and first["deleverage_due"] == 0
    assert "![comparison](plots/comparison.png)" in md
    assert (tmp_path / "cmp" / "plots" / "comparison.png").read_bytes()[:4] == b"\x89PNG"
    assert '<img src="plots/comparison.png"' in (tmp_path / "cmp" / "comparison.html").read_text()


def test_comparison__no_runs_raises(tmp_path):
    with pytest.raises(ReportError, match="no runs"):
        write_comparison(tmp_path / "cmp", [], SCENARIO)
    assert not (tmp_path / "cmp").exists()


def test_atomic__existing_non_report_directory_untouched(tmp_path):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(
        ReportError, match=r"notes: holds files no Backstop command wrote \(keep.txt\); choose"
    ):
        write_report(out, synthetic_result(), None, SCENARIO)
    assert [p.name for p in out.iterdir()] == ["keep.txt"] and (
        out / "keep.txt"
    ).read_text() == "mine"
    assert [p.name for p in tmp_path.iterdir()] == ["notes"]


def test_atomic__existing_file_is_not_a_report(tmp_path):
    (tmp_path / "out").write_text("x")
    with pytest.raises(ReportError):
        write_comparison(tmp_path / "out", [("a", synthetic_result())], SCENARIO)
    assert (tmp_path / "out").read_text() == "x"


def test_atomic__failure_mid_write_leaves_nothing(tmp_path, monkeypatch):
    def broken(result, path):
        raise RuntimeError("plot failed")

    monkeypatch.setattr(report, "plot_waterfall", broken)
    with pytest.raises(RuntimeError, match="plot failed"):
        write_report(tmp_path / "r", synthetic_result(), None, SCENARIO)
    assert list(tmp_path.iterdir()) == []
    assert plt.get_fignums() == []


def test_atomic__failure_keeps_previous_report(tmp_path, monkeypatch):
    write_report(tmp_path / "r", synthetic_result("before"), None, SCENARIO)
    monkeypatch.setattr(report, "plot_price", lambda result, path: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_report(tmp_path / "r", synthetic_result("after"), None, SCENARIO)
    assert (
        (tmp_path / "r" / "summary.md").read_text().startswith("# Backstop risk report: before\n")
    )
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_atomic__rewrite_replaces_previous_report(tmp_path):
    out = tmp_path / "r"
    write_report(out, synthetic_result("before"), None, SCENARIO)
    write_report(out, synthetic_result("after", liquidations=False), agreeing(), SCENARIO)
    assert (out / "summary.md").read_text().startswith("# Backstop risk report: after\n")
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_atomic__previous_report_with_a_file_added__refused_and_kept(tmp_path):
    """A file added to a report since it was written is the user's: the report is not replaced
    (it was, and the file went with it)."""
    out = tmp_path / "r"
    write_report(out, synthetic_result("before"), None, SCENARIO)
    (out / "data" / "stale.csv").write_text("mine")
    with pytest.raises(ReportError, match="holds data/stale.csv, which simulate did not write"):
        write_report(out, synthetic_result("after", liquidations=False), agreeing(), SCENARIO)
    assert (out / "data" / "stale.csv").read_text() == "mine"
    assert (out / "summary.md").read_text().startswith("# Backstop risk report: before\n")
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_atomic__empty_directory_is_filled(tmp_path):
    (tmp_path / "r").mkdir()
    assert (
        write_report(tmp_path / "r", synthetic_result(), None, SCENARIO)
        == tmp_path / "r" / "summary.md"
    )


def test_report__debt_in_auction_at_its_cap__the_cut_run_says_the_pipeline_jammed(tmp_path):
    """Black Thursday with ETH-A's auction cap lowered to 200,000: debt in auction reaches the
    cap and unsafe vaults wait for room. A newcomer saw the report blame only the oracle or the
    keepers (issue 34); it now names the cap, with the peak and the cap's figures, and not where
    the cap was never reached. (Until issue 46 `--vaults 5000` reached the cap: the caps now grow
    with the population, scenario/ceilings.py, and the 5,000-vault run stays below its cap.)"""
    from offchain.report.documents import write_report
    from offchain.sim.run.driver import simulate
    from offchain.sim.scenario.load import load_scenario

    own = {"debt_ceiling": "30_000_000", "ceiling_max": "40_000_000"}  # the scenario's
    low_cap = {"protocol": {"collateral_overrides": {**own, "auction_cap": "200_000"}}}
    capped = simulate(load_scenario("black-thursday-2020", overrides=low_cap), "model", None)
    f = capped.facts
    assert f["unsafe_vaults_left"] > 0 and f["peak_debt_in_auction"] >= 0.99 * f["auction_cap"]
    text = write_report(tmp_path / "capped", capped, None, []).read_text()
    cut = next(line for line in text.splitlines() if line.startswith("**The run was cut:**"))
    assert "or the Liquidator had no room: see below" in cut
    assert f"Debt in auction peaked at {f['peak_debt_in_auction']:,.2f} " in cut
    assert f"at ETH-A's auction cap ({f['auction_cap']:,.2f} " in cut
    assert (
        f"ETH-A: the debt in auction reached {f['peak_debt_in_auction']:,.0f} of the type's "
        "auction cap 200,000 (auction_cap)"
    ) in f["binding_limits"]
    big = simulate(load_scenario("black-thursday-2020", vaults=5000), "model", None)
    assert (
        big.facts["auction_cap"]
        == 5 * load_scenario("black-thursday-2020").system.collateral[0].auction_cap / 10**45
    )
    assert big.facts["peak_debt_in_auction"] < 0.99 * big.facts["auction_cap"]
    assert "Debt in auction peaked" not in write_report(tmp_path / "big", big, None, []).read_text()


def test_report__files_of_the_project_named_relative_to_it__not_this_machine(tmp_path):
    """The built-in scenario reads data/market/...: the report and the comparison name those
    files relative to the project, never the directory the project sits in on this machine (a
    report is shared; /work/... or /home/<user>/... is noise, and private)."""
    from offchain.report.tables import scenario_lines
    from offchain.sim.scenario.load import load_scenario

    lines = scenario_lines(load_scenario("black-thursday-2020"))
    project = str(Path(report.__file__).resolve().parents[2]) + "/"
    assert any(project in value for _, value in lines)  # the scenario holds absolute paths
    summary = write_report(tmp_path / "r", synthetic_result(), agreeing(), lines)
    comparison = write_comparison(tmp_path / "c", [("fund", synthetic_result())], lines)
    for written in (
        summary,
        summary.with_suffix(".html"),
        comparison,
        comparison.with_suffix(".html"),
    ):
        text = written.read_text()
        assert project not in text, written.name
        assert "data/market/eth_usd_2020-03-12.csv: 144 bars" in text, written.name
        assert "data/market/gas_2020-03-12.csv" in text, written.name
