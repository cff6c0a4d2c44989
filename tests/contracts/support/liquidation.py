"""Liquidator and Backstop tests' readers, formulas and steps (tests/contracts/liquidator/, the
Backstop's loss-event, authority and settle tests in backstop/, stories/test_full_cycle.py).

A liquidation moves value three ways at once: the vault's collateral to its type's DutchAuction, the
vault's debt to the Backstop (as bad debt, recorded as a running loss event of that auction:
`open_loss`), and a keeper reward to the keeper (new stablecoin, backed by more bad debt of the
Backstop that belongs to no event: unattributed). Takes that do not finish the auction pay into it
(escrow); the take that finishes it pays the Backstop directly, and the auction closes its event
(`close_loss`): the Backstop pulls the escrowed rest of the proceeds, settles the seized debt with
them up to its amount, keeps the rest (penalty) as surplus and records what they did not cover as
the event's loss. `settle` cancels only unattributed bad debt against surplus. (What covers an
event's loss, `cover` and its layers, is tested in backstop/test_cover*.py.) Every expected number
in the tests is written from the contracts' docstrings (seized debt = room / rate / penalty rounded
down, seized collateral and debt to raise rounded up, reward = flat + rate x debt rounded down), and
the harness checks chain against model after every transaction and the invariants at the end.
"""

from __future__ import annotations

import copy
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak
from helpers import ceil_div

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices

# config/devnet.toml, both types
PENALTY = 113 * WAD // 100  # liquidation penalty 1.13 [wad]
DUST = 2_500 * RAD
REWARD_FLAT = 300 * RAD
REWARD_RATE = WAD // 1000  # 0.1% [wad]
TYPE_CAP_ETH = 10_000_000 * RAD
QUEUE_DELAY = 3_600
# contracts/Liquidator.vy
MAX_PENALTY = 2 * WAD
# a type id nobody knows
NEW_TYPE = b"NEW-A".ljust(32, b"\0")
# the market price of ETH after the crash most tests use [wad]: 1,900 BUSD
CRASH_PRICE = 1_900 * WAD
# contracts/Backstop.vy: the status of a loss event, and the bound on its debt
RUNNING, CLOSED, DONE = 1, 2, 3
DEBT_LIMIT = 2**192


def ctype(system, t):
    on_chain = system.view(system.d.engine, "collateral_types", t.type_id)
    in_model = system.engine().collateral_types[t.type_id]
    assert on_chain == tuple(in_model)
    return in_model


def vault(system, t, owner) -> tuple[int, int]:
    """(collateral [wad], normalized debt [wad]) of `owner`'s vault."""
    on_chain = system.view(system.d.engine, "vaults", t.type_id, owner)
    in_model = tuple(system.engine().vaults[(t.type_id, owner)])
    assert on_chain == in_model
    return on_chain


def free_collateral(system, t, who) -> int:
    on_chain = system.view(system.d.engine, "collateral", t.type_id, who)
    assert on_chain == system.engine().collateral[(t.type_id, who)]
    return on_chain


def stable(system, who) -> int:
    on_chain = system.view(system.d.engine, "stable", who)
    assert on_chain == system.engine().stable[who]
    return on_chain


def bad_debt(system, who) -> int:
    on_chain = system.view(system.d.engine, "bad_debt", who)
    assert on_chain == system.engine().bad_debt[who]
    return on_chain


def engine_totals(system) -> tuple[int, int]:
    """(total_issued, total_unbacked) [rad]."""
    e = system.d.engine
    on_chain = (system.view(e, "total_issued"), system.view(e, "total_unbacked"))
    model = system.engine()
    assert on_chain == (model.total_issued, model.total_unbacked)
    return on_chain


def liquidator(system, name: str):
    on_chain = system.view(system.d.liquidator, name)
    assert on_chain == getattr(system.contract(system.d.liquidator), name)
    return on_chain


def type_config(system, t):
    """Liquidator.types(type): (auction, penalty, max_debt_in_auction, debt_in_auction)."""
    on_chain = system.view(system.d.liquidator, "types", t.type_id)
    in_model = system.contract(system.d.liquidator).types[t.type_id]
    assert on_chain == tuple(in_model)
    return in_model


def authorized(system, address, who) -> bool:
    on_chain = system.view(address, "authorized", who)
    assert on_chain == system.contract(address).authorized[who]
    return on_chain


def backstop(system, name: str, *args) -> Any:
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


def unattributed_debt(system) -> int:
    """The Backstop's bad debt that belongs to no open loss event (keeper rewards) [rad]."""
    return backstop(system, "unattributed_debt")


def loss(system, t, auction_id, auction=None) -> tuple:
    """Backstop.losses(type, auction, id): (debt, due, created_at, status)."""
    return backstop(system, "losses", t.type_id, auction or t.auction, auction_id)


def event(system, name: str) -> dict:
    """The arguments of the only event called `name` in the last transaction."""
    found = [args for _, n, args in _events(system) if n == name]
    assert len(found) == 1, f"{len(found)} {name} events"
    return found[0]


def auction(system, t, auction_id):
    """DutchAuction.auctions(id): (position, debt, lot, owner, started, top, reward_budget)."""
    on_chain = system.view(t.auction, "auctions", auction_id)
    in_model = system.contract(t.auction).auctions[auction_id]
    assert on_chain == tuple(in_model)
    return in_model


def auction_var(system, t, name: str):
    on_chain = system.view(t.auction, name)
    in_model = getattr(system.contract(t.auction), name)
    value = in_model() if callable(in_model) else in_model
    assert on_chain == (tuple(value) if isinstance(value, list) else value)
    return on_chain


def returns(system, address, function, sender, *args):
    """What `function` returns if `sender` sends it now: eth_call on chain, and the model run on a
    throw-away copy; both must agree (Lockstep.transact drops return values)."""
    tx, fn = system.chain.call_data(address, function, *args)
    raw = system.chain.rpc("eth_call", [{**tx, "from": sender}, "latest"])
    (on_chain,) = abi_decode(fn.outputs, bytes.fromhex(raw[2:]))
    in_model = copy.deepcopy(system.model).transact(address, function, sender, *args)
    assert on_chain == in_model
    return on_chain


def to_raise(debt: int, penalty: int = PENALTY) -> int:
    """Debt to raise [rad]: debt x penalty, rounded up."""
    return ceil_div(debt * penalty, WAD)


def reward_limit(to_raise: int) -> int:
    """Half the penalty part of the debt to raise (to_raise - to_raise / 1.13, the quotient rounded
    up; the half rounded down): the most an auction pays in keeper rewards [rad]."""
    return (to_raise - ceil_div(to_raise * WAD, PENALTY)) * (WAD // 2) // WAD


def reward(to_raise: int) -> int:
    """The devnet keeper reward: 300 BUSD + 0.1% of the debt to raise, rounded down [rad], at most
    half the penalty part of the debt to raise."""
    return min(REWARD_FLAT + to_raise * REWARD_RATE // WAD, reward_limit(to_raise))


def small_dust(system) -> None:
    """Governance lowers the ETH dust to 100 BUSD (the devnet's is set from gas economics) so a
    test can open the small vaults it needs; min_auction follows."""
    t = system.eth
    system.tx(system.d.engine, "set_dust", system.roles.governance, t.type_id, 100 * RAD)


def safe_price(price: int, ratio: int) -> int:
    """The spotter's safe price [ray] for a market price [wad] and liquidation ratio [ray]."""
    return price * 10**9 * RAY // ratio


def crash(system, t, price: int) -> None:
    """The feeder posts `price` [wad]; two oracle pokes a delay apart make it current, and the
    spotter writes the new safe price to the engine."""
    move_prices(system, [(t, price)])
    ratio = system.contract(system.d.spotter).liquidation_ratios[t.type_id]
    assert ctype(system, t).safe_price == safe_price(price, ratio)


def unsafe_eth_vault(
    system, owner=None, collateral: int = 10 * WAD, debt: int = 13_000 * WAD
) -> None:
    """`owner` (the borrower) locks 10 ETH and draws 13,000 BUSD (safe at 2,000: 13,333 of safe
    value); the price then falls to 1,900 (12,667 of safe value): the vault is unsafe."""
    system.open_vault(owner or system.roles.borrower, "ETH-A", collateral, debt)
    crash(system, system.eth, CRASH_PRICE)


def liquidate(system, owner, sender=None, keeper=None, t=None) -> None:
    sender = sender or system.roles.keeper
    t = t or system.eth
    system.tx(system.d.liquidator, "liquidate", sender, t.type_id, owner, keeper or sender)


def set_global_cap(system, amount: int) -> None:
    system.tx(system.d.liquidator, "set_max_debt_in_auction", system.roles.governance, amount)


def set_type_cap(system, t, amount: int, penalty: int = PENALTY) -> None:
    system.tx(
        system.d.liquidator,
        "configure_type",
        system.roles.governance,
        t.type_id,
        t.auction,
        penalty,
        amount,
    )


def borrow_stable(system, who, debt: int = 20_000 * WAD) -> None:
    """`who` locks 30 ETH and draws `debt` of stablecoin (safe even after the crash), and allows
    the ETH auction to take payment from its balance."""
    system.open_vault(who, "ETH-A", 30 * WAD, debt)
    system.tx(system.d.engine, "allow", who, system.eth.auction)


def seized(room: int, rate: int, penalty: int = PENALTY) -> int:
    """Normalized debt a room [rad] allows: room / rate / penalty, rounded down [wad]."""
    return room * WAD // rate // penalty


def word(system, address: str, slot: int) -> int:
    return int(system.chain.rpc("eth_getStorageAt", [address, hex(slot), "latest"]), 16)


def mapping_slot(slot: int, key: bytes) -> int:
    """A HashMap entry's slot as Vyper lays it out: keccak(slot . key)."""
    return int.from_bytes(keccak(slot.to_bytes(32, "big") + key.rjust(32, b"\0")), "big")


def backstop_bad_debt(system, amount: int, to=None) -> None:
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


def backstop_surplus(system, amount: int) -> None:
    """Governance pays `amount` of its stablecoin to the Backstop (surplus)."""
    r = system.roles
    system.tx(
        system.d.engine, "transfer_stable", r.governance, r.governance, system.d.backstop, amount
    )


def own_event(system, amount: int, auction_id: int = 1) -> None:
    """Governance (a Backstop authority) plays an auction: `amount` of the Backstop's bad debt
    (its stablecoin going to governance) is opened as event (ETH, governance, id) to raise the
    same amount (penalty 1), and governance lets the Backstop pull its payment when it closes
    the event."""
    r, t = system.roles, system.eth
    backstop_bad_debt(system, amount)
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


def assert_all_cancelled(system) -> None:
    """After an overflow of the unsettled proceeds: nothing is left unsettled, attributed, open,
    held or owed by the Backstop, and a heal has nothing to do."""
    b = system.d.backstop
    assert backstop(system, "unsettled_proceeds") == 0
    assert backstop(system, "attributed_debt") == 0
    assert backstop(system, "open_losses") == 0
    assert (stable(system, b), bad_debt(system, b)) == (0, 0)
    system.tx(b, "heal", system.roles.stranger)
    assert _events(system) == []
