"""The invariants of offchain/system/invariants.py checked on the model after a step, each only
when the step wrote what it reads (issue 75).

After every step the storage path of offchain/testing/checking.py has compared, slot for slot,
the storage of what the step wrote with revm's, so the model's state is the chain's there; the
invariants are checked on the model. Each `Check` declares what it reads (`reads`: contract
roles and model attributes, below) and runs after a step that wrote one of them or in which one
of those contracts logged an event; a check with no declaration (`reads=None`) runs after every
step. The sums over unbounded maps (every balance, vault and share) are kept over the step's
writes (`MapSum`: the journal's old value out, the value now in) instead of summed again.

The safety net (`ModelChecks.run(net=True)`, at the Checker's comparison of every slot of every
contract: every `net_every` steps and at each example's ends) runs every check whatever the step
wrote, and sums every map again: a sum kept over the writes that drifted from it (a write the
model's journal missed) fails there (tests/fuzz/test_checking.py plants one). The complete views
(every STORAGE_VIEWS_EVERY steps of a run) are checked with `state_invariants` as before.

A declaration names a contract by its Deployment role (`engine`, `stablecoin`, `backstop`,
`stability_pool`, `liquidator`, `debt_auction`, ...) or, for every collateral type's contract,
`type.auction`, `type.token`, `type.pool`, ...; then `.attribute` (the model contract's
attribute) or `.*` (any attribute, and the contract's events). A new check adds a `Check` to
CHECKS with its reads; a check whose reads are unsure may leave them out (None): it then runs
after every step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from offchain.backends import ModelBackend
from offchain.model.fixed_point import RAY
from offchain.model.state import NO_VALUE as MISSING
from offchain.model.state import ZERO_ADDRESS as ZERO
from offchain.model.state import Storage
from offchain.system.deployment import Deployment
from offchain.system.invariants import LossLedger

EVERY = "*"  # a declaration's attribute: any attribute of the contract, and its events


def addresses(d: Deployment, role: str) -> list[str]:
    """The contracts a declaration's role names (`type.X`: every type's X)."""
    if role.startswith("type."):
        return [getattr(t, role[len("type.") :]) for t in d.types.values()]
    return [getattr(d, role)]


# ---------------------------------------------------------------- sums kept over the writes


@dataclass(frozen=True)
class SumSpec:
    """A sum over every entry of a model map: per group (`group(key)`), of `value(value)`."""

    role: str
    attribute: str
    group: Callable[[Any], Any]
    value: Callable[[Any], int]


def _one(_key: Any) -> None:
    return None


def _plain(value: Any) -> int:
    return value


# the sums the checks read, by name; per type (type.X), one per type's contract
SUMS: dict[str, SumSpec] = {
    "stable": SumSpec("engine", "stable", _one, _plain),
    "bad_debt": SumSpec("engine", "bad_debt", _one, _plain),
    "vault_debt": SumSpec("engine", "vaults", lambda k: k[0], lambda v: v.normalized_debt),
    "vault_collateral": SumSpec("engine", "vaults", lambda k: k[0], lambda v: v.collateral),
    "free_collateral": SumSpec("engine", "collateral", lambda k: k[0], _plain),
    "token_balances": SumSpec("type.token", "balance_of", _one, _plain),
    "stablecoin_balances": SumSpec("stablecoin", "balance_of", _one, _plain),
    "pool_shares": SumSpec("stability_pool", "shares", _one, _plain),
    "pool_pending": SumSpec("stability_pool", "pending", _one, _plain),
    "pool_stakers": SumSpec("stability_pool", "shares", _one, lambda v: 1 if v else 0),
}


class MapSum:
    """One SumSpec over one contract's map: the totals per group, kept over the writes."""

    def __init__(self, spec: SumSpec, contract: Any):
        self.spec, self.contract = spec, contract
        self.storage: Storage = getattr(contract, spec.attribute)
        self.totals = self.recount()

    def recount(self) -> dict[Any, int]:
        """The totals summed over every entry now."""
        totals: dict[Any, int] = {}
        group, value = self.spec.group, self.spec.value
        for key, entry in self.storage.items():
            g = group(key)
            totals[g] = totals.get(g, 0) + value(entry)
        return totals

    def total(self, group: Any = None) -> int:
        return self.totals.get(group, 0)

    def update(self, olds: dict[Any, Any]) -> None:
        """The step wrote the keys of `olds` (key -> its value before the step, `missing` if it
        had none): each one's old value out, its value now in. A map replaced whole is summed
        again."""
        storage = getattr(self.contract, self.spec.attribute)
        if storage is not self.storage:
            self.storage = storage
            self.totals = self.recount()
            return
        group, value, default = self.spec.group, self.spec.value, storage._default
        totals = self.totals
        for key, old in olds.items():
            now = dict.get(storage, key, default)
            if old is MISSING:
                old = default
            delta = value(now) - value(old)
            if delta:
                g = group(key)
                totals[g] = totals.get(g, 0) + delta


# ---------------------------------------------------------------- the checks


@dataclass
class Context:
    """What the checks read: the model, the deployment, the sums and the loss ledger."""

    model: ModelBackend
    d: Deployment
    sums: dict[tuple[str, str], MapSum]  # (sum name, contract address) -> its sum
    ledger: LossLedger

    def c(self, address: str) -> Any:
        return self.model.contract(address)

    def total(self, name: str, address: str, group: Any = None) -> int:
        return self.sums[(name, address)].total(group)


@dataclass(frozen=True)
class Check:
    """One invariant: `run` returns its violations; `reads` (None: every step) what it reads."""

    name: str
    reads: tuple[str, ...] | None
    run: Callable[[Context], list[str]]


def _supply_and_debt(x: Context) -> list[str]:
    """I1-I3 (docs/architecture.md): the engine's totals equal the sums of what it holds."""
    engine = x.c(x.d.engine)
    bad = []
    stable = x.total("stable", x.d.engine)
    if engine.total_issued != stable:
        bad.append(f"I1 total_issued {engine.total_issued} != sum(stable) {stable}")
    unbacked = x.total("bad_debt", x.d.engine)
    if engine.total_unbacked != unbacked:
        bad.append(f"I2 total_unbacked {engine.total_unbacked} != sum(bad_debt) {unbacked}")
    backed = 0
    for t in x.d.types.values():
        ctype = engine.collateral_types[t.type_id]
        backed += ctype.normalized_debt * ctype.rate
    if engine.total_issued != engine.total_unbacked + backed:
        bad.append(
            f"I3 total_issued {engine.total_issued} != unbacked {engine.total_unbacked} + "
            f"sum(debt * rate) {backed}"
        )
    return bad


def _types(x: Context) -> list[str]:
    """Per type: a rate, I4 (the type's debt is its vaults'), I5 (locked + free collateral is
    what the join holds), and every collateral token held by someone."""
    engine = x.c(x.d.engine)
    bad = []
    for name, t in x.d.types.items():
        tid = t.type_id
        ctype = engine.collateral_types[tid]
        if ctype.rate == 0:
            bad.append(f"rate of {name} is zero")
        vault_debt = x.total("vault_debt", x.d.engine, tid)
        if ctype.normalized_debt != vault_debt:
            bad.append(
                f"I4 {name}: normalized_debt {ctype.normalized_debt} != sum(vaults) {vault_debt}"
            )
        locked = x.total("vault_collateral", x.d.engine, tid)
        free = x.total("free_collateral", x.d.engine, tid)
        token = x.c(t.token)
        held = token.balance_of[t.join] * 10 ** (18 - t.config.token_decimals)
        if locked + free != held:
            bad.append(
                f"I5 {name}: locked {locked} + free {free} != tokens held by the join {held}"
            )
        balances = x.total("token_balances", t.token)
        if balances != token.total_supply:
            bad.append(f"token {name}: balances {balances} != supply {token.total_supply}")
    return bad


def _auctions(x: Context) -> list[str]:
    """Per type: the running auctions are active_count's, their lots the auction's collateral,
    their debts the Liquidator's debt in auction of the type; the Liquidator's total is the
    types'; the collateral pool holds at least its reserves."""
    engine, liquidator = x.c(x.d.engine), x.c(x.d.liquidator)
    stablecoin = x.c(x.d.stablecoin)
    bad = []
    type_sum = 0
    for name, t in x.d.types.items():
        auction = x.c(t.auction)
        # the ids the auction reports (as the complete views read them: `ids()`, each entry
        # once per id it lists, so that an id given twice counts twice there too)
        running = [a for a in map(auction.auctions.__getitem__, auction.ids()) if a.owner != ZERO]
        if len(running) != auction.active_count():
            bad.append(
                f"auction {name}: {len(running)} running auctions but active_count "
                f"{auction.active_count()}"
            )
        lots = sum(a.lot for a in running)
        if lots != engine.collateral[(t.type_id, t.auction)]:
            bad.append(
                f"auction {name}: lots {lots} != its collateral "
                f"{engine.collateral[(t.type_id, t.auction)]}"
            )
        in_auction = liquidator.types[t.type_id].debt_in_auction
        type_sum += in_auction
        debts = sum(a.debt for a in running)
        if debts != in_auction:
            bad.append(f"liquidator {name}: debt in auction {in_auction} != auctions' {debts}")
        pool = x.c(t.pool)
        if (
            x.c(t.token).balance_of[t.pool] < pool.reserve_collateral
            or stablecoin.balance_of[t.pool] < pool.reserve_stable
        ):
            bad.append(f"pool {name}: holds less than its reserves")
    if type_sum != liquidator.debt_in_auction:
        bad.append(
            f"liquidator: debt_in_auction {liquidator.debt_in_auction} != sum over types {type_sum}"
        )
    return bad


def _stablecoin(x: Context) -> list[str]:
    """Every stablecoin held by someone, and backed by the StableJoin's engine balance."""
    stablecoin, engine = x.c(x.d.stablecoin), x.c(x.d.engine)
    bad = []
    held = x.total("stablecoin_balances", x.d.stablecoin)
    if held != stablecoin.total_supply:
        bad.append(f"stablecoin: balances {held} != supply")
    if stablecoin.total_supply * RAY > engine.stable[x.d.stable_join]:
        bad.append(
            f"stablecoin supply {stablecoin.total_supply} * ray > StableJoin's engine balance"
        )
    return bad


def _debt_auctions(x: Context) -> list[str]:
    """The debt auction's running count; the Backstop's debt on auction at most the bids of the
    running debt auctions nobody has bid on while live, none after (invariants.py)."""
    debt_auction, backstop = x.c(x.d.debt_auction), x.c(x.d.backstop)
    bad = []
    auctions = list(debt_auction.auctions.values())
    running = sum(1 for a in auctions if a.end != 0)
    if running != debt_auction.running:
        bad.append(f"debt auction: running {debt_auction.running} != auctions running {running}")
    if backstop.debt_auction == x.d.debt_auction:
        unbid = sum(a.bid for a in auctions if a.end != 0 and a.bid_expiry == 0)
        on_auction = backstop.debt_on_auction
        if on_auction > (unbid if backstop.live else 0):
            bad.append(
                f"backstop: debt_on_auction {on_auction} above the bids of running debt "
                f"auctions without a bid {unbid} (live {backstop.live})"
            )
    return bad


def _losses(x: Context) -> list[str]:
    """The Backstop's loss events of the types' auctions against their auctions, their count,
    the debt attributed to them, the auctions' escrow, the numbering (invariants.py's
    `_waterfall_invariants` and `_loss_numbering`, on the model), and what the Backstop owes."""
    d, engine, backstop = x.d, x.c(x.d.engine), x.c(x.d.backstop)
    bad: list[str] = []
    open_count = attributed = 0
    numbered: dict[int, tuple[int, bool]] = {}
    escrow = {name: 0 for name in d.types}
    # the loss events of the ids each type's auction reports (`ids()`, as the complete views
    # read them: a loss opened by an account that is not the type's auction is not among them)
    keys = [
        (name, (t.type_id, t.auction, auction_id))
        for name, t in d.types.items()
        for auction_id in x.c(t.auction).ids()
    ]
    for name, key in keys:
        _, auction_address, auction_id = key
        loss = backstop.losses[key]
        status, number = loss.status, backstop.loss_numbers[key]
        if (status == 0) != (number == 0) or number in numbered:
            bad.append(f"backstop: loss {name}/{auction_id} status {status} number {number}")
        elif number:
            numbered[number] = (loss.created_at, status == 3)
        a = x.c(auction_address).auctions[auction_id]
        if (a.owner != ZERO) != (status == 1):
            bad.append(
                f"backstop: loss {name}/{auction_id} status {status} but auction "
                f"running={a.owner != ZERO}"
            )
        if status in (1, 2):
            open_count += 1
        if status == 1:
            attributed += loss.debt
            escrow[name] += loss.due - a.debt
        elif status == 2:
            attributed += loss.due
            if not 0 < loss.due <= loss.debt:
                bad.append(
                    f"backstop: loss {name}/{auction_id} due {loss.due} not in (0, debt "
                    f"{loss.debt}]"
                )
        elif status == 3 and loss.due != 0:
            bad.append(f"backstop: loss {name}/{auction_id} done with {loss.due} due")
    for name, t in d.types.items():
        if escrow[name] != engine.stable[t.auction]:
            bad.append(
                f"auction {name}: escrow {engine.stable[t.auction]} != raised by running "
                f"auctions {escrow[name]}"
            )
    count, first = backstop.loss_count, backstop.first_open_loss
    if not 1 <= first <= count + 1:
        bad.append(f"backstop: first_open_loss {first} outside 1..{count + 1}")
    if any(not 1 <= number <= count for number in numbered):
        bad.append(f"backstop: loss numbers {sorted(numbered)} outside 1..{count}")
    previous = 0
    for number in range(1, count + 1):
        opened_at, done = backstop.loss_opened_at(number), backstop.loss_done(number)
        if number in numbered and numbered[number] != (opened_at, done):
            bad.append(f"backstop: numbered loss {number} disagrees with its event")
        if opened_at < previous:
            bad.append(f"backstop: loss {number} opened before loss {number - 1}")
        previous = opened_at
        if number < first and not done:
            bad.append(f"backstop: loss {number} below first_open_loss {first} is not done")
    if open_count != backstop.open_losses():
        bad.append(f"backstop: open_losses {backstop.open_losses()} != open events {open_count}")
    unsettled = backstop.unsettled_proceeds()
    if attributed + unsettled != backstop.attributed_debt:
        bad.append(
            f"backstop: attributed_debt {backstop.attributed_debt} != events' {attributed} + "
            f"unsettled proceeds {unsettled}"
        )
    if unsettled > engine.stable[d.backstop]:
        bad.append(f"backstop: unsettled proceeds {unsettled} above its stablecoin")
    owed = (
        backstop.attributed_debt
        + backstop.debt_to_auction
        + backstop.debt_on_auction
        + backstop.deleverage_total
    )
    if owed > engine.bad_debt[d.backstop]:
        bad.append(f"backstop: attributed + debt auctions + deleveraging {owed} above its bad debt")
    due = sum(backstop.deleverage_due(t.type_id) for t in d.types.values())
    if due != backstop.deleverage_total:
        bad.append(
            f"backstop: deleverage_due over the types {due} != deleverage_total "
            f"{backstop.deleverage_total}"
        )
    return bad


def _stability_pool(x: Context) -> list[str]:
    """The stability pool's books: its assets within its balance less the pending stakes, the
    shares, pending stakes and stakers adding up, the stakers' values within its assets, each
    charge attributed within its amount (all of it once no staker is left)."""
    pool, engine, p = x.c(x.d.stability_pool), x.c(x.d.engine), x.d.stability_pool
    bad = []
    if pool.assets > engine.stable[p] - pool.pending_total:
        bad.append("pool: assets above stable balance - pending")
    if x.total("pool_shares", p) != pool.total_shares:
        bad.append("pool: shares do not add up to total_shares")
    if x.total("pool_pending", p) != pool.pending_total:
        bad.append("pool: pending does not add up to pending_total")
    if x.total("pool_stakers", p) != pool.staker_count:
        bad.append("pool: staker_count != stakers with shares")
    if sum(pool.value_of(who) for who, shares in pool.shares.items() if shares) > pool.assets:
        bad.append("pool: stakers' values exceed its assets")
    for charge in range(1, pool.charge_count + 1):
        amount, attributed = pool.charge_amount[charge], pool.charge_attributed[charge]
        left = pool.charge_stakers_left[charge]
        if attributed > amount or (left == 0 and attributed != amount):
            bad.append(
                f"pool: charge {charge} attributed {attributed} of {amount} with {left} stakers "
                "left"
            )
    return bad


def _loss_conservation(x: Context) -> list[str]:
    """Loss conservation over every event the model logged (the ledger adds the new ones)."""
    backstop, pool = x.c(x.d.backstop), x.c(x.d.stability_pool)
    due = {key: loss.due for key, loss in backstop.losses.items()}
    done = {
        c: pool.charge_amount[c]
        for c in range(1, pool.charge_count + 1)
        if pool.charge_stakers_left[c] == 0
    }
    x.ledger.follow(x.model.env.logs)
    return [f"model {p}" for p in x.ledger.problems(due, done)]


CHECKS: list[Check] = [
    Check(
        "supply and debt",
        ("engine.stable", "engine.bad_debt", "engine.total_issued", "engine.total_unbacked",
         "engine.collateral_types"),
        _supply_and_debt,
    ),
    Check(
        "types",
        ("engine.collateral_types", "engine.vaults", "engine.collateral", "type.token.*"),
        _types,
    ),
    Check(
        "auctions",
        ("type.auction.*", "engine.collateral", "liquidator.*", "type.token.balance_of",
         "stablecoin.balance_of", "type.pool.*"),
        _auctions,
    ),
    Check("stablecoin", ("stablecoin.*", "engine.stable"), _stablecoin),
    Check("debt auctions", ("debt_auction.*", "backstop.*"), _debt_auctions),
    Check(
        "losses",
        ("backstop.*", "type.auction.*", "engine.stable", "engine.bad_debt"),
        _losses,
    ),
    Check("stability pool", ("stability_pool.*", "engine.stable"), _stability_pool),
    Check("loss conservation", ("backstop.*", "stability_pool.*"), _loss_conservation),
]  # fmt: skip


# ---------------------------------------------------------------- after a step


class ModelChecks:
    """The CHECKS of one example's model (see the module docstring): `run` after each step with
    what it wrote; `counts` of the checks run and skipped."""

    def __init__(self, model: ModelBackend, d: Deployment, checks: Iterable[Check] = ()):
        self.model, self.d = model, d
        self.checks = list(checks) or list(CHECKS)
        self.ledger = LossLedger(d.backstop, d.stability_pool)
        self.sums: dict[tuple[str, str], MapSum] = {}
        for name, spec in SUMS.items():
            for address in addresses(d, spec.role):
                self.sums[(name, address)] = MapSum(spec, model.contract(address))
        # id(model map) -> the sums over it
        self._by_map: dict[int, list[MapSum]] = {}
        for s in self.sums.values():
            self._by_map.setdefault(id(s.storage), []).append(s)
        # per check, its reads resolved: (address, attribute or EVERY); None: every step
        self._reads: list[frozenset[tuple[str, str]] | None] = [
            self._resolve(check.reads) for check in self.checks
        ]
        self.context = Context(model, d, self.sums, self.ledger)
        self.ran = 0
        self.skipped = 0

    def _resolve(self, reads: tuple[str, ...] | None) -> frozenset[tuple[str, str]] | None:
        if reads is None:
            return None
        out = set()
        for read in reads:
            role, _, attribute = read.rpartition(".")
            for address in addresses(self.d, role):
                out.add((address, attribute))
        return frozenset(out)

    def follow(self, olds: dict[int, dict[Any, Any]]) -> None:
        """Keep the sums over the step's writes: id(model map) -> key -> its value before."""
        for storage_id, keys in olds.items():
            for s in self._by_map.get(storage_id, ()):
                s.update(keys)
        # a map replaced whole was summed again: index it under its new identity
        if any(id(s.storage) not in self._by_map for s in self.sums.values()):
            self._by_map = {}
            for s in self.sums.values():
                self._by_map.setdefault(id(s.storage), []).append(s)

    def recount(self) -> None:
        """Every sum counted again (the writes of a step that could not be placed)."""
        for s in self.sums.values():
            s.storage = getattr(s.contract, s.spec.attribute)
            s.totals = s.recount()
        self._by_map = {}
        for s in self.sums.values():
            self._by_map.setdefault(id(s.storage), []).append(s)

    def run(self, written: set[tuple[str, str]], logged: set[str], net: bool = False) -> list[str]:
        """The violations of the checks whose reads the step wrote (`written`: (address,
        attribute) pairs; `logged`: the contracts that logged an event), of every check with
        `net`, where every sum is also counted again and must equal the one kept."""
        problems: list[str] = []
        if net:
            for (name, address), s in self.sums.items():
                again = s.recount()
                kept = {g: v for g, v in s.totals.items() if v}
                if kept != {g: v for g, v in again.items() if v}:
                    problems.append(
                        f"the sum {name} of {address} kept over the writes drifted from the map: "
                        "a write the step's journal did not show"
                    )
                    s.totals = again
        touched = {address for address, _ in written} | logged
        for check, reads in zip(self.checks, self._reads):
            if not net and reads is not None and not _due(reads, written, touched):
                self.skipped += 1
                continue
            self.ran += 1
            problems += check.run(self.context)
        return problems


def _due(
    reads: frozenset[tuple[str, str]], written: set[tuple[str, str]], touched: set[str]
) -> bool:
    for address, attribute in reads:
        if attribute == EVERY:
            if address in touched:
                return True
        elif (address, attribute) in written:
            return True
    return False


__all__ = ["CHECKS", "EVERY", "SUMS", "Check", "Context", "MapSum", "ModelChecks", "SumSpec"]
