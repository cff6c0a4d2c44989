"""Who may call what, cell by cell, on chain and in the model: every caller is refused exactly when
WHO_MAY_CALL says so, and the table covers every privileged function of every deployed contract
and matches docs/security.md. The table and probes: tests/contracts/support/roles.py.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_utils import keccak
from support.roles import AUTH_FUNCTIONS, AUTH_REASON, KINDS, WHO_MAY_CALL
from support.roles import instances as _instances

from offchain.backends import ChainBackend, RpcError
from offchain.model.errors import Revert
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.price_curves import LINEAR
from offchain.model.state import Role
from offchain.system.deployment import Deployment, TypeDeployment, hand_to_timelock
from offchain.testing.harness import System, reverts

# the reason of the model's probe, raised after a call that went through, to roll it back
_PROBE_DONE = "roles probe: call went through"
_ERROR_SELECTOR = keccak(text="Error(string)")[:4]
CONTRACTS_DIR = Path(__file__).resolve().parents[3] / "contracts"

GOVERNANCE = "governance"
STRANGER = "stranger"


def _args(system: System, kind: str, function: str, t: TypeDeployment | None) -> tuple:
    """ABI-valid arguments for the call (valid enough to pass the authorization check)."""
    d, stranger = system.d, system.roles.stranger
    tid = t.type_id if t is not None else system.eth.type_id
    if function in AUTH_FUNCTIONS:
        return (stranger,) if function.endswith("authority") else (stranger, int(Role.START))
    table: dict[tuple[str, str], tuple] = {
        ("VaultEngine", "init_type"): (b"NEW-A".ljust(32, b"\0"),),
        ("VaultEngine", "set_global_debt_ceiling"): (RAD,),
        ("VaultEngine", "set_dust"): (tid, RAD),
        ("VaultEngine", "set_size_margin"): (tid, 10_000, 100_000, 300_000),
        ("VaultEngine", "set_debt_ceiling"): (tid, RAD),
        ("VaultEngine", "set_fee_kink"): (tid, WAD),
        ("VaultEngine", "set_safe_price"): (tid, RAY),
        ("VaultEngine", "shutdown"): (),
        ("VaultEngine", "modify_collateral_balance"): (tid, stranger, WAD),
        ("VaultEngine", "join_vault"): (tid, stranger, WAD, 0),
        ("VaultEngine", "seize"): (tid, stranger, stranger, stranger, 0, 0),
        ("VaultEngine", "fold_rate"): (tid, stranger, 1),
        ("VaultEngine", "create_unbacked"): (stranger, stranger, RAD),
        ("Spotter", "set_oracle"): (tid, stranger),
        ("Spotter", "set_liquidation_ratio"): (tid, RAY),
        ("Backstop", "set_queue_delay"): (60,),
        ("Backstop", "set_waterfall"): ([0, 1, 2, 3],),
        ("Backstop", "set_layer_contracts"): (d.stability_pool, d.debt_auction, d.surplus_auction),
        ("Backstop", "set_auction_parameters"): (RAD, RAD, RAD),
        ("Backstop", "set_deleverage_buffer"): (WAD,),
        ("Backstop", "set_deleverage_limits"): (WAD, 0),
        ("Backstop", "release_deleverage"): (tid, RAD),
        ("Backstop", "set_margin_call"): (d.margin_call,),
        ("Backstop", "deleverage"): (tid, [stranger], [WAD]),
        ("Backstop", "open_loss"): (tid, stranger, 1, RAD, WAD),
        ("Backstop", "close_loss"): (tid, 1, 0, 0),
        ("Backstop", "shutdown"): (),
        ("FeeAccumulator", "init_type"): (tid,),
        ("FeeAccumulator", "set_base_fee"): (tid, RAY),
        ("FeeAccumulator", "set_multiplier"): (tid, WAD, WAD),
        ("FeeAccumulator", "set_fee_recipient"): (stranger,),
        ("FeeAccumulator", "set_pool_fee_share"): (d.stability_pool, 0),
        ("FeeAccumulator", "set_pool_max_yield"): (WAD // 10,),
        ("CeilingManager", "configure"): (tid, RAD, RAD, 60),
        ("CeilingManager", "remove"): (tid,),
        ("Liquidator", "set_max_debt_in_auction"): (RAD,),
        ("Liquidator", "configure_type"): (tid, system.eth.auction, WAD, RAD),
        ("Liquidator", "shutdown"): (),
        ("Liquidator", "remove_debt_in_auction"): (tid, 0),
        ("StabilityPool", "set_cooldown"): (60,),
        ("StabilityPool", "set_exposure"): (60, 60),
        ("StabilityPool", "add_income"): (0,),
        ("DebtAuction", "set_parameters"): (WAD, WAD, WAD, 60, 60),
        ("DebtAuction", "start"): (RAD,),
        ("DebtAuction", "shutdown"): (),
        ("SurplusAuction", "set_parameters"): (WAD, 60, 60),
        ("SurplusAuction", "start"): (RAD,),
        ("SurplusAuction", "shutdown"): (),
        ("GlobalSettlement", "set_wait"): (60,),
        ("GlobalSettlement", "shutdown"): (),
        ("CollateralJoin", "shutdown"): (),
        ("PriceOracle", "set_feeder"): (stranger, True),
        ("PriceOracle", "set_delay"): (60,),
        ("PriceOracle", "set_max_age"): (86_400,),
        ("PriceOracle", "set_max_change"): (WAD,),
        ("PriceOracle", "void"): (),
        ("DutchAuction", "set_parameters"): (RAY, 3600, 0, 0, 0),
        ("DutchAuction", "set_curve"): ((LINEAR, 3600, 0, 0),),
        ("DutchAuction", "set_oracle"): (t.oracle if t is not None else stranger,),
        ("DutchAuction", "set_stopped"): (1,),
        ("DutchAuction", "start"): (RAD, WAD, stranger, stranger),
        ("DutchAuction", "cancel_for_settlement"): (1, RAY),
        ("MarginCall", "set_parameters"): (tid, RAY + 1, 0, WAD // 2),
        ("MarginCall", "remove"): (tid,),
    }
    return table[(kind, function)]


def _callers(system: System) -> list[tuple[str, str]]:
    """(label, address) of every caller: governance, each deployed contract, a stranger."""
    r = system.roles
    return [(GOVERNANCE, r.governance), *system.d.contracts(), (STRANGER, r.stranger)]


def _allowed(kind: str, function: str, caller_label: str) -> bool:
    if caller_label == GOVERNANCE:
        return True
    return caller_label.split(" ")[0] in WHO_MAY_CALL[(kind, function)]


def _chain_reason(system: System, address: str, function: str, sender: str, args: tuple) -> Any:
    """None if the call goes through on chain, else its revert reason (an eth_call: no state
    changes)."""
    chain = system.chain
    assert isinstance(chain, ChainBackend)  # the `system` fixture runs on Anvil
    tx, _ = chain.call_data(address, function, *args)
    try:
        chain.rpc("eth_call", [{**tx, "from": sender}, "latest"])
    except RpcError as exc:
        data = bytes.fromhex((exc.data or "0x")[2:])
        if data[:4] == _ERROR_SELECTOR:
            return abi_decode(["string"], data[4:])[0]
        return f"revert without reason ({exc})"
    return None


def _model_reason(system: System, address: str, function: str, sender: str, args: tuple) -> Any:
    """None if the call goes through in the model, else its revert reason; either way the
    model is left as it was (the call runs as a transaction that is then rolled back)."""
    fn = getattr(system.contract(address), function)

    def probe() -> None:
        fn(sender, *args)
        raise Revert(_PROBE_DONE)

    try:
        system.model.env.transact(probe)
    except Revert as exc:
        return None if exc.reason == _PROBE_DONE else exc.reason
    raise AssertionError("the probe always reverts")


def _privileged_functions(source: str) -> set[str]:
    """The external functions of a contract's source that check authorization."""
    out = set()
    for match in re.finditer(r"@external\n(?:@\w+\n)*def (\w+)\(", source):
        end = source.find("\n@", match.end())
        body = source[match.end() : end if end != -1 else len(source)]
        if re.search(r"auth\._check_(authorized|role)\(", body):
            out.add(match.group(1))
    return out


def _docs_table() -> dict[tuple[str, str], frozenset[str]]:
    """docs/security.md's per-function table: (contract, function) -> who besides governance."""
    text = (CONTRACTS_DIR.parent / "docs" / "security.md").read_text()
    start = text.index("| contract | function | who may call it")
    out: dict[tuple[str, str], frozenset[str]] = {}
    kinds: list[str] = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        contract, functions, callers = (cell.strip() for cell in line.strip("|").split("|"))
        if contract:
            kinds = re.findall(r"`(\w+)`", contract)
        who = frozenset(
            c.strip().removeprefix("each ") for c in callers.split(",") if c.strip() != "admin"
        )
        for kind in kinds:
            for function in re.findall(r"`(\w+)`", functions):
                out[(kind, function)] = who
    return out


@pytest.mark.parametrize(("kind", "function"), sorted(WHO_MAY_CALL))
def test_who_may_call__every_caller__refused_exactly_when_the_table_says(system, kind, function):
    """Money flow: none (calls only). Each (function, caller) cell: refused with the
    authorization reason on chain and in the model iff the caller is neither governance nor a
    contract of a kind the table lists."""
    wrong = []
    for address, t in _instances(system.d, kind):
        args = _args(system, kind, function, t)
        for label, caller in _callers(system):
            expect_refused = not _allowed(kind, function, label)
            for side, reason in (
                ("chain", _chain_reason(system, address, function, caller, args)),
                ("model", _model_reason(system, address, function, caller, args)),
            ):
                if (reason == AUTH_REASON) != expect_refused:
                    wrong.append(
                        f"{side}: {kind}.{function} from {label}: "
                        f"expected {'refused' if expect_refused else 'allowed'}, got {reason!r}"
                    )
    assert not wrong, "\n".join(wrong)


def test_who_may_call__table_covers_every_privileged_function_of_every_contract():
    """The specification lists each function that checks authorization, in each contract that
    uses modules/authorized.vy, and nothing else."""
    in_table = {(kind, fn) for kind, fn in WHO_MAY_CALL if fn not in AUTH_FUNCTIONS}
    in_source = set()
    for path in CONTRACTS_DIR.glob("*.vy"):
        source = path.read_text()
        if "initializes: auth" in source:
            in_source |= {(path.stem, fn) for fn in _privileged_functions(source)}
            assert path.stem in KINDS, f"{path.stem} uses authorized.vy but is not in the table"
    assert in_table == in_source


def test_who_may_call__docs_table_is_the_specification():
    """docs/security.md, "Who may call what", says exactly what this test checks."""
    assert _docs_table() == {k: v for k, v in WHO_MAY_CALL.items() if k[1] not in AUTH_FUNCTIONS}


def test_who_may_call__every_deployed_contract_with_roles_is_in_the_table(system):
    """Each deployed contract that exports grant_role is one of the table's instances."""
    covered = {a for kind in KINDS for a, _ in _instances(system.d, kind)}
    for label, address in system.d.contracts():
        names = {item.get("name") for item in system.chain.artifacts[label.split(" ")[0]][0]}
        assert ("grant_role" in names) == (address in covered), label


def _misjudged(
    system: System,
    d: Deployment,
    label: str,
    caller: str,
    refused: Callable[[tuple[str, str]], bool],
) -> list[str]:
    """Every cell of the table called by `caller` on `d`'s instances, on chain and in the model:
    each whose authorization refusal is not `refused((kind, function))`."""
    wrong = []
    for kind, function in sorted(WHO_MAY_CALL):
        for address, t in _instances(d, kind):
            args = _args(system, kind, function, t)
            for side, reason in (
                ("chain", _chain_reason(system, address, function, caller, args)),
                ("model", _model_reason(system, address, function, caller, args)),
            ):
                if (reason == AUTH_REASON) != refused((kind, function)):
                    wrong.append(f"{side}: {kind}.{function} from {label}: {reason!r}")
    return wrong


def test_who_may_call__handed_to_the_timelock__only_it_is_admin(system):
    """After `hand_to_timelock` (the deployment's governance made a proposal that waits): every
    cell of the table from governance's key is refused with the authorization reason, on chain and
    in the model, and from the Timelock is not; the GovernanceToken's owner is the Timelock; no
    contract lost a role. (The Timelock's own functions: tests/contracts/timelock/.)"""
    r = system.roles
    d = copy.copy(system.d)  # the session's deployment stays governance's
    holders = [a for _, a in d.contracts()]

    def roles() -> dict[tuple[str, str], int]:
        return {
            (target, holder): system.view(target, "roles", holder)
            for _, target in d.admin_contracts()
            for holder in holders
        }

    with system.what_if():
        held = roles()
        timelock = hand_to_timelock(system.lockstep, d, 86_400, 7 * 86_400)
        assert ("Timelock", timelock) in d.contracts()
        assert roles() == held and any(held.values())
        wrong = _misjudged(system, d, "governance", r.governance, lambda cell: True)
        wrong += _misjudged(system, d, "the timelock", timelock, lambda cell: False)
        assert not wrong, "\n".join(wrong)
        for label, address in d.admin_contracts():
            assert system.view(address, "authorized", r.governance) is False, label
            assert system.view(address, "authorized", timelock) is True, label
        assert system.view(d.governance_token, "owner") == timelock
        # snekmate's hand-over moves the minter right with the ownership
        assert system.view(d.governance_token, "is_minter", r.governance) is False
        assert system.view(d.governance_token, "is_minter", timelock) is True
        with reverts("ownable: caller is not the owner"):
            system.tx(d.governance_token, "set_minter", r.governance, r.stranger, True)


# what the EMERGENCY role lets its holder call (docs/governance.md): nothing else
EMERGENCY_LIST = frozenset(
    {("GlobalSettlement", "shutdown"), ("PriceOracle", "void"), ("DutchAuction", "set_stopped")}
)


def test_who_may_call__the_guardian_calls_exactly_its_list(system):
    """A guardian granted EMERGENCY by `hand_to_timelock`: every cell of the table from it is
    refused with the authorization reason except the emergency list's, on chain and in the
    model; its stop only raises an auction's level; it shuts the system down at once."""
    r = system.roles
    d = copy.copy(system.d)
    guardian = r.stranger
    with system.what_if():
        hand_to_timelock(system.lockstep, d, 86_400, 7 * 86_400, guardian)
        wrong = _misjudged(
            system, d, "the guardian", guardian, lambda cell: cell not in EMERGENCY_LIST
        )
        assert not wrong, "\n".join(wrong)
        auction = system.eth.auction
        system.tx(auction, "set_stopped", guardian, 2)
        for level in (2, 1, 0):
            with reverts("auction: guardian only stops more"):
                system.tx(auction, "set_stopped", guardian, level)
        system.tx(auction, "set_stopped", guardian, 3)
        system.tx(system.eth.oracle, "void", guardian)
        system.tx(d.settlement, "shutdown", guardian)
        assert system.view(d.settlement, "live") is False
