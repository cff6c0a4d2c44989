"""Loss conservation kept over a growing log (offchain/system/invariants.py, `LossLedger`): the
differential checks follow the model's log step by step instead of summing the whole run after
every step. Followed in any pieces, it names the problems the one-pass function it replaced
(kept here as `_reference`) names over the log so far, word for word and in the same order;
another log (or a shorter one) starts it again."""

from __future__ import annotations

from typing import Any

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
KEY_TEXT = str((KEY["collateral_type"], KEY["auction"], KEY["auction_id"]))


def _reference(
    events: list[Any],
    backstop: str,
    pool: str,
    due: dict[tuple, int] | None = None,
    charges_done: dict[int, int] | None = None,
) -> list[str]:
    """The old loss_conservation (before 927f6b9), one pass over the whole log, kept here
    as the reference the ledger is held to."""
    bad: list[str] = []
    loss: dict[tuple, int] = {}
    paid: dict[tuple, int] = {}
    charged: dict[int, int] = {}
    absorbed: dict[int, int] = {}
    pool_paid: dict[tuple, int] = {}
    for ev in events:
        if ev.address == backstop and ev.name == "LossClosed":
            key = (ev.args["collateral_type"], ev.args["auction"], ev.args["auction_id"])
            loss[key] = ev.args["loss"]
        elif ev.address == backstop and ev.name == "LossAllocated":
            key = (ev.args["collateral_type"], ev.args["auction"], ev.args["auction_id"])
            paid[key] = paid.get(key, 0) + ev.args["amount"]
            if ev.args["layer"] == 2:
                pool_paid[key] = pool_paid.get(key, 0) + ev.args["amount"]
            if paid[key] > loss.get(key, 0):
                bad.append(f"loss {key}: receipts {paid[key]} exceed the loss {loss.get(key, 0)}")
        elif ev.address == pool and ev.name == "Absorbed":
            absorbed[ev.args["charge_id"]] = ev.args["amount"]
            key = (ev.args["collateral_type"], ev.args["auction"], ev.args["auction_id"])
            pool_paid[key] = pool_paid.get(key, 0) - ev.args["amount"]
        elif ev.address == pool and ev.name == "StakerCharged":
            charged[ev.args["charge_id"]] = charged.get(ev.args["charge_id"], 0) + ev.args["amount"]
    for key, amount in pool_paid.items():
        if amount != 0:
            bad.append(f"loss {key}: pool receipts and the pool's Absorbed differ by {amount}")
    for charge, amount in charged.items():
        if amount > absorbed.get(charge, 0):
            bad.append(
                f"pool charge {charge}: stakers charged {amount} > absorbed "
                f"{absorbed.get(charge, 0)}"
            )
    for key, rest in (due or {}).items():
        if key in loss and loss[key] - paid.get(key, 0) != rest:
            bad.append(
                f"loss {key}: loss - receipts {loss[key] - paid.get(key, 0)} != still due {rest}"
            )
    for charge, amount in (charges_done or {}).items():
        if charged.get(charge, 0) != amount:
            bad.append(
                f"pool charge {charge}: stakers paid {charged.get(charge, 0)} != absorbed {amount}"
            )
    return bad


def test_loss_conservation__a_log_with_every_kind_of_problem__names_each():
    assert loss_conservation(LOG, BACKSTOP, POOL, DUE, DONE) == [
        f"loss {KEY_TEXT}: receipts 110 exceed the loss 100",
        f"loss {KEY_TEXT}: receipts 115 exceed the loss 100",
        f"loss {KEY_TEXT}: pool receipts and the pool's Absorbed differ by 5",
        "pool charge 1: stakers charged 70 > absorbed 60",
        f"loss {KEY_TEXT}: loss - receipts -15 != still due 0",
        "pool charge 1: stakers paid 70 != absorbed 60",
    ]
    assert loss_conservation(LOG, BACKSTOP, POOL, DUE, DONE) == _reference(
        LOG, BACKSTOP, POOL, DUE, DONE
    )


@pytest.mark.parametrize("cut", range(len(LOG) + 1))
def test_loss_ledger__followed_in_two_pieces__the_whole_logs_answer(cut):
    log: list[Event] = []
    ledger = LossLedger(BACKSTOP, POOL)
    log += LOG[:cut]
    ledger.follow(log)
    assert ledger.problems(DUE, DONE) == _reference(log, BACKSTOP, POOL, DUE, DONE)
    log += LOG[cut:]
    ledger.follow(log)
    assert ledger.problems(DUE, DONE) == _reference(LOG, BACKSTOP, POOL, DUE, DONE)


def test_loss_ledger__followed_event_by_event__the_whole_logs_answer_at_each():
    log: list[Event] = []
    ledger = LossLedger(BACKSTOP, POOL)
    for event in LOG:
        log.append(event)
        ledger.follow(log)
        assert ledger.problems(DUE, DONE) == _reference(log, BACKSTOP, POOL, DUE, DONE)


def test_loss_ledger__another_or_a_shorter_log__starts_again():
    ledger = LossLedger(BACKSTOP, POOL)
    log = list(LOG)
    ledger.follow(log)
    del log[2:]
    ledger.follow(log)  # the same list, shorter than what was followed of it
    assert ledger.problems(DUE, DONE) == _reference(log, BACKSTOP, POOL, DUE, DONE)
    other = list(LOG)
    ledger.follow(other)  # another list
    assert ledger.problems(DUE, DONE) == _reference(other, BACKSTOP, POOL, DUE, DONE)
