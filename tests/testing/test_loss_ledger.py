"""Loss conservation kept over a growing log (offchain/system/invariants.py, `LossLedger`): the
differential checks follow the model's log step by step instead of summing the whole run after
every step. Followed in any pieces, it names the problems `loss_conservation` names over the whole
log, in the same order; another log (or a shorter one) starts it again."""

from __future__ import annotations

import pytest

from offchain.model.state import Event
from offchain.system.invariants import LossLedger, loss_conservation

BACKSTOP, POOL = "0x" + "b" * 40, "0x" + "c" * 40
KEY = {"collateral_type": b"ETH-A".ljust(32, b"\0"), "auction": "0x" + "a" * 40, "auction_id": 3}
LOG = [
    Event(BACKSTOP, "LossClosed", {**KEY, "loss": 100}),
    Event(BACKSTOP, "LossAllocated", {**KEY, "layer": 2, "amount": 60}),
    Event(POOL, "Absorbed", {**KEY, "charge_id": 1, "amount": 60}),
    Event(POOL, "StakerCharged", {"charge_id": 1, "amount": 30}),
    Event(BACKSTOP, "LossAllocated", {**KEY, "layer": 1, "amount": 50}),  # 110 > 100
    Event(POOL, "StakerCharged", {"charge_id": 1, "amount": 40}),  # 70 > 60
    Event(BACKSTOP, "LossAllocated", {**KEY, "layer": 2, "amount": 5}),  # no Absorbed for it
]
DUE = {(KEY["collateral_type"], KEY["auction"], KEY["auction_id"]): 0}
DONE = {1: 60}


def test_loss_conservation__a_log_with_every_kind_of_problem__names_each():
    found = loss_conservation(LOG, BACKSTOP, POOL, DUE, DONE)
    assert [p.split(":")[1].strip().split(" ")[0] for p in found] == [
        "receipts",  # 110 > 100
        "receipts",  # 115 > 100
        "pool",  # pool receipts 65 against Absorbed 60
        "stakers",  # charge 1: 70 > 60
        "loss",  # loss - receipts -15 != due 0
        "stakers",  # charge 1 done: 70 != 60
    ]


@pytest.mark.parametrize("cut", range(len(LOG) + 1))
def test_loss_ledger__followed_in_two_pieces__the_whole_logs_answer(cut):
    log: list[Event] = []
    ledger = LossLedger(BACKSTOP, POOL)
    log += LOG[:cut]
    ledger.follow(log)
    assert ledger.problems(DUE, DONE) == loss_conservation(log, BACKSTOP, POOL, DUE, DONE)
    log += LOG[cut:]
    ledger.follow(log)
    assert ledger.problems(DUE, DONE) == loss_conservation(LOG, BACKSTOP, POOL, DUE, DONE)


def test_loss_ledger__followed_event_by_event__the_whole_logs_answer_at_each():
    log: list[Event] = []
    ledger = LossLedger(BACKSTOP, POOL)
    for event in LOG:
        log.append(event)
        ledger.follow(log)
        assert ledger.problems(DUE, DONE) == loss_conservation(log, BACKSTOP, POOL, DUE, DONE)


def test_loss_ledger__another_or_a_shorter_log__starts_again():
    ledger = LossLedger(BACKSTOP, POOL)
    log = list(LOG)
    ledger.follow(log)
    del log[2:]
    ledger.follow(log)  # the same list, shorter than what was followed of it
    assert ledger.problems(DUE, DONE) == loss_conservation(log, BACKSTOP, POOL, DUE, DONE)
    other = list(LOG)
    ledger.follow(other)  # another list
    assert ledger.problems(DUE, DONE) == loss_conservation(other, BACKSTOP, POOL, DUE, DONE)
