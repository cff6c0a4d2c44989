"""The model's state as the contracts' storage (issue 49): for every contract the model has a
twin of, the {slot: word} its storage must hold, word for word, and a comparison with an EVM's.

`expected(model)` encodes the model: per contract address, every storage variable the model has
a counterpart for, at the slot the compiler gives it (`vyper -f layout`, read once per process:
`layout`), packed as the contract packs it. Each contract's encoding is one small function
below, named after the contract, citing the declaration it mirrors; a mapping's keys come from
the model's own state (its `Storage` dicts: vault owners, auction ids, loss ids, stakers...), so
every entry the model ever wrote is claimed, zero or not. A `Word` may compare only some bits
(`mask`): the bits the model has no counterpart for are listed below.

`compare(evm, model)` reads every claimed slot on a `RevmBackend` (`EVM.storage`, ~0.5 us a
slot) and returns the differing rows (contract, variable, key, slot, chain word, model word).
`unclaimed(evm, model)` lists every non-zero slot of a model contract on revm that no variable
claims: pyrevm 0.3.7 has no storage enumeration call, but its journal's rendering
(`EVM.journal_str`, parsed by `RevmBackend.nonzero_storage`; revm never finalizes its journal
there, so it holds every slot written since genesis) shows them; it costs ~6 ms, so it
is for periodic use.

No counterpart in the model (not claimed): immutables (in the code, not storage), StableJoin and
FlashTaker (no storage), `_locked` (transient storage), ReentrantTaker (a test contract).

Masked (claimed, compared only where the model has the bits):
- Backstop `loss_book.loss_meta`: the penalty steps (bits 40..63) of an event no longer running.
  The model keeps what the event's auction must raise (`Loss.due` while running), not the
  penalty it was computed from, and forgets it once the auction closes (due becomes the loss
  left); the contract keeps the steps for ever. While the event runs the steps are recovered
  from due and debt (`_penalty_steps`: unique for any debt of 1e7 rad or more) and the whole
  word is compared; after, its debt, number and status bits.
- DutchAuction `auction_slots.auction_debt` / `auction_lot_top` of a freed slot: the contract
  leaves a finished auction's words stale (only the meta word is rewritten, to the next
  generation); the model deletes the auction. A running auction's words are compared in full.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from eth_utils import keccak

from offchain.model.backstop import PENALTY_STEPS_LIMIT
from offchain.model.fixed_point import PENALTY_STEP, WAD, amount_to_raise
from offchain.model.state import ZERO_ADDRESS

ROOT = Path(__file__).resolve().parents[2]
WORD = 2**256 - 1
KEPT_SET = 2**255  # contracts/modules/constants.vy KEPT_SET


# ---------------------------------------------------------------- layout and slots


_LAID_OUT: set[str] = set()  # the contracts preload_layouts compiled


# compiled layouts kept between processes (each campaign worker and each mutant's run would
# otherwise run the compiler ~20 times, ~3.5 s), named by what they were compiled from
LAYOUT_CACHE = ROOT / ".build" / "storage-layouts"


@functools.cache
def _sources_digest() -> str:
    """A digest of everything a layout depends on: the compiler's and snekmate's versions and
    every file under contracts/ (a mutant's edit of any of them compiles the layouts again)."""
    h = hashlib.sha256()
    for package in ("vyper", "snekmate"):
        try:
            h.update(f"{package} {importlib.metadata.version(package)}\n".encode())
        except importlib.metadata.PackageNotFoundError:
            h.update(f"{package} absent\n".encode())
    for path in sorted((ROOT / "contracts").rglob("*.vy*")):
        h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _compiled_layout(contract: str) -> str:
    """`vyper -f layout` of `contract`, from the cache when its sources are those it was
    compiled from (written through a temporary file renamed over it: workers share it)."""
    cached = LAYOUT_CACHE / f"{contract}-{_sources_digest()}.json"
    if cached.is_file():
        return cached.read_text()
    out = subprocess.run(
        # the compiler of this interpreter's environment (a bare `vyper` needs it on PATH)
        [
            sys.executable,
            "-m",
            "vyper",
            "-f",
            "layout",
            "-p",
            "contracts",
            f"contracts/{contract}.vy",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    _keep(cached, out)
    return out


def _keep(cached: Path, text: str) -> None:
    """Write `text` to `cached` whole or not at all: through a temporary file renamed over it,
    removed if the write fails (a cache that cannot be written is only slower: the layout was
    compiled and is used as it is)."""
    tmp: str | None = None
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cached.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, cached)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


@functools.cache
def layout(contract: str) -> dict[str, int]:
    """`contract`'s (a file in contracts/) storage variables -> first slot, as the compiler lays
    them out (`vyper -f layout`, cached in LAYOUT_CACHE); a variable of an initialized module is
    `module.name`."""
    out = _compiled_layout(contract)
    flat: dict[str, int] = {}

    def walk(entries: dict, prefix: str) -> None:
        for name, entry in entries.items():
            if "slot" in entry and "type" in entry:
                flat[prefix + name] = entry["slot"]
            else:
                walk(entry, f"{prefix}{name}.")

    walk(json.loads(out).get("storage_layout", {}), "")
    return flat


def preload_layouts(contracts: list[str]) -> None:
    """Compile the layouts of `contracts` two at a time (each is a `vyper` process); once: a
    pool made on every call cost more than the encoding (`expected` runs after every step)."""
    if all(c in _LAID_OUT for c in contracts):
        return
    _LAID_OUT.update(contracts)
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(layout, contracts))


def _key_bytes(key: Any) -> bytes:
    """A HashMap key as Vyper hashes it: one 32-byte word (an address left-padded, a bytes32 as
    it is, an integer or bool big-endian)."""
    if isinstance(key, str):
        return int(key, 16).to_bytes(32, "big")
    if isinstance(key, bytes):
        return key.ljust(32, b"\0")
    return int(key).to_bytes(32, "big")


@functools.lru_cache(maxsize=1 << 16)
def mapping_slot(slot: int, *keys: Any) -> int:
    """The slot of `map[k1][k2]...` whose map is at `slot`: keccak256(slot ‖ key) per level (Vyper
    0.4: the slot first). Cached: the same owners, ids and stakers come back every step."""
    for key in keys:
        slot = int.from_bytes(keccak(slot.to_bytes(32, "big") + _key_bytes(key)), "big")
    return slot


def _address(value: str) -> int:
    return int(value, 16)


# ---------------------------------------------------------------- the expected words


class Word(NamedTuple):
    """One claimed slot: which variable (and key) it holds, the model's word, and the bits of
    it compared (`mask`; WORD: all)."""

    contract: str
    variable: str
    key: Any
    word: int
    mask: int = WORD


class Encoder:
    """Collects one contract's claimed slots (`scalar`, `entry`, `member`) from its layout.

    `written` (None: every entry) restricts the mappings' entries to the keys a step wrote:
    id(model map) -> its keys written (`Written.keys`). The encodings go over a map's entries
    through `items` and `keys` only, so that the same function encodes a whole contract or the
    entries a step wrote; scalars, small arrays and the words that pack several maps' entries
    of one key are encoded whole either way (a few words)."""

    def __init__(
        self,
        name: str,
        label: str,
        address: str,
        written: dict[int, set[Any]] | None = None,
    ):
        self.label = label
        self.address = address
        self.slots = layout(name)
        self.words: dict[int, Word] = {}
        self.written = written

    def items(self, storage: dict) -> Iterable[tuple[Any, Any]]:
        """The entries of a model map to encode: all of them, or those of the keys written that
        it holds (a key a reverted transaction inserted is gone again: not claimed, as in the
        whole encoding)."""
        if self.written is None:
            return storage.items()
        keys = self.written.get(id(storage), ())
        return [(k, dict.__getitem__(storage, k)) for k in keys if dict.__contains__(storage, k)]

    def keys(self, *storages: dict) -> set[Any]:
        """The keys held by any of `storages` (all, or the written ones: `items`)."""
        out: set[Any] = set()
        for storage in storages:
            out.update(k for k, _ in self.items(storage))
        return out

    def _put(self, slot: int, variable: str, key: Any, word: int, mask: int) -> None:
        assert 0 <= word <= WORD, f"{self.label}.{variable}[{key!r}]: {word} is not a word"
        assert slot not in self.words, f"{self.label}.{variable}: slot claimed twice"
        self.words[slot] = Word(self.label, variable, key, word & mask, mask)

    def scalar(self, variable: str, word: int, mask: int = WORD) -> None:
        self._put(self.slots[variable], variable, None, int(word), mask)

    def entry(self, variable: str, key: Any, word: int, mask: int = WORD) -> None:
        """`variable[key]` (a tuple key: nested maps, outermost first)."""
        keys = key if isinstance(key, tuple) else (key,)
        self._put(mapping_slot(self.slots[variable], *keys), variable, key, int(word), mask)

    def member(self, variable: str, key: Any, index: int, word: int) -> None:
        """Member `index` of the struct `variable[key]` (Vyper 0.4 gives every uint256 member its
        own slot, in declaration order)."""
        keys = key if isinstance(key, tuple) else (key,)
        slot = mapping_slot(self.slots[variable], *keys) + index
        self._put(slot, variable, (key, index), int(word), WORD)

    def element(self, variable: str, index: int, word: int) -> None:
        """`variable[index]` of a fixed-size array of words."""
        self._put(self.slots[variable] + index, variable, index, int(word), WORD)

    def mapping(self, variable: str, storage: dict, encode: Callable[[Any], int] = int) -> None:
        """Every key the model's map holds (`items`), its value encoded by `encode`."""
        for key, value in self.items(storage):
            self.entry(variable, key, encode(value))


def _bool(value: Any) -> int:
    return 1 if value else 0


def _authorized(e: Encoder, c: Any) -> None:
    """contracts/modules/authorized.vy: `authorized: HashMap[address, bool]`, `roles:
    HashMap[address, uint256]` (the model's Authorized)."""
    e.mapping("auth.authorized", c.authorized, _bool)
    e.mapping("auth.roles", c.roles)


def erc20(e: Encoder, c: Any) -> None:
    """snekmate's ownable (`ow.owner`) and erc20 (`balanceOf`, `allowance[owner][spender]`,
    `totalSupply`, `is_minter`, `nonces`) as Stablecoin.vy, GovernanceToken.vy and
    TestToken.vy initialize them (offchain/model/erc20.py)."""
    e.scalar("ow.owner", _address(c.owner))
    e.mapping("erc20.balanceOf", c.balance_of)
    e.mapping("erc20.allowance", c.allowance)
    e.scalar("erc20.totalSupply", c.total_supply)
    e.mapping("erc20.is_minter", c.is_minter, _bool)
    e.mapping("erc20.nonces", c.nonces)


def vault_engine(e: Encoder, c: Any) -> None:
    """contracts/VaultEngine.vy's storage: `debt_and_rate` (normalized_debt << 128 | rate),
    `safe_price_word` (size margin << 160 | safe price), `debt_ceiling`, `dust`, `packed_vaults`
    (collateral << 128 | normalized debt), `collateral`, `stable`, `bad_debt`, `total_issued`,
    `total_unbacked_word` (| KEPT_SET), `global_debt_ceiling`, `utilization_record` (packed
    alike in the model), `delegates`, `live`."""
    _authorized(e, c)
    e.mapping("delegates", c.delegates, _bool)
    e.scalar("live", _bool(c.live))
    for t in e.keys(c.collateral_types, c.size_margins):
        ct = c.collateral_types[t]
        e.entry("debt_and_rate", t, ct.normalized_debt << 128 | ct.rate)
        e.entry("safe_price_word", t, c.size_margins[t] << 160 | ct.safe_price)
        e.entry("debt_ceiling", t, ct.debt_ceiling)
        e.entry("dust", t, ct.dust)
    e.mapping("packed_vaults", c.vaults, lambda v: v.collateral << 128 | v.normalized_debt)
    e.mapping("collateral", c.collateral)
    e.mapping("stable", c.stable)
    e.mapping("bad_debt", c.bad_debt)
    e.scalar("total_issued", c.total_issued)
    e.scalar("total_unbacked_word", c.total_unbacked | KEPT_SET)
    e.scalar("global_debt_ceiling", c.global_debt_ceiling)
    e.mapping("utilization_record", c.utilization_record)


def collateral_join(e: Encoder, c: Any) -> None:
    """contracts/CollateralJoin.vy: `live` (the token, type and scale are immutables)."""
    _authorized(e, c)
    e.scalar("live", _bool(c.live))


def collateral_pool(e: Encoder, c: Any) -> None:
    """contracts/CollateralPool.vy: `reserve_collateral`, `reserve_stable`, `total_shares`,
    `shares`."""
    e.scalar("reserve_collateral", c.reserve_collateral)
    e.scalar("reserve_stable", c.reserve_stable)
    e.scalar("total_shares", c.total_shares)
    e.mapping("shares", c.shares)


def price_oracle(e: Encoder, c: Any) -> None:
    """contracts/PriceOracle.vy: `feeders`, `max_change`, `delay`, `max_age`, `last_poke`, the
    source, next and current prices and times, `void_lock`, `voided_price`."""
    _authorized(e, c)
    e.mapping("feeders", c.feeders, _bool)
    for name in (
        "max_change",
        "delay",
        "max_age",
        "last_poke",
        "source_price",
        "source_time",
        "next_price",
        "next_time",
        "current_price",
        "current_time",
        "void_lock",
        "voided_price",
    ):
        e.scalar(name, getattr(c, name))


def spotter(e: Encoder, c: Any) -> None:
    """contracts/Spotter.vy: `oracles` (type -> oracle), `liquidation_ratios`."""
    _authorized(e, c)
    e.mapping("oracles", c.oracles, _address)
    e.mapping("liquidation_ratios", c.liquidation_ratios)


def liquidator(e: Encoder, c: Any) -> None:
    """contracts/Liquidator.vy: `limits` (live << 255 | cap), `debt_in_auction_word` (|
    COUNTER_SET), `type_slots` (TypeSlots: penalty << 160 | auction; the type's cap; its debt in
    auction | COUNTER_SET, set when the type is configured: every key the model's `types` holds)."""
    _authorized(e, c)
    e.scalar("limits", _bool(c.live) << 255 | c.max_debt_in_auction)
    e.scalar("debt_in_auction_word", c.debt_in_auction | KEPT_SET)
    for t, config in e.items(c.types):
        e.member("type_slots", t, 0, config.penalty << 160 | _address(config.auction))
        e.member("type_slots", t, 1, config.max_debt_in_auction)
        e.member("type_slots", t, 2, config.debt_in_auction | KEPT_SET)


def fee_accumulator(e: Encoder, c: Any) -> None:
    """contracts/FeeAccumulator.vy: `fee_parameters` (base_fee | kink << 96 | max_multiplier <<
    160), `fee_clock` (last_accrual | integral_at_accrual << 64), `recipient_and_yield` (recipient
    | pool_max_yield << 160), `pool_and_share` (pool | pool_fee_share << 160)."""
    _authorized(e, c)
    for t, fee in e.items(c.fees):
        e.entry("fee_parameters", t, fee.base_fee | fee.kink << 96 | fee.max_multiplier << 160)
        e.entry("fee_clock", t, fee.last_accrual | fee.integral_at_accrual << 64)
    e.scalar("recipient_and_yield", _address(c.fee_recipient) | c.pool_max_yield << 160)
    e.scalar("pool_and_share", _address(c.stability_pool) | c.pool_fee_share << 160)


def ceiling_manager(e: Encoder, c: Any) -> None:
    """contracts/CeilingManager.vy: `configs` (struct Config: max_ceiling, gap, cooldown,
    last_increase, window_base, window_high, one slot each)."""
    _authorized(e, c)
    for t, config in e.items(c.configs):
        for i, value in enumerate(config):
            e.member("configs", t, i, value)


def stability_pool(e: Encoder, c: Any) -> None:
    """contracts/StabilityPool.vy: the parameters, `assets`, `total_shares`, the per-staker maps,
    `pending_total`, `counts` (charge_count << 64 | staker_count), `next_charge`, `charge_record`
    (stakers left << 192 | amount), `charge_total_shares`, `charge_attributed`."""
    _authorized(e, c)
    for name in ("cooldown", "exposure_delay", "exit_window", "assets", "total_shares"):
        e.scalar(name, getattr(c, name))
    for name in (
        "shares",
        "pending",
        "pending_at",
        "withdrawal_shares",
        "withdrawal_at",
        "withdrawal_value",
        "next_charge",
        "charge_total_shares",
        "charge_attributed",
    ):
        e.mapping(name, getattr(c, name))
    e.scalar("pending_total", c.pending_total)
    e.scalar("counts", c.charge_count << 64 | c.staker_count)
    for charge in e.keys(c.charge_amount, c.charge_stakers_left):
        record = c.charge_stakers_left[charge] << 192 | c.charge_amount[charge]
        e.entry("charge_record", charge, record)


def debt_auction(e: Encoder, c: Any) -> None:
    """contracts/DebtAuction.vy: the parameters, `count`, `running`, `auction_lot_times` (lot <<
    128 | bid_expiry << 64 | end), `auction_bid`, `auction_winner` (empty until the first bid:
    the model's Backstop before it)."""
    _authorized(e, c)
    e.scalar("live", _bool(c.live))
    for name in (
        "initial_lot",
        "min_decrease",
        "lot_growth",
        "bid_duration",
        "auction_duration",
        "count",
        "running",
    ):
        e.scalar(name, getattr(c, name))
    for i, a in e.items(c.auctions):
        e.entry("auction_lot_times", i, a.lot << 128 | a.bid_expiry << 64 | a.end)
        e.entry("auction_bid", i, a.bid)
        e.entry("auction_winner", i, _winner(a.winner, c.backstop))


def _winner(winner: str, backstop: str) -> int:
    # the contracts store no winner before the first bid; their view (and the model) name the
    # Backstop, which never bids
    return 0 if winner in (backstop, ZERO_ADDRESS) else _address(winner)


def surplus_auction(e: Encoder, c: Any) -> None:
    """contracts/SurplusAuction.vy: the parameters, `count`, `auction_bid_times` (bid << 128 |
    bid_expiry << 64 | end), `auction_lot`, `auction_winner` (as DebtAuction's)."""
    _authorized(e, c)
    e.scalar("live", _bool(c.live))
    for name in ("min_increase", "bid_duration", "auction_duration", "count"):
        e.scalar(name, getattr(c, name))
    for i, a in e.items(c.auctions):
        e.entry("auction_bid_times", i, a.bid << 128 | a.bid_expiry << 64 | a.end)
        e.entry("auction_lot", i, a.lot)
        e.entry("auction_winner", i, _winner(a.winner, c.backstop))


def global_settlement(e: Encoder, c: Any) -> None:
    """contracts/GlobalSettlement.vy: `live`, `shutdown_at`, `wait`, `debt`, the per-type maps,
    `packed`, `cashed[type][holder]`."""
    _authorized(e, c)
    e.scalar("live", _bool(c.live))
    for name in ("shutdown_at", "wait", "debt"):
        e.scalar(name, getattr(c, name))
    for name in ("final_price", "type_debt", "gap", "cash_price", "packed", "cashed"):
        e.mapping(name, getattr(c, name))
    e.mapping("cash_price_set", c.cash_price_set, _bool)


def margin_call(e: Encoder, c: Any) -> None:
    """contracts/MarginCall.vy: `packed_parameters` (packed alike in the model), `opted_in`,
    `margin_types` (a DynArray: its length in its slot, then its items; the contract clears a
    removed item's last slot)."""
    _authorized(e, c)
    e.mapping("packed_parameters", c.packed_parameters)
    e.mapping("opted_in", c.opted_in, _bool)
    e.scalar("margin_types", len(c.margin_types))
    for i, collateral_type in enumerate(c.margin_types):
        e.element("margin_types", i + 1, int.from_bytes(collateral_type, "big"))


def timelock(e: Encoder, c: Any) -> None:
    """contracts/Timelock.vy: `proposer`, `guardian`, `delay`, `grace`, `proposal_count`, and
    `proposals[id]` (calls_hash, eta, expires, status, rescue: a slot each)."""
    e.scalar("proposer", _address(c.proposer))
    e.scalar("guardian", _address(c.guardian))
    for name in ("delay", "grace", "proposal_count"):
        e.scalar(name, getattr(c, name))
    for pid, (digest, eta, expires, status, rescue) in e.items(c.proposals):
        words = (int.from_bytes(digest, "big"), eta, expires, status, _bool(rescue))
        for i, word in enumerate(words):
            e.member("proposals", pid, i, word)


def dutch_auction(e: Encoder, c: Any) -> None:
    """contracts/DutchAuction.vy: `price_source` (buffer << 160 | oracle), `packed_limits`
    (the level written << 248 | reward_rate << 160 | max_duration << 96 | max_drop), `reward_flat`,
    `packed_curve` (kind << 248 | duration << 184 | step << 120 | cut), `stop_lapses_at`,
    `stop_base`; modules/auction_slots.vy:
    `auction_meta` (running: owner << 96 | started << 32 | generation; freed: the next
    generation), `auction_debt` (budget in units of 2**144 << 200 | debt), `auction_lot_top` (lot
    << 128 | top), the free bitmap `free`, `free_words`, `free_summaries`, `opened_words`."""
    _authorized(e, c)
    e.scalar("price_source", c.buffer << 160 | _address(c.oracle))
    e.scalar(
        "packed_limits",
        c.stop_level << 248 | c.reward_rate << 160 | c.max_duration << 96 | c.max_drop,
    )
    e.scalar("stop_lapses_at", c.stop_lapses_at)
    e.scalar("stop_base", c.stop_base)
    e.scalar("reward_flat", c.reward_flat)
    curve = c.curve
    e.scalar(
        "packed_curve", curve.kind << 248 | curve.duration << 184 | curve.step << 120 | curve.cut
    )
    # the running auctions by slot, and the freed slots' generations: every one, or those of
    # the auctions and slots a step wrote (and an auction it did not write running in one)
    entries = list(e.items(c.auctions))
    if e.written is None:
        slots = set(c.generations)
    else:
        slots = {a.position for _, a in entries} | {s for s, _ in e.items(c.generations)}
    running: dict[int, tuple[int, Any]] = {}
    for auction_id, a in entries:
        if a.owner != ZERO_ADDRESS:  # else finished: its slot is the generations' below
            running[a.position] = (auction_id, a)
    if e.written is not None and not slots <= set(running):
        for auction_id in c.active:
            a = dict.__getitem__(c.auctions, auction_id)
            if a.position in slots:
                running.setdefault(a.position, (auction_id, a))
    for position, (auction_id, a) in running.items():
        generation = (auction_id - 1) >> SLOT_BITS
        meta = _address(a.owner) << 96 | a.started << 32 | generation
        e.entry("auction_slots.auction_meta", position, meta)
        budget = a.reward_budget // BUDGET_UNIT
        e.entry("auction_slots.auction_debt", position, budget << 200 | a.debt)
        e.entry("auction_slots.auction_lot_top", position, a.lot << 128 | a.top)
    for slot in slots:
        if slot not in running and dict.__contains__(c.generations, slot):
            e.entry("auction_slots.auction_meta", slot, dict.__getitem__(c.generations, slot))
            # masked: a freed slot's stale words (the module docstring)
            e.entry("auction_slots.auction_debt", slot, 0, mask=0)
            e.entry("auction_slots.auction_lot_top", slot, 0, mask=0)
    for w, bits in e.items(c.free):
        e.element("auction_slots.free", w, bits)
    for s, bits in e.items(c.free_words):
        e.element("auction_slots.free_words", s, bits)
    e.scalar("auction_slots.free_summaries", c.free_summaries)
    e.scalar("auction_slots.opened_words", c.opened_words)


# modules/auction_slots.vy: an id's slot bits, and the reward budget's unit
SLOT_BITS = 24
BUDGET_UNIT = 2**144
# modules/loss_book.vy: loss_meta's penalty steps (24 bits at 40), not in the model
PENALTY_BITS = (2**24 - 1) << 40


def backstop(e: Encoder, c: Any) -> None:
    """contracts/Backstop.vy: `cover_config` (pool | queue delay << 160 | live << 200 | waterfall
    (length, then its layers, 8 bits each) << 208), the auctions' and settlement's addresses,
    `surplus_buffer`, `surplus_lot`, `debt_auction_bid_size`, `debt_to_auction`,
    `debt_on_auction`, `settlement_debt`; modules/loss_book.vy (`loss_book`) and
    modules/deleverage.vy (`deleveraging`): below."""
    _authorized(e, c)
    waterfall = len(c.waterfall)
    for i, layer in enumerate(c.waterfall):
        waterfall |= int(layer) << (8 + 8 * i)
    config = (
        _address(c.stability_pool) | c.queue_delay << 160 | _bool(c.live) << 200 | waterfall << 208
    )
    e.scalar("cover_config", config)
    e.scalar("debt_auction", _address(c.debt_auction))
    e.scalar("surplus_auction", _address(c.surplus_auction))
    e.scalar("settlement", _address(c.settlement))
    for name in (
        "surplus_buffer",
        "surplus_lot",
        "debt_auction_bid_size",
        "debt_to_auction",
        "debt_on_auction",
        "settlement_debt",
    ):
        e.scalar(name, getattr(c, name))
    _loss_book(e, c)
    _deleveraging(e, c)


def _loss_book(e: Encoder, c: Any) -> None:
    """modules/loss_book.vy: `loss_meta[type][auction][id]` (debt << 64 | penalty steps << 40
    (masked) | number << 2 | status), `loss_due` (the loss left while CLOSED, else 0),
    `loss_totals` (unsettled << 64 | open count | OPEN_SET), `loss_numbers` (first open << 64 |
    count), `numbered_losses` (four 64-bit records created_at << 1 | done a slot; number 0's set at
    deployment: done, opened at 0), `attributed_word` (| ATTRIBUTED_SET)."""
    for key in e.keys(c.losses, c.loss_numbers):
        if not dict.__contains__(c.losses, key):
            continue
        loss = dict.__getitem__(c.losses, key)
        meta = loss.debt << 64 | c.loss_numbers[key] << 2 | loss.status
        steps = _penalty_steps(loss.debt, loss.due) if loss.status == 1 else None
        if steps is None:  # masked (the module docstring)
            e.entry("loss_book.loss_meta", key, meta, mask=WORD ^ PENALTY_BITS)
        else:
            e.entry("loss_book.loss_meta", key, meta | steps << 40)
        e.entry("loss_book.loss_due", key, loss.due if loss.status == 2 else 0)
    e.scalar("loss_book.loss_totals", c.unsettled << 64 | 2**63 | c.open_losses_count)
    e.scalar("loss_book.loss_numbers", c.first_open_loss << 64 | c.loss_count)
    if e.written is None:
        slots = {0} | {number >> 2 for number in range(1, c.loss_count + 1)}
    else:
        numbers = e.keys(c.numbered_opened_at, c.numbered_done)
        slots = {number >> 2 for number in numbers if 1 <= number <= c.loss_count}
    for slot in slots:
        record = 1 if slot == 0 else 0
        for number in range(max(4 * slot, 1), min(4 * slot + 3, c.loss_count) + 1):
            packed = c.numbered_opened_at[number] << 1 | _bool(c.numbered_done[number])
            record |= packed << (number & 3) * 64
        e.entry("loss_book.numbered_losses", slot, record)
    e.scalar("loss_book.attributed_word", c.attributed_debt | KEPT_SET)


def _penalty_steps(debt: int, to_raise: int) -> int | None:
    """The penalty steps of a running loss event, recovered from what its auction must raise
    (the model's `amount_to_raise`, its one home: ceil(debt x (WAD + steps x PENALTY_STEP) /
    WAD)); None unless exactly one number of steps below PENALTY_STEPS_LIMIT gives it (a debt
    below 1e7 rad may leave several)."""
    if debt == 0 or to_raise < debt:
        return None
    guess = (to_raise - debt) * (WAD // PENALTY_STEP) // debt
    fits = [
        s
        for s in range(max(guess - 2, 0), min(guess + 3, PENALTY_STEPS_LIMIT))
        if amount_to_raise(debt, WAD + s * PENALTY_STEP) == to_raise
    ]
    return fits[0] if len(fits) == 1 else None


def _deleveraging(e: Encoder, c: Any) -> None:
    """modules/deleverage.vy (`deleveraging`): the buffer, max fraction and interval,
    `deleverage_windows[type][owner]` (start << 64 | used share, packed alike in the model),
    `due_to_deleverage`, `deleverage_total`, `margin_call`."""
    e.scalar("deleveraging.deleverage_buffer", c.deleverage_buffer)
    e.scalar("deleveraging.deleverage_max_fraction", c.deleverage_max_fraction)
    e.scalar("deleveraging.deleverage_interval", c.deleverage_interval)
    e.mapping("deleveraging.deleverage_windows", c.deleverage_windows)
    e.mapping("deleveraging.due_to_deleverage", c.due_to_deleverage)
    e.scalar("deleveraging.deleverage_total", c.deleverage_total)
    e.scalar("deleveraging.margin_call", int(c.margin_call, 16))


# model contract name -> (contract file, its encoding)
ENCODERS: dict[str, tuple[str, Callable[[Encoder, Any], None]]] = {
    "VaultEngine": ("VaultEngine", vault_engine),
    "Stablecoin": ("Stablecoin", erc20),
    "GovernanceToken": ("GovernanceToken", erc20),
    "TestToken": ("TestToken", erc20),
    "CollateralJoin": ("CollateralJoin", collateral_join),
    "CollateralPool": ("CollateralPool", collateral_pool),
    "PriceOracle": ("PriceOracle", price_oracle),
    "Spotter": ("Spotter", spotter),
    "Liquidator": ("Liquidator", liquidator),
    "FeeAccumulator": ("FeeAccumulator", fee_accumulator),
    "CeilingManager": ("CeilingManager", ceiling_manager),
    "StabilityPool": ("StabilityPool", stability_pool),
    "DebtAuction": ("DebtAuction", debt_auction),
    "SurplusAuction": ("SurplusAuction", surplus_auction),
    "GlobalSettlement": ("GlobalSettlement", global_settlement),
    "MarginCall": ("MarginCall", margin_call),
    "DutchAuction": ("DutchAuction", dutch_auction),
    "Backstop": ("Backstop", backstop),
    "Timelock": ("Timelock", timelock),
}


def _labels(model: Any) -> Iterator[tuple[str, str, str]]:
    """(address, model contract name, label) of every model contract with an encoding; the
    label is the name, with the address's head when several share it."""
    counts: dict[str, int] = {}
    for name in model.names.values():
        counts[name] = counts.get(name, 0) + 1
    for address, name in model.names.items():
        if name in ENCODERS:
            label = name if counts[name] == 1 else f"{name}@{address[:8]}"
            yield address, name, label


def expected(
    model: Any,
    only: Collection[str] | None = None,
    written: dict[int, set[Any]] | None = None,
    whole: Collection[str] = (),
) -> dict[str, dict[int, Word]]:
    """Contract address -> {slot: Word} of every variable the model has a counterpart for (of
    the contracts at the addresses `only`, when given). With `written` (id(model map) -> keys,
    what a step wrote): of each map only the entries of those keys, every other word whole
    (`Encoder`), but of the contracts at the addresses `whole` everything."""
    preload_layouts(sorted({ENCODERS[name][0] for _, name, _ in _labels(model)}))
    out = {}
    for address, name, label in _labels(model):
        if only is not None and address not in only:
            continue
        source, encode = ENCODERS[name]
        e = Encoder(source, label, address, None if address in whole else written)
        encode(e, model.contract(address))
        out[address] = e.words
    return out


# ---------------------------------------------------------------- comparing with an EVM


@dataclass(frozen=True)
class Difference:
    """A claimed slot whose word on the chain is not the model's (compared bits only)."""

    contract: str
    variable: str
    key: Any
    slot: int
    chain: int
    model: int

    def __str__(self) -> str:
        key = "" if self.key is None else f"[{self.key!r}]"
        return (
            f"{self.contract}.{self.variable}{key} slot {self.slot:#x}: "
            f"chain {self.chain:#x} model {self.model:#x}"
        )


def compare(
    evm: Any, model: Any, words: dict[str, dict[int, Word]] | None = None
) -> list[Difference]:
    """Every claimed slot whose word on `evm` (a RevmBackend) differs from the model's in the
    bits compared (`words`: `expected(model)`, computed if None)."""
    words = expected(model) if words is None else words
    read = evm.evm.storage
    out = []
    for address, claimed in words.items():
        for slot, w in claimed.items():
            chain = read(address, slot)
            if chain & w.mask != w.word:
                out.append(Difference(w.contract, w.variable, w.key, slot, chain, w.word))
    return out


def unclaimed(
    evm: Any, model: Any, words: dict[str, dict[int, Word]] | None = None
) -> list[tuple[str, int, int]]:
    """(address, slot, word) of every non-zero slot on `evm` (a RevmBackend) of a contract the
    model has (encoded or not) that no variable claims (from revm's journal: slow, ~6 ms)."""
    words = expected(model) if words is None else words
    held = evm.nonzero_storage()
    out = []
    for address in model.names:
        claimed = words.get(address, {})
        for slot, value in held.get(address, []):
            if slot not in claimed:
                out.append((address, slot, value))
    return out
