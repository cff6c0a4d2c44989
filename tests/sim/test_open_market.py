"""The open market in a run (offchain/sim/market/outside.py; docs/market.md): switched off, every
built-in gives the lab's numbers before it to the wei; on, collateral leaves through the venue
and keepers' stablecoin comes back, a run reconciles on Anvil, and every new key is checked at
the edge."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from offchain.backends import ModelBackend
from offchain.model.fixed_point import WAD
from offchain.sim.market.outside import Outside
from offchain.sim.market.venue import Venue
from offchain.sim.results.cascade import has_impact, without_impact
from offchain.sim.results.tables import SimulationResult
from offchain.sim.run.driver import Simulation, simulate
from offchain.sim.run.replay import replay
from offchain.sim.scenario.load import ScenarioError, load_scenario
from offchain.sim.scenario.timeline import genesis_time

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "market"


def _run_part(table):
    """The rows of the run itself (bar 0 on), transactions numbered from its first: the set-up
    gained a transaction since 868be10 (the deployment links the MarginCall to the Backstop,
    `set_margin_call`: issue 63, finding 3), which moves every later transaction's number."""
    if "bar" in table.columns and "tx" in table.columns:
        table = table[table["bar"] >= 0].copy()
        if len(table):
            table["tx"] = table["tx"] - table["tx"].min()
    return table


def _digest(result) -> str:
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
        # (without the after_data column the tables gained since: a view of `bar`)
        table = _run_part(result.tables[name].drop(columns=["after_data"], errors="ignore"))
        h.update(table.to_csv(index=False).encode())
    return h.hexdigest()


# the lab before the open market (868be10), each built-in at 300 vaults in the model: the digest
# of the tables above (the run's part: `_run_part`), insolvency, realized bad debt, transactions
# (868be10's count + 1: the set-up's `set_margin_call`). The cascade and the two types
# ran their ETH market through the closed impact model then (impact_depth 2,504,000, half-life
# 3,600 s), which closing the market over the built-in's keys gives back.
BEFORE = {
    "black-thursday-2020": (
        "a40f0595db764b558034bd4309a0e21a14abca6369759be7f0baa998c43980aa",
        0.0,
        0.0,
        1358 + 1,
    ),
    "may-2021": (
        "17c28f4fc999cadfd464159a19b9d05a69f685523d4f084ae25b305081e75626",
        894.1892422361452,
        894.1892422361452,
        1296 + 1,
    ),
    "may-2021-cascade": (
        "9ced07fb6791563e499f9b3d03a575eabb318158e4ef3a17883a2ad3e86a4a8d",
        28916.56219416702,
        28916.56219416702,
        1762 + 1,
    ),
    "may-2021-two-types": (
        "45b1729d8710fffd23ef4ff7790944840743ca410f4dda1ecdb6c2ef3aa0fd3b",
        16135.31432962458,
        16135.31432962458,
        1870 + 1,
    ),
    "synthetic-crash": (
        "c9c1e05ba8b57a1bc1cfce8fda56350843c2dc33330988d3d468e6e179cd4e59",
        1103709.4860096022,
        76330.89585314415,
        1732 + 1,
    ),
}
CLOSED_IMPACT = {"impact_depth": "2_504_000", "impact_half_life": 3600}


@pytest.mark.parametrize("name", list(BEFORE))
def test_closed_market__brings_the_lab_before_it_back_to_the_wei(name):
    market: dict = {"outside": "closed"}
    if name in ("may-2021-cascade", "may-2021-two-types"):
        market |= CLOSED_IMPACT
    overrides = None if name == "synthetic-crash" else {"market": market}
    scenario = load_scenario(name, vaults=300, overrides=overrides)
    assert scenario.market.outside == "closed"
    result = simulate(scenario, "model", full_check_every=None)
    f = result.facts
    # (the headline then was the end-of-run mark: sim/run/drain.py)
    assert (_digest(result), f["insolvency_mark"], f["realized_bad_debt"], f["transactions"]) == (
        BEFORE[name]
    )


# the open market before flash takes could sell on the venue (b23f4e4), each open built-in at 300
# vaults in the model, as BEFORE: with the venue route switched off (market.flash_route = "pool")
# the lab gives them back to the wei
BEFORE_VENUE_ROUTE = {
    "black-thursday-2020": (
        "d98f36294bf62f5425614c00d2273b1437047f508235f3701e48e67e26d1153c",
        0.0,
        0.0,
        1563,
    ),
    "may-2021": (
        "5065e263b5f274dec9408f35e74b953fbfc152c6c4271a67f0257bc4b35f583a",
        894.3638921035384,
        894.3638921035384,
        1551,
    ),
    "may-2021-cascade": (
        "01889a397ddfad58efbb36abdefaf9717b574c4af1f12dd8757c918d4ac3941d",
        894.6446702613113,
        894.6446702613113,
        1550,
    ),
    "may-2021-two-types": (
        "b4a46630f7e5a510e138c24097a321c826830581974128232b006d1b3cadb0c0",
        16371.546772357773,
        16371.546772357773,
        2297,
    ),
}


@pytest.mark.parametrize("name", list(BEFORE_VENUE_ROUTE))
def test_open_market_without_the_venue_route__the_lab_before_it_to_the_wei(name):
    scenario = load_scenario(name, vaults=300, overrides={"market": {"flash_route": "pool"}})
    assert scenario.market.outside == "open"
    result = simulate(scenario, "model", full_check_every=None)
    f = result.facts
    assert (_digest(result), f["insolvency"], f["realized_bad_debt"], f["transactions"]) == (
        BEFORE_VENUE_ROUTE[name]
    )
    assert "flash_takes_venue" not in f


def _run(name: str, vaults: int) -> tuple[Simulation, SimulationResult, Outside, Venue]:
    """A model run of built-in `name` with an open market: the run, its result, its outside
    and its first type's venue."""
    scenario = load_scenario(name, vaults=vaults)
    sim = Simulation(scenario, ModelBackend(genesis_time(scenario)), "model", None)
    result = sim.run()
    assert sim.lineup.outside is not None and sim.venue is not None
    return sim, result, sim.lineup.outside, sim.venue


def test_open_market__the_capital_takers_collateral_resold_after_its_delay__stablecoin_back():
    """Money flow: the capital taker buys collateral in auctions with its stablecoin; once the
    resale delay (6 h on Black Thursday, F9) has passed, that collateral moves to the outside and
    the stablecoin the venue's dollars buy at DAI's 1.036 moves back: the taker ends holding no
    collateral bought more than a delay ago, and the outside paid what its sales say."""
    sim, result, o, _ = _run("black-thursday-2020", 300)
    d, a = sim.deployment, sim.actors
    resales = [row for row in o.sales if row[2] == a.capital_taker]
    assert resales, "the capital taker resold nothing"
    takes = result.tables["takes"]
    taker_takes = takes[takes["taker"] == "capital_taker"]
    first_take = int(taker_takes["time"].min())
    assert min(row[1] for row in resales) >= first_take + o.resale_delay
    # each resale's stablecoin: its dollars at the stablecoin's price, rounded down
    for _, time, _, _, _, usd, paid in resales:
        assert paid == usd * WAD // o.stable_price.at(time)
    # on the chain: the collateral the outside holds is what was resold; the stablecoin paid
    # moved out of the outside's balance
    name = sim.collateral.name
    held = sim.rec.read([(d.engine, "collateral", (d.types[name].type_id, o.address))])[0]
    assert held == sum(row[4] for row in resales)
    assert o.short == 0


def test_open_market__the_arbitrageur_keeps_its_inventory__collateral_leaves():
    """The arbitrageur buys what flash takers sold into the pool and sells it outside in the
    same round: the venue took collateral, and the arbitrageur ends with its starting tokens
    plus what it bought back, never with the auctions' collateral piled up."""
    sim, _, o, venue = _run("may-2021", 300)
    arb = [row for row in o.sales if row[2] == sim.actors.arbitrageur]
    flash = [row for row in o.sales if row[2] == sim.flash_takers[sim.collateral.name]]
    assert arb and venue.sold > 0
    # (the flash takes' sales on the venue are the venue's too: tests/sim/test_flash_venue.py)
    sold = sum(row[4] for row in arb + flash if row[4] > 0)
    bought = -sum(row[4] for row in arb if row[4] < 0)
    assert sold == venue.sold and bought == venue.bought


def test_open_market__headline_bounds_in_order():
    f = _run("black-thursday-2020", 300)[1].facts
    assert f["outside"] == "open"
    assert f["insolvency_last_price"] <= f["insolvency_mark"] + 1e-9 or f["open_auctions"] == 0
    assert f["insolvency_mark"] <= f["insolvency_pool_sale"] + 1e-6 or f["open_auctions"] == 0


@pytest.mark.slow
def test_open_market__black_thursday_reconciles_on_anvil():
    """The open market's trades are transfers on the chain: the chain run and the model run
    agree to the wei."""
    done = replay(load_scenario("black-thursday-2020", vaults=60), full_check_every=30)
    chain, reconciliation = done.checked
    assert chain.facts["venue_sold"] > 0
    assert reconciliation.ok, reconciliation.diffs[:5]


# ---------------------------------------------------------------- the edge


def _scenario(tmp_path: Path, market: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(
        f"""[scenario]
name = "t"
[market]
{market}
[vaults]
count = 20
"""
    )
    return path


PRICES = f'prices = "{DATA / "eth_usd_2020-03-12.csv"}"'


@pytest.mark.parametrize(
    "market, message",
    [
        (f'{PRICES}\noutside = "closed"\nvenue_share = "0.01"', "venue_share: applies only"),
        (f'{PRICES}\noutside = "closed"\nstable_price = "1.1"', "stable_price: applies only"),
        (f'{PRICES}\noutside = "closed"\nflash_route = "pool"', "flash_route: applies only"),
        (f'{PRICES}\nflash_route = "venue"', "flash_route: must be one of best, pool"),
        (
            f'{PRICES}\noutside = "open"\nimpact_depth = "1000"',
            "impact_depth: is the closed market's impact",
        ),
        (f'{PRICES}\nvenue_share = "0"', "venue_share"),
        # above the schema's 0 but 0 in wad: StablePrice's own check raised a traceback
        (f'{PRICES}\nstable_price = "1e-30"', "stable_price: is below one part in 10"),
        (f'{PRICES}\nvenue_share = "1.5"', "venue_share"),
        (f'{PRICES}\nimpact_coefficient = "1e400"', "impact_coefficient"),
        (f"{PRICES}\nresale_delay = -1", "resale_delay"),
        (f'{PRICES}\noutside = "ajar"', "outside: must be one of open, closed"),
        (f'{PRICES}\nstable_price = "1"\nstable_prices = "x.csv"', "not both"),
        (f'{PRICES}\nblock_time = "13"', "applies only with market.block_gas_limit"),
        (f"{PRICES}\nblock_gas_limit = 100", "block_gas_limit"),
        # a block no liquidation fits in ran, every one refused for gas, as a keeper failure
        (f"{PRICES}\nblock_gas_limit = 1_000_000", "costliest transaction \\(1,080,000"),
        (f'{PRICES}\nblock_gas_limit = 10_000_000\ncompeting_gas_share = "1.2"', "competing"),
    ],
)
def test_new_keys__refused_in_one_line(tmp_path, market, message):
    with pytest.raises(ScenarioError, match=message) as exc:
        load_scenario(str(_scenario(tmp_path, market)))
    assert "\n" not in str(exc.value)


def test_a_price_file_without_volume__closed_and_said__open_refused(tmp_path):
    bare = tmp_path / "p.csv"
    rows = (DATA / "eth_usd_2020-03-12.csv").read_text().splitlines()
    bare.write_text("\n".join(",".join(r.split(",")[:1] + r.split(",")[4:5]) for r in rows))
    m = load_scenario(str(_scenario(tmp_path, f'prices = "{bare}"'))).market
    assert m.outside == "closed" and "volume_eth" in m.outside_note
    with pytest.raises(ScenarioError, match="outside: open needs the price file's high, low"):
        load_scenario(str(_scenario(tmp_path, f'prices = "{bare}"\noutside = "open"')))


@pytest.mark.parametrize("zero", ["0", "0.0", "0e5"])
def test_a_price_file_with_no_volume_on_any_row__closed_and_said__open_refused(tmp_path, zero):
    """Issue 74: a price file whose volume_eth is 0 on every row ran an open market that sold
    thousands of tokens into no volume without a word. It has no venue to sell into: closed and
    said (the headline's note), and an explicit `outside = "open"` refused in one line; a file
    with some bars of no volume (a quiet bar) stays open."""
    rows = (DATA / "eth_usd_2020-03-12.csv").read_text().splitlines()
    volume = rows[0].split(",").index("volume_eth")

    def with_volumes(name: str, keep_first: bool) -> Path:
        out = [rows[0]]
        for i, row in enumerate(rows[1:]):
            cells = row.split(",")
            cells[volume] = cells[volume] if keep_first and i == 0 else zero
            out.append(",".join(cells))
        path = tmp_path / name
        path.write_text("\n".join(out) + "\n")
        return path

    none = with_volumes("none.csv", keep_first=False)
    m = load_scenario(str(_scenario(tmp_path, f'prices = "{none}"'))).market
    assert m.outside == "closed"
    assert m.outside_note == (
        "the price file's volume_eth is 0 on every row (no volume to sell into)"
    )
    assert load_scenario(str(none)).market.outside == "closed"  # a bare CSV: the same
    with pytest.raises(ScenarioError) as exc:
        load_scenario(str(_scenario(tmp_path, f'prices = "{none}"\noutside = "open"')))
    assert str(exc.value).endswith(
        "market.outside: open needs the price file's high, low and volume_eth: the price file's "
        "volume_eth is 0 on every row (no volume to sell into)"
    ) and "\n" not in str(exc.value)
    some = with_volumes("some.csv", keep_first=True)
    assert load_scenario(str(_scenario(tmp_path, f'prices = "{some}"'))).market.outside == "open"


def test_a_bad_row_of_the_venues_columns__refused_naming_its_line(tmp_path):
    """Issue 65: a price file with the venue's columns and one bad cell in them (a NaN high, a
    negative volume) ran with the market closed, the run's first lines naming the problem
    without its line. It is refused now; a file without the columns stays closed and said,
    and an explicitly closed market does not read them."""
    rows = (DATA / "eth_usd_2020-03-12.csv").read_text().splitlines()
    cells = rows[5].split(",")
    cells[5] = "-1"  # volume_eth
    rows[5] = ",".join(cells)
    bad = tmp_path / "p.csv"
    bad.write_text("\n".join(rows) + "\n")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(str(_scenario(tmp_path, f'prices = "{bad}"')))
    assert str(exc.value).endswith(
        f"market.prices: {bad}:6: volume_eth must not be negative, got -1"
    ), str(exc.value)
    m = load_scenario(str(_scenario(tmp_path, f'prices = "{bad}"\noutside = "closed"'))).market
    assert m.outside == "closed"


def test_stable_prices_file__points_read__a_bad_row_named(tmp_path):
    good = tmp_path / "dai.csv"
    good.write_text("time_utc,price\n2020-03-12T00:00:00Z,1.01\n2020-03-12T10:20:00Z,1.126\n")
    m = load_scenario(str(_scenario(tmp_path, f'{PRICES}\nstable_prices = "{good}"'))).market
    assert m.stable_price.points[1][1] == 1_126 * WAD // 1_000
    bad = tmp_path / "bad.csv"
    bad.write_text("time_utc,price\n2020-03-12T00:00:00Z,-1\n")
    with pytest.raises(ScenarioError, match="bad.csv:2: price must be positive"):
        load_scenario(str(_scenario(tmp_path, f'{PRICES}\nstable_prices = "{bad}"')))


def test_stable_prices_of_another_day__refused(tmp_path):
    """A stablecoin price CSV with no point within the price file's day was read as a constant
    at its last row in silence; one line naming both spans now. Points around the day's bars
    (a bar's slack) stay fine: the points are flat before the first and after the last."""
    other = tmp_path / "dai.csv"
    other.write_text("time_utc,price\n2021-05-19T00:00:00Z,1.01\n2021-05-19T23:50:00Z,1.02\n")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(str(_scenario(tmp_path, f'{PRICES}\nstable_prices = "{other}"')))
    assert str(exc.value).endswith(
        f"market.stable_prices: {other} covers 2021-05-19T00:00:00Z to 2021-05-19T23:50:00Z, "
        "the price file 2020-03-12T00:00:00Z to 2020-03-12T23:50:00Z: no point within the "
        "price file's times"
    ), str(exc.value)
    edge = tmp_path / "edge.csv"
    edge.write_text("time_utc,price\n2020-03-11T23:00:00Z,1.01\n2020-03-11T23:50:00Z,1.02\n")
    m = load_scenario(str(_scenario(tmp_path, f'{PRICES}\nstable_prices = "{edge}"'))).market
    assert m.stable_price.at(m.prices.times[0]) == 1_02 * WAD // 100  # flat after the last


def test_close_over_a_builtin__its_open_keys_dropped():
    m = load_scenario("black-thursday-2020", overrides={"market": {"outside": "closed"}}).market
    assert m.outside == "closed" and m.blockspace is None and m.venue is None
    assert m.stable_price.at(0) == WAD  # unused, at par


def test_open_market_cascade__the_venues_impact_against_the_same_run_without_it():
    """may-2021-cascade (the thinnest sourced venue): sales on the venue push the market price
    below the path, and the counterfactual without the venue's impact (prefactor 0, the venue
    still trading at the path) is the run the cascade section compares with."""
    scenario = load_scenario("may-2021-cascade", vaults=200)
    assert has_impact(scenario)
    done = replay(scenario, chain=False, counterfactual=True)
    assert done.cascade is not None
    bars = done.model.tables["bars"]
    assert (bars["market_price"] < bars["fundamental_price"]).any()
    flat = without_impact(scenario)
    assert flat.market.venue is not None and flat.market.venue.coefficient == 0
    plain = simulate(flat, "model", full_check_every=None).tables["bars"]
    assert (plain["market_price"] == plain["fundamental_price"]).all()
    assert done.cascade.liquidations_without_impact == len(
        simulate(flat, "model", full_check_every=None).tables["liquidations"]
    )
