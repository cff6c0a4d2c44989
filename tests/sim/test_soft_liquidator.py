"""The soft liquidator (offchain/sim/strategies/soft_liquidator.py): which called vaults it
soft-liquidates, how much it repays (the least that cures the vault, more only where the least does
not pay its gas, never past the least cure plus the contract's 1 bp tolerance), that each call it
sends succeeds and leaves the vault above its warning level, and that a crash replay with opted-in
owners reconciles on Anvil.

Money flow of a soft liquidation: the keeper's internal stablecoin repays `n x rate` of the
owner's vault debt; the vault's collateral worth that x (1 + bonus) at the exchange price goes to
the keeper's free balance. The owner loses the bonus (at the market price: collateral x market -
debt), the keeper earns it less its gas; no stablecoin is created and nothing reaches the
Backstop."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from offchain.backends import ModelBackend
from offchain.model import margin_call as mc
from offchain.model.errors import Revert
from offchain.model.fixed_point import RAY, WAD
from offchain.model.margin_call import CALLED, SAFE, status
from offchain.sim.results.reconcile import reconcile
from offchain.sim.run.replay import replay
from offchain.sim.scenario.load import ScenarioError, load_scenario
from offchain.sim.scenario.population import actor_address
from offchain.sim.strategies.gas_costs import SOFT_LIQUIDATION_GAS
from offchain.sim.strategies.keepers import VaultIndex
from offchain.sim.strategies.soft_liquidator import (
    REPAY_CHOICES,
    MarginView,
    SoftLiquidatorStep,
    SoftParams,
    read_margin_view,
    soft_terms,
)
from offchain.sim.strategies.steps import World
from offchain.system.config import load_config
from offchain.system.deployment import deploy_system

PRICE = 2_000 * WAD  # ETH-A's initial price (config/devnet.toml)
GAS = 10 * 10**9  # the keeper's bid [wei]: 2.6 stablecoin a call at 2,000
NO_MINIMUM = -(10**30)  # a min_profit any call clears: the sizing without the profit rule


@pytest.fixture
def market():
    """A deployment in the model; the keeper holds 1,000,000 stablecoin in the engine and has
    allowed the MarginCall; `open(owner, tokens, debt, opt_in)` opens an ETH-A vault."""
    backend = ModelBackend(1_700_000_000)
    gov, feeder = actor_address("governance"), actor_address("feeder")
    keeper = actor_address("soft_liquidator")
    d = deploy_system(backend, load_config(), gov, feeder)
    t = d.types["ETH-A"]
    index = VaultIndex(t.type_id)

    def open_vault(owner: str, tokens: int, debt: int, opt_in: bool = True) -> None:
        rate = backend.view(d.engine, "collateral_types", t.type_id)[1]
        backend.transact(t.token, "mint", gov, owner, tokens)
        backend.transact(t.token, "approve", owner, t.join, tokens)
        backend.transact(t.join, "join", owner, owner, tokens)
        normalized = debt * RAY // rate
        backend.transact(
            d.engine, "modify_vault", owner, t.type_id, owner, owner, owner, tokens, normalized
        )
        index.apply_args(
            {
                "collateral_type": t.type_id,
                "owner": owner,
                "delta_collateral": tokens,
                "delta_normalized_debt": normalized,
            }
        )
        if opt_in:
            backend.transact(d.margin_call, "opt_in", owner)
            backend.transact(d.engine, "allow", owner, d.margin_call)

    open_vault(keeper, 10_000 * WAD, 1_000_000 * WAD, opt_in=False)
    backend.transact(d.engine, "allow", keeper, d.margin_call)

    def world(market_price: int = PRICE) -> World:
        return World(
            d,
            backend.views,
            backend.call,
            clock=lambda: backend.last_block_time,
            next_block_time=lambda: backend.next_block_time,
            in_flight=set,
            index=lambda name: index,
            market_price=lambda name: market_price,
            follow=None,  # type: ignore[arg-type]
        )

    return backend, d, t, keeper, index, open_vault, world


def _params(d, keeper: str, min_profit: int = 10 * WAD) -> SoftParams:
    return SoftParams("soft_liquidator", keeper, d.margin_call, GAS, min_profit, PRICE)


def _status(backend, d, t, view: MarginView, owner: str) -> str:
    collateral, normalized = backend.view(d.engine, "vaults", t.type_id, owner)
    terms = view.terms
    warning = terms.parameters.warning_factor
    return status(collateral, normalized * terms.rate, terms.safe_price, terms.size, warning)


def test_soft_liquidator__repays_the_least_cure__the_call_succeeds_and_ends_above_warning(market):
    """A 20 ETH vault at 1.75 x its debt (called: between 1.5 and 1.5 x 1.2): the keeper repays
    the least normalized debt that lifts it above its warning level; one wei less is refused
    ("margin: still called"); its call goes through and leaves the vault safe and uncalled, its
    collateral at the exchange price x (1 + bonus) to the keeper."""
    backend, d, t, keeper, index, open_vault, world = market
    owner = actor_address("vault", 0)
    open_vault(owner, 20 * WAD, 40_000 * 20 * WAD // 35)  # 1.75 x the debt at 2,000
    view = read_margin_view(backend.views, d, t, keeper)
    assert _status(backend, d, t, view, owner) == CALLED
    step = SoftLiquidatorStep(keeper, GAS, 10 * WAD, repay="least")
    [action] = step.decide(world(), ["ETH-A", "WBTC-A"])
    assert action.function == "soft_liquidate" and action.contract == d.margin_call
    type_id, who, n, least_collateral = action.args
    assert (type_id, who) == (t.type_id, owner)
    limit = backend.view(d.margin_call, "max_repay", t.type_id, owner)
    assert 0 < n < limit  # the least cure, well inside the close factor
    stable_before = backend.view(d.engine, "stable", keeper)
    with pytest.raises(Revert, match="margin: still called"):
        backend.transact(d.margin_call, "soft_liquidate", keeper, t.type_id, owner, n - 1, 0)
    got = backend.transact(d.margin_call, "soft_liquidate", keeper, *action.args)
    assert got == least_collateral  # exactly what the keeper expected
    assert _status(backend, d, t, view, owner) == SAFE
    assert not backend.view(d.margin_call, "is_called", t.type_id, owner)
    # the money flow: the keeper paid n x rate and holds the collateral as free balance
    terms = view.terms
    assert stable_before - backend.view(d.engine, "stable", keeper) == n * terms.rate
    assert backend.view(d.engine, "collateral", t.type_id, keeper) == least_collateral
    assert least_collateral == n * terms.rate * (WAD + terms.parameters.bonus) // (
        terms.exchange_price * (RAY // WAD) * WAD
    )


def test_soft_liquidator__by_default_repays_the_middle_of_what_the_contract_accepts(market):
    """adv45-4: by default the keeper repays the middle between the least cure and the most the
    contract accepts (`margin_call.middle_accepted`), so one transaction between its read and its
    call, either way, leaves the call accepted (tests/security/test_adv45.py); the call cures."""
    backend, d, t, keeper, index, open_vault, world = market
    owner = actor_address("vault", 0)
    open_vault(owner, 20 * WAD, 40_000 * 20 * WAD // 35)  # 1.75 x the debt at 2,000
    view = read_margin_view(backend.views, d, t, keeper)
    [action] = SoftLiquidatorStep(keeper, GAS, 10 * WAD).decide(world(), ["ETH-A", "WBTC-A"])
    type_id, who, n, expected = action.args
    collateral, normalized = backend.view(d.engine, "vaults", t.type_id, owner)
    limit = mc.close_factor_limit(normalized, view.terms.parameters.close_factor)
    cure = mc.least_cure(view.terms, collateral, normalized, limit)
    assert cure is not None
    most = mc.most_accepted(cure, limit)
    assert n == mc.middle_accepted(cure, most) and cure < n < most
    assert backend.transact(d.margin_call, "soft_liquidate", keeper, *action.args) == expected
    assert _status(backend, d, t, view, owner) == SAFE


def test_soft_terms__a_least_cure_that_does_not_pay_its_gas__waits(market):
    """A vault just below its warning level needs a tiny repayment, whose 2% bonus is below the
    gas and the keeper's minimum. The bonus is paid only on the cure (issue 45, finding 5a): the
    keeper may repay at most the cure plus 1 bp, which does not pay either, so it waits; the
    contract refuses the repayment the keeper used to send (the least that cleared the minimum,
    "margin: repays more than the cure")."""
    backend, d, t, keeper, index, open_vault, world = market
    owner = actor_address("vault", 1)
    open_vault(owner, 20 * WAD, 40_000 * 1000 * WAD // 1799)  # 1.799 x the debt: called
    view = read_margin_view(backend.views, d, t, keeper)
    collateral, normalized = index.vaults[owner]
    cure = soft_terms(view, collateral, normalized, PRICE, _params(d, keeper, NO_MINIMUM))
    assert cure is not None and cure[2] < 50 * WAD
    assert soft_terms(view, collateral, normalized, PRICE, _params(d, keeper, 50 * WAD)) is None
    # what the old sizing sent: the least repayment whose bonus clears 50 after gas
    gas_cost = SOFT_LIQUIDATION_GAS * GAS * PRICE // WAD
    terms = view.terms
    n = cure[0]
    while mc.terms_out(terms, n) * PRICE // WAD - -(-n * terms.rate // RAY) - gas_cost < 50 * WAD:
        n *= 2
    with pytest.raises(Revert, match="margin: repays more than the cure"):
        backend.transact(d.margin_call, "soft_liquidate", keeper, t.type_id, owner, n, 0)
    backend.transact(d.margin_call, "soft_liquidate", keeper, t.type_id, owner, *cure[:2])
    assert _status(backend, d, t, view, owner) == SAFE


def test_soft_terms__market_below_the_exchange_price_by_more_than_the_bonus__waits(market):
    """In a crash the delayed oracle's price stays above the market: the collateral is worth less
    than the debt repaid plus the gas at the market, so no call pays and none is sent."""
    backend, d, t, keeper, index, open_vault, world = market
    owner = actor_address("vault", 2)
    open_vault(owner, 20 * WAD, 40_000 * 20 * WAD // 35)
    step = SoftLiquidatorStep(keeper, GAS, 10 * WAD)
    assert step.decide(world(PRICE * 97 // 100), ["ETH-A"]) == []
    assert step.decide(world(PRICE), ["ETH-A"]) != []


def test_soft_liquidator__skips_owners_without_both_consents_and_vaults_outside_the_band(market):
    backend, d, t, keeper, index, open_vault, world = market
    no_consent, flag_only, healthy = (actor_address("vault", i) for i in (3, 4, 5))
    open_vault(no_consent, 20 * WAD, 40_000 * 20 * WAD // 35, opt_in=False)
    open_vault(flag_only, 20 * WAD, 40_000 * 20 * WAD // 35, opt_in=False)
    backend.transact(d.margin_call, "opt_in", flag_only)  # no engine allowance
    open_vault(healthy, 20 * WAD, 40_000 * 20 * WAD // 40)  # 2 x its debt: not called
    assert SoftLiquidatorStep(keeper, GAS, 10 * WAD).decide(world(), ["ETH-A"]) == []


def test_soft_terms__no_cure_within_the_close_factor_or_a_remainder_below_dust__none(market):
    """A close factor of 10% cannot lift a vault at 1.55 to 1.8 (the contract would refuse it:
    "margin: still called"); a vault of 3,000 debt at 1.6 needs about a quarter repaid, which
    leaves less than the 2,500 dust (the engine would refuse it)."""
    backend, d, t, keeper, index, open_vault, world = market
    deep, small = actor_address("vault", 6), actor_address("vault", 7)
    open_vault(deep, 20 * WAD, 40_000 * 100 * WAD // 155)
    open_vault(small, 24 * WAD // 10, 3_000 * WAD)  # 4,800 of collateral: 1.6 x the debt
    view = read_margin_view(backend.views, d, t, keeper)
    p = _params(d, keeper, NO_MINIMUM)
    collateral, normalized = index.vaults[deep]
    assert soft_terms(view, collateral, normalized, PRICE, p) is not None  # at 50% it cures
    parameters = replace(view.parameters, close_factor=WAD // 10)
    tight = replace(view, terms=replace(view.terms, parameters=parameters))
    assert soft_terms(tight, collateral, normalized, PRICE, p) is None
    collateral, normalized = index.vaults[small]
    assert _status(backend, d, t, view, small) == CALLED
    assert soft_terms(view, collateral, normalized, PRICE, p) is None
    # the contract agrees: the least cure leaves less than the dust
    limit = backend.view(d.margin_call, "max_repay", t.type_id, small)
    cure = mc.least_cure(view.terms, collateral, normalized, limit)
    assert cure is not None
    with pytest.raises(Revert, match="engine: dust"):
        backend.transact(d.margin_call, "soft_liquidate", keeper, t.type_id, small, cure, 0)


def test_scenario__opt_in_share__spread_evenly_and_checked():
    """`opt_in_share` picks floor(count x share) owners, evenly, without touching the draws: the
    vaults are the same as without it; a share outside [0, 1] is one line."""
    base = load_scenario("may-2021-two-types", vaults=40)
    half = load_scenario(
        "may-2021-two-types", vaults=40, overrides={"vaults": {"opt_in_share": "0.5"}}
    )
    from offchain.sim.scenario.population import generate_vaults

    c = base.system.collateral[0]
    plain = generate_vaults(base.vaults, base.seed, c.initial_price, c.token_decimals, c.dust)
    opted = generate_vaults(half.vaults, half.seed, c.initial_price, c.token_decimals, c.dust)
    assert [(p.owner, p.collateral, p.debt) for p in plain] == [
        (p.owner, p.collateral, p.debt) for p in opted
    ]
    assert not any(p.opted_in for p in plain)
    assert [p.opted_in for p in opted] == [i % 2 == 1 for i in range(len(opted))]
    with pytest.raises(ScenarioError) as err:
        load_scenario("may-2021", overrides={"vaults": {"opt_in_share": "1.5"}})
    assert "vaults.opt_in_share: must be >= 0 and <= 1, got '1.5'" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.slow
def test_soft_liquidations__crash_replay_with_opt_ins__chain_and_model_agree(tmp_path):
    """may-2021-two-types, 150 vaults, every owner of both types opted in: the soft liquidator's
    calls run through the same recorder and latency model as every keeper's, on Anvil and in the
    model, and the two agree to the wei; every call that was mined succeeded and left its vault
    above its warning level (the SoftLiquidated events against the next bar's called test)."""
    scenario = load_scenario(
        "may-2021-two-types",
        vaults=150,
        overrides={"vaults": {"opt_in_share": "1"}, "types": {"opt_in_share": "1"}},
    )
    done = replay(scenario)
    chain, model = done.checked[0], done.model
    r = reconcile(chain, model)
    assert r.diffs == [] and r.diff_count == 0
    txs = chain.tables["txs"]
    soft = txs[txs["function"] == "soft_liquidate"]
    mined = soft[soft["status"] != "dropped"]
    assert len(mined) > 0 and (mined["status"] == "ok").all()
    events = chain.tables["events"]
    calls = [json.loads(a) for a in events[events.event == "SoftLiquidated"].args]
    assert len(calls) == len(mined) == chain.facts["soft_liquidations"]
    assert chain.facts["opted_in_vaults"] == 150
    table = chain.tables["soft_liquidations"]
    assert set(table["collateral_type"]) <= {"ETH-A", "WBTC-A"}
    assert (table["bonus_value"] > 0).all()
    # each call paid at most the bonus on what it repaid, at the exchange price
    for x in calls:
        assert int(x["collateral"]) * int(x["price"]) * 10**9 <= int(x["debt"]) * 102 // 100
    # the report counts them per type, beside the type's liquidations
    from offchain.report.documents import write_report
    from offchain.report.tables import scenario_lines

    summary = write_report(tmp_path / "report", chain, r, scenario_lines(scenario)).read_text()
    assert "## Margin calls: soft liquidations" in summary
    assert f"{chain.facts['opted_in_vaults']:,} vaults' owners opted in" in summary
    eth = table[table["collateral_type"] == "ETH-A"]
    assert f"| ETH-A | {len(eth):,} | {eth['owner'].nunique():,} | " in summary
    assert (tmp_path / "report" / "data" / "soft_liquidations.csv").exists()


def test_soft_terms__repay_most__the_cure_plus_the_tolerance_never_the_close_factor(market):
    """`soft_liquidation_repay = "most"` (it was "close_factor": the limit, the bonus on half the
    debt where the least cure would do; refused now, issue 45 finding 5a): the keeper repays the
    most the contract accepts, the least cure plus 1 bp of the repayment, well inside the close
    factor. One wei more is refused ("margin: repays more than the cure"); the call succeeds and
    leaves the vault above its warning level."""
    backend, d, t, keeper, index, open_vault, world = market
    owner = actor_address("vault", 8)
    open_vault(owner, 20 * WAD, 40_000 * 20 * WAD // 35)
    view = read_margin_view(backend.views, d, t, keeper)
    collateral, normalized = index.vaults[owner]
    least = soft_terms(view, collateral, normalized, PRICE, _params(d, keeper))
    most = soft_terms(
        view, collateral, normalized, PRICE, replace(_params(d, keeper), repay="most")
    )
    assert least is not None and most is not None
    limit = backend.view(d.margin_call, "max_repay", t.type_id, owner)
    assert least[0] < most[0] <= least[0] + mc.cure_step(most[0]) < limit
    assert most[2] >= least[2]  # at most 1 bp more bonus to the caller
    [action] = SoftLiquidatorStep(keeper, GAS, 10 * WAD, "most").decide(world(), ["ETH-A"])
    assert action.args[2:] == (most[0], most[1])
    with pytest.raises(Revert, match="margin: repays more than the cure"):
        backend.transact(d.margin_call, "soft_liquidate", keeper, t.type_id, owner, most[0] + 1, 0)
    with pytest.raises(Revert, match="margin: repays more than the cure"):
        backend.transact(d.margin_call, "soft_liquidate", keeper, t.type_id, owner, limit, 0)
    backend.transact(d.margin_call, "soft_liquidate", keeper, *action.args)
    assert _status(backend, d, t, view, owner) == SAFE


def test_soft_terms__every_call_sent__within_the_cure_and_its_tolerance(market):
    """The keeper never sends what the contract refuses: for vaults across the band, each
    option's repayment is at least the least cure and at most the most accepted, and the
    contract's own refusal ("repays more than the cure") does not fire on it."""
    backend, d, t, keeper, index, open_vault, world = market
    owners = [actor_address("vault", 20 + i) for i in range(6)]
    for i, owner in enumerate(owners):
        open_vault(owner, 20 * WAD, 40_000 * 1000 * WAD // (1_520 + 50 * i))
    view = read_margin_view(backend.views, d, t, keeper)
    for owner in owners:
        collateral, normalized = index.vaults[owner]
        for repay in REPAY_CHOICES:
            got = soft_terms(
                view, collateral, normalized, PRICE, replace(_params(d, keeper), repay=repay)
            )
            if got is None:
                continue
            limit = mc.close_factor_limit(normalized, view.parameters.close_factor)
            cure = mc.least_cure(view.terms, collateral, normalized, limit)
            assert cure is not None and cure <= got[0] <= mc.most_accepted(cure, limit)
            assert not mc.repays_more_than_cure(view.terms, collateral, normalized, got[0])
