"""GlobalSettlement (and DutchAuction.cancel, the Backstop's shutdown path): every step of a
global settlement, on chain and in the model at once.

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
unless a test accrues fees, so "13,000" of debt below means 13,000 x rate (docstrings round).
Expected numbers are computed from the spec's formulas and from first principles (exact
rationals) where possible; the harness checks chain == model and the invariants (including loss
conservation) after every test.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from helpers import ceil_div, heal, started_auction

from offchain.model.backstop import DEBT_AUCTION, FUND, POOL, REDISTRIBUTION, SETTLEMENT
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices as _move_prices
from offchain.testing.harness import read as _read
from offchain.testing.harness import reverts

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
# auctions(id) of an auction that does not run: (position, debt, lot, owner, started, top)
NO_AUCTION = (0, 0, 0, ZERO_ADDRESS, 0, 0, 0)
# a type nobody configured
NEW_TYPE = b"NEW-A".ljust(32, b"\0")


# ---------------------------------------------------------------- reading (chain == model)


def _gs(system, getter, *args):
    """A GlobalSettlement getter."""
    return _read(system, system.d.settlement, getter, *args)


def _bs(system, getter, *args):
    """A Backstop getter."""
    return _read(system, system.d.backstop, getter, *args)


def _stable(system, who) -> int:
    return _read(system, system.d.engine, "stable", who)


def _bad_debt(system, who) -> int:
    return _read(system, system.d.engine, "bad_debt", who)


def _collateral(system, t, who) -> int:
    """Free collateral of `who` in the engine [wad]."""
    return _read(system, system.d.engine, "collateral", t.type_id, who)


def _vault(system, t, owner) -> tuple[int, int]:
    """(collateral [wad], normalized debt [wad])."""
    return _read(system, system.d.engine, "vaults", t.type_id, owner)


def _rate(system, t) -> int:
    return _read(system, system.d.engine, "collateral_types", t.type_id)[1]


def _total_issued(system) -> int:
    return _read(system, system.d.engine, "total_issued")


def _allocations(system) -> list[tuple[int, str, int]]:
    """(layer, participant, amount) of the last transaction's LossAllocated receipts."""
    return [
        (e.args["layer"], e.args["participant"], e.args["amount"])
        for e in system.events
        if e.address == system.d.backstop and e.name == "LossAllocated"
    ]


# ---------------------------------------------------------------- the spec's arithmetic


def _final_price(price: int) -> int:
    """Collateral per stablecoin [ray] for an oracle price [wad], rounded up."""
    return ceil_div(WAD * RAY, price)


def _owe(debt: int, final: int) -> int:
    """Collateral a vault with `debt` [rad] owes at `final` [ray]: both steps rounded up [wad]."""
    return ceil_div(ceil_div(debt, RAY) * final, RAY)


def _to_raise(debt: int) -> int:
    """Debt to raise [rad]: seized debt x penalty, rounded up."""
    return ceil_div(debt * PENALTY, WAD)


def _reward(to_raise: int) -> int:
    """The devnet keeper reward [rad]: 300 + 0.1% of the debt to raise, rounded down."""
    return REWARD_FLAT + to_raise * REWARD_RATE // WAD


def _top(price: int) -> int:
    """An auction's start price [ray] for an oracle price [wad]: price x buffer, rounded up."""
    return ceil_div(price * 10**9 * BUFFER, RAY)


# ---------------------------------------------------------------- acting


def _liquidate(system, t, owner) -> int:
    """The keeper liquidates `owner`'s vault; returns the auction id."""
    system.tx(
        system.d.liquidator, "liquidate", system.roles.keeper, t.type_id, owner, system.roles.keeper
    )
    return started_auction(system, t.auction)


def _take(system, taker, t, auction_id, amount, max_price) -> None:
    system.tx(t.auction, "take", taker, auction_id, amount, max_price, taker, b"")


def _allow(system, who, spender) -> None:
    system.tx(system.d.engine, "allow", who, spender)


def _shutdown(system) -> None:
    system.tx(system.d.settlement, "shutdown", system.roles.governance)


def _thaw_after_wait(system) -> None:
    system.lockstep.set_next_block_time(_gs(system, "shutdown_at") + WAIT)
    system.tx(system.d.settlement, "thaw", system.roles.keeper)


def _pack_all(system, holder) -> int:
    """`holder` allows the settlement and packs all of their stablecoin; returns it [wad]."""
    amount = _stable(system, holder) // RAY
    _allow(system, holder, system.d.settlement)
    system.tx(system.d.settlement, "pack", holder, amount)
    return amount


# ================================================================ shutdown


def test_shutdown__by_stranger__reverts_not_authorized(system):
    with reverts("authorized: not authorized"):
        system.tx(system.d.settlement, "shutdown", system.roles.stranger)
    assert _gs(system, "live") is True


def test_set_wait__governance_while_live__stored_and_logged__stranger_reverts(system):
    r, d = system.roles, system.d
    system.tx(d.settlement, "set_wait", r.governance, 3_600)
    assert _events(system) == [(d.settlement, "WaitSet", {"wait": 3_600})]
    assert _gs(system, "wait") == 3_600
    with reverts("authorized: not authorized"):
        system.tx(d.settlement, "set_wait", r.stranger, 0)


def test_shutdown__freezes_engine_liquidator_backstop_and_both_auctions(system):
    """No value moves: every part stops; the surplus auction hands back the stablecoin it holds
    (none here) and the Backstop has no debt-auction debt to turn into settlement debt."""
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.borrower, ETH, 10 * WAD, 5_000 * WAD)

    _shutdown(system)

    assert _events(system) == [
        (d.engine, "Shutdown", {"caller": d.settlement}),
        (d.liquidator, "Shutdown", {"caller": d.settlement}),
        (d.debt_auction, "Shutdown", {}),
        (d.engine, "StableTransferred", {"src": d.surplus_auction, "dst": d.backstop, "amount": 0}),
        (d.surplus_auction, "Shutdown", {}),
        (d.backstop, "Shutdown", {"settlement": d.settlement, "settlement_debt": 0}),
        (d.settlement, "Shutdown", {"shutdown_at": system.now}),
    ]
    for address in (
        d.settlement,
        d.engine,
        d.liquidator,
        d.backstop,
        d.debt_auction,
        d.surplus_auction,
    ):
        assert _read(system, address, "live") is False
    assert _gs(system, "shutdown_at") == system.now
    assert _bs(system, "settlement") == d.settlement
    # no vault may take on debt (nor change at all: the engine is frozen)
    with reverts("engine: not live"):
        system.tx(
            d.engine,
            "modify_vault",
            r.borrower,
            t.type_id,
            r.borrower,
            r.borrower,
            r.borrower,
            0,
            WAD,
        )
    with reverts("engine: not live"):
        system.tx(
            d.engine,
            "modify_vault",
            r.borrower,
            t.type_id,
            r.borrower,
            r.borrower,
            r.borrower,
            0,
            -WAD,
        )
    with reverts("liquidator: not live"):
        system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper)
    with reverts("backstop: not live"):
        system.tx(d.backstop, "start_debt_auction", r.keeper)
    with reverts("backstop: not live"):
        system.tx(d.backstop, "start_surplus_auction", r.keeper)
    # irreversible, and the wait can no longer move
    with reverts("settlement: not live"):
        _shutdown(system)
    with reverts("settlement: not live"):
        system.tx(d.settlement, "set_wait", r.governance, 0)
    assert _vault(system, t, r.borrower) == (10 * WAD, 5_000 * WAD)


_BEFORE_SHUTDOWN = [
    ("fix_price", lambda s: (s.eth.type_id,), "settlement: live"),
    ("free_collateral", lambda s: (s.eth.type_id,), "settlement: live"),
    ("thaw", lambda s: (), "settlement: live"),
    ("cancel_auction", lambda s: (s.eth.type_id, s.eth.auction, 1), "settlement: no final price"),
    ("close_vault", lambda s: (s.eth.type_id, s.roles.borrower), "settlement: no final price"),
    ("fix_cash_price", lambda s: (s.eth.type_id,), "settlement: not thawed"),
    ("pack", lambda s: (WAD,), "settlement: not thawed"),
    ("cash", lambda s: (s.eth.type_id, WAD), "settlement: no cash price"),
]


@pytest.mark.parametrize(
    "function, args, reason", _BEFORE_SHUTDOWN, ids=[f for f, _, _ in _BEFORE_SHUTDOWN]
)
def test_settlement_step__while_live__reverts(system, function, args, reason):
    """Every step after shutdown is refused while the system is live (the later steps by what
    they wait for: a final price, a thaw, a cash price)."""
    r = system.roles
    system.open_vault(r.borrower, ETH, 10 * WAD, 5_000 * WAD)
    with reverts(reason):
        system.tx(system.d.settlement, function, r.borrower, *args(system))
    assert _vault(system, system.eth, r.borrower) == (10 * WAD, 5_000 * WAD)


def test_shutdown__debt_auction_layer_debt_becomes_settlement_debt(system):
    """Money flow: a loss of 13,000 x rate - 10,800 (~2,200) BUSD went to the debt-auction layer
    (debt_to_auction); a debt auction put 1,000 of it on sale (debt_on_auction). Shutdown moves
    both to settlement_debt: it stays the Backstop's bad debt, borne by holders (the haircut)."""
    r, d, t = system.roles, system.d, system.eth
    system.tx(d.backstop, "set_waterfall", r.governance, [DEBT_AUCTION])
    system.tx(
        d.backstop,
        "set_auction_parameters",
        r.governance,
        _bs(system, "surplus_buffer"),
        _bs(system, "surplus_lot"),
        1_000 * RAD,
    )
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    _move_prices(system, [(t, 900 * WAD)])
    auction_id = _liquidate(system, t, r.borrower)
    _allow(system, r.other, t.auction)
    # the whole lot sells at the start price, 10 x 1,080 = 10,800 < 13,000 x rate: a loss
    _take(system, r.other, t, auction_id, 10 * WAD, _top(900 * WAD))
    loss = 13_000 * WAD * _rate(system, t) - 10_800 * RAD
    system.warp(QUEUE_DELAY)
    system.tx(d.backstop, "cover", r.keeper, t.type_id, t.auction, auction_id)
    assert _allocations(system) == [(DEBT_AUCTION, d.debt_auction, loss)]
    system.tx(d.backstop, "start_debt_auction", r.keeper)
    assert (_bs(system, "debt_to_auction"), _bs(system, "debt_on_auction")) == (
        loss - 1_000 * RAD,
        1_000 * RAD,
    )
    bad_debt = _bad_debt(system, d.backstop)

    _shutdown(system)

    assert (
        d.backstop,
        "Shutdown",
        {"settlement": d.settlement, "settlement_debt": loss},
    ) in _events(system)
    assert _bs(system, "settlement_debt") == loss
    assert (_bs(system, "debt_to_auction"), _bs(system, "debt_on_auction")) == (0, 0)
    assert _bad_debt(system, d.backstop) == bad_debt
    assert _read(system, d.debt_auction, "live") is False
    with reverts("backstop: not live"):
        system.tx(d.backstop, "start_debt_auction", r.keeper)


# ================================================================ fix_price


def test_fix_price__final_price_is_wad_ray_over_the_current_oracle_price_rounded_up(system):
    """ETH 2,000 -> 1/2,000 ETH per BUSD exactly; WBTC 30,000 -> 1/30,000 rounded up by one
    ray-wei. A price posted and queued but not yet current does not count. Each type's
    normalized debt is recorded."""
    r, d, eth, btc = system.roles, system.d, system.eth, system.btc
    system.open_vault(r.borrower, ETH, 10 * WAD, 5_000 * WAD)
    system.open_vault(r.other, WBTC, WAD, 10_000 * WAD)
    system.tx(eth.oracle, "post", r.feeder, 1_000 * WAD)
    system.warp(eth.config.oracle_delay)
    system.tx(eth.oracle, "poke", r.keeper)
    assert (
        _read(system, eth.oracle, "current_price"),
        _read(system, eth.oracle, "next_price"),
    ) == (2_000 * WAD, 1_000 * WAD)
    _shutdown(system)

    system.tx(d.settlement, "fix_price", r.stranger, eth.type_id)
    assert _events(system) == [
        (
            d.settlement,
            "PriceFixed",
            {"collateral_type": eth.type_id, "price": 2_000 * WAD, "final_price": RAY // 2_000},
        )
    ]
    system.tx(d.settlement, "fix_price", r.stranger, btc.type_id)
    final_btc = RAY // 30_000 + 1  # 1e27 / 30,000 = 3.33...e22, rounded up
    assert final_btc == _final_price(30_000 * WAD)
    assert _events(system) == [
        (
            d.settlement,
            "PriceFixed",
            {"collateral_type": btc.type_id, "price": 30_000 * WAD, "final_price": final_btc},
        )
    ]
    assert _gs(system, "final_price", eth.type_id) == RAY // 2_000
    assert _gs(system, "final_price", btc.type_id) == final_btc
    assert _gs(system, "type_debt", eth.type_id) == 5_000 * WAD
    assert _gs(system, "type_debt", btc.type_id) == 10_000 * WAD

    with reverts("settlement: price fixed"):
        system.tx(d.settlement, "fix_price", r.stranger, eth.type_id)
    with reverts("settlement: no oracle"):
        system.tx(d.settlement, "fix_price", r.stranger, NEW_TYPE)


# ================================================================ cancel_auction


def test_cancel_auction__after_a_partial_take__returns_lot_and_tab_to_owner_and_closes_the_event(
    system,
):
    """Money flow (rate > 1 ray after accruing fees): the borrower's 20 ETH / 13,000 vault was
    liquidated (debt D = 13,000 x rate, to raise T = D x 1.13); a taker bought 5 ETH for 5,400
    into the auction's escrow. Cancelling gives the 15 ETH left back to the borrower's vault with
    normalized debt (T - 5,400) // rate; that loan's proceeds (nd x rate) join the escrow, and
    since a cancel pays nothing to the Backstop directly, the Backstop pulls the whole escrow
    (raised = 5,400 + nd x rate), holds D of it as unsettled proceeds (the stranger heals them
    against D of bad debt) and keeps the rest as penalty income. The event is done; the type's
    normalized debt grows by nd."""
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    system.open_vault(r.borrower, ETH, 20 * WAD, 13_000 * WAD)
    _move_prices(system, [(t, 900 * WAD)])
    system.tx(d.fees, "accrue", r.keeper, t.type_id)
    rate = _rate(system, t)
    assert rate > RAY
    auction_id = _liquidate(system, t, r.borrower)
    debt = 13_000 * WAD * rate
    to_raise = _to_raise(debt)
    created_at = system.now
    _allow(system, r.other, t.auction)
    _take(system, r.other, t, auction_id, 5 * WAD, _top(900 * WAD))
    tab = to_raise - 5_400 * RAD
    assert _read(system, t.auction, "auctions", auction_id)[1:3] == (tab, 15 * WAD)
    assert _stable(system, t.auction) == 5_400 * RAD  # the escrow
    _shutdown(system)
    with reverts("settlement: no final price"):
        system.tx(d.settlement, "cancel_auction", r.stranger, t.type_id, t.auction, auction_id)
    system.tx(d.settlement, "fix_price", r.stranger, t.type_id)
    assert _gs(system, "type_debt", t.type_id) == 30_000 * WAD  # the borrower's debt was seized
    surplus_0, bad_debt_0 = _stable(system, d.backstop), _bad_debt(system, d.backstop)
    assert _bs(system, "open_losses") == 1
    with reverts("authorized: not authorized"):
        system.tx(t.auction, "cancel", r.stranger, auction_id)

    system.tx(d.settlement, "cancel_auction", r.stranger, t.type_id, t.auction, auction_id)

    normalized = tab // rate
    returned = normalized * rate
    assert 0 <= tab - returned < rate  # the owner never re-owes more than the tab
    raised = 5_400 * RAD + returned
    assert raised > debt  # the penalty is still covered: no loss
    assert _events(system) == [
        (
            d.engine,
            "UnbackedCreated",
            {"debt_dst": d.backstop, "stable_dst": t.auction, "amount": returned},
        ),
        (
            d.engine,
            "VaultSeized",
            {
                "collateral_type": t.type_id,
                "owner": r.borrower,
                "collateral_dst": t.auction,
                "debt_dst": d.backstop,
                "delta_collateral": 15 * WAD,
                "delta_normalized_debt": normalized,
            },
        ),
        (d.liquidator, "DebtInAuctionRemoved", {"collateral_type": t.type_id, "amount": tab}),
        (d.engine, "StableTransferred", {"src": t.auction, "dst": d.backstop, "amount": raised}),
        (
            d.backstop,
            "LossClosed",
            {
                "collateral_type": t.type_id,
                "auction": t.auction,
                "auction_id": auction_id,
                "raised": raised,
                "covered": debt,
                "loss": 0,
            },
        ),
        (
            t.auction,
            "Cancelled",
            {
                "auction_id": auction_id,
                "collateral_returned": 15 * WAD,
                "debt": tab,
                "normalized_debt": normalized,
            },
        ),
        (
            d.settlement,
            "AuctionCancelled",
            {"collateral_type": t.type_id, "auction_id": auction_id, "normalized_debt": normalized},
        ),
    ]
    assert _vault(system, t, r.borrower) == (15 * WAD, normalized)
    assert _read(system, t.auction, "auctions", auction_id) == NO_AUCTION
    assert _read(system, t.auction, "active_count") == 0
    assert (
        _stable(system, t.auction) == 0 and _collateral(system, t, t.auction) == 0
    )  # escrow emptied
    assert _read(system, d.liquidator, "debt_in_auction") == 0
    assert _read(system, d.liquidator, "types", t.type_id)[3] == 0
    assert _bs(system, "losses", t.type_id, t.auction, auction_id) == (debt, 0, created_at, DONE)
    assert _bs(system, "open_losses") == 0
    assert _bs(system, "attributed_debt") == debt
    assert _gs(system, "type_debt", t.type_id) == 30_000 * WAD + normalized
    assert _stable(system, d.backstop) == surplus_0 + raised
    assert _bad_debt(system, d.backstop) == bad_debt_0
    heal(system, debt)
    assert _bs(system, "attributed_debt") == 0
    assert _stable(system, d.backstop) == surplus_0 + raised - debt
    # + returned (the owner's new loan) - returned (it moved into the vault) - debt (settled)
    assert _bad_debt(system, d.backstop) == bad_debt_0 - debt
    # a loss that is no longer running cannot be cancelled again (checked before the auction)
    with reverts("settlement: no running loss"):
        system.tx(d.settlement, "cancel_auction", r.stranger, t.type_id, t.auction, auction_id)


# ================================================================ close_vault, free_collateral


def test_close_vault__takes_debt_worth_at_final_price__underwater_vault_leaves_a_gap(system):
    """Money flow: ETH at 1,500, WBTC at 20,000. The other's 100 ETH / 30,000 vault gives ~20 ETH
    (owe = debt / 1,500 rounded up) to the settlement and keeps ~80 ETH, freed afterwards; the
    stranger's 1 WBTC / 20,500 vault owes ~1.025 WBTC but has 1: it gives all of it and the
    type's gap is exactly owe - 1 WBTC (~0.025). Both debts become the Backstop's bad debt."""
    r, d, eth, btc = system.roles, system.d, system.eth, system.btc
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    system.open_vault(r.stranger, WBTC, WAD, 20_500 * WAD)
    _move_prices(system, [(eth, 1_500 * WAD), (btc, 20_000 * WAD)])
    _shutdown(system)
    system.tx(d.settlement, "fix_price", r.keeper, eth.type_id)
    system.tx(d.settlement, "fix_price", r.keeper, btc.type_id)
    final_eth, final_btc = _final_price(1_500 * WAD), _final_price(20_000 * WAD)
    assert final_btc == RAY // 20_000
    debt_eth, debt_btc = 30_000 * WAD * _rate(system, eth), 20_500 * WAD * _rate(system, btc)
    with reverts("settlement: vault has debt"):
        system.tx(d.settlement, "free_collateral", r.other, eth.type_id)
    bad_debt_0 = _bad_debt(system, d.backstop)

    system.tx(d.settlement, "close_vault", r.keeper, eth.type_id, r.other)
    owe = _owe(debt_eth, final_eth)
    # at least the exact value of the debt in ETH, at most 2 wei above it (two round-ups)
    assert 0 <= owe - Fraction(debt_eth, 1_500 * RAD) * WAD < 2
    assert 20 * WAD < owe < 20 * WAD + WAD // 10**6
    assert _events(system) == [
        (
            d.engine,
            "VaultSeized",
            {
                "collateral_type": eth.type_id,
                "owner": r.other,
                "collateral_dst": d.settlement,
                "debt_dst": d.backstop,
                "delta_collateral": -owe,
                "delta_normalized_debt": -30_000 * WAD,
            },
        ),
        (
            d.settlement,
            "VaultClosed",
            {
                "collateral_type": eth.type_id,
                "owner": r.other,
                "collateral": owe,
                "normalized_debt": 30_000 * WAD,
                "shortfall": 0,
            },
        ),
    ]
    assert _vault(system, eth, r.other) == (100 * WAD - owe, 0)
    assert _gs(system, "gap", eth.type_id) == 0

    system.tx(d.settlement, "close_vault", r.keeper, btc.type_id, r.stranger)
    owe_btc = _owe(debt_btc, final_btc)
    shortfall = owe_btc - WAD  # exactly owe - collateral
    assert 25 * WAD // 1_000 < shortfall < 25 * WAD // 1_000 + WAD // 10**6
    assert _events(system) == [
        (
            d.engine,
            "VaultSeized",
            {
                "collateral_type": btc.type_id,
                "owner": r.stranger,
                "collateral_dst": d.settlement,
                "debt_dst": d.backstop,
                "delta_collateral": -WAD,
                "delta_normalized_debt": -20_500 * WAD,
            },
        ),
        (
            d.settlement,
            "VaultClosed",
            {
                "collateral_type": btc.type_id,
                "owner": r.stranger,
                "collateral": WAD,
                "normalized_debt": 20_500 * WAD,
                "shortfall": shortfall,
            },
        ),
    ]
    assert _vault(system, btc, r.stranger) == (0, 0)
    assert _gs(system, "gap", btc.type_id) == shortfall
    assert _collateral(system, eth, d.settlement) == owe
    assert _collateral(system, btc, d.settlement) == WAD
    assert _bad_debt(system, d.backstop) == bad_debt_0 + debt_eth + debt_btc

    # the owner takes what is left
    free_0 = _collateral(system, eth, r.other)
    system.tx(d.settlement, "free_collateral", r.other, eth.type_id)
    assert _events(system) == [
        (
            d.engine,
            "VaultSeized",
            {
                "collateral_type": eth.type_id,
                "owner": r.other,
                "collateral_dst": r.other,
                "debt_dst": d.backstop,
                "delta_collateral": -(100 * WAD - owe),
                "delta_normalized_debt": 0,
            },
        ),
        (
            d.settlement,
            "CollateralFreed",
            {"collateral_type": eth.type_id, "owner": r.other, "collateral": 100 * WAD - owe},
        ),
    ]
    assert _collateral(system, eth, r.other) == free_0 + 100 * WAD - owe
    assert _vault(system, eth, r.other) == (0, 0)
    # the underwater vault has nothing left to free
    system.tx(d.settlement, "free_collateral", r.stranger, btc.type_id)
    assert _events(system)[-1][2]["collateral"] == 0
    # closing a closed vault moves nothing and adds no gap
    system.tx(d.settlement, "close_vault", r.keeper, btc.type_id, r.stranger)
    assert _events(system)[-1][2] == {
        "collateral_type": btc.type_id,
        "owner": r.stranger,
        "collateral": 0,
        "normalized_debt": 0,
        "shortfall": 0,
    }
    assert _gs(system, "gap", btc.type_id) == shortfall


# ================================================================ cover after shutdown


def _surplus_and_a_closed_loss(system, stake: int) -> tuple[int, int, int]:
    """The other (100 ETH / 30,000) stakes `stake` [rad] in the stability pool. ETH falls to 900.
    The stranger's 20 ETH / 13,000 auction is bought whole at 1,080: it raises T = 13,000 x rate
    x 1.13, so the fund gets T - 13,000 x rate (~1,690) of penalty income. The borrower's 10 ETH
    / 13,000 sells out at 1,080 for 10,800: a loss of 13,000 x rate - 10,800 (~2,200) waits for
    cover. The stranger heals the proceeds that covered seized debt (13,000 x rate + 10,800).
    Returns (that auction's id, the fund, the loss)."""
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    _allow(system, r.other, d.stability_pool)
    system.tx(d.stability_pool, "stake", r.other, stake)
    # the stake becomes shares an exposure delay (the oracle delay) later
    system.warp(_read(system, d.stability_pool, "exposure_delay"))
    system.tx(d.stability_pool, "activate", r.other)
    system.open_vault(r.stranger, ETH, 20 * WAD, 13_000 * WAD)
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    _move_prices(system, [(t, 900 * WAD)])
    _allow(system, r.other, t.auction)
    first = _liquidate(system, t, r.stranger)
    _take(system, r.other, t, first, 20 * WAD, _top(900 * WAD))
    second = _liquidate(system, t, r.borrower)
    liquidated_at = system.now
    _take(system, r.other, t, second, 10 * WAD, _top(900 * WAD))
    debt = 13_000 * WAD * _rate(system, t)
    fund, loss = _to_raise(debt) - debt, debt - 10_800 * RAD
    heal(system, debt + 10_800 * RAD)
    assert _stable(system, d.backstop) == fund
    assert _bs(system, "losses", t.type_id, t.auction, second)[1:] == (loss, liquidated_at, CLOSED)
    return second, fund, loss


_COVER_CASES = {
    "default": ([FUND, POOL, DEBT_AUCTION, REDISTRIBUTION], [FUND, POOL, SETTLEMENT]),
    "no-pool": ([DEBT_AUCTION, REDISTRIBUTION, FUND], [FUND, SETTLEMENT]),
    "pool-first": ([POOL, FUND], [POOL, FUND, SETTLEMENT]),
}


@pytest.mark.parametrize("case", list(_COVER_CASES))
def test_cover__after_shutdown__fund_pool_then_settlement_without_queue_delay(system, case):
    """Money flow: the ~2,200 loss is paid by the enabled FUND and POOL layers in waterfall order
    (the fund's ~1,690 of surplus, the pool's 100 of stake) and SETTLEMENT takes the rest (~410,
    or ~510 without the pool) as settlement debt: unbacked, the holders' haircut. Debt auction
    and redistribution are skipped after shutdown, and the queue delay no longer applies."""
    r, d, t = system.roles, system.d, system.eth
    waterfall, layers = _COVER_CASES[case]
    system.tx(d.backstop, "set_waterfall", r.governance, waterfall)
    auction_id, fund, loss = _surplus_and_a_closed_loss(system, 100 * RAD)
    with reverts("backstop: still queued"):
        system.tx(d.backstop, "cover", r.keeper, t.type_id, t.auction, auction_id)
    _shutdown(system)
    created_at = _bs(system, "losses", t.type_id, t.auction, auction_id)[2]
    assert system.now + 1 < created_at + QUEUE_DELAY

    system.tx(d.backstop, "cover", r.keeper, t.type_id, t.auction, auction_id)

    capacity = {FUND: fund, POOL: 100 * RAD, SETTLEMENT: loss}
    participants = {FUND: d.backstop, POOL: d.stability_pool, SETTLEMENT: d.settlement}
    expected, remaining = [], loss
    for layer in layers:
        paid = min(remaining, capacity[layer])
        expected.append((layer, participants[layer], paid))
        remaining -= paid
    assert _allocations(system) == expected
    paid = {layer: amount for layer, _, amount in expected}
    assert paid[SETTLEMENT] == loss - fund - paid.get(POOL, 0) > 0
    assert _bs(system, "settlement_debt") == paid[SETTLEMENT]
    assert _bs(system, "losses", t.type_id, t.auction, auction_id) == (
        13_000 * WAD * _rate(system, t),
        0,
        created_at,
        DONE,
    )
    # the fund's and the pool's payments wait, still attributed, for a heal (thaw heals first)
    held = paid[FUND] + paid.get(POOL, 0)
    assert _bs(system, "open_losses") == 0 and _bs(system, "attributed_debt") == held
    assert _stable(system, d.backstop) == held
    heal(system, held)
    assert _bs(system, "attributed_debt") == 0
    assert _stable(system, d.backstop) == 0
    assert _read(system, d.stability_pool, "assets") == 100 * RAD - paid.get(POOL, 0)
    with reverts("backstop: nothing to cover"):
        system.tx(d.backstop, "cover", r.keeper, t.type_id, t.auction, auction_id)


# ================================================================ thaw


def test_thaw__before_wait_reverts__at_exactly_shutdown_plus_wait_fixes_debt(system):
    r, d = system.roles, system.d
    system.open_vault(r.borrower, ETH, 10 * WAD, 5_000 * WAD)
    _shutdown(system)
    shutdown_at = system.now
    system.lockstep.set_next_block_time(shutdown_at + WAIT - 1)
    with reverts("settlement: wait"):
        system.tx(d.settlement, "thaw", r.keeper)
    system.lockstep.set_next_block_time(shutdown_at + WAIT)
    system.tx(d.settlement, "thaw", r.keeper)
    debt = 5_000 * WAD * _rate(system, system.eth)  # what the borrower drew, all outstanding
    assert _events(system) == [(d.settlement, "Thawed", {"debt": debt})]
    assert _gs(system, "debt") == debt
    with reverts("settlement: thawed"):
        system.tx(d.settlement, "thaw", r.keeper)


def test_thaw__nobody_holds_stablecoin__reverts_no_debt(system):
    _shutdown(system)
    system.warp(WAIT)
    with reverts("settlement: no debt"):
        system.tx(system.d.settlement, "thaw", system.roles.keeper)


def test_thaw__with_an_auction_running__reverts_losses_open_until_it_is_cancelled(system):
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.borrower, ETH, 20 * WAD, 13_000 * WAD)
    _move_prices(system, [(t, 900 * WAD)])
    auction_id = _liquidate(system, t, r.borrower)
    _shutdown(system)
    system.tx(d.settlement, "fix_price", r.keeper, t.type_id)  # while the price is fresh
    system.warp(WAIT)
    with reverts("settlement: losses open"):
        system.tx(d.settlement, "thaw", r.keeper)
    system.tx(d.settlement, "cancel_auction", r.keeper, t.type_id, t.auction, auction_id)
    system.tx(d.settlement, "thaw", r.keeper)
    assert _gs(system, "debt") > 0


@pytest.mark.parametrize(
    "close_first", [True, False], ids=["bad-debt-above-surplus", "surplus-above-bad-debt"]
)
def test_thaw__heals_min_of_surplus_and_bad_debt__leftover_surplus_is_not_in_debt(
    system, close_first
):
    """Money flow: the borrower's 20 ETH / 13,000 auction raised T = 13,000 x rate x 1.13: the
    Backstop keeps T - 13,000 x rate (~1,690) of surplus and owes the keeper's ~314.69 reward as
    bad debt; the proceeds' 13,000 x rate are still unsettled (nobody healed them), so thaw heals
    them first. With the other's 30,000 vault closed first, bad debt exceeds surplus and thaw
    settles all the surplus; otherwise it settles the reward and the ~1,375 left is forfeit:
    `debt` counts only stablecoin held by others, the other's 30,000 x rate - T, the borrower's
    13,000 x rate and the keeper's reward (~28,624.69) either way."""
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    system.open_vault(r.borrower, ETH, 20 * WAD, 13_000 * WAD)
    _move_prices(system, [(t, 900 * WAD)])
    auction_id = _liquidate(system, t, r.borrower)
    _allow(system, r.other, t.auction)
    _take(system, r.other, t, auction_id, 20 * WAD, _top(900 * WAD))
    rate = _rate(system, t)
    to_raise = _to_raise(13_000 * WAD * rate)
    seized = 13_000 * WAD * rate
    surplus, reward = to_raise - seized, _reward(to_raise)
    assert (_stable(system, d.backstop), _bad_debt(system, d.backstop)) == (
        surplus + seized,
        reward + seized,
    )
    assert _bs(system, "unsettled_proceeds") == seized
    assert surplus > reward
    _shutdown(system)
    system.tx(d.settlement, "fix_price", r.keeper, t.type_id)
    if close_first:
        system.tx(d.settlement, "close_vault", r.keeper, t.type_id, r.other)
    bad_debt = _bad_debt(system, d.backstop) - seized
    issued = _total_issued(system)

    _thaw_after_wait(system)

    healed = surplus if close_first else reward
    assert healed == min(surplus, bad_debt)
    debt = 30_000 * WAD * rate - to_raise + 13_000 * WAD * rate + reward
    assert abs(debt - 28_624_69 * RAD // 100) < RAD // 1_000
    assert _events(system) == [
        (d.engine, "DebtSettled", {"account": d.backstop, "amount": seized}),
        (d.backstop, "ProceedsHealed", {"amount": seized}),
        (d.engine, "DebtSettled", {"account": d.backstop, "amount": healed}),
        (d.backstop, "DebtSettled", {"amount": healed}),
        (d.settlement, "Thawed", {"debt": debt}),
    ]
    assert _bs(system, "unsettled_proceeds") == _bs(system, "attributed_debt") == 0
    assert _gs(system, "debt") == debt == _total_issued(system) - _stable(system, d.backstop)
    assert _total_issued(system) == issued - seized - healed
    assert _stable(system, d.backstop) == surplus - healed
    assert _bad_debt(system, d.backstop) == bad_debt - healed


# ================================================================ fix_cash_price, pack, cash


def _two_vaults_one_underwater(system, accrue: bool) -> int:
    """The other locks 100 ETH for 30,000, the stranger 10 ETH for 13,000; ETH falls to 1,200
    (the stranger's 10 ETH are worth 12,000: underwater). Optionally fees accrue (the rate rises,
    surplus to the Backstop). Then shutdown, both types' prices fixed, both vaults closed, thaw.
    Returns the rate at which both drew (the outstanding stablecoin is 43,000 x that rate)."""
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    system.open_vault(r.stranger, ETH, 10 * WAD, 13_000 * WAD)
    drawn_at = _rate(system, t)
    _move_prices(system, [(t, 1_200 * WAD), (system.btc, 30_000 * WAD)])  # both fresh at fix_price
    if accrue:
        system.tx(d.fees, "accrue", r.keeper, t.type_id)
    _shutdown(system)
    for type_id in (t.type_id, system.btc.type_id):
        system.tx(d.settlement, "fix_price", r.keeper, type_id)
    for owner in (r.other, r.stranger):
        system.tx(d.settlement, "close_vault", r.keeper, t.type_id, owner)
    _thaw_after_wait(system)
    return drawn_at


def test_fix_cash_price__is_type_value_less_gap_per_outstanding_wad_rounded_down(system):
    """cash_price = (type_debt x rate // RAY x final_price // RAY - gap) x RAY // (debt // RAY),
    with the rate raised by accrued fees after the draws (the fees went to the Backstop and were
    healed at thaw, so debt = the 43,000 x drawn rate the two borrowers hold). WBTC has no debt:
    its cash price is 0, but fixed."""
    r, d, t, btc = system.roles, system.d, system.eth, system.btc
    with reverts("settlement: not thawed"):
        system.tx(d.settlement, "fix_cash_price", r.keeper, t.type_id)
    drawn_at = _two_vaults_one_underwater(system, accrue=True)
    rate, final = _rate(system, t), _final_price(1_200 * WAD)
    assert rate > drawn_at
    gap = _owe(13_000 * WAD * rate, final) - 10 * WAD
    assert gap > 0 and _gs(system, "gap", t.type_id) == gap
    debt = 43_000 * WAD * drawn_at
    assert _gs(system, "debt") == debt

    system.tx(d.settlement, "fix_cash_price", r.keeper, t.type_id)

    value = 43_000 * WAD * rate // RAY * final // RAY
    cash_price = (value - gap) * RAY // (debt // RAY)
    assert _events(system) == [
        (d.settlement, "CashPriceFixed", {"collateral_type": t.type_id, "cash_price": cash_price})
    ]
    assert (
        _gs(system, "cash_price", t.type_id) == cash_price
        and _gs(system, "cash_price_set", t.type_id) is True
    )
    with reverts("settlement: cash price fixed"):
        system.tx(d.settlement, "fix_cash_price", r.keeper, t.type_id)

    system.tx(d.settlement, "fix_cash_price", r.keeper, btc.type_id)
    assert (
        _gs(system, "cash_price", btc.type_id) == 0
        and _gs(system, "cash_price_set", btc.type_id) is True
    )
    with reverts("settlement: cash price fixed"):
        system.tx(d.settlement, "fix_cash_price", r.keeper, btc.type_id)


def test_cash__with_an_underwater_vault__holders_take_a_haircut_and_never_more_than_held(system):
    """Money flow: ~43,000 BUSD are outstanding; the settlement holds ~25 ETH from the other's
    vault and all 10 ETH of the stranger's underwater vault (it owed ~10.83): ~35 ETH. So each
    BUSD redeems ~35 / 43,000 ETH, not 1 / 1,200 (par): the other's ~30,000 BUSD get ~24.42 ETH
    instead of ~25, the stranger's ~13,000 get ~10.58 instead of ~10.83. Each payout is the
    holder's pro-rata share of what is held, rounded down; together they never exceed it."""
    r, d, t = system.roles, system.d, system.eth
    rate = _two_vaults_one_underwater(system, accrue=False)
    held = _collateral(system, t, d.settlement)
    assert held == _owe(30_000 * WAD * rate, _final_price(1_200 * WAD)) + 10 * WAD
    outstanding = _gs(system, "debt") // RAY  # [wad]
    assert outstanding == 43_000 * WAD * rate // RAY
    with reverts("settlement: no cash price"):
        system.tx(d.settlement, "cash", r.other, t.type_id, WAD)
    system.tx(d.settlement, "fix_cash_price", r.keeper, t.type_id)
    cash_price = _gs(system, "cash_price", t.type_id)

    with reverts("settlement: zero amount"):
        system.tx(d.settlement, "pack", r.other, 0)
    with reverts("engine: not allowed"):
        system.tx(d.settlement, "pack", r.other, WAD)
    _allow(system, r.other, d.settlement)
    held_by_other = _stable(system, r.other) // RAY
    with reverts("engine: insufficient stable"):
        system.tx(d.settlement, "pack", r.other, held_by_other + 1)
    system.tx(d.settlement, "pack", r.other, held_by_other)
    assert _events(system) == [
        (
            d.engine,
            "StableTransferred",
            {"src": r.other, "dst": d.settlement, "amount": held_by_other * RAY},
        ),
        (d.settlement, "Packed", {"holder": r.other, "amount": held_by_other}),
    ]
    assert _gs(system, "packed", r.other) == held_by_other and _stable(system, r.other) < RAY

    paid = {}
    for holder in (r.other, r.stranger):
        amount = held_by_other if holder == r.other else _pack_all(system, holder)
        free_0 = _collateral(system, t, holder)
        system.tx(d.settlement, "cash", holder, t.type_id, amount)
        paid[holder] = amount * cash_price // RAY
        assert _events(system)[-1] == (
            d.settlement,
            "Cashed",
            {
                "collateral_type": t.type_id,
                "holder": holder,
                "amount": amount,
                "collateral": paid[holder],
            },
        )
        assert _collateral(system, t, holder) == free_0 + paid[holder]
        assert _gs(system, "cashed", t.type_id, holder) == amount
        # independently: the holder's pro-rata share of what the settlement holds, short of par
        share = Fraction(amount * held, outstanding)
        assert share - 5 <= paid[holder] <= share
        assert paid[holder] < Fraction(amount, 1_200) * 99 // 100
        with reverts("settlement: insufficient packed"):
            system.tx(d.settlement, "cash", holder, t.type_id, 1)
    assert paid[r.other] // 10**16 == 2_441  # 24.41... ETH instead of 25
    assert paid[r.stranger] // 10**16 == 1_058  # 10.58... ETH instead of 10.83
    assert sum(paid.values()) <= held
    assert _collateral(system, t, d.settlement) == held - sum(paid.values())
    assert held - sum(paid.values()) <= 10  # rounding dust only


# ================================================================ the whole story


def test_global_settlement__full_story__each_stablecoin_redeems_its_exact_share_of_both_types(
    system,
):
    """Money flow, ETH 2,000 -> 900 and WBTC 30,000 -> 20,000 (amounts below are x rate, rounded):
    - the other locks 100 ETH for 30,000 BUSD and stakes 100 in the stability pool;
    - the borrower's 20 ETH / 13,000 vault is liquidated (to raise T ~14,690); the other buys
      5 ETH at 1,080 (5,400): the auction is in flight at shutdown;
    - the stranger's 10 ETH / 13,000 vault is liquidated and sells out at 1,080 for 10,800: a
      ~2,200 loss; the stranger's 1 WBTC / 20,500 vault is underwater and never liquidated;
    - the keeper earned 2 x ~314.69 of rewards (unbacked).
    Settlement: cancelling the borrower's auction raises ~14,690 (5,400 + the re-owed ~9,290):
    ~1,690 of penalty income; the ~2,200 loss is paid by the fund (~1,690), the pool (100) and
    settlement (~410); the vaults are closed at 1/900 ETH and 1/20,000 WBTC per BUSD, the WBTC
    vault short by ~0.025 WBTC. ~60,829 BUSD are outstanding: exactly the closed vaults' debt
    plus the unbacked settlement debt and rewards. They are backed by ~39,290 BUSD of ETH and
    20,000 of WBTC (the vault's 1 WBTC): the haircut is the ~410 + ~629 + ~500 nobody backs.
    Every holder packs everything and cashes both types."""
    r, d, eth, btc = system.roles, system.d, system.eth, system.btc
    rate_eth, rate_btc = _rate(system, eth), _rate(system, btc)
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    _allow(system, r.other, d.stability_pool)
    system.tx(d.stability_pool, "stake", r.other, 100 * RAD)
    # the stake becomes shares an exposure delay (the oracle delay) later
    system.warp(_read(system, d.stability_pool, "exposure_delay"))
    system.tx(d.stability_pool, "activate", r.other)
    system.open_vault(r.borrower, ETH, 20 * WAD, 13_000 * WAD)
    system.open_vault(r.stranger, ETH, 10 * WAD, 13_000 * WAD)
    system.open_vault(r.stranger, WBTC, WAD, 20_500 * WAD)
    _move_prices(system, [(eth, 900 * WAD), (btc, 20_000 * WAD)])
    _allow(system, r.other, eth.auction)
    in_flight = _liquidate(system, eth, r.borrower)
    _take(system, r.other, eth, in_flight, 5 * WAD, _top(900 * WAD))
    sold_out = _liquidate(system, eth, r.stranger)
    _take(system, r.other, eth, sold_out, 10 * WAD, _top(900 * WAD))
    # the sold-out take paid the Backstop directly; only the in-flight auction's 5,400 is escrowed
    assert _events(system)[1][1:] == (
        "StableTransferred",
        {"src": r.other, "dst": d.backstop, "amount": 10_800 * RAD},
    )
    assert _stable(system, eth.auction) == 5_400 * RAD
    seized = 13_000 * WAD * rate_eth  # each of the two liquidations [rad]
    to_raise = _to_raise(seized)
    reward = _reward(to_raise)
    assert _stable(system, r.keeper) == 2 * reward

    # shutdown -> fix prices -> cancel -> close vaults -> cover
    _shutdown(system)
    for t in (eth, btc):
        system.tx(d.settlement, "fix_price", r.keeper, t.type_id)
    final_eth, final_btc = _final_price(900 * WAD), _final_price(20_000 * WAD)
    assert _gs(system, "type_debt", eth.type_id) == 30_000 * WAD
    assert _gs(system, "type_debt", btc.type_id) == 20_500 * WAD
    system.tx(d.settlement, "cancel_auction", r.keeper, eth.type_id, eth.auction, in_flight)
    re_owed = (to_raise - 5_400 * RAD) // rate_eth
    assert _events(system)[-3][2]["raised"] == 5_400 * RAD + re_owed * rate_eth
    assert _vault(system, eth, r.borrower) == (15 * WAD, re_owed)
    assert _gs(system, "type_debt", eth.type_id) == 30_000 * WAD + re_owed
    fund = 5_400 * RAD + re_owed * rate_eth - seized
    # nobody heals: the proceeds that covered seized debt (the sold-out 10,800 and the cancelled
    # auction's seized debt) wait in the Backstop's stablecoin, which the fund may not spend
    assert _bs(system, "unsettled_proceeds") == 10_800 * RAD + seized
    assert _stable(system, d.backstop) == fund + 10_800 * RAD + seized
    for t, owner in ((eth, r.other), (eth, r.borrower), (btc, r.stranger)):
        system.tx(d.settlement, "close_vault", r.keeper, t.type_id, owner)
    owe_other = _owe(30_000 * WAD * rate_eth, final_eth)
    owe_borrower = _owe(re_owed * rate_eth, final_eth)
    gap = _owe(20_500 * WAD * rate_btc, final_btc) - WAD
    assert _collateral(system, eth, d.settlement) == owe_other + owe_borrower
    assert _collateral(system, btc, d.settlement) == WAD
    assert (_gs(system, "gap", eth.type_id), _gs(system, "gap", btc.type_id)) == (0, gap)
    system.tx(d.backstop, "cover", r.keeper, eth.type_id, eth.auction, sold_out)
    loss = seized - 10_800 * RAD
    settlement_debt = loss - fund - 100 * RAD
    assert _allocations(system) == [
        (FUND, d.backstop, fund),
        (POOL, d.stability_pool, 100 * RAD),
        (SETTLEMENT, d.settlement, settlement_debt),
    ]
    system.tx(d.stability_pool, "realize", r.keeper, r.other, 10)
    assert _events(system) == [
        (
            d.stability_pool,
            "StakerCharged",
            {"charge_id": 1, "staker": r.other, "amount": 100 * RAD},
        )
    ]
    for owner in (r.other, r.borrower):
        system.tx(d.settlement, "free_collateral", owner, eth.type_id)
    assert _collateral(system, eth, r.borrower) == 15 * WAD - owe_borrower

    # thaw -> cash prices
    _thaw_after_wait(system)
    holdings = {  # [rad]
        r.other: 30_000 * WAD * rate_eth - 5_400 * RAD - 10_800 * RAD - 100 * RAD,
        r.borrower: seized,
        r.stranger: seized + 20_500 * WAD * rate_btc,
        r.keeper: 2 * reward,
    }
    debt = sum(holdings.values())
    assert _gs(system, "debt") == debt
    # what holders hold is exactly the closed vaults' debt plus the debt nobody backs
    closed = (30_000 * WAD + re_owed) * rate_eth + 20_500 * WAD * rate_btc
    assert debt == closed + settlement_debt + 2 * reward
    for t in (eth, btc):
        system.tx(d.settlement, "fix_cash_price", r.keeper, t.type_id)
    cash_eth = (30_000 * WAD + re_owed) * rate_eth // RAY * final_eth // RAY * RAY // (debt // RAY)
    backing_btc = 20_500 * WAD * rate_btc // RAY * final_btc // RAY - gap
    assert (
        WAD - 2 <= backing_btc <= WAD
    )  # the vault's 1 WBTC, less the round-downs of value and gap
    cash_btc = backing_btc * RAY // (debt // RAY)
    assert _gs(system, "cash_price", eth.type_id) == cash_eth
    assert _gs(system, "cash_price", btc.type_id) == cash_btc
    # per BUSD: ~39,290 / 900 / 60,829 ETH and ~1 / 60,829 WBTC, both rounded down
    value_per_busd = Fraction(cash_eth * 900 + cash_btc * 20_000, RAY)  # at the final prices
    backed = closed - gap * 20_000 * RAY  # [rad]
    assert abs(value_per_busd - Fraction(backed, debt)) < Fraction(1, 10**18)
    assert 0.974 < value_per_busd < 0.975  # a ~2.5% haircut

    # pack -> cash, every holder, both types
    held = {t.type_id: _collateral(system, t, d.settlement) for t in (eth, btc)}
    paid = {t.type_id: 0 for t in (eth, btc)}
    for holder, stable in holdings.items():
        amount = _pack_all(system, holder)
        assert amount == stable // RAY
        for t, cash_price in ((eth, cash_eth), (btc, cash_btc)):
            free_0 = _collateral(system, t, holder)
            system.tx(d.settlement, "cash", holder, t.type_id, amount)
            out = amount * cash_price // RAY
            assert _events(system)[-1][2]["collateral"] == out
            assert _collateral(system, t, holder) == free_0 + out
            paid[t.type_id] += out
        # worth less than the stablecoin given up, at the final prices
        assert Fraction(
            amount * cash_eth // RAY * 900 + amount * cash_btc // RAY * 20_000, WAD
        ) < Fraction(amount, WAD)
    # the other's ~13,700 BUSD: ~9.832 ETH + ~0.2252 WBTC, worth ~13,353 BUSD at final prices
    other = holdings[r.other] // RAY
    assert 9_831 * WAD // 1_000 < other * cash_eth // RAY < 9_833 * WAD // 1_000
    assert 2_251 * WAD // 10_000 < other * cash_btc // RAY < 2_253 * WAD // 10_000
    for t in (eth, btc):
        assert paid[t.type_id] <= held[t.type_id]
        assert _collateral(system, t, d.settlement) == held[t.type_id] - paid[t.type_id]
    assert _read(system, d.stability_pool, "assets") == 0
