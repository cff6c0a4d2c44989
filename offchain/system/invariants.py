"""Invariants I1-I5 of docs/architecture.md, checked exactly (in rad / wad) on a state read from
either backend (`offchain.system.deployment.read_*_state`), and on the model's complete storage.

A state read covers the accounts a run knows about; `model_invariants` sums over every key the
model ever wrote, so a balance held by an address nobody thought to list still counts there.
"""

from __future__ import annotations

from typing import Any

from offchain.backends import ModelBackend
from offchain.model.fixed_point import RAY
from offchain.model.state import ZERO_ADDRESS as ZERO
from offchain.system.deployment import Deployment


def state_invariants(
    state: dict[str, Any],
    d: Deployment,
    holders: list[str],
    groups: dict[str, list[str]] | None = None,
) -> list[str]:
    """Violations of I1-I5 in a state snapshot (empty list = all hold). `groups` is
    `key_groups(state)` when the caller keeps it (it depends on the keys only)."""
    bad: list[str] = []
    if groups is None:
        groups = key_groups(state)
    stable = sum(state[f"engine.stable[{h}]"] for h in holders)
    if state["engine.total_issued"] != stable:
        bad.append(f"I1 total_issued {state['engine.total_issued']} != sum(stable) {stable}")
    unbacked = sum(state[f"engine.bad_debt[{h}]"] for h in holders)
    if state["engine.total_unbacked"] != unbacked:
        bad.append(
            f"I2 total_unbacked {state['engine.total_unbacked']} != sum(bad_debt) {unbacked}"
        )
    backed = 0
    for name, t in d.types.items():
        normalized_debt, rate = state[f"engine.collateral_types[{name}]"][:2]
        if rate == 0:
            bad.append(f"rate of {name} is zero")
        backed += normalized_debt * rate
        vault_debt = sum(state[f"engine.vaults[{name}][{h}]"][1] for h in holders)
        if normalized_debt != vault_debt:
            bad.append(f"I4 {name}: normalized_debt {normalized_debt} != sum(vaults) {vault_debt}")
        locked = sum(state[f"engine.vaults[{name}][{h}]"][0] for h in holders)
        free = sum(state[f"engine.collateral[{name}][{h}]"] for h in holders)
        held = state[f"token[{name}].balanceOf[{t.join}]"] * 10 ** (18 - t.config.token_decimals)
        if locked + free != held:
            bad.append(
                f"I5 {name}: locked {locked} + free {free} != tokens held by the join {held}"
            )
    if state["engine.total_issued"] != state["engine.total_unbacked"] + backed:
        bad.append(
            f"I3 total_issued {state['engine.total_issued']} != unbacked "
            f"{state['engine.total_unbacked']}"
            f" + sum(debt * rate) {backed}"
        )
    for name, t in d.types.items():
        # tokens are conserved: every unit is held by someone we know of
        held = sum(state[f"token[{name}].balanceOf[{h}]"] for h in holders)
        if held != state[f"token[{name}].totalSupply"]:
            bad.append(
                f"token {name}: balances {held} != supply {state[f'token[{name}].totalSupply']}"
            )
        # the auction's free collateral is exactly what its running auctions still sell
        ids = _running(state, groups, name)
        if len(ids) != state[f"auction[{name}].active_count"]:
            bad.append(
                f"auction {name}: {len(ids)} running auctions but active_count "
                f"{state[f'auction[{name}].active_count']}"
            )
        lots = sum(state[f"auction[{name}].auctions[{i}]"][2] for i in ids)
        if lots != state[f"engine.collateral[{name}][{t.auction}]"]:
            bad.append(
                f"auction {name}: lots {lots} != its collateral "
                f"{state[f'engine.collateral[{name}][{t.auction}]']}"
            )
        # the liquidator's debt in auction is exactly what running auctions still have to raise
        debts = sum(state[f"auction[{name}].auctions[{i}]"][1] for i in ids)
        if debts != state[f"liquidator.types[{name}]"][3]:
            bad.append(
                f"liquidator {name}: debt in auction {state[f'liquidator.types[{name}]'][3]} != "
                f"auctions' {debts}"
            )
        # the pool holds at least its reserves
        if (
            state[f"token[{name}].balanceOf[{t.pool}]"] < state[f"pool[{name}].reserve_collateral"]
            or state[f"stablecoin.balanceOf[{t.pool}]"] < state[f"pool[{name}].reserve_stable"]
        ):
            bad.append(f"pool {name}: holds less than its reserves")
    type_sum = sum(state[f"liquidator.types[{name}]"][3] for name in d.types)
    if type_sum != state["liquidator.debt_in_auction"]:
        bad.append(
            f"liquidator: debt_in_auction {state['liquidator.debt_in_auction']} != sum over types "
            f"{type_sum}"
        )
    bad += _waterfall_invariants(state, groups, d, holders)
    stable_held = sum(state[f"stablecoin.balanceOf[{h}]"] for h in holders)
    if stable_held != state["stablecoin.totalSupply"]:
        bad.append(f"stablecoin: balances {stable_held} != supply")
    # StableJoin's invariant (as DaiJoin's): every ERC-20 stablecoin is backed by the join's engine
    # balance. Not equality: any holder may `burn` (or `burn_from` with an allowance) outside the
    # join, which leaves the join's balance over-backing the supply.
    supply = state["stablecoin.totalSupply"]
    if supply * RAY > state[f"engine.stable[{d.stable_join}]"]:
        bad.append(f"stablecoin supply {supply} * ray > StableJoin's engine balance")
    return bad


def _loss_numbering(state: dict[str, Any], numbered: dict[int, tuple[int, bool]]) -> list[str]:
    """The Backstop numbers its loss events 1..loss_count in the order they were opened;
    `loss_opened_at` / `loss_done` agree with each event read (`numbered`; events opened by an
    account that is not a known auction are not read); every event numbered below
    first_open_loss is done (the stability pool's exposure rule relies on it)."""
    bad: list[str] = []
    count, first = state["backstop.loss_count"], state["backstop.first_open_loss"]
    if not 1 <= first <= count + 1:
        bad.append(f"backstop: first_open_loss {first} outside 1..{count + 1}")
    if any(not 1 <= number <= count for number in numbered):
        bad.append(f"backstop: loss numbers {sorted(numbered)} outside 1..{count}")
    previous = 0
    for number in range(1, count + 1):
        opened_at = state[f"backstop.loss_opened_at[{number}]"]
        done = state[f"backstop.loss_done[{number}]"]
        if number in numbered and numbered[number] != (opened_at, done):
            bad.append(f"backstop: numbered loss {number} disagrees with its event")
        if opened_at < previous:
            bad.append(f"backstop: loss {number} opened before loss {number - 1}")
        previous = opened_at
        if number < first and not done:
            bad.append(f"backstop: loss {number} below first_open_loss {first} is not done")
    return bad


def _debt_on_auction(
    state: dict[str, Any], groups: dict[str, list[str]], d: Deployment
) -> list[str]:
    """While live, the Backstop's debt on auction is at most the bids of the running debt
    auctions nobody has bid on (a first bid pays it, `DebtAuction.repay` repays it: issue 63,
    finding 5), exactly those unless an admin started one on the DebtAuction itself; shutdown
    moves all of it to settlement debt."""
    if state["backstop.debt_auction"] != d.debt_auction:
        return []
    unbid = sum(
        state[k][0]
        for k in groups.get("debt_auction.auctions[", ())
        if state[k][4] != 0 and state[k][3] == 0
    )
    on_auction = state["backstop.debt_on_auction"]
    if on_auction > (unbid if state["backstop.live"] else 0):
        return [
            f"backstop: debt_on_auction {on_auction} above the bids of running debt auctions "
            f"without a bid {unbid} (live {state['backstop.live']})"
        ]
    return []


def _waterfall_invariants(
    state: dict[str, Any], groups: dict[str, list[str]], d: Deployment, holders: list[str]
) -> list[str]:
    """The Backstop's loss events, the auctions' escrow and the stability pool's books."""
    bad: list[str] = []
    # the debt auction's count of running auctions (global settlement thaws only at 0) is the
    # number of its auctions with an end; auctions(id) = (bid, lot, winner, bid_expiry, end)
    running = sum(1 for k in groups.get("debt_auction.auctions[", ()) if state[k][4] != 0)
    if running != state["debt_auction.running"]:
        bad.append(
            f"debt auction: running {state['debt_auction.running']} != auctions running {running}"
        )
    bad += _debt_on_auction(state, groups, d)
    open_count = 0
    attributed = 0
    # loss number -> (created_at, done) of every event read
    numbered: dict[int, tuple[int, bool]] = {}
    for name, t in d.types.items():
        escrow = 0
        prefix = f"backstop.losses[{name}]["
        for key, (debt, due, created_at, status) in ((k, state[k]) for k in groups.get(prefix, ())):
            auction_id = int(key[len(prefix) : -1])
            number = state[f"backstop.loss_number[{name}][{auction_id}]"]
            if (status == 0) != (number == 0) or number in numbered:
                bad.append(f"backstop: loss {name}/{auction_id} status {status} number {number}")
            elif number:
                numbered[number] = (created_at, status == 3)
            running = state[f"auction[{name}].auctions[{auction_id}]"][3] != ZERO
            if running != (status == 1):
                bad.append(
                    f"backstop: loss {name}/{auction_id} status {status} but auction "
                    f"running={running}"
                )
            if status in (1, 2):
                open_count += 1
            if status == 1:
                attributed += debt
                # a running auction's escrow: what it raised so far = to_raise - debt still to raise
                escrow += due - state[f"auction[{name}].auctions[{auction_id}]"][1]
            elif status == 2:
                attributed += due
                if not 0 < due <= debt:
                    bad.append(
                        f"backstop: loss {name}/{auction_id} due {due} not in (0, debt {debt}]"
                    )
            elif status == 3 and due != 0:
                bad.append(f"backstop: loss {name}/{auction_id} done with {due} due")
        if escrow != state[f"engine.stable[{t.auction}]"]:
            bad.append(
                f"auction {name}: escrow {state[f'engine.stable[{t.auction}]']} != raised by "
                f"running auctions {escrow}"
            )
    bad += _loss_numbering(state, numbered)
    if open_count != state["backstop.open_losses"]:
        bad.append(
            f"backstop: open_losses {state['backstop.open_losses']} != open events {open_count}"
        )
    # the unsettled proceeds stay attributed until `heal` cancels them; the Backstop holds them
    unsettled = state["backstop.unsettled_proceeds"]
    attributed += unsettled
    if attributed != state["backstop.attributed_debt"]:
        bad.append(
            f"backstop: attributed_debt {state['backstop.attributed_debt']} != events' "
            f"{attributed - unsettled} + unsettled proceeds {unsettled}"
        )
    if unsettled > state[f"engine.stable[{d.backstop}]"]:
        bad.append(f"backstop: unsettled proceeds {unsettled} above its stablecoin")
    owed = (
        state["backstop.attributed_debt"]
        + state["backstop.debt_to_auction"]
        + state["backstop.debt_on_auction"]
        + state["backstop.deleverage_total"]
    )
    if owed > state[f"engine.bad_debt[{d.backstop}]"]:
        bad.append(f"backstop: attributed + debt auctions + deleveraging {owed} above its bad debt")
    # the loss due for deleveraging, per type, adds up to the total (both 0 after shutdown)
    due = sum(state[f"backstop.deleverage_due[{name}]"] for name in d.types)
    if due != state["backstop.deleverage_total"]:
        bad.append(
            f"backstop: deleverage_due over the types {due} != deleverage_total "
            f"{state['backstop.deleverage_total']}"
        )
    # the stability pool (stablecoin sent to it outside stakes and reported income is nobody's)
    if (
        state["pool.assets"]
        > state[f"engine.stable[{d.stability_pool}]"] - state["pool.pending_total"]
    ):
        bad.append("pool: assets above stable balance - pending")
    accounts = [h for h in holders if f"pool.shares[{h}]" in state]
    if sum(state[f"pool.shares[{h}]"] for h in accounts) != state["pool.total_shares"]:
        bad.append("pool: shares do not add up to total_shares")
    if sum(state[f"pool.pending[{h}]"] for h in accounts) != state["pool.pending_total"]:
        bad.append("pool: pending does not add up to pending_total")
    if sum(1 for h in accounts if state[f"pool.shares[{h}]"]) != state["pool.staker_count"]:
        bad.append("pool: staker_count != stakers with shares")
    if sum(state[f"pool.value_of[{h}]"] for h in accounts) > state["pool.assets"]:
        bad.append("pool: stakers' values exceed its assets")
    charges = groups.get("pool.charge_amount[", [])
    for key in charges:
        c = key[len("pool.charge_amount[") : -1]
        amount, attributed_c = state[key], state[f"pool.charge_attributed[{c}]"]
        left = state[f"pool.charge_stakers_left[{c}]"]
        if attributed_c > amount or (left == 0 and attributed_c != amount):
            bad.append(
                f"pool: charge {c} attributed {attributed_c} of {amount} with {left} stakers left"
            )
    return bad


def loss_conservation(
    events: list[Any],
    backstop: str,
    pool: str,
    due: dict[tuple, int] | None = None,
    charges_done: dict[int, int] | None = None,
) -> list[str]:
    """Conservation per loss event and per pool charge, from the logs of a whole run: each
    event's receipts (LossAllocated) never exceed its loss (LossClosed.loss) and, given what is
    still `due` per event, add up to loss - due exactly; the pool layer's receipts equal its
    Absorbed amounts; each pool charge's stakers' receipts (StakerCharged) never exceed it and,
    for the charges every staker has realized (`charges_done`: charge -> amount), equal it."""
    ledger = LossLedger(backstop, pool)
    ledger.follow(events)
    return ledger.problems(due, charges_done)


class LossLedger:
    """`loss_conservation`'s sums kept over a log that only grows (a model's `env.logs`: a
    reverted transaction removes only its own events, before anyone reads them), so that a check
    after every step adds the step's events instead of summing the whole run again. `follow`
    takes the events appended since its last call (all of them again for another list, or a
    shorter one); `problems` is `loss_conservation`'s answer for every event followed."""

    def __init__(self, backstop: str, pool: str):
        self.backstop, self.pool = backstop, pool
        self._reset(None)

    def _reset(self, events: list[Any] | None) -> None:
        self._events, self._seen = events, 0
        self.loss: dict[tuple, int] = {}
        self.paid: dict[tuple, int] = {}
        self.charged: dict[int, int] = {}
        self.absorbed: dict[int, int] = {}
        self.pool_paid: dict[tuple, int] = {}
        # receipts beyond their event's loss when they arrived, in the log's order
        self.over: list[str] = []

    def follow(self, events: list[Any]) -> None:
        if events is not self._events or len(events) < self._seen:
            self._reset(events)
        backstop, pool = self.backstop, self.pool
        loss, paid, pool_paid = self.loss, self.paid, self.pool_paid
        for ev in events[self._seen :]:
            if ev.address == backstop and ev.name == "LossClosed":
                key = (ev.args["collateral_type"], ev.args["auction"], ev.args["auction_id"])
                loss[key] = ev.args["loss"]
            elif ev.address == backstop and ev.name == "LossAllocated":
                key = (ev.args["collateral_type"], ev.args["auction"], ev.args["auction_id"])
                paid[key] = paid.get(key, 0) + ev.args["amount"]
                if ev.args["layer"] == 2:
                    pool_paid[key] = pool_paid.get(key, 0) + ev.args["amount"]
                if paid[key] > loss.get(key, 0):
                    self.over.append(
                        f"loss {key}: receipts {paid[key]} exceed the loss {loss.get(key, 0)}"
                    )
            elif ev.address == pool and ev.name == "Absorbed":
                self.absorbed[ev.args["charge_id"]] = ev.args["amount"]
                key = (ev.args["collateral_type"], ev.args["auction"], ev.args["auction_id"])
                pool_paid[key] = pool_paid.get(key, 0) - ev.args["amount"]
            elif ev.address == pool and ev.name == "StakerCharged":
                charge = ev.args["charge_id"]
                self.charged[charge] = self.charged.get(charge, 0) + ev.args["amount"]
        self._seen = len(events)

    def problems(
        self, due: dict[tuple, int] | None = None, charges_done: dict[int, int] | None = None
    ) -> list[str]:
        loss, paid, charged, absorbed = self.loss, self.paid, self.charged, self.absorbed
        bad = list(self.over)
        for key, amount in self.pool_paid.items():
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
                    f"loss {key}: loss - receipts {loss[key] - paid.get(key, 0)} != still due "
                    f"{rest}"
                )
        for charge, amount in (charges_done or {}).items():
            if charged.get(charge, 0) != amount:
                bad.append(
                    f"pool charge {charge}: stakers paid {charged.get(charge, 0)} != absorbed "
                    f"{amount}"
                )
        return bad


def key_groups(state: dict[str, Any]) -> dict[str, list[str]]:
    """The keys of a state read grouped by what precedes their last index ("auction[ETH-A]
    .auctions[" for "auction[ETH-A].auctions[3]"), so that the checks that go over every entry
    of a mapping find them without scanning the whole state each time."""
    groups: dict[str, list[str]] = {}
    for key in state:
        cut = key.rfind("[")
        if cut >= 0:
            groups.setdefault(key[: cut + 1], []).append(key)
    return groups


def _running(state: dict[str, Any], groups: dict[str, list[str]], name: str) -> list[int]:
    """Ids of the running auctions of a type (a running auction has an owner)."""
    prefix = f"auction[{name}].auctions["
    return [int(k[len(prefix) : -1]) for k in groups.get(prefix, ()) if state[k][3] != ZERO]


def model_invariants(
    model: ModelBackend, d: Deployment, ledger: LossLedger | None = None
) -> list[str]:
    """I1-I5 over the model's complete storage (every account it ever touched), and loss
    conservation over every event it logged (through `ledger`, kept between calls, when given:
    the same answer, the new events only added)."""
    engine = model.contract(d.engine)
    bad: list[str] = []
    if engine.total_issued != sum(engine.stable.values()):
        bad.append("model I1: total_issued != sum(stable)")
    if engine.total_unbacked != sum(engine.bad_debt.values()):
        bad.append("model I2: total_unbacked != sum(bad_debt)")
    backed = 0
    for name, t in d.types.items():
        ctype = engine.collateral_types[t.type_id]
        backed += ctype.normalized_debt * ctype.rate
        vaults = [v for (tid, _), v in engine.vaults.items() if tid == t.type_id]
        if ctype.normalized_debt != sum(v.normalized_debt for v in vaults):
            bad.append(f"model I4 {name}")
        free = sum(v for (tid, _), v in engine.collateral.items() if tid == t.type_id)
        token = model.contract(t.token)
        if sum(v.collateral for v in vaults) + free != token.balance_of[t.join] * 10 ** (
            18 - t.config.token_decimals
        ):
            bad.append(f"model I5 {name}")
        if engine.collateral_types[t.type_id].rate == 0:
            bad.append(f"model: rate of {name} is zero")
    if engine.total_issued != engine.total_unbacked + backed:
        bad.append("model I3: total_issued != unbacked + sum(debt * rate)")
    # loss conservation over every event the model ever logged
    due = {key: loss.due for key, loss in model.contract(d.backstop).losses.items()}
    pool = model.contract(d.stability_pool)
    done = {
        c: pool.charge_amount[c]
        for c in range(1, pool.charge_count + 1)
        if pool.charge_stakers_left[c] == 0
    }
    if ledger is None:
        ledger = LossLedger(d.backstop, d.stability_pool)
    ledger.follow(model.env.logs)
    bad += [f"model {p}" for p in ledger.problems(due, done)]
    return bad
