"""VaultEngine.fold_rate: a rate change credits or debits the fee recipient normalized debt x delta;
the rate never reaches zero and stays within 128 bits. Helpers:
tests/contracts/support/vault_engine.py.
"""

from __future__ import annotations

import pytest
from support.vault_engine import (
    MAX_FIELD,
    MIN_INT256,
    UNKNOWN_TYPE,
    ctype,
    logged,
    rate,
    read,
    send,
)

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import reverts


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
