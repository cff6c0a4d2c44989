"""DutchAuction.take with callback data: the recipient is called back between delivery and payment,
re-entry by a malicious callee (contracts/testing/ReentrantTaker.vy) fails on both sides.
Scenario and helpers: tests/contracts/support/dutch_auction.py.
"""

from __future__ import annotations

import pytest
from eth_abi import encode as abi_encode
from helpers import auction_sale, eth_auction, fund_taker
from support.dutch_auction import collateral as _collateral
from support.dutch_auction import (
    two_unsafe_vaults_and_one_auction as _two_unsafe_vaults_and_one_auction,
)

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.model.testing.reentrant_taker import LIQUIDATE, NOTHING, RESET, TAKE
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts


def _reentrant_taker(system) -> str:
    """A malicious callee (contracts/testing/ReentrantTaker.vy), deployed by the stranger."""
    address = system.lockstep.deploy(
        "ReentrantTaker", system.roles.stranger, system.eth.auction, system.d.liquidator
    )
    system.extra_holders.append(address)
    return address


def _callback_data(mode, auction_id, type_id=b"\0" * 32, owner=ZERO_ADDRESS) -> bytes:
    return abi_encode(
        ["uint256", "uint256", "bytes32", "address"], [mode, auction_id, type_id, owner]
    )


def test_take_with_data__calls_recipient_back_between_delivery_and_payment(system):
    """Money flow: the callee receives 2 ETH, is called back (and logs), then the taker pays
    3,600 BUSD: a flash take."""
    r, t, d = system.roles, system.eth, system.d
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    callee = _reentrant_taker(system)
    system.tx(
        t.auction,
        "take",
        r.other,
        auction_id,
        2 * WAD,
        1_800 * RAY,
        callee,
        _callback_data(NOTHING, auction_id),
    )
    assert [(e.address, e.name) for e in system.events] == [
        (d.engine, "CollateralTransferred"),
        (callee, "CallbackEntered"),
        (d.engine, "StableTransferred"),
        (d.liquidator, "DebtInAuctionRemoved"),
        (t.auction, "Taken"),
    ]
    assert system.events[1].args == {
        "sender": r.other,
        "owe": 3_600 * RAD,
        "collateral": 2 * WAD,
        "mode": NOTHING,
    }
    assert _collateral(system, t, callee) == 2 * WAD


@pytest.mark.parametrize("mode", [TAKE, RESET, LIQUIDATE])
def test_take_with_data__callee_reentering_auction_or_liquidator__reverts_without_reason(
    system, mode
):
    """The callee tries to take again, to reset, or to liquidate another vault (which would start
    an auction) from inside the callback: the auction's lock reverts it without a reason, on chain
    and in the model, and the whole take is undone. Outside the callback each call gets further,
    which shows that the lock, nothing else, stopped it."""
    r, t = system.roles, system.eth
    auction_id = _two_unsafe_vaults_and_one_auction(system)
    callee = _reentrant_taker(system)
    before = auction_sale(system, t, auction_id)
    with reverts(None):
        system.tx(
            t.auction,
            "take",
            r.other,
            auction_id,
            2 * WAD,
            1_800 * RAY,
            callee,
            _callback_data(mode, auction_id, t.type_id, r.stranger),
        )
    assert auction_sale(system, t, auction_id) == before
    assert _collateral(system, t, callee) == 0
    assert _read(system, t.auction, "next_id") == 2
    # the same call by the callee outside any callback
    data = _callback_data(mode, auction_id, t.type_id, r.stranger)
    if mode == TAKE:  # it has not allowed the auction to collect: a reason, from the engine
        with reverts("engine: not allowed"):
            system.tx(callee, "act", r.stranger, 2 * WAD, data)
    elif mode == RESET:
        with reverts("auction: cannot reset"):
            system.tx(callee, "act", r.stranger, 0, data)
    else:
        system.tx(callee, "act", r.stranger, 0, data)
        assert _read(system, t.auction, "next_id") == 3
        assert auction_sale(system, t, 2)[3] == r.stranger


@pytest.mark.parametrize("recipient", ["eoa", "contract_without_callback"])
def test_take_with_data__recipient_not_a_callee__reverts_without_reason(system, recipient):
    """A flash take to an account without code (the call's code check) or to a contract without
    on_auction_take (no such function) reverts with no reason; without data the same take
    delivers 1 ETH there for 1,800 BUSD."""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    to = {"eoa": r.stranger, "contract_without_callback": system.d.backstop}[recipient]
    with reverts(None):
        system.tx(t.auction, "take", r.other, auction_id, WAD, 1_800 * RAY, to, b"\x01")
    system.tx(t.auction, "take", r.other, auction_id, WAD, 1_800 * RAY, to, b"")
    assert _collateral(system, t, to) == WAD


@pytest.mark.parametrize("recipient", ["engine", "liquidator"])
def test_take_with_data__to_engine_or_liquidator__skips_the_callback(system, recipient):
    """The auction never calls back its own engine or liquidator (whatever the data says): the
    collateral is delivered as in a plain take."""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    to = getattr(system.d, recipient)
    system.tx(
        t.auction,
        "take",
        r.other,
        auction_id,
        WAD,
        1_800 * RAY,
        to,
        _callback_data(TAKE, auction_id),
    )
    assert [e.name for e in system.events] == [
        "CollateralTransferred",
        "StableTransferred",
        "DebtInAuctionRemoved",
        "Taken",
    ]
    assert _collateral(system, t, to) == WAD


def test_take_with_data__longer_than_1024_bytes__reverts_without_reason(system):
    """The ABI decoder rejects data over Bytes[1024]; exactly 1,024 bytes reach the callee."""
    r, t = system.roles, system.eth
    auction_id = eth_auction(system)
    fund_taker(system, r.other, 20_000 * RAD, [t.auction])
    callee = _reentrant_taker(system)
    data = _callback_data(NOTHING, auction_id)
    with reverts(None):
        system.tx(
            t.auction,
            "take",
            r.other,
            auction_id,
            WAD,
            1_800 * RAY,
            callee,
            data + b"\0" * (1025 - len(data)),
        )
    system.tx(
        t.auction,
        "take",
        r.other,
        auction_id,
        WAD,
        1_800 * RAY,
        callee,
        data + b"\0" * (1024 - len(data)),
    )
    assert system.events[1].name == "CallbackEntered"
