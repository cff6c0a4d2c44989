"""VaultEngine's views vault_debt, rate_and_debt and is_safe, on chain and in the model. Helpers:
tests/contracts/support/vault_engine.py.
"""

from __future__ import annotations

from support.vault_engine import UNKNOWN_TYPE, ctype, rate, read, send

from offchain.model.fixed_point import WAD


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
