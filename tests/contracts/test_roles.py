"""Least privilege (finding 14): who may call what, cell by cell, on chain and in the model.

`WHO_MAY_CALL` is the specification, written from the contracts' purpose and independently of the
deployment recipe: for every privileged function of every deployed contract, the kinds of contract
that may call it besides governance (the admin of every contract, which may call everything).
docs/security.md, "Who may call what", is the same table in prose.

For each function, every caller (governance, each deployed contract, a stranger) calls it without
changing state: on chain an `eth_call` from the caller's address (a contract address needs no
key for a call), in the model a transaction rolled back after it runs. The call must be refused
with "authorized: not authorized" exactly when the table says so; an allowed call may revert for
any other reason (its arguments are not meant to be valid).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_utils import keccak

from offchain.backends import ChainBackend, RpcError
from offchain.model.errors import Revert
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.price_curves import LINEAR
from offchain.model.state import ZERO_ADDRESS, Role
from offchain.system.deployment import Deployment, TypeDeployment
from offchain.testing.harness import System, reverts
from offchain.testing.harness import events as _events
from offchain.testing.harness import read as _read

AUTH_REASON = "authorized: not authorized"
# the reason of the model's probe, raised after a call that went through, to roll it back
_PROBE_DONE = "roles probe: call went through"
_ERROR_SELECTOR = keccak(text="Error(string)")[:4]
CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"

GOVERNANCE = "governance"
STRANGER = "stranger"
# the admin functions of modules/authorized.vy, exported by every contract in the table
AUTH_FUNCTIONS = ("add_authority", "remove_authority", "grant_role", "revoke_role")
ADMIN_ONLY: frozenset[str] = frozenset()

# (contract kind, function) -> kinds of deployed contract that may call it, besides governance.
# A kind is the contract's name; every instance of a per-type kind (CollateralJoin, DutchAuction,
# PriceOracle) is listed by the deployment under "<kind> <type>".
WHO_MAY_CALL: dict[tuple[str, str], frozenset[str]] = {
    ("VaultEngine", "init_type"): ADMIN_ONLY,
    ("VaultEngine", "set_global_debt_ceiling"): ADMIN_ONLY,
    ("VaultEngine", "set_dust"): ADMIN_ONLY,
    ("VaultEngine", "set_debt_ceiling"): frozenset({"CeilingManager"}),
    ("VaultEngine", "set_fee_kink"): frozenset({"FeeAccumulator"}),
    ("VaultEngine", "set_safe_price"): frozenset({"Spotter"}),
    ("VaultEngine", "shutdown"): frozenset({"GlobalSettlement"}),
    ("VaultEngine", "modify_collateral_balance"): frozenset({"CollateralJoin"}),
    ("VaultEngine", "join_vault"): frozenset({"CollateralJoin"}),
    # liquidation; closing vaults and cancelling auctions at settlement
    ("VaultEngine", "seize"): frozenset({"Liquidator", "GlobalSettlement", "DutchAuction"}),
    # fees; the Backstop's redistribution
    ("VaultEngine", "fold_rate"): frozenset({"FeeAccumulator", "Backstop"}),
    # keeper rewards and cancel refunds (auctions), refunds of cancelled debt auctions
    ("VaultEngine", "create_unbacked"): frozenset({"DutchAuction", "DebtAuction"}),
    ("Spotter", "set_oracle"): ADMIN_ONLY,
    ("Spotter", "set_liquidation_ratio"): ADMIN_ONLY,
    ("Backstop", "set_queue_delay"): ADMIN_ONLY,
    ("Backstop", "set_waterfall"): ADMIN_ONLY,
    ("Backstop", "set_layer_contracts"): ADMIN_ONLY,
    ("Backstop", "set_auction_parameters"): ADMIN_ONLY,
    ("Backstop", "open_loss"): frozenset({"Liquidator"}),
    ("Backstop", "close_loss"): frozenset({"DutchAuction"}),
    ("Backstop", "shutdown"): frozenset({"GlobalSettlement"}),
    ("FeeAccumulator", "init_type"): ADMIN_ONLY,
    ("FeeAccumulator", "set_base_fee"): ADMIN_ONLY,
    ("FeeAccumulator", "set_multiplier"): ADMIN_ONLY,
    ("FeeAccumulator", "set_fee_recipient"): ADMIN_ONLY,
    ("FeeAccumulator", "set_pool_fee_share"): ADMIN_ONLY,
    ("FeeAccumulator", "set_pool_max_yield"): ADMIN_ONLY,
    ("CeilingManager", "configure"): ADMIN_ONLY,
    ("CeilingManager", "remove"): ADMIN_ONLY,
    ("Liquidator", "set_max_debt_in_auction"): ADMIN_ONLY,
    ("Liquidator", "configure_type"): ADMIN_ONLY,
    ("Liquidator", "shutdown"): frozenset({"GlobalSettlement"}),
    ("Liquidator", "remove_debt_in_auction"): frozenset({"DutchAuction"}),
    ("StabilityPool", "set_cooldown"): ADMIN_ONLY,
    ("StabilityPool", "set_exposure"): ADMIN_ONLY,
    ("StabilityPool", "add_income"): frozenset({"FeeAccumulator"}),
    ("DebtAuction", "set_parameters"): ADMIN_ONLY,
    ("DebtAuction", "start"): frozenset({"Backstop"}),
    ("DebtAuction", "shutdown"): frozenset({"Backstop"}),
    ("SurplusAuction", "set_parameters"): ADMIN_ONLY,
    ("SurplusAuction", "start"): frozenset({"Backstop"}),
    ("SurplusAuction", "shutdown"): frozenset({"Backstop"}),
    ("GlobalSettlement", "set_wait"): ADMIN_ONLY,
    ("GlobalSettlement", "shutdown"): ADMIN_ONLY,
    ("CollateralJoin", "shutdown"): ADMIN_ONLY,
    ("PriceOracle", "set_feeder"): ADMIN_ONLY,
    ("PriceOracle", "set_delay"): ADMIN_ONLY,
    ("PriceOracle", "set_max_age"): ADMIN_ONLY,
    ("PriceOracle", "set_max_change"): ADMIN_ONLY,
    ("PriceOracle", "void"): ADMIN_ONLY,
    ("DutchAuction", "set_parameters"): ADMIN_ONLY,
    ("DutchAuction", "set_curve"): ADMIN_ONLY,
    ("DutchAuction", "set_oracle"): ADMIN_ONLY,
    ("DutchAuction", "set_stopped"): ADMIN_ONLY,
    ("DutchAuction", "start"): frozenset({"Liquidator"}),
    ("DutchAuction", "cancel"): frozenset({"GlobalSettlement"}),
}
KINDS = sorted({kind for kind, _ in WHO_MAY_CALL})
for _kind in KINDS:
    for _function in AUTH_FUNCTIONS:
        WHO_MAY_CALL[(_kind, _function)] = ADMIN_ONLY


def _instances(d: Deployment, kind: str) -> list[tuple[str, TypeDeployment | None]]:
    """(address, its type or None) of every deployed contract of `kind`."""
    singles = {
        "VaultEngine": d.engine,
        "Spotter": d.spotter,
        "Backstop": d.backstop,
        "FeeAccumulator": d.fees,
        "CeilingManager": d.ceiling,
        "Liquidator": d.liquidator,
        "StabilityPool": d.stability_pool,
        "DebtAuction": d.debt_auction,
        "SurplusAuction": d.surplus_auction,
        "GlobalSettlement": d.settlement,
    }
    if kind in singles:
        return [(singles[kind], None)]
    field = {"CollateralJoin": "join", "PriceOracle": "oracle", "DutchAuction": "auction"}[kind]
    return [(getattr(t, field), t) for t in d.types.values()]


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
        ("DutchAuction", "cancel"): (1,),
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


def _privileged_functions(source: str) -> set[str]:
    """The external functions of a contract's source that check authorization."""
    out = set()
    for match in re.finditer(r"@external\n(?:@\w+\n)*def (\w+)\(", source):
        end = source.find("\n@", match.end())
        body = source[match.end() : end if end != -1 else len(source)]
        if re.search(r"auth\._check_(authorized|role)\(", body):
            out.add(match.group(1))
    return out


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


def test_who_may_call__docs_table_is_the_specification():
    """docs/security.md, "Who may call what", says exactly what this test checks."""
    assert _docs_table() == {k: v for k, v in WHO_MAY_CALL.items() if k[1] not in AUTH_FUNCTIONS}


def test_who_may_call__every_deployed_contract_with_roles_is_in_the_table(system):
    """Each deployed contract that exports grant_role is one of the table's instances."""
    covered = {a for kind in KINDS for a, _ in _instances(system.d, kind)}
    for label, address in system.d.contracts():
        names = {item.get("name") for item in system.chain.artifacts[label.split(" ")[0]][0]}
        assert ("grant_role" in names) == (address in covered), label


# ---------------------------------------------------------------- grant_role / revoke_role


def test_grant_role__adds_bits_and_logs__revoke_role_removes_only_those(system):
    r, e = system.roles, system.d.engine
    system.tx(e, "grant_role", r.governance, r.keeper, int(Role.PRICE | Role.SEIZE))
    assert _events(system) == [
        (e, "RoleGranted", {"account": r.keeper, "role": int(Role.PRICE | Role.SEIZE)})
    ]
    system.tx(e, "grant_role", r.governance, r.keeper, int(Role.JOIN))
    assert _read(system, e, "roles", r.keeper) == Role.PRICE | Role.SEIZE | Role.JOIN
    system.tx(e, "revoke_role", r.governance, r.keeper, int(Role.SEIZE))
    assert _events(system) == [(e, "RoleRevoked", {"account": r.keeper, "role": int(Role.SEIZE)})]
    assert _read(system, e, "roles", r.keeper) == Role.PRICE | Role.JOIN
    assert _read(system, e, "authorized", r.keeper) is False
    # a PRICE holder sets prices, and is refused the rest
    system.tx(e, "set_safe_price", r.keeper, system.eth.type_id, RAY)
    with reverts(AUTH_REASON):
        system.tx(e, "set_dust", r.keeper, system.eth.type_id, RAD)
    with reverts(AUTH_REASON):
        system.tx(e, "grant_role", r.keeper, r.keeper, int(Role.SEIZE))


@pytest.mark.parametrize("function", ["grant_role", "revoke_role"])
@pytest.mark.parametrize(
    "role",
    [0, int(Role.START), int(Role.PRICE | Role.START), 2**255],
    ids=["zero", "bit_the_engine_does_not_check", "mixed", "unknown_bit"],
)
def test_grant_or_revoke_role__zero_or_bit_the_contract_does_not_check__reverts(
    system, function, role
):
    with reverts("authorized: bad role"):
        system.tx(system.d.engine, function, system.roles.governance, system.roles.keeper, role)


def test_grant_role__on_a_contract_checking_no_role__reverts_bad_role(system):
    """Admin-only contracts (Spotter, FeeAccumulator, ...) accept no role bit at all."""
    r = system.roles
    for address in (system.d.spotter, system.d.fees, system.d.settlement, system.eth.join):
        for role in Role:
            with reverts("authorized: bad role"):
                system.tx(address, "grant_role", r.governance, r.keeper, int(role))


def test_remove_authority__keeps_the_roles_of_the_account(system):
    r, e = system.roles, system.d.engine
    system.tx(e, "add_authority", r.governance, r.keeper)
    system.tx(e, "grant_role", r.governance, r.keeper, int(Role.PRICE))
    system.tx(e, "remove_authority", r.governance, r.keeper)
    assert _read(system, e, "roles", r.keeper) == Role.PRICE
    system.tx(e, "set_safe_price", r.keeper, system.eth.type_id, RAY)
    with reverts(AUTH_REASON):
        system.tx(e, "set_dust", r.keeper, system.eth.type_id, RAD)


def test_deployment__no_contract_is_an_admin_anywhere(system):
    """Governance is the only admin of every contract; contracts hold roles only."""
    d = system.d
    targets = [a for kind in KINDS for a, _ in _instances(d, kind)]
    for target in targets:
        assert _read(system, target, "authorized", system.roles.governance) is True
        for label, address in d.contracts():
            assert _read(system, target, "authorized", address) is False, (target, label)
        assert _read(system, target, "authorized", ZERO_ADDRESS) is False
