"""Liquidator and Backstop: every external function, on chain and in the model at once.

A liquidation moves value three ways at once: the vault's collateral to its type's DutchAuction,
the vault's debt to the Backstop (as bad debt, recorded as a running loss event of that auction:
`open_loss`), and a keeper reward to the keeper (new stablecoin, backed by more bad debt of the
Backstop that belongs to no event: unattributed). Takes that do not finish the auction pay into
it (escrow); the take that finishes it pays the Backstop directly, and the auction closes its
event (`close_loss`): the Backstop pulls the escrowed rest of the proceeds, settles the seized
debt with them up to its amount, keeps the rest (penalty) as surplus and records what they did
not cover as the event's loss. `settle` cancels only unattributed bad debt against surplus.
(What covers an event's loss, `cover` and its layers, is tested elsewhere.) Every expected number
below is written from the contracts' docstrings (seized debt = room / rate / penalty rounded down,
seized collateral and debt to raise rounded up, reward = flat + rate x debt rounded down), and the
harness checks chain against model after every transaction and the invariants at the end.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_utils import keccak
from helpers import ceil_div, heal, storage_slot

from offchain.model.backstop import FUND
from offchain.model.fixed_point import MAX_UINT256, PENALTY_STEP, RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS, Role
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices, reverts

# config/devnet.toml, both types
PENALTY = 113 * WAD // 100  # liquidation penalty 1.13 [wad]
DUST = 2_500 * RAD
REWARD_FLAT = 300 * RAD
REWARD_RATE = WAD // 1000  # 0.1% [wad]
TYPE_CAP_ETH = 10_000_000 * RAD
GLOBAL_CAP = 20_000_000 * RAD
BUFFER = 12 * RAY // 10
ORACLE_MAX_AGE = 10_800
QUEUE_DELAY = 3_600
# contracts/Liquidator.vy
MAX_PENALTY = 2 * WAD
MAX_BATCH = 100
# a type id nobody knows
NEW_TYPE = b"NEW-A".ljust(32, b"\0")
# the market price of ETH after the crash most tests use [wad]: 1,900 BUSD
CRASH_PRICE = 1_900 * WAD
# contracts/Backstop.vy: the status of a loss event, and the bound on its debt
RUNNING, CLOSED, DONE = 1, 2, 3
DEBT_LIMIT = 2**192


# ---------------------------------------------------------------- reading (chain == model)


def _ctype(system, t):
    on_chain = system.view(system.d.engine, "collateral_types", t.type_id)
    in_model = system.engine().collateral_types[t.type_id]
    assert on_chain == tuple(in_model)
    return in_model


def _vault(system, t, owner) -> tuple[int, int]:
    """(collateral [wad], normalized debt [wad]) of `owner`'s vault."""
    on_chain = system.view(system.d.engine, "vaults", t.type_id, owner)
    in_model = tuple(system.engine().vaults[(t.type_id, owner)])
    assert on_chain == in_model
    return on_chain


def _free_collateral(system, t, who) -> int:
    on_chain = system.view(system.d.engine, "collateral", t.type_id, who)
    assert on_chain == system.engine().collateral[(t.type_id, who)]
    return on_chain


def _stable(system, who) -> int:
    on_chain = system.view(system.d.engine, "stable", who)
    assert on_chain == system.engine().stable[who]
    return on_chain


def _bad_debt(system, who) -> int:
    on_chain = system.view(system.d.engine, "bad_debt", who)
    assert on_chain == system.engine().bad_debt[who]
    return on_chain


def _engine_totals(system) -> tuple[int, int]:
    """(total_issued, total_unbacked) [rad]."""
    e = system.d.engine
    on_chain = (system.view(e, "total_issued"), system.view(e, "total_unbacked"))
    model = system.engine()
    assert on_chain == (model.total_issued, model.total_unbacked)
    return on_chain


def _liquidator(system, name: str):
    on_chain = system.view(system.d.liquidator, name)
    assert on_chain == getattr(system.contract(system.d.liquidator), name)
    return on_chain


def _type_config(system, t):
    """Liquidator.types(type): (auction, penalty, max_debt_in_auction, debt_in_auction)."""
    on_chain = system.view(system.d.liquidator, "types", t.type_id)
    in_model = system.contract(system.d.liquidator).types[t.type_id]
    assert on_chain == tuple(in_model)
    return in_model


def _authorized(system, address, who) -> bool:
    on_chain = system.view(address, "authorized", who)
    assert on_chain == system.contract(address).authorized[who]
    return on_chain


def _roles(system, address, who) -> Role:
    """The role bits `who` holds on `address`; checks it is no admin there (least privilege)."""
    on_chain = system.view(address, "roles", who)
    assert on_chain == system.contract(address).roles[who]
    assert system.view(address, "authorized", who) is False
    assert system.contract(address).authorized[who] is False
    return Role(on_chain)


def _backstop(system, name: str, *args) -> Any:
    """A Backstop getter or view on chain, checked equal to the model's attribute, mapping or
    view."""
    on_chain = system.view(system.d.backstop, name, *args)
    value = getattr(system.contract(system.d.backstop), name)
    if callable(value):
        in_model = value(*args)
    elif args:
        in_model = value[args[0] if len(args) == 1 else tuple(args)]
    else:
        in_model = value
    if isinstance(in_model, (tuple, list)):
        on_chain, in_model = tuple(on_chain), tuple(in_model)
    assert on_chain == in_model
    return on_chain


def _unattributed_debt(system) -> int:
    """The Backstop's bad debt that belongs to no open loss event (keeper rewards) [rad]."""
    return _backstop(system, "unattributed_debt")


def _loss(system, t, auction_id, auction=None) -> tuple:
    """Backstop.losses(type, auction, id): (debt, due, created_at, status)."""
    return _backstop(system, "losses", t.type_id, auction or t.auction, auction_id)


def _event(system, name: str) -> dict:
    """The arguments of the only event called `name` in the last transaction."""
    found = [args for _, n, args in _events(system) if n == name]
    assert len(found) == 1, f"{len(found)} {name} events"
    return found[0]


def _auction(system, t, auction_id):
    """DutchAuction.auctions(id): (position, debt, lot, owner, started, top, reward_budget)."""
    on_chain = system.view(t.auction, "auctions", auction_id)
    in_model = system.contract(t.auction).auctions[auction_id]
    assert on_chain == tuple(in_model)
    return in_model


def _auction_var(system, t, name: str):
    on_chain = system.view(t.auction, name)
    in_model = getattr(system.contract(t.auction), name)
    value = in_model() if callable(in_model) else in_model
    assert on_chain == (tuple(value) if isinstance(value, list) else value)
    return on_chain


def _returns(system, address, function, sender, *args):
    """What `function` returns if `sender` sends it now: eth_call on chain, and the model run on a
    throw-away copy; both must agree (Lockstep.transact drops return values)."""
    tx, fn = system.chain.call_data(address, function, *args)
    raw = system.chain.rpc("eth_call", [{**tx, "from": sender}, "latest"])
    (on_chain,) = abi_decode(fn.outputs, bytes.fromhex(raw[2:]))
    in_model = copy.deepcopy(system.model).transact(address, function, sender, *args)
    assert on_chain == in_model
    return on_chain


# ---------------------------------------------------------------- independent arithmetic


def _to_raise(debt: int, penalty: int = PENALTY) -> int:
    """Debt to raise [rad]: debt x penalty, rounded up."""
    return ceil_div(debt * penalty, WAD)


def _reward_limit(to_raise: int) -> int:
    """Half the penalty part of the debt to raise (to_raise - to_raise / 1.13, the quotient rounded
    up; the half rounded down): the most an auction pays in keeper rewards [rad]."""
    return (to_raise - ceil_div(to_raise * WAD, PENALTY)) * (WAD // 2) // WAD


def _reward(to_raise: int) -> int:
    """The devnet keeper reward: 300 BUSD + 0.1% of the debt to raise, rounded down [rad], at most
    half the penalty part of the debt to raise."""
    return min(REWARD_FLAT + to_raise * REWARD_RATE // WAD, _reward_limit(to_raise))


def _small_dust(system) -> None:
    """Governance lowers the ETH dust to 100 BUSD (the devnet's is set from gas economics) so a
    test can open the small vaults it needs; min_auction follows."""
    t = system.eth
    system.tx(system.d.engine, "set_dust", system.roles.governance, t.type_id, 100 * RAD)


def _safe_price(price: int, ratio: int) -> int:
    """The spotter's safe price [ray] for a market price [wad] and liquidation ratio [ray]."""
    return price * 10**9 * RAY // ratio


# ---------------------------------------------------------------- acting


def _crash(system, t, price: int) -> None:
    """The feeder posts `price` [wad]; two oracle pokes a delay apart make it current, and the
    spotter writes the new safe price to the engine."""
    move_prices(system, [(t, price)])
    ratio = system.contract(system.d.spotter).liquidation_ratios[t.type_id]
    assert _ctype(system, t).safe_price == _safe_price(price, ratio)


def _unsafe_eth_vault(
    system, owner=None, collateral: int = 10 * WAD, debt: int = 13_000 * WAD
) -> None:
    """`owner` (the borrower) locks 10 ETH and draws 13,000 BUSD (safe at 2,000: 13,333 of safe
    value); the price then falls to 1,900 (12,667 of safe value): the vault is unsafe."""
    system.open_vault(owner or system.roles.borrower, "ETH-A", collateral, debt)
    _crash(system, system.eth, CRASH_PRICE)


def _liquidate(system, owner, sender=None, keeper=None, t=None) -> None:
    sender = sender or system.roles.keeper
    t = t or system.eth
    system.tx(system.d.liquidator, "liquidate", sender, t.type_id, owner, keeper or sender)


def _set_global_cap(system, amount: int) -> None:
    system.tx(system.d.liquidator, "set_max_debt_in_auction", system.roles.governance, amount)


def _set_type_cap(system, t, amount: int, penalty: int = PENALTY) -> None:
    system.tx(
        system.d.liquidator,
        "configure_type",
        system.roles.governance,
        t.type_id,
        t.auction,
        penalty,
        amount,
    )


def _set_cap(system, which: str, amount: int) -> None:
    if which == "global":
        _set_global_cap(system, amount)
    else:
        _set_type_cap(system, system.eth, amount)


def _borrow_stable(system, who, debt: int = 20_000 * WAD) -> None:
    """`who` locks 30 ETH and draws `debt` of stablecoin (safe even after the crash), and allows
    the ETH auction to take payment from its balance."""
    system.open_vault(who, "ETH-A", 30 * WAD, debt)
    system.tx(system.d.engine, "allow", who, system.eth.auction)


def _seized(room: int, rate: int, penalty: int = PENALTY) -> int:
    """Normalized debt a room [rad] allows: room / rate / penalty, rounded down [wad]."""
    return room * WAD // rate // penalty


# ================================================================ Liquidator: administration


def test_deployment__liquidator_wired_as_configured(system):
    """Money flow: none. The devnet values every test below relies on."""
    t = system.eth
    assert system.view(system.d.liquidator, "engine") == system.d.engine
    assert system.view(system.d.liquidator, "backstop") == system.d.backstop
    assert system.view(system.d.backstop, "engine") == system.d.engine
    assert _liquidator(system, "live") is True
    assert _liquidator(system, "max_debt_in_auction") == GLOBAL_CAP
    assert _liquidator(system, "debt_in_auction") == 0
    assert tuple(_type_config(system, t)) == (t.auction, PENALTY, TYPE_CAP_ETH, 0)
    assert _type_config(system, system.btc).max_debt_in_auction == 5_000_000 * RAD
    assert _ctype(system, t).dust == DUST
    assert _auction_var(system, t, "min_auction") == DUST * PENALTY // WAD == 2_825 * RAD
    assert _auction_var(system, t, "reward_flat") == REWARD_FLAT
    assert _auction_var(system, t, "reward_rate") == REWARD_RATE
    assert _backstop(system, "queue_delay") == QUEUE_DELAY
    assert _roles(system, system.d.backstop, system.d.liquidator) == Role.OPEN_LOSS
    # the auction closes its loss events
    assert _roles(system, system.d.backstop, t.auction) == Role.CLOSE_LOSS
    assert _backstop(system, "open_losses") == _backstop(system, "attributed_debt") == 0
    assert _unattributed_debt(system) == 0
    assert _roles(system, system.d.liquidator, t.auction) == Role.DEBT_IN_AUCTION
    assert _roles(system, t.auction, system.d.liquidator) == Role.START
    assert _stable(system, system.d.backstop) == 0
    assert _bad_debt(system, system.d.backstop) == 0


def test_liquidator_add_authority__lets_account_configure(system):
    r, liq = system.roles, system.d.liquidator
    assert not _authorized(system, liq, r.other)
    system.tx(liq, "add_authority", r.governance, r.other)
    assert _events(system) == [(liq, "AuthorityAdded", {"account": r.other})]
    assert _authorized(system, liq, r.other)
    system.tx(liq, "set_max_debt_in_auction", r.other, 7 * RAD)
    assert _liquidator(system, "max_debt_in_auction") == 7 * RAD


def test_liquidator_remove_authority__locks_account_out(system):
    r, liq = system.roles, system.d.liquidator
    system.tx(liq, "add_authority", r.governance, r.other)
    system.tx(liq, "remove_authority", r.governance, r.other)
    assert _events(system) == [(liq, "AuthorityRemoved", {"account": r.other})]
    assert not _authorized(system, liq, r.other)
    assert _authorized(system, liq, r.governance)
    with reverts("authorized: not authorized"):
        system.tx(liq, "set_max_debt_in_auction", r.other, 7 * RAD)


LIQUIDATOR_PRIVILEGED = {
    "add_authority": lambda s: (s.roles.stranger,),
    "remove_authority": lambda s: (s.roles.governance,),
    "set_max_debt_in_auction": lambda s: (0,),
    "configure_type": lambda s: (s.eth.type_id, s.roles.stranger, MAX_PENALTY, MAX_UINT256),
    "shutdown": lambda s: (),
    "remove_debt_in_auction": lambda s: (s.eth.type_id, 0),
}


@pytest.mark.parametrize("function", sorted(LIQUIDATOR_PRIVILEGED))
def test_liquidator_privileged_function__called_by_stranger__reverts_not_authorized(
    system, function
):
    args = LIQUIDATOR_PRIVILEGED[function](system)
    with reverts("authorized: not authorized"):
        system.tx(system.d.liquidator, function, system.roles.stranger, *args)


def test_set_max_debt_in_auction__stores_cap_and_logs(system):
    r, liq = system.roles, system.d.liquidator
    system.tx(liq, "set_max_debt_in_auction", r.governance, 12_345 * RAD + 6)
    assert _events(system) == [(liq, "MaxDebtInAuctionSet", {"amount": 12_345 * RAD + 6})]
    assert _liquidator(system, "max_debt_in_auction") == 12_345 * RAD + 6
    # the type's own cap is untouched
    assert _type_config(system, system.eth).max_debt_in_auction == TYPE_CAP_ETH


def test_configure_type__sets_auction_penalty_and_cap_keeps_debt_in_auction(system):
    """Money flow: none by itself; reconfiguring a type mid-auction keeps the debt it has in
    auction (a running auction still reports against it)."""
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    in_auction = _type_config(system, t).debt_in_auction
    assert in_auction > 0

    # another ETH-A auction contract (configure_type requires the auction's own type to match)
    other = system.lockstep.deploy(
        "DutchAuction", r.governance, system.d.engine, t.type_id, liq, system.d.backstop, t.oracle
    )
    system.tx(liq, "configure_type", r.governance, t.type_id, other, 12 * WAD // 10, 777 * RAD)
    assert _events(system) == [
        (
            liq,
            "TypeConfigured",
            {
                "collateral_type": t.type_id,
                "auction": other,
                "penalty": 12 * WAD // 10,
                "max_debt_in_auction": 777 * RAD,
            },
        ),
    ]
    assert tuple(_type_config(system, t)) == (other, 12 * WAD // 10, 777 * RAD, in_auction)
    assert _liquidator(system, "debt_in_auction") == in_auction
    # put the real auction back, so the running auction's books still balance
    _set_type_cap(system, t, TYPE_CAP_ETH)
    assert tuple(_type_config(system, t)) == (t.auction, PENALTY, TYPE_CAP_ETH, in_auction)


def test_configure_type__new_type__starts_with_no_debt_in_auction(system):
    r, liq = system.roles, system.d.liquidator
    auction = system.lockstep.deploy(
        "DutchAuction",
        r.governance,
        system.d.engine,
        NEW_TYPE,
        liq,
        system.d.backstop,
        system.eth.oracle,
    )
    system.tx(liq, "configure_type", r.governance, NEW_TYPE, auction, WAD, 5 * RAD)
    assert system.view(liq, "types", NEW_TYPE) == (auction, WAD, 5 * RAD, 0)
    assert tuple(system.contract(liq).types[NEW_TYPE]) == (auction, WAD, 5 * RAD, 0)


@pytest.mark.parametrize("penalty", [WAD, MAX_PENALTY])
def test_configure_type__penalty_bounds__accepted(system, penalty):
    _set_type_cap(system, system.eth, TYPE_CAP_ETH, penalty)
    assert _type_config(system, system.eth).penalty == penalty


@pytest.mark.parametrize("penalty", [WAD, 12 * WAD // 10 + PENALTY_STEP, MAX_PENALTY])
def test_penalty_view__is_the_type_records_penalty_on_chain_and_in_model(system, penalty):
    """The auctions' reward bound reads the penalty through this view (one storage word): it is
    the type record's penalty after every configuration, and 0 for an unknown type."""
    liq = system.d.liquidator
    _set_type_cap(system, system.eth, TYPE_CAP_ETH, penalty)
    for type_id, expected in ((system.eth.type_id, penalty), (NEW_TYPE, 0)):
        assert system.view(liq, "penalty", type_id) == expected
        assert system.contract(liq).penalty(type_id) == expected
        assert system.view(liq, "types", type_id)[1] == expected


@pytest.mark.parametrize(
    ("auction", "penalty", "reason"),
    [
        (ZERO_ADDRESS, PENALTY, "liquidator: zero auction"),
        (None, WAD - 1, "liquidator: penalty below 1"),
        (None, 0, "liquidator: penalty below 1"),
        (None, MAX_PENALTY + 1, "liquidator: penalty above 2"),
        (None, 12 * WAD // 10 + 1, "liquidator: penalty not a multiple of 1e-7"),
        (None, WAD + PENALTY_STEP // 2, "liquidator: penalty not a multiple of 1e-7"),
    ],
)
def test_configure_type__invalid__reverts_with_reason(system, auction, penalty, reason):
    t = system.eth
    with reverts(reason):
        system.tx(
            system.d.liquidator,
            "configure_type",
            system.roles.governance,
            t.type_id,
            t.auction if auction is None else auction,
            penalty,
            TYPE_CAP_ETH,
        )
    assert tuple(_type_config(system, t)) == (t.auction, PENALTY, TYPE_CAP_ETH, 0)


def test_shutdown__stops_new_liquidations_but_running_auctions_still_settle(system):
    """Money flow: after shutdown no vault can be seized; a taker still buys a running auction's
    collateral, paying the whole debt to raise to the Backstop (the take finishes the auction);
    the auction still reports its debt raised and closes its loss event: the Backstop keeps the
    penalty (to raise - seized debt) as surplus."""
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _borrow_stable(system, r.other)
    system.open_vault(r.feeder, "ETH-A", 2 * WAD, 2_600 * WAD)
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)

    system.tx(liq, "shutdown", r.governance)
    assert _events(system) == [(liq, "Shutdown", {"caller": r.governance})]
    assert _liquidator(system, "live") is False
    with reverts("liquidator: not live"):
        _liquidate(system, r.feeder)
    with reverts("liquidator: not live"):
        system.tx(liq, "liquidate_many", r.keeper, t.type_id, [r.feeder], r.keeper)
    assert _vault(system, t, r.feeder) == (2 * WAD, 2_600 * WAD)
    # live shares a word with the cap on all debt in auction: a new cap keeps it false
    system.tx(liq, "set_max_debt_in_auction", r.governance, 123 * RAD)
    assert _liquidator(system, "live") is False
    assert _liquidator(system, "max_debt_in_auction") == 123 * RAD
    with reverts("liquidator: not live"):
        _liquidate(system, r.feeder)

    debt = _auction(system, t, 1).debt
    seized = 13_000 * WAD * _ctype(system, t).rate
    system.tx(t.auction, "take", r.other, 1, 10 * WAD, 2_280 * RAY, r.other, b"")
    assert _event(system, "StableTransferred") == {
        "src": r.other,
        "dst": system.d.backstop,
        "amount": debt,
    }
    assert _event(system, "LossClosed")["covered"] == seized
    assert _stable(system, system.d.backstop) == debt
    heal(system, seized)  # after shutdown too
    assert _stable(system, system.d.backstop) == debt - seized
    assert _stable(system, t.auction) == 0
    assert _loss(system, t, 1)[3] == DONE
    assert _liquidator(system, "debt_in_auction") == 0
    assert _auction_var(system, t, "active_count") == 0


def _word(system, address: str, slot: int) -> int:
    return int(system.chain.rpc("eth_getStorageAt", [address, hex(slot), "latest"]), 16)


def _mapping_slot(slot: int, key: bytes) -> int:
    """A HashMap entry's slot as Vyper lays it out: keccak(slot . key)."""
    return int.from_bytes(keccak(slot.to_bytes(32, "big") + key.rjust(32, b"\0")), "big")


def _counter_words(system) -> dict[str, int]:
    """The raw storage words of the counters that come back to zero, read from the chain."""
    t, d = system.eth, system.d
    free = storage_slot("DutchAuction", "free")
    eth_slots = _mapping_slot(storage_slot("Liquidator", "type_slots"), t.type_id)
    return {
        "liquidator.debt_in_auction": _word(
            system, d.liquidator, storage_slot("Liquidator", "debt_in_auction_word")
        ),
        # TypeSlots' third word
        "liquidator.type_debt_in_auction": _word(system, d.liquidator, eth_slots + 2),
        "backstop.loss_totals": _word(system, d.backstop, storage_slot("Backstop", "loss_totals")),
        "backstop.attributed": _word(
            system, d.backstop, storage_slot("Backstop", "attributed_word")
        ),
        "backstop.loss_numbers": _word(
            system, d.backstop, storage_slot("Backstop", "loss_numbers")
        ),
        "backstop.numbered_losses_0": _word(
            system,
            d.backstop,
            _mapping_slot(storage_slot("Backstop", "numbered_losses"), bytes(32)),
        ),
        "engine.total_unbacked": _word(
            system, d.engine, storage_slot("VaultEngine", "total_unbacked_word")
        ),
        **{f"auction.free_{w}": _word(system, t.auction, free + w) for w in range(4)},
    }


def _counters_as_stored(system) -> dict[str, int]:
    """What `_counter_words` must read, from the views (chain == model): each count with its
    slot's set bit, the free-slot bitmap from the running ids."""
    t = system.eth
    running = [0, 0, 0, 0]
    for auction_id in _auction_var(system, t, "active_auctions"):
        slot = (auction_id - 1) % 1024
        running[slot // 256] |= 1 << (slot % 256)
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
        **{f"auction.free_{w}": (2**256 - 1) ^ running[w] for w in range(4)},
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


# ================================================================ liquidate


def test_liquidate__unsafe_vault__seizes_all_opens_loss_event_and_pays_keeper(system):
    """Money flow: the borrower's 10 ETH go to the auction and its 13,000 BUSD of debt (x rate)
    to the Backstop's bad debt, all of it attributed to the loss event the liquidator opens for
    auction 1 once it has started; the auction must raise debt x 1.13 (rounded up); the keeper is
    paid 300 + 0.1% of that in new stablecoin, which is more bad debt of the Backstop, belonging
    to no event (unattributed: settleable against surplus at once)."""
    r, t, e = system.roles, system.eth, system.d.engine
    _unsafe_eth_vault(system)
    rate = _ctype(system, t).rate
    issued, unbacked = _engine_totals(system)
    keeper_stable = _stable(system, r.keeper)

    assert (
        _returns(
            system, system.d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper
        )
        == 1
    )
    _liquidate(system, r.borrower)
    now = system.now
    debt = 13_000 * WAD * rate
    to_raise = _to_raise(debt)
    reward = _reward(to_raise)
    top = 2_280 * RAY  # 1,900 x buffer 1.2
    assert rate > RAY and reward == 300 * RAD + to_raise // 1000

    assert _events(system) == [
        (
            e,
            "VaultSeized",
            {
                "collateral_type": t.type_id,
                "owner": r.borrower,
                "collateral_dst": t.auction,
                "debt_dst": system.d.backstop,
                "delta_collateral": -10 * WAD,
                "delta_normalized_debt": -13_000 * WAD,
            },
        ),
        (
            e,
            "UnbackedCreated",
            {"debt_dst": system.d.backstop, "stable_dst": r.keeper, "amount": reward},
        ),
        (
            t.auction,
            "Started",
            {
                "auction_id": 1,
                "top": top,
                "debt": to_raise,
                "lot": 10 * WAD,
                "owner": r.borrower,
                "keeper": r.keeper,
                "reward": reward,
            },
        ),
        (
            system.d.backstop,
            "LossOpened",
            {
                "collateral_type": t.type_id,
                "auction": t.auction,
                "auction_id": 1,
                "debt": debt,
                "to_raise": to_raise,
            },
        ),
        (
            system.d.liquidator,
            "Liquidated",
            {
                "collateral_type": t.type_id,
                "owner": r.borrower,
                "collateral": 10 * WAD,
                "normalized_debt": 13_000 * WAD,
                "debt": debt,
                "auction": t.auction,
                "auction_id": 1,
            },
        ),
    ]
    # the vault is empty; the collateral is the auction's lot
    assert _vault(system, t, r.borrower) == (0, 0)
    assert _free_collateral(system, t, t.auction) == 10 * WAD
    # the reward budget left for resets: half the penalty income at the start less the reward,
    # stored in whole units of 2**144 rad (rounded down)
    budget = (_reward_limit(to_raise) - reward) // 2**144 * 2**144
    assert tuple(_auction(system, t, 1)) == (0, to_raise, 10 * WAD, r.borrower, now, top, budget)
    assert _auction_var(system, t, "active_auctions") == (1,)
    assert _auction_var(system, t, "next_id") == 2
    # the debt is the Backstop's, attributed to the running event; the reward is bad debt too, of
    # no event
    assert _bad_debt(system, system.d.backstop) == debt + reward
    assert _loss(system, t, 1) == (debt, to_raise, now, RUNNING)
    assert _backstop(system, "open_losses") == 1
    assert _backstop(system, "attributed_debt") == debt
    assert _unattributed_debt(system) == reward
    assert _stable(system, r.keeper) == keeper_stable + reward
    assert _engine_totals(system) == (issued + reward, unbacked + debt + reward)
    assert _ctype(system, t).normalized_debt == 0
    # the caps count the debt to raise, penalty included
    assert _liquidator(system, "debt_in_auction") == to_raise
    assert _type_config(system, t).debt_in_auction == to_raise


def test_liquidate__called_by_stranger__reward_goes_to_named_keeper(system):
    """Money flow: anyone may liquidate; the reward goes to the `keeper` argument, not the
    caller."""
    r = system.roles
    _unsafe_eth_vault(system)
    stranger, other = _stable(system, r.stranger), _stable(system, r.other)
    _liquidate(system, r.borrower, sender=r.stranger, keeper=r.other)
    reward = _reward(_to_raise(13_000 * WAD * _ctype(system, system.eth).rate))
    assert _stable(system, r.other) == other + reward
    assert _stable(system, r.stranger) == stranger


def test_liquidate__safe_vault__reverts_vault_is_safe(system):
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 13_000 * WAD)  # safe at 2,000
    with reverts("liquidator: vault is safe"):
        _liquidate(system, r.borrower)
    # an empty vault, and a vault with collateral and no debt, are safe too
    with reverts("liquidator: vault is safe"):
        _liquidate(system, r.stranger)
    system.fund(r.other, "ETH-A", WAD)
    system.tx(
        system.d.engine,
        "modify_vault",
        r.other,
        system.eth.type_id,
        r.other,
        r.other,
        r.other,
        WAD,
        0,
    )
    with reverts("liquidator: vault is safe"):
        _liquidate(system, r.other)
    assert _vault(system, system.eth, r.borrower) == (10 * WAD, 13_000 * WAD)


def test_liquidate__safe_boundary__exactly_at_safe_price_is_safe_one_wei_less_is_not(system):
    """Money flow: only the vault one wei of collateral short of collateral x safe_price >=
    debt x rate is seized; the one exactly at it (equality) keeps everything. To reach equality
    exactly, governance sets the liquidation ratio so that the safe price equals the rate: then a
    vault is at the boundary when its collateral equals its normalized debt."""
    r, t = system.roles, system.eth
    _small_dust(system)
    rate = _ctype(system, t).rate
    # a price [wad] and ratio [ray] with price / ratio == rate exactly, after the spotter's floor
    price, ratio = next(
        (p * WAD, p * WAD * 10**9 * RAY // rate)
        for p in range(2, 100)
        if _safe_price(p * WAD, p * WAD * 10**9 * RAY // rate) == rate
    )
    system.open_vault(r.borrower, "ETH-A", 200 * WAD, 200 * WAD)
    system.open_vault(r.other, "ETH-A", 200 * WAD - 1, 200 * WAD)
    system.tx(system.d.spotter, "set_liquidation_ratio", r.governance, t.type_id, ratio)
    _crash(system, t, price)
    assert _ctype(system, t).safe_price == rate
    # the engine agrees: the borrower exactly at the boundary is safe, the other vault is not
    assert system.view(system.d.engine, "is_safe", t.type_id, r.borrower) is True
    assert system.view(system.d.engine, "is_safe", t.type_id, r.other) is False

    with reverts("liquidator: vault is safe"):
        _liquidate(system, r.borrower)
    _liquidate(system, r.other)
    assert _vault(system, t, r.other) == (0, 0)
    assert _vault(system, t, r.borrower) == (200 * WAD, 200 * WAD)


def test_liquidate__no_valid_price__reverts_even_for_an_unsafe_vault(system):
    """A stale oracle makes the spotter write safe price 0 ("no valid price"): nothing can be
    liquidated, and the batch entry point reverts rather than skipping."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 13_000 * WAD)
    system.warp(ORACLE_MAX_AGE + 1)
    system.tx(system.d.spotter, "poke", r.keeper, t.type_id)
    assert _ctype(system, t).safe_price == 0
    with reverts("liquidator: no valid price"):
        _liquidate(system, r.borrower)
    with reverts("liquidator: no valid price"):
        system.tx(
            system.d.liquidator, "liquidate_many", r.keeper, t.type_id, [r.borrower], r.keeper
        )
    assert _vault(system, t, r.borrower) == (10 * WAD, 13_000 * WAD)


def test_liquidate__oracle_stale_after_spot__reverts_in_auction_and_seizes_nothing(system):
    """The engine still holds a safe price but the oracle went stale since: the auction cannot
    price a start, and the whole liquidation (seizure, loss event) is undone."""
    r, t = system.roles, system.eth
    _unsafe_eth_vault(system)
    system.warp(QUEUE_DELAY)  # the crash price was posted 7,200 s ago: now past max age 10,800
    with reverts("auction: invalid price"):
        _liquidate(system, r.borrower)
    assert _vault(system, t, r.borrower) == (10 * WAD, 13_000 * WAD)
    assert _backstop(system, "open_losses") == _backstop(system, "attributed_debt") == 0
    assert _bad_debt(system, system.d.backstop) == 0
    assert _liquidator(system, "debt_in_auction") == 0


def test_liquidate__auction_stopped__reverts_and_seizes_nothing(system):
    r, t = system.roles, system.eth
    _unsafe_eth_vault(system)
    system.tx(t.auction, "set_stopped", r.governance, 1)
    with reverts("auction: stopped"):
        _liquidate(system, r.borrower)
    with reverts("auction: stopped"):
        system.tx(
            system.d.liquidator, "liquidate_many", r.keeper, t.type_id, [r.borrower], r.keeper
        )
    assert _vault(system, t, r.borrower) == (10 * WAD, 13_000 * WAD)
    assert _bad_debt(system, system.d.backstop) == 0


def test_liquidate__type_not_configured__reverts(system):
    r = system.roles
    with reverts("liquidator: type not configured"):
        system.tx(system.d.liquidator, "liquidate", r.keeper, NEW_TYPE, r.borrower, r.keeper)
    with reverts("liquidator: type not configured"):
        system.tx(system.d.liquidator, "liquidate_many", r.keeper, NEW_TYPE, [r.borrower], r.keeper)


@pytest.mark.parametrize("which", ["global", "type"])
def test_liquidate__cap_near__partial_leaves_no_dust(system, which):
    """Money flow: with 5,000 BUSD of room under the cap, only room / rate / penalty of the debt
    (rounded down) and its share of the collateral (rounded up) go to auction; the debt to raise
    stays within the cap and the vault keeps a remainder above dust (still unsafe). A second
    liquidation finds a room worth less than dust and reverts; at the cap it reverts too."""
    r, t = system.roles, system.eth
    _unsafe_eth_vault(system)
    room = 5_000 * RAD
    _set_cap(system, which, room)
    rate = _ctype(system, t).rate
    seized_debt = _seized(room, rate)
    seized_collateral = ceil_div(10 * WAD * seized_debt, 13_000 * WAD)
    to_raise = _to_raise(seized_debt * rate)
    assert seized_debt == 5_000 * RAD * WAD // rate // PENALTY
    assert 4_424 * WAD < seized_debt < 4_425 * WAD

    _liquidate(system, r.borrower)
    liquidated = _events(system)[-1]
    assert liquidated[1] == "Liquidated"
    assert liquidated[2]["normalized_debt"] == seized_debt
    assert liquidated[2]["collateral"] == seized_collateral
    assert liquidated[2]["debt"] == seized_debt * rate
    left_collateral, left_debt = _vault(system, t, r.borrower)
    assert (left_collateral, left_debt) == (
        10 * WAD - seized_collateral,
        13_000 * WAD - seized_debt,
    )
    assert left_debt * rate >= DUST
    assert _auction(system, t, 1).debt == to_raise <= room
    assert _auction(system, t, 1).lot == seized_collateral
    assert _liquidator(system, "debt_in_auction") == to_raise
    assert _type_config(system, t).debt_in_auction == to_raise
    # the event records the part seized, and what its auction must raise
    assert _loss(system, t, 1)[:2] == (seized_debt * rate, to_raise)
    assert _backstop(system, "attributed_debt") == seized_debt * rate

    # the little room left buys less than dust: no dust auction
    assert _seized(room - to_raise, rate) * rate < DUST
    with reverts("liquidator: partial auction below dust"):
        _liquidate(system, r.borrower)
    # and with no room at all, the cap is reached
    _set_cap(system, which, to_raise)
    with reverts("liquidator: debt in auction at cap"):
        _liquidate(system, r.borrower)
    assert _vault(system, t, r.borrower) == (left_collateral, left_debt)


def test_liquidate__accrued_rate__partial_seizure_divides_room_by_rate(system):
    """Money flow: a year of 2% fees raises the rate (the Backstop is credited the fees); with a
    5,000 BUSD room the liquidator seizes room / rate / penalty of normalized debt, so the debt
    to raise (at the new rate) still fits the room."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 13_000 * WAD)
    old_rate = _ctype(system, t).rate
    system.warp(365 * 24 * 3600)
    system.tx(system.d.fees, "accrue", r.keeper, t.type_id)
    rate = _ctype(system, t).rate
    assert rate > 1_019 * RAY // 1_000
    assert _stable(system, system.d.backstop) == 13_000 * WAD * (rate - old_rate)
    _crash(system, t, CRASH_PRICE)
    _set_global_cap(system, 5_000 * RAD)

    _liquidate(system, r.borrower)
    seized_debt = 5_000 * RAD * WAD // rate // PENALTY
    assert seized_debt < 5_000 * RAD * WAD // old_rate // PENALTY
    assert _vault(system, t, r.borrower)[1] == 13_000 * WAD - seized_debt
    assert _liquidator(system, "debt_in_auction") == _to_raise(seized_debt * rate) <= 5_000 * RAD


@pytest.mark.parametrize("dust_excess", [0, 1])
def test_liquidate__remainder_at_dust_is_left_one_wei_below_takes_whole_vault(system, dust_excess):
    """Money flow: with a room that leaves a remainder of exactly the dust, the liquidation is
    partial; with the dust one wei higher the remainder would be dust, so the whole vault (all
    collateral, all debt) goes to auction, beyond the cap (the documented overshoot)."""
    r, t = system.roles, system.eth
    _unsafe_eth_vault(system)
    rate = _ctype(system, t).rate
    room = (13_000 - 100) * WAD * rate * PENALTY // WAD
    seized_debt = _seized(room, rate)
    remainder = 13_000 * WAD - seized_debt
    system.tx(system.d.engine, "set_dust", r.governance, t.type_id, remainder * rate + dust_excess)
    _set_global_cap(system, room)

    _liquidate(system, r.borrower)
    if dust_excess == 0:
        seized_collateral = ceil_div(10 * WAD * seized_debt, 13_000 * WAD)
        assert _vault(system, t, r.borrower) == (10 * WAD - seized_collateral, remainder)
        assert _liquidator(system, "debt_in_auction") == _to_raise(seized_debt * rate) <= room
    else:
        assert _vault(system, t, r.borrower) == (0, 0)
        assert _events(system)[-1][2]["normalized_debt"] == 13_000 * WAD
        assert _events(system)[-1][2]["collateral"] == 10 * WAD
        assert _liquidator(system, "debt_in_auction") == _to_raise(13_000 * WAD * rate) > room


@pytest.mark.parametrize("which", ["global", "type"])
def test_liquidate__remainder_would_be_dust__takes_whole_vault_exceeding_cap(system, which):
    """Money flow: the room would leave about 50 BUSD (below the 100 dust) in the vault, so the
    whole vault is auctioned and the debt in auction overshoots the cap by the difference; the
    next liquidation finds the cap reached."""
    r, t = system.roles, system.eth
    system.open_vault(r.other, "ETH-A", 2 * WAD, 2_600 * WAD)
    _unsafe_eth_vault(system)
    rate = _ctype(system, t).rate
    room = (13_000 - 50) * WAD * rate * PENALTY // WAD
    assert (13_000 * WAD - _seized(room, rate)) * rate < DUST
    _set_cap(system, which, room)

    _liquidate(system, r.borrower)
    to_raise = _to_raise(13_000 * WAD * rate)
    assert _vault(system, t, r.borrower) == (0, 0)
    assert _auction(system, t, 1).lot == 10 * WAD
    assert _auction(system, t, 1).debt == to_raise
    assert _liquidator(system, "debt_in_auction") == to_raise > room
    assert _type_config(system, t).debt_in_auction == to_raise
    with reverts("liquidator: debt in auction at cap"):
        _liquidate(system, r.other)


def test_liquidate__partial_auction_below_dust__reverts(system):
    """A 100 BUSD room buys 100 / 1.13 of debt, below the 100 dust, while the vault's
    remainder would be far above it: no dust auction is started."""
    r, t = system.roles, system.eth
    _unsafe_eth_vault(system)
    _set_global_cap(system, DUST)
    with reverts("liquidator: partial auction below dust"):
        _liquidate(system, r.borrower)
    assert _vault(system, t, r.borrower) == (10 * WAD, 13_000 * WAD)
    assert _liquidator(system, "debt_in_auction") == 0


@pytest.mark.parametrize("which", ["global", "type"])
def test_liquidate__cap_zero__reverts_debt_in_auction_at_cap(system, which):
    r = system.roles
    _unsafe_eth_vault(system)
    _set_cap(system, which, 0)
    with reverts("liquidator: debt in auction at cap"):
        _liquidate(system, r.borrower)
    assert _vault(system, system.eth, r.borrower) == (10 * WAD, 13_000 * WAD)


def test_liquidate__zero_dust_and_no_room_for_one_wei__reverts_nothing_to_seize(system):
    """With dust 0 a room of 1 wei of rad seizes 0 normalized debt and so 0 collateral."""
    r, t = system.roles, system.eth
    _unsafe_eth_vault(system)
    system.tx(system.d.engine, "set_dust", r.governance, t.type_id, 0)
    _set_global_cap(system, 1)
    with reverts("liquidator: nothing to seize"):
        _liquidate(system, r.borrower)
    assert (
        _returns(
            system,
            system.d.liquidator,
            "liquidate_many",
            r.keeper,
            t.type_id,
            [r.borrower],
            r.keeper,
        )
        == 0
    )


def test_liquidate__global_cap_is_shared_across_types(system):
    """Money flow: ETH's whole vault uses most of the global cap; the BTC vault then gets only the
    5,000 BUSD left, though its own type cap is 5M."""
    r, eth, btc = system.roles, system.eth, system.btc
    system.open_vault(r.other, "WBTC-A", WAD, 20_000 * WAD)  # safe at 30,000 (20,690 safe value)
    _unsafe_eth_vault(system)
    eth_to_raise = _to_raise(13_000 * WAD * _ctype(system, eth).rate)
    _set_global_cap(system, eth_to_raise + 5_000 * RAD)
    _liquidate(system, r.borrower)

    _crash(system, btc, 25_000 * WAD)  # 17,241 of safe value: unsafe
    btc_rate = _ctype(system, btc).rate
    seized_debt = _seized(5_000 * RAD, btc_rate)
    _liquidate(system, r.other, t=btc)
    btc_to_raise = _to_raise(seized_debt * btc_rate)
    seized_collateral = ceil_div(WAD * seized_debt, 20_000 * WAD)
    assert _vault(system, btc, r.other) == (WAD - seized_collateral, 20_000 * WAD - seized_debt)
    assert _type_config(system, btc).debt_in_auction == btc_to_raise
    assert _type_config(system, eth).debt_in_auction == eth_to_raise
    assert (
        _liquidator(system, "debt_in_auction")
        == eth_to_raise + btc_to_raise
        <= eth_to_raise + 5_000 * RAD
    )


def test_caps__above_1e12_stablecoin__rejected_so_room_times_wad_cannot_overflow(system):
    """A cap of 2**256 - 1 meant as "no cap" would make room x WAD overflow and block every
    liquidation (as in dss's Dog); the setters refuse caps above 1e12 stablecoin instead, and the
    largest allowed caps still liquidate."""
    r, t = system.roles, system.eth
    _unsafe_eth_vault(system)
    with reverts("liquidator: cap too large"):
        _set_global_cap(system, MAX_UINT256)
    with reverts("liquidator: cap too large"):
        _set_type_cap(system, t, 10**57 + 1)
    _set_global_cap(system, 10**57)
    _set_type_cap(system, t, 10**57)
    _liquidate(system, r.borrower)
    assert _vault(system, t, r.borrower) == (0, 0)


# ---------------------------------------------------------------- keeper rewards and dust auctions


def test_liquidate__dust_auctions__pay_no_reward_as_soon_as_the_dust_rises(system):
    """Money flow (reward farming): keepers are paid 50 BUSD + 1% per auction. Two vaults of
    1,300 BUSD; liquidating one pays a reward (new stablecoin, Backstop bad debt). Governance
    then raises the dust to 2,000: min_auction is read when used (no follow-up call), so the
    other's auction (1,469 to raise < 2,000 x 1.13 = 2,260) pays nothing at once."""
    r, t, e = system.roles, system.eth, system.d.engine
    _small_dust(system)
    c = t.config
    system.tx(
        t.auction,
        "set_parameters",
        r.governance,
        c.auction_buffer,
        c.auction_max_duration,
        c.auction_max_drop,
        WAD // 100,
        50 * RAD,
    )
    system.open_vault(r.other, "ETH-A", WAD, 1_300 * WAD)
    _unsafe_eth_vault(system, collateral=WAD, debt=1_300 * WAD)
    rate = _ctype(system, t).rate
    to_raise = _to_raise(1_300 * WAD * rate)

    keeper = _stable(system, r.keeper)
    _liquidate(system, r.borrower)
    reward = 50 * RAD + to_raise // 100
    assert _event(system, "Started")["reward"] == reward
    assert _stable(system, r.keeper) == keeper + reward
    assert _bad_debt(system, system.d.backstop) == 1_300 * WAD * rate + reward

    system.tx(e, "set_dust", r.governance, t.type_id, 2_000 * RAD)
    assert _auction_var(system, t, "min_auction") == 2_260 * RAD
    assert to_raise < 2_260 * RAD
    _liquidate(system, r.other)
    assert [name for _, name, _ in _events(system)] == [
        "VaultSeized",
        "Started",
        "LossOpened",
        "Liquidated",
    ]
    assert _event(system, "Started")["reward"] == 0
    assert _event(system, "Started")["debt"] == to_raise
    assert _stable(system, r.keeper) == keeper + reward
    assert _bad_debt(system, system.d.backstop) == 2 * 1_300 * WAD * rate + reward
    assert _unattributed_debt(system) == reward  # the first auction's reward only


@pytest.mark.parametrize("excess", [0, 1])
def test_liquidate__auction_debt_at_min_auction_pays_reward__one_wei_below_does_not(system, excess):
    """Money flow: governance sets the dust so that min_auction (dust x 1.13, rounded down) is
    exactly the auction's debt to raise (the keeper is paid 300 + 0.1%), or one wei above it (the
    keeper gets nothing, the Backstop takes only the vault's debt)."""
    r, t = system.roles, system.eth
    _small_dust(system)
    rate = _ctype(system, t).rate

    def dust_for(min_auction):  # the dust whose min_auction is exactly `min_auction`, if any
        dust = ceil_div(min_auction * WAD, PENALTY)
        return dust if dust * PENALTY // WAD == min_auction else None

    debt = next(
        d
        for d in range(1_300 * WAD, 1_300 * WAD + 100)
        if dust_for(_to_raise(d * rate)) and dust_for(_to_raise(d * rate) + 1)
    )
    to_raise = _to_raise(debt * rate)
    _unsafe_eth_vault(system, collateral=WAD, debt=debt)
    system.tx(system.d.engine, "set_dust", r.governance, t.type_id, dust_for(to_raise + excess))
    assert _auction_var(system, t, "min_auction") == to_raise + excess

    keeper = _stable(system, r.keeper)
    _liquidate(system, r.borrower)
    reward = _reward(to_raise) if excess == 0 else 0
    started = [ev[2] for ev in _events(system) if ev[1] == "Started"]
    assert started[0]["debt"] == to_raise and started[0]["reward"] == reward
    assert _stable(system, r.keeper) == keeper + reward
    assert _bad_debt(system, system.d.backstop) == debt * rate + reward


def test_liquidate__collateral_value_below_min_auction__pays_no_reward(system):
    """Money flow: ETH falls to 1 BUSD: the auction must raise 14,690 BUSD but its 10 ETH start at
    1.2 each (12 BUSD < min_auction 113): a worthless lot pays no keeper reward; the Backstop
    takes only the vault's debt."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 13_000 * WAD)
    _crash(system, t, WAD)
    keeper = _stable(system, r.keeper)
    _liquidate(system, r.borrower)
    rate = _ctype(system, t).rate
    started = _event(system, "Started")
    assert started["top"] == BUFFER and started["lot"] == 10 * WAD
    assert 10 * WAD * BUFFER < 113 * RAD <= started["debt"] == _to_raise(13_000 * WAD * rate)
    assert started["reward"] == 0
    assert _stable(system, r.keeper) == keeper
    assert _bad_debt(system, system.d.backstop) == 13_000 * WAD * rate


def test_liquidate__zero_reward_parameters__pays_nothing(system):
    r, t = system.roles, system.eth
    c = t.config
    system.tx(
        t.auction,
        "set_parameters",
        r.governance,
        c.auction_buffer,
        c.auction_max_duration,
        c.auction_max_drop,
        0,
        0,
    )
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    assert _event(system, "Started")["reward"] == 0
    assert _unattributed_debt(system) == 0


# ================================================================ liquidate_many


def _four_vaults(system) -> None:
    """borrower 10 ETH / 13,000, other 5 / 6,500, feeder 2 / 2,600 (all unsafe after the crash),
    keeper 10 / 5,000 (safe); the stranger has no vault."""
    r = system.roles
    system.open_vault(r.other, "ETH-A", 5 * WAD, 6_500 * WAD)
    system.open_vault(r.feeder, "ETH-A", 2 * WAD, 2_600 * WAD)
    system.open_vault(r.keeper, "ETH-A", 10 * WAD, 5_000 * WAD)
    _unsafe_eth_vault(system)


def test_liquidate_many__mixed_vaults__liquidates_exactly_the_unsafe_and_returns_count(system):
    """Money flow: the two unsafe vaults listed go to auction (ids 1, 2) in one transaction, each
    debt opening its own loss event at this block's time; the safe and the empty vault are
    skipped; the unsafe vault not listed is untouched. The keeper gets one reward per auction."""
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _four_vaults(system)
    rate = _ctype(system, t).rate
    owners = [r.keeper, r.borrower, r.stranger, r.other]
    keeper = _stable(system, r.keeper)
    assert _returns(system, liq, "liquidate_many", r.keeper, t.type_id, owners, r.keeper) == 2

    system.tx(liq, "liquidate_many", r.keeper, t.type_id, owners, r.keeper)
    now = system.now
    liquidated = [
        (ev[2]["owner"], ev[2]["auction_id"]) for ev in _events(system) if ev[1] == "Liquidated"
    ]
    assert liquidated == [(r.borrower, 1), (r.other, 2)]
    raises = [_to_raise(13_000 * WAD * rate), _to_raise(6_500 * WAD * rate)]
    opened = [
        (ev[2]["auction_id"], ev[2]["debt"], ev[2]["to_raise"])
        for ev in _events(system)
        if ev[1] == "LossOpened"
    ]
    assert opened == [(1, 13_000 * WAD * rate, raises[0]), (2, 6_500 * WAD * rate, raises[1])]
    assert _loss(system, t, 1) == (13_000 * WAD * rate, raises[0], now, RUNNING)
    assert _loss(system, t, 2) == (6_500 * WAD * rate, raises[1], now, RUNNING)
    assert _backstop(system, "open_losses") == 2
    assert _backstop(system, "attributed_debt") == 19_500 * WAD * rate
    assert _vault(system, t, r.borrower) == (0, 0)
    assert _vault(system, t, r.other) == (0, 0)
    assert _vault(system, t, r.keeper) == (10 * WAD, 5_000 * WAD)
    assert _vault(system, t, r.feeder) == (2 * WAD, 2_600 * WAD)
    assert [_auction(system, t, i).debt for i in (1, 2)] == raises
    assert _liquidator(system, "debt_in_auction") == sum(raises)
    assert _stable(system, r.keeper) == keeper + sum(_reward(x) for x in raises)


def test_liquidate_many__cap_hit__skips_the_rest_without_reverting(system):
    """Money flow: the global cap fits exactly the first two auctions; the third unsafe vault is
    skipped (not reverted) and keeps its collateral and debt."""
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _four_vaults(system)
    rate = _ctype(system, t).rate
    cap = _to_raise(13_000 * WAD * rate) + _to_raise(6_500 * WAD * rate)
    _set_global_cap(system, cap)
    owners = [r.borrower, r.other, r.feeder]
    assert _returns(system, liq, "liquidate_many", r.keeper, t.type_id, owners, r.keeper) == 2
    system.tx(liq, "liquidate_many", r.keeper, t.type_id, owners, r.keeper)
    assert [ev[2]["owner"] for ev in _events(system) if ev[1] == "Liquidated"] == [
        r.borrower,
        r.other,
    ]
    assert _liquidator(system, "debt_in_auction") == cap
    assert _vault(system, t, r.feeder) == (2 * WAD, 2_600 * WAD)
    # one at a time, the same vault reverts at the cap
    with reverts("liquidator: debt in auction at cap"):
        _liquidate(system, r.feeder)


def test_liquidate_many__partial_then_dust_room__skips_without_reverting(system):
    """Money flow: the first vault takes all its debt, the second only what the 5,000 BUSD left
    allows (partial, above dust), the third would get a dust auction and is skipped."""
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _small_dust(system)
    _four_vaults(system)
    rate = _ctype(system, t).rate
    first = _to_raise(13_000 * WAD * rate)
    _set_type_cap(system, t, first + 5_000 * RAD)
    owners = [r.borrower, r.other, r.feeder]
    assert _returns(system, liq, "liquidate_many", r.keeper, t.type_id, owners, r.keeper) == 2
    system.tx(liq, "liquidate_many", r.keeper, t.type_id, owners, r.keeper)
    seized = _seized(5_000 * RAD, rate)
    assert _vault(system, t, r.other)[1] == 6_500 * WAD - seized
    assert _vault(system, t, r.feeder) == (2 * WAD, 2_600 * WAD)
    assert _type_config(system, t).debt_in_auction == first + _to_raise(seized * rate)


def test_liquidate_many__same_owner_twice__liquidated_once(system):
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _unsafe_eth_vault(system)
    assert (
        _returns(
            system, liq, "liquidate_many", r.keeper, t.type_id, [r.borrower, r.borrower], r.keeper
        )
        == 1
    )
    system.tx(liq, "liquidate_many", r.keeper, t.type_id, [r.borrower, r.borrower], r.keeper)
    assert _auction_var(system, t, "active_auctions") == (1,)


def test_liquidate_many__empty_list__returns_zero_and_does_nothing(system):
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _unsafe_eth_vault(system)
    assert _returns(system, liq, "liquidate_many", r.keeper, t.type_id, [], r.keeper) == 0
    system.tx(liq, "liquidate_many", r.keeper, t.type_id, [], r.keeper)
    assert _events(system) == []


def test_liquidate_many__more_than_max_batch__reverts_in_abi_decoding(system):
    r, t, liq = system.roles, system.eth, system.d.liquidator
    with reverts(None):
        system.tx(
            liq, "liquidate_many", r.keeper, t.type_id, [r.stranger] * (MAX_BATCH + 1), r.keeper
        )
    assert (
        _returns(
            system, liq, "liquidate_many", r.keeper, t.type_id, [r.stranger] * MAX_BATCH, r.keeper
        )
        == 0
    )


# ================================================================ remove_debt_in_auction


def test_remove_debt_in_auction__partial_take__auction_reports_debt_raised(system):
    """Money flow: the taker pays 1 ETH x 2,280 into the auction's escrow (the Backstop gets
    nothing before the auction finishes); the auction reports that much raised, lowering the
    global and the type's debt in auction."""
    r, t = system.roles, system.eth
    _borrow_stable(system, r.other)
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    opened_at = system.now
    to_raise = _liquidator(system, "debt_in_auction")

    system.tx(t.auction, "take", r.other, 1, WAD, 2_280 * RAY, r.other, b"")
    owe = 2_280 * RAD
    removed = [ev for ev in _events(system) if ev[1] == "DebtInAuctionRemoved"]
    assert removed == [
        (
            system.d.liquidator,
            "DebtInAuctionRemoved",
            {"collateral_type": t.type_id, "amount": owe},
        ),
    ]
    assert _liquidator(system, "debt_in_auction") == to_raise - owe
    assert _type_config(system, t).debt_in_auction == to_raise - owe
    assert _auction(system, t, 1).debt == to_raise - owe
    assert _stable(system, t.auction) == owe
    assert _stable(system, system.d.backstop) == 0
    assert _loss(system, t, 1)[1:] == (to_raise, opened_at, RUNNING)  # the event is untouched


def test_remove_debt_in_auction__zero_by_governance__logs_only(system):
    r, liq = system.roles, system.d.liquidator
    system.tx(liq, "remove_debt_in_auction", r.governance, system.eth.type_id, 0)
    assert _events(system) == [
        (liq, "DebtInAuctionRemoved", {"collateral_type": system.eth.type_id, "amount": 0}),
    ]
    assert _liquidator(system, "debt_in_auction") == 0


def test_remove_debt_in_auction__more_than_in_auction__reverts_arithmetic(system):
    """An authority cannot remove more than is in auction, globally or for the type (ETH's debt
    in auction covers the global subtraction; BTC's own is zero)."""
    r, liq = system.roles, system.d.liquidator
    with reverts(None):
        system.tx(liq, "remove_debt_in_auction", r.governance, system.eth.type_id, 1)
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    in_auction = _liquidator(system, "debt_in_auction")
    with reverts(None):
        system.tx(liq, "remove_debt_in_auction", r.governance, system.btc.type_id, 1)
    with reverts(None):
        system.tx(liq, "remove_debt_in_auction", r.governance, system.eth.type_id, in_auction + 1)
    assert _liquidator(system, "debt_in_auction") == in_auction


def test_liquidator_revoke_role__debt_in_auction_of_auction__its_takes_revert(system):
    """The auction's report of debt raised is privileged: once revoked, no take can finish."""
    r, t, liq = system.roles, system.eth, system.d.liquidator
    _borrow_stable(system, r.other)
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    system.tx(liq, "revoke_role", r.governance, t.auction, int(Role.DEBT_IN_AUCTION))
    with reverts("authorized: not authorized"):
        system.tx(t.auction, "take", r.other, 1, WAD, 2_280 * RAY, r.other, b"")
    system.tx(liq, "grant_role", r.governance, t.auction, int(Role.DEBT_IN_AUCTION))
    system.tx(t.auction, "take", r.other, 1, WAD, 2_280 * RAY, r.other, b"")


# ================================================================ Backstop


def _backstop_bad_debt(system, amount: int, to=None) -> None:
    """Governance (engine authority) creates `amount` of bad debt for the Backstop, the stablecoin
    going to `to` (governance by default), as a keeper reward would."""
    r = system.roles
    system.tx(
        system.d.engine,
        "create_unbacked",
        r.governance,
        system.d.backstop,
        to or r.governance,
        amount,
    )


def _backstop_surplus(system, amount: int) -> None:
    """Governance pays `amount` of its stablecoin to the Backstop (surplus)."""
    r = system.roles
    system.tx(
        system.d.engine, "transfer_stable", r.governance, r.governance, system.d.backstop, amount
    )


def _own_event(system, amount: int, auction_id: int = 1) -> None:
    """Governance (a Backstop authority) plays an auction: `amount` of the Backstop's bad debt
    (its stablecoin going to governance) is opened as event (ETH, governance, id) to raise the
    same amount (penalty 1), and governance lets the Backstop pull its payment when it closes
    the event."""
    r, t = system.roles, system.eth
    _backstop_bad_debt(system, amount)
    system.tx(system.d.engine, "allow", r.governance, system.d.backstop)
    system.tx(
        system.d.backstop,
        "open_loss",
        r.governance,
        t.type_id,
        r.governance,
        auction_id,
        amount,
        WAD,
    )


def test_backstop_add_authority__lets_account_open_and_close_a_loss_event(system):
    """Money flow: the other account, once authorized, plays an auction. 1,000 of the Backstop's
    bad debt (its stablecoin given to the other account) is opened as a loss event to raise 1,130;
    closing it having raised everything (unraised 0), the other account pays the 1,130 (130 more
    lent by governance) to the Backstop, which settles the 1,000 and keeps 130 as surplus: the
    event is done, with no loss and no bad debt left."""
    r, b, t, e = system.roles, system.d.backstop, system.eth, system.d.engine
    _backstop_bad_debt(system, 1_000 * RAD, to=r.other)
    system.tx(e, "create_unbacked", r.governance, r.governance, r.other, 130 * RAD)
    system.tx(b, "add_authority", r.governance, r.other)
    assert _events(system) == [(b, "AuthorityAdded", {"account": r.other})]
    assert _authorized(system, b, r.other)

    system.tx(b, "open_loss", r.other, t.type_id, r.other, 7, 1_000 * RAD, 113 * WAD // 100)
    opened_at = system.now
    assert _events(system) == [
        (
            b,
            "LossOpened",
            {
                "collateral_type": t.type_id,
                "auction": r.other,
                "auction_id": 7,
                "debt": 1_000 * RAD,
                "to_raise": 1_130 * RAD,
            },
        ),
    ]
    assert _loss(system, t, 7, auction=r.other) == (1_000 * RAD, 1_130 * RAD, opened_at, RUNNING)
    assert _backstop(system, "open_losses") == 1
    assert _backstop(system, "attributed_debt") == 1_000 * RAD
    assert _unattributed_debt(system) == 0

    # the Backstop pulls the proceeds from the closer: only with its permission in the engine
    with reverts("engine: not allowed"):
        system.tx(b, "close_loss", r.other, t.type_id, 7, 0, 0)
    system.tx(e, "allow", r.other, b)
    system.tx(b, "close_loss", r.other, t.type_id, 7, 0, 0)
    assert _events(system) == [
        (e, "StableTransferred", {"src": r.other, "dst": b, "amount": 1_130 * RAD}),
        (
            b,
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": r.other,
                "auction_id": 7,
                "raised": 1_130 * RAD,
                "covered": 1_000 * RAD,
                "loss": 0,
            },
        ),
    ]
    assert _loss(system, t, 7, auction=r.other) == (1_000 * RAD, 0, opened_at, DONE)
    assert _backstop(system, "open_losses") == 0
    # the 1,000 that covered the seized debt wait, attributed, until anyone heals them
    assert _backstop(system, "attributed_debt") == _backstop(system, "unsettled_proceeds")
    assert (_stable(system, b), _bad_debt(system, b)) == (1_130 * RAD, 1_000 * RAD)
    heal(system, 1_000 * RAD)
    assert _backstop(system, "attributed_debt") == 0
    assert (_stable(system, b), _bad_debt(system, b)) == (130 * RAD, 0)
    assert _stable(system, r.other) == 0


def test_backstop_remove_authority__locks_account_out(system):
    r, b = system.roles, system.d.backstop
    system.tx(b, "add_authority", r.governance, r.other)
    system.tx(b, "remove_authority", r.governance, r.other)
    assert _events(system) == [(b, "AuthorityRemoved", {"account": r.other})]
    assert not _authorized(system, b, r.other)
    with reverts("authorized: not authorized"):
        system.tx(b, "open_loss", r.other, system.eth.type_id, r.other, 1, 0, WAD)
    with reverts("authorized: not authorized"):
        system.tx(b, "close_loss", r.other, system.eth.type_id, 1, 0, 0)


BACKSTOP_PRIVILEGED = {
    "add_authority": lambda s: (s.roles.stranger,),
    "remove_authority": lambda s: (s.d.liquidator,),
    "set_queue_delay": lambda s: (0,),
    "open_loss": lambda s: (s.eth.type_id, s.roles.stranger, 1, 0, WAD),
    "close_loss": lambda s: (s.eth.type_id, 1, 0, 0),
}


@pytest.mark.parametrize("function", sorted(BACKSTOP_PRIVILEGED))
def test_backstop_privileged_function__called_by_stranger__reverts_not_authorized(system, function):
    args = BACKSTOP_PRIVILEGED[function](system)
    with reverts("authorized: not authorized"):
        system.tx(system.d.backstop, function, system.roles.stranger, *args)


def test_liquidate__liquidator_without_open_loss_role__reverts_and_seizes_nothing(system):
    """The loss event is part of the liquidation: if the Backstop refuses to open it, the whole
    liquidation (seizure, auction start, keeper reward) is undone."""
    r, t, b = system.roles, system.eth, system.d.backstop
    _unsafe_eth_vault(system)
    system.tx(b, "revoke_role", r.governance, system.d.liquidator, int(Role.OPEN_LOSS))
    with reverts("authorized: not authorized"):
        _liquidate(system, r.borrower)
    assert _vault(system, t, r.borrower) == (10 * WAD, 13_000 * WAD)
    assert _bad_debt(system, b) == 0
    assert _auction_var(system, t, "active_count") == 0
    assert _auction_var(system, t, "next_id") == 1
    system.tx(b, "grant_role", r.governance, system.d.liquidator, int(Role.OPEN_LOSS))
    _liquidate(system, r.borrower)
    assert _loss(system, t, 1)[3] == RUNNING


def test_backstop_revoke_role__close_loss_of_auction__only_its_finishing_take_reverts(system):
    """Money flow: a partial take only pays the auction's escrow and goes through; the take that
    would finish the auction must close its loss event, which the Backstop refuses to a revoked
    auction: that take is undone whole, until the auction holds CLOSE_LOSS again."""
    r, t, b = system.roles, system.eth, system.d.backstop
    _borrow_stable(system, r.other)
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    system.tx(b, "revoke_role", r.governance, t.auction, int(Role.CLOSE_LOSS))
    system.tx(t.auction, "take", r.other, 1, WAD, 2_280 * RAY, r.other, b"")
    assert _stable(system, t.auction) == 2_280 * RAD
    with reverts("authorized: not authorized"):
        system.tx(t.auction, "take", r.other, 1, 10 * WAD, 2_280 * RAY, r.other, b"")
    assert _auction(system, t, 1).lot == 9 * WAD
    system.tx(b, "grant_role", r.governance, t.auction, int(Role.CLOSE_LOSS))
    system.tx(t.auction, "take", r.other, 1, 10 * WAD, 2_280 * RAY, r.other, b"")
    assert _loss(system, t, 1)[3] == DONE
    assert _stable(system, t.auction) == 0


def test_open_loss__same_event_twice__reverts_loss_exists_even_once_done(system):
    """An event is (type, auction, auction id): opening it again reverts while it runs and after
    it is done (ids are never reused); another id, auction or type is another event."""
    r, t, b = system.roles, system.eth, system.d.backstop
    _own_event(system, 100 * RAD)
    with reverts("backstop: loss exists"):
        system.tx(b, "open_loss", r.governance, t.type_id, r.governance, 1, 100 * RAD, WAD)
    with reverts("backstop: loss exists"):
        system.tx(b, "open_loss", r.governance, t.type_id, r.governance, 1, 0, WAD)
    # different keys are different events (empty ones here, closed at once)
    for type_id, auction, auction_id in (
        (t.type_id, r.governance, 2),
        (t.type_id, r.other, 1),
        (system.btc.type_id, r.governance, 1),
    ):
        system.tx(b, "open_loss", r.governance, type_id, auction, auction_id, 0, WAD)
        assert _events(system)[0][1] == "LossOpened"
    assert _backstop(system, "open_losses") == 4
    system.tx(b, "close_loss", r.governance, t.type_id, 2, 0, 0)
    system.tx(b, "close_loss", r.governance, system.btc.type_id, 1, 0, 0)
    system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)
    assert _loss(system, t, 1, auction=r.governance)[3] == DONE
    with reverts("backstop: loss exists"):
        system.tx(b, "open_loss", r.governance, t.type_id, r.governance, 1, 0, WAD)
    # the other account's event cannot be closed by governance (the closer is the auction); it is
    # authorized to close its own
    system.tx(b, "add_authority", r.governance, r.other)
    system.tx(b, "close_loss", r.other, t.type_id, 1, 0, 0)
    assert _backstop(system, "open_losses") == 0


def test_open_loss__debt_of_2_192__reverts_debt_too_large(system):
    """The event's debt is packed into 192 bits: 2**192 is refused, 2**192 - 1 accepted (and here
    raised in full, so the books close once healed)."""
    r, t, b = system.roles, system.eth, system.d.backstop
    with reverts("backstop: debt too large"):
        system.tx(b, "open_loss", r.governance, t.type_id, r.governance, 1, DEBT_LIMIT, WAD)
    _own_event(system, DEBT_LIMIT - 1)
    assert _loss(system, t, 1, auction=r.governance)[:2] == (DEBT_LIMIT - 1, DEBT_LIMIT - 1)
    system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)
    assert _event(system, "LossClosed")["covered"] == DEBT_LIMIT - 1
    heal(system, DEBT_LIMIT - 1)
    assert _bad_debt(system, b) == 0


@pytest.mark.parametrize(
    ("penalty", "accepted"),
    [
        (WAD, True),
        (WAD + PENALTY_STEP, True),
        (113 * WAD // 100 + 7 * PENALTY_STEP, True),
        # the largest the event's 24-bit field holds (above the Liquidator's 2 wad)
        (WAD + (2**24 - 1) * PENALTY_STEP, True),
        (WAD + 2**24 * PENALTY_STEP, False),
        (WAD + 1, False),
        (113 * WAD // 100 + PENALTY_STEP // 2, False),
        (WAD - PENALTY_STEP, False),
        (0, False),
    ],
)
def test_open_loss__penalty__kept_exactly_or_refused(system, penalty, accepted):
    """A running event keeps its penalty, not what its auction must raise, in its one word: a
    penalty the word cannot hold exactly (off the 1e-7 grid, below 1, above 24 bits of steps)
    is refused; an accepted one gives back ceil(debt x penalty) as the event's due, and closing
    the event takes exactly that as raised."""
    r, t, b = system.roles, system.eth, system.d.backstop
    debt = 1_000 * RAD + 1
    if not accepted:
        with reverts("backstop: penalty not representable"):
            system.tx(b, "open_loss", r.governance, t.type_id, r.governance, 1, debt, penalty)
        return
    to_raise = -(-debt * penalty // WAD)
    _backstop_bad_debt(system, to_raise)
    system.tx(system.d.engine, "allow", r.governance, b)
    system.tx(b, "open_loss", r.governance, t.type_id, r.governance, 1, debt, penalty)
    assert _event(system, "LossOpened")["to_raise"] == to_raise
    assert _loss(system, t, 1, auction=r.governance)[:2] == (debt, to_raise)
    system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)
    assert _event(system, "LossClosed")["raised"] == to_raise


def _assert_all_cancelled(system) -> None:
    """After an overflow of the unsettled proceeds: nothing is left unsettled, attributed, open,
    held or owed by the Backstop, and a heal has nothing to do."""
    b = system.d.backstop
    assert _backstop(system, "unsettled_proceeds") == 0
    assert _backstop(system, "attributed_debt") == 0
    assert _backstop(system, "open_losses") == 0
    assert (_stable(system, b), _bad_debt(system, b)) == (0, 0)
    system.tx(b, "heal", system.roles.stranger)
    assert _events(system) == []


def test_close_loss__unsettled_proceeds_would_reach_2_192__settled_at_once(system):
    """The unsettled proceeds share a word with open_losses, in the 192 bits above it. Money flow:
    two events of 2**192 - 1 each, raised in full. The first close leaves its proceeds unsettled;
    the second would bring them to 2**193 - 2, which does not fit: that close cancels both against
    as much bad debt at once, and nothing is left to heal. Without that, the packed word would
    overflow into nothing (a revert: every auction's close would be stuck)."""
    r, t, b = system.roles, system.eth, system.d.backstop
    amount = DEBT_LIMIT - 1
    _own_event(system, amount, auction_id=1)
    system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)
    assert _backstop(system, "unsettled_proceeds") == amount
    _own_event(system, amount, auction_id=2)
    assert _backstop(system, "open_losses") == 1
    assert _backstop(system, "attributed_debt") == 2 * amount
    system.tx(b, "close_loss", r.governance, t.type_id, 2, 0, 0)
    assert [(n, a) for _, n, a in _events(system) if n in ("DebtSettled", "LossClosed")] == [
        ("DebtSettled", {"account": b, "amount": 2 * amount}),
        (
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": r.governance,
                "auction_id": 2,
                "raised": amount,
                "covered": amount,
                "loss": 0,
            },
        ),
    ]
    _assert_all_cancelled(system)


def test_cover__unsettled_proceeds_would_reach_2_192__settled_at_once(system):
    """The cover's paying layers add to the unsettled proceeds as a close does, and a sum that
    would not fit its 192 bits is cancelled at once there too. Money flow: an event of
    2**192 - 1 raised in full leaves that much unsettled; a second event of 100 closes having
    raised nothing (a loss of 100), and the Backstop gets 100 of free surplus. Its cover (FUND
    only, no queue delay) pays the 100 from the free surplus; that would bring the unsettled
    proceeds to 2**192 - 1 + 100, so the cover cancels them all against as much bad debt before
    its receipt, and nothing is left to heal, attributed, held or owed."""
    r, t, b, e = system.roles, system.eth, system.d.backstop, system.d.engine
    amount = DEBT_LIMIT - 1
    _own_event(system, amount, auction_id=1)
    system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)
    assert _backstop(system, "unsettled_proceeds") == amount
    _own_event(system, 100 * RAD, auction_id=2)
    system.tx(b, "close_loss", r.governance, t.type_id, 2, 100 * RAD, 0)
    assert _loss(system, t, 2, auction=r.governance)[1:2] == (100 * RAD,)
    # the 100 governance received for the second event, back as the Backstop's free surplus
    system.tx(e, "transfer_stable", r.governance, r.governance, b, 100 * RAD)
    system.tx(b, "set_waterfall", r.governance, [FUND])
    system.tx(b, "set_queue_delay", r.governance, 0)
    assert (_stable(system, b), _bad_debt(system, b)) == (amount + 100 * RAD, amount + 100 * RAD)

    system.tx(b, "cover", r.stranger, t.type_id, r.governance, 2)
    ids = {"collateral_type": t.type_id, "auction": r.governance, "auction_id": 2}
    assert _events(system) == [
        (e, "DebtSettled", {"account": b, "amount": amount + 100 * RAD}),
        (b, "LossAllocated", {**ids, "layer": FUND, "participant": b, "amount": 100 * RAD}),
    ]
    _assert_all_cancelled(system)


def test_close_loss__event_not_running__reverts_loss_not_running(system):
    """Money flow: none. close_loss closes the caller's own event: an id never opened, the running
    event of another auction (here the ETH auction's, which governance cannot close in its stead)
    and an event already closed all revert."""
    r, t, b = system.roles, system.eth, system.d.backstop
    with reverts("backstop: loss not running"):
        system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    assert _loss(system, t, 1)[3] == RUNNING
    with reverts("backstop: loss not running"):
        system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)
    assert _loss(system, t, 1)[3] == RUNNING
    _own_event(system, 100 * RAD, auction_id=5)
    system.tx(b, "close_loss", r.governance, t.type_id, 5, 0, 0)
    with reverts("backstop: loss not running"):
        system.tx(b, "close_loss", r.governance, t.type_id, 5, 0, 0)


def test_close_loss__unraised_above_amount_to_raise__reverts_arithmetic(system):
    """An auction cannot report more unraised than it had to raise (raised = to_raise - unraised
    would underflow); unraised equal to it is a close that raised nothing."""
    r, t, b = system.roles, system.eth, system.d.backstop
    _own_event(system, 100 * RAD)
    with reverts(None):
        system.tx(b, "close_loss", r.governance, t.type_id, 1, 100 * RAD + 1, 0)
    assert _loss(system, t, 1, auction=r.governance)[3] == RUNNING
    system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 0)


def test_close_loss__paid_directly__pulls_only_the_rest_and_above_raised_reverts_arithmetic(system):
    """Money flow: governance plays an auction of an event of 100 (debt = to raise = 100) that
    raised it all and paid 30 of it to the Backstop itself, as a finishing take does. Reporting
    more paid directly than raised (101) would underflow the pull (raised - paid_directly) and
    reverts. Reporting 30, the Backstop pulls only the other 70 from the closer and keeps the 100
    received as unsettled proceeds; healed, they cancel the seized debt: the event is done with no
    loss and no surplus."""
    r, t, b, e = system.roles, system.eth, system.d.backstop, system.d.engine
    _own_event(system, 100 * RAD)
    created_at = system.now
    with reverts(None):
        system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 100 * RAD + 1)
    assert _loss(system, t, 1, auction=r.governance) == (100 * RAD, 100 * RAD, created_at, RUNNING)

    _backstop_surplus(system, 30 * RAD)  # the finishing payment, straight to the Backstop
    closer_0, surplus_0, bad_0 = (
        _stable(system, r.governance),
        _stable(system, b),
        _bad_debt(system, b),
    )
    assert surplus_0 == 30 * RAD
    system.tx(b, "close_loss", r.governance, t.type_id, 1, 0, 30 * RAD)
    assert _events(system) == [
        (e, "StableTransferred", {"src": r.governance, "dst": b, "amount": 70 * RAD}),
        (
            b,
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": r.governance,
                "auction_id": 1,
                "raised": 100 * RAD,
                "covered": 100 * RAD,
                "loss": 0,
            },
        ),
    ]
    assert _stable(system, r.governance) == closer_0 - 70 * RAD
    assert (_stable(system, b), _bad_debt(system, b)) == (100 * RAD, bad_0)
    assert _loss(system, t, 1, auction=r.governance) == (100 * RAD, 0, created_at, DONE)
    assert _backstop(system, "open_losses") == 0
    heal(system, 100 * RAD)
    assert (_stable(system, b), _bad_debt(system, b)) == (0, bad_0 - 100 * RAD)
    assert _backstop(system, "attributed_debt") == 0


def test_set_queue_delay__stores_and_logs(system):
    """The delay between a liquidation and the earliest cover of its loss (cover itself is tested
    elsewhere); it may be shortened to zero."""
    r, b = system.roles, system.d.backstop
    system.tx(b, "set_queue_delay", r.governance, 2 * QUEUE_DELAY)
    assert _events(system) == [(b, "QueueDelaySet", {"queue_delay": 2 * QUEUE_DELAY})]
    assert _backstop(system, "queue_delay") == 2 * QUEUE_DELAY
    system.tx(b, "set_queue_delay", r.governance, 0)
    assert _backstop(system, "queue_delay") == 0


def test_set_queue_delay__above_a_year__reverts_too_long(system):
    """Governance may hold losses back a year at most (the Backstop packs the delay beside the
    waterfall; config.py bounds backstop_queue_delay alike); a year itself is accepted, and the
    other fields of the packed word are left as they were."""
    r, b = system.roles, system.d.backstop
    year = 365 * 86_400
    before = [_backstop(system, view) for view in ("live", "get_waterfall", "stability_pool")]
    with reverts("backstop: queue delay too long"):
        system.tx(b, "set_queue_delay", r.governance, year + 1)
    with reverts("backstop: queue delay too long"):
        system.tx(b, "set_queue_delay", r.governance, 2**256 - 1)
    system.tx(b, "set_queue_delay", r.governance, year)
    assert _backstop(system, "queue_delay") == year
    assert [_backstop(system, view) for view in ("live", "get_waterfall", "stability_pool")] == (
        before
    )


def test_settle__unattributed_debt_against_surplus(system):
    """Money flow: the Backstop cancels 400 BUSD of unattributed bad debt (as keeper rewards are)
    against 400 of its surplus: both fall by 400, as do total_issued and total_unbacked."""
    r, b = system.roles, system.d.backstop
    _backstop_bad_debt(system, 1_000 * RAD)
    _backstop_surplus(system, 600 * RAD)
    issued, unbacked = _engine_totals(system)
    system.tx(b, "settle", r.stranger, 400 * RAD)
    assert _events(system) == [
        (system.d.engine, "DebtSettled", {"account": b, "amount": 400 * RAD}),
        (b, "DebtSettled", {"amount": 400 * RAD}),
    ]
    assert (_stable(system, b), _bad_debt(system, b)) == (200 * RAD, 600 * RAD)
    assert _engine_totals(system) == (issued - 400 * RAD, unbacked - 400 * RAD)
    assert _unattributed_debt(system) == 600 * RAD


def test_settle__beyond_surplus__reverts_insufficient_surplus(system):
    r, b = system.roles, system.d.backstop
    _backstop_bad_debt(system, 1_000 * RAD)
    _backstop_surplus(system, 600 * RAD)
    with reverts("backstop: insufficient surplus"):
        system.tx(b, "settle", r.keeper, 600 * RAD + 1)
    system.tx(b, "settle", r.keeper, 600 * RAD)
    assert (_stable(system, b), _bad_debt(system, b)) == (0, 400 * RAD)


def test_settle__beyond_unattributed_debt__reverts_insufficient_unattributed_debt(system):
    """Money flow: after a liquidation the Backstop owes the vault's debt (attributed to the running
    event, which only its auction's proceeds and the waterfall may cover) and the keeper's reward
    (unattributed). With 20,000 of surplus, settle cancels the reward and not one rad more."""
    r, b = system.roles, system.d.backstop
    _unsafe_eth_vault(system)
    _liquidate(system, r.borrower)
    debt = 13_000 * WAD * _ctype(system, system.eth).rate
    reward = _reward(_to_raise(debt))
    system.tx(
        system.d.engine, "create_unbacked", r.governance, r.governance, r.governance, 20_000 * RAD
    )
    _backstop_surplus(system, 20_000 * RAD)
    assert _bad_debt(system, b) == debt + reward and _unattributed_debt(system) == reward
    with reverts("backstop: insufficient unattributed debt"):
        system.tx(b, "settle", r.keeper, reward + 1)
    system.tx(b, "settle", r.keeper, reward)
    assert _unattributed_debt(system) == 0
    assert (_stable(system, b), _bad_debt(system, b)) == (20_000 * RAD - reward, debt)
    with reverts("backstop: insufficient unattributed debt"):
        system.tx(b, "settle", r.keeper, 1)


def test_unattributed_debt__is_bad_debt_minus_open_events(system):
    """Money flow: 50 of bad debt is unattributed; opening an event of 30 attributes 30 of it;
    closing that event with 30 raised keeps them attributed as unsettled proceeds, and healing
    settles them: 20 unattributed throughout."""
    r, b = system.roles, system.d.backstop
    assert _unattributed_debt(system) == 0
    _backstop_bad_debt(system, 20 * RAD)
    assert _unattributed_debt(system) == 20 * RAD
    _own_event(system, 30 * RAD)
    assert (_bad_debt(system, b), _backstop(system, "attributed_debt")) == (50 * RAD, 30 * RAD)
    assert _unattributed_debt(system) == 20 * RAD
    system.tx(b, "close_loss", r.governance, system.eth.type_id, 1, 0, 0)
    assert (_bad_debt(system, b), _backstop(system, "attributed_debt")) == (50 * RAD, 30 * RAD)
    assert _unattributed_debt(system) == 20 * RAD
    heal(system, 30 * RAD)
    assert (_bad_debt(system, b), _backstop(system, "attributed_debt")) == (20 * RAD, 0)
    assert _unattributed_debt(system) == 20 * RAD


# ================================================================ the whole cycle


def test_full_cycle__liquidate_take_settle__backstop_keeps_penalty_less_reward(system):
    """Money flow: the vault's 13,000 (x rate) of debt becomes the Backstop's bad debt, attributed
    to the event of auction 1, and the keeper's reward its unattributed bad debt; a taker pays the
    whole debt to raise (debt x 1.13) for 6.44 ETH straight to the Backstop (the take finishes
    the auction: nothing is escrowed), the other 3.56 ETH going back to the borrower; the auction
    closes the event with all of it paid directly: the Backstop has nothing to pull, keeps the
    seized debt's part as unsettled proceeds (covered = debt, loss 0) and the penalty as surplus;
    settle cancels the reward against the penalty (not against the proceeds), and heal cancels
    the proceeds against the seized debt, leaving the penalty less the reward as surplus and no
    bad debt."""
    r, t, b = system.roles, system.eth, system.d.backstop
    _borrow_stable(system, r.other)
    _unsafe_eth_vault(system)
    rate = _ctype(system, t).rate
    debt = 13_000 * WAD * rate
    to_raise = _to_raise(debt)
    reward = _reward(to_raise)
    _liquidate(system, r.borrower)
    opened_at = system.now

    # before the take there is no surplus to settle the (unattributed) reward with
    assert _unattributed_debt(system) == reward
    with reverts("backstop: insufficient surplus"):
        system.tx(b, "settle", r.keeper, 1)

    taker = _stable(system, r.other)
    system.tx(t.auction, "take", r.other, 1, 10 * WAD, 2_280 * RAY, r.other, b"")
    bought = to_raise // (2_280 * RAY)
    assert _events(system) == [
        (
            system.d.engine,
            "CollateralTransferred",
            {"collateral_type": t.type_id, "src": t.auction, "dst": r.other, "amount": bought},
        ),
        (system.d.engine, "StableTransferred", {"src": r.other, "dst": b, "amount": to_raise}),
        (
            system.d.liquidator,
            "DebtInAuctionRemoved",
            {"collateral_type": t.type_id, "amount": to_raise},
        ),
        (
            system.d.engine,
            "CollateralTransferred",
            {
                "collateral_type": t.type_id,
                "src": t.auction,
                "dst": r.borrower,
                "amount": 10 * WAD - bought,
            },
        ),
        (
            b,
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": t.auction,
                "auction_id": 1,
                "raised": to_raise,
                "covered": debt,
                "loss": 0,
            },
        ),
        (
            t.auction,
            "Finished",
            {"auction_id": 1, "collateral_returned": 10 * WAD - bought, "debt_unraised": 0},
        ),
        (
            t.auction,
            "Taken",
            {
                "auction_id": 1,
                "max_price": 2_280 * RAY,
                "price": 2_280 * RAY,
                "owe": to_raise,
                "collateral": bought,
                "debt": 0,
                "lot": 10 * WAD - bought,
                "owner": r.borrower,
            },
        ),
    ]
    assert 6_442 * WAD // 1000 < bought < 6_443 * WAD // 1000
    assert _stable(system, r.other) == taker - to_raise
    assert _free_collateral(system, t, r.other) == bought
    assert _free_collateral(system, t, r.borrower) == 10 * WAD - bought
    assert _free_collateral(system, t, t.auction) == 0
    assert _stable(system, t.auction) == 0
    assert _stable(system, b) == to_raise
    assert _bad_debt(system, b) == debt + reward
    assert _loss(system, t, 1) == (debt, 0, opened_at, DONE)
    assert _backstop(system, "open_losses") == 0
    assert _backstop(system, "attributed_debt") == _backstop(system, "unsettled_proceeds") == debt
    assert _liquidator(system, "debt_in_auction") == 0
    assert _auction(system, t, 1).owner == ZERO_ADDRESS

    # only the reward is left to settle (the proceeds are attributed until healed)
    with reverts("backstop: insufficient unattributed debt"):
        system.tx(b, "settle", r.keeper, reward + 1)
    system.tx(b, "settle", r.keeper, reward)
    assert _bad_debt(system, b) == debt
    heal(system, debt)

    assert _bad_debt(system, b) == 0
    assert _stable(system, b) == to_raise - debt - reward
    assert to_raise - debt - reward == ceil_div(debt * 13, 100) - reward  # penalty less reward
    assert _unattributed_debt(system) == 0


def test_full_cycle__auction_raises_less_than_debt__event_keeps_the_shortfall_as_its_loss(system):
    """Money flow: ETH falls to 1,000: the 10 ETH sell for 12,000 (at 1,200 each, the start
    price), less than the 13,000 (x rate) of seized debt and the 14,690 to raise; the auction
    ends sold out and reports all its debt gone from auction; closing its event, the Backstop
    keeps the 12,000 as unsettled proceeds (covered: settle cannot spend them on the reward; heal
    cancels 12,000 of the seized debt with them) and records the rest as the event's loss, still
    attributed bad debt waiting for the waterfall: settle cannot touch it, even once the Backstop
    has surplus, and only the keeper's reward is settleable."""
    r, t, b = system.roles, system.eth, system.d.backstop
    _borrow_stable(system, r.other, 12_500 * WAD)
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 13_000 * WAD)
    _crash(system, t, 1_000 * WAD)
    rate = _ctype(system, t).rate
    debt = 13_000 * WAD * rate
    to_raise = _to_raise(debt)
    reward = _reward(to_raise)
    _liquidate(system, r.borrower)
    opened_at = system.now

    system.tx(t.auction, "take", r.other, 1, 10 * WAD, 1_200 * RAY, r.other, b"")
    proceeds = 12_000 * RAD
    removed = [ev[2]["amount"] for ev in _events(system) if ev[1] == "DebtInAuctionRemoved"]
    assert removed == [to_raise]
    assert _event(system, "Finished") == {
        "auction_id": 1,
        "collateral_returned": 0,
        "debt_unraised": to_raise - proceeds,
    }
    assert [n for _, n, _ in _events(system) if n == "DebtSettled"] == []
    assert _event(system, "LossClosed") == {
        "collateral_type": t.type_id,
        "auction": t.auction,
        "auction_id": 1,
        "raised": proceeds,
        "covered": proceeds,
        "loss": debt - proceeds,
    }
    assert _liquidator(system, "debt_in_auction") == 0
    assert _free_collateral(system, t, r.borrower) == 0
    assert _stable(system, t.auction) == 0
    assert _stable(system, b) == proceeds
    assert _bad_debt(system, b) == debt + reward
    assert _loss(system, t, 1) == (debt, debt - proceeds, opened_at, CLOSED)
    assert _backstop(system, "open_losses") == 1
    assert _backstop(system, "attributed_debt") == debt
    assert _unattributed_debt(system) == reward
    # the Backstop holds 12,000 of stablecoin, all of it owed to the seized debt
    with reverts("backstop: insufficient surplus"):
        system.tx(b, "settle", r.keeper, 1)
    heal(system, proceeds)
    assert _stable(system, b) == 0
    assert _bad_debt(system, b) == debt - proceeds + reward
    assert _backstop(system, "attributed_debt") == debt - proceeds
    assert _unattributed_debt(system) == reward

    with reverts("backstop: insufficient surplus"):
        system.tx(b, "settle", r.keeper, 1)
    system.tx(
        system.d.engine, "create_unbacked", r.governance, r.governance, r.governance, 5_000 * RAD
    )
    _backstop_surplus(system, 5_000 * RAD)
    with reverts("backstop: insufficient unattributed debt"):
        system.tx(b, "settle", r.keeper, reward + 1)
    system.tx(b, "settle", r.keeper, reward)
    assert _bad_debt(system, b) == debt - proceeds
    assert _loss(system, t, 1) == (debt, debt - proceeds, opened_at, CLOSED)


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
        slot = storage_slot("Backstop", name)
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


def test_liquidate__partial_that_rounds_to_all_collateral__takes_the_whole_vault(system):
    """Money flow: with dust at 0, a vault of 3 wei of collateral and 3,900 wei of debt is
    liquidated under a cap that allows about 3,700 wei of it; the seized collateral rounds up to
    all 3 wei, so the liquidator takes all the debt too instead of leaving debt with no
    collateral."""
    r, t = system.roles, system.eth
    system.tx(system.d.engine, "set_dust", r.governance, t.type_id, 0)
    _unsafe_eth_vault(system, collateral=3, debt=3_900)
    rate = _ctype(system, t).rate
    # room for 3,700 wei of normalized debt: 3,700 * rate * penalty / WAD, rounded up
    _set_type_cap(system, t, -(-3_700 * rate * PENALTY // WAD))
    _liquidate(system, r.borrower)
    assert _vault(system, t, r.borrower) == (0, 0)
    liquidated = [e.args for e in system.events if e.name == "Liquidated"][0]
    assert (liquidated["collateral"], liquidated["normalized_debt"]) == (3, 3_900)
