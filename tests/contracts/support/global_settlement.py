"""Global settlement tests' readers, formulas and steps (tests/contracts/global_settlement/,
backstop/test_cover_after_shutdown.py, stories/test_global_settlement.py).

docs/loss-waterfall.md "Global settlement" and the contract's docstring: `shutdown` freezes the
engine, the Liquidator, the Backstop and its debt and surplus auctions; per type `fix_price`
fixes final_price = ceil(WAD * RAY / price) [ray of collateral per stablecoin];
`cancel_auction` gives a running auction's lot and remaining tab back to the owner's vault and
closes its loss event; `close_vault` moves collateral worth the vault's debt at the final price
to the settlement (the shortfall of an underwater vault is the type's `gap`); the Backstop
`cover`s open events through FUND, POOL and then SETTLEMENT; `thaw` fixes the outstanding
stablecoin `debt`; `fix_cash_price` fixes the collateral each packed wad redeems; holders `pack`
and `cash`. The haircut is the unbacked debt (settlement layer, keeper rewards) and the gaps.

Scenario pieces (config/devnet.toml): ETH at 2,000 (liquidation ratio 1.5, stairstep auctions
from 1.2 x the price, flat for the first 90 s), WBTC at 30,000 (ratio 1.45); penalty 1.13, keeper
reward 300 + 0.1% of the debt to raise; queue delay 3,600 s; settlement wait 86,400 s. Each type's
rate is a hair above 1 ray from the start (the deployment's fee setters accrue) and stays fixed
unless a test accrues fees, so "13,000" of debt in the tests means 13,000 x rate (docstrings round).
Expected numbers are computed from the spec's formulas and from first principles (exact
rationals) where possible; the harness checks chain == model and the invariants (including loss
conservation) after every test.
"""

from __future__ import annotations

from helpers import ceil_div, started_auction

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import read as _read

ETH, WBTC = "ETH-A", "WBTC-A"
PENALTY = 113 * WAD // 100  # liquidation penalty 1.13 [wad]
BUFFER = 12 * RAY // 10  # auction start price = oracle price x 1.2 [ray]
REWARD_FLAT = 300 * RAD
REWARD_RATE = WAD // 1_000  # 0.1% [wad]
QUEUE_DELAY = 3_600
WAIT = 86_400  # settlement_wait
# Backstop layers
# Backstop loss status
CLOSED, DONE = 2, 3


def gs(system, getter, *args):
    """A GlobalSettlement getter."""
    return _read(system, system.d.settlement, getter, *args)


def bs(system, getter, *args):
    """A Backstop getter."""
    return _read(system, system.d.backstop, getter, *args)


def stable(system, who) -> int:
    return _read(system, system.d.engine, "stable", who)


def bad_debt(system, who) -> int:
    return _read(system, system.d.engine, "bad_debt", who)


def collateral(system, t, who) -> int:
    """Free collateral of `who` in the engine [wad]."""
    return _read(system, system.d.engine, "collateral", t.type_id, who)


def vault(system, t, owner) -> tuple[int, int]:
    """(collateral [wad], normalized debt [wad])."""
    return _read(system, system.d.engine, "vaults", t.type_id, owner)


def rate(system, t) -> int:
    return _read(system, system.d.engine, "collateral_types", t.type_id)[1]


def allocations(system) -> list[tuple[int, str, int]]:
    """(layer, participant, amount) of the last transaction's LossAllocated receipts."""
    return [
        (e.args["layer"], e.args["participant"], e.args["amount"])
        for e in system.events
        if e.address == system.d.backstop and e.name == "LossAllocated"
    ]


def final_price(price: int) -> int:
    """Collateral per stablecoin [ray] for an oracle price [wad], rounded up."""
    return ceil_div(WAD * RAY, price)


def owe(debt: int, final: int) -> int:
    """Collateral a vault with `debt` [rad] owes at `final` [ray]: both steps rounded up [wad]."""
    return ceil_div(ceil_div(debt, RAY) * final, RAY)


def to_raise(debt: int) -> int:
    """Debt to raise [rad]: seized debt x penalty, rounded up."""
    return ceil_div(debt * PENALTY, WAD)


def reward(to_raise: int) -> int:
    """The devnet keeper reward [rad]: 300 + 0.1% of the debt to raise, rounded down."""
    return REWARD_FLAT + to_raise * REWARD_RATE // WAD


def top(price: int) -> int:
    """An auction's start price [ray] for an oracle price [wad]: price x buffer, rounded up."""
    return ceil_div(price * 10**9 * BUFFER, RAY)


def liquidate(system, t, owner) -> int:
    """The keeper liquidates `owner`'s vault; returns the auction id."""
    system.tx(
        system.d.liquidator, "liquidate", system.roles.keeper, t.type_id, owner, system.roles.keeper
    )
    return started_auction(system, t.auction)


def take(system, taker, t, auction_id, amount, max_price) -> None:
    system.tx(t.auction, "take", taker, auction_id, amount, max_price, taker, b"")


def allow(system, who, spender) -> None:
    system.tx(system.d.engine, "allow", who, spender)


def shutdown(system) -> None:
    system.tx(system.d.settlement, "shutdown", system.roles.governance)


def thaw_after_wait(system) -> None:
    system.lockstep.set_next_block_time(gs(system, "shutdown_at") + WAIT)
    system.tx(system.d.settlement, "thaw", system.roles.keeper)


def pack_all(system, holder) -> int:
    """`holder` allows the settlement and packs all of their stablecoin; returns it [wad]."""
    amount = stable(system, holder) // RAY
    allow(system, holder, system.d.settlement)
    system.tx(system.d.settlement, "pack", holder, amount)
    return amount
