"""The debt and surplus auctions' readers and scenario steps (tests/contracts/debt_auction/,
surplus_auction/, governance_token/ and the Backstop's start_debt_auction, start_surplus_auction
and set_auction_parameters tests).

Debt to auction comes from a real loss event: the borrower's 10 ETH vault with 13,000 BUSD of
debt is liquidated after ETH falls to 1,000; a taker buys the whole lot at the start price,
1,000 x 1.2 = 1,200, for 12,000 BUSD; the Backstop settles 12,000 of the 13,000 x rate seized
debt, and `cover`, with the waterfall reduced to [DEBT_AUCTION], hands the loss (13,000 x rate
- 12,000, about 1,000 BUSD) to `debt_to_auction`. Surplus comes from a year of stability fees
on a 13,000 BUSD vault (the stability pool has no stakers, so the whole fee is the Backstop's).
Bidders get their internal stablecoin from governance (`create_unbacked`, governance's own bad
debt) and their governance tokens from governance, the token's owner and a minter.
"""

from __future__ import annotations

from helpers import heal, started_auction

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices
from offchain.testing.harness import read as _read

ETH = "ETH-A"
# config/devnet.toml, [backstop]
SURPLUS_BUFFER = 500_000 * RAD
SURPLUS_LOT = 10_000 * RAD
DEBT_BID = 50_000 * RAD
INITIAL_LOT = 250 * WAD
MIN_DECREASE = 105 * WAD // 100
LOT_GROWTH = 15 * WAD // 10
MIN_INCREASE = 105 * WAD // 100
BID_DURATION = 10_800
AUCTION_DURATION = 172_800
QUEUE_DELAY = 3_600
# Backstop.vy layers
DEBT_AUCTION_LAYER = 3
# packed fields of both auctions
MAX_FIELD = 2**128 - 1
MAX_DURATION = 2**32 - 1
YEAR = 365 * 24 * 3600
# auctions(id) of no auction: (bid, lot, winner, bid_expiry, end)
NO_AUCTION = (0, 0, ZERO_ADDRESS, 0, 0)


def stable(system, who) -> int:
    return _read(system, system.d.engine, "stable", who)


def bad_debt(system, who) -> int:
    return _read(system, system.d.engine, "bad_debt", who)


def backstop(system, name):
    return _read(system, system.d.backstop, name)


def debt_auction(system, auction_id) -> tuple:
    """(bid [rad], lot [wad], winner, bid_expiry, end)."""
    return _read(system, system.d.debt_auction, "auctions", auction_id)


def surplus_auction(system, auction_id) -> tuple:
    """(bid [wad], lot [rad], winner, bid_expiry, end)."""
    return _read(system, system.d.surplus_auction, "auctions", auction_id)


def gov_balance(system, who) -> int:
    on_chain = system.view(system.d.governance_token, "balanceOf", who)
    assert on_chain == system.contract(system.d.governance_token).balance_of[who]
    return on_chain


def gov_supply(system) -> int:
    on_chain = system.view(system.d.governance_token, "totalSupply")
    assert on_chain == system.contract(system.d.governance_token).total_supply
    return on_chain


def at(system, timestamp) -> None:
    """The next transaction is mined at `timestamp`."""
    system.lockstep.set_next_block_time(timestamp)


def _crash(system, t, price) -> None:
    move_prices(system, [(t, price)])


def fund_stable(system, who, amount, spender=None) -> None:
    """Governance mints `amount` [rad] of unbacked internal stablecoin to `who` (governance's own
    bad debt); `who` lets `spender` (default: the DebtAuction) move it."""
    r = system.roles
    system.tx(system.d.engine, "create_unbacked", r.governance, r.governance, who, amount)
    system.tx(system.d.engine, "allow", who, spender or system.d.debt_auction)


def fund_gov(system, who, amount) -> None:
    """Governance (a minter) mints `amount` governance token [wad] to `who`, who lets the
    SurplusAuction spend it."""
    system.tx(system.d.governance_token, "mint", system.roles.governance, who, amount)
    system.tx(system.d.governance_token, "approve", who, system.d.surplus_auction, amount)


def set_sizes(system, buffer=SURPLUS_BUFFER, lot=SURPLUS_LOT, debt_bid=DEBT_BID) -> None:
    system.tx(
        system.d.backstop, "set_auction_parameters", system.roles.governance, buffer, lot, debt_bid
    )


def set_debt_params(
    system,
    initial_lot=INITIAL_LOT,
    min_decrease=MIN_DECREASE,
    lot_growth=LOT_GROWTH,
    bid_duration=BID_DURATION,
    auction_duration=AUCTION_DURATION,
) -> None:
    system.tx(
        system.d.debt_auction,
        "set_parameters",
        system.roles.governance,
        initial_lot,
        min_decrease,
        lot_growth,
        bid_duration,
        auction_duration,
    )


def _rate(system, t) -> int:
    return _read(system, system.d.engine, "collateral_types", t.type_id)[1]


def loss_to_debt_auction(system) -> int:
    """The scenario of the module docstring; returns the loss handed to `debt_to_auction`,
    13,000 x rate - 12,000 (about 1,000 BUSD; the Liquidator accrues the type's fee first).

    Money flow: the vault's debt D = 13,000 x rate becomes the Backstop's bad debt, plus the
    keeper's reward (300 + 0.1% of D x 1.13); the taker's take sells out, so it pays its 12,000
    straight to the Backstop (nothing escrowed), which holds it as unsettled proceeds until the
    stranger heals it against as much of D; `cover` moves the other
    D - 12,000 to the debt-auction layer."""
    r, t, b = system.roles, system.eth, system.d.backstop
    system.tx(b, "set_waterfall", r.governance, [DEBT_AUCTION_LAYER])
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    _crash(system, t, 1_000 * WAD)
    system.tx(system.d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper)
    auction_id = started_auction(system, t.auction)
    debt = 13_000 * WAD * _rate(system, t)
    loss = debt - 12_000 * RAD
    assert 1_000 * RAD < loss < 1_001 * RAD
    fund_stable(system, r.other, 12_000 * RAD, t.auction)
    system.tx(t.auction, "take", r.other, auction_id, 10 * WAD, 1_200 * RAY, r.other, b"")
    assert [e[2] for e in _events(system) if e[1] == "StableTransferred"] == [
        {"src": r.other, "dst": b, "amount": 12_000 * RAD}
    ]
    closed = [e[2] for e in _events(system) if e[1] == "LossClosed"]
    assert [(c["raised"], c["covered"], c["loss"]) for c in closed] == [
        (12_000 * RAD, 12_000 * RAD, loss)
    ]
    heal(system, 12_000 * RAD)
    system.warp(QUEUE_DELAY)
    system.tx(b, "cover", r.keeper, t.type_id, t.auction, auction_id)
    allocated = [e[2] for e in _events(system) if e[1] == "LossAllocated"]
    assert [(a["layer"], a["participant"], a["amount"]) for a in allocated] == [
        (DEBT_AUCTION_LAYER, system.d.debt_auction, loss)
    ]
    assert backstop(system, "debt_to_auction") == loss
    assert backstop(system, "debt_on_auction") == 0
    reward = 300 * RAD + -(-debt * 113 // 100) // 1000
    assert bad_debt(system, b) == loss + reward
    assert stable(system, b) == 0
    return loss


def fees_to_backstop(system) -> int:
    """A year of stability fees on the borrower's 13,000 BUSD vault: the Backstop's surplus.

    Money flow: `accrue` raises the type's rate by `delta_rate`; the engine credits the fee
    recipient (the Backstop) normalized_debt x delta_rate of new stablecoin, backed by the vault's
    higher debt. Returns that surplus [rad]."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    before = _rate(system, t)
    system.warp(YEAR)
    system.tx(system.d.fees, "accrue", r.keeper, t.type_id)
    surplus = 13_000 * WAD * (_rate(system, t) - before)
    # 2% a year, compounded per second, rounded for the protocol
    assert 259 * RAD < surplus < 261 * RAD
    assert stable(system, system.d.backstop) == surplus
    assert bad_debt(system, system.d.backstop) == 0
    return surplus


def start_debt_auction(system) -> int:
    system.tx(system.d.backstop, "start_debt_auction", system.roles.keeper)
    return _read(system, system.d.debt_auction, "count")


def start_surplus_auction(system) -> int:
    system.tx(system.d.backstop, "start_surplus_auction", system.roles.keeper)
    return _read(system, system.d.surplus_auction, "count")


def shutdown(system) -> None:
    system.tx(system.d.settlement, "shutdown", system.roles.governance)
