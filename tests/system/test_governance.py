"""A governance proposal file (offchain/system/governance.py): read in the deployment config's
own names and units and checked as a config is; turned into the Timelock calls that put it in
force, each change's before read from the chain. On revm in lockstep with the model: the calls
go through the deployment's Timelock (queued, refused before their time, run after it) and
change exactly what the file names. `ape run govern` on a devnet: tests/live/test_govern.py."""

from __future__ import annotations

import tomllib
from decimal import Decimal

import pytest

from offchain.backends import ANVIL_ACCOUNTS, Lockstep, RevmBackend, model_beside
from offchain.backends.abi import CalldataReader
from offchain.model.backstop import Layer
from offchain.model.fixed_point import RAD, WAD
from offchain.system import governance
from offchain.system.config import (
    DEFAULT_CONFIG,
    load_config,
    per_second_to_yearly,
    yearly_to_per_second,
)
from offchain.system.deployment import deploy_system, hand_to_timelock
from offchain.system.governance import ProposalError, load_proposal, read_proposal
from offchain.testing.fuzz import REVM_GENESIS, Artifacts
from offchain.testing.harness import TEST_FACTORIES, Roles, System, reverts

CONFIG = DEFAULT_CONFIG.read_text()
PROPOSAL = """
[collateral.ETH-A]
liquidation_penalty = "1.15"

[backstop]
waterfall = ["fund", "redistribution", "stability_pool", "debt_auction"]
"""


@pytest.fixture(scope="module")
def system(artifacts: Artifacts) -> System:
    evm = RevmBackend(*artifacts, REVM_GENESIS)
    roles = Roles(*ANVIL_ACCOUNTS[:6])
    model = model_beside(evm, roles.users, TEST_FACTORIES)
    d = deploy_system(Lockstep(evm, model), load_config(), roles.governance, roles.feeder)
    hand_to_timelock(Lockstep(evm, model), d, 6 * 3600, 7 * 86400)
    return System(evm, model, d, roles)


def test_proposal__penalty_and_waterfall__queued_refused_early_run_after_the_delay(system):
    d, ls, eth = system.d, system.lockstep, system.d.types["ETH-A"]
    config, places = read_proposal(tomllib.loads(PROPOSAL), "p.toml", CONFIG)
    calls, changes = governance.proposal_calls(ls, d, config, places)
    cap = 10_000_000 * RAD
    assert calls == [
        (d.liquidator, "configure_type", (eth.type_id, eth.auction, 115 * WAD // 100, cap)),
        (d.backstop, "set_waterfall", ([1, 4, 2, 3],)),
    ]
    assert [(c.where, c.before, c.after) for c in changes] == [
        ("collateral.ETH-A.liquidation_penalty", 113 * WAD // 100, 115 * WAD // 100),
        ("backstop.waterfall", (1, 2, 3, 4), (1, 4, 2, 3)),
    ]
    assert [c.text() for c in changes] == [
        "collateral.ETH-A.liquidation_penalty: 1.13 -> 1.15",
        "backstop.waterfall: [fund, stability_pool, debt_auction, redistribution] -> "
        "[fund, redistribution, stability_pool, debt_auction]",
    ]
    with system.what_if():
        proposal_id, eta = governance.propose(ls, d, calls)
        assert eta == system.now + 6 * 3600
        with reverts("timelock: too early"):
            governance.execute(ls, d, proposal_id, calls)
        # governance's own key is no admin any more
        with reverts("authorized: not authorized"):
            system.tx(d.backstop, "set_waterfall", d.governance, [int(Layer.FUND)])
        ls.set_next_block_time(eta)
        governance.execute(ls, d, proposal_id, calls)
        assert system.view(d.liquidator, "penalty", eth.type_id) == 115 * WAD // 100
        assert system.view(d.liquidator, "types", eth.type_id)[2] == cap  # kept
        assert tuple(system.view(d.backstop, "get_waterfall")) == (1, 4, 2, 3)


def test_proposal__one_setter_for_two_keys__called_once_with_the_chains_other_value(system):
    d, ls, eth = system.d, system.lockstep, system.d.types["ETH-A"]
    text = '[collateral.ETH-A]\nauction_cap = "8_000_000"\n[backstop]\nsurplus_lot = "20_000"\n'
    config, places = read_proposal(tomllib.loads(text), "p.toml", CONFIG)
    calls, _ = governance.proposal_calls(ls, d, config, places)
    assert calls == [
        (d.liquidator, "configure_type", (eth.type_id, eth.auction, 113 * WAD // 100,
                                          8_000_000 * RAD)),
        (d.backstop, "set_auction_parameters", (500_000 * RAD, 20_000 * RAD, 50_000 * RAD)),
    ]  # fmt: skip


def test_proposal__a_key_an_earlier_proposal_changed__kept_as_the_chain_holds_it(system):
    """The cap set by proposal 1 stays when proposal 2 changes only the penalty (the setter
    carries both: the cap is taken from the chain, not from the recorded config's 10M)."""
    d, ls, eth = system.d, system.lockstep, system.d.types["ETH-A"]
    with system.what_if():
        for text in ('auction_cap = "8_000_000"', 'liquidation_penalty = "1.2"'):
            data = tomllib.loads(f"[collateral.ETH-A]\n{text}\n")
            config, places = read_proposal(data, "p.toml", CONFIG)
            calls, _ = governance.proposal_calls(ls, d, config, places)
            proposal_id, eta = governance.propose(ls, d, calls)
            ls.set_next_block_time(eta)
            governance.execute(ls, d, proposal_id, calls)
        _, penalty, cap = system.view(d.liquidator, "types", eth.type_id)[:3]
        assert (penalty, cap) == (12 * WAD // 10, 8_000_000 * RAD)


def test_proposal__pool_setters__every_type_accrued_first(system):
    d, ls = system.d, system.lockstep
    config, places = read_proposal({"backstop": {"pool_fee_share": "0.3"}}, "p.toml", CONFIG)
    calls, _ = governance.proposal_calls(ls, d, config, places)
    accrue = [(d.fees, "accrue", (t.type_id,)) for t in d.types.values()]
    assert calls == [*accrue, (d.fees, "set_pool_fee_share", (d.stability_pool, 3 * WAD // 10))]


def test_proposal__deleverage_layer_added__refused_no_keeper_holds_its_role(system):
    order = {"waterfall": ["fund", "deleverage"]}
    config, places = read_proposal({"backstop": order}, "p.toml", CONFIG)
    with pytest.raises(ProposalError, match="adding the deleverage layer needs a keeper"):
        governance.proposal_calls(system.lockstep, system.d, config, places)


def test_change_text__whole_amounts_keep_their_zeros():
    change = governance.Change("system.global_debt_ceiling", 50_000_000 * RAD, 60_000_000 * RAD)
    assert change.text() == "system.global_debt_ceiling: 50000000 -> 60000000"
    change = governance.Change("collateral.ETH-A.dust", 2_500 * RAD, 3_000 * RAD)
    assert change.text() == "collateral.ETH-A.dust: 2500 -> 3000"


@pytest.mark.parametrize(
    "text, lines",
    [
        ("[collateral.ETH-A]\nliquidation_penalty = \"2.5\"\n",
         ["p.toml: collateral.ETH-A.liquidation_penalty: must be"]),
        ("[collateral.DOGE-A]\ndust = \"1\"\n",
         ["p.toml: collateral.DOGE-A: no such type is deployed (types: ETH-A, WBTC-A)"]),
        ("[collateral.ETH-A]\ncolour = \"red\"\n",
         ["p.toml: collateral.ETH-A.colour: unknown key"]),
        ("[collateral.ETH-A]\ntoken_decimals = 6\n[backstop]\npool_cooldown = 1\n",
         ["p.toml: collateral.ETH-A.token_decimals: no proposal can change it yet",
          "p.toml: backstop.pool_cooldown: no proposal can change it yet"]),
        ("[oracle]\ndelay = 1\n", ["p.toml: unknown table 'oracle'"]),
        ("[collateral.ETH-A]\ndebt_ceiling = \"1\"\noracle_delay = 7200\n",
         ["p.toml: collateral.ETH-A.debt_ceiling: no proposal can change it yet: the Ceiling",
          "p.toml: collateral.ETH-A.oracle_delay: no proposal can change it yet: the stability"]),
        ("# nothing yet\n", ["p.toml: empty file (a proposal has [system], [backstop] or"]),
        ("[system]\n", ["p.toml: proposes no change"]),
        ("[system\n", ["p.toml: not valid TOML"]),
        ("[system]\nglobal_debt_ceiling = 1e400\n",
         ["p.toml: system.global_debt_ceiling = 1e400 is out of range (too large"]),
        ("[system]\nglobal_debt_ceiling = \"1e400\"\n",
         ["p.toml: system.global_debt_ceiling: must be"]),
        ("\x00\x01binary", ["p.toml: not a text TOML file (it holds NUL bytes)"]),
    ],
)  # fmt: skip
def test_proposal__bad_file__a_line_per_mistake(tmp_path, text, lines):
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ProposalError) as exc:
        load_proposal(path, CONFIG)
    got = [line.removeprefix(str(tmp_path) + "/") for line in str(exc.value).splitlines()]
    assert len(got) == len(lines), got
    for line, expected in zip(got, lines):
        assert line.startswith(expected), (line, expected)


def test_sweep_points__each_changed_number_around_the_proposal_the_rest_named():
    """The sweep around a proposal (`ape run govern rehearse`): each changed number at halfway,
    1.5 and 2 times its change, written as the proposal writes it, the proposal's other keys in
    place; a key that is no number (the waterfall) is named, not swept."""
    points, not_swept = governance.sweep_points(tomllib.loads(PROPOSAL), CONFIG)
    assert not_swept == ["backstop.waterfall"]
    assert [(p.where, str(p.step), p.value, p.problem) for p in points] == [
        ("collateral.ETH-A.liquidation_penalty", "0.5", "1.14", ""),
        ("collateral.ETH-A.liquidation_penalty", "1.5", "1.16", ""),
        ("collateral.ETH-A.liquidation_penalty", "2", "1.17", ""),
    ]
    assert {(p.before, p.proposed) for p in points} == {("1.13", "1.15")}
    for p in points:
        assert p.document is not None
        eth = next(c for c in p.document["collateral"] if c["name"] == "ETH-A")
        assert eth["liquidation_penalty"] == p.value
        assert p.document["backstop"]["waterfall"][1] == "redistribution"
    amounts = '[collateral.ETH-A]\ndust = "3_000"\n'
    points, _ = governance.sweep_points(tomllib.loads(amounts), CONFIG)
    assert [p.value for p in points] == ["2750", "3250", "3500"]


def test_sweep_points__a_value_the_config_refuses__kept_with_its_line():
    near = '[collateral.ETH-A]\nliquidation_penalty = "1.9"\n'
    points, _ = governance.sweep_points(tomllib.loads(near), CONFIG)
    assert [(p.value, p.document is None) for p in points] == [
        ("1.515", False),
        ("2.285", True),
        ("2.67", True),
    ]
    assert points[1].problem == (
        "collateral.ETH-A.liquidation_penalty: must be >= 1 and <= 2, got '2.285'"
    )


# why each value a proposal is refused for is (governance.REFUSED_VALUES), by key
REFUSED = {key: why for (_, key), (_, why) in governance.REFUSED_VALUES.items()}


def test_proposal__several_mistakes__every_one_named_at_once(tmp_path):
    """A key no proposal can set no longer hides the others' mistakes: the config is read with
    the keys a proposal can set, and each value judged (docs/governance.md, "Judged, not only
    read")."""
    path = tmp_path / "p.toml"
    path.write_text(
        '[collateral.ETH-A]\ncolour = 1\nliquidation_penalty = "2.5"\nauction_cap = "0"\n'
        '[collateral.DOGE-A]\ndust = "1"\n[backstop]\nwaterfall = []\n'
    )
    with pytest.raises(ProposalError) as exc:
        load_proposal(path, CONFIG)
    got = [line.removeprefix(str(tmp_path) + "/") for line in str(exc.value).splitlines()]
    assert got == [
        "p.toml: collateral.DOGE-A: no such type is deployed (types: ETH-A, WBTC-A)",
        "p.toml: collateral.ETH-A.colour: unknown key",
        "p.toml: collateral.ETH-A.liquidation_penalty: must be >= 1 and <= 2, got '2.5'",
        "p.toml: collateral.ETH-A.auction_cap: " + REFUSED["auction_cap"],
        "p.toml: backstop.waterfall: " + REFUSED["waterfall"],
    ]


@pytest.mark.parametrize(
    "text, where",
    [
        ("[backstop]\nwaterfall = []\n", "backstop.waterfall"),
        ('[collateral.WBTC-A]\nauction_cap = "0"\n', "collateral.WBTC-A.auction_cap"),
        ("[collateral.WBTC-A]\nauction_cap = 0\n", "collateral.WBTC-A.auction_cap"),
        ('[system]\nmax_debt_in_auction = "0.0"\n', "system.max_debt_in_auction"),
    ],
)
def test_proposal__a_value_that_turns_off_what_the_system_needs__refused(text, where):
    with pytest.raises(ProposalError) as exc:
        read_proposal(tomllib.loads(text), "p.toml", CONFIG)
    key = where.split(".")[-1]
    assert str(exc.value) == f"p.toml: {where}: {REFUSED[key]}"


def test_proposal__near_the_refused_values__read():
    text = '[collateral.ETH-A]\nauction_cap = "1"\n[backstop]\nwaterfall = ["redistribution"]\n'
    config, places = read_proposal(tomllib.loads(text), "p.toml", CONFIG)
    assert config.collateral[0].auction_cap == RAD and config.waterfall.order == (4,)
    assert len(places) == 2


def _judged(system, text):
    config, places = read_proposal(tomllib.loads(text), "p.toml", CONFIG)
    _, changes = governance.proposal_calls(system.lockstep, system.d, config, places)
    return governance.judge(system.lockstep, system.d, changes, "p.toml")


def test_judge__a_change_of_nothing__refused__beside_a_change__warned(system):
    refusals, warnings = _judged(system, '[collateral.ETH-A]\nliquidation_penalty = "1.13"\n')
    assert refusals == [
        "p.toml: proposes no change: each key already holds its value "
        "(collateral.ETH-A.liquidation_penalty = 1.13)"
    ]
    assert warnings == []
    text = '[collateral.ETH-A]\nliquidation_penalty = "1.13"\ndust = "3_000"\n'
    refusals, warnings = _judged(system, text)
    assert refusals == []
    assert warnings == [
        "p.toml: collateral.ETH-A.liquidation_penalty = 1.13 is the value in force: this key "
        "changes nothing"
    ]


def test_judge__global_ceiling_below_every_type_and_the_debt_drawn__warned(system):
    """A global ceiling that binds first is governance's choice (to cap or freeze borrowing):
    warned, with what it makes of the types' ceilings and of the debt drawn now (the devnet's
    pools' seed debt)."""
    drawn = system.view(system.d.engine, "total_issued")
    assert 0 < drawn < 5_000_000 * RAD
    types = (
        "below every type's ceiling (ETH-A 20000000, WBTC-A 10000000): theirs can no longer bind"
    )
    assert _judged(system, '[system]\nglobal_debt_ceiling = "1"\n') == (
        [],
        [
            f"p.toml: system.global_debt_ceiling = 1 is {types}; below the debt drawn now "
            f"(about {round(drawn / RAD)}): no vault can borrow more"
        ],
    )
    assert _judged(system, '[system]\nglobal_debt_ceiling = "5_000_000"\n') == (
        [],
        [f"p.toml: system.global_debt_ceiling = 5000000 is {types}"],
    )
    assert _judged(system, '[system]\nglobal_debt_ceiling = "15_000_000"\n') == ([], [])


# every key a proposal can set, each to a value other than config/devnet.toml's
EVERY_KEY = """
[system]
global_debt_ceiling = "60_000_000"
max_debt_in_auction = "15_000_000"
backstop_queue_delay = 7200

[backstop]
waterfall = ["fund", "redistribution", "stability_pool"]
deleverage_buffer = "0.3"
pool_fee_share = "0.3"
pool_max_yield = "0.25"
surplus_buffer = "600_000"
surplus_lot = "20_000"
debt_auction_bid = "40_000"

[collateral.WBTC-A]
dust = "3_000"
liquidation_ratio = "1.6"
oracle_max_age = 7200
oracle_max_change = "0.4"
stability_fee = "0.03"
liquidation_penalty = "1.15"
auction_cap = "8_000_000"
"""


def test_call_settings__every_key__read_back_from_its_calldata_as_propose_wrote_it(system):
    """`ape run govern show` prints a queued call in the config's names and units: each call
    `propose` builds, encoded as the Timelock holds it and decoded with the contracts' ABIs,
    reads back into exactly the keys and values `propose` printed (Change.text), and a type's
    fee accrual names the type."""
    d, ls = system.d, system.lockstep
    config, places = read_proposal(tomllib.loads(EVERY_KEY), "p.toml", CONFIG)
    assert len(places) == 17
    calls, changes = governance.proposal_calls(ls, d, config, places)
    reader = CalldataReader(
        {n: abi for n, (abi, _) in system.chain.artifacts.items()}, system.model.names
    )
    names = system.model.names
    read: dict[str, object] = {}
    texts = []
    for target, data in governance.encoded(ls, calls):
        function, args, _ = reader(target, data)
        settings = governance.call_settings(d, target, function, args)
        assert settings is not None, function
        read.update(settings)
        texts.append(governance.call_text(d, names, target, function, args))
    assert {c.where: c.after for c in changes}.items() <= {
        w: tuple(v) if isinstance(v, tuple) else v for w, v in read.items()
    }.items()
    shown = {governance.setting_text(w, v) for w, v in read.items()}
    for c in changes:  # the value propose printed after the arrow
        assert f"{c.where} = {c.text().split(' -> ')[1]}" in shown
    assert texts[:2] == ["FeeAccumulator.accrue(ETH-A)", "FeeAccumulator.accrue(WBTC-A)"]
    assert (
        "Liquidator.configure_type: collateral.WBTC-A.liquidation_penalty = 1.15, "
        "collateral.WBTC-A.auction_cap = 8000000"
    ) in texts
    order = "[fund, redistribution, stability_pool]"
    assert f"Backstop.set_waterfall: backstop.waterfall = {order}" in texts
    assert (
        "FeeAccumulator.set_base_fee: collateral.WBTC-A.stability_fee = 0.03 a year "
        "(per-second factor 1000000000937303470807876290, ray)"
    ) in texts
    assert "PriceOracle.set_max_age: collateral.WBTC-A.oracle_max_age = 7200" in texts


def test_call_text__a_call_propose_does_not_build__its_function_and_arguments(system):
    d, eth = system.d, system.d.types["ETH-A"]
    names = system.model.names
    guardian = system.roles.users[1]
    assert governance.call_settings(d, d.timelock, "set_guardian", (guardian,)) is None
    text = governance.call_text(d, names, d.timelock, "set_guardian", (guardian,))
    assert text == f"Timelock.set_guardian({guardian})"
    # the type's auction swapped for another contract: not what propose builds, shown whole
    args = (eth.type_id, d.engine, 113 * WAD // 100, RAD)
    assert governance.call_settings(d, d.liquidator, "configure_type", args) is None
    assert governance.call_text(d, names, d.liquidator, "configure_type", args) == (
        f"Liquidator.configure_type(ETH-A, {d.engine}, {113 * WAD // 100}, {RAD})"
    )


def test_per_second_to_yearly__the_loaders_fee_read_back():
    for fee in ("0", "0.0001", "0.02", "0.03", "0.123456789", "10"):
        factor = yearly_to_per_second(Decimal(fee))
        assert per_second_to_yearly(factor) == Decimal(fee)
