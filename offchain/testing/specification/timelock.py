"""The specification of governance's queue (contracts/Timelock.vy), written plainly: the
independent rewrite of offchain/model/timelock.py (it never imports it; the calls' hash is
written here with eth_abi, the constants restated).

The bound: a proposal's calls run only inside its window, at most once, never after a cancel, and
only the calls it was queued with. Checked on every transaction, from the events and from each
Timelock's proposals before and after it:
- `Queued` gives the next id (the count before, plus one per proposal queued in the
  transaction), an eta of exactly now + the delay in force (the delay before the transaction,
  or the last `DelaySet` before the event in it), the hash of the calls its `CallQueued` events
  list, in order, with indexes 0, 1, ...; the proposal is QUEUED after;
- `Executed` only of a proposal QUEUED before it (not executed or cancelled earlier in the same
  transaction), at a time in [eta, eta + grace], grace as in force before the event; the
  proposal is EXECUTED after; a top-level `execute` ran with calls of the stored hash;
- `Cancelled` only of a proposal QUEUED before it; the proposal is CANCELLED after;
- no proposal's record changes without its event, and no proposal leaves EXECUTED or CANCELLED;
- the refusals "timelock: too early", "timelock: expired", "timelock: not queued" and
  "timelock: other calls" of a top-level `execute` or `cancel` only when the state before says so.
"""

from __future__ import annotations

from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak

from offchain.model.state import Event

# restated from Timelock.vy: a proposal's status
QUEUED, EXECUTED, CANCELLED = 1, 2, 3
_NAME = "Timelock"


def timelocks(model: Any) -> list[str]:
    """The addresses of the Timelocks deployed in `model` (ModelBackend.names)."""
    return [address for address, name in model.names.items() if name == _NAME]


def timelock_state(model: Any) -> dict[str, tuple[int, int, int, dict[int, tuple]]]:
    """Per Timelock: (proposal count, delay, grace, id -> (hash, eta, status)) as they are."""
    out = {}
    for address in timelocks(model):
        t = model.contract(address)
        out[address] = (t.proposal_count, t.delay, t.grace, dict(t.proposals))
    return out


def _hash(calls: list[tuple[str, bytes]]) -> bytes:
    return keccak(abi_encode(["(address,bytes)[]"], [[(a, bytes(d)) for a, d in calls]]))


def timelock_checks(
    model: Any, before: dict[str, tuple], sender_call: tuple[str, str, tuple], events: list[Event]
) -> tuple[int, list[str]]:
    """(checks made, problems) of one successful transaction: `before` is timelock_state before
    it, `sender_call` its (address, function, args), `events` its events."""
    if not before:
        return 0, []
    checks, out = 0, []
    now = model.env.timestamp
    after = timelock_state(model)
    for address, (count, delay, grace, proposals) in before.items():
        ledger = dict(proposals)  # id -> (hash, eta, status) as the events say it goes
        mine = [e for e in events if e.address == address]
        queued_calls: dict[int, list[tuple[int, str, bytes]]] = {}
        queued: list[tuple[int, int, bytes]] = []
        for e in mine:
            if e.name == "DelaySet":
                delay = e.args["delay"]
            elif e.name == "GraceSet":
                grace = e.args["grace"]
            elif e.name == "Queued":
                checks += 1
                count += 1
                pid, eta = e.args["proposal_id"], e.args["eta"]
                if pid != count:
                    out.append(f"{address}: queued id {pid}, the next id is {count}")
                if eta != now + delay:
                    out.append(f"{address}: proposal {pid} eta {eta}, now + delay {now + delay}")
                ledger[pid] = (e.args["calls_hash"], eta, QUEUED)
                queued.append((pid, eta, e.args["calls_hash"]))
                queued_calls[pid] = []
            elif e.name == "CallQueued":
                queued_calls.setdefault(e.args["proposal_id"], []).append(
                    (e.args["index"], e.args["target"], e.args["data"])
                )
            elif e.name in ("Executed", "Cancelled"):
                checks += 1
                pid = e.args["proposal_id"]
                digest, eta, status = ledger.get(pid, (b"", 0, 0))
                if status != QUEUED:
                    out.append(f"{address}: {e.name} proposal {pid} with status {status}")
                if e.name == "Executed" and not eta <= now <= eta + grace:
                    out.append(
                        f"{address}: executed proposal {pid} at {now}, its window "
                        f"[{eta}, {eta + grace}]"
                    )
                ledger[pid] = (digest, eta, EXECUTED if e.name == "Executed" else CANCELLED)
        for pid, _, digest in queued:
            checks += 1
            listed = queued_calls.get(pid, [])
            if [i for i, _, _ in listed] != list(range(len(listed))) or not listed:
                out.append(f"{address}: proposal {pid}'s CallQueued indexes {listed!r}")
            elif _hash([(t, d) for _, t, d in listed]) != digest:
                out.append(f"{address}: proposal {pid}'s hash is not that of its listed calls")
        # nothing changes without its event; a top-level execute ran the calls of its hash
        count_after, _, _, proposals_after = after[address]
        checks += 1
        if count_after != count:
            out.append(f"{address}: proposal count {count_after}, the events say {count}")
        for pid in set(proposals_after) | set(ledger):
            if proposals_after.get(pid) != ledger.get(pid):
                out.append(
                    f"{address}: proposal {pid} is {proposals_after.get(pid)!r}, the events "
                    f"say {ledger.get(pid)!r}"
                )
        target, function, args = sender_call
        if target == address and function == "execute":
            checks += 1
            stored = proposals.get(args[0], (b"", 0, 0))[0]
            if _hash(list(args[1])) != stored:
                out.append(f"{address}: executed proposal {args[0]} with other calls")
    return checks, out


def timelock_revert(
    before: dict[str, tuple], call: tuple[str, str, tuple], now: int, reason: str
) -> str | None:
    """A top-level execute's or cancel's refusal holds in the state before (None) or not."""
    address, function, args = call
    if address not in before or function not in ("execute", "cancel") or not args:
        return None
    _, _, grace, proposals = before[address]
    digest, eta, status = proposals.get(args[0], (b"", 0, 0))
    if reason == "timelock: not queued":
        return None if status != QUEUED else f"proposal {args[0]} is queued"
    if function != "execute" or status != QUEUED:
        return None  # the status is checked first: the later refusals need a queued proposal
    if reason == "timelock: other calls":
        return None if _hash(list(args[1])) != digest else "the calls are the queued ones"
    if _hash(list(args[1])) != digest:
        return None
    if reason == "timelock: too early":
        return None if now < eta else f"now {now}, eta {eta}"
    if reason == "timelock: expired":
        return None if now > eta + grace else f"now {now}, the window ends at {eta + grace}"
    return None
