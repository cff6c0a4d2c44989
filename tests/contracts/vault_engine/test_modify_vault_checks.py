"""VaultEngine.modify_vault's checks: safety (to the wei), the type and global ceilings, dust,
balances, uninitialized types and 128-bit bounds. Units and helpers:
tests/contracts/support/vault_engine.py.
"""

from __future__ import annotations

from support.vault_engine import MAX_FIELD, UNKNOWN_TYPE, ctype, free, lock, rate, read, send, vault

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.vault_engine import Vault
from offchain.testing.harness import reverts

MAX_UINT256 = 2**256 - 1


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
