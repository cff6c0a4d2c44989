"""A governance proposal file (offchain/system/governance.py): read in the deployment config's
own names and units and checked as a config is; turned into the Timelock calls that put it in
force, each change's before read from the chain. On revm in lockstep with the model: the calls
go through the deployment's Timelock (queued, refused before their time, run after it) and
change exactly what the file names. `ape run govern` on a devnet: tests/live/test_govern.py."""

from __future__ import annotations

import tomllib

import pytest

from offchain.backends import ANVIL_ACCOUNTS, Lockstep, RevmBackend, model_beside
from offchain.model.backstop import Layer
from offchain.model.fixed_point import RAD, WAD
from offchain.system import governance
from offchain.system.config import DEFAULT_CONFIG, load_config
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
