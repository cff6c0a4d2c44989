"""What several test files share: the specification's arithmetic written plainly, independent of
the model's fixed_point helpers, so a test states what a result must be without reusing the code
it checks. (Fixtures are in conftest.py; the lockstep harness is offchain/testing/harness.py.)"""

from __future__ import annotations

import functools
import importlib.util
import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

from offchain.backends import ANVIL_ACCOUNTS, Lockstep, RevmBackend, model_beside
from offchain.model.fixed_point import WAD
from offchain.system.config import load_config
from offchain.system.deployment import deploy_system
from offchain.testing.fuzz import REVM_GENESIS, Artifacts
from offchain.testing.harness import (
    TEST_FACTORIES,
    Roles,
    System,
    events,
    move_prices,
    read,
)


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


def revm_system(artifacts: Artifacts) -> tuple[System, RevmBackend]:
    """The devnet config deployed on revm in lockstep with the model, without pool liquidity (a
    System whose `chain` is revm, and the RevmBackend itself, for raw storage writes)."""
    evm = RevmBackend(*artifacts, REVM_GENESIS)
    roles = Roles(*ANVIL_ACCOUNTS[:6])
    model = model_beside(evm, roles.users, TEST_FACTORIES)
    d = deploy_system(
        Lockstep(evm, model), load_config(), roles.governance, roles.feeder, seed_pools=False
    )
    return System(evm, model, d, roles), evm


def vaults_at(system: System, t, owners: Sequence[str], collateral: int, debt: int) -> None:
    """A vault of `collateral` [wad] and `debt` [wad] for each owner (governance mints and joins
    the collateral for them; each owner draws its own debt)."""
    gov, d = system.roles.governance, system.d
    system.tx(t.token, "mint", gov, gov, collateral * len(owners))
    system.tx(t.token, "approve", gov, t.join, collateral * len(owners))
    for o in owners:
        system.tx(t.join, "join", gov, o, collateral)
        system.tx(d.engine, "modify_vault", o, t.type_id, o, o, o, collateral, debt)


def script_cli(script: str, name: str = "script"):
    """The click command of `scripts/_<script>.py` (what `ape run <script>` runs; scripts/
    <script>.py stands in for it: offchain/system/cli.py's DeferredCommand), loaded as a module
    of its own, a fresh one each call (the scripts are not a package): for CliRunner, and for a
    test that replaces a name in its globals (`name`: the module's, distinct per caller)."""
    path = Path(__file__).resolve().parents[1] / "scripts" / f"_{script}.py"
    spec = importlib.util.spec_from_file_location(f"{script.replace('-', '_')}_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.cli


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
