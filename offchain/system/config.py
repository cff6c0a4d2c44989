"""The typed, validated deployment configuration (config/devnet.toml).

Human units in the file (whole stablecoins, ratios, yearly fees) become the contracts' integer
units here, once, exactly: ratios and amounts by exact decimal scaling, the yearly fee by a
50-digit root rounded down to the per-second ray. Nothing downstream sees a float or Decimal.
Every mistake is reported as one `ConfigError` line naming the file, the field and the problem.
Each key's kind, bounds and default are the parameter schema's (schema.py): `Reader.read`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, InvalidOperation, localcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from offchain.model.backstop import DEFAULT_DELEVERAGE_BUFFER, MAX_LAYERS, ORDERABLE_LAYERS, Layer
from offchain.model.dutch_auction import GUARDIAN_STOP_LIMIT
from offchain.model.fee_accumulator import MAX_BASE_FEE
from offchain.model.fixed_point import PENALTY_STEP, RAD, RAY, WAD, WAD_TO_RAY
from offchain.model.price_curves import CurveKind
from offchain.system.files import OutOfRange, directory_named, read_mapping
from offchain.system.schema import (
    COLLATERAL,
    GOVERNANCE,
    MAX_AMOUNT,
    SYSTEM,
    WATERFALL,
    Key,
    Kind,
    Table,
)

SECONDS_PER_YEAR = 365 * 24 * 3600
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "config" / "devnet.toml"
# an integer written as a string ("25000", "25_000"), as amounts may be (config/devnet.toml: "as
# decimal strings or numbers"): taken exactly; a longer one is out of every key's range anyway
INTEGER_TEXT = re.compile(r"[+-]?[0-9]{1,30}(_[0-9]{1,30})*")
# an underscore not between two digits: "_20_000_000", "3__000_000", "1_" (Python's own rule)
MISPLACED_UNDERSCORE = re.compile(r"(?<![0-9])_|_(?![0-9])")


class ConfigError(ValueError):
    """A configuration mistake; the message is one line naming the field."""


@dataclass(frozen=True)
class CollateralConfig:
    name: str
    type_id: bytes  # bytes32
    token_name: str
    token_symbol: str
    token_decimals: int
    initial_price: int  # wad
    liquidation_ratio: int  # ray
    debt_ceiling: int  # rad
    dust: int  # rad
    base_fee: int  # per-second ray
    fee_kink: int  # wad
    fee_max_multiplier: int  # wad
    oracle_delay: int  # seconds
    oracle_max_age: int  # seconds
    oracle_max_change: int  # wad: the most a post may move from the queued price
    ceiling_max: int  # rad
    ceiling_gap: int  # rad
    ceiling_cooldown: int  # seconds
    liquidation_penalty: int  # wad
    auction_cap: int  # rad
    auction_buffer: int  # ray
    auction_max_duration: int  # seconds
    auction_max_drop: int  # ray
    auction_curve: tuple[int, int, int, int]  # (kind, duration, step, cut) as price_curves.Curve
    keeper_reward_rate: int  # wad
    keeper_reward_flat: int  # rad
    pool_depth: int  # wad of stablecoin
    pool_fee: int  # wad
    # the size-aware margin (VaultEngine.set_size_margin; all 0: off)
    size_threshold: int = 0  # whole stablecoin units
    size_slope: int = 0  # ppm of the base ratio per further threshold
    size_cap: int = 0  # ppm of the base ratio
    # the margin call (MarginCall.set_parameters; docs/margin-call.md); margin_call False: the
    # type has none (no parameters set)
    margin_call: bool = True
    margin_warning_factor: int = 12 * RAY // 10  # ray, in (1, 1.5]
    margin_bonus: int = 2 * WAD // 100  # wad, in [0, 0.05]
    margin_close_factor: int = WAD // 2  # wad, in (0, 0.5]

    @property
    def size_margin(self) -> tuple[int, int, int]:
        """(threshold, slope, cap) as VaultEngine.set_size_margin takes them; all 0: off."""
        return self.size_threshold, self.size_slope, self.size_cap

    @property
    def margin_parameters(self) -> tuple[int, int, int] | None:
        """(warning factor [ray], bonus [wad], close factor [wad]) as MarginCall.set_parameters
        takes them; None: the type has no margin calls."""
        if not self.margin_call:
            return None
        return self.margin_warning_factor, self.margin_bonus, self.margin_close_factor


# layer names of the waterfall, as in Backstop.vy (SETTLEMENT = 5 is implicit after shutdown)
LAYERS = ORDERABLE_LAYERS  # label -> layer id


@dataclass(frozen=True)
class WaterfallConfig:
    """The loss waterfall's layers and parameters (the optional [backstop] table)."""

    order: tuple[int, ...] = tuple(Layer)[:4]  # layer ids, see LAYERS
    surplus_buffer: int = 500_000 * RAD  # rad
    surplus_lot: int = 10_000 * RAD  # rad
    debt_auction_bid: int = 50_000 * RAD  # rad
    debt_auction_initial_lot: int = 250 * WAD  # wad of governance token
    debt_auction_min_decrease: int = 105 * WAD // 100  # wad
    debt_auction_lot_growth: int = 150 * WAD // 100  # wad
    surplus_auction_min_increase: int = 105 * WAD // 100  # wad
    auction_bid_duration: int = 3 * 3600  # seconds
    auction_duration: int = 2 * 86400  # seconds
    pool_cooldown: int = 7 * 86400  # seconds
    pool_exit_window: int = 3 * 86400  # seconds a matured withdrawal request stays valid
    pool_fee_share: int = WAD // 4  # wad
    # the most each accrual pays the pool: its assets x this x the accrual's seconds / a year
    # (FeeAccumulator.set_pool_max_yield; finding 31-7) [wad per year]
    pool_max_yield: int = WAD // 5
    settlement_wait: int = 86400  # seconds
    # a vault the deleveraging layer charges keeps (1 + this) x its requirement [wad]
    deleverage_buffer: int = DEFAULT_DELEVERAGE_BUFFER
    governance_token_name: str = "Backstop Governance"
    governance_token_symbol: str = "BSG"


@dataclass(frozen=True)
class GovernanceConfig:
    """Governance's queue (the optional [governance] table): a live deployment makes a Timelock
    with these the only admin (offchain/system/deployment.py, `hand_to_timelock`)."""

    delay: int  # seconds a proposal waits before it can run
    grace: int  # seconds after that in which it can run
    guardian: str = ""  # the EMERGENCY role's holder, checksummed ("": none)


@dataclass(frozen=True)
class SystemConfig:
    stablecoin_name: str
    stablecoin_symbol: str
    global_debt_ceiling: int  # rad
    max_debt_in_auction: int  # rad
    backstop_queue_delay: int  # seconds
    collateral: tuple[CollateralConfig, ...]
    waterfall: WaterfallConfig = WaterfallConfig()
    governance: GovernanceConfig | None = None  # None: the deployer stays the direct admin


def type_id(name: str) -> bytes:
    """A collateral type's id: its name, UTF-8, right-padded to 32 bytes (as dss ilks)."""
    raw = name.encode()
    if not raw or len(raw) > 32:
        raise ConfigError(f"collateral name {name!r} must be 1 to 32 bytes")
    return raw.ljust(32, b"\0")


def yearly_to_per_second(fee: Decimal) -> int:
    """(1 + fee) ** (1 / year) as a ray, rounded down (the protocol states the fee it charges)."""
    # a local context: Vyper, compiling in this process, refuses a changed global precision
    with localcontext() as ctx:
        ctx.prec = 60
        factor = (Decimal(1) + fee) ** (Decimal(1) / Decimal(SECONDS_PER_YEAR))
        return int((factor * RAY).to_integral_value(rounding=ROUND_DOWN))


def per_second_to_yearly(base_fee: int, places: int = 10) -> Decimal:
    """The yearly fee a per-second factor (ray) charges, (factor) ** year - 1, to `places`
    decimals: yearly_to_per_second read back (its rounding down moves a fee by less than 1e-18
    a year), for what a reader is shown."""
    with localcontext() as ctx:
        ctx.prec = 60
        yearly = (Decimal(base_fee) / RAY) ** SECONDS_PER_YEAR - 1
        return yearly.quantize(Decimal(1).scaleb(-places)).normalize()


class Reader:
    """The keys of one table of a file, each read at most once and checked; `finish` refuses the
    keys nobody read. `schema`: the table's keys in the parameter schema, for `read`."""

    def __init__(self, where: str, table: dict[str, Any], schema: Table | None = None):
        self.where = where
        self.table = table
        self.schema = schema
        self.used: set[str] = set()

    def fail(self, key: str, problem: str) -> ConfigError:
        # a file's top level reads `<file>: <key>` (its where ends with ":"), a table's
        # `<file>: <table>.<key>`
        sep = " " if self.where.endswith(":") else "."
        return ConfigError(f"{self.where}{sep}{key}: {problem}")

    def raw(self, key: str) -> Any:
        if key not in self.table:
            raise self.fail(key, "missing")
        self.used.add(key)
        return self.table[key]

    def text(self, key: str, max_len: int, allow_empty: bool = False) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or (not value and not allow_empty) or len(value) > max_len:
            raise self.fail(
                key,
                f"must be a {'' if allow_empty else 'non-empty '}string of at most {max_len} "
                "characters",
            )
        return value

    def integer(self, key: str, lo: int, hi: int) -> int:
        value = self.raw(key)
        number = value
        if isinstance(value, str) and INTEGER_TEXT.fullmatch(value.strip()):
            number = int(value.strip().replace("_", ""))  # "25000" is 25000, as amounts are
        if isinstance(number, bool) or not isinstance(number, int) or not lo <= number <= hi:
            raise self.fail(key, f"must be an integer between {lo} and {hi}, got {value!r}")
        return number

    def decimal(
        self, key: str, lo: Decimal, hi: Decimal | None = None, lo_open: bool = False
    ) -> Decimal:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.fail(key, f"must be a number, got {value!r}")
        if isinstance(value, str) and MISPLACED_UNDERSCORE.search(value.strip()):
            raise self.fail(
                key, f"is not a number: {value!r} (underscores go between digits: 20_000_000)"
            )
        try:
            number = Decimal(str(value).replace("_", ""))
        except InvalidOperation:
            raise self.fail(key, f"is not a number: {value!r}") from None
        if not number.is_finite():
            raise self.fail(key, f"must be finite, got {value!r}")
        if number < lo or (lo_open and number == lo) or (hi is not None and number > hi):
            bound = f"{'>' if lo_open else '>='} {lo}" + (f" and <= {hi}" if hi is not None else "")
            raise self.fail(key, f"must be {bound}, got {value!r}")
        return number

    def scaled(
        self,
        key: str,
        unit: int,
        lo: Decimal = Decimal(0),
        hi: Decimal | None = None,
        lo_open: bool = False,
    ) -> int:
        number = self.decimal(key, lo, MAX_AMOUNT if hi is None else hi, lo_open)
        # as a Fraction, exactly: a Decimal product is rounded to 28 digits, which turned a ray
        # amount finer than the unit ("1.2", 26 zeros and a "1") into whole units unrefused
        scaled = Fraction(number) * unit
        if scaled.denominator != 1:
            raise self.fail(key, f"has more precision than the unit allows: {number}")
        return int(scaled)

    def read(self, name: str) -> Any:
        """Key `name` as the schema states it (its kind, bounds and, when the table leaves it
        out, its default): an int, a scaled int (AMOUNT), a Decimal, a float or a str. A name
        the schema lacks is a KeyError: the loader reads only what the schema states."""
        assert self.schema is not None, f"{self.where}: a reader without a schema"
        key = self.schema[name]
        if name not in self.table and key.default is not None:
            self.used.add(name)
            return Reader(self.where, {name: key.default}, self.schema).read(name)
        return self.checked(key)

    def checked(self, key: Key) -> Any:
        """This table's value of `key`, checked as `key` says."""
        name = key.name
        if key.kind is Kind.INTEGER:
            return self.integer(name, key.lo, key.hi)
        if key.kind is Kind.AMOUNT:
            value = self.scaled(name, key.unit, key.lo, key.hi, key.lo_open)
            if key.below_one and value >= key.unit:
                raise self.fail(name, "must be below 1")
            return value
        if key.kind is Kind.DECIMAL:
            return self.decimal(name, key.lo, key.hi, key.lo_open)
        if key.kind is Kind.FLOAT:
            return float(self.decimal(name, key.lo, key.hi, key.lo_open))
        if key.kind is Kind.TEXT:
            return self.text(name, key.max_len, key.allow_empty)
        if key.kind is Kind.CHOICE:
            value = self.raw(name)
            if not isinstance(value, str) or value not in key.choices:
                raise self.fail(name, f"must be one of {', '.join(key.choices)}, got {value!r}")
            return value
        if key.kind is Kind.LAYERS:
            return layer_ids(self.raw(name), f"{self.where}.{name}")
        raise AssertionError(f"{self.where}.{name}: a {key.kind.value} is read by its loader")

    def finish(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise ConfigError(f"{self.where.rstrip(':')}: unknown key {unknown[0]!r}")


def _penalty(r: Reader) -> int:
    """The liquidation penalty [wad]: 1 to 2, a multiple of 1e-7 (Liquidator.configure_type's
    grid: a running loss event keeps it in 24 bits of its one-word record)."""
    penalty = r.read("liquidation_penalty")
    steps = (penalty - 1) * (WAD // PENALTY_STEP)
    if steps != steps.to_integral_value():
        raise r.fail("liquidation_penalty", f"must be a multiple of 0.0000001, got {penalty}")
    return WAD + int(steps) * PENALTY_STEP


def read_collateral(where: str, table: Any) -> CollateralConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    r = Reader(where, table, COLLATERAL)
    name = r.read("name")
    decimals = r.read("token_decimals")
    delay = r.read("oracle_delay")
    max_age = r.read("oracle_max_age")
    if max_age <= delay:
        raise r.fail("oracle_max_age", f"must be above oracle_delay ({delay}), got {max_age}")
    base_fee = yearly_to_per_second(r.read("stability_fee"))
    if base_fee > MAX_BASE_FEE:
        raise r.fail("stability_fee", "is above the contract's maximum (~1000% a year)")
    kink = r.read("fee_kink")
    max_mult = r.read("fee_max_multiplier")
    ceiling_max = r.read("ceiling_max")
    ceiling_gap = r.read("ceiling_gap")
    if ceiling_gap > ceiling_max:
        raise r.fail("ceiling_gap", "must not exceed ceiling_max")
    size = (r.read("size_threshold"), r.read("size_slope"), r.read("size_cap"))
    if size[0] == 0:
        size = (0, 0, 0)  # no threshold: no size margin (a sweep may turn it off this way)
    elif 0 in size:
        raise r.fail(
            "size_slope" if size[1] == 0 else "size_cap",
            "must be above 0 with a size_threshold (size_threshold 0 turns the size margin off)",
        )
    if size[0] and size[0] * RAD < r.read("dust"):
        # the engine refuses it too (issue 45, finding 4): a size cut leaves at least the dust
        raise r.fail("size_threshold", "must be at least the dust (a size cut leaves the dust)")
    cfg = CollateralConfig(
        name=name,
        type_id=type_id(name),
        token_name=r.read("token_name"),
        token_symbol=r.read("token_symbol"),
        token_decimals=decimals,
        initial_price=r.read("initial_price"),
        liquidation_ratio=r.read("liquidation_ratio"),
        debt_ceiling=r.read("debt_ceiling"),
        dust=r.read("dust"),
        base_fee=base_fee,
        fee_kink=kink,
        fee_max_multiplier=max_mult,
        oracle_delay=delay,
        oracle_max_age=max_age,
        oracle_max_change=r.read("oracle_max_change"),
        ceiling_max=ceiling_max,
        ceiling_gap=ceiling_gap,
        ceiling_cooldown=r.read("ceiling_cooldown"),
        liquidation_penalty=_penalty(r),
        auction_cap=r.read("auction_cap"),
        auction_buffer=r.read("auction_buffer"),
        auction_max_duration=r.read("auction_max_duration"),
        auction_max_drop=r.read("auction_max_drop"),
        auction_curve=_curve(r),
        keeper_reward_rate=r.read("keeper_reward_rate"),
        keeper_reward_flat=r.read("keeper_reward_flat"),
        pool_depth=r.read("pool_depth"),
        pool_fee=r.read("pool_fee"),
        size_threshold=size[0],
        size_slope=size[1],
        size_cap=size[2],
        margin_call=r.read("margin_call") == "on",
        margin_warning_factor=r.read("margin_warning_factor"),
        margin_bonus=r.read("margin_bonus"),
        margin_close_factor=r.read("margin_close_factor"),
    )
    # a keeper reward must not exceed what a dust-size auction earns (its penalty income), or
    # liquidating one's own dust vault would pay (self-liquidation farming). The auction caps
    # every reward at half that income (DutchAuction.MAX_REWARD_SHARE, issue 31), which binds
    # first: at the devnet dust a dust-size auction pays 162.5 of its 300 + 0.1%. This check
    # only rejects configurations whose flat reward could never be paid in full
    tab = cfg.dust * cfg.liquidation_penalty // WAD
    income = tab - -(-tab * WAD // cfg.liquidation_penalty)
    if cfg.keeper_reward_flat + tab * cfg.keeper_reward_rate // WAD > income:
        raise r.fail(
            "keeper_reward_flat",
            f"flat reward + rate x debt must not exceed the penalty income at dust "
            f"(dust x (penalty - 1) = {Decimal(income) / RAD} stablecoin)",
        )
    r.finish()
    return cfg


CURVES = {kind.label: kind for kind in CurveKind}


def _curve(r: Reader) -> tuple[int, int, int, int]:
    kind = CURVES[r.read("auction_curve")]
    if kind is CurveKind.LINEAR:
        return (CurveKind.LINEAR, r.read("auction_curve_duration"), 0, 0)
    cut = r.read("auction_curve_cut")
    if kind is CurveKind.STAIRSTEP:
        return (CurveKind.STAIRSTEP, 0, r.read("auction_curve_step"), cut)
    return (CurveKind.EXPONENTIAL, 0, 0, cut)


def layer_ids(names: Any, where: str) -> tuple[int, ...]:
    """A waterfall order (a list of layer names, as the config's [backstop].waterfall, a
    scenario's protocol.waterfall and --waterfall give it) -> its layer ids; `where` names it."""
    if (
        not isinstance(names, list)
        or len(names) > MAX_LAYERS
        or not all(isinstance(n, str) for n in names)
    ):
        raise ConfigError(
            f"{where}: must be a list of up to {MAX_LAYERS} of {', '.join(LAYERS)}, got {names!r}"
        )
    problem = layer_problem(names)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    return tuple(LAYERS[n] for n in names)


def layer_problem(names: list[str]) -> str | None:
    """What is wrong with a list of layer names (an unknown layer, a layer twice), or None."""
    for name in names:
        if name not in LAYERS:
            return f"unknown layer {name!r} (layers: {', '.join(LAYERS)})"
        if names.count(name) > 1:
            return f"layer {name!r} appears twice"
    return None


def _waterfall(where: str, table: Any) -> WaterfallConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    r = Reader(where, table, WATERFALL)
    cfg = WaterfallConfig(
        order=r.read("waterfall"),
        **{k.name: r.read(k.name) for k in WATERFALL if k.name != "waterfall"},
    )
    r.finish()
    return cfg


ADDRESS_TEXT = re.compile(r"0x[0-9a-fA-F]{40}")


def _governance(where: str, table: Any) -> GovernanceConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    r = Reader(where, table, GOVERNANCE)
    delay, grace, guardian = r.read("timelock_delay"), r.read("timelock_grace"), r.read("guardian")
    r.finish()
    if guardian:
        if not ADDRESS_TEXT.fullmatch(guardian):
            raise ConfigError(f"{where}.guardian: must be an address (0x and 40 hex digits)")
        if int(guardian, 16) == 0:
            raise ConfigError(f"{where}.guardian: must not be the zero address (leave it out)")
        if guardian != guardian.lower() and guardian != to_checksum_address(guardian):
            raise ConfigError(
                f"{where}.guardian: its checksum is wrong (mixed case must be EIP-55's; "
                "all lower case is taken as it is)"
            )
        guardian = to_checksum_address(guardian)
        if delay >= GUARDIAN_STOP_LIMIT:
            raise ConfigError(
                f"{where}.timelock_delay: {delay} s with a guardian must be below its stop's "
                f"limit, {GUARDIAN_STOP_LIMIT} s (a stop lapses before governance could renew it "
                "through the queue)"
            )
    return GovernanceConfig(delay, grace, guardian)


def deleverage_buffer_problem(cfg: SystemConfig) -> str | None:
    """A deleveraging charge leaves a vault at (1 + buffer) x its requirement: below a type's
    margin-call warning factor, that is in the called band, where anyone may take the bonus from
    its opted-in owner (issue 63, finding 3). The contracts refuse it (MarginCall.set_parameters
    a warning factor above 1 + the Backstop's buffer; Backstop.set_deleverage_buffer a buffer
    below the highest - 1), whether or not the layer is in the order (governance may add it
    later), so this names the key before anything is deployed. None when the buffer is at least
    every margin-called type's warning factor - 1."""
    buffered = (WAD + cfg.waterfall.deleverage_buffer) * WAD_TO_RAY  # ray
    for c in cfg.collateral:
        if c.margin_call and buffered < c.margin_warning_factor:
            return (
                f"deleverage_buffer {Fraction(cfg.waterfall.deleverage_buffer, WAD)} is below "
                f"{c.name}'s margin_warning_factor - 1 "
                f"({Fraction(c.margin_warning_factor - RAY, RAY)}): a deleveraging charge would "
                "put its opted-in vaults in the margin call's band"
            )
    return None


def table_problems(
    where: str, table: dict[str, Any], schema: Table, tables: dict[str, Table] | None = None
) -> list[str]:
    """Every key of `table` that `schema` refuses on its own (of the wrong kind, out of range,
    finer than its unit) and every key it does not know: one line each, as `Reader` words them.
    A file's loader stops at its first mistake; this names them all at once (a user with three
    mistakes fixed one a run). Keys read by their loader (files, sub-tables, types) and what
    depends on several keys are left to the loader."""
    out = []
    for key, value in table.items():
        k = schema.keys.get(key) if isinstance(key, str) else None
        if k is None:
            out.append(f"{where}: unknown key {key!r}")
            continue
        if k.kind is Kind.TABLE:  # its own table's keys, where `tables` has it
            sub = (tables or {}).get(f"{schema.name}.{key}")
            if sub is not None and isinstance(value, dict):
                out += table_problems(f"{where}.{key}", value, sub, tables)
            continue
        if k.kind in (Kind.FILE, Kind.TYPE) or isinstance(value, OutOfRange):
            continue  # a number out of range: read_mapping names it with these lines
        try:
            Reader(where, {key: value}, schema).checked(k)
        except ConfigError as exc:
            out.append(str(exc))
    return out


def config_problems(data: dict[str, Any], source: str) -> list[str]:
    """`table_problems` of a deployment config's tables, and its unknown top-level keys."""
    out = [
        f"{source}: unknown key {k!r}"
        for k in data
        if k not in ("system", "collateral", "backstop", "governance")
    ]
    if isinstance(data.get("system"), dict):
        out += table_problems(f"{source}: system", data["system"], SYSTEM)
    if isinstance(data.get("collateral"), list):
        for i, c in enumerate(data["collateral"]):
            if isinstance(c, dict):
                out += table_problems(f"{source}: collateral[{i}]", c, COLLATERAL)
    if isinstance(data.get("backstop"), dict):
        out += table_problems(f"{source}: backstop", data["backstop"], WATERFALL)
    if isinstance(data.get("governance"), dict):
        out += table_problems(f"{source}: governance", data["governance"], GOVERNANCE)
    return out


def parse_config(data: dict[str, Any], source: str = "config") -> SystemConfig:
    """Validate a parsed TOML document into a SystemConfig. Two mistakes or more that each key
    shows on its own: one ConfigError naming them all, a line each (`config_problems`)."""
    problems = config_problems(data, source)
    if len(problems) > 1:
        raise ConfigError("\n".join(problems))
    if not problems:
        return _parse_checked(data, source)
    # one key's own mistake: the loader's line names it; a mistake between other keys (a
    # ceiling_max below the ceiling_gap) waited for the next run: it is looked for with the
    # key's value taken from config/devnet.toml (a value the loader takes), and named too
    try:
        return _parse_checked(data, source)
    except ConfigError as exc:
        lines = str(exc).splitlines()
    place = problems[0].removeprefix(f"{source}: ").split(":")[0]
    without = _without(data, place)
    if without is not None:
        try:
            _parse_checked(without, source)
        except ConfigError as exc:
            lines += [
                x
                for x in str(exc).splitlines()
                if x not in lines and not x.startswith(f"{source}: {place}:")
            ]
    raise ConfigError("\n".join(lines))


def _without(data: dict[str, Any], place: str) -> dict[str, Any] | None:
    """A copy of `data` whose key at `place` (`collateral[0].token_decimals`,
    `system.global_debt_ceiling`) holds config/devnet.toml's value of it (its first collateral
    type's, for any type), or None where there is no such key or value."""
    match = re.fullmatch(r"(system|backstop|governance|collateral\[(\d+)\])\.(\w+)", place)
    if match is None:
        return None
    copy = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    if match.group(2) is not None:
        tables = copy.get("collateral")
        index = int(match.group(2))
        if not isinstance(tables, list) or index >= len(tables):
            return None
        copy["collateral"] = tables = [dict(t) if isinstance(t, dict) else t for t in tables]
        table = tables[index]
    else:
        table = copy.get(match.group(1))
    if not isinstance(table, dict) or match.group(3) not in table or match.group(3) == "name":
        return None  # (a type's name in its place would be another type's: a false "twice")
    reference = tomllib.loads(DEFAULT_CONFIG.read_text())
    given = reference.get(match.group(1).split("[")[0])
    given = given[0] if isinstance(given, list) and given else given
    if not isinstance(given, dict) or match.group(3) not in given:
        return None
    table[match.group(3)] = given[match.group(3)]
    return copy


def _parse_checked(data: dict[str, Any], source: str) -> SystemConfig:
    """parse_config's reading, once the keys' own check has found at most one mistake."""
    top = Reader(f"{source}:", data)
    system = top.raw("system")
    if not isinstance(system, dict):
        raise ConfigError(f"{source}: system: must be a table")
    s = Reader(f"{source}: system", system, SYSTEM)
    collaterals = top.raw("collateral")
    if not isinstance(collaterals, list) or not collaterals:
        raise ConfigError(f"{source}: collateral: needs at least one [[collateral]] table")
    parsed = tuple(
        read_collateral(f"{source}: collateral[{i}]", c) for i, c in enumerate(collaterals)
    )
    names = [c.name for c in parsed]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{source}: collateral: type {name!r} is defined twice")
    cfg = SystemConfig(
        stablecoin_name=s.read("stablecoin_name"),
        stablecoin_symbol=s.read("stablecoin_symbol"),
        global_debt_ceiling=s.read("global_debt_ceiling"),
        max_debt_in_auction=s.read("max_debt_in_auction"),
        backstop_queue_delay=s.read("backstop_queue_delay"),
        collateral=parsed,
        waterfall=_waterfall(f"{source}: backstop", data["backstop"])
        if "backstop" in data
        else WaterfallConfig(),
        governance=_governance(f"{source}: governance", data["governance"])
        if "governance" in data
        else None,
    )
    for table in ("backstop", "governance"):
        if table in data:
            top.used.add(table)
    s.finish()
    top.finish()
    problem = deleverage_buffer_problem(cfg)
    if problem:
        raise ConfigError(f"{source}: {problem}")
    return cfg


def config_option_problems(value: str) -> list[str]:
    """What is wrong with `--config VALUE` (a line each), or []: empty (Path("") is the current
    directory: `--config ''` was named ".: a directory, not a file"), or `load_config`'s lines.
    The option's one check for deploy and devnet."""
    problem = directory_named(value, "a deployment config (.toml)")
    if problem:
        return [f"--config {problem}"]
    try:
        load_config(value)
    except ConfigError as exc:
        return str(exc).splitlines()
    return []


def load_config(path: str | Path = DEFAULT_CONFIG) -> SystemConfig:
    """Read and validate a TOML deployment config (whatever its suffix). The file is read as a
    scenario file is (files.read_mapping): a directory, a binary file (a UnicodeDecodeError
    traceback before), invalid TOML or a number out of range (`1e400`) is one line naming it."""
    path = Path(path)
    data = read_mapping(
        path,
        ConfigError,
        str(path),
        toml=True,
        problems=lambda d: config_problems(d, str(path)),
        empty="a deployment config has [system], [[collateral]] and [waterfall] tables, as "
        "config/devnet.toml",
    )
    return parse_config(data, str(path))
