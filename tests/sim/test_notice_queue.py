"""Issue 72's finding, reproduced through governance's Timelock on revm beside its twin: a
proposal that seizes a vault's 1,000 ETH, creates 1,000,000 unbacked stablecoin and mints
1,000,000 governance tokens for a beneficiary, hands it the governance token, redirects the
fees, replaces the Backstop's layers and a type's auction, relinks the MarginCall and sets ETH-A's
safe price to 0. The notifier (NoticeStep, reading the chain and the proposal's own `CallQueued`
calldata as `ape run keeper --role notifier` does) announces every one of those calls, and
warns each ETH-A owner the safe price makes unsafe, before the eta; at the eta the proposal runs
and the beneficiary holds what it was announced to take."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import to_checksum_address

from offchain.backends import ANVIL_ACCOUNTS, Lockstep, RevmBackend, model_beside
from offchain.backends.abi import CalldataReader
from offchain.model.fixed_point import RAD, WAD
from offchain.sim.strategies.keepers import VaultIndex
from offchain.sim.strategies.notice import (
    SAFE,
    UNSAFE,
    NoticeStep,
    QueuedCall,
    QueuedChange,
    read_call,
)
from offchain.sim.strategies.steps import World
from offchain.system import governance
from offchain.system.config import load_config
from offchain.system.deployment import deploy_system, hand_to_timelock
from offchain.testing.fuzz import REVM_GENESIS, Artifacts
from offchain.testing.harness import TEST_FACTORIES, Roles, System

DELAY = 6 * 3600
BENEFICIARY = to_checksum_address("0x" + "be" * 20)
# the victims: 1,000 ETH against 1,000,000 (ratio 2 at 2,000), 100 ETH against 105,000 (1.9),
# both safe and uncalled (the warning level is 1.5 x 1.2 = 1.8)
VICTIM_TOKENS, VICTIM_DEBT = 1_000 * WAD, 1_000_000 * WAD
OTHER_TOKENS, OTHER_DEBT = 100 * WAD, 105_000 * WAD


@pytest.fixture(scope="module")
def system(artifacts: Artifacts) -> System:
    evm = RevmBackend(*artifacts, REVM_GENESIS)
    roles = Roles(*ANVIL_ACCOUNTS[:6])
    model = model_beside(evm, roles.users, TEST_FACTORIES)
    d = deploy_system(Lockstep(evm, model), load_config(), roles.governance, roles.feeder)
    hand_to_timelock(Lockstep(evm, model), d, DELAY, 7 * 86400)
    s = System(evm, model, d, roles)
    s.open_vault(roles.borrower, "ETH-A", VICTIM_TOKENS, VICTIM_DEBT)
    s.open_vault(roles.other, "ETH-A", OTHER_TOKENS, OTHER_DEBT)
    return s


def _index(s: System) -> VaultIndex:
    """ETH-A's vaults as the keepers' index holds them (from the chain)."""
    t = s.eth
    index = VaultIndex(t.type_id)
    for owner in (s.roles.borrower, s.roles.other):
        collateral, normalized = s.view(s.d.engine, "vaults", t.type_id, owner)
        index.apply_args(
            {
                "collateral_type": t.type_id,
                "owner": owner,
                "delta_collateral": collateral,
                "delta_normalized_debt": normalized,
            }
        )
    return index


def _world(s: System, index: VaultIndex) -> World:
    return World(
        s.d,
        s.chain.views,
        s.chain.call,
        clock=lambda: s.now + 1,
        next_block_time=lambda: s.now + 1,
        in_flight=set,
        index=lambda name: index if name == "ETH-A" else VaultIndex(s.d.types[name].type_id),
        market_price=lambda name: 0,
        follow=None,  # type: ignore[arg-type]
    )


def test_notifier__a_proposal_that_takes_value_at_the_eta__a_line_for_every_call(
    system: System, artifacts: Artifacts
):
    s, d, eth = system, system.d, system.eth
    ls = s.lockstep
    penalty, cap = s.view(d.liquidator, "types", eth.type_id)[1:3]
    calls: list[tuple[str, str, tuple[Any, ...]]] = [
        # the victim's 1,000 ETH to the beneficiary, its debt to the Backstop as bad debt
        (d.engine, "seize", (eth.type_id, s.roles.borrower, BENEFICIARY, d.backstop,
                             -VICTIM_TOKENS, -VICTIM_DEBT)),
        (d.engine, "create_unbacked", (d.backstop, BENEFICIARY, 1_000_000 * RAD)),
        (d.governance_token, "mint", (BENEFICIARY, 1_000_000 * WAD)),
        (d.governance_token, "transfer_ownership", (BENEFICIARY,)),
        (d.fees, "set_fee_recipient", (BENEFICIARY,)),
        (d.fees, "set_pool_fee_share", (d.stability_pool, 0)),  # every accrual to the recipient
        (d.backstop, "set_layer_contracts", (d.stability_pool, d.debt_auction,
                                             d.surplus_auction)),
        (d.liquidator, "configure_type", (eth.type_id, eth.auction, penalty, cap)),
        (d.backstop, "set_margin_call", (d.margin_call,)),
        (d.engine, "set_safe_price", (eth.type_id, 0)),
    ]  # fmt: skip
    with s.what_if():
        proposal_id, eta = governance.propose(ls, d, calls)
        # what the notifier reads: the proposal's calls as its CallQueued events carry them,
        # read with the contracts' ABIs
        raw = [(e.args["target"], e.args["data"]) for e in s.events if e.name == "CallQueued"]
        abis = {name: abi for name, (abi, _) in artifacts[0].items()}
        reader = CalldataReader(abis, s.model.names)
        decoded = [read_call(reader, target, data) for target, data in raw]
        assert [(t, f) for t, f, _ in decoded] == [(t, f) for t, f, _ in calls]
        lines: list[tuple[str, dict]] = []  # the proposal's (the oracle's notices apart)

        def emit(event: str, fields: dict[str, Any]) -> None:
            if event.startswith("proposal_"):
                lines.append((event, fields))

        step = NoticeStep(
            emit,
            queued=lambda: QueuedChange.of(proposal_id, eta, decoded, d),
            calls=lambda: QueuedCall.of(
                proposal_id, eta, decoded, lambda a: s.model.names.get(a, a)
            ),
        )
        step.decide(_world(s, _index(s)), list(d.types))
        by_call = {f["call"]: (e, f) for e, f in lines if "call" in f}
        kinds = {call: event for call, (event, _) in by_call.items()}
        assert kinds == {
            "seize": "proposal_value",
            "create_unbacked": "proposal_value",
            "mint": "proposal_value",
            "transfer_ownership": "proposal_grant",
            "set_fee_recipient": "proposal_value",
            "set_pool_fee_share": "proposal_value",
            "set_layer_contracts": "proposal_value",
            "configure_type": "proposal_value",
            "set_margin_call": "proposal_vault_limit",
            "set_safe_price": "proposal_vault_limit",
        }
        seize = by_call["seize"][1]
        assert seize["contract"] == "VaultEngine" and seize["eta"] == eta
        assert seize["args"][:3] == ["ETH-A", s.roles.borrower, BENEFICIARY]
        assert seize["args"][4] == str(-VICTIM_TOKENS)
        assert by_call["transfer_ownership"][1]["account"] == BENEFICIARY
        assert by_call["set_safe_price"][1]["per_vault"] is True
        assert by_call["set_margin_call"][1]["per_vault"] is False
        # each ETH-A owner is told its vault is unsafe at the eta (safe now)
        notices = [f for e, f in lines if e == "proposal_notice"]
        assert {(f["owner"], f["status_now"], f["status"]) for f in notices} == {
            (s.roles.borrower, SAFE, UNSAFE),
            (s.roles.other, SAFE, UNSAFE),
        }
        assert all(f["safe_price"] == "0" and f["seconds_left"] == eta - s.now - 1 for f in notices)
        assert notices[0]["changes"] == ["VaultEngine.set_safe_price"]
        assert len(lines) == len(calls) + 2
        # another round: nothing new
        step.decide(_world(s, _index(s)), list(d.types))
        assert len(lines) == len(calls) + 2

        # the eta: it runs, and the beneficiary holds what the lines announced
        stable_before = s.view(d.engine, "stable", BENEFICIARY)
        ls.set_next_block_time(eta)
        governance.execute(ls, d, proposal_id, calls)
        assert s.view(d.engine, "collateral", eth.type_id, BENEFICIARY) == VICTIM_TOKENS
        assert s.view(d.engine, "vaults", eth.type_id, s.roles.borrower) == (0, 0)
        assert s.view(d.engine, "stable", BENEFICIARY) - stable_before == 1_000_000 * RAD
        assert s.view(d.governance_token, "balanceOf", BENEFICIARY) == 1_000_000 * WAD
        assert s.view(d.governance_token, "owner") == BENEFICIARY
        assert s.view(d.engine, "safe_price", eth.type_id) == 0
        assert not s.view(d.engine, "is_safe", eth.type_id, s.roles.other)
        # a day of fees later, the accrual goes to the beneficiary
        s.warp(86_400)
        before = s.view(d.engine, "stable", BENEFICIARY)
        fund = s.view(d.engine, "stable", d.backstop)
        normalized, rate = s.view(d.engine, "collateral_types", eth.type_id)[:2]
        ls.transact(d.fees, "accrue", s.roles.keeper, eth.type_id)
        fees = s.view(d.engine, "stable", BENEFICIARY) - before
        # the whole accrual: the type's normalized debt x the rate's rise, none to the fund
        rise = s.view(d.engine, "collateral_types", eth.type_id)[1] - rate
        assert fees == normalized * rise > 0
        assert s.view(d.engine, "stable", d.backstop) == fund
