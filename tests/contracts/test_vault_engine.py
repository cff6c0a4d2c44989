"""Unit tests of contracts/VaultEngine.vy, every external function.

Each transaction runs on Anvil and in offchain/model/vault_engine.py at once (see conftest.py), so
every
test here is also a differential test, and the `system` fixture checks full state equality and
invariants I1-I5 after each one. Assertions read the chain; the model is known equal.

Units: collateral and normalized debt in wad, rate and safe price in ray, stable balances, bad
debt, ceilings and dust in rad. ETH-A's rate is a little above 1 ray after deployment, so every
expected debt below is `normalized_debt * rate`, computed exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import Event
from offchain.model.vault_engine import CollateralType, Vault
from offchain.system.reads import read_chain_state, state_keys
from offchain.testing.harness import reverts

# a type id nobody initialized
UNKNOWN_TYPE = b"NOPE-A".ljust(32, b"\0")
# a type id initialized only by the tests that say so (outside the deployment, so no join and
# outside the I1-I5 bookkeeping of the fixture: never draw debt on it)
NEW_TYPE = b"NEW-A".ljust(32, b"\0")
MIN_INT256 = -(2**255)
MAX_UINT256 = 2**256 - 1
# the engine packs locked collateral, normalized debts and rates into 128-bit halves of a slot
MAX_FIELD = 2**128 - 1


# ---------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _dust_100(system):
    """These tests use vaults of a few hundred BUSD: the devnet's dust (2,500 BUSD, set from gas
    economics, docs/security-sec-liq.md) is lowered by governance to 100 at the start of each test
    (the snapshot taken by `system` undoes it)."""
    for t in (system.eth, system.btc):
        system.tx(system.d.engine, "set_dust", system.roles.governance, t.type_id, 100 * RAD)


def send(system, function: str, sender: str, *args: Any) -> None:
    """One engine transaction, on chain and in the model."""
    system.tx(system.d.engine, function, sender, *args)


def read(system, getter: str, *args: Any) -> Any:
    """One engine getter, read on chain."""
    return system.view(system.d.engine, getter, *args)


def ctype(system, type_id: bytes) -> CollateralType:
    return CollateralType(*read(system, "collateral_types", type_id))


def vault(system, type_id: bytes, owner: str) -> Vault:
    return Vault(*read(system, "vaults", type_id, owner))


def rate(system) -> int:
    return ctype(system, system.eth.type_id).rate


def free(system, owner: str) -> int:
    return read(system, "collateral", system.eth.type_id, owner)


def engine_events(system) -> list[Event]:
    return [e for e in system.events if e.address == system.d.engine]


def logged(system, name: str, **args: Any) -> bool:
    """The last transaction emitted exactly this one engine event."""
    return engine_events(system) == [Event(system.d.engine, name, args)]


def snapshot_state(system) -> dict[str, Any]:
    """Every observable variable of the system, read on chain."""
    return read_chain_state(
        system.chain, system.d, state_keys(system.model, system.d, system.roles.users)
    )


def lock(system, owner: str, collateral: int, debt: int) -> None:
    """`owner` changes its own ETH-A vault from and to its own balances (signed deltas)."""
    send(system, "modify_vault", owner, system.eth.type_id, owner, owner, owner, collateral, debt)


# ---------------------------------------------------------------- deployment


def test_deployment__engine_live_and_governance_authorized(system):
    r = system.roles
    assert read(system, "live") is True
    assert read(system, "authorized", r.governance) is True
    assert read(system, "authorized", r.stranger) is False
    eth = ctype(system, system.eth.type_id)
    assert eth.normalized_debt == 0
    assert eth.rate > RAY
    assert eth.debt_ceiling == 20_000_000 * RAD
    assert eth.dust == 100 * RAD


# ---------------------------------------------------------------- authorization


def test_add_authority__new_authority_can_call_privileged_functions(system):
    r = system.roles
    send(system, "add_authority", r.governance, r.keeper)
    assert read(system, "authorized", r.keeper) is True
    assert logged(system, "AuthorityAdded", account=r.keeper)
    send(system, "set_dust", r.keeper, system.eth.type_id, 7 * RAD)
    assert ctype(system, system.eth.type_id).dust == 7 * RAD


def test_remove_authority__removed_authority_is_refused(system):
    r = system.roles
    send(system, "add_authority", r.governance, r.keeper)
    send(system, "remove_authority", r.governance, r.keeper)
    assert read(system, "authorized", r.keeper) is False
    assert logged(system, "AuthorityRemoved", account=r.keeper)
    with reverts("authorized: not authorized"):
        send(system, "set_dust", r.keeper, system.eth.type_id, 7 * RAD)


def test_remove_authority__governance_can_remove_itself(system):
    r = system.roles
    send(system, "remove_authority", r.governance, r.governance)
    assert read(system, "authorized", r.governance) is False
    with reverts("authorized: not authorized"):
        send(system, "add_authority", r.governance, r.governance)


PRIVILEGED: list[tuple[str, Callable[[Any], tuple]]] = [
    ("add_authority", lambda s: (s.roles.stranger,)),
    ("remove_authority", lambda s: (s.roles.governance,)),
    ("init_type", lambda s: (NEW_TYPE,)),
    ("set_global_debt_ceiling", lambda s: (0,)),
    ("set_debt_ceiling", lambda s: (s.eth.type_id, 0)),
    ("set_dust", lambda s: (s.eth.type_id, 0)),
    ("set_safe_price", lambda s: (s.eth.type_id, 0)),
    ("shutdown", lambda s: ()),
    ("modify_collateral_balance", lambda s: (s.eth.type_id, s.roles.stranger, WAD)),
    (
        "seize",
        lambda s: (s.eth.type_id, s.roles.borrower, s.roles.stranger, s.roles.stranger, -WAD, -WAD),
    ),
    ("fold_rate", lambda s: (s.eth.type_id, s.roles.stranger, RAY)),
    ("create_unbacked", lambda s: (s.roles.stranger, s.roles.stranger, RAD)),
]


@pytest.mark.parametrize("function,args", PRIVILEGED, ids=[f for f, _ in PRIVILEGED])
def test_privileged_function__called_by_stranger__reverts_not_authorized(system, function, args):
    system.open_vault(system.roles.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)  # something to seize
    before = snapshot_state(system)
    with reverts("authorized: not authorized"):
        send(system, function, system.roles.stranger, *args(system))
    assert snapshot_state(system) == before


# ---------------------------------------------------------------- delegation and can_act


def test_allow__delegate_can_act_for_owner_only(system):
    r = system.roles
    send(system, "allow", r.borrower, r.other)
    assert read(system, "delegates", r.borrower, r.other) is True
    assert logged(system, "DelegateAllowed", owner=r.borrower, delegate=r.other)
    assert read(system, "can_act", r.borrower, r.other) is True
    # one way, one owner
    assert read(system, "can_act", r.other, r.borrower) is False
    assert read(system, "can_act", r.keeper, r.other) is False


def test_disallow__delegate_can_no_longer_act(system):
    r = system.roles
    send(system, "allow", r.borrower, r.other)
    send(system, "disallow", r.borrower, r.other)
    assert read(system, "delegates", r.borrower, r.other) is False
    assert logged(system, "DelegateDisallowed", owner=r.borrower, delegate=r.other)
    assert read(system, "can_act", r.borrower, r.other) is False


def test_can_act__owner_always_acts_for_itself_stranger_never(system):
    r = system.roles
    assert read(system, "can_act", r.borrower, r.borrower) is True
    assert read(system, "can_act", r.borrower, r.stranger) is False
    # authority on the engine is not a delegation
    assert read(system, "can_act", r.borrower, r.governance) is False
    assert system.engine().can_act(r.borrower, r.borrower) is True


# ---------------------------------------------------------------- init_type


def test_init_type__new_type_starts_at_rate_one_ray(system):
    r = system.roles
    send(system, "init_type", r.governance, NEW_TYPE)
    assert ctype(system, NEW_TYPE) == CollateralType(
        normalized_debt=0, rate=RAY, safe_price=0, debt_ceiling=0, dust=0
    )
    assert logged(system, "CollateralTypeInitialized", collateral_type=NEW_TYPE)
    # and can be configured from then on
    send(system, "set_debt_ceiling", r.governance, NEW_TYPE, 5 * RAD)
    assert ctype(system, NEW_TYPE).debt_ceiling == 5 * RAD


def test_init_type__twice__reverts_type_exists(system):
    r = system.roles
    send(system, "init_type", r.governance, NEW_TYPE)
    with reverts("engine: type exists"):
        send(system, "init_type", r.governance, NEW_TYPE)


def test_init_type__deployed_type_with_debt__reverts_and_keeps_rate(system):
    """Re-initialising a type with debt would reset its rate to 1 ray and break I3: refused."""
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    before = ctype(system, system.eth.type_id)
    with reverts("engine: type exists"):
        send(system, "init_type", r.governance, system.eth.type_id)
    assert ctype(system, system.eth.type_id) == before


# ---------------------------------------------------------------- governance setters


def test_set_global_debt_ceiling__stores_value(system):
    send(system, "set_global_debt_ceiling", system.roles.governance, 123 * RAD + 1)
    assert read(system, "global_debt_ceiling") == 123 * RAD + 1
    assert logged(system, "GlobalDebtCeilingSet", new_value=123 * RAD + 1)


TYPE_SETTERS = [
    ("set_debt_ceiling", "debt_ceiling", "DebtCeilingSet"),
    ("set_dust", "dust", "DustSet"),
    ("set_safe_price", "safe_price", "SafePriceSet"),
]


@pytest.mark.parametrize("function,field,event", TYPE_SETTERS, ids=[f for f, _, _ in TYPE_SETTERS])
def test_type_setter__stores_value_of_that_type_only(system, function, field, event):
    tid, btc = system.eth.type_id, system.btc.type_id
    before_eth, before_btc = ctype(system, tid), ctype(system, btc)
    send(system, function, system.roles.governance, tid, 777 * RAY + 3)
    assert ctype(system, tid) == before_eth._replace(**{field: 777 * RAY + 3})
    assert ctype(system, btc) == before_btc
    assert logged(system, event, collateral_type=tid, new_value=777 * RAY + 3)


@pytest.mark.parametrize("function", [f for f, _, _ in TYPE_SETTERS])
def test_type_setter__uninitialized_type__reverts(system, function):
    with reverts("engine: type not initialized"):
        send(system, function, system.roles.governance, UNKNOWN_TYPE, RAD)
    assert ctype(system, UNKNOWN_TYPE) == CollateralType()


# ---------------------------------------------------------------- shutdown


def test_shutdown__engine_no_longer_live(system):
    r = system.roles
    send(system, "shutdown", r.governance)
    assert read(system, "live") is False
    assert logged(system, "Shutdown", caller=r.governance)


NOT_LIVE: list[tuple[str, Callable[[Any], tuple]]] = [
    ("set_global_debt_ceiling", lambda s: (RAD,)),
    ("set_debt_ceiling", lambda s: (s.eth.type_id, RAD)),
    ("set_dust", lambda s: (s.eth.type_id, RAD)),
    ("set_safe_price", lambda s: (s.eth.type_id, RAY)),
    ("fold_rate", lambda s: (s.eth.type_id, s.roles.governance, RAY)),
    (
        "modify_vault",
        lambda s: (s.eth.type_id, s.roles.governance, s.roles.governance, s.roles.governance, 0, 0),
    ),
]


@pytest.mark.parametrize("function,args", NOT_LIVE, ids=[f for f, _ in NOT_LIVE])
def test_after_shutdown__parameters_rates_and_vaults_frozen__reverts_not_live(
    system, function, args
):
    send(system, "shutdown", system.roles.governance)
    before = snapshot_state(system)
    with reverts("engine: not live"):
        send(system, function, system.roles.governance, *args(system))
    assert snapshot_state(system) == before


def test_after_shutdown__borrower_cannot_repay_or_free__reverts_not_live(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    send(system, "shutdown", r.governance)
    with reverts("engine: not live"):
        lock(system, r.borrower, 0, -1_000 * WAD)
    with reverts("engine: not live"):
        lock(system, r.borrower, -10 * WAD, 0)


def test_after_shutdown__seize_and_transfers_still_work(system):
    """Money flow: global settlement still needs the ledger after the freeze: governance seizes
    the borrower's whole vault into the keeper's free balance (debt -> governance's bad debt), the
    keeper moves collateral, and the borrower still moves stablecoin."""
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    rt = rate(system)
    send(system, "shutdown", r.governance)
    send(
        system,
        "seize",
        r.governance,
        system.eth.type_id,
        r.borrower,
        r.keeper,
        r.governance,
        -10 * WAD,
        -1_000 * WAD,
    )
    send(system, "transfer_collateral", r.keeper, system.eth.type_id, r.keeper, r.other, 4 * WAD)
    send(system, "transfer_stable", r.borrower, r.borrower, r.other, 1_000 * WAD * rt)
    assert vault(system, system.eth.type_id, r.borrower) == Vault(0, 0)
    assert read(system, "bad_debt", r.governance) == 1_000 * WAD * rt
    assert free(system, r.keeper) == 6 * WAD
    assert free(system, r.other) == 4 * WAD
    assert read(system, "stable", r.other) == 1_000 * WAD * rt


# ---------------------------------------------------------------- modify_collateral_balance


def test_modify_collateral_balance__join_credits_and_debits_free_collateral(system):
    """Money flow: the borrower joins 3 WETH (the join credits 3 wad, tokens move to the join),
    then exits 1 WETH (the join debits 1 wad and pays the token back)."""
    r = system.roles
    system.fund(r.borrower, "ETH-A", 3 * WAD)
    assert free(system, r.borrower) == 3 * WAD
    assert (
        Event(
            system.d.engine,
            "CollateralModified",
            {"collateral_type": system.eth.type_id, "account": r.borrower, "delta": 3 * WAD},
        )
        in system.events
    )
    system.tx(system.eth.join, "exit", r.borrower, r.borrower, WAD)
    assert free(system, r.borrower) == 2 * WAD
    assert logged(
        system,
        "CollateralModified",
        collateral_type=system.eth.type_id,
        account=r.borrower,
        delta=-WAD,
    )
    assert system.view(system.eth.token, "balanceOf", r.borrower) == WAD


def test_modify_collateral_balance__scaled_for_an_8_decimal_token(system):
    """Money flow: the borrower joins 2 WBTC (2 * 10**8 token units) and is credited 2 wad."""
    r = system.roles
    system.fund(r.borrower, "WBTC-A", 2 * 10**8)
    assert read(system, "collateral", system.btc.type_id, r.borrower) == 2 * WAD


def test_modify_collateral_balance__authority_credits_and_debits_exact_delta(system):
    """Money flow: governance (as a join would) credits 5 wad + 1 to the keeper, then debits
    5 wad. Ledger-only type: no token backs it, which is outside I5's scope."""
    r = system.roles
    send(system, "modify_collateral_balance", r.governance, NEW_TYPE, r.keeper, 5 * WAD + 1)
    assert read(system, "collateral", NEW_TYPE, r.keeper) == 5 * WAD + 1
    assert logged(
        system, "CollateralModified", collateral_type=NEW_TYPE, account=r.keeper, delta=5 * WAD + 1
    )
    send(system, "modify_collateral_balance", r.governance, NEW_TYPE, r.keeper, -5 * WAD)
    assert read(system, "collateral", NEW_TYPE, r.keeper) == 1
    assert logged(
        system, "CollateralModified", collateral_type=NEW_TYPE, account=r.keeper, delta=-5 * WAD
    )


def test_modify_collateral_balance__debit_above_balance__reverts_insufficient_collateral(system):
    r = system.roles
    system.fund(r.borrower, "ETH-A", 3 * WAD)
    with reverts("engine: insufficient collateral"):
        send(
            system,
            "modify_collateral_balance",
            r.governance,
            system.eth.type_id,
            r.borrower,
            -(3 * WAD + 1),
        )
    with reverts("engine: insufficient collateral"):
        system.tx(system.eth.join, "exit", r.borrower, r.borrower, 3 * WAD + 1)
    assert free(system, r.borrower) == 3 * WAD


def test_modify_collateral_balance__most_negative_delta__reverts_arithmetic(system):
    """-(-2**255) does not fit an int256: an arithmetic revert, never a wrapped credit."""
    with reverts(None):
        send(
            system,
            "modify_collateral_balance",
            system.roles.governance,
            NEW_TYPE,
            system.roles.keeper,
            MIN_INT256,
        )


# ---------------------------------------------------------------- transfer_collateral


def test_transfer_collateral__moves_free_collateral(system):
    """Money flow: the borrower moves 2 of its 5 free ETH to the other user."""
    r = system.roles
    system.fund(r.borrower, "ETH-A", 5 * WAD)
    send(
        system, "transfer_collateral", r.borrower, system.eth.type_id, r.borrower, r.other, 2 * WAD
    )
    assert free(system, r.borrower) == 3 * WAD
    assert free(system, r.other) == 2 * WAD
    assert logged(
        system,
        "CollateralTransferred",
        collateral_type=system.eth.type_id,
        src=r.borrower,
        dst=r.other,
        amount=2 * WAD,
    )


def test_transfer_collateral__whole_balance_to_itself__keeps_balance(system):
    r = system.roles
    system.fund(r.borrower, "ETH-A", 5 * WAD)
    send(
        system,
        "transfer_collateral",
        r.borrower,
        system.eth.type_id,
        r.borrower,
        r.borrower,
        5 * WAD,
    )
    assert free(system, r.borrower) == 5 * WAD


def test_transfer_collateral__exact_balance_passes_one_wei_more_reverts(system):
    r = system.roles
    system.fund(r.borrower, "ETH-A", 5 * WAD)
    with reverts("engine: insufficient collateral"):
        send(
            system,
            "transfer_collateral",
            r.borrower,
            system.eth.type_id,
            r.borrower,
            r.other,
            5 * WAD + 1,
        )
    send(
        system, "transfer_collateral", r.borrower, system.eth.type_id, r.borrower, r.other, 5 * WAD
    )
    assert free(system, r.borrower) == 0
    assert free(system, r.other) == 5 * WAD


def test_transfer_collateral__by_stranger__reverts_not_allowed(system):
    r = system.roles
    system.fund(r.borrower, "ETH-A", 5 * WAD)
    with reverts("engine: not allowed"):
        send(
            system,
            "transfer_collateral",
            r.stranger,
            system.eth.type_id,
            r.borrower,
            r.stranger,
            WAD,
        )
    assert free(system, r.borrower) == 5 * WAD


def test_transfer_collateral__delegate_after_allow_not_after_disallow(system):
    """Money flow: the other user, allowed by the borrower, moves 1 of the borrower's ETH to
    itself; once disallowed it cannot move another."""
    r = system.roles
    system.fund(r.borrower, "ETH-A", 5 * WAD)
    send(system, "allow", r.borrower, r.other)
    send(system, "transfer_collateral", r.other, system.eth.type_id, r.borrower, r.other, WAD)
    assert free(system, r.borrower) == 4 * WAD
    assert free(system, r.other) == WAD
    send(system, "disallow", r.borrower, r.other)
    with reverts("engine: not allowed"):
        send(system, "transfer_collateral", r.other, system.eth.type_id, r.borrower, r.other, WAD)


# ---------------------------------------------------------------- transfer_stable


def test_transfer_stable__moves_internal_stablecoin(system):
    """Money flow: the borrower draws 1,000 wad of normalized debt and pays the other user
    300 rad + 1 of it."""
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    balance = 1_000 * WAD * rate(system)
    send(system, "transfer_stable", r.borrower, r.borrower, r.other, 300 * RAD + 1)
    assert read(system, "stable", r.borrower) == balance - 300 * RAD - 1
    assert read(system, "stable", r.other) == 300 * RAD + 1
    assert read(system, "total_issued") == balance
    assert logged(system, "StableTransferred", src=r.borrower, dst=r.other, amount=300 * RAD + 1)


def test_transfer_stable__exact_balance_passes_one_wei_more_reverts(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    balance = 1_000 * WAD * rate(system)
    with reverts("engine: insufficient stable"):
        send(system, "transfer_stable", r.borrower, r.borrower, r.other, balance + 1)
    send(system, "transfer_stable", r.borrower, r.borrower, r.other, balance)
    assert read(system, "stable", r.borrower) == 0
    assert read(system, "stable", r.other) == balance


def test_transfer_stable__by_stranger__reverts_not_allowed(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    with reverts("engine: not allowed"):
        send(system, "transfer_stable", r.stranger, r.borrower, r.stranger, RAD)


def test_transfer_stable__delegate_after_allow_not_after_disallow(system):
    """Money flow: the keeper, allowed by the borrower, pays itself 10 rad of the borrower's
    stablecoin; once disallowed it cannot take more."""
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    balance = 1_000 * WAD * rate(system)
    send(system, "allow", r.borrower, r.keeper)
    send(system, "transfer_stable", r.keeper, r.borrower, r.keeper, 10 * RAD)
    assert read(system, "stable", r.keeper) == 10 * RAD
    assert read(system, "stable", r.borrower) == balance - 10 * RAD
    send(system, "disallow", r.borrower, r.keeper)
    with reverts("engine: not allowed"):
        send(system, "transfer_stable", r.keeper, r.borrower, r.keeper, 10 * RAD)


def test_transfer_stable__stable_join_exits_only_after_allow(system):
    """Money flow: the borrower exits 1,000 BUSD to ERC-20. The StableJoin pulls 1,000 rad of the
    borrower's internal balance, which needs the borrower's delegation."""
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    balance = 1_000 * WAD * rate(system)
    with reverts("engine: not allowed"):
        system.tx(system.d.stable_join, "exit", r.borrower, r.borrower, 1_000 * WAD)
    send(system, "allow", r.borrower, system.d.stable_join)
    system.tx(system.d.stable_join, "exit", r.borrower, r.borrower, 1_000 * WAD)
    assert read(system, "stable", r.borrower) == balance - 1_000 * RAD
    assert read(system, "stable", system.d.stable_join) == 1_000 * RAD
    assert system.view(system.d.stablecoin, "balanceOf", r.borrower) == 1_000 * WAD


# ---------------------------------------------------------------- modify_vault: happy paths


def test_modify_vault__lock_and_draw__moves_collateral_in_and_stable_out(system):
    """Money flow: the borrower locks 10 of its 10 free ETH and draws 5,000 wad of normalized
    debt: it is credited 5,000 wad * rate of stablecoin, and total issued grows by the same."""
    r = system.roles
    tid = system.eth.type_id
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    rt = rate(system)
    lock(system, r.borrower, 10 * WAD, 5_000 * WAD)
    assert vault(system, tid, r.borrower) == Vault(10 * WAD, 5_000 * WAD)
    assert ctype(system, tid).normalized_debt == 5_000 * WAD
    assert free(system, r.borrower) == 0
    assert read(system, "stable", r.borrower) == 5_000 * WAD * rt
    assert read(system, "total_issued") == 5_000 * WAD * rt
    assert logged(
        system,
        "VaultModified",
        collateral_type=tid,
        owner=r.borrower,
        collateral_src=r.borrower,
        stable_dst=r.borrower,
        delta_collateral=10 * WAD,
        delta_normalized_debt=5_000 * WAD,
    )


def test_modify_vault__lock_without_debt__no_dust_or_price_needed(system):
    """Money flow: the borrower locks 1 wei of ETH with no debt, even with no valid price."""
    r = system.roles
    tid = system.eth.type_id
    system.fund(r.borrower, "ETH-A", 1)
    send(system, "set_safe_price", r.governance, tid, 0)
    lock(system, r.borrower, 1, 0)
    assert vault(system, tid, r.borrower) == Vault(1, 0)
    assert read(system, "total_issued") == 0


def test_modify_vault__draw_to_another_account__needs_no_consent_from_it(system):
    """Money flow: the borrower draws 1,000 wad of normalized debt and has the stablecoin sent
    straight to the keeper."""
    r = system.roles
    tid = system.eth.type_id
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    send(
        system,
        "modify_vault",
        r.borrower,
        tid,
        r.borrower,
        r.borrower,
        r.keeper,
        10 * WAD,
        1_000 * WAD,
    )
    assert read(system, "stable", r.keeper) == 1_000 * WAD * rate(system)
    assert read(system, "stable", r.borrower) == 0


def test_modify_vault__repay_part_and_free_part__returns_collateral_and_burns_stable(system):
    """Money flow: from a 10 ETH / 5,000 wad vault the borrower repays 2,000 wad of normalized
    debt (2,000 wad * rate of stablecoin leaves its balance and total issued) and frees 4 ETH."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    rt = rate(system)
    lock(system, r.borrower, -4 * WAD, -2_000 * WAD)
    assert vault(system, tid, r.borrower) == Vault(6 * WAD, 3_000 * WAD)
    assert ctype(system, tid).normalized_debt == 3_000 * WAD
    assert free(system, r.borrower) == 4 * WAD
    assert read(system, "stable", r.borrower) == 3_000 * WAD * rt
    assert read(system, "total_issued") == 3_000 * WAD * rt
    assert logged(
        system,
        "VaultModified",
        collateral_type=tid,
        owner=r.borrower,
        collateral_src=r.borrower,
        stable_dst=r.borrower,
        delta_collateral=-4 * WAD,
        delta_normalized_debt=-2_000 * WAD,
    )


def test_modify_vault__repay_all_and_free_all__empties_vault(system):
    """Money flow: the borrower repays its whole debt with exactly the stablecoin it drew and
    takes its 10 ETH back; nothing is left issued."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    lock(system, r.borrower, -10 * WAD, -5_000 * WAD)
    assert vault(system, tid, r.borrower) == Vault(0, 0)
    assert ctype(system, tid).normalized_debt == 0
    assert free(system, r.borrower) == 10 * WAD
    assert read(system, "stable", r.borrower) == 0
    assert read(system, "total_issued") == 0


def test_modify_vault__anyone_may_add_own_collateral_to_a_vault(system):
    """Money flow: the stranger locks 2 of its own ETH into the borrower's vault (a gift that
    makes the vault safer needs no consent from the owner)."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    system.fund(r.stranger, "ETH-A", 2 * WAD)
    send(system, "modify_vault", r.stranger, tid, r.borrower, r.stranger, r.stranger, 2 * WAD, 0)
    assert vault(system, tid, r.borrower) == Vault(12 * WAD, 5_000 * WAD)
    assert free(system, r.stranger) == 0


def test_modify_vault__anyone_may_repay_a_vault_with_own_stable(system):
    """Money flow: the borrower pays the other user 1,000 wad * rate of stablecoin; the other
    user spends it repaying 1,000 wad of the borrower's normalized debt."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    rt = rate(system)
    send(system, "transfer_stable", r.borrower, r.borrower, r.other, 1_000 * WAD * rt)
    send(system, "modify_vault", r.other, tid, r.borrower, r.other, r.other, 0, -1_000 * WAD)
    assert vault(system, tid, r.borrower) == Vault(10 * WAD, 4_000 * WAD)
    assert read(system, "stable", r.other) == 0
    assert read(system, "stable", r.borrower) == 4_000 * WAD * rt


def test_modify_vault__repay_after_fees__costs_normalized_debt_times_new_rate(system):
    """Money flow: fees of 0.01 ray accrue to governance (5,000 wad * 0.01 ray = 50 rad); the
    borrower then owes 5,000 wad * (rate + 0.01 ray), so it lacks exactly those 50 rad to repay
    all, gets them from governance, and repays to zero."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    rt = rate(system)
    send(system, "fold_rate", r.governance, tid, r.governance, RAY // 100)
    assert read(system, "vault_debt", tid, r.borrower) == 5_000 * WAD * (rt + RAY // 100)
    with reverts("engine: insufficient stable"):
        lock(system, r.borrower, 0, -5_000 * WAD)
    send(system, "transfer_stable", r.governance, r.governance, r.borrower, 50 * RAD)
    lock(system, r.borrower, 0, -5_000 * WAD)
    assert vault(system, tid, r.borrower) == Vault(10 * WAD, 0)
    assert read(system, "stable", r.borrower) == 0
    assert read(system, "total_issued") == 0


# ---------------------------------------------------------------- modify_vault: delegation


def test_modify_vault__delegate_after_allow__draws_and_locks_for_owner(system):
    """Money flow: the other user, allowed by the borrower, locks 10 of the borrower's ETH into
    the borrower's vault and draws 1,000 wad of normalized debt to itself."""
    r = system.roles
    tid = system.eth.type_id
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    send(system, "allow", r.borrower, r.other)
    send(
        system, "modify_vault", r.other, tid, r.borrower, r.borrower, r.other, 10 * WAD, 1_000 * WAD
    )
    assert vault(system, tid, r.borrower) == Vault(10 * WAD, 1_000 * WAD)
    assert read(system, "stable", r.other) == 1_000 * WAD * rate(system)
    assert free(system, r.borrower) == 0


def test_modify_vault__delegate_after_disallow__reverts_owner_not_allowed(system):
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    send(system, "allow", r.borrower, r.other)
    send(system, "modify_vault", r.other, tid, r.borrower, r.other, r.other, 0, 100 * WAD)
    send(system, "disallow", r.borrower, r.other)
    with reverts("engine: owner not allowed"):
        send(system, "modify_vault", r.other, tid, r.borrower, r.other, r.other, 0, 100 * WAD)
    assert vault(system, tid, r.borrower) == Vault(10 * WAD, 1_100 * WAD)


def test_modify_vault__delegate_after_disallow__reverts_collateral_source_not_allowed(system):
    r = system.roles
    tid = system.eth.type_id
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    send(system, "allow", r.borrower, r.other)
    send(system, "modify_vault", r.other, tid, r.other, r.borrower, r.other, 5 * WAD, 0)
    assert vault(system, tid, r.other) == Vault(5 * WAD, 0)
    send(system, "disallow", r.borrower, r.other)
    with reverts("engine: collateral source not allowed"):
        send(system, "modify_vault", r.other, tid, r.other, r.borrower, r.other, 5 * WAD, 0)


def test_modify_vault__stranger_draws_on_owner_vault__reverts_owner_not_allowed(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    with reverts("engine: owner not allowed"):
        send(
            system,
            "modify_vault",
            r.stranger,
            system.eth.type_id,
            r.borrower,
            r.stranger,
            r.stranger,
            0,
            WAD,
        )


def test_modify_vault__stranger_frees_owner_collateral__reverts_owner_not_allowed(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    with reverts("engine: owner not allowed"):
        send(
            system,
            "modify_vault",
            r.stranger,
            system.eth.type_id,
            r.borrower,
            r.stranger,
            r.stranger,
            -WAD,
            0,
        )
    assert free(system, r.stranger) == 0


def test_modify_vault__stranger_locks_owner_free_collateral__reverts_collateral_source_not_allowed(
    system,
):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    system.fund(r.borrower, "ETH-A", 5 * WAD)
    with reverts("engine: collateral source not allowed"):
        send(
            system,
            "modify_vault",
            r.stranger,
            system.eth.type_id,
            r.borrower,
            r.borrower,
            r.stranger,
            WAD,
            0,
        )
    assert free(system, r.borrower) == 5 * WAD


def test_modify_vault__stranger_repays_with_owner_stable__reverts_stable_source_not_allowed(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    with reverts("engine: stable source not allowed"):
        send(
            system,
            "modify_vault",
            r.stranger,
            system.eth.type_id,
            r.borrower,
            r.stranger,
            r.borrower,
            0,
            -WAD,
        )


# ---------------------------------------------------------------- modify_vault: safety


def test_modify_vault__draw_beyond_safe__reverts_not_safe(system):
    r = system.roles
    system.fund(r.borrower, "ETH-A", WAD)
    # 1 ETH at a safe price of 1333.33 ray supports about 1,333 rad of debt
    with reverts("engine: not safe"):
        lock(system, r.borrower, WAD, 1_400 * WAD)


def test_modify_vault__safe_boundary__exactly_safe_passes_one_wei_more_reverts(system):
    """Money flow: with the safe price set equal to the rate, 1,000 ETH supports exactly 1,000
    wad of normalized debt: the draw at the limit passes, one wei more is refused."""
    r = system.roles
    tid = system.eth.type_id
    rt = rate(system)
    send(system, "set_safe_price", r.governance, tid, rt)
    system.fund(r.borrower, "ETH-A", 1_000 * WAD)
    lock(system, r.borrower, 1_000 * WAD, 0)
    with reverts("engine: not safe"):
        lock(system, r.borrower, 0, 1_000 * WAD + 1)
    lock(system, r.borrower, 0, 1_000 * WAD)
    assert read(system, "vault_debt", tid, r.borrower) == 1_000 * WAD * rt
    assert read(system, "is_safe", tid, r.borrower) is True
    # and freeing a single wei of collateral now makes it unsafe
    with reverts("engine: not safe"):
        lock(system, r.borrower, -1, 0)


def test_modify_vault__free_collateral_below_safe__reverts_not_safe(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    # 5,000 rad of debt needs 3.75 ETH at 1333.33 ray; 4 ETH would remain safe, 3 would not
    with reverts("engine: not safe"):
        lock(system, r.borrower, -7 * WAD, 0)
    lock(system, r.borrower, -6 * WAD, 0)
    assert vault(system, system.eth.type_id, r.borrower) == Vault(4 * WAD, 5_000 * WAD)


def test_modify_vault__no_valid_price__cannot_draw(system):
    r = system.roles
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    send(system, "set_safe_price", r.governance, system.eth.type_id, 0)
    with reverts("engine: not safe"):
        lock(system, r.borrower, 10 * WAD, 100 * WAD)


def test_modify_vault__unsafe_after_price_drop__can_only_get_safer(system):
    """Money flow: the safe price drops to 400 ray, so 10 ETH backs 4,000 rad < 5,000 wad * rate
    of debt. The borrower cannot draw or free, but can repay 500 wad (500 wad * rate of
    stablecoin burned) and lock 0.1 ETH more, both while the vault stays unsafe
    (10.1 ETH * 400 ray = 4,040 rad < 4,500 wad * rate)."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    system.fund(r.borrower, "ETH-A", WAD // 10)
    rt = rate(system)
    send(system, "set_safe_price", r.governance, tid, 400 * RAY)
    assert read(system, "is_safe", tid, r.borrower) is False
    with reverts("engine: not safe"):
        lock(system, r.borrower, 0, 1)
    with reverts("engine: not safe"):
        lock(system, r.borrower, -1, 0)
    lock(system, r.borrower, 0, -500 * WAD)
    assert read(system, "is_safe", tid, r.borrower) is False
    lock(system, r.borrower, WAD // 10, 0)
    assert read(system, "is_safe", tid, r.borrower) is False
    assert vault(system, tid, r.borrower) == Vault(10 * WAD + WAD // 10, 4_500 * WAD)
    assert free(system, r.borrower) == 0
    assert read(system, "stable", r.borrower) == 4_500 * WAD * rt
    assert read(system, "total_issued") == 4_500 * WAD * rt


# ---------------------------------------------------------------- modify_vault: ceilings


def test_modify_vault__type_ceiling_boundary__exactly_at_passes(system):
    """Money flow: the type ceiling is set to exactly (1,000 + 2,000) wad * rate; the other user
    draws 1,000 wad and the borrower 2,000 wad, filling it to the last wei."""
    r = system.roles
    tid = system.eth.type_id
    rt = rate(system)
    send(system, "set_debt_ceiling", r.governance, tid, 3_000 * WAD * rt)
    system.open_vault(r.other, "ETH-A", 10 * WAD, 1_000 * WAD)
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 2_000 * WAD)
    assert ctype(system, tid).normalized_debt * rt == ctype(system, tid).debt_ceiling


def test_modify_vault__draw_above_type_ceiling__reverts(system):
    """The ceiling is one wei below what the two draws need together: the second is refused."""
    r = system.roles
    tid = system.eth.type_id
    rt = rate(system)
    send(system, "set_debt_ceiling", r.governance, tid, 3_000 * WAD * rt - 1)
    system.open_vault(r.other, "ETH-A", 10 * WAD, 1_000 * WAD)
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    with reverts("engine: type ceiling exceeded"):
        lock(system, r.borrower, 10 * WAD, 2_000 * WAD)
    assert vault(system, tid, r.borrower) == Vault(0, 0)


def test_modify_vault__global_ceiling_boundary__exactly_at_passes(system):
    """Money flow: governance creates 7 rad of unbacked stablecoin for the keeper, which counts
    against the global ceiling; the ceiling is then set to 7 rad + 1,000 wad * rate and the
    borrower's 1,000 wad draw fills it exactly."""
    r = system.roles
    rt = rate(system)
    send(system, "create_unbacked", r.governance, r.governance, r.keeper, 7 * RAD)
    send(system, "set_global_debt_ceiling", r.governance, 7 * RAD + 1_000 * WAD * rt)
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    assert read(system, "total_issued") == read(system, "global_debt_ceiling")


def test_modify_vault__draw_above_global_ceiling__reverts(system):
    r = system.roles
    rt = rate(system)
    send(system, "create_unbacked", r.governance, r.governance, r.keeper, 7 * RAD)
    send(system, "set_global_debt_ceiling", r.governance, 7 * RAD + 1_000 * WAD * rt - 1)
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    with reverts("engine: global ceiling exceeded"):
        lock(system, r.borrower, 10 * WAD, 1_000 * WAD)
    assert read(system, "total_issued") == 7 * RAD


def test_modify_vault__global_ceiling_counts_every_type(system):
    """Money flow: the borrower draws 1,000 wad on WBTC-A; the global ceiling then leaves room
    for exactly 1,000 wad * (ETH-A rate) - 1 more, so a 1,000 wad ETH-A draw is refused."""
    r = system.roles
    btc_rate = ctype(system, system.btc.type_id).rate
    system.open_vault(r.borrower, "WBTC-A", WAD, 1_000 * WAD)
    send(
        system,
        "set_global_debt_ceiling",
        r.governance,
        1_000 * WAD * btc_rate + 1_000 * WAD * rate(system) - 1,
    )
    system.fund(r.other, "ETH-A", 10 * WAD)
    with reverts("engine: global ceiling exceeded"):
        lock(system, r.other, 10 * WAD, 1_000 * WAD)


def test_modify_vault__above_ceilings__can_still_repay_add_and_free(system):
    """Money flow: both ceilings drop below the borrower's debt. Drawing even 1 wei is refused,
    but the borrower repays 1,000 wad (1,000 wad * rate of stablecoin burned), locks 1 more ETH
    and frees 2 ETH (ceilings bound debt, not collateral)."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    system.fund(r.borrower, "ETH-A", WAD)
    rt = rate(system)
    send(system, "set_debt_ceiling", r.governance, tid, 1_000 * RAD)
    with reverts("engine: type ceiling exceeded"):
        lock(system, r.borrower, 0, 1)
    send(system, "set_debt_ceiling", r.governance, tid, 20_000_000 * RAD)
    send(system, "set_global_debt_ceiling", r.governance, 1_000 * RAD)
    with reverts("engine: global ceiling exceeded"):
        lock(system, r.borrower, 0, 1)
    send(system, "set_debt_ceiling", r.governance, tid, 1_000 * RAD)
    lock(system, r.borrower, 0, -1_000 * WAD)
    lock(system, r.borrower, WAD, 0)
    lock(system, r.borrower, -2 * WAD, 0)
    assert vault(system, tid, r.borrower) == Vault(9 * WAD, 4_000 * WAD)
    assert free(system, r.borrower) == 2 * WAD
    assert read(system, "stable", r.borrower) == 4_000 * WAD * rt


# ---------------------------------------------------------------- modify_vault: dust


def test_modify_vault__dust_boundary__debt_exactly_dust_passes(system):
    r = system.roles
    tid = system.eth.type_id
    rt = rate(system)
    send(system, "set_dust", r.governance, tid, 150 * WAD * rt)
    system.open_vault(r.borrower, "ETH-A", WAD, 150 * WAD)
    assert read(system, "vault_debt", tid, r.borrower) == ctype(system, tid).dust


def test_modify_vault__debt_one_wei_below_dust__reverts(system):
    r = system.roles
    tid = system.eth.type_id
    rt = rate(system)
    send(system, "set_dust", r.governance, tid, 150 * WAD * rt + 1)
    system.fund(r.borrower, "ETH-A", WAD)
    with reverts("engine: dust"):
        lock(system, r.borrower, WAD, 150 * WAD)


def test_modify_vault__partial_repay_below_dust__reverts_full_repay_passes(system):
    """Money flow: the borrower may not leave 50 wad (< dust of 100 rad) in its vault, but may
    repay all 150 wad with the 150 wad * rate it drew."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", WAD, 150 * WAD)
    with reverts("engine: dust"):
        lock(system, r.borrower, 0, -100 * WAD)
    lock(system, r.borrower, 0, -150 * WAD)
    assert vault(system, tid, r.borrower) == Vault(WAD, 0)
    assert read(system, "stable", r.borrower) == 0


# ---------------------------------------------------------------- modify_vault: balances


def test_modify_vault__free_more_than_locked__reverts_insufficient_locked(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 0)
    with reverts("engine: insufficient locked"):
        lock(system, r.borrower, -(10 * WAD + 1), 0)


def test_modify_vault__repay_more_than_owed__reverts_repay_exceeds_debt(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    with reverts("engine: repay exceeds debt"):
        lock(system, r.borrower, 0, -(1_000 * WAD + 1))


def test_modify_vault__lock_more_than_free__reverts_insufficient_collateral(system):
    r = system.roles
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    with reverts("engine: insufficient collateral"):
        lock(system, r.borrower, 10 * WAD + 1, 0)


def test_modify_vault__repay_without_enough_stable__reverts_insufficient_stable(system):
    """Money flow: the borrower gives away 1 rad of the 1,000 wad * rate it drew, so it cannot
    repay the whole 1,000 wad."""
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    send(system, "transfer_stable", r.borrower, r.borrower, r.other, RAD)
    with reverts("engine: insufficient stable"):
        lock(system, r.borrower, 0, -1_000 * WAD)


def test_modify_vault__uninitialized_type__reverts(system):
    r = system.roles
    with reverts("engine: type not initialized"):
        send(
            system,
            "modify_vault",
            r.borrower,
            UNKNOWN_TYPE,
            r.borrower,
            r.borrower,
            r.borrower,
            0,
            0,
        )


# ---------------------------------------------------------------- modify_vault: packed storage


def test_modify_vault__locked_collateral_above_128_bits__reverts_value_too_large(system):
    """Money flow: the borrower joins 2**128 wad of ETH and locks 2**128 - 1 of it (the most a
    vault's packed half holds); locking the last wei is refused."""
    r = system.roles
    tid = system.eth.type_id
    system.fund(r.borrower, "ETH-A", MAX_FIELD + 1)
    lock(system, r.borrower, MAX_FIELD, 0)
    assert vault(system, tid, r.borrower) == Vault(MAX_FIELD, 0)
    with reverts("engine: value too large"):
        lock(system, r.borrower, 1, 0)
    assert vault(system, tid, r.borrower) == Vault(MAX_FIELD, 0)
    assert free(system, r.borrower) == 1


def test_modify_vault__type_debt_above_128_bits__reverts_value_too_large(system):
    """Money flow: with the safe price and both ceilings raised out of the way, the other user
    draws 2**128 - 1 wad of normalized debt (the most the type's packed half holds) and receives
    that times the rate; the borrower's 150 wad draw would push the type total past 128 bits and
    is refused, though its own vault would be small."""
    r = system.roles
    tid = system.eth.type_id
    rt = rate(system)
    send(system, "set_safe_price", r.governance, tid, RAD)
    send(system, "set_debt_ceiling", r.governance, tid, MAX_UINT256)
    send(system, "set_global_debt_ceiling", r.governance, MAX_UINT256)
    with system.auditor.suspended("the safe price is raised far above the market's"):
        system.open_vault(r.other, "ETH-A", 1_000 * WAD, MAX_FIELD)
    assert vault(system, tid, r.other) == Vault(1_000 * WAD, MAX_FIELD)
    assert ctype(system, tid).normalized_debt == MAX_FIELD
    assert ctype(system, tid).rate == rt
    assert read(system, "stable", r.other) == MAX_FIELD * rt
    system.fund(r.borrower, "ETH-A", 10 * WAD)
    with reverts("engine: value too large"):
        lock(system, r.borrower, 10 * WAD, 150 * WAD)
    assert ctype(system, tid).normalized_debt == MAX_FIELD


# ---------------------------------------------------------------- seize


def test_seize__whole_vault__collateral_to_dst_debt_becomes_bad_debt(system):
    """Money flow: governance seizes the borrower's 10 ETH / 5,000 wad vault. The 10 ETH go to the
    keeper's free balance; the 5,000 wad * rate of debt becomes governance's bad debt. The
    stablecoin the borrower drew stays issued, now backed by nothing: I3 moves it from backed
    to unbacked debt."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    rt = rate(system)
    send(
        system,
        "seize",
        r.governance,
        tid,
        r.borrower,
        r.keeper,
        r.governance,
        -10 * WAD,
        -5_000 * WAD,
    )
    assert vault(system, tid, r.borrower) == Vault(0, 0)
    assert ctype(system, tid).normalized_debt == 0
    assert free(system, r.keeper) == 10 * WAD
    assert read(system, "bad_debt", r.governance) == 5_000 * WAD * rt
    assert read(system, "total_unbacked") == 5_000 * WAD * rt
    assert read(system, "total_issued") == 5_000 * WAD * rt
    assert read(system, "stable", r.borrower) == 5_000 * WAD * rt
    assert ctype(system, tid).rate == rt
    assert logged(
        system,
        "VaultSeized",
        collateral_type=tid,
        owner=r.borrower,
        collateral_dst=r.keeper,
        debt_dst=r.governance,
        delta_collateral=-10 * WAD,
        delta_normalized_debt=-5_000 * WAD,
    )


def test_seize__part_of_safe_vault__no_safety_or_dust_check(system):
    """Money flow: governance takes 4 ETH and 4,950 wad of debt, leaving a 50 wad remainder below
    dust (the liquidator, not the engine, guards that): 4 ETH to the keeper, 4,950 wad * rate of
    bad debt to governance."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    rt = rate(system)
    send(
        system,
        "seize",
        r.governance,
        tid,
        r.borrower,
        r.keeper,
        r.governance,
        -4 * WAD,
        -4_950 * WAD,
    )
    assert vault(system, tid, r.borrower) == Vault(6 * WAD, 50 * WAD)
    assert free(system, r.keeper) == 4 * WAD
    assert read(system, "bad_debt", r.governance) == 4_950 * WAD * rt


def test_seize__positive_deltas__undo_a_seizure(system):
    """Money flow: after a full seizure governance puts the keeper's 10 ETH and its own 5,000 wad
    * rate of bad debt back into the borrower's vault."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    send(
        system,
        "seize",
        r.governance,
        tid,
        r.borrower,
        r.keeper,
        r.governance,
        -10 * WAD,
        -5_000 * WAD,
    )
    send(
        system,
        "seize",
        r.governance,
        tid,
        r.borrower,
        r.keeper,
        r.governance,
        10 * WAD,
        5_000 * WAD,
    )
    assert vault(system, tid, r.borrower) == Vault(10 * WAD, 5_000 * WAD)
    assert free(system, r.keeper) == 0
    assert read(system, "bad_debt", r.governance) == 0
    assert read(system, "total_unbacked") == 0


def test_seize__locked_collateral_above_128_bits__reverts_value_too_large(system):
    """Money flow: the keeper holds 2**128 wad of free ETH; governance can put back into the
    borrower's 10 ETH vault exactly enough to fill its packed half (2**128 - 1), not one wei
    more."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    system.fund(r.keeper, "ETH-A", MAX_FIELD + 1)
    room = MAX_FIELD - 10 * WAD
    with reverts("engine: value too large"):
        send(system, "seize", r.governance, tid, r.borrower, r.keeper, r.governance, room + 1, 0)
    send(system, "seize", r.governance, tid, r.borrower, r.keeper, r.governance, room, 0)
    assert vault(system, tid, r.borrower) == Vault(MAX_FIELD, 1_000 * WAD)
    assert free(system, r.keeper) == MAX_FIELD + 1 - room


def test_seize__uninitialized_type__reverts_and_init_stays_clean(system):
    """Seizing on a type whose rate is 0 could put debt into a vault without issuing anything
    (delta_debt = 0 * delta), and init_type would then overwrite the type's packed debt half,
    leaving vault and type debt apart (I3, I4). Refused; the type initializes clean."""
    r = system.roles
    with reverts("engine: type not initialized"):
        send(system, "seize", r.governance, NEW_TYPE, r.borrower, r.keeper, r.governance, 0, WAD)
    with reverts("engine: type not initialized"):
        send(system, "seize", r.governance, NEW_TYPE, r.borrower, r.keeper, r.governance, 0, 0)
    send(system, "init_type", r.governance, NEW_TYPE)
    assert ctype(system, NEW_TYPE) == CollateralType(rate=RAY)
    assert vault(system, NEW_TYPE, r.borrower) == Vault(0, 0)
    assert system.engine().collateral_types[NEW_TYPE] == ctype(system, NEW_TYPE)


def test_seize__more_collateral_than_locked__reverts_insufficient_locked(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    with reverts("engine: insufficient locked"):
        send(
            system,
            "seize",
            r.governance,
            system.eth.type_id,
            r.borrower,
            r.keeper,
            r.governance,
            -(10 * WAD + 1),
            -5_000 * WAD,
        )


def test_seize__more_debt_than_owed__reverts_repay_exceeds_debt(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    with reverts("engine: repay exceeds debt"):
        send(
            system,
            "seize",
            r.governance,
            system.eth.type_id,
            r.borrower,
            r.keeper,
            r.governance,
            -10 * WAD,
            -(5_000 * WAD + 1),
        )


def test_seize__putting_back_collateral_dst_lacks__reverts_insufficient_collateral(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    with reverts("engine: insufficient collateral"):
        send(
            system,
            "seize",
            r.governance,
            system.eth.type_id,
            r.borrower,
            r.keeper,
            r.governance,
            WAD,
            0,
        )


def test_seize__putting_back_debt_without_bad_debt__reverts_arithmetic(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    with reverts(None):
        send(
            system,
            "seize",
            r.governance,
            system.eth.type_id,
            r.borrower,
            r.keeper,
            r.governance,
            0,
            WAD,
        )


# ---------------------------------------------------------------- fold_rate


def test_fold_rate__positive__credits_fees_to_recipient(system):
    """Money flow: the rate grows by 0.01 ray on 5,000 wad of normalized debt: governance is
    credited 50 rad of new stablecoin, total issued grows by 50 rad, the borrower owes 50 rad
    more."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    rt = rate(system)
    ctype_before = ctype(system, tid)
    send(system, "fold_rate", r.governance, tid, r.governance, RAY // 100)
    assert ctype(system, tid) == ctype_before._replace(rate=rt + RAY // 100)
    assert read(system, "stable", r.governance) == 50 * RAD
    assert read(system, "total_issued") == 5_000 * WAD * rt + 50 * RAD
    assert read(system, "vault_debt", tid, r.borrower) == 5_000 * WAD * rt + 50 * RAD
    assert logged(
        system,
        "RateFolded",
        collateral_type=tid,
        recipient=r.governance,
        delta_rate=RAY // 100,
        delta_stable=50 * RAD,
    )


def test_fold_rate__negative__debits_recipient(system):
    """Money flow: the rate shrinks by 0.01 ray on 5,000 wad of normalized debt: 50 rad leave the
    recipient's (the borrower's) balance and total issued, and the borrower owes 50 rad less."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    rt = rate(system)
    send(system, "fold_rate", r.governance, tid, r.borrower, -(RAY // 100))
    assert ctype(system, tid).rate == rt - RAY // 100
    assert read(system, "stable", r.borrower) == 5_000 * WAD * rt - 50 * RAD
    assert read(system, "total_issued") == 5_000 * WAD * rt - 50 * RAD
    assert logged(
        system,
        "RateFolded",
        collateral_type=tid,
        recipient=r.borrower,
        delta_rate=-(RAY // 100),
        delta_stable=-50 * RAD,
    )


def test_fold_rate__type_without_debt__moves_no_stable(system):
    r = system.roles
    tid = system.eth.type_id
    rt = rate(system)
    send(system, "fold_rate", r.governance, tid, r.keeper, 3 * RAY)
    assert ctype(system, tid).rate == rt + 3 * RAY
    assert read(system, "stable", r.keeper) == 0
    assert read(system, "total_issued") == 0


def test_fold_rate__negative_beyond_recipient_balance__reverts_insufficient_stable(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    with reverts("engine: insufficient stable"):
        send(system, "fold_rate", r.governance, system.eth.type_id, r.stranger, -1)


def test_fold_rate__down_to_one_wei__rate_never_reaches_zero(system):
    """The rate can be folded down to 1 wei of ray, never to 0: exactly -rate is refused by name,
    anything lower underflows."""
    r = system.roles
    tid = system.eth.type_id
    rt = rate(system)
    send(system, "fold_rate", r.governance, tid, r.governance, -(rt - 1))
    assert ctype(system, tid).rate == 1
    with reverts("engine: rate would be zero"):
        send(system, "fold_rate", r.governance, tid, r.governance, -1)
    with reverts(None):
        send(system, "fold_rate", r.governance, tid, r.governance, -2)
    assert ctype(system, tid).rate == 1


@pytest.mark.parametrize(
    "below", [0, 1, RAY], ids=["exactly-minus-rate", "one-below", "one-ray-below"]
)
def test_fold_rate__to_zero_or_below__reverts(system, below):
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    rt = rate(system)
    with reverts("engine: rate would be zero" if below == 0 else None):
        send(system, "fold_rate", r.governance, tid, r.borrower, -rt - below)
    assert ctype(system, tid).rate == rt


def test_fold_rate__above_128_bits__reverts_value_too_large(system):
    """The rate can be folded up to 2**128 - 1 ray (the packed half), not one wei more; the
    type's debt half is untouched."""
    r = system.roles
    tid = system.eth.type_id
    rt = rate(system)
    with reverts("engine: value too large"):
        send(system, "fold_rate", r.governance, tid, r.governance, MAX_FIELD + 1 - rt)
    send(system, "fold_rate", r.governance, tid, r.governance, MAX_FIELD - rt)
    assert ctype(system, tid).rate == MAX_FIELD
    assert ctype(system, tid).normalized_debt == 0
    with reverts("engine: value too large"):
        send(system, "fold_rate", r.governance, tid, r.governance, 1)


def test_fold_rate__most_negative_delta__reverts_arithmetic(system):
    with reverts(None):
        send(
            system,
            "fold_rate",
            system.roles.governance,
            system.eth.type_id,
            system.roles.governance,
            MIN_INT256,
        )


def test_fold_rate__uninitialized_type__reverts(system):
    with reverts("engine: type not initialized"):
        send(
            system, "fold_rate", system.roles.governance, UNKNOWN_TYPE, system.roles.governance, RAY
        )
    assert ctype(system, UNKNOWN_TYPE).rate == 0


# ---------------------------------------------------------------- create_unbacked


def test_create_unbacked__mints_stable_against_bad_debt(system):
    """Money flow: governance owes 25 rad + 1 of new bad debt; the keeper receives the same in
    stablecoin. Total issued and total unbacked both grow by it (I3 holds with no vault)."""
    r = system.roles
    amount = 25 * RAD + 1
    send(system, "create_unbacked", r.governance, r.governance, r.keeper, amount)
    assert read(system, "bad_debt", r.governance) == amount
    assert read(system, "stable", r.keeper) == amount
    assert read(system, "stable", r.governance) == 0
    assert read(system, "total_unbacked") == amount
    assert read(system, "total_issued") == amount
    assert logged(
        system, "UnbackedCreated", debt_dst=r.governance, stable_dst=r.keeper, amount=amount
    )


def test_create_unbacked__total_unbacked_reaches_2_255_minus_1__one_wei_more_reverts(system):
    """Bound: the engine stores the total unbacked debt with its slot's top bit set (so the slot
    never empties and a later liquidation updates it instead of creating it); a checked addition
    on that word reverts once the total would reach 2**255. The model's bound is the same, to the
    wei (the harness compares both sides, the revert included); bad debt the deployment already
    holds counts."""
    r = system.roles
    room = 2**255 - 1 - read(system, "total_unbacked")
    with reverts(None):
        send(system, "create_unbacked", r.governance, r.governance, r.keeper, room + 1)
    send(system, "create_unbacked", r.governance, r.governance, r.keeper, room)
    assert read(system, "total_unbacked") == 2**255 - 1
    with reverts(None):
        send(system, "create_unbacked", r.governance, r.governance, r.keeper, 1)


# ---------------------------------------------------------------- settle


def test_settle__cancels_bad_debt_against_stable_without_authority(system):
    """Money flow: the keeper holds 30 rad of bad debt and 30 rad of stablecoin (created by
    governance); it settles 10 rad, then the remaining 20: both balances and both totals fall."""
    r = system.roles
    send(system, "create_unbacked", r.governance, r.keeper, r.keeper, 30 * RAD)
    send(system, "settle", r.keeper, 10 * RAD)
    assert read(system, "bad_debt", r.keeper) == 20 * RAD
    assert read(system, "stable", r.keeper) == 20 * RAD
    assert read(system, "total_unbacked") == 20 * RAD
    assert read(system, "total_issued") == 20 * RAD
    assert logged(system, "DebtSettled", account=r.keeper, amount=10 * RAD)
    send(system, "settle", r.keeper, 20 * RAD)
    assert read(system, "bad_debt", r.keeper) == 0
    assert read(system, "stable", r.keeper) == 0
    assert read(system, "total_unbacked") == 0
    assert read(system, "total_issued") == 0


def test_settle__more_than_bad_debt__reverts_insufficient_bad_debt(system):
    r = system.roles
    send(system, "create_unbacked", r.governance, r.keeper, r.keeper, 30 * RAD)
    send(system, "create_unbacked", r.governance, r.other, r.keeper, RAD)  # stable is not the limit
    with reverts("engine: insufficient bad debt"):
        send(system, "settle", r.keeper, 30 * RAD + 1)


def test_settle__more_than_stable__reverts_insufficient_stable(system):
    """Money flow: the keeper owes 30 rad of bad debt but the stablecoin went to the other user."""
    r = system.roles
    send(system, "create_unbacked", r.governance, r.keeper, r.other, 30 * RAD)
    with reverts("engine: insufficient stable"):
        send(system, "settle", r.keeper, 1)


def test_settle__after_seizure__borrower_stable_cancels_backstop_bad_debt(system):
    """Money flow: a seizure leaves governance with 1,000 wad * rate of bad debt; the borrower
    pays governance the stablecoin it drew, and governance settles it all: nothing stays issued."""
    r = system.roles
    tid = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    debt = 1_000 * WAD * rate(system)
    send(
        system,
        "seize",
        r.governance,
        tid,
        r.borrower,
        r.keeper,
        r.governance,
        -10 * WAD,
        -1_000 * WAD,
    )
    send(system, "transfer_stable", r.borrower, r.borrower, r.governance, debt)
    send(system, "settle", r.governance, debt)
    assert read(system, "bad_debt", r.governance) == 0
    assert read(system, "total_issued") == 0
    assert read(system, "total_unbacked") == 0


# ---------------------------------------------------------------- views


def test_vault_debt__is_normalized_debt_times_rate(system):
    r = system.roles
    tid = system.eth.type_id
    assert read(system, "vault_debt", tid, r.borrower) == 0
    assert read(system, "vault_debt", UNKNOWN_TYPE, r.borrower) == 0
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_234 * WAD + 5)
    rt = rate(system)
    assert read(system, "vault_debt", tid, r.borrower) == (1_234 * WAD + 5) * rt
    assert system.engine().vault_debt(tid, r.borrower) == (1_234 * WAD + 5) * rt
    send(system, "fold_rate", r.governance, tid, r.governance, 7)
    assert read(system, "vault_debt", tid, r.borrower) == (1_234 * WAD + 5) * (rt + 7)


def test_rate_and_debt__is_the_types_rate_and_normalized_debt_on_chain_and_in_the_model(system):
    """The one-slot view the fee accumulator, the backstop and the auctions read: it follows
    collateral_types through a draw and a rate fold; an unknown type reads (0, 0)."""
    r = system.roles
    tid = system.eth.type_id
    assert read(system, "rate_and_debt", UNKNOWN_TYPE) == (0, 0)
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_234 * WAD + 5)
    send(system, "fold_rate", r.governance, tid, r.governance, 7)
    t = ctype(system, tid)
    assert read(system, "rate_and_debt", tid) == (t.rate, t.normalized_debt)
    assert system.engine().rate_and_debt(tid) == (t.rate, t.normalized_debt)
    assert t.normalized_debt >= 1_234 * WAD + 5


def test_is_safe__follows_safe_price(system):
    r = system.roles
    tid = system.eth.type_id
    assert read(system, "is_safe", tid, r.borrower) is True  # no vault, no debt
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    assert read(system, "is_safe", tid, r.borrower) is True
    debt = 5_000 * WAD * rate(system)
    # safe exactly while 10 wad * safe_price >= debt; safe_price ceil(debt / 10 wad) is the lowest
    lowest_safe = -(-debt // (10 * WAD))
    send(system, "set_safe_price", r.governance, tid, lowest_safe)
    assert read(system, "is_safe", tid, r.borrower) is True
    send(system, "set_safe_price", r.governance, tid, lowest_safe - 1)
    assert read(system, "is_safe", tid, r.borrower) is False
    assert system.engine().is_safe(tid, r.borrower) is False


def test_modify_vault__debt_below_raised_dust__can_still_add_collateral_but_not_change_debt(system):
    """Money flow: governance raises the dust above a vault's debt; the owner may still lock more
    collateral (the vault gets safer) but any debt change must end at 0 or at least the dust."""
    r = system.roles
    t = system.eth.type_id
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 1_000 * WAD)
    system.tx(system.d.engine, "set_dust", r.governance, t, 2_000 * RAD)
    system.fund(r.borrower, "ETH-A", WAD)
    system.tx(
        system.d.engine, "modify_vault", r.borrower, t, r.borrower, r.borrower, r.borrower, WAD, 0
    )
    assert system.engine().vaults[(t, r.borrower)].collateral == 11 * WAD
    with reverts("engine: dust"):
        system.tx(
            system.d.engine,
            "modify_vault",
            r.borrower,
            t,
            r.borrower,
            r.borrower,
            r.borrower,
            0,
            -WAD,
        )
