"""Issue 63, finding 3 (low): parameters that fight. The margin call's warning factor could be set
to 1.5 beside the deleveraging layer's default buffer of 0.25, so a deleveraging charge (which
leaves a vault at 1.25 x its requirement) put an opted-in vault in the called band, and anyone
took the bonus from it. Now every warning factor is at most 1 + the buffer: the MarginCall
refuses a larger one, the Backstop a smaller buffer (tests/contracts/margin_call/
test_setters.py), the loader names both keys (tests/system/test_config.py).

Here, on revm in lockstep with the model: the relation at its edge (a warning factor of exactly
1 + buffer: the charged vault is not called), and the survey's pair documented as a bound with
its worst case measured: a liquidation cap below a dust-size auction's tab (docs/security.md,
"The fifth round")."""

from __future__ import annotations

from dataclasses import replace

import pytest

from offchain.backends import ANVIL_ACCOUNTS, Lockstep, RevmBackend, model_beside
from offchain.model.backstop import Layer
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import Role
from offchain.system.config import SystemConfig, load_config
from offchain.system.deployment import deploy_system
from offchain.testing.fuzz import REVM_GENESIS, Artifacts
from offchain.testing.harness import TEST_FACTORIES, Roles, System, reverts

ETH = "ETH-A"


def _revm_system(artifacts: Artifacts, cfg: SystemConfig) -> System:
    evm = RevmBackend(*artifacts, REVM_GENESIS)
    roles = Roles(*ANVIL_ACCOUNTS[:6])
    model = model_beside(evm, roles.users, TEST_FACTORIES)
    d = deploy_system(Lockstep(evm, model), cfg, roles.governance, roles.feeder, seed_pools=False)
    return System(evm, model, d, roles)


def _vault(system: System, owner: str, collateral: int, art: int) -> None:
    """`owner`'s ETH-A vault of `collateral` [wad] and `art` normalized debt, from governance's
    minted tokens (the owner allows governance, which locks and draws for it)."""
    g, t, e = system.roles.governance, system.d.types[ETH], system.d.engine
    system.tx(t.token, "mint", g, g, collateral)
    system.tx(t.token, "approve", g, t.join, collateral)
    system.tx(t.join, "join", g, g, collateral)
    system.tx(e, "allow", owner, g)
    system.tx(e, "modify_vault", g, t.type_id, owner, g, g, collateral, art)


def test_finding_63_3__warning_at_one_plus_the_buffer__a_charged_vault_is_not_called(artifacts):
    """Money flow: ETH-A's warning factor at the edge the contracts allow, 1.25 (the default
    buffer 0.25), the max fraction 1; an opted-in vault of 100 ETH / 40,000 (3.33 x its
    requirement at 2,000 and 1.5 x) is charged 66,666.67, its whole headroom, down to 1.25 x
    its requirement at the lowest shown price: it is not called, and a soft liquidation is
    refused "margin: not called". Before the fix (868be10: warning factor 1.5 accepted beside
    the buffer 0.25), the same charge left it called and a soft liquidation repaid 33,333.33
    of its debt for 17.5 ETH, a bonus of 1,666.67 taken from its owner. The warning factor one
    ray-unit above the edge is refused."""
    cfg = load_config()
    edge = RAY + cfg.waterfall.deleverage_buffer * 10**9
    cfg = replace(
        cfg,
        waterfall=replace(cfg.waterfall, order=(Layer.DELEVERAGE,)),
        collateral=tuple(
            replace(c, margin_warning_factor=edge, margin_bonus=WAD // 20) for c in cfg.collateral
        ),
    )
    system = _revm_system(artifacts, cfg)
    r, d, t = system.roles, system.d, system.d.types[ETH]
    owner = r.borrower
    _vault(system, owner, 100 * WAD, 40_000 * WAD)
    system.tx(d.margin_call, "opt_in", owner)
    system.tx(d.engine, "allow", owner, d.margin_call)
    # a loss parked for the layer: 200,000 (more than the vault's headroom)
    g, b = r.governance, d.backstop
    system.tx(b, "grant_role", g, g, int(Role.OPEN_LOSS | Role.CLOSE_LOSS))
    system.tx(d.engine, "create_unbacked", g, b, g, 200_000 * RAD)
    system.tx(b, "open_loss", g, t.type_id, g, 1, 200_000 * RAD, WAD)
    system.tx(b, "close_loss", g, t.type_id, 1, 200_000 * RAD, 0)
    system.warp(system.contract(b).queue_delay + 1)
    system.tx(b, "cover", g, t.type_id, g, 1)
    system.tx(b, "set_deleverage_limits", g, WAD, 86_400)
    system.tx(b, "grant_role", g, r.keeper, int(Role.DELEVERAGE))
    assert system.view(d.margin_call, "is_called", t.type_id, owner) is False
    system.tx(b, "deleverage", r.keeper, t.type_id, [owner], [WAD])
    charged = [e.args["debt"] for e in system.events if e.name == "VaultDeleveraged"]
    assert len(charged) == 1 and 66_666 * RAD < charged[0] < 66_667 * RAD
    assert system.view(d.margin_call, "is_called", t.type_id, owner) is False
    system.tx(d.engine, "create_unbacked", g, g, r.keeper, 40_000 * RAD)
    system.tx(d.engine, "allow", r.keeper, d.margin_call)
    with reverts("margin: not called"):
        system.tx(d.margin_call, "soft_liquidate", r.keeper, t.type_id, owner, 10_000 * WAD, 0)
    with reverts("margin: warning above the deleverage buffer"):
        system.tx(d.margin_call, "set_parameters", g, t.type_id, edge + 1, WAD // 20, WAD // 2)
    system.check()


@pytest.mark.parametrize("room", [-1, 0])
def test_finding_63_3_survey__cap_below_a_dust_auctions_tab__large_vaults_never_liquidated(
    artifacts, room
):
    """The survey's pair left as a documented bound (docs/security.md): the Liquidator never
    leaves less than the dust, so with a type's cap on debt in auction below a dust-size
    auction's tab (dust x penalty: 2,825 at the devnet's 2,500 and 1.13) every vault of more
    than about two dusts is refused "liquidator: partial auction below dust", however unsafe
    (measured: a vault of 1,000,000 at 1.2x, below its 1.5x ratio), while a vault under
    two dusts is taken whole (the documented overshoot). At the tab plus a stablecoin the
    large vault's first partial auction starts. Neither contract relates the two (the engine's
    dust and the Liquidator's caps): governance's duty, as the pool's exposure delay against
    the oracles' delays is."""
    system = _revm_system(artifacts, load_config())
    r, d, t = system.roles, system.d, system.d.types[ETH]
    engine = system.engine()
    dust = engine.collateral_types[t.type_id].dust
    penalty = system.contract(d.liquidator).types[t.type_id].penalty
    tab = dust * penalty // WAD
    assert tab == 2_825 * RAD
    cap = tab - RAD if room < 0 else tab + RAD
    system.tx(d.liquidator, "configure_type", r.governance, t.type_id, t.auction, penalty, cap)
    big, small = r.borrower, r.other
    _vault(system, big, 500 * WAD, 500_000 * WAD)  # 1,000,000 of collateral at 2,000: 2x
    _vault(system, small, 3 * WAD, 3_000 * WAD)  # 6,000 of collateral: 2x
    # ETH falls to 1,200 (a safe price of 800): both at 1.2x, below the 1.5x ratio
    system.tx(t.oracle, "post", r.feeder, 1_200 * WAD)
    for _ in range(2):
        system.warp(t.config.oracle_delay)
        system.tx(t.oracle, "poke", r.keeper)
    system.tx(d.spotter, "poke", r.keeper, t.type_id)
    assert not system.model.contract(d.engine).is_safe(t.type_id, big)
    if room < 0:
        with reverts("liquidator: partial auction below dust"):
            system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, big, r.keeper)
        system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, small, r.keeper)
        assert system.engine().vaults[(t.type_id, small)].normalized_debt == 0
    else:
        system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, big, r.keeper)
        left = system.engine().vaults[(t.type_id, big)].normalized_debt
        assert 0 < left < 500_000 * WAD
    system.check()


def test_finding_63_3__setting_the_relation_refused_on_revm_in_both_orders(artifacts):
    """On revm and in the model alike: the Backstop's buffer cannot go below the highest warning
    factor - 1 (1.2 on both types: 0.2), nor a warning factor above 1 + the buffer; lowering
    both takes the warning factors first, raising both the buffer first."""
    system = _revm_system(artifacts, load_config())
    r, d, t = system.roles, system.d, system.d.types[ETH]
    g = r.governance
    with reverts("backstop: buffer below a warning factor"):
        system.tx(d.backstop, "set_deleverage_buffer", g, WAD // 5 - 1)
    system.tx(d.backstop, "set_deleverage_buffer", g, WAD // 5)
    with reverts("margin: warning above the deleverage buffer"):
        system.tx(d.margin_call, "set_parameters", g, t.type_id, 12 * RAY // 10 + 1, 0, WAD // 2)
    system.tx(d.backstop, "set_deleverage_buffer", g, WAD // 2)
    system.tx(d.margin_call, "set_parameters", g, t.type_id, 3 * RAY // 2, 0, WAD // 2)
    system.check()


def test_finding_63_3_survey__bonus_against_penalty__worst_case_at_the_edge(artifacts):
    """The survey's bonus-against-penalty pair, documented as a bound (docs/security.md): the
    soft liquidation's owner pays the bonus on the least cure, a liquidation the penalty on the
    debt it seizes. At the bounds the contracts allow together (bonus 5%, warning factor 1.25 =
    1 + the default buffer, ratio 1.5), a vault at its liquidation edge (1.5x, 20,000 of debt)
    is cured by repaying 45.4% of its debt (9,088.6): a bonus of 2.27% of the debt (454.4),
    more than a liquidation's penalty would cost below 1.0227 (the penalty's bound is 1 to 2:
    the devnet's 1.13 costs 2,600 on the same vault). Neither contract sees the other's parameter: a
    governance choice, measured here."""
    from offchain.model import margin_call as mc

    cfg = load_config()
    edge = RAY + cfg.waterfall.deleverage_buffer * 10**9
    cfg = replace(
        cfg,
        collateral=tuple(
            replace(c, margin_warning_factor=edge, margin_bonus=WAD // 20) for c in cfg.collateral
        ),
    )
    system = _revm_system(artifacts, cfg)
    r, d, t = system.roles, system.d, system.d.types[ETH]
    owner = r.borrower
    # 15 ETH at 2,000 (a safe price of 1,333.3): 20,000 of requirement, the vault at 1.5x
    _vault(system, owner, 15 * WAD, 19_999 * WAD)
    system.tx(d.margin_call, "opt_in", owner)
    system.tx(d.engine, "allow", owner, d.margin_call)
    margin_call = system.model.contract(d.margin_call)
    assert margin_call.is_called(t.type_id, owner)
    terms = mc.twin_terms(margin_call, t.type_id)
    assert terms is not None
    vault = system.engine().vaults[(t.type_id, owner)]
    limit = mc.close_factor_limit(vault.normalized_debt, terms.parameters.close_factor)
    cure = mc.least_cure(terms, vault.collateral, vault.normalized_debt, limit)
    assert cure is not None
    g = r.governance
    system.tx(d.engine, "create_unbacked", g, g, r.keeper, 20_000 * RAD)
    system.tx(d.engine, "allow", r.keeper, d.margin_call)
    system.tx(d.margin_call, "soft_liquidate", r.keeper, t.type_id, owner, cure, 0)
    (event,) = [e for e in system.events if e.name == "SoftLiquidated"]
    bonus = event.args["bonus_value"]
    assert 9_088 * RAD < event.args["debt"] < 9_090 * RAD  # 45.4% of the debt
    assert 454 * RAD < bonus < 455 * RAD  # 2.27% of the debt: a penalty of 1.0227 costs as much
    system.check()
