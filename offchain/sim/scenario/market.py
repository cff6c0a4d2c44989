"""The scenario's `[market]` table (load.py): the price path (a price CSV, or a
`[market.synthetic]` path generated from the seed), the gas (a CSV or a constant), the collateral
pool's depth (a constant, a reserves CSV or, in an open market, a share of the venue's:
sim/market/liquidity.py), the tail and drain bars and the market's impact.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Any

from offchain.model.fixed_point import WAD
from offchain.sim.market.blockspace import BlockSpace
from offchain.sim.market.calibration import setting
from offchain.sim.market.liquidity import venue_pool_depth, venue_volume_a_day
from offchain.sim.market.stable_price import StablePrice
from offchain.sim.market.venue import VenueParams, depths_from_candles
from offchain.sim.scenario.market_data import (
    DataError,
    MissingColumns,
    Series,
    SyntheticPath,
    load_candles,
    load_gas,
    load_prices,
    load_reserves,
    load_stable_prices,
)
from offchain.sim.scenario.reader import (
    ScenarioError,
    Source,
    file_path,
    format_wad,
    sub_table,
)
from offchain.sim.scenario.timeline import utc
from offchain.sim.scenario.types import MarketSpec
from offchain.sim.strategies.gas_costs import least_block_gas
from offchain.system.config import Reader
from offchain.system.schema import MARKET, SYNTHETIC

# the schema's defaults (schema.MARKET); the gas's also MarketSpec.gas_price (unused) when the gas
# comes from a CSV
DEFAULT_GAS_GWEI = MARKET["gas_gwei"].default
DEFAULT_POOL_DEPTH = MARKET["pool_depth"].default
DEFAULT_TAIL_BARS = MARKET["tail_bars"].default
# with a block_gas_limit and without these keys: the long-run block time (N4) and other
# traffic's share of block gas (2020's, assumed) (data/market/calibration.toml, docs/market.md)
BLOCK_TIME = Decimal("13.1")
COMPETING = Decimal("0.8")
# the calibration's entry of pool_share_of_venue's default (the schema's; a test holds them equal)
POOL_SHARE = "keepers_pool.share_of_venue"


def _data(r: Reader, key: str, source: Source, loader: Any) -> Series:
    """Load a market CSV; a DataError keeps the loader's text (prefixed with the field)."""
    path = file_path(r, key, source)
    try:
        return loader(path)
    except DataError as exc:
        raise ScenarioError(str(exc) if source.bare else f"{r.where}.{key}: {exc}") from None


def check_companions(
    prices: Series, companions: list[tuple[str, Series]], source: Source, where: str
) -> None:
    """A gas or reserves file must cover the price file's times (with one bar's slack at each
    end): a file of another day would give every bar its last row. Every companion that does not
    is named, one ScenarioError line each."""
    step = prices.times[1] - prices.times[0]
    first, last = prices.times[0], prices.times[-1]
    problems = []
    for key, series in companions:
        if series.times[0] <= first + step and series.times[-1] >= last - step:
            continue
        name = f"--{key}" if source.bare else f"{where}.{key}"
        # (a file of the same day that stops short was said to be of another day)
        apart = series.times[-1] < first or series.times[0] > last
        why = "its dates differ" if apart else "it does not cover the price file's times"
        problems.append(
            f"{name}: {series.source} covers {utc(series.times[0])} to {utc(series.times[-1])}, "
            f"the price file {utc(first)} to {utc(last)}: {why}"
        )
    if problems:
        prefix = "" if source.bare else f"{source.name}: "
        raise ScenarioError("\n".join(prefix + problem for problem in problems))


def _check_overlap(r: Reader, series: Series, prices: Series) -> None:
    """A stablecoin price CSV is points, flat before the first and after the last, so it need
    not cover the price file's day (two points around a depeg will do); but one with no point
    within the day (a bar's slack at each end) is of another day, and was read as a constant
    at its last row in silence."""
    step = prices.times[1] - prices.times[0]
    first, last = prices.times[0], prices.times[-1]
    if series.times[-1] >= first - step and series.times[0] <= last + step:
        return
    raise r.fail(
        "stable_prices",
        f"{series.source} covers {utc(series.times[0])} to {utc(series.times[-1])}, the price "
        f"file {utc(first)} to {utc(last)}: no point within the price file's times",
    )


def read_market(r: Reader, source: Source, seed: int) -> MarketSpec:
    if "prices" in r.table and "synthetic" in r.table:
        raise r.fail("prices", "give a price CSV or a [market.synthetic] table, not both")
    if "prices" not in r.table and "synthetic" not in r.table:
        raise r.fail("prices", "missing (a price CSV, or a [market.synthetic] table)")
    if "gas" in r.table and "gas_gwei" in r.table:
        raise r.fail("gas_gwei", "give a gas CSV (market.gas) or a constant gas_gwei, not both")
    if "pool_depth" in r.table and "reserves" in r.table:
        raise r.fail("reserves", "give a pool_depth or a reserves CSV, not both")
    if "pool_share_of_venue" in r.table and ("pool_depth" in r.table or "reserves" in r.table):
        other = "pool_depth" if "pool_depth" in r.table else "reserves"
        raise r.fail(
            "pool_share_of_venue",
            f"give a pool_depth, a reserves CSV or a pool_share_of_venue, not two (here "
            f"market.{other} too)",
        )
    if "reserves_scale" in r.table and "reserves" not in r.table:
        raise r.fail("reserves_scale", "applies only with market.reserves")
    if "reserves_depth" in r.table and "reserves" not in r.table:
        raise r.fail("reserves_depth", "applies only with market.reserves")

    # the market's files: each one's mistake named, all at once (a gas file of another day
    # was named only once the reserves file beside it had been fixed)
    synthetic = None
    loaded: dict[str, Series] = {}
    problems: list[str] = []
    for key, loader in (("prices", load_prices), ("gas", load_gas), ("reserves", load_reserves)):
        if key in r.table:
            try:
                loaded[key] = _data(r, key, source, loader)
            except ScenarioError as exc:
                problems.append(str(exc))
    if "synthetic" in r.table:
        synthetic = _synthetic(sub_table(r, "synthetic", SYNTHETIC))
        loaded["prices"] = generate_prices(synthetic, seed, r.where + ".synthetic")
    if synthetic is None and "prices" in loaded:
        # a historical day: its companions are of the same day (a synthetic path has no date)
        try:
            check_companions(
                loaded["prices"],
                [(k, loaded[k]) for k in ("gas", "reserves") if k in loaded],
                source,
                r.where.partition(": ")[2] or "market",
            )
        except ScenarioError as exc:
            problems += str(exc).splitlines()
    if problems:
        raise ScenarioError("\n".join(problems))
    prices, gas, reserves = loaded["prices"], loaded.get("gas"), loaded.get("reserves")
    gas_price = r.read("gas_gwei")
    if reserves is not None:
        scale = r.read("reserves_scale")
        with localcontext() as ctx:
            ctx.prec = 80
            pool_depth = int(
                (reserves.columns["dai_reserve"][0] * scale).to_integral_value(rounding=ROUND_DOWN)
            )
        if pool_depth <= 0:
            raise r.fail(
                "reserves_scale", f"{scale} gives an empty pool (first dai_reserve x scale = 0)"
            )
    elif "pool_depth" in r.table:
        pool_depth = r.read("pool_depth")
    else:  # the venue's share, or the schema's default: below, once the market is read
        pool_depth = 0

    tail_bars = r.read("tail_bars")
    drain_bars = r.read("drain_bars")
    drain_horizon = r.read("drain_horizon")
    block_gas_limit = r.read("block_gas_limit")
    least_block = least_block_gas()
    if 0 < block_gas_limit < least_block:
        # (a block of 21,000 gas ran, every liquidation refused for gas, as a keeper failure)
        raise r.fail(
            "block_gas_limit",
            f"{block_gas_limit:,} is below the gas limit of a keeper's costliest transaction "
            f"({least_block:,}: a liquidation of one vault cut by its size), which no block "
            "would hold; 0: none",
        )
    impact_depth = r.read("impact_depth")
    impact_half_life = r.read("impact_half_life")
    reserves_depth = r.read("reserves_depth")
    depth_with_vaults = r.read("depth_with_vaults")
    # below the oracle delay: checked once the protocol's delay is known (load.py)
    oracle_phase = r.read("oracle_phase") if "oracle_phase" in r.table else None
    outside = _read_outside(
        r, source, synthetic is None and "prices" in r.table, prices, impact_depth
    )
    volume_a_day = outside.pop("volume_a_day", 0)
    pool_share, pool_note = None, ""
    if reserves is None and "pool_depth" not in r.table:
        pool_depth, pool_share, pool_note = _unset_pool(r, outside, volume_a_day, prices)
    blockspace = None
    if block_gas_limit:
        # absent: the long-run block time (N4) and 2020's other traffic (docs/market.md)
        blockspace = BlockSpace(
            block_gas_limit,
            r.read("block_time") if "block_time" in r.table else BLOCK_TIME,
            r.read("competing_gas_share") if "competing_gas_share" in r.table else COMPETING,
        )
    else:
        given = [k for k in ("block_time", "competing_gas_share") if k in r.table]
        if given:
            raise r.fail(given[0], "applies only with market.block_gas_limit")
    r.finish()
    return MarketSpec(
        prices=prices,
        gas=gas,
        gas_price=gas_price,
        pool_depth=pool_depth,
        tail_bars=tail_bars,
        drain_bars=drain_bars,
        drain_horizon=drain_horizon,
        block_gas_limit=block_gas_limit,
        synthetic=synthetic,
        impact_depth=impact_depth,
        impact_half_life=impact_half_life,
        oracle_phase=oracle_phase,
        # first_row: the file only set pool_depth (a constant pool)
        reserves=reserves if reserves_depth == "per_bar" else None,
        depth_with_vaults=depth_with_vaults,
        blockspace=blockspace,
        pool_share_of_venue=pool_share,
        pool_note=pool_note,
        **outside,
    )


# the [market] keys of the outside venue, which a closed market refuses ("applies only to an open
# market"): history's `--set` is held to the same rule (offchain/history/backstop.py)
OPEN_ONLY_KEYS = (
    "pool_share_of_venue",
    "impact_coefficient",
    "venue_share",
    "impact_decay",
    "venue_window",
    "resale_delay",
    "stable_price",
    "stable_prices",
    "flash_route",
)


def _to_wad(value: Any) -> int:
    with localcontext() as ctx:
        ctx.prec = 80
        return int((value * WAD).to_integral_value(rounding=ROUND_DOWN))


def _read_outside(
    r: Reader, source: Source, has_file: bool, prices: Series, impact_depth: int
) -> dict[str, Any]:
    """The outside venue's keys (MarketSpec's `outside`, `venue`, ...): open where the key says
    so, or, absent, where the price file has the venue's columns (VENUE_COLUMNS) and no closed
    market's impact is asked for (a non-zero `impact_depth`, the market before the venue)."""
    wanted = r.read("outside") if "outside" in r.table else None
    params = VenueParams(
        coefficient=_to_wad(r.read("impact_coefficient")),
        share=_to_wad(r.read("venue_share")),
        decay=r.read("impact_decay"),
        window=r.read("venue_window"),
    )
    if params.share == 0:
        raise r.fail("venue_share", "is below one part in 10^18")
    resale_delay = r.read("resale_delay")
    mark_bars = r.read("mark_bars")
    flash_route = r.read("flash_route")
    if "stable_price" in r.table and "stable_prices" in r.table:
        raise r.fail("stable_prices", "give a stable_price or a stable_prices CSV, not both")
    if "stable_prices" in r.table:
        series = _data(r, "stable_prices", source, load_stable_prices)
        if has_file:
            _check_overlap(r, series, prices)
        stable = StablePrice(tuple(zip(series.times, series.columns["price"])))
    else:
        price = _to_wad(r.read("stable_price"))
        if price == 0:  # (the schema's bound is > 0; 1e-30 is that, and 0 in wad)
            raise r.fail("stable_price", "is below one part in 10^18")
        stable = StablePrice.constant(price)
    open_only = OPEN_ONLY_KEYS
    if impact_depth and wanted == "open":
        raise r.fail(
            "impact_depth",
            "is the closed market's impact (market.outside is open: the venue moves the price)",
        )
    # what the data allows (a closed market given no reason keeps the data's)
    note = ""
    candles = None
    if impact_depth:
        note = "market.impact_depth asks for the closed market's price impact"
    elif not has_file:
        note = "a synthetic price path has no volume"
    elif wanted != "closed":  # (closed: the venue's columns are not read)
        try:
            candles = load_candles(file_path(r, "prices", source))
        except MissingColumns as exc:
            note = f"the price file has no venue data ({str(exc).rsplit(': ', 1)[-1]})"
        except DataError as exc:
            # a bad row of the venue's columns (a NaN high, a negative volume) closed the
            # market in silence, the run's first lines naming it without its line: refused
            raise ScenarioError(str(exc) if source.bare else f"{r.where}.prices: {exc}") from None
        if candles is not None and not any(candles.columns["volume_eth"]):
            # an open venue over no volume has no depth: the liquidations' sales went into it
            # as if it were one, in silence; no volume is no venue data (closed, and named)
            note = "the price file's volume_eth is 0 on every row (no volume to sell into)"
            candles = None
    if wanted == "closed" or candles is None:
        if wanted == "open":
            raise r.fail("outside", f"open needs the price file's high, low and volume_eth: {note}")
        given = [k for k in open_only if k in r.table]
        if given:
            why = "market.outside is closed" if wanted == "closed" else note
            raise r.fail(given[0], f"applies only to an open market ({why})")
        return {
            "outside": "closed",
            "outside_note": note if candles is None else "",
            "stable_price": stable,
            "mark_bars": mark_bars,
        }
    if candles.times != prices.times:
        raise r.fail("prices", "the venue's columns and the prices must come from the same rows")
    depths = depths_from_candles(
        candles.columns["high"], candles.columns["low"], candles.columns["volume_eth"], params
    )
    step = prices.times[1] - prices.times[0]
    return {
        "outside": "open",
        "volume_a_day": venue_volume_a_day(list(candles.columns["volume_eth"]), step, params.share),
        "venue": params,
        "depths": tuple(depths),
        "resale_delay": resale_delay,
        "stable_price": stable,
        "mark_bars": mark_bars,
        "flash_route": flash_route,
    }


def _unset_pool(
    r: Reader, outside: dict[str, Any], volume_a_day: int, prices: Series
) -> tuple[int, Decimal | None, str]:
    """The keepers' pool where the scenario gives neither a pool_depth nor a reserves CSV: its
    depth [wad], the share of the venue it came from (None: the schema's default depth) and,
    where the scenario chose neither, the run's first line saying where it came from. In an open
    market a share of the venue's volume a day (sim/market/liquidity.py), else the default."""
    if outside["outside"] != "open":
        depth = r.read("pool_depth")
        why = outside.get("outside_note") or "market.outside is closed"
        note = (
            f"the keepers' pool: {format_wad(depth)} a side, the schema's default pool_depth: "
            f"no reserves file, and a closed market ({why}) has no venue to take a share of"
        )
        return depth, None, note
    share = r.read("pool_share_of_venue")
    first = prices.columns["close"][0]
    depth = venue_pool_depth(volume_a_day, share, first)
    if depth <= 0:
        raise r.fail(
            "pool_share_of_venue",
            f"{share} gives an empty pool ({share} x the venue's volume a day "
            f"{format_wad(volume_a_day)} tokens x the first price {format_wad(first)} = 0)",
        )
    if "pool_share_of_venue" in r.table:
        return depth, share, ""
    cal = setting(POOL_SHARE)
    rows = " and ".join(format(Decimal(str(x)), "f") for x in cal.sensitivity)
    note = (
        f"the keepers' pool: {depth / WAD:,.0f} a side at the first price, {share} of the venue's "
        f"volume a day ({volume_a_day // WAD:,} tokens: the price file's volume_eth a day over "
        f"its share of the market), the share data/market/calibration.toml gives ({POOL_SHARE}, "
        f"{cal['kind']}: rows {rows}); the scenario gives no pool_depth or reserves CSV"
    )
    return depth, share, note


def _synthetic(r: Reader) -> SyntheticPath:
    """The path's keys (SyntheticPath's fields, named alike) as the schema states them."""
    kwargs: dict[str, Any] = {key.name: r.read(key.name) for key in SYNTHETIC}
    r.finish()
    try:
        return SyntheticPath(**kwargs)
    except DataError as exc:
        raise ScenarioError(f"{r.where}: {exc}") from None


def generate_prices(path: SyntheticPath, seed: int, where: str) -> Series:
    try:
        with localcontext() as ctx:
            # generate() quantizes prices to 18 decimals in the current context: at the default 28
            # digits a price above 1e10 raises InvalidOperation; below it the result is the same
            ctx.prec = 80
            return path.generate(seed)
    except DataError as exc:
        raise ScenarioError(f"{where}: {exc}") from None
