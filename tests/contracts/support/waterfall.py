"""The Backstop's loss event and loss waterfall: readers, the loss event used throughout and its
steps (the waterfall's tests in tests/contracts/backstop/,
fee_accumulator/test_accrue_fee_split.py).

One loss event is used throughout, with numbers written from the spec and devnet.toml:
the borrower locks 10 ETH and draws 13,000 BUSD of normalized debt (the rate is a hair above 1:
one second of fees accrued at deployment, and none since); ETH crashes from 2,000 to 1,000 and
the keeper liquidates. The seized debt D is 13,000 x rate and the auction must raise
T = ceil(D x 1.13), about 14,690; the keeper's reward, 300 + 0.1% x T (about 314.69), is the
Backstop's unattributed bad debt. The auction starts at 1,000 x 1.2 = 1,200 and falls x0.99
every 90 s (stairstep); 90 s in, the keeper buys all 10 ETH at exactly 1,188: it raises
11,880, so `unraised` (about 2,810) is more than the penalty part (about 1,690) and the event
closes with a loss L = D - 11,880, about 1,120 BUSD, which `cover` sends through the waterfall
once the queue delay (3,600 s) has passed. Every amount in the tests is computed exactly from D.
"""

from __future__ import annotations

from dataclasses import dataclass

from helpers import ceil_div, heal, started_auction

from offchain.model.backstop import DEBT_AUCTION, DONE, FUND, POOL, REDISTRIBUTION
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices
from offchain.testing.harness import read as _read

ETH = "ETH-A"
DEFAULT_WATERFALL = [FUND, POOL, DEBT_AUCTION, REDISTRIBUTION]
# config/devnet.toml
QUEUE_DELAY = 3_600
POOL_FEE_SHARE = WAD // 4  # 0.25
# the loss event every test uses (module docstring)
CRASH_PRICE = 1_000 * WAD
COLLATERAL = 10 * WAD
TAKE_PRICE = 1_188 * RAY  # 1,200 x 0.99: one stairstep after the start
TAKE_DELAY = 90
RAISED = 10 * 1_188 * RAD  # 11,880 BUSD


def stable(system, who) -> int:
    return _read(system, system.d.engine, "stable", who)


def bad_debt(system, who) -> int:
    return _read(system, system.d.engine, "bad_debt", who)


def backstop(system, getter, *args):
    return _read(system, system.d.backstop, getter, *args)


def pool(system, getter, *args):
    return _read(system, system.d.stability_pool, getter, *args)


def ctype(system):
    """ETH-A's (normalized_debt, rate, safe_price, debt_ceiling, dust)."""
    return (
        system.engine()
        .collateral_types[system.eth.type_id]
        ._make(_read(system, system.d.engine, "collateral_types", system.eth.type_id))
    )


@dataclass(frozen=True)
class LossEvent:
    """One liquidation of the borrower's vault: the Backstop's key for it and its amounts [rad],
    written from the spec at the type's rate when the vault was seized."""

    type_id: bytes
    auction: str
    auction_id: int
    created_at: int
    rate: int  # [ray]
    normalized_debt: int = 13_000 * WAD

    @property
    def key(self) -> tuple:
        """Backstop.losses / cover arguments."""
        return (self.type_id, self.auction, self.auction_id)

    @property
    def debt(self) -> int:
        """Seized debt D, without penalty."""
        return self.normalized_debt * self.rate

    @property
    def to_raise(self) -> int:
        """T = ceil(D x 1.13)."""
        return ceil_div(self.debt * 113, 100)

    @property
    def reward(self) -> int:
        """The keeper's reward: 300 + 0.1% of T, rounded down (unattributed bad debt)."""
        return 300 * RAD + self.to_raise // 1_000

    @property
    def loss(self) -> int:
        """What the take's 11,880 leaves of D: about 1,120."""
        return self.debt - RAISED


def crash(system, price: int = CRASH_PRICE) -> None:
    """The feeder posts `price`; two oracle pokes a delay apart make it current (valid for
    max_age from the post), and the spotter writes the new safe price to the engine."""
    move_prices(system, [(system.eth, price)])


def mint_stable(system, who: str, amount: int) -> None:
    """Governance mints `amount` [rad] of internal stablecoin to `who` against its own bad debt
    (not the Backstop's: it is no part of any loss)."""
    system.tx(
        system.d.engine,
        "create_unbacked",
        system.roles.governance,
        system.roles.governance,
        who,
        amount,
    )


def give_surplus(system, amount: int) -> None:
    """The Backstop's insurance fund: `amount` [rad] of stablecoin minted to it against
    governance's bad debt."""
    if amount:
        mint_stable(system, system.d.backstop, amount)


def stake_in_pool(system, staker: str, amount: int) -> None:
    """`staker` gets `amount` [rad] of stablecoin, lets the pool take it and stakes it; with no
    loss open, the stake becomes shares when the staker activates it, an exposure delay later."""
    if not amount:
        return
    mint_stable(system, staker, amount)
    system.tx(system.d.engine, "allow", staker, system.d.stability_pool)
    system.tx(system.d.stability_pool, "stake", staker, amount)
    system.warp(_read(system, system.d.stability_pool, "exposure_delay"))
    system.tx(system.d.stability_pool, "activate", staker)
    assert _events(system)[-1][1] == "Activated"


def liquidate_borrower(system, vaults=()) -> LossEvent:
    """Other `vaults` (owner, collateral [wad], normalized debt [wad]) open first; the borrower's
    10 ETH / 13,000 vault is liquidated after the crash. Returns the open (running) loss event."""
    r, t = system.roles, system.eth
    for owner, collateral, debt in vaults:
        system.open_vault(owner, ETH, collateral, debt)
    system.open_vault(r.borrower, ETH, COLLATERAL, 13_000 * WAD)
    crash(system)
    rate = ctype(system).rate
    # one second of fees accrued at deployment (set_multiplier charges the base fee first)
    assert RAY < rate < RAY + RAY // 10**9
    system.tx(system.d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper)
    event = LossEvent(t.type_id, t.auction, started_auction(system, t.auction), system.now, rate)
    assert 1_120 * RAD < event.loss < 1_121 * RAD
    opened = [
        args
        for addr, name, args in _events(system)
        if addr == system.d.backstop and name == "LossOpened"
    ]
    assert opened == [
        {
            "collateral_type": t.type_id,
            "auction": t.auction,
            "auction_id": event.auction_id,
            "debt": event.debt,
            "to_raise": event.to_raise,
        }
    ]
    return event


def sell_out_below_debt(system, event: LossEvent, then_heal: bool = True) -> None:
    """The keeper buys all 10 ETH one stairstep in, at 1,188: the take sells out, so the keeper
    pays the 11,880 straight to the Backstop (nothing is escrowed, nothing pulled) and the
    Backstop closes the event with a loss of D - 11,880 (about 1,120). The 11,880 are unsettled
    proceeds until the stranger heals them (unless `then_heal` is false): then they have
    cancelled as much of the seized debt."""
    r = system.roles
    mint_stable(system, r.keeper, RAISED)
    system.tx(system.d.engine, "allow", r.keeper, event.auction)
    system.lockstep.set_next_block_time(event.created_at + TAKE_DELAY)
    system.tx(
        event.auction, "take", r.keeper, event.auction_id, COLLATERAL, TAKE_PRICE, r.keeper, b""
    )
    paid = [args for addr, name, args in _events(system) if name == "StableTransferred"]
    assert paid == [{"src": r.keeper, "dst": system.d.backstop, "amount": RAISED}]
    closed = [
        args
        for addr, name, args in _events(system)
        if addr == system.d.backstop and name == "LossClosed"
    ]
    assert closed == [
        {
            "collateral_type": event.type_id,
            "auction": event.auction,
            "auction_id": event.auction_id,
            "raised": RAISED,
            "covered": RAISED,
            "loss": event.loss,
        }
    ]
    if then_heal:
        heal(system, RAISED)


def loss_event(
    system, surplus: int = 0, stake: int = 0, vaults=(), for_reward: bool = False
) -> LossEvent:
    """The stranger stakes `stake` in the stability pool (before the crash, so it is exposed),
    the borrower is liquidated and the auction sells out below the debt, leaving a loss of
    about 1,120; then the Backstop receives `surplus` as insurance fund, and with `for_reward`
    the keeper's reward besides: the fund keeps surplus for the unattributed bad debt (the
    reward) first and pays a loss only from what is above it (finding 31-6), so that the fund
    may pay all of `surplus`. Returns the closed event."""
    stake_in_pool(system, system.roles.stranger, stake)
    event = liquidate_borrower(system, vaults)
    sell_out_below_debt(system, event)
    give_surplus(system, surplus + (event.reward if for_reward else 0))
    return event


def cover(system, event: LossEvent, sender=None) -> list[tuple[int, str, int]]:
    """Anyone (the stranger) covers `event` as soon as its queue delay has passed; returns its
    receipts (layer, participant, amount), in order."""
    system.lockstep.set_next_block_time(max(event.created_at + QUEUE_DELAY, system.now + 1))
    system.tx(system.d.backstop, "cover", sender or system.roles.stranger, *event.key)
    return receipts(system, event)


def receipts(system, event: LossEvent) -> list[tuple[int, str, int]]:
    out = []
    for addr, name, args in _events(system):
        if addr == system.d.backstop and name == "LossAllocated":
            assert (args["collateral_type"], args["auction"], args["auction_id"]) == event.key
            out.append((args["layer"], args["participant"], args["amount"]))
    return out


def set_waterfall(system, order) -> None:
    system.tx(system.d.backstop, "set_waterfall", system.roles.governance, list(order))


def assert_done(system, event: LossEvent, healed: int) -> None:
    """The event is done; what the fund, pool and redistribution layers paid for it, `healed`
    [rad], is held as unsettled proceeds (still attributed) until the stranger heals it; then
    nothing is attributed."""
    assert backstop(system, "losses", *event.key) == (event.debt, 0, event.created_at, DONE)
    assert backstop(system, "open_losses") == 0
    assert backstop(system, "unsettled_proceeds") == healed
    assert backstop(system, "attributed_debt") == healed
    if healed:
        heal(system, healed)
    assert backstop(system, "attributed_debt") == 0
