"""What several test files share: the specification's arithmetic written plainly, independent of
the model's fixed_point helpers, so a test states what a result must be without reusing the code
it checks. (Fixtures are in conftest.py; the lockstep harness is offchain/testing/harness.py.)"""

from __future__ import annotations

import functools
import json
import subprocess

from offchain.model.fixed_point import WAD
from offchain.testing.harness import events, move_prices, read


def ceil_div(x: int, y: int) -> int:
    """x / y rounded up (the direction every protocol division that favours the protocol uses)."""
    return -(-x // y)


def started_auction(system, auction: str) -> int:
    """The id of the auction `auction` started in the last transaction (its `Started` event; ids
    name a storage slot and its generation, so they are not the count of auctions started)."""
    ids = [
        args["auction_id"]
        for addr, name, args in events(system)
        if (addr, name) == (auction, "Started")
    ]
    assert len(ids) == 1, f"{len(ids)} auctions started"
    return ids[0]


def heal(system, amount: int) -> None:
    """The stranger heals the Backstop: its unsettled proceeds, `amount` [rad] (what finished
    auctions raised to cover their seized debt, and what the fund, pool and redistribution layers
    paid in covers), cancel as much of its bad debt, in the chain and
    the model. Checks the event and that stablecoin, bad debt and attributed debt all fall by
    `amount`."""
    b, e = system.d.backstop, system.d.engine
    assert read(system, b, "unsettled_proceeds") == amount
    before = (read(system, e, "stable", b), read(system, e, "bad_debt", b))
    attributed = read(system, b, "attributed_debt")
    system.tx(b, "heal", system.roles.stranger)
    assert [(name, args) for addr, name, args in events(system) if addr == b] == [
        ("ProceedsHealed", {"amount": amount})
    ]
    assert read(system, b, "unsettled_proceeds") == 0
    assert read(system, b, "attributed_debt") == attributed - amount
    assert (read(system, e, "stable", b), read(system, e, "bad_debt", b)) == (
        before[0] - amount,
        before[1] - amount,
    )


@functools.cache
def storage_slot(contract: str, name: str) -> int:
    """The storage slot of `contract`'s (a file in contracts/) top-level variable `name`, as the
    compiler lays it out (`vyper -f layout`), so a test reading raw storage follows the layout.
    A variable of a module the contract initializes is `module.name` (`loss_book.loss_totals`)."""
    out = subprocess.run(
        ["vyper", "-f", "layout", "-p", "contracts", f"contracts/{contract}.vy"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    entry = json.loads(out)["storage_layout"]
    for part in name.split("."):
        entry = entry[part]
    return entry["slot"]


# ---------------------------------------------------------------- auctions (chain == model)


def auction_sale(system, t, auction_id) -> tuple:
    """(position, debt, lot, owner, started, top): the sale's state, without the reward budget."""
    return read(system, t.auction, "auctions", auction_id)[:6]


def at(system, timestamp) -> None:
    """The next transaction is mined at `timestamp`."""
    system.lockstep.set_next_block_time(timestamp)


def crash(system, t, price) -> None:
    move_prices(system, [(t, price)])


def liquidate(system, t, owner) -> int:
    """The keeper liquidates `owner`'s vault; returns the id of the auction started."""
    system.tx(
        system.d.liquidator, "liquidate", system.roles.keeper, t.type_id, owner, system.roles.keeper
    )
    return started_auction(system, t.auction)


def eth_auction(
    system, owner=None, collateral=10 * WAD, debt=13_000 * WAD, price=1_500 * WAD
) -> int:
    """`owner` (the borrower) locks `collateral` ETH and draws `debt`; ETH crashes to `price`; the
    keeper liquidates. Returns the auction id."""
    owner = owner or system.roles.borrower
    system.open_vault(owner, "ETH-A", collateral, debt)
    crash(system, system.eth, price)
    return liquidate(system, system.eth, owner)


def fund_taker(system, taker, amount, auctions=()) -> None:
    """Governance mints `amount` [rad] of unbacked internal stablecoin to `taker` (its own bad
    debt), who lets each auction collect payment."""
    r = system.roles
    system.tx(system.d.engine, "create_unbacked", r.governance, r.governance, taker, amount)
    for auction in auctions:
        system.tx(system.d.engine, "allow", taker, auction)
