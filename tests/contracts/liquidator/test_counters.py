"""The Liquidator's, the Backstop's, the engine's and the auction's counters: back at zero they keep
their slots, so the next liquidation creates none. Scenario and helpers:
tests/contracts/support/liquidation.py.
"""

from __future__ import annotations

from helpers import heal, storage_slot
from support.liquidation import TYPE_CAP_ETH
from support.liquidation import auction_var as _auction_var
from support.liquidation import backstop as _backstop
from support.liquidation import borrow_stable as _borrow_stable
from support.liquidation import ctype as _ctype
from support.liquidation import engine_totals as _engine_totals
from support.liquidation import liquidate as _liquidate
from support.liquidation import liquidator as _liquidator
from support.liquidation import mapping_slot as _mapping_slot
from support.liquidation import set_type_cap as _set_type_cap
from support.liquidation import type_config as _type_config
from support.liquidation import unattributed_debt as _unattributed_debt
from support.liquidation import unsafe_eth_vault as _unsafe_eth_vault
from support.liquidation import word as _word

from offchain.model.dutch_auction import MAX_ACTIVE
from offchain.model.fixed_point import RAY, WAD


def _counter_words(system) -> dict[str, int]:
    """The raw storage words of the counters that come back to zero, read from the chain."""
    t, d = system.eth, system.d
    free = storage_slot("DutchAuction", "auction_slots.free")
    eth_slots = _mapping_slot(storage_slot("Liquidator", "type_slots"), t.type_id)
    return {
        "liquidator.debt_in_auction": _word(
            system, d.liquidator, storage_slot("Liquidator", "debt_in_auction_word")
        ),
        # TypeSlots' third word
        "liquidator.type_debt_in_auction": _word(system, d.liquidator, eth_slots + 2),
        "backstop.loss_totals": _word(
            system, d.backstop, storage_slot("Backstop", "loss_book.loss_totals")
        ),
        "backstop.attributed": _word(
            system, d.backstop, storage_slot("Backstop", "loss_book.attributed_word")
        ),
        "backstop.loss_numbers": _word(
            system, d.backstop, storage_slot("Backstop", "loss_book.loss_numbers")
        ),
        "backstop.numbered_losses_0": _word(
            system,
            d.backstop,
            _mapping_slot(storage_slot("Backstop", "loss_book.numbered_losses"), bytes(32)),
        ),
        "engine.total_unbacked": _word(
            system, d.engine, storage_slot("VaultEngine", "total_unbacked_word")
        ),
        # the bitmap's word 0 (opened at deployment: the only one fewer than 257 auctions use),
        # its summary's word 0 and the summary of summaries
        "auction.free_0": _word(system, t.auction, free),
        "auction.free_words_0": _word(
            system, t.auction, storage_slot("DutchAuction", "auction_slots.free_words")
        ),
        "auction.free_summaries": _word(
            system, t.auction, storage_slot("DutchAuction", "auction_slots.free_summaries")
        ),
        "auction.opened_words": _word(
            system, t.auction, storage_slot("DutchAuction", "auction_slots.opened_words")
        ),
    }


def _counters_as_stored(system) -> dict[str, int]:
    """What `_counter_words` must read, from the views (chain == model): each count with its
    slot's set bit, the free-slot bitmap from the running ids."""
    t = system.eth
    running = 0
    for auction_id in _auction_var(system, t, "active_auctions"):
        slot = (auction_id - 1) % MAX_ACTIVE
        assert slot < 256  # a test of a few auctions: word 0 only
        running |= 1 << slot
    totals = _backstop(system, "unsettled_proceeds") << 64 | _backstop(system, "open_losses")
    count = _backstop(system, "loss_count")
    records = sum(
        (_backstop(system, "loss_opened_at", n) << 1 | _backstop(system, "loss_done", n))
        << (64 * n)
        for n in range(1, min(count, 3) + 1)
    )
    return {
        "liquidator.debt_in_auction": 2**255 | _liquidator(system, "debt_in_auction"),
        "liquidator.type_debt_in_auction": 2**255 | _type_config(system, t).debt_in_auction,
        "backstop.loss_totals": 2**63 | totals,
        "backstop.attributed": 2**255 | _backstop(system, "attributed_debt"),
        "backstop.loss_numbers": _backstop(system, "first_open_loss") << 64 | count,
        # number 0's field: done (no event has number 0)
        "backstop.numbered_losses_0": 1 | records,
        "engine.total_unbacked": 2**255 | _engine_totals(system)[1],
        "auction.free_0": (2**256 - 1) ^ running,
        # word 0 has a free slot (bit 0), and summary word 0 is non-zero (bit 0)
        "auction.free_words_0": 1,
        "auction.free_summaries": 1,
        "auction.opened_words": 1,
    }


def test_counters__back_at_zero__keep_their_slots_so_the_next_liquidation_creates_none(system):
    """Storage, not money flow: the counts that come back to zero once every auction has finished
    and the Backstop has healed and settled (debt in auction, globally and per type; open loss
    events; attributed debt; the engine's total unbacked debt; the auction's taken slots) never
    empty their slot. Each keeps a set bit from deployment (or the type's configuration) on, so
    the next liquidation updates the slot (5k gas) instead of creating it (22.1k); the views read
    the counts without it, on chain as in the model."""
    r, t = system.roles, system.eth
    assert _counter_words(system) == _counters_as_stored(system)
    assert _liquidator(system, "debt_in_auction") == 0
    assert _backstop(system, "loss_done", 0) is False  # number 0's set field is no event

    _borrow_stable(system, r.other)
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    assert _counter_words(system) == _counters_as_stored(system)
    assert _backstop(system, "open_losses") == 1
    seized = 13_000 * WAD * _ctype(system, t).rate
    system.tx(t.auction, "take", r.other, 1, 10 * WAD, 2_280 * RAY, r.other, b"")
    heal(system, seized)
    system.tx(system.d.backstop, "settle", r.stranger, _unattributed_debt(system))

    # every count is back at zero, and every slot still holds its set bit
    assert _liquidator(system, "debt_in_auction") == 0
    assert _type_config(system, t).debt_in_auction == 0
    assert (_backstop(system, "open_losses"), _backstop(system, "attributed_debt")) == (0, 0)
    assert _engine_totals(system)[1] == 0
    assert _auction_var(system, t, "active_count") == 0
    words = _counter_words(system)
    assert words == _counters_as_stored(system)
    assert all(word != 0 for word in words.values()), words
    # a configuration change keeps the type's counter and its bit
    _set_type_cap(system, t, TYPE_CAP_ETH // 2)
    assert _counter_words(system) == words
