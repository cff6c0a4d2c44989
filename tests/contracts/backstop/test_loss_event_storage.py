"""The Backstop's storage of a loss event: one word while its auction runs, a word for its loss only
when one is left, cleared by the cover that finishes it. Scenario and helpers:
tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

from helpers import storage_slot
from support.liquidation import CLOSED, DONE, PENALTY, RUNNING
from support.liquidation import backstop as _backstop
from support.liquidation import backstop_surplus as _backstop_surplus
from support.liquidation import borrow_stable as _borrow_stable
from support.liquidation import crash as _crash
from support.liquidation import ctype as _ctype
from support.liquidation import liquidate as _liquidate
from support.liquidation import loss as _loss
from support.liquidation import mapping_slot as _mapping_slot
from support.liquidation import to_raise as _to_raise
from support.liquidation import word as _word

from offchain.model.backstop import FUND
from offchain.model.fixed_point import PENALTY_STEP, RAD, RAY, WAD


def _loss_words(system, t, auction_id: int) -> tuple[int, int]:
    """A loss event's raw storage words, read from the chain: its record (`loss_meta`) and the
    word of its loss (`loss_due`)."""
    key = (
        t.type_id,
        bytes.fromhex(t.auction[2:]),
        auction_id.to_bytes(32, "big"),
    )
    words = []
    for name in ("loss_meta", "loss_due"):
        slot = storage_slot("Backstop", f"loss_book.{name}")
        for k in key:
            slot = _mapping_slot(slot, k)
        words.append(_word(system, system.d.backstop, slot))
    return words[0], words[1]


def test_loss_event__one_word_while_its_auction_runs__its_loss_gets_a_word_only_when_left(system):
    """Storage, not money flow: a liquidation writes its loss event in one word (seized debt,
    penalty in steps of 1e-7 above 1, number, status: what the auction must raise is recomputed
    from it); the event's loss gets a word of its own only when the auction leaves one, and the
    cover that finishes the event clears it. The views return the same fields throughout."""
    r, t, b = system.roles, system.eth, system.d.backstop
    _borrow_stable(system, r.other, 12_500 * WAD)
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 13_000 * WAD)
    _crash(system, t, 1_000 * WAD)
    debt = 13_000 * WAD * _ctype(system, t).rate
    _liquidate(system, r.borrower)
    number = _backstop(system, "loss_number", t.type_id, t.auction, 1)
    steps = (PENALTY - WAD) // PENALTY_STEP
    assert _loss_words(system, t, 1) == (debt << 64 | steps << 40 | number << 2 | RUNNING, 0)
    assert _loss(system, t, 1)[:2] == (debt, _to_raise(debt))

    system.tx(t.auction, "take", r.other, 1, 10 * WAD, 1_200 * RAY, r.other, b"")
    loss = debt - 12_000 * RAD
    assert _loss_words(system, t, 1) == (debt << 64 | steps << 40 | number << 2 | CLOSED, loss)
    assert _loss(system, t, 1)[:2] == (debt, loss)

    # the loss and the keeper reward: the fund keeps surplus for that unattributed bad debt
    # first (issue 31, finding 6)
    surplus = loss + _backstop(system, "unattributed_debt")
    system.tx(system.d.engine, "create_unbacked", r.governance, r.governance, r.governance, surplus)
    _backstop_surplus(system, surplus)
    system.tx(b, "set_waterfall", r.governance, [int(FUND)])
    system.tx(b, "set_queue_delay", r.governance, 0)
    system.tx(b, "cover", r.stranger, t.type_id, t.auction, 1)
    assert _loss_words(system, t, 1) == (debt << 64 | steps << 40 | number << 2 | DONE, 0)
    assert _loss(system, t, 1)[:2] == (debt, 0)
