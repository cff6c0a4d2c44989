"""A user's bare price CSV gets the lineup of the built-in day of its year and the block space of
its date (offchain/sim/scenario/day_lineup.py), and the keepers' pool is a share of the venue's
depth where no reserves file or pool_depth gives it (offchain/sim/market/liquidity.py): the
shipped days' price files given bare run the built-ins' keepers and block limits and say so in
their first lines; switched off (`--lineup defaults`, an explicit pool_depth), a bare CSV gives
the lab's numbers before this change to the wei; every new key and option is refused at the edge
in one line."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import script_cli

from offchain.model.fixed_point import WAD
from offchain.sim.market.blockspace import gas_limit_on
from offchain.sim.market.calibration import setting
from offchain.sim.market.liquidity import venue_pool_depth, venue_volume_a_day
from offchain.sim.run.driver import simulate
from offchain.sim.run.replay import replay
from offchain.sim.scenario.day_lineup import BUILTIN_DAYS, first_lines, nearest_year
from offchain.sim.scenario.load import ScenarioError, load_scenario
from offchain.sim.scenario.market_data import load_candles
from offchain.system.schema import MARKET

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "market"
PRICES = {2020: DATA / "eth_usd_2020-03-12.csv", 2021: DATA / "eth_usd_2021-05-19.csv"}


def _error(spec: str, **kw) -> str:
    with pytest.raises(ScenarioError) as exc:
        load_scenario(spec, **kw)
    message = str(exc.value)
    assert len(message.splitlines()) == 1, message
    return message


# ---------------------------------------------------------------- the block gas limit's history


def test_gas_limit_on__the_calibrated_days__their_limits():
    for year, day in ((2020, date(2020, 3, 12)), (2021, date(2021, 5, 19))):
        limit = gas_limit_on(day)
        assert limit.sourced and limit.gas_limit == setting(f"block_{year}.gas_limit").value


@pytest.mark.parametrize(
    "day, gas_limit, sourced, phrase",
    [
        (date(2018, 1, 1), 8_000_000, False, "when it began is not sourced"),
        (date(2019, 9, 14), 8_000_000, True, "the limit before the raise to 10,000,000"),
        (date(2019, 9, 21), 10_000_000, True, "the limit since 2019-09-20"),
        (date(2020, 7, 1), 10_000_000, True, "the limit before the raise to 12,500,000"),
        (date(2021, 1, 11), 12_500_000, True, "the limit since 2020-07-24"),
        (date(2021, 5, 27), 15_000_000, True, "the limit since 2021-04-21"),
        (date(2021, 5, 28), 15_000_000, False, "later changes are not in the calibration"),
        (date(2024, 1, 1), 15_000_000, False, "the nearest sourced limit"),
    ],
)
def test_gas_limit_on__a_date__the_history_s_limit_and_why(day, gas_limit, sourced, phrase):
    limit = gas_limit_on(day)
    assert (limit.gas_limit, limit.sourced) == (gas_limit, sourced)
    assert phrase in limit.why and limit.why.startswith(f"{gas_limit:,}")


def test_nearest_year__a_built_in_day_for_every_year():
    assert [nearest_year(y) for y in (2017, 2020, 2021, 2025)] == [2020, 2020, 2021, 2021]
    assert set(BUILTIN_DAYS) == {2020, 2021}


# ---------------------------------------------------------------- a bare CSV's lineup


@pytest.mark.parametrize("year", [2020, 2021])
def test_bare_csv__the_built_in_day_s_keepers_and_block_space(year):
    """At the built-in's own 1,000 vaults the bare file runs the built-in's keepers (capital sized
    by the same rule from the file's 200 vaults), its block space and its resale delay."""
    builtin = load_scenario(BUILTIN_DAYS[year])
    bare = load_scenario(str(PRICES[year]), vaults=1000)
    assert bare.keepers == builtin.keepers
    assert bare.market.blockspace == builtin.market.blockspace
    assert bare.market.resale_delay == builtin.market.resale_delay
    lineup, block, pool = first_lines(bare)
    assert lineup.startswith(f"lineup: this price file starts on {PRICES[year].stem[-10:]}")
    assert f"the keepers of {BUILTIN_DAYS[year]}, the built-in day of {year}" in lineup
    space = builtin.market.blockspace
    assert space is not None
    assert block.startswith(f"block space: {space.gas_limit:,} gas a block")
    assert f"the calibration's for {year} (block_{year})" in block
    assert pool.startswith("the keepers' pool: ") and "keepers_pool.share_of_venue" in pool


def _stripped(tmp_path: Path, year: int) -> Path:
    """The shipped day's price file alone in a folder: no gas, reserves or calibration beside it."""
    bare = tmp_path / PRICES[year].name
    bare.write_bytes(PRICES[year].read_bytes())
    return bare


@pytest.mark.parametrize("year", [2020, 2021])
def test_bare_csv__flash_takes_reach_the_venue(tmp_path, year):
    """On a bare file the flash takers sell on the outside venue (the open market's best route),
    not only into the keepers' pool."""
    scenario = load_scenario(str(_stripped(tmp_path, year)), vaults=150)
    assert scenario.market.outside == "open" and scenario.market.flash_route == "best"
    f = simulate(scenario, "model").facts
    assert f["flash_takes_venue"] > 0, f


@pytest.mark.slow
@pytest.mark.parametrize("year", [2020, 2021])
def test_bare_csv__the_venue_route_reconciles_on_anvil(tmp_path, year):
    """Each shipped day's price file alone, at 150 vaults, on Anvil and in the model: its flash
    takes sell on the chain's OutsideVenue, and every transaction, event, bar and full-state read
    (the venue's variables included) agrees to the wei."""
    done = replay(load_scenario(str(_stripped(tmp_path, year)), vaults=150), full_check_every=30)
    chain, reconciliation = done.checked
    assert reconciliation.ok, reconciliation.diffs[:5]
    assert chain.facts["flash_takes_venue"] > 0
    assert any(k.startswith("venue[ETH-A].") for k in chain.states[-1][1])


def test_bare_csv_of_2020__a_capital_taker_sized_to_its_book():
    s = load_scenario(str(PRICES[2020]))  # the schema's 200 vaults
    assert s.keepers.taker_mode == "both"
    assert s.keepers.taker_capital == 1_200_000 * WAD  # 6,000,000 for 1,000 vaults
    assert s.keepers.debt_auction_capital == 100_000 * WAD  # the default 500,000 for 1,000
    assert s.keepers.arbitrageur_capital == 3_000_000 * WAD  # the market's: not sized
    assert (
        "a capital taker with 1,200,000 (black-thursday-2020's 6,000,000 for its 1,000"
        in (s.lineup_lines[0])
    )


def test_bare_csv_of_2021__no_capital_taker__said():
    s = load_scenario(str(PRICES[2021]))
    assert s.keepers.taker_mode == "flash" and s.keepers.taker_capital == 0
    assert "no capital taker (may-2021 has none)" in s.lineup_lines[0]


def test_bare_csv_outside_the_history__the_nearest_sourced_limit_and_year_said(tmp_path):
    rows = PRICES[2021].read_text().splitlines()
    late = tmp_path / "eth_usd_2023-05-19.csv"
    late.write_text(
        "\n".join([rows[0], *(r.replace("2021-05-19", "2023-05-19") for r in rows[1:])])
    )
    s = load_scenario(str(late))
    assert s.market.blockspace is not None and s.market.blockspace.gas_limit == 15_000_000
    lineup, block, _ = first_lines(s)
    assert "the built-in day of 2021 (the nearest year with a built-in day)" in lineup
    assert "the nearest sourced limit; later changes are not in the calibration" in block
    assert "the calibration's for 2021 (block_2021, the nearest year it gives)" in block


def test_bare_csv_without_the_venue_s_columns__block_space_no_resale_delay(tmp_path):
    """A closed market (no venue data): the keepers and block space still, no resale delay (an
    open market's key), and the pool the schema's, said."""
    closes = tmp_path / "closes.csv"
    closes.write_text(
        "\n".join(
            ",".join((r.split(",")[0], r.split(",")[4]))
            for r in PRICES[2020].read_text().splitlines()
        )
    )
    s = load_scenario(str(closes))
    assert s.market.outside == "closed" and s.market.blockspace is not None
    assert s.keepers.taker_mode == "both"
    assert s.market.pool_depth == 1_000_000 * WAD and s.market.pool_share_of_venue is None
    assert "the schema's default pool_depth" in first_lines(s)[-1]


def test_lineup_defaults__the_schema_s_keepers_no_block_limit():
    bare = load_scenario(str(PRICES[2020]), lineup="defaults")
    plain = load_scenario("synthetic-crash")
    assert bare.keepers == plain.keepers and bare.market.blockspace is None
    assert bare.lineup_lines == ()


def test_a_sweep_s_override__wins_over_the_lineup_and_shows_in_its_line():
    s = load_scenario(
        str(PRICES[2020]),
        overrides={
            "keepers": {"taker_capital": "2_000_000"},
            "market": {"block_gas_limit": 9_000_000},
        },
    )
    assert s.keepers.taker_capital == 2_000_000 * WAD
    assert "a capital taker with 2,000,000" in s.lineup_lines[0]
    assert s.lineup_lines[1].startswith("block space: 9,000,000 gas a block (set by an override)")


# ---------------------------------------------------------------- the keepers' pool from the venue


def test_pool_share__the_calibration_s_value_is_the_schema_s_default():
    entry = setting("keepers_pool.share_of_venue")
    assert Decimal(MARKET["pool_share_of_venue"].default) == Decimal(str(entry.value))
    assert entry["kind"] == "assumed" and len(entry.sensitivity) == 2


def test_pool_share__may_2021_s_pool_in_tokens__within_the_share_s_rounding():
    """The share is derived from may-2021's own pool (the pair's first row x 0.04) over that
    day's V_D: given the bare file, the pool holds that many tokens within 1% (0.00013 for
    0.000131)."""
    candles = load_candles(PRICES[2021])
    v_d = venue_volume_a_day(list(candles.columns["volume_eth"]), 600, 15 * WAD // 1000)
    assert v_d == 7_095_006_400_933_333_333_333_333  # 106,425.096014 / 0.015, exactly
    tokens = venue_pool_depth(v_d, Decimal("0.00013"), WAD)  # at a price of 1: tokens
    builtin = Decimal("23221.34635") * Decimal("0.04") * WAD
    assert abs(tokens - builtin) / builtin < Decimal("0.01")
    s = load_scenario(str(PRICES[2021]))
    assert s.market.pool_depth == venue_pool_depth(v_d, Decimal("0.00013"), 3423_99 * WAD // 100)


@pytest.mark.parametrize(
    "market, problem",
    [
        (
            {"pool_depth": "1_000_000", "pool_share_of_venue": "0.001"},
            "market.pool_share_of_venue: give a pool_depth, a reserves CSV or a "
            "pool_share_of_venue, not two (here market.pool_depth too)",
        ),
        (
            {"outside": "closed", "pool_share_of_venue": "0.001"},
            "market.pool_share_of_venue: applies only to an open market (market.outside is closed)",
        ),
        ({"pool_share_of_venue": "0"}, "market.pool_share_of_venue: "),
        ({"pool_share_of_venue": "1.5"}, "market.pool_share_of_venue: "),
        ({"pool_share_of_venue": "1e400"}, "market.pool_share_of_venue: "),
        ({"pool_share_of_venue": "a lot"}, "market.pool_share_of_venue: "),
        ({"pool_share_of_venue": "1e-40"}, "market.pool_share_of_venue: 1E-40 gives an empty pool"),
    ],
)
def test_pool_share__bad_values__one_line(tmp_path, market, problem):
    lines = ["[market]", f'prices = "{PRICES[2020]}"']
    lines += [f'{key} = "{value}"' for key, value in market.items()]
    path = tmp_path / "s.toml"
    path.write_text("\n".join(lines) + "\n")
    message = _error(str(path))
    assert message.startswith(f"{path}: {problem}"), message


def test_pool_share__beside_a_reserves_file__refused(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        f'[market]\nprices = "{PRICES[2021]}"\n'
        f'reserves = "{DATA / "uniswap_eth_dai_reserves_2021-05-19.csv"}"\n'
        'reserves_scale = "0.04"\npool_share_of_venue = "0.001"\n'
    )
    assert "(here market.reserves too)" in _error(str(path))


def test_pool_share__too_deep_for_the_ceilings__names_the_key(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(f'[market]\nprices = "{PRICES[2021]}"\npool_share_of_venue = "0.01"\n')
    message = _error(str(path))
    assert "exceeds ETH-A's debt ceiling" in message
    assert "a smaller market.pool_share_of_venue" in message


# ---------------------------------------------------------------- switched off: the lab before


def _digest(result) -> str:
    """test_open_market's digest: the run's tables, transactions numbered from its first."""
    h = hashlib.sha256()
    for name in (
        "txs",
        "events",
        "bars",
        "takes",
        "liquidations",
        "losses",
        "allocations",
        "payers",
        "vaults",
        "exposure",
        "contagion",
    ):
        table = result.tables[name].drop(columns=["after_data"], errors="ignore")
        if "bar" in table.columns and "tx" in table.columns:
            table = table[table["bar"] >= 0].copy()
            if len(table):
                table["tx"] = table["tx"] - table["tx"].min()
        h.update(table.to_csv(index=False).encode())
    return h.hexdigest()


# the bare CSVs at the schema's 200 vaults before the lineup and the pool's share (dc8c6f4, and
# 5534f08 alike), model: digest, insolvency, transactions; with pool_depth 1M, closed and open
BEFORE = {
    (2020, "closed"): (
        "e481d3a9128d9cc12bfad4e31186f0eea584da8e4b29c6110e922c74f88a6025",
        90074.00949971726,
        1129,
    ),
    (2021, "closed"): (
        "a8e1630ab67802259b512447ca9a624a88e2a6d471d3e6ab5407e958be1aab3b",
        0.0,
        984,
    ),
    (2020, "open"): (
        "7d5dd06bb7ab53f10aed087405101b0e8ef384e91a5280f30342134ac55a86b6",
        54881.770745202106,
        1348,
    ),
    (2021, "open"): (
        "5bfc55096634353dd9c417e1fb5433ef9db07d857181ef0fd19a6685c48edbdb",
        0.0,
        1196,
    ),
}


@pytest.mark.parametrize("year, market", list(BEFORE), ids=[f"{y}-{m}" for y, m in BEFORE])
def test_switched_off__a_bare_csv_gives_the_lab_before_to_the_wei(year, market):
    # open: the flash takes' venue route switched off too (they sold into the pool alone then)
    overrides = {"pool_depth": "1_000_000"} | (
        {"outside": "closed"} if market == "closed" else {"flash_route": "pool"}
    )
    s = load_scenario(str(PRICES[year]), lineup="defaults", overrides={"market": overrides})
    assert first_lines(s) == []
    result = simulate(s, "model", full_check_every=None)
    f = result.facts
    assert (_digest(result), f["insolvency"], f["transactions"]) == BEFORE[(year, market)]


# ---------------------------------------------------------------- the command line


def _cli():
    return script_cli("simulate")


@pytest.mark.parametrize(
    "args, phrase",
    [
        (["--scenario", "black-thursday-2020", "--lineup", "day"], "--lineup: applies only to a"),
        (["--scenario", str(PRICES[2020]), "--lineup", "built-in"], "--lineup"),
    ],
    ids=["with-a-scenario", "not-a-choice"],
)
def test_simulate_cli__bad_lineup__one_line_exit_2_nothing_written(tmp_path, args, phrase):
    out = tmp_path / "report"
    result = CliRunner().invoke(_cli(), [*args, "--backend", "model", "--out", str(out), "--quiet"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and phrase in lines[0], lines
    assert not out.exists()


@pytest.mark.parametrize(
    "value, phrase",
    [("0", "market.pool_share_of_venue: "), ("1e400", "market.pool_share_of_venue: ")],
)
def test_simulate_cli__bad_pool_share__one_line_exit_2_nothing_written(tmp_path, value, phrase):
    scenario = tmp_path / "s.toml"
    scenario.write_text(f'[market]\nprices = "{PRICES[2021]}"\npool_share_of_venue = "{value}"\n')
    out = tmp_path / "report"
    result = CliRunner().invoke(
        _cli(), ["--scenario", str(scenario), "--backend", "model", "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and phrase in lines[0], lines
    assert "Traceback" not in result.output and not out.exists()


def test_simulate_cli__bare_csv__its_first_lines_say_the_lineup(tmp_path):
    out = tmp_path / "report"
    result = CliRunner().invoke(
        _cli(),
        [
            "--scenario",
            str(PRICES[2020]),
            "--vaults",
            "40",
            "--phases",
            "one",
            "--backend",
            "model",
            "--out",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    console = result.output.splitlines()
    assert console[2].startswith("set by the lab: lineup: this price file starts on 2020-03-12")
    assert console[3].startswith("set by the lab: block space: 10,000,000 gas a block")
    assert console[4].startswith("set by the lab: the keepers' pool: ")
    assert console[5].startswith("insolvency ")
    text = (out / "summary.md").read_text()
    assert "**Set by the lab:** lineup: this price file starts on 2020-03-12" in text
    assert text.index("Set by the lab") < text.index("## Headline")
