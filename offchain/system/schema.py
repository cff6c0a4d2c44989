"""The parameter schema: every key of the deployment config (config/devnet.toml) and of a
scenario file, stated once: the table it lives in, its kind, its bounds, its default, whether it
is a further collateral type's own (`[types.<name>]`; `key@TYPE` in a sweep grid) and whether a
sweep may vary it.

The loaders read through it: `config.Reader.read(name)` takes a key's checks (and its default,
when the file leaves it out) from the reader's table here, and a name that is not here is a
programming error (KeyError), never a silent second definition. What the schema cannot say as a
bound stays in the loaders: the rules between keys (oracle_max_age above oracle_delay, a ceiling
gap within its maximum, a vault population that starts safe), the conversions (a yearly fee to a
per-second rate, the penalty's grid), and a file's either/or (a price CSV or a synthetic path).
The sweep's grid names (offchain/sweep/spec.py) are derived from `sweep` and the tables' names;
the scenario's override tables and top-level tables (scenario/load.py) from the scenario's tables.

Values (defaults included) are written as a file writes them: amounts and ratios in human units,
as strings where a float would not be exact; the loaders scale them to the contracts' units.
Adding a parameter is one entry here, plus the loader's line that puts the value where it goes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum
from typing import Any

from offchain.model.backstop import DEFAULT_DELEVERAGE_BUFFER
from offchain.model.fee_accumulator import MAX_MULTIPLIER
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.price_curves import CurveKind
from offchain.model.timelock import MAX_DELAY, MAX_GRACE, MIN_GRACE, MIN_QUEUED_DELAY

# the prices Backstop is set up for, stablecoin per collateral unit (an initial price, a replay's
# path): the contracts' arithmetic is exact well beyond them, and a price outside them is a typo
MIN_PRICE = Decimal("0.000001")
MAX_PRICE = Decimal(10**12)
# any other amount (a ceiling, a capital, a reward; stablecoin or collateral units): a quadrillion
# at most, so that every product the contracts form stays far inside 256 bits
MAX_AMOUNT = Decimal(10**15)

GWEI = 10**9
MAX_SEED = 2**64 - 1
MAX_VAULTS = 100_000
MAX_DRAIN_BARS = 10_000  # about 70 days of 10-minute bars
DRAIN_HORIZON = 1_008  # the headline drain's default horizon: 7 days of 10-minute bars
# a keeper's gas budget in a bar: far above what any bar's blocks hold (a 30M-gas block every 12
# s is 1.5 billion gas in ten minutes), so that only a typo meets it
MAX_GAS_BUDGET = 10**12
DAY = 86400
WEEK = 7 * DAY
YEAR = 365 * DAY


class Kind(Enum):
    """How a key's value is read (config.Reader.read)."""

    INTEGER = "integer"  # an integer in [lo, hi]: a bare number or a string of digits ("25_000")
    AMOUNT = "amount"  # a decimal in [lo, hi] (hi None: MAX_AMOUNT) times `unit`, exactly
    DECIMAL = "decimal"  # a decimal in [lo, hi] (hi None: unbounded above)
    FLOAT = "float"  # a decimal in [lo, hi], as a float
    TEXT = "text"  # a string of at most max_len characters
    CHOICE = "choice"  # one of `choices`
    LAYERS = "layers"  # a waterfall order: a list of layer names (config.LAYERS)
    FILE = "file"  # a path, resolved by the loader (scenario.reader.file_path)
    TABLE = "table"  # a sub-table, read with its own table here
    TYPE = "type"  # a collateral type of the deployment config, by name


@dataclass(frozen=True)
class Key:
    """One parameter. `default` is the value an absent key takes, as a file writes it; None: the
    key is required, or its absence means something the loader says (a gas CSV instead of a
    constant, the synthetic path generator's own default, the file's name)."""

    name: str
    kind: Kind
    lo: Any = None  # int (INTEGER) or Decimal
    hi: Any = None
    lo_open: bool = False  # lo itself excluded
    unit: int = 1  # AMOUNT: the contracts' unit of one file unit (WAD, RAY, RAD, GWEI)
    below_one: bool = False  # also below 1 (after the range check: "must be below 1")
    choices: tuple[str, ...] = ()  # CHOICE
    max_len: int = 0  # TEXT
    allow_empty: bool = False  # TEXT
    default: Any = None
    sweep: bool = True  # a sweep may vary it (a grid name); False: it names or locates something
    curves: tuple[str, ...] = ()  # the auction curves that read it (CURVE_PARAMETERS)


@dataclass(frozen=True)
class Table:
    """The keys of one table, in its file's order. `name` is where the table is in its file
    ("market.synthetic"; "types" for each `[types.<name>]`)."""

    name: str
    keys: dict[str, Key] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Key:
        return self.keys[name]

    def __contains__(self, name: object) -> bool:
        return name in self.keys

    def __iter__(self) -> Iterator[Key]:
        return iter(self.keys.values())

    def defaults(self) -> dict[str, Any]:
        """The keys with a default, and their defaults (as a file writes them)."""
        return {k.name: k.default for k in self if k.default is not None}


def _table(name: str, *keys: Key, sweep: bool = True) -> Table:
    """A table of `keys`; `sweep=False`: none of them is a grid key."""
    return Table(name, {k.name: k if sweep else replace(k, sweep=False) for k in keys})


def _int(name: str, lo: int, hi: int, **kw: Any) -> Key:
    return Key(name, Kind.INTEGER, lo, hi, **kw)


def _amount(
    name: str, unit: int, lo: Decimal = Decimal(0), hi: Decimal | None = None, **kw: Any
) -> Key:
    return Key(name, Kind.AMOUNT, lo, hi, unit=unit, **kw)


def _decimal(name: str, lo: Decimal, hi: Decimal | None = None, **kw: Any) -> Key:
    return Key(name, Kind.DECIMAL, lo, hi, **kw)


def _float(name: str, lo: int, hi: int, **kw: Any) -> Key:
    return Key(name, Kind.FLOAT, Decimal(lo), Decimal(hi), **kw)


def _text(name: str, max_len: int, **kw: Any) -> Key:
    return Key(name, Kind.TEXT, max_len=max_len, sweep=False, **kw)


def _other(name: str, kind: Kind, **kw: Any) -> Key:
    return Key(name, kind, sweep=False, **kw)


_LINEAR, _STAIRSTEP, _EXPONENTIAL = (kind.label for kind in CurveKind)

# ---------------------------------------------------------------- the deployment config

# the deployment's system-wide keys, and the waterfall's below: a scenario cannot override them
# (a config file per value, as a scenario's protocol.config, sweeps them)
SYSTEM = _table(
    "system",
    _text("stablecoin_name", 25),
    _text("stablecoin_symbol", 5),
    _amount("global_debt_ceiling", RAD),
    _amount("max_debt_in_auction", RAD),
    _int("backstop_queue_delay", 0, YEAR),
    sweep=False,
)

# a collateral type ([[collateral]]); a scenario overrides its keys in
# [protocol.collateral_overrides], but the initial price (the path's first) and the pool depth
# (the market's): the sweep varies those there
COLLATERAL = _table(
    "collateral",
    _text("name", 32),
    _text("token_name", 25),
    _text("token_symbol", 5),
    _int("token_decimals", 0, 18, sweep=False),
    _amount("initial_price", WAD, MIN_PRICE, MAX_PRICE, sweep=False),
    _amount("liquidation_ratio", RAY, Decimal(1), Decimal(100)),
    # the size-aware margin (VaultEngine.set_size_margin): above `size_threshold` of debt
    # [stablecoin] a vault's ratio is liquidation_ratio x (1 + `size_slope` per further
    # threshold, at most `size_cap`); size_threshold 0 (the default): off
    _int("size_threshold", 0, 2**48 - 1, default=0),
    _amount("size_slope", 10**6, Decimal(0), Decimal(1), default=0),
    _amount("size_cap", 10**6, Decimal(0), Decimal(1), default=0),
    # the margin call (MarginCall.set_parameters): a vault safe at liquidation_ratio but not at
    # liquidation_ratio x `margin_warning_factor` is called; an opted-in owner's called vault may
    # be soft-liquidated, at most `margin_close_factor` of its debt a call, for collateral worth
    # the debt x (1 + `margin_bonus`); `margin_call` "off": the type has none. The bounds are
    # the contract's (docs/margin-call.md)
    Key("margin_call", Kind.CHOICE, choices=("on", "off"), default="on"),
    _amount("margin_warning_factor", RAY, Decimal(1), Decimal("1.5"), lo_open=True, default="1.2"),
    _amount("margin_bonus", WAD, Decimal(0), Decimal("0.05"), default="0.02"),
    _amount("margin_close_factor", WAD, Decimal(0), Decimal("0.5"), lo_open=True, default="0.5"),
    _amount("debt_ceiling", RAD),
    _amount("dust", RAD),
    _decimal("stability_fee", Decimal(0), Decimal(10)),  # yearly; within the contract's maximum
    _amount("fee_kink", WAD, Decimal(0), Decimal(1), below_one=True),
    _amount("fee_max_multiplier", WAD, Decimal(1), Decimal(MAX_MULTIPLIER // WAD)),
    _int("oracle_delay", 1, 30 * DAY),
    _int("oracle_max_age", 1, YEAR),  # above oracle_delay
    _amount("oracle_max_change", WAD, Decimal(0), Decimal(10), lo_open=True),
    _amount("ceiling_max", RAD, lo_open=True),
    _amount("ceiling_gap", RAD, lo_open=True),  # at most ceiling_max
    _int("ceiling_cooldown", 0, YEAR),
    _decimal("liquidation_penalty", Decimal(1), Decimal(2)),  # a multiple of 1e-7
    _amount("auction_cap", RAD),
    _amount("auction_buffer", RAY, Decimal(1), Decimal(10)),
    _int("auction_max_duration", 1, 30 * DAY),
    _amount("auction_max_drop", RAY, Decimal(0), Decimal(1), below_one=True),
    Key("auction_curve", Kind.CHOICE, choices=tuple(kind.label for kind in CurveKind)),
    _int("auction_curve_duration", 1, 30 * DAY, curves=(_LINEAR,)),
    _int("auction_curve_step", 1, DAY, curves=(_STAIRSTEP,)),
    _amount(
        "auction_curve_cut",
        RAY,
        Decimal(0),
        Decimal(1),
        below_one=True,
        curves=(_STAIRSTEP, _EXPONENTIAL),
    ),
    _amount("keeper_reward_rate", WAD, Decimal(0), Decimal("0.1")),
    _amount("keeper_reward_flat", RAD),  # with the rate, within the penalty income at dust
    _amount("pool_depth", WAD, lo_open=True, sweep=False),
    _amount("pool_fee", WAD, Decimal(0), Decimal("0.1")),
)

# the loss waterfall's layers and parameters ([backstop] of the config; every key, or none)
# (config.WaterfallConfig's fields, named alike; the scenario's protocol.waterfall is swept)
WATERFALL = _table(
    "backstop",
    Key("waterfall", Kind.LAYERS),
    _amount("surplus_buffer", RAD),
    _amount("surplus_lot", RAD, lo_open=True),
    _amount("debt_auction_bid", RAD, lo_open=True),
    _amount("debt_auction_initial_lot", WAD, lo_open=True),
    _amount("debt_auction_min_decrease", WAD, Decimal(1), Decimal("1.5"), lo_open=True),
    _amount("debt_auction_lot_growth", WAD, Decimal(1), Decimal(10)),
    _amount("surplus_auction_min_increase", WAD, Decimal(1), Decimal("1.5"), lo_open=True),
    _int("auction_bid_duration", 600, WEEK),
    _int("auction_duration", 600, 4 * WEEK),
    _int("pool_cooldown", 0, 52 * WEEK),
    _int("pool_exit_window", 1, 52 * WEEK),
    _amount("pool_fee_share", WAD, Decimal(0), Decimal(1)),
    # the most each accrual pays the pool: its assets x this x the accrual's seconds / a year
    _amount("pool_max_yield", WAD, Decimal(0), Decimal(10), lo_open=True),
    _int("settlement_wait", 0, 52 * WEEK),
    # the deleveraging layer's margin: a charged vault keeps (1 + this) x its requirement
    # (Backstop.set_deleverage_buffer, at most 1); absent, the contract's own default, which the
    # deployment then leaves as it is
    _amount(
        "deleverage_buffer",
        WAD,
        Decimal(0),
        Decimal(1),
        default=str(Decimal(DEFAULT_DELEVERAGE_BUFFER) / WAD),
    ),
    _text("governance_token_name", 25),
    _text("governance_token_symbol", 5),
    sweep=False,
)

# governance's queue (contracts/Timelock.vy, docs/governance.md), optional: with it, a live
# deployment (`ape run deploy`, `ape run devnet`) hands every admin right to a Timelock, so each
# privileged change waits `timelock_delay`. The delay's floor is the one the Timelock keeps for a
# delay set through its own queue (0 is for tests, which deploy the Timelock themselves). The
# lab's runs deploy without it: their parameters are fixed once deployed.
GOVERNANCE = _table(
    "governance",
    _int("timelock_delay", MIN_QUEUED_DELAY, MAX_DELAY),
    _int("timelock_grace", MIN_GRACE, MAX_GRACE, default=WEEK),
    # the EMERGENCY role's holder (an address, "0x" and 40 hex digits): shutdown, an oracle's
    # void, an auction house's stop without the delay; it may also cancel a queued proposal
    _text("guardian", 42, allow_empty=True, default=""),
    sweep=False,
)

CONFIG_TABLES = (SYSTEM, COLLATERAL, WATERFALL, GOVERNANCE)

# ---------------------------------------------------------------- a scenario file

SCENARIO = _table(
    "scenario",
    _text("name", 64),  # default: the file's name
    _text("description", 1000, allow_empty=True),
    _int("seed", 0, MAX_SEED, default=0, sweep=False),
)

MARKET = _table(
    "market",
    _other("prices", Kind.FILE),  # or [market.synthetic]
    _other("synthetic", Kind.TABLE),
    _other("gas", Kind.FILE),  # or gas_gwei
    _amount("gas_gwei", GWEI, Decimal(0), Decimal(100_000), default=30),
    _other("reserves", Kind.FILE),  # or pool_depth
    _decimal("reserves_scale", Decimal(0), Decimal(1000), lo_open=True, default=1),
    # how the pool's depth follows a reserves file: `per_bar` (sim/market/liquidity.py) or
    # `first_row` (a constant pool_depth from the file's first row: the mechanism before per-bar
    # reserves)
    Key(
        "reserves_depth",
        Kind.CHOICE,
        choices=("per_bar", "first_row"),
        default="per_bar",
        sweep=False,
    ),
    _amount("pool_depth", WAD, lo_open=True, default="1_000_000"),
    # without a pool_depth or a reserves CSV, in an open market: the keepers' pool's collateral
    # reserve as a share of the venue's volume a day (sim/market/liquidity.py, venue_pool_depth;
    # data/market/calibration.toml sources the default); a closed market keeps pool_depth's
    _decimal("pool_share_of_venue", Decimal(0), Decimal(1), lo_open=True, default="0.00013"),
    _int("tail_bars", 0, 1000, default=36),
    _int("drain_bars", 0, MAX_DRAIN_BARS, default=0),
    # the headline's drain (sim/run/drain.py): after the run, its own keepers go on at the last
    # price, unrecorded, until every auction clears or this many bars after the path's tail have
    # passed (recorded drain bars count); 0: none, the headline is the end-of-run mark
    _int("drain_horizon", 0, MAX_DRAIN_BARS, default=DRAIN_HORIZON),
    # the day's block gas limit [gas]: a keeper's transaction with a higher limit is refused (no
    # block holds it), the liquidation keeper sizes its batches within it, and the bar's blocks
    # hold what market/blockspace.py says (sim/run/sending.py); 0: no limit, as the lab's Anvil
    # (--disable-block-gas-limit)
    _int("block_gas_limit", 0, 10**12, default=0),
    _amount("impact_depth", WAD, default=0),
    _int("impact_half_life", 1, 30 * DAY, default=3600),
    # seconds from the first bar to the oracle's first poke (sim/scenario/timeline.py); below the
    # oracle delay (checked by the scenario's loader); absent: the default phase, drawn in a sweep
    _int("oracle_phase", 0, 30 * DAY),
    # what --vaults does to the market's depth (the pools, impact_depth, the arbitrageur's
    # capital): "fixed", a bigger protocol sells into the same market (the scale risk), or
    # "scaled" with the population, for comparison (sim/scenario/ceilings.py)
    Key(
        "depth_with_vaults",
        Kind.CHOICE,
        choices=("fixed", "scaled"),
        default="fixed",
        sweep=False,
    ),
    # the outside venue (sim/market/outside.py, venue.py): "open", collateral bought in auctions
    # leaves through a venue whose depth follows the price file's high, low and volume_eth, and
    # keepers' stablecoin comes back; "closed", the market before it (the keepers' pool is the
    # only depth). Absent: open where the price file has those columns, closed otherwise (said
    # in the run's first lines)
    Key("outside", Kind.CHOICE, choices=("open", "closed")),
    # the square-root law's prefactor Y, the price file's share of the whole market's volume,
    # the decay time of a flow's weight [s] and the bars of trailing data a bar's depth reads
    # (data/market/calibration.toml sources each default)
    _decimal("impact_coefficient", Decimal(0), Decimal(10), default="0.7"),
    _decimal("venue_share", Decimal(0), Decimal(1), lo_open=True, default="0.015"),
    _int("impact_decay", 1, 30 * DAY, default=600),
    _int("venue_window", 1, 1000, default=6),
    # how long a capital taker holds collateral before it is resold on the venue [s]
    _int("resale_delay", 0, 30 * DAY, default=3600),
    # the stablecoin's price in dollars: a constant, or a CSV of time_utc, price
    _decimal("stable_price", Decimal(0), Decimal(100), lo_open=True, default="1"),
    _other("stable_prices", Kind.FILE),
    # bars over which the end-of-run mark sells the open book on the venue
    _int("mark_bars", 1, MAX_DRAIN_BARS, default=36),
    # where a flash take may sell its lot in an open market (sim/market/flash_venue.py): "best",
    # into the keepers' pool or on the outside venue, whichever pays more (an OutsideVenue on
    # chain, inside the take); "pool", the pool only (the lab before the venue route)
    Key("flash_route", Kind.CHOICE, choices=("best", "pool"), default="best"),
    # the day's block space (sim/market/blockspace.py; with a block_gas_limit): mean seconds per
    # block, the share of block gas other traffic uses (absent: 13.1 s and 0.8,
    # sim/scenario/market.py)
    _decimal("block_time", Decimal(1), Decimal(3600)),
    _decimal("competing_gas_share", Decimal(0), Decimal(1)),
)

# a synthetic price path (market_data.SyntheticPath, whose defaults these are): geometric Brownian
# motion with jumps, drift and volatility a year, jumps' log-size ~ N(jump_mean, jump_std)
SYNTHETIC = _table(
    "market.synthetic",
    _decimal("start_price", Decimal(0), MAX_PRICE, lo_open=True),
    _int("steps", 2, 100_000),
    _int("step_seconds", 1, DAY, default=600),
    _int("start_time", 0, 2**40, default=1_600_000_000, sweep=False),
    _float("drift", -100, 100, default="0"),
    _float("volatility", 0, 100, default="0.8"),
    _float("jumps_per_day", 0, 10_000, default="1"),
    _float("jump_mean", -10, 10, default="-0.08"),
    _float("jump_std", 0, 10, default="0.05"),
)

VAULTS = _table(
    "vaults",
    # a CSV of the vaults (scenario/book.py: collateral, debt), instead of the draw's keys below
    # (count, debt_median, debt_sigma, ratio_*): the first type's only
    _other("book", Kind.FILE),
    _int("count", 1, MAX_VAULTS, default=200),
    _amount("debt_median", WAD, lo_open=True, default="8000"),  # above the type's dust
    _float("debt_sigma", 0, 5, default=0.9),
    # the start collateral ratios: above the liquidation ratio, min <= mode <= max
    _decimal("ratio_min", Decimal(1), Decimal(1000), default="1.6"),
    _decimal("ratio_mode", Decimal(1), Decimal(1000), default="2.0"),
    _decimal("ratio_max", Decimal(1), Decimal(1000), default="4.0"),
    # the share of the vaults whose owners opt in to soft liquidation (MarginCall.opt_in and
    # VaultEngine.allow of the MarginCall), spread evenly over the population; 0: none
    _decimal("opt_in_share", Decimal(0), Decimal(1), default="0"),
)

_GAS_BID: dict[str, Any] = {"lo_open": True, "default": 100}
KEEPERS = _table(
    "keepers",
    _amount("liquidation_gas_gwei", GWEI, Decimal(0), Decimal(100_000), **_GAS_BID),
    _amount("taker_gas_gwei", GWEI, Decimal(0), Decimal(100_000), **_GAS_BID),
    _amount("backstop_gas_gwei", GWEI, Decimal(0), Decimal(100_000), **_GAS_BID),
    Key("taker_mode", Kind.CHOICE, choices=("flash", "capital", "both"), default="flash"),
    _amount("taker_capital", WAD, default="0"),  # above 0 for the capital modes
    _amount("arbitrage_threshold", WAD, Decimal(0), Decimal(1), below_one=True, default="0.005"),
    _amount("take_min_profit", WAD, default="50"),
    _amount("arbitrageur_capital", WAD, default="2_000_000"),
    _amount("debt_auction_capital", WAD, default="500_000"),
    # how the keepers price their gas (offchain/sim/strategies/gas_strategy.py): "market" (a
    # percentile of the bar's gas, raised after a drop, capped by the action's value) or "fixed"
    # (the `*_gas_gwei` bids whatever the market does); the market strategy's percentile (30 or 60);
    # the role priced out on purpose, which keeps its fixed bid (a named stress; a grid key)
    Key("gas_strategy", Kind.CHOICE, choices=("market", "fixed"), default="market"),
    _int("gas_percentile", 30, 60, default=60),
    Key(
        "priced_out",
        Kind.CHOICE,
        choices=("none", "liquidation", "taker", "backstop", "soft_liquidation"),
        default="none",
    ),
    # gas a keeper may spend in a bar over every collateral type
    # (offchain/sim/strategies/gas_budget.py); 0: no budget. The loader refuses one below the
    # keeper's costliest transaction
    _int("liquidation_gas_budget", 0, MAX_GAS_BUDGET, default=0),
    _int("taker_gas_budget", 0, MAX_GAS_BUDGET, default=0),
    _int("backstop_gas_budget", 0, MAX_GAS_BUDGET, default=0),
    # the soft liquidator (offchain/sim/strategies/soft_liquidator.py), which runs when some vaults
    # opted in: its gas bid, its stablecoin (drawn at the set-up), the profit after gas below which
    # it waits, how much it repays, its gas budget a bar (0: none)
    _amount("soft_liquidation_gas_gwei", GWEI, Decimal(0), Decimal(100_000), **_GAS_BID),
    _amount("soft_liquidation_capital", WAD, default="1_000_000"),
    _amount("soft_liquidation_min_profit", WAD, default="10"),
    # how much it repays: "middle", the least cure + half its 1 bp tolerance (survives one
    # transaction between its read and its call, either way); "least", the least that cures
    # the vault (or pays its gas); or "most", the most the MarginCall accepts: the least cure +
    # its tolerance (the most bonus a caller can take: docs/margin-call-lab.md)
    Key(
        "soft_liquidation_repay",
        Kind.CHOICE,
        choices=("middle", "least", "most"),
        default="middle",
    ),
    _int("soft_liquidation_gas_budget", 0, MAX_GAS_BUDGET, default=0),
)

BACKSTOP = _table(
    "backstop",
    _amount("insurance_fund", WAD, default="100_000"),
    _int("pool_stakers", 0, 50, default=4),
    _amount("pool_stake", WAD, default="250_000"),
)

PROTOCOL = _table(
    "protocol",
    _other("config", Kind.FILE),  # default: config/devnet.toml
    _other("collateral", Kind.TYPE),  # default: the config's first type
    _other("collateral_overrides", Kind.TABLE),
    Key("waterfall", Kind.LAYERS),  # default: the config's
    # the config's [backstop] deleverage_buffer, for this scenario (a grid key)
    _amount("deleverage_buffer", WAD, Decimal(0), Decimal(1)),  # default: the config's
)

# the first type's parameters, over the config's
COLLATERAL_OVERRIDES = Table("protocol.collateral_overrides", COLLATERAL.keys)

# a further collateral type of the same crash (each [types.<name>]): its pool and market impact
# (the market's keys), its path's one-factor loading on the first type's (correlated.OneFactor,
# whose defaults these are), and its vault population (the [vaults] keys); `key@TYPE` in a grid
TYPES = _table(
    "types",
    MARKET["pool_depth"],
    _float("beta", 0, 10, lo_open=True, default="1"),
    _float("correlation", 0, 1, lo_open=True, default="0.8"),
    *(replace(SYNTHETIC[name], default="0") for name in ("jumps_per_day", "jump_mean", "jump_std")),
    MARKET["impact_depth"],
    MARKET["impact_half_life"],
    *VAULTS,
)

# in a scenario file's order; the first-level ones are its tables
SCENARIO_TABLES = (
    SCENARIO,
    MARKET,
    SYNTHETIC,
    VAULTS,
    KEEPERS,
    BACKSTOP,
    PROTOCOL,
    COLLATERAL_OVERRIDES,
    TYPES,
)


# the keys each auction curve reads; a type's table holds those of its own curve only
CURVE_PARAMETERS: dict[str, tuple[str, ...]] = {
    kind.label: tuple(k.name for k in COLLATERAL if kind.label in k.curves) for kind in CurveKind
}
