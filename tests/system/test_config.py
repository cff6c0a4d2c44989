"""The deployment config: exact unit conversion, and one clear line per mistake."""

from __future__ import annotations

import copy
import re
import subprocess
import tomllib
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import pytest

from offchain.model.backstop import DEFAULT_DELEVERAGE_BUFFER
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.system.config import (
    DEFAULT_CONFIG,
    ConfigError,
    load_config,
    parse_config,
    yearly_to_per_second,
)

ROOT = Path(__file__).resolve().parents[2]
BASE = tomllib.loads(DEFAULT_CONFIG.read_text())
DEFAULT_BUFFER = str(Decimal(DEFAULT_DELEVERAGE_BUFFER) / WAD)  # as a file writes it


def test_devnet_config__converts_human_units_exactly():
    cfg = load_config()
    eth = cfg.collateral[0]
    assert eth.type_id == b"ETH-A".ljust(32, b"\0")
    assert eth.initial_price == 2000 * WAD
    assert eth.liquidation_ratio == 15 * RAY // 10
    assert eth.debt_ceiling == 20_000_000 * RAD
    assert eth.fee_kink == 8 * WAD // 10
    assert eth.liquidation_penalty == 113 * WAD // 100
    assert cfg.global_debt_ceiling == 50_000_000 * RAD
    assert cfg.collateral[1].token_decimals == 8


def test_yearly_fee__per_second_factor_compounds_to_the_yearly_rate_rounded_down():
    per_second = yearly_to_per_second(Decimal("0.02"))
    year = 365 * 24 * 3600
    with localcontext() as ctx:
        ctx.prec = 60
        assert (Decimal(per_second) / RAY) ** year <= Decimal("1.02")
        assert (Decimal(per_second + 1) / RAY) ** year > Decimal("1.02")


def _mutate(path: tuple, value) -> dict:
    data = copy.deepcopy(BASE)
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    "path, value, message",
    [
        (
            ("collateral", 0, "liquidation_ratio"),
            "0.9",
            "collateral[0].liquidation_ratio: must be >= 1",
        ),
        (
            ("collateral", 0, "token_decimals"),
            19,
            "collateral[0].token_decimals: must be an integer between 0 and 18",
        ),
        (
            ("collateral", 0, "oracle_max_age"),
            3600,
            "collateral[0].oracle_max_age: must be above oracle_delay",
        ),
        (("collateral", 0, "fee_kink"), "1", "collateral[0].fee_kink: must be below 1"),
        (
            ("collateral", 0, "liquidation_penalty"),
            "1.13000001",
            "collateral[0].liquidation_penalty: must be a multiple of 0.0000001, got 1.13000001",
        ),
        (
            ("collateral", 0, "oracle_max_change"),
            "0",
            "collateral[0].oracle_max_change: must be > 0",
        ),
        (
            ("collateral", 0, "oracle_max_change"),
            "10.5",
            "collateral[0].oracle_max_change: must be > 0 and <= 10",
        ),
        (
            ("collateral", 0, "fee_max_multiplier"),
            "11",
            "collateral[0].fee_max_multiplier: must be >= 1 and <= 10",
        ),
        (("collateral", 0, "stability_fee"), "abc", "collateral[0].stability_fee: is not a number"),
        (("collateral", 0, "stability_fee"), "nan", "collateral[0].stability_fee: must be finite"),
        (
            ("collateral", 0, "initial_price"),
            "0",
            "collateral[0].initial_price: must be >= 0.000001 and <= 1000000000000, got '0'",
        ),
        (("collateral", 0, "initial_price"), "1e-19", "initial_price: must be >= 0.000001"),
        (
            # 28 decimals of a ray: exact, not rounded to 28 digits first
            ("collateral", 0, "liquidation_ratio"),
            "1.5" + "0" * 26 + "1",
            "collateral[0].liquidation_ratio: has more precision than the unit allows",
        ),
        (("collateral", 0, "initial_price"), "1e400", "initial_price: must be >= 0.000001"),
        (
            ("collateral", 0, "ceiling_gap"),
            "40_000_000",
            "collateral[0].ceiling_gap: must not exceed ceiling_max",
        ),
        (("collateral", 0, "dust"), KeyError, "collateral[0].dust: missing"),
        (("collateral", 0, "colour"), "red", "collateral[0]: unknown key 'colour'"),
        (("collateral", 1, "name"), "ETH-A", "type 'ETH-A' is defined twice"),
        (
            ("collateral", 1, "name"),
            "X" * 33,
            "collateral[1].name: must be a non-empty string of at most 32",
        ),
        (("system", "global_debt_ceiling"), "-1", "system.global_debt_ceiling: must be >= 0"),
        (
            ("system", "stablecoin_symbol"),
            "TOOLONG",
            "system.stablecoin_symbol: must be a non-empty string",
        ),
        (("collateral",), [], "collateral: needs at least one [[collateral]] table"),
        (
            ("backstop", "waterfall"),
            ["fund", "insurance"],
            "backstop.waterfall: unknown layer 'insurance'",
        ),
        (
            ("backstop", "waterfall"),
            ["fund", "fund"],
            "backstop.waterfall: layer 'fund' appears twice",
        ),
        (("backstop", "waterfall"), "fund", "backstop.waterfall: must be a list of up to 5 of"),
        (
            ("backstop", "waterfall"),
            ["fund", "stability_pool", "debt_auction", "redistribution", "deleverage", "fund"],
            "backstop.waterfall: must be a list of up to 5",
        ),
        (("backstop", "surplus_lot"), "0", "backstop.surplus_lot: must be > 0"),
        (
            ("backstop", "debt_auction_min_decrease"),
            "1",
            "backstop.debt_auction_min_decrease: must be > 1",
        ),
        (
            ("backstop", "debt_auction_lot_growth"),
            "0.9",
            "backstop.debt_auction_lot_growth: must be >= 1",
        ),
        (
            ("backstop", "debt_auction_min_decrease"),
            "1.6",
            "backstop.debt_auction_min_decrease: must be > 1 and <= 1.5",
        ),
        (
            ("backstop", "surplus_auction_min_increase"),
            "1e400",
            "backstop.surplus_auction_min_increase: must be > 1 and <= 1.5",
        ),
        (("backstop", "pool_fee_share"), "1.5", "backstop.pool_fee_share: must be >= 0 and <= 1"),
        (("backstop", "pool_max_yield"), "0", "backstop.pool_max_yield: must be > 0 and <= 10"),
        (("backstop", "pool_max_yield"), "10.5", "backstop.pool_max_yield: must be > 0 and <= 10"),
        (("backstop", "pool_max_yield"), KeyError, "backstop.pool_max_yield: missing"),
        (
            ("backstop", "auction_bid_duration"),
            0,
            "backstop.auction_bid_duration: must be an integer between 600",
        ),
        (
            ("backstop", "auction_duration"),
            599,
            "backstop.auction_duration: must be an integer between 600",
        ),
        (("backstop", "settlement_wait"), KeyError, "backstop.settlement_wait: missing"),
        (
            ("backstop", "deleverage_buffer"),
            "1.5",
            "backstop.deleverage_buffer: must be >= 0 and <= 1, got '1.5'",
        ),
        (("backstop", "deleverage_buffer"), "-0.1", "backstop.deleverage_buffer: must be >= 0"),
        (("backstop", "deleverage_buffer"), "tenth", "backstop.deleverage_buffer: is not a number"),
        (("backstop", "deleverage_buffer"), "inf", "backstop.deleverage_buffer: must be finite"),
        (
            ("backstop", "deleverage_buffer"),
            "0.0000000000000000001",
            "backstop.deleverage_buffer: has more precision than the unit allows",
        ),
        (("backstop", "colour"), "red", "backstop: unknown key 'colour'"),
        (("backstop",), [1], "backstop: must be a table"),
        (("governance", "timelock_delay"), KeyError, "governance.timelock_delay: missing"),
        (
            ("governance", "timelock_delay"),
            0,
            "governance.timelock_delay: must be an integer between 3600 and 2592000",
        ),
        (("governance", "timelock_delay"), "6h", "governance.timelock_delay: must be an integer"),
        (
            ("governance", "timelock_grace"),
            2592001,
            "governance.timelock_grace: must be an integer between 3600 and 2592000",
        ),
        (("governance", "guardian"), "0x12", "governance.guardian: must be an address"),
        (("governance", "guardian"), "0x" + "0" * 40, "governance.guardian: must not be the zero"),
        (
            ("governance", "guardian"),
            "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293Bc",
            "governance.guardian: its checksum is wrong",
        ),
        (("governance", "guardian"), 7, "governance.guardian: must be a string of at most 42"),
        (("governance", "timelock"), 1, "governance: unknown key 'timelock'"),
        (("governance",), "6h", "governance: must be a table"),
    ],
)
def test_bad_config__one_line_error_naming_the_field(path, value, message):
    with pytest.raises(ConfigError) as exc:
        parse_config(_mutate(path, value))
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_governance__a_delay_a_guardians_stop_outlasts__refused():
    """A guardian's stop of an auction house lapses after a day (DutchAuction.vy
    GUARDIAN_STOP_LIMIT, issue 72): a queue delay of a day or more could never renew it."""
    with_guardian = _mutate(
        ("governance", "guardian"), "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc"
    )
    with_guardian["governance"]["timelock_delay"] = 86_400
    with pytest.raises(ConfigError) as exc:
        parse_config(with_guardian)
    assert "governance.timelock_delay: 86400 s with a guardian must be below" in str(exc.value)
    with_guardian["governance"]["timelock_delay"] = 86_399
    governance = parse_config(with_guardian).governance
    assert governance is not None and governance.delay == 86_399
    # without a guardian, any delay the Timelock takes
    without = _mutate(("governance", "timelock_delay"), 30 * 86_400)
    governance = parse_config(without).governance
    assert governance is not None and governance.delay == 30 * 86_400


def test_backstop_table__optional_and_converted_exactly():
    """Without a [backstop] table the defaults apply (the devnet file states the same values);
    with one, the order is read by layer name."""
    without = copy.deepcopy(BASE)
    del without["backstop"]
    assert parse_config(without).waterfall == load_config().waterfall
    cfg = parse_config(_mutate(("backstop", "waterfall"), ["redistribution", "fund"])).waterfall
    assert cfg.order == (4, 1)
    assert load_config().waterfall.surplus_lot == 10_000 * RAD
    assert load_config().waterfall.debt_auction_min_decrease == 105 * WAD // 100
    assert load_config().waterfall.pool_max_yield == WAD // 5
    assert parse_config(_mutate(("backstop", "waterfall"), [])).waterfall.order == ()


def test_governance_table__optional__read_exactly__guardian_checksummed():
    """[governance]: absent, no Timelock (the deployer stays the direct admin); the devnet file's
    6 hours and 7 days; a guardian in lower case is taken and checksummed (EIP-55)."""
    without = copy.deepcopy(BASE)
    del without["governance"]
    assert parse_config(without).governance is None
    g = load_config().governance
    assert g is not None and (g.delay, g.grace, g.guardian) == (21_600, 604_800, "")
    lower = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc"
    g = parse_config(_mutate(("governance", "guardian"), lower)).governance
    assert g is not None and g.guardian == "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
    without_grace = _mutate(("governance", "timelock_grace"), KeyError)
    assert parse_config(without_grace).governance.grace == 7 * 86_400  # type: ignore[union-attr]


def test_deleverage_buffer__optional__exact__out_of_range_number_one_line(tmp_path):
    """[backstop] deleverage_buffer: absent (as in the devnet file), the contract's default;
    given, exact in wad; a number out of range in the file (1e400, not a string) is one line
    naming it."""
    assert "deleverage_buffer" not in BASE["backstop"]
    assert load_config().waterfall.deleverage_buffer == DEFAULT_DELEVERAGE_BUFFER
    cfg = parse_config(_mutate(("backstop", "deleverage_buffer"), "0.25")).waterfall
    assert cfg.deleverage_buffer == WAD // 4
    huge = tmp_path / "huge.toml"
    huge.write_text(
        re.sub(
            r"^settlement_wait = .*$",
            "settlement_wait = 86400\ndeleverage_buffer = 1e400",
            DEFAULT_CONFIG.read_text(),
            count=1,
            flags=re.M,
        )
    )
    with pytest.raises(ConfigError) as exc:
        load_config(huge)
    assert "backstop.deleverage_buffer = 1e400 is out of range" in str(exc.value)
    assert "\n" not in str(exc.value)


class _Sent:
    """A model backend that keeps the (contract, function, args) of every transaction."""

    def __init__(self):
        from offchain.backends import ModelBackend

        self.model = ModelBackend(start_time=1_700_000_000)
        self.sent: list[tuple[str, str, tuple]] = []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def transact(self, address, function, sender, *args):
        self.sent.append((address, function, args))
        return self.model.transact(address, function, sender, *args)


@pytest.mark.parametrize(
    "order, buffer, sets_buffer, grants",
    [
        (None, None, False, False),  # the shipped order, the default buffer: as before
        (["fund", "redistribution"], DEFAULT_BUFFER, False, False),  # the default, given
        (["fund", "redistribution"], "0.2", True, False),
        (["fund", "stability_pool", "deleverage"], None, True, True),
        (["deleverage"], "0.3", True, True),
    ],
)
def test_deployment__sets_the_buffer_and_grants_the_role_only_when_they_matter(
    order, buffer, sets_buffer, grants
):
    """The deployment sends set_deleverage_buffer only for a buffer other than the contract's
    default or an order with the layer (every other deployment sends what it always did), and
    grants the DELEVERAGE role to the `deleverager` (the backstop keeper) only with the layer."""
    from offchain.model.state import Role
    from offchain.system.deployment import deploy_system

    data = copy.deepcopy(BASE)
    if order is not None:
        data["backstop"]["waterfall"] = order
    if buffer is not None:
        data["backstop"]["deleverage_buffer"] = buffer
    cfg = parse_config(data)
    gov, feeder, keeper = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "44" * 20
    b = _Sent()
    d = deploy_system(b, cfg, gov, feeder, seed_pools=False, deleverager=keeper)
    functions = [f for address, f, _ in b.sent if address == d.backstop]
    assert ("set_deleverage_buffer" in functions) == sets_buffer
    granted = [a for address, f, a in b.sent if address == d.backstop and f == "grant_role"]
    assert ((keeper, int(Role.DELEVERAGE)) in granted) == grants
    backstop = b.model.contract(d.backstop)
    assert backstop.deleverage_buffer == cfg.waterfall.deleverage_buffer
    assert bool(backstop.roles[keeper] & Role.DELEVERAGE) == grants


@pytest.mark.parametrize(
    "buffer, margin_call, order, warning, ok",
    [
        ("0.1", "on", ["fund", "deleverage"], "1.2", False),  # 1.1 x: in ETH-A's 1.2 x band
        ("0.2", "on", ["fund", "deleverage"], "1.2", True),  # exactly the warning level
        ("0.1", "off", ["fund", "deleverage"], "1.2", True),  # no margin calls on the type
        # the layer off: refused all the same (issue 63, finding 3: governance may add the layer
        # later, and the contracts relate the two whatever the order)
        ("0.1", "on", ["fund", "redistribution"], "1.2", False),
        (None, "on", ["fund", "redistribution"], "1.3", False),  # above the default 1.25
        (None, "on", ["fund", "redistribution"], "1.25", True),
    ],
)
def test_deleverage_buffer__below_a_margin_warning_factor__refused_naming_both_keys(
    buffer, margin_call, order, warning, ok
):
    """A deleveraging charge leaves a vault at (1 + buffer) x its requirement: below a
    margin-called type's warning factor, in the band where anyone may take the bonus from its
    opted-in owner (issue 63, finding 3; flagged before as the adversarial read's finding 2,
    then only with the layer in the order). The contracts refuse it (the MarginCall a warning
    factor above 1 + the Backstop's buffer, the Backstop a buffer below the highest - 1) in any
    order of the layers: the loader names both keys first, in one line."""
    data = copy.deepcopy(BASE)
    data["backstop"]["waterfall"] = order
    if buffer is not None:
        data["backstop"]["deleverage_buffer"] = buffer
    for c in data["collateral"]:
        c["margin_call"] = margin_call
        c["margin_warning_factor"] = warning
    if ok:
        parse_config(data)
        return
    with pytest.raises(ConfigError) as exc:
        parse_config(data)
    shown = Fraction(Decimal(buffer or "0.25")).limit_denominator()
    assert str(exc.value) == (
        f"config: deleverage_buffer {shown} is below ETH-A's margin_warning_factor - 1 "
        f"({Fraction(Decimal(warning) - 1).limit_denominator()}): a deleveraging charge would "
        "put its opted-in vaults in the margin call's band"
    )


def test_finding_63_3__warning_above_the_deleverage_buffer__deploy_exits_2_naming_the_keys(
    tmp_path,
):
    """The deploy script refuses a margin_warning_factor above 1 + the deleverage buffer in one
    line naming both keys (the MarginCall would refuse it too), before any node starts."""
    bad = tmp_path / "bad.toml"
    bad.write_text(
        DEFAULT_CONFIG.read_text().replace(
            'margin_warning_factor = "1.2" ', 'margin_warning_factor = "1.3" ', 1
        )
    )
    assert bad.read_text() != DEFAULT_CONFIG.read_text()
    result = subprocess.run(
        ["ape", "run", "deploy", "--config", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("deploy:")]
    assert errors == [
        f"deploy: {bad}: deleverage_buffer 1/4 is below ETH-A's margin_warning_factor - 1 "
        "(3/10): a deleveraging charge would put its opted-in vaults in the margin call's band"
    ]
    assert "Traceback" not in result.stderr


def test_unreadable_or_invalid_toml__one_line_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[system\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)


@pytest.mark.parametrize("text", ["", "\n\n", "# a config, later\n"])
def test_empty_config__said_empty_not_a_missing_key(tmp_path, text):
    """An empty config was "system: missing", as if one table had been left out (issue 65)."""
    empty = tmp_path / "empty.toml"
    empty.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_config(empty)
    assert str(refused.value) == (
        f"{empty}: empty file (a deployment config has [system], [[collateral]] and [waterfall] "
        "tables, as config/devnet.toml)"
    )


def test_config_that_is_not_a_text_file__one_line_error(tmp_path):
    """Read as a scenario file is (files.read_mapping): a binary config was a UnicodeDecodeError
    traceback, a directory an IsADirectoryError one; a number out of range is named by its key.
    TOML whatever the suffix, as before."""
    binary = tmp_path / "config.bin"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    with pytest.raises(ConfigError, match=r"config\.bin: not a text TOML file \(byte 1 is not"):
        load_config(binary)
    with pytest.raises(ConfigError, match="a directory, not a file"):
        load_config(tmp_path)
    huge = tmp_path / "devnet.cfg"
    huge.write_text(
        re.sub(
            r"^liquidation_ratio = \S+",
            "liquidation_ratio = 1e400",
            DEFAULT_CONFIG.read_text(),
            count=1,
            flags=re.M,
        )
    )
    with pytest.raises(ConfigError) as exc:
        load_config(huge)
    assert "collateral[0].liquidation_ratio = 1e400 is out of range" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_deploy_script__bad_config__exit_2_one_line_no_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        DEFAULT_CONFIG.read_text().replace('liquidation_ratio = "1.5"', 'liquidation_ratio = "0.5"')
    )
    result = subprocess.run(
        ["ape", "run", "deploy", "--config", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("deploy:")]
    assert errors == [
        f"deploy: {bad}: collateral[0].liquidation_ratio: must be >= 1 and <= 100, got '0.5'"
    ]
    assert "Traceback" not in result.stderr + result.stdout
    # read before Ape starts a node: the error is the only line (a newcomer saw it between
    # "Starting 'anvil' process" and "Stopping 'anvil' process")
    assert [line for line in (result.stdout + result.stderr).splitlines() if line] == errors


def test_size_margin__read_in_ppm_and_deployed_to_the_engine():
    """Issue 35: a type's size_threshold / size_slope / size_cap are read exactly (ppm) and the
    deployment sets them in the engine; absent, they are 0 (off)."""
    from offchain.backends import ModelBackend
    from offchain.system.deployment import deploy_system

    data = _mutate(("collateral", 0, "size_threshold"), 250_000)
    data["collateral"][0].update(size_slope="0.05", size_cap="0.3")
    cfg = parse_config(data)
    eth = cfg.collateral[0]
    assert (eth.size_threshold, eth.size_slope, eth.size_cap) == (250_000, 50_000, 300_000)
    assert cfg.collateral[1].size_margin == (0, 0, 0)
    # no threshold: off, whatever the slope and cap say (a sweep turns it off this way)
    data["collateral"][0]["size_threshold"] = 0
    assert parse_config(data).collateral[0].size_margin == (0, 0, 0)
    data["collateral"][0]["size_threshold"] = 250_000
    gov, feeder = "0x" + "11" * 20, "0x" + "22" * 20
    model = ModelBackend(start_time=1_700_000_000)
    d = deploy_system(model, cfg, gov, feeder, seed_pools=False)
    engine = model.contract(d.engine)
    assert engine.size_margin(eth.type_id) == (250_000, 50_000, 300_000)
    assert engine.size_margin(cfg.collateral[1].type_id) == (0, 0, 0)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"size_threshold": 1_000}, "size_slope: must be above 0 with a size_threshold"),
        ({"size_threshold": 1_000, "size_slope": "0.1"}, "size_cap: must be above 0"),
        (
            {"size_threshold": 1, "size_slope": "1.5", "size_cap": "0.2"},
            "size_slope: must be >= 0 and <= 1",
        ),
        ({"size_threshold": 1, "size_slope": "0.0000001", "size_cap": "0.2"}, "size_slope"),
        ({"size_threshold": 2**48, "size_slope": "0.1", "size_cap": "0.2"}, "size_threshold"),
        # issue 45, finding 4: a threshold below the dust (2,500) leaves large vaults no cut
        (
            {"size_threshold": 1_000, "size_slope": "0.1", "size_cap": "0.5"},
            "size_threshold: must be at least the dust",
        ),
    ],
)
def test_size_margin__bad_values__one_line(values, message):
    data = copy.deepcopy(BASE)
    data["collateral"][0].update(values)
    with pytest.raises(ConfigError, match=re.escape(message)) as exc:
        parse_config(data)
    assert "\n" not in str(exc.value) and str(exc.value).startswith("config: collateral[0].size_")


def test_integer_keys__a_quoted_integer_is_taken_exactly_as_the_bare_number():
    """A newcomer's tally (issue 47): config/devnet.toml says amounts may be decimal strings or
    numbers, but `size_threshold = "25000"` was refused with `must be an integer between 0 and
    281474976710655, got '25000'` (a range it is inside); and a quoted "1000" below the dust was
    refused that way too, not for the dust. A string of digits is the integer now; anything else
    in a string is still refused."""
    bare = copy.deepcopy(BASE)
    bare["collateral"][0].update(size_threshold=25_000, size_slope="0.1", size_cap="0.5")
    expected = parse_config(bare).collateral[0].size_margin
    assert expected[0] == 25_000
    for text in ("25000", "25_000", " 25000 "):
        data = copy.deepcopy(bare)
        data["collateral"][0]["size_threshold"] = text
        assert parse_config(data).collateral[0].size_margin == expected, text
    data = _mutate(("backstop", "auction_bid_duration"), "10800")
    assert parse_config(data).waterfall.auction_bid_duration == 10_800
    data = copy.deepcopy(bare)
    data["collateral"][0]["size_threshold"] = "1000"
    with pytest.raises(ConfigError, match="size_threshold: must be at least the dust"):
        parse_config(data)
    for text in ("2.5e4", "25000.0", "25,000", "", "0x10", "1" * 40):
        data["collateral"][0]["size_threshold"] = text
        with pytest.raises(ConfigError, match="must be an integer between 0 and"):
            parse_config(data)


def test_finding_45_4__size_threshold_below_dust__deploy_exits_2_naming_the_key(tmp_path):
    """The deploy script refuses a size threshold below the type's dust in one line naming the
    key (the engine would refuse it too), before any node starts."""
    bad = tmp_path / "bad.toml"
    bad.write_text(
        DEFAULT_CONFIG.read_text().replace(
            'liquidation_ratio = "1.5"',
            'liquidation_ratio = "1.5"\nsize_threshold = 1000\nsize_slope = "0.1"\n'
            'size_cap = "0.5"',
            1,
        )
    )
    result = subprocess.run(
        ["ape", "run", "deploy", "--config", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("deploy:")]
    assert errors == [
        f"deploy: {bad}: collateral[0].size_threshold: must be at least the dust (a size cut "
        "leaves the dust)"
    ]


def test_margin_call__read_exactly_and_deployed_per_type():
    """Issue 35, item 2: a type's margin_warning_factor / margin_bonus / margin_close_factor are
    read exactly (ray, wad, wad) and the deployment sets them in the MarginCall; absent, they are
    the devnet's 1.2 / 2% / 50%; margin_call = "off" leaves the type without margin calls."""
    from offchain.backends import ModelBackend
    from offchain.system.deployment import deploy_system

    data = copy.deepcopy(BASE)
    for key in ("margin_call", "margin_warning_factor", "margin_bonus", "margin_close_factor"):
        del data["collateral"][1][key]
    data["collateral"][0].update(
        margin_warning_factor="1.35", margin_bonus="0.0125", margin_close_factor="0.25"
    )
    # a warning factor of 1.35 needs a deleverage buffer of at least 0.35 (issue 63, finding 3)
    data["backstop"]["deleverage_buffer"] = "0.35"
    cfg = parse_config(data)
    eth, wbtc = cfg.collateral
    assert eth.margin_parameters == (135 * RAY // 100, 125 * WAD // 10_000, WAD // 4)
    assert wbtc.margin_parameters == (12 * RAY // 10, 2 * WAD // 100, WAD // 2)
    assert load_config().collateral[0].margin_parameters == wbtc.margin_parameters
    data["collateral"][1]["margin_call"] = "off"
    cfg = parse_config(data)
    assert cfg.collateral[1].margin_parameters is None
    gov, feeder = "0x" + "11" * 20, "0x" + "22" * 20
    model = ModelBackend(start_time=1_700_000_000)
    d = deploy_system(model, cfg, gov, feeder, seed_pools=False)
    margin_call = model.contract(d.margin_call)
    assert margin_call.parameters(eth.type_id) == (135 * RAY // 100, 125 * WAD // 10_000, WAD // 4)
    assert margin_call.parameters(wbtc.type_id) == (0, 0, 0)  # off: never called
    # the MarginCall reads the Spotter's oracle map (it keeps none of its own)
    assert not hasattr(margin_call, "oracles")
    # it and the Backstop know each other: the buffer bounds the warning factors
    assert margin_call.backstop == d.backstop
    assert model.contract(d.backstop).margin_call == d.margin_call
    assert margin_call.highest_warning_factor() == 135 * RAY // 100
    assert model.contract(d.spotter).oracles[wbtc.type_id] == d.types["WBTC-A"].oracle


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("margin_warning_factor", "1", "must be > 1 and <= 1.5, got '1'"),
        ("margin_warning_factor", "1.6", "must be > 1 and <= 1.5, got '1.6'"),
        ("margin_warning_factor", "1e400", "must be > 1 and <= 1.5, got '1e400'"),
        ("margin_warning_factor", float("inf"), "must be finite"),
        ("margin_warning_factor", "1.2" + "0" * 26 + "1", "has more precision than the unit"),
        ("margin_bonus", "-0.01", "must be >= 0 and <= 0.05, got '-0.01'"),
        ("margin_bonus", "0.06", "must be >= 0 and <= 0.05"),
        ("margin_bonus", "two percent", "is not a number: 'two percent'"),
        ("margin_bonus", True, "must be a number, got True"),
        ("margin_close_factor", "0", "must be > 0 and <= 0.5, got '0'"),
        ("margin_close_factor", "0.51", "must be > 0 and <= 0.5"),
        ("margin_call", "yes", "must be one of on, off, got 'yes'"),
        ("margin_call", True, "must be one of on, off, got True"),
    ],
)
def test_margin_call__bad_values__one_line_naming_the_key(key, value, message):
    """The contract's bounds (MarginCall.set_parameters: 1 < warning <= 1.5, bonus <= 5%,
    0 < close factor <= 50%), refused before anything is deployed."""
    data = _mutate(("collateral", 0, key), value)
    with pytest.raises(ConfigError) as exc:
        parse_config(data)
    assert str(exc.value).startswith(f"config: collateral[0].{key}: ")
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_deploy_script__bad_margin_call_key__exit_2_one_line_no_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        DEFAULT_CONFIG.read_text().replace('margin_bonus = "0.02"', 'margin_bonus = "-1"', 1)
    )
    result = subprocess.run(
        ["ape", "run", "deploy", "--config", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line]
    assert lines == [
        f"deploy: {bad}: collateral[0].margin_bonus: must be >= 0 and <= 0.05, got '-1'"
    ]
