"""The gas gate and the gas breakdown (`ape run gas`, scripts/_gas.py).

The gate: every benchmarked transaction's gas (offchain/testing/gas_scenarios.py), measured on revm
with a node's exact count (tests/backends/test_revm_backend.py checks it equals Anvil's), against
the committed snapshot bench/gas-snapshot.json. A figure more than 1% above its snapshot fails,
as does a figure missing from either side: a change that costs gas updates the snapshot in the same
commit (`ape run gas --update`), so every rise is a reviewed line in a diff, as with
`forge snapshot --check`.

The breakdown: the same transactions on a fresh Anvil, each traced (`callTracer` for the gas of
every call frame, `prestateTracer` in diff mode for the storage slots it changed), written to
bench/gas-breakdown.md: where each figure's gas goes, frame by frame, and how many storage slots
it creates (zero to non-zero, 22,100 gas each when cold), updates or clears.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from eth_utils import function_abi_to_4byte_selector, to_checksum_address

from offchain.backends import ANVIL_ACCOUNTS, ChainBackend, RevmBackend
from offchain.testing.fuzz import ROOT, Artifacts
from offchain.testing.gas_scenarios import all_gas_figures

SNAPSHOT = ROOT / "bench" / "gas-snapshot.json"
BREAKDOWN = ROOT / "bench" / "gas-breakdown.md"
# a figure may rise this much above its snapshot before the gate fails
TOLERANCE = 0.01
GENESIS = 1_700_000_000
# what a transaction pays before any code runs: the base, and each calldata byte (EIP-2028)
BASE_GAS = 21_000
ZERO_BYTE_GAS = 4
NONZERO_BYTE_GAS = 16
# a cold write of a zero slot to non-zero (EIP-2929 + EIP-2200): what a new record costs
NEW_SLOT_GAS = 22_100

# MakerDAO dss, the same kind of transaction, measured on the same Anvil (the gas issue's anchors):
# figure -> (gas, what was measured)
DSS_ANCHORS: dict[str, tuple[int, str]] = {
    "gas.open_vault": (120_206, "Vat.frob opening a vault (low end; high 154,406)"),
    "gas.open_vault_with_join": (120_206, "Vat.frob alone, no join (low end; high 154,406)"),
    "gas.adjust_vault": (68_000, "Vat.frob adjusting a vault (about)"),
    "gas.liquidate_first": (455_701, "Dog.bark + Clipper.kick, first"),
    "gas.liquidate": (299_801, "Dog.bark + Clipper.kick"),
    # dss creates a new sale each time (its ids are a count): the same anchor
    "gas.liquidate_reusing_slot": (299_801, "Dog.bark + Clipper.kick (no slot reuse in dss)"),
    "gas.take_whole": (120_951, "Clipper.take, whole auction"),
    "gas.take_whole_with_refund": (120_951, "Clipper.take, whole auction"),
    "gas.take_partial": (148_794, "Clipper.take, partial"),
    "gas.reset_auction": (112_030, "Clipper.redo"),
}


class SnapshotError(Exception):
    """The snapshot file is missing or not a gas snapshot (one line for the user)."""


def measure(artifacts: Artifacts) -> dict[str, int]:
    """Every benchmarked transaction's gas, on a fresh in-process revm (a node's exact count)."""
    evm = RevmBackend(artifacts[0], artifacts[1], GENESIS, exact_gas=True)
    return all_gas_figures(evm, list(ANVIL_ACCOUNTS))


class _Twice(ValueError):
    """A JSON object with one key twice (json keeps the last in silence)."""


def _once(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise _Twice(twice[0])
    return dict(pairs)


def is_snapshot(data: Any) -> bool:
    """`data` (a JSON document) has a gas snapshot's shape: an object of figure: integer gas.
    `read_snapshot` checks it, and `ape run gas --update` replaces only a file of this shape."""
    return isinstance(data, dict) and all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool)
        for k, v in data.items()
    )


def read_snapshot(path: Path = SNAPSHOT) -> dict[str, int]:
    if not path.exists():
        raise SnapshotError(f"{path.name}: no gas snapshot; write one with `ape run gas --update`")
    if path.is_dir():
        raise SnapshotError(f"{path}: a directory, not a gas snapshot")
    try:
        data = json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_once)
    except UnicodeDecodeError as e:
        raise SnapshotError(f"{path}: not a text file (byte {e.start + 1} is not UTF-8)") from None
    except OSError as e:
        raise SnapshotError(f"{path}: cannot read ({e.strerror or e})") from None
    except json.JSONDecodeError as e:
        raise SnapshotError(f"{path.name}: not JSON ({e.msg}, line {e.lineno})") from None
    except _Twice as e:
        raise SnapshotError(f"{path.name}: figure {e} given twice (which one holds?)") from None
    if not is_snapshot(data):
        raise SnapshotError(f"{path.name}: not a gas snapshot (an object of figure: integer gas)")
    # a figure at or under 21,000 (a transaction's base cost) is no measurement: a hand edit,
    # which compared as a regression (exit 1) before
    low = [k for k, v in data.items() if v < 21_000]
    if low:
        raise SnapshotError(
            f"{path.name}: {', '.join(low)}: gas under 21,000 (a transaction's base cost), not a "
            "measurement"
        )
    return data


def write_snapshot(figures: dict[str, int], path: Path = SNAPSHOT) -> None:
    """Written whole or not at all (a temporary file, then a rename)."""
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(dict(sorted(figures.items())), indent=2) + "\n")
    tmp.replace(path)


@dataclass(frozen=True)
class Change:
    figure: str
    before: int | None  # in the snapshot
    after: int | None  # measured now

    @property
    def fails(self) -> bool:
        """Outside the gate: new, gone, or more than TOLERANCE above the snapshot."""
        if self.before is None or self.after is None:
            return True
        return self.after > self.before * (1 + TOLERANCE)

    def describe(self) -> str:
        if self.before is None:
            return f"{self.figure}: {self.after:,} gas, a new figure not in the snapshot"
        if self.after is None:
            return f"{self.figure}: in the snapshot ({self.before:,}) but no longer measured"
        pct = (self.after - self.before) / self.before * 100
        return f"{self.figure}: {self.before:,} -> {self.after:,} gas ({pct:+.2f}%)"


def compare(measured: dict[str, int], snapshot: dict[str, int]) -> list[Change]:
    """Every figure that differs from its snapshot (failing or not), sorted by name."""
    return [
        Change(name, snapshot.get(name), measured.get(name))
        for name in sorted(measured.keys() | snapshot.keys())
        if snapshot.get(name) != measured.get(name)
    ]


# ---------------------------------------------------------------- the breakdown


@dataclass
class Frame:
    """One call frame of a traced transaction."""

    contract: str
    function: str
    own_gas: int  # its gas less its callees' (the outermost frame: also less the intrinsic gas)
    depth: int
    logs: int


@dataclass
class Slots:
    created: int = 0  # zero -> non-zero
    updated: int = 0  # non-zero -> another non-zero
    cleared: int = 0  # non-zero -> zero (refunded in part)


@dataclass
class Breakdown:
    figure: str
    total: int
    intrinsic: int
    frames: list[Frame]
    slots: dict[str, Slots] = field(default_factory=dict)  # contract -> its changed slots

    @property
    def created(self) -> int:
        return sum(s.created for s in self.slots.values())


def _selectors(artifacts: Artifacts) -> dict[bytes, str]:
    names = {}
    for abi, _ in artifacts[0].values():
        for item in abi:
            if item.get("type") == "function":
                names[function_abi_to_4byte_selector(cast(Any, item))] = item["name"]
    return names


def trace(chain: ChainBackend, artifacts: Artifacts, figure: str, tx_hash: str) -> Breakdown:
    """The gas of one mined transaction, by call frame and by storage slot changed."""
    selectors = _selectors(artifacts)
    calls = chain.rpc(
        "debug_traceTransaction",
        [tx_hash, {"tracer": "callTracer", "tracerConfig": {"withLog": True}}],
    )
    diff = chain.rpc(
        "debug_traceTransaction",
        [tx_hash, {"tracer": "prestateTracer", "tracerConfig": {"diffMode": True}}],
    )
    data = bytes.fromhex(calls["input"][2:])
    intrinsic = BASE_GAS + sum(ZERO_BYTE_GAS if b == 0 else NONZERO_BYTE_GAS for b in data)

    def name(address: str) -> str:
        return chain.names.get(to_checksum_address(address), address)

    frames: list[Frame] = []
    # the receipt's gas, net of refunds: Anvil's callTracer gives the outermost frame's gas
    # before refunds for a transaction that is not its block's first (a figure measured in a
    # block of several, e.g. gas.flash_take_venue after the venue's sync)
    receipt = chain.rpc("eth_getTransactionReceipt", [tx_hash])
    total = int(receipt["gasUsed"], 16)

    def walk(call: dict[str, Any], depth: int) -> None:
        children = call.get("calls", [])
        used = total if depth == 0 else int(call["gasUsed"], 16)
        own = used - sum(int(c["gasUsed"], 16) for c in children)
        if depth == 0:
            own -= intrinsic
        function = selectors.get(bytes.fromhex(call["input"][2:10])) or call["input"][:10]
        frames.append(Frame(name(call["to"]), function, own, depth, len(call.get("logs", []))))
        for child in children:
            walk(child, depth + 1)

    walk(calls, 0)
    slots: dict[str, Slots] = {}
    for address, post in diff["post"].items():
        before = diff["pre"].get(address, {}).get("storage", {})
        for slot, value in post.get("storage", {}).items():
            was, now = int(before.get(slot, "0x0"), 16), int(value, 16)
            counts = slots.setdefault(name(address), Slots())
            if was == 0 and now != 0:
                counts.created += 1
            elif now == 0:
                counts.cleared += 1
            else:
                counts.updated += 1
    # diff mode leaves a slot written to zero out of the post state: only the pre state names it
    for address, pre in diff["pre"].items():
        post_storage = diff["post"].get(address, {}).get("storage", {})
        for slot in pre.get("storage", {}):
            if slot not in post_storage:
                slots.setdefault(name(address), Slots()).cleared += 1
    return Breakdown(figure, total, intrinsic, frames, slots)


def breakdowns(node_url: str, artifacts: Artifacts) -> list[Breakdown]:
    """Every benchmarked transaction, run on the node at `node_url` and traced."""
    chain = ChainBackend(node_url, artifacts[0], artifacts[1])
    out: list[Breakdown] = []

    def observe(figure: str) -> None:
        assert chain.last_receipt is not None
        out.append(trace(chain, artifacts, figure, chain.last_receipt["transactionHash"]))

    all_gas_figures(chain, list(ANVIL_ACCOUNTS), observe)
    return out


def render(items: list[Breakdown]) -> str:
    lines = [
        "# Where the gas goes",
        "",
        "Written by `ape run gas --breakdown`: each benchmarked transaction on a fresh Anvil,",
        "traced with `callTracer` (gas per call frame) and `prestateTracer` in diff mode (storage",
        "slots changed). *Own gas* is a frame's gas less its callees'; the outermost frame's own",
        "gas is also less the intrinsic gas (21,000 + calldata) and net of the transaction's",
        f"storage refunds. A slot created costs {NEW_SLOT_GAS:,} gas when cold (zero to non-zero),",
        "an update 5,000 when cold (2,900 warm), a clear 5,000 less a 4,800 refund.",
        "",
        "| figure | gas | dss | slots created | updated | cleared | frames |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for b in items:
        dss = DSS_ANCHORS.get(b.figure)
        lines.append(
            f"| `{b.figure}` | {b.total:,} | {f'{dss[0]:,}' if dss else ''} | {b.created} | "
            f"{sum(s.updated for s in b.slots.values())} | "
            f"{sum(s.cleared for s in b.slots.values())} | {len(b.frames)} |"
        )
    for b in items:
        lines += [
            "",
            f"## `{b.figure}`: {b.total:,} gas",
            "",
            f"Intrinsic {b.intrinsic:,}; slots created {b.created} "
            f"(≥ {b.created * NEW_SLOT_GAS:,} gas of the total).",
            "",
            "| frame | own gas | logs |",
            "|---|---:|---:|",
        ]
        for f in b.frames:
            indent = "  " * f.depth + ("└ " if f.depth else "")
            lines.append(f"| {indent}{f.contract}.{f.function} | {f.own_gas:,} | {f.logs} |")
        lines += ["", "| contract | created | updated | cleared |", "|---|---:|---:|---:|"]
        for contract, s in sorted(b.slots.items()):
            lines.append(f"| {contract} | {s.created} | {s.updated} | {s.cleared} |")
    return "\n".join(lines) + "\n"
