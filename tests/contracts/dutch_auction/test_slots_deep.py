"""DutchAuction's slot bitmap past its first summary word (contracts/modules/auction_slots.vy):
slots above 65,535, which need more than 65,536 auctions running at once. No test can start
that many, so the bitmap's words are written as such a run would leave them, on revm and in the
model alike, and from there real liquidations and takes run in lockstep (chain == model after
each, to the wei)."""

from __future__ import annotations

from eth_utils import to_checksum_address
from helpers import revm_system, storage_slot, vaults_at

from offchain.backends import RevmBackend
from offchain.model.dutch_auction import SLOT_BITS
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.fuzz import Artifacts
from offchain.testing.harness import System, move_prices, read

ETH = "ETH-A"
# words 0 .. 599 opened and full, but for one free slot in word 300 (summary word 1)
OPENED, WORD, BIT = 600, 300, 7


def _write(system: System, evm: RevmBackend, auction_address: str, words: dict) -> None:
    """The bitmap's words, on revm and in the model: {name: value} for the scalars and
    {(name, index): value} for the arrays' words."""
    auction = system.contract(auction_address)
    for key, value in words.items():
        name, index = key if isinstance(key, tuple) else (key, None)
        slot = storage_slot("DutchAuction", f"auction_slots.{name}") + (index or 0)
        evm.evm.insert_account_storage(auction_address, slot, value)
        if index is None:
            setattr(auction, name, value)
        else:
            getattr(auction, name)[index] = value


def test_slots_deep__a_free_slot_in_the_second_summary_word__is_found_then_a_word_opens(
    artifacts: Artifacts,
):
    """600 words opened and full but for slot 76,807 (word 300, listed in summary word 1): the
    next auction takes it (id 76,808) and empties both summary levels; the one after opens word
    600 (slot 153,600, summary word 2); finishing 76,808 lists word 300 again, so the next id is
    slot 76,807's second generation. Money flow: the taker buys auction 76,808's lot at 1,500."""
    system, evm = revm_system(artifacts)
    d, keeper, t = system.d, system.roles.keeper, system.d.types[ETH]
    owners = [to_checksum_address(f"0x{0x20000 + i:040x}") for i in range(3)]
    vaults_at(system, t, owners, 2 * WAD, 2_600 * WAD)
    move_prices(system, [(t, 1_500 * WAD)])

    free_slot = WORD << 8 | BIT
    _write(
        system,
        evm,
        t.auction,
        {
            ("free", 0): 0,
            ("free", WORD): 1 << BIT,
            ("free_words", 0): 0,
            ("free_words", 1): 1 << (WORD - 256),
            "free_summaries": 1 << 1,
            "opened_words": OPENED,
        },
    )
    assert read(system, t.auction, "next_id") == free_slot + 1
    assert read(system, t.auction, "has_room") is True

    # the free slot in word 300: the word fills, summary word 1 empties, and so does the top
    system.tx(d.liquidator, "liquidate", keeper, t.type_id, owners[0], keeper)
    assert read(system, t.auction, "auctions", free_slot + 1)[3] == owners[0]
    assert system.contract(t.auction).free_summaries == 0
    assert read(system, t.auction, "next_id") == (OPENED << 8) + 1

    # no free slot in an opened word: word 600 opens (summary word 2, bit 88)
    system.tx(d.liquidator, "liquidate", keeper, t.type_id, owners[1], keeper)
    assert read(system, t.auction, "auctions", (OPENED << 8) + 1)[3] == owners[1]
    auction = system.contract(t.auction)
    assert (auction.opened_words, auction.free_summaries) == (OPENED + 1, 1 << 2)
    assert auction.free_words[2] == 1 << (OPENED - 512)
    assert read(system, t.auction, "next_id") == (OPENED << 8 | 1) + 1
    # the listing from the free slot on: the auction there, then slot 76,808 onwards (written
    # as taken: ids of their first generation), a page of 1,024
    page = read_page(system, t.auction, free_slot)
    assert page[0] == free_slot + 1 and len(page) == 1024

    # finishing auction 76,808 frees its slot in the full word 300: both levels list it again
    buyer = owners[2]
    system.tx(d.engine, "transfer_stable", owners[0], owners[0], buyer, 2_600 * RAD)
    system.tx(d.engine, "allow", buyer, t.auction)
    system.tx(t.auction, "take", buyer, free_slot + 1, 2 * WAD, 10 * 1_500 * RAY, buyer, b"")
    assert read(system, t.auction, "auctions", free_slot + 1)[3] == ZERO_ADDRESS
    assert system.contract(t.auction).free_summaries == 1 << 1 | 1 << 2
    assert read(system, t.auction, "next_id") == (1 << SLOT_BITS | free_slot) + 1
    system.tx(d.liquidator, "liquidate", keeper, t.type_id, owners[2], keeper)
    assert read(system, t.auction, "auctions", (1 << SLOT_BITS | free_slot) + 1)[3] == owners[2]
    assert read(system, t.auction, "next_id") == (OPENED << 8 | 1) + 1


def read_page(system: System, auction: str, first_slot: int) -> list[int]:
    """active_auctions(first_slot), chain == model (a plain call: the BatchReader's reads stop at
    256 bytes of result)."""
    on_chain = list(system.chain.call(auction, "active_auctions", first_slot))
    assert on_chain == system.contract(auction).active_auctions(first_slot)
    return on_chain
