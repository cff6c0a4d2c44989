"""DebtAuction, SurplusAuction, GovernanceToken and the Backstop's debt and surplus auctions
(docs/loss-waterfall.md, "DebtAuction (Flop) and SurplusAuction (Flap)"), on chain and in the
model at once.

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

import pytest
from helpers import heal, started_auction

from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import ZERO_ADDRESS, Role
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices, reverts
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


# ---------------------------------------------------------------- reading (chain == model)


def _stable(system, who) -> int:
    return _read(system, system.d.engine, "stable", who)


def _bad_debt(system, who) -> int:
    return _read(system, system.d.engine, "bad_debt", who)


def _backstop(system, name):
    return _read(system, system.d.backstop, name)


def _debt_auction(system, auction_id) -> tuple:
    """(bid [rad], lot [wad], winner, bid_expiry, end)."""
    return _read(system, system.d.debt_auction, "auctions", auction_id)


def _surplus_auction(system, auction_id) -> tuple:
    """(bid [wad], lot [rad], winner, bid_expiry, end)."""
    return _read(system, system.d.surplus_auction, "auctions", auction_id)


def _gov_balance(system, who) -> int:
    on_chain = system.view(system.d.governance_token, "balanceOf", who)
    assert on_chain == system.contract(system.d.governance_token).balance_of[who]
    return on_chain


def _gov_supply(system) -> int:
    on_chain = system.view(system.d.governance_token, "totalSupply")
    assert on_chain == system.contract(system.d.governance_token).total_supply
    return on_chain


# ---------------------------------------------------------------- acting


def _at(system, timestamp) -> None:
    """The next transaction is mined at `timestamp`."""
    system.lockstep.set_next_block_time(timestamp)


def _crash(system, t, price) -> None:
    move_prices(system, [(t, price)])


def _fund_stable(system, who, amount, spender=None) -> None:
    """Governance mints `amount` [rad] of unbacked internal stablecoin to `who` (governance's own
    bad debt); `who` lets `spender` (default: the DebtAuction) move it."""
    r = system.roles
    system.tx(system.d.engine, "create_unbacked", r.governance, r.governance, who, amount)
    system.tx(system.d.engine, "allow", who, spender or system.d.debt_auction)


def _fund_gov(system, who, amount) -> None:
    """Governance (a minter) mints `amount` governance token [wad] to `who`, who lets the
    SurplusAuction spend it."""
    system.tx(system.d.governance_token, "mint", system.roles.governance, who, amount)
    system.tx(system.d.governance_token, "approve", who, system.d.surplus_auction, amount)


def _set_sizes(system, buffer=SURPLUS_BUFFER, lot=SURPLUS_LOT, debt_bid=DEBT_BID) -> None:
    system.tx(
        system.d.backstop, "set_auction_parameters", system.roles.governance, buffer, lot, debt_bid
    )


def _set_debt_params(
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


def _loss_to_debt_auction(system) -> int:
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
    _fund_stable(system, r.other, 12_000 * RAD, t.auction)
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
    assert _backstop(system, "debt_to_auction") == loss
    assert _backstop(system, "debt_on_auction") == 0
    reward = 300 * RAD + -(-debt * 113 // 100) // 1000
    assert _bad_debt(system, b) == loss + reward
    assert _stable(system, b) == 0
    return loss


def _fees_to_backstop(system) -> int:
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
    assert _stable(system, system.d.backstop) == surplus
    assert _bad_debt(system, system.d.backstop) == 0
    return surplus


def _start_debt_auction(system) -> int:
    system.tx(system.d.backstop, "start_debt_auction", system.roles.keeper)
    return _read(system, system.d.debt_auction, "count")


def _start_surplus_auction(system) -> int:
    system.tx(system.d.backstop, "start_surplus_auction", system.roles.keeper)
    return _read(system, system.d.surplus_auction, "count")


def _max_lot(lot: int, min_decrease: int = MIN_DECREASE) -> int:
    """The largest lot a bid may ask for: lot x min_decrease <= previous lot x WAD."""
    return lot * WAD // min_decrease


def _min_bid(bid: int, min_increase: int = MIN_INCREASE) -> int:
    """The smallest bid above `bid`: new x WAD >= bid x min_increase."""
    return -(-bid * min_increase // WAD)


def _shutdown(system) -> None:
    system.tx(system.d.settlement, "shutdown", system.roles.governance)


# ================================================================ deployment and administration


def test_deployment__auctions_and_token_wired_as_configured(system):
    """Money flow: none. The devnet values every test below relies on."""
    d = system.d
    da, sa, gov = d.debt_auction, d.surplus_auction, d.governance_token
    assert [
        _read(system, da, name)
        for name in (
            "initial_lot",
            "min_decrease",
            "lot_growth",
            "bid_duration",
            "auction_duration",
            "live",
            "count",
        )
    ] == [INITIAL_LOT, MIN_DECREASE, LOT_GROWTH, BID_DURATION, AUCTION_DURATION, True, 0]
    assert [
        _read(system, sa, name)
        for name in ("min_increase", "bid_duration", "auction_duration", "live", "count")
    ] == [MIN_INCREASE, BID_DURATION, AUCTION_DURATION, True, 0]
    assert [
        _backstop(system, name)
        for name in ("surplus_buffer", "surplus_lot", "debt_auction_bid_size")
    ] == [SURPLUS_BUFFER, SURPLUS_LOT, DEBT_BID]
    assert (_backstop(system, "debt_auction"), _backstop(system, "surplus_auction")) == (da, sa)
    for auction in (da, sa):
        assert system.view(auction, "engine") == d.engine
        assert system.view(auction, "backstop") == d.backstop
        assert system.view(auction, "token") == gov
        # the Backstop starts and shuts down, nothing else; governance is the only admin
        assert _read(system, auction, "roles", d.backstop) == Role.START | Role.SHUTDOWN
        assert not _read(system, auction, "authorized", d.backstop)
        assert _read(system, auction, "authorized", system.roles.governance)
    # governance owns the token and mints; the DebtAuction mints; the SurplusAuction only burns
    assert system.view(gov, "owner") == system.roles.governance
    assert _read(system, gov, "is_minter", system.roles.governance)
    assert _read(system, gov, "is_minter", da)
    assert not _read(system, gov, "is_minter", sa)
    assert (system.view(gov, "decimals"), system.view(gov, "symbol"), system.view(gov, "name")) == (
        18,
        "BSG",
        "Backstop Governance",
    )
    assert _gov_supply(system) == 0


def test_governance_token_mint__by_stranger__reverts_access_denied(system):
    r, gov = system.roles, system.d.governance_token
    with reverts("erc20: access is denied"):
        system.tx(gov, "mint", r.stranger, r.stranger, WAD)
    system.tx(gov, "mint", r.governance, r.other, 3 * WAD)
    assert _events(system) == [
        (gov, "Transfer", {"sender": ZERO_ADDRESS, "receiver": r.other, "value": 3 * WAD})
    ]
    assert (_gov_balance(system, r.other), _gov_supply(system)) == (3 * WAD, 3 * WAD)


def test_governance_token_burn__holder_burns_own_tokens__supply_falls(system):
    r, gov = system.roles, system.d.governance_token
    system.tx(gov, "mint", r.governance, r.other, 3 * WAD)
    system.tx(gov, "burn", r.other, WAD)
    assert (_gov_balance(system, r.other), _gov_supply(system)) == (2 * WAD, 2 * WAD)
    with reverts("erc20: burn amount exceeds balance"):
        system.tx(gov, "burn", r.other, 2 * WAD + 1)


def test_debt_auction_set_parameters__stores_values_and_logs(system):
    da = system.d.debt_auction
    _set_debt_params(system, 7 * WAD, 11 * WAD // 10, 2 * WAD, 600, 3_600)
    assert _events(system) == [
        (
            da,
            "DebtAuctionParametersSet",
            {
                "initial_lot": 7 * WAD,
                "min_decrease": 11 * WAD // 10,
                "lot_growth": 2 * WAD,
                "bid_duration": 600,
                "auction_duration": 3_600,
            },
        )
    ]
    assert [
        _read(system, da, name)
        for name in (
            "initial_lot",
            "min_decrease",
            "lot_growth",
            "bid_duration",
            "auction_duration",
        )
    ] == [7 * WAD, 11 * WAD // 10, 2 * WAD, 600, 3_600]


def test_debt_auction_set_parameters__at_the_bounds__is_accepted(system):
    da = system.d.debt_auction
    _set_debt_params(system, MAX_FIELD, WAD + 1, WAD, MAX_DURATION, MAX_DURATION)
    assert [
        _read(system, da, name)
        for name in (
            "initial_lot",
            "min_decrease",
            "lot_growth",
            "bid_duration",
            "auction_duration",
        )
    ] == [MAX_FIELD, WAD + 1, WAD, MAX_DURATION, MAX_DURATION]
    _set_debt_params(system, 1, MIN_DECREASE, LOT_GROWTH, 1, 1)
    assert _read(system, da, "initial_lot") == 1


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"initial_lot": 0}, "debt auction: zero lot"),
        ({"min_decrease": WAD}, "debt auction: min decrease not above 1"),
        ({"min_decrease": 0}, "debt auction: min decrease not above 1"),
        ({"lot_growth": WAD - 1}, "debt auction: lot growth below 1"),
        ({"bid_duration": 0}, "debt auction: zero duration"),
        ({"auction_duration": 0}, "debt auction: zero duration"),
        ({"initial_lot": MAX_FIELD + 1}, "debt auction: value too large"),
        ({"bid_duration": MAX_DURATION + 1}, "debt auction: value too large"),
        ({"auction_duration": MAX_DURATION + 1}, "debt auction: value too large"),
    ],
)
def test_debt_auction_set_parameters__invalid__reverts_with_reason(system, params, reason):
    with reverts(reason):
        _set_debt_params(system, **params)
    assert _read(system, system.d.debt_auction, "initial_lot") == INITIAL_LOT


def test_surplus_auction_set_parameters__stores_values_and_logs(system):
    r, sa = system.roles, system.d.surplus_auction
    system.tx(sa, "set_parameters", r.governance, 11 * WAD // 10, 600, 3_600)
    assert _events(system) == [
        (
            sa,
            "ParametersSet",
            {"min_increase": 11 * WAD // 10, "bid_duration": 600, "auction_duration": 3_600},
        )
    ]
    assert [_read(system, sa, n) for n in ("min_increase", "bid_duration", "auction_duration")] == [
        11 * WAD // 10,
        600,
        3_600,
    ]
    system.tx(sa, "set_parameters", r.governance, WAD + 1, MAX_DURATION, MAX_DURATION)
    assert [_read(system, sa, n) for n in ("min_increase", "bid_duration", "auction_duration")] == [
        WAD + 1,
        MAX_DURATION,
        MAX_DURATION,
    ]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ((WAD, BID_DURATION, AUCTION_DURATION), "surplus auction: min increase not above 1"),
        ((MIN_INCREASE, 0, AUCTION_DURATION), "surplus auction: zero duration"),
        ((MIN_INCREASE, BID_DURATION, 0), "surplus auction: zero duration"),
        ((MIN_INCREASE, MAX_DURATION + 1, AUCTION_DURATION), "surplus auction: value too large"),
        ((MIN_INCREASE, BID_DURATION, MAX_DURATION + 1), "surplus auction: value too large"),
    ],
)
def test_surplus_auction_set_parameters__invalid__reverts_with_reason(system, params, reason):
    with reverts(reason):
        system.tx(system.d.surplus_auction, "set_parameters", system.roles.governance, *params)
    assert _read(system, system.d.surplus_auction, "min_increase") == MIN_INCREASE


PRIVILEGED = [
    (
        "debt_auction",
        "set_parameters",
        (INITIAL_LOT, MIN_DECREASE, LOT_GROWTH, BID_DURATION, AUCTION_DURATION),
        "authorized: not authorized",
    ),
    ("debt_auction", "start", (DEBT_BID,), "authorized: not authorized"),
    ("debt_auction", "shutdown", (), "authorized: not authorized"),
    ("debt_auction", "add_authority", (ZERO_ADDRESS,), "authorized: not authorized"),
    ("debt_auction", "remove_authority", (ZERO_ADDRESS,), "authorized: not authorized"),
    (
        "surplus_auction",
        "set_parameters",
        (MIN_INCREASE, BID_DURATION, AUCTION_DURATION),
        "authorized: not authorized",
    ),
    ("surplus_auction", "start", (SURPLUS_LOT,), "authorized: not authorized"),
    ("surplus_auction", "shutdown", (), "authorized: not authorized"),
    ("surplus_auction", "add_authority", (ZERO_ADDRESS,), "authorized: not authorized"),
    ("surplus_auction", "remove_authority", (ZERO_ADDRESS,), "authorized: not authorized"),
    ("backstop", "on_debt_auction_bid", (0,), "backstop: not debt auction"),
    (
        "backstop",
        "set_auction_parameters",
        (0, SURPLUS_LOT, DEBT_BID),
        "authorized: not authorized",
    ),
]


@pytest.mark.parametrize(
    ("contract", "function", "args", "reason"),
    PRIVILEGED,
    ids=[f"{c}.{f}" for c, f, _, _ in PRIVILEGED],
)
def test_privileged_function__called_by_stranger__reverts_with_reason(
    system, contract, function, args, reason
):
    """Only the Backstop (and governance) start auctions; only the DebtAuction reports a paid
    bid."""
    with reverts(reason):
        system.tx(getattr(system.d, contract), function, system.roles.stranger, *args)


def test_debt_auction_revoke_role__start_of_backstop__blocks_start(system):
    r, da, backstop = system.roles, system.d.debt_auction, system.d.backstop
    _loss_to_debt_auction(system)
    system.tx(da, "revoke_role", r.governance, backstop, int(Role.START))
    assert _events(system) == [(da, "RoleRevoked", {"account": backstop, "role": int(Role.START)})]
    assert _read(system, da, "roles", backstop) == Role.SHUTDOWN
    with reverts("authorized: not authorized"):
        _start_debt_auction(system)
    system.tx(da, "grant_role", r.governance, backstop, int(Role.START))
    assert _events(system) == [(da, "RoleGranted", {"account": backstop, "role": int(Role.START)})]
    assert _start_debt_auction(system) == 1


def test_auction_start__zero_size__reverts(system):
    r = system.roles
    with reverts("debt auction: zero bid"):
        system.tx(system.d.debt_auction, "start", r.governance, 0)
    with reverts("surplus auction: zero lot"):
        system.tx(system.d.surplus_auction, "start", r.governance, 0)


def test_set_auction_parameters__stores_logs_and_rejects_zero_sizes(system):
    b = system.d.backstop
    _set_sizes(system, 0, 1, 2)
    assert _events(system) == [
        (
            b,
            "AuctionParametersSet",
            {"surplus_buffer": 0, "surplus_lot": 1, "debt_auction_bid_size": 2},
        )
    ]
    assert [
        _backstop(system, n) for n in ("surplus_buffer", "surplus_lot", "debt_auction_bid_size")
    ] == [0, 1, 2]
    with reverts("backstop: zero auction size"):
        _set_sizes(system, 0, 0, 2)
    with reverts("backstop: zero auction size"):
        _set_sizes(system, 0, 1, 0)


# ================================================================ Backstop.start_debt_auction


def test_start_debt_auction__nothing_to_auction__reverts(system):
    with reverts("backstop: no debt to auction"):
        _start_debt_auction(system)


def test_start_debt_auction__bid_is_bid_size_or_the_rest_of_debt_to_auction(system):
    """Money flow: none yet. The ~1,000 BUSD loss is put on auction in bids of at most 400: 400,
    400, then the last ~200; each auction offers the initial 250 tokens; then nothing is left."""
    b, da = system.d.backstop, system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    _set_sizes(system, debt_bid=400 * RAD)
    bad_debt = _bad_debt(system, b)
    last = loss - 800 * RAD
    for auction_id, bid, to_auction in (
        (1, 400 * RAD, loss - 400 * RAD),
        (2, 400 * RAD, last),
        (3, last, 0),
    ):
        assert _start_debt_auction(system) == auction_id
        assert _events(system) == [
            (da, "Started", {"auction_id": auction_id, "bid": bid, "lot": INITIAL_LOT}),
            (b, "DebtAuctionStarted", {"auction_id": auction_id, "bid": bid}),
        ]
        assert _debt_auction(system, auction_id) == (
            bid,
            INITIAL_LOT,
            b,
            0,
            system.now + AUCTION_DURATION,
        )
        assert _backstop(system, "debt_to_auction") == to_auction
        assert _backstop(system, "debt_on_auction") == loss - to_auction
    # nothing moved in the engine: the loss is still the Backstop's bad debt until bids pay it
    assert _bad_debt(system, b) == bad_debt
    with reverts("backstop: no debt to auction"):
        _start_debt_auction(system)


def test_start_debt_auction__bid_size_above_debt__auctions_all_of_it(system):
    loss = _loss_to_debt_auction(system)
    assert _start_debt_auction(system) == 1
    assert _debt_auction(system, 1)[:2] == (loss, INITIAL_LOT)
    assert (_backstop(system, "debt_to_auction"), _backstop(system, "debt_on_auction")) == (0, loss)


# ================================================================ DebtAuction bids


def test_debt_auction_bid__first_pays_backstop_later_refunds_finish_mints_lot(system):
    """Money flow: the first auction sells 400 BUSD of bad debt for governance tokens. The other
    bids 400 for 238.09 tokens: the 400 go to the Backstop, which settles 400 of its bad debt at
    once (debt_on_auction 400 -> 0). The stranger then bids 400 for 200 tokens: the 400 repay
    the other exactly, the Backstop is untouched. When the stranger's bid has stood for
    `bid_duration`, `finish` mints the 200 tokens to the stranger (supply 0 -> 200)."""
    r, b, da, gov = (
        system.roles,
        system.d.backstop,
        system.d.debt_auction,
        system.d.governance_token,
    )
    loss = _loss_to_debt_auction(system)
    _set_sizes(system, debt_bid=400 * RAD)
    _start_debt_auction(system)
    end = _debt_auction(system, 1)[4]
    for bidder in (r.other, r.stranger):
        _fund_stable(system, bidder, 400 * RAD)
    other_before = _stable(system, r.other)
    bad_debt = _bad_debt(system, b)

    first_lot = _max_lot(INITIAL_LOT)
    assert first_lot == 238_095_238_095_238_095_238  # 250 / 1.05, rounded down
    with reverts("debt auction: lot not lower"):
        system.tx(da, "bid", r.other, 1, first_lot + 1)
    system.tx(da, "bid", r.other, 1, first_lot)
    assert _events(system) == [
        (system.d.engine, "StableTransferred", {"src": r.other, "dst": b, "amount": 400 * RAD}),
        (system.d.engine, "DebtSettled", {"account": b, "amount": 400 * RAD}),
        (b, "DebtAuctionPaid", {"amount": 400 * RAD}),
        (da, "Bid", {"auction_id": 1, "bidder": r.other, "lot": first_lot, "bid": 400 * RAD}),
    ]
    assert _debt_auction(system, 1) == (
        400 * RAD,
        first_lot,
        r.other,
        system.now + BID_DURATION,
        end,
    )
    assert _stable(system, r.other) == other_before - 400 * RAD
    assert _bad_debt(system, b) == bad_debt - 400 * RAD
    assert _stable(system, b) == 0
    assert _backstop(system, "debt_on_auction") == 0
    assert _backstop(system, "debt_to_auction") == loss - 400 * RAD

    # the same lot again is not lower
    with reverts("debt auction: lot not lower"):
        system.tx(da, "bid", r.stranger, 1, first_lot)
    stranger_before = _stable(system, r.stranger)
    other_before = _stable(system, r.other)
    system.tx(da, "bid", r.stranger, 1, 200 * WAD)
    expiry = system.now + BID_DURATION
    assert _events(system) == [
        (
            system.d.engine,
            "StableTransferred",
            {"src": r.stranger, "dst": r.other, "amount": 400 * RAD},
        ),
        (da, "Bid", {"auction_id": 1, "bidder": r.stranger, "lot": 200 * WAD, "bid": 400 * RAD}),
    ]
    assert _stable(system, r.other) == other_before + 400 * RAD
    assert _stable(system, r.stranger) == stranger_before - 400 * RAD
    assert _bad_debt(system, b) == bad_debt - 400 * RAD
    assert _debt_auction(system, 1) == (400 * RAD, 200 * WAD, r.stranger, expiry, end)

    _at(system, expiry - 1)
    with reverts("debt auction: not finished"):
        system.tx(da, "finish", r.keeper, 1)
    assert system.now == expiry - 1
    with reverts("debt auction: bid expired"):
        system.tx(da, "bid", r.other, 1, 100 * WAD)
    assert system.now == expiry
    system.tx(da, "finish", r.keeper, 1)
    assert _events(system) == [
        (gov, "Transfer", {"sender": ZERO_ADDRESS, "receiver": r.stranger, "value": 200 * WAD}),
        (
            da,
            "Finished",
            {"auction_id": 1, "winner": r.stranger, "lot": 200 * WAD, "bid": 400 * RAD},
        ),
    ]
    assert (_gov_balance(system, r.stranger), _gov_balance(system, r.other)) == (200 * WAD, 0)
    assert _gov_supply(system) == 200 * WAD
    assert _debt_auction(system, 1) == NO_AUCTION
    with reverts("debt auction: not finished"):
        system.tx(da, "finish", r.keeper, 1)
    with reverts("debt auction: not running"):
        system.tx(da, "bid", r.other, 1, WAD)


def test_debt_auction_bid__winner_lowers_own_lot__pays_nothing_again(system):
    """Money flow: the other's first bid pays the Backstop the whole loss; lowering its own lot
    later moves no stablecoin and restarts its bid's clock."""
    r, da = system.roles, system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    _start_debt_auction(system)
    _fund_stable(system, r.other, loss)
    system.tx(da, "bid", r.other, 1, 200 * WAD)
    assert _stable(system, r.other) == 0
    system.warp(BID_DURATION - 1)
    system.tx(da, "bid", r.other, 1, 190 * WAD)
    assert _events(system) == [
        (da, "Bid", {"auction_id": 1, "bidder": r.other, "lot": 190 * WAD, "bid": loss})
    ]
    assert _debt_auction(system, 1)[1:4] == (190 * WAD, r.other, system.now + BID_DURATION)
    assert _stable(system, r.other) == 0
    assert _backstop(system, "debt_on_auction") == 0


def test_debt_auction_bid__without_stablecoin__reverts_and_backstop_unchanged(system):
    r, da = system.roles, system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    _start_debt_auction(system)
    system.tx(system.d.engine, "allow", r.stranger, da)
    with reverts("engine: insufficient stable"):
        system.tx(da, "bid", r.stranger, 1, 200 * WAD)
    assert _backstop(system, "debt_on_auction") == loss
    assert _debt_auction(system, 1)[2:4] == (system.d.backstop, 0)


def test_debt_auction_started_outside_backstop__first_bid_reverts_whole(system):
    """Money flow: none. Governance (also authorized) starts an auction for 100 BUSD the
    Backstop never put on auction: the first bid's payment would make `debt_on_auction`
    negative, so the whole bid reverts (arithmetic) and the bidder keeps its stablecoin."""
    r, da = system.roles, system.d.debt_auction
    system.tx(da, "start", r.governance, 100 * RAD)
    _fund_stable(system, r.other, 100 * RAD)
    with reverts(None):
        system.tx(da, "bid", r.other, 1, 100 * WAD)
    assert _stable(system, r.other) == 100 * RAD
    assert _debt_auction(system, 1)[2:4] == (system.d.backstop, 0)


def test_debt_auction_bid__not_started__reverts_not_running(system):
    with reverts("debt auction: not running"):
        system.tx(system.d.debt_auction, "bid", system.roles.other, 1, WAD)


def test_debt_auction__bid_standing_past_end__ends_at_end_and_finishes_there(system):
    """A bid that would stand beyond the auction's end: at the end no one may bid and the
    standing bid wins (bid_duration raised to 3 days mid-auction: running auctions use it)."""
    r, da = system.roles, system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    _start_debt_auction(system)
    end = _debt_auction(system, 1)[4]
    _set_debt_params(system, bid_duration=3 * 86_400)
    for bidder in (r.other, r.stranger):
        _fund_stable(system, bidder, loss)
    system.tx(da, "bid", r.other, 1, 100 * WAD)
    assert _debt_auction(system, 1)[3] == system.now + 3 * 86_400 > end
    _at(system, end - 1)
    with reverts("debt auction: not finished"):
        system.tx(da, "finish", r.keeper, 1)
    with reverts("debt auction: auction ended"):
        system.tx(da, "bid", r.stranger, 1, 50 * WAD)
    system.tx(da, "finish", r.keeper, 1)
    assert _gov_balance(system, r.other) == 100 * WAD


# ================================================================ DebtAuction restart


def test_debt_auction_restart__no_bids__grows_lot_and_sets_new_end(system):
    """Money flow: none; an auction nobody bid on by its end restarts offering 50% more tokens:
    250 -> 375 -> 562.5, each time ending `auction_duration` after the restart. At the end
    itself it cannot restart yet (nor take a bid: test above); after it, it can neither take a
    bid nor finish."""
    r, b, da = system.roles, system.d.backstop, system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    _start_debt_auction(system)
    end = _debt_auction(system, 1)[4]
    _fund_stable(system, r.other, loss)
    _at(system, end)
    with reverts("debt auction: not ended"):
        system.tx(da, "restart", r.keeper, 1)
    with reverts("debt auction: auction ended"):
        system.tx(da, "bid", r.other, 1, 100 * WAD)
    with reverts("debt auction: not finished"):
        system.tx(da, "finish", r.keeper, 1)
    assert system.now == end + 2

    system.tx(da, "restart", r.keeper, 1)
    new_end = system.now + AUCTION_DURATION
    assert _events(system) == [
        (da, "Restarted", {"auction_id": 1, "lot": 375 * WAD, "end": new_end})
    ]
    assert _debt_auction(system, 1) == (loss, 375 * WAD, b, 0, new_end)
    with reverts("debt auction: not ended"):
        system.tx(da, "restart", r.keeper, 1)

    _at(system, new_end + 1)
    system.tx(da, "restart", r.keeper, 1)
    assert _debt_auction(system, 1)[1] == 5625 * WAD // 10
    # the debt is still on auction, and the restarted auction takes bids again
    assert _backstop(system, "debt_on_auction") == loss
    system.tx(da, "bid", r.other, 1, 500 * WAD)
    assert _backstop(system, "debt_on_auction") == 0


def test_debt_auction_restart__lot_growth_rounds_down(system):
    r, da = system.roles, system.d.debt_auction
    _loss_to_debt_auction(system)
    _set_debt_params(system, initial_lot=3)
    _start_debt_auction(system)
    system.warp(AUCTION_DURATION + 1)
    system.tx(da, "restart", r.keeper, 1)
    assert _debt_auction(system, 1)[1] == 4  # 3 x 1.5 = 4.5


def test_debt_auction_restart__lot_above_128_bits__reverts_value_too_large(system):
    r, da = system.roles, system.d.debt_auction
    _loss_to_debt_auction(system)
    _set_debt_params(system, initial_lot=MAX_FIELD, lot_growth=WAD)
    _start_debt_auction(system)
    system.warp(AUCTION_DURATION + 1)
    # growth 1: the lot stays at the largest field value
    system.tx(da, "restart", r.keeper, 1)
    assert _debt_auction(system, 1)[1] == MAX_FIELD
    _set_debt_params(system, initial_lot=MAX_FIELD, lot_growth=WAD + 1)
    system.warp(AUCTION_DURATION + 1)
    with reverts("debt auction: value too large"):
        system.tx(da, "restart", r.keeper, 1)


def test_debt_auction_restart__with_a_bid__reverts_has_bids(system):
    r, da = system.roles, system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    _start_debt_auction(system)
    end = _debt_auction(system, 1)[4]
    _fund_stable(system, r.other, loss)
    system.tx(da, "bid", r.other, 1, 100 * WAD)
    _at(system, end + 1)
    with reverts("debt auction: has bids"):
        system.tx(da, "restart", r.keeper, 1)
    system.tx(da, "finish", r.keeper, 1)
    assert _gov_balance(system, r.other) == 100 * WAD


def test_debt_auction_restart__not_started__reverts_not_running(system):
    with reverts("debt auction: not running"):
        system.tx(system.d.debt_auction, "restart", system.roles.keeper, 1)


# ================================================================ Backstop.start_surplus_auction


def test_start_surplus_auction__exactly_at_buffer_plus_lot__moves_lot_to_surplus_auction(system):
    """Money flow: the Backstop holds the year's fees S (~260 BUSD) and no bad debt. With a lot
    of 100 and a buffer of S - 100 + 1 wei it is 1 wei short; with a buffer of S - 100 it is
    exactly enough: 100 BUSD move to the SurplusAuction, S - 100 stay as the insurance fund."""
    b, sa = system.d.backstop, system.d.surplus_auction
    surplus = _fees_to_backstop(system)
    lot = 100 * RAD
    _set_sizes(system, buffer=surplus - lot + 1, lot=lot)
    with reverts("backstop: surplus below buffer"):
        _start_surplus_auction(system)
    _set_sizes(system, buffer=surplus - lot, lot=lot)
    assert _start_surplus_auction(system) == 1
    assert _events(system) == [
        (system.d.engine, "StableTransferred", {"src": b, "dst": sa, "amount": lot}),
        (sa, "Started", {"auction_id": 1, "lot": lot}),
        (b, "SurplusAuctionStarted", {"auction_id": 1, "lot": lot}),
    ]
    assert _surplus_auction(system, 1) == (0, lot, b, 0, system.now + AUCTION_DURATION)
    assert (_stable(system, b), _stable(system, sa)) == (surplus - lot, lot)
    # the fund is now at the buffer: no second lot
    with reverts("backstop: surplus below buffer"):
        _start_surplus_auction(system)


def test_start_surplus_auction__bad_debt_counts_against_surplus_exactly(system):
    """Money flow: 10 BUSD of unattributed bad debt (governance creates it against the Backstop,
    paying the other) count in full against the surplus: with a buffer of S - 100 - 10 + 1 wei
    the Backstop is 1 wei short, with S - 100 - 10 it starts the 100 BUSD lot. Settling that debt
    against surplus (anyone) changes nothing: both sides fall by the same amount."""
    r, b = system.roles, system.d.backstop
    surplus = _fees_to_backstop(system)
    lot, debt = 100 * RAD, 10 * RAD
    system.tx(system.d.engine, "create_unbacked", r.governance, b, r.other, debt)
    _set_sizes(system, buffer=surplus - lot - debt + 1, lot=lot)
    with reverts("backstop: surplus below buffer"):
        _start_surplus_auction(system)
    system.tx(b, "settle", r.keeper, debt)
    assert (_stable(system, b), _bad_debt(system, b)) == (surplus - debt, 0)
    with reverts("backstop: surplus below buffer"):
        _start_surplus_auction(system)
    _set_sizes(system, buffer=surplus - lot - debt, lot=lot)
    _start_surplus_auction(system)
    assert (_stable(system, b), _stable(system, system.d.surplus_auction)) == (
        surplus - debt - lot,
        lot,
    )


def test_start_surplus_auction__devnet_buffer__reverts_below_buffer(system):
    _fees_to_backstop(system)
    with reverts("backstop: surplus below buffer"):
        _start_surplus_auction(system)


# ================================================================ SurplusAuction bids


def test_surplus_auction_bid__rises_refunds_previous_bidder_finish_burns_winning_bid(system):
    """Money flow: 100 BUSD of surplus are sold. The other bids 10 tokens (paid into the
    auction); the stranger bids 10.5: the other gets its 10 back from the stranger and the
    auction receives the 0.5 more; the stranger then raises its own bid to 11.025, paying only
    the 0.525 increase. When its bid has stood for `bid_duration`, the stranger gets the 100
    BUSD and the auction burns the 11.025 tokens it holds (supply 200 -> 188.975)."""
    r, b, sa, gov = (
        system.roles,
        system.d.backstop,
        system.d.surplus_auction,
        system.d.governance_token,
    )
    surplus = _fees_to_backstop(system)
    lot = 100 * RAD
    _set_sizes(system, buffer=0, lot=lot)
    _start_surplus_auction(system)
    end = _surplus_auction(system, 1)[4]
    for bidder in (r.other, r.stranger):
        _fund_gov(system, bidder, 100 * WAD)

    with reverts("surplus auction: bid not higher"):
        system.tx(sa, "bid", r.other, 1, 0)
    system.tx(sa, "bid", r.other, 1, 10 * WAD)
    assert [e for e in _events(system) if e[1] != "Approval"] == [
        (gov, "Transfer", {"sender": r.other, "receiver": sa, "value": 10 * WAD}),
        (sa, "Bid", {"auction_id": 1, "bidder": r.other, "lot": lot, "bid": 10 * WAD}),
    ]
    assert _surplus_auction(system, 1) == (10 * WAD, lot, r.other, system.now + BID_DURATION, end)
    assert (_gov_balance(system, r.other), _gov_balance(system, sa)) == (90 * WAD, 10 * WAD)

    second = _min_bid(10 * WAD)
    assert second == 105 * WAD // 10
    with reverts("surplus auction: bid not higher"):
        system.tx(sa, "bid", r.stranger, 1, second - 1)
    system.tx(sa, "bid", r.stranger, 1, second)
    assert [e for e in _events(system) if e[1] != "Approval"] == [
        (gov, "Transfer", {"sender": r.stranger, "receiver": r.other, "value": 10 * WAD}),
        (gov, "Transfer", {"sender": r.stranger, "receiver": sa, "value": WAD // 2}),
        (sa, "Bid", {"auction_id": 1, "bidder": r.stranger, "lot": lot, "bid": second}),
    ]
    assert _gov_balance(system, r.other) == 100 * WAD
    assert (_gov_balance(system, r.stranger), _gov_balance(system, sa)) == (
        100 * WAD - second,
        second,
    )

    third = _min_bid(second)
    assert third == 11_025 * WAD // 1000
    system.tx(sa, "bid", r.stranger, 1, third)
    expiry = system.now + BID_DURATION
    assert (_gov_balance(system, r.stranger), _gov_balance(system, sa)) == (
        100 * WAD - third,
        third,
    )
    assert _surplus_auction(system, 1) == (third, lot, r.stranger, expiry, end)

    _at(system, expiry - 1)
    with reverts("surplus auction: not finished"):
        system.tx(sa, "finish", r.keeper, 1)
    with reverts("surplus auction: bid expired"):
        system.tx(sa, "bid", r.other, 1, 20 * WAD)
    assert system.now == expiry
    stranger_stable = _stable(system, r.stranger)
    system.tx(sa, "finish", r.keeper, 1)
    assert _events(system) == [
        (system.d.engine, "StableTransferred", {"src": sa, "dst": r.stranger, "amount": lot}),
        (gov, "Transfer", {"sender": sa, "receiver": ZERO_ADDRESS, "value": third}),
        (sa, "Finished", {"auction_id": 1, "winner": r.stranger, "lot": lot, "bid": third}),
    ]
    assert _stable(system, r.stranger) == stranger_stable + lot
    assert (_stable(system, sa), _gov_balance(system, sa)) == (0, 0)
    assert _gov_supply(system) == 200 * WAD - third
    assert _stable(system, b) == surplus - lot
    assert _surplus_auction(system, 1) == NO_AUCTION
    with reverts("surplus auction: not finished"):
        system.tx(sa, "finish", r.keeper, 1)
    with reverts("surplus auction: not running"):
        system.tx(sa, "bid", r.other, 1, 50 * WAD)


def test_surplus_auction_bid__above_128_bits__reverts_value_too_large(system):
    r, sa = system.roles, system.d.surplus_auction
    _fees_to_backstop(system)
    _set_sizes(system, buffer=0, lot=100 * RAD)
    _start_surplus_auction(system)
    with reverts("surplus auction: value too large"):
        system.tx(sa, "bid", r.other, 1, MAX_FIELD + 1)


def test_surplus_auction_bid__without_allowance__reverts(system):
    r, sa = system.roles, system.d.surplus_auction
    _fees_to_backstop(system)
    _set_sizes(system, buffer=0, lot=100 * RAD)
    _start_surplus_auction(system)
    system.tx(system.d.governance_token, "mint", r.governance, r.other, 10 * WAD)
    with reverts("erc20: insufficient allowance"):
        system.tx(sa, "bid", r.other, 1, 10 * WAD)
    assert _surplus_auction(system, 1)[2:4] == (system.d.backstop, 0)


def test_surplus_auction_restart__no_bids__new_end_same_lot__has_bids_after_a_bid(system):
    """Money flow: none; the unsold lot stays in the auction across the restart."""
    r, b, sa = system.roles, system.d.backstop, system.d.surplus_auction
    _fees_to_backstop(system)
    lot = 100 * RAD
    _set_sizes(system, buffer=0, lot=lot)
    _start_surplus_auction(system)
    end = _surplus_auction(system, 1)[4]
    _fund_gov(system, r.other, 10 * WAD)
    _at(system, end - 1)
    with reverts("surplus auction: not ended"):
        system.tx(sa, "restart", r.keeper, 1)
    with reverts("surplus auction: auction ended"):
        system.tx(sa, "bid", r.other, 1, 10 * WAD)
    assert system.now == end
    system.tx(sa, "restart", r.keeper, 1)
    new_end = system.now + AUCTION_DURATION
    assert _events(system) == [(sa, "Restarted", {"auction_id": 1, "end": new_end})]
    assert _surplus_auction(system, 1) == (0, lot, b, 0, new_end)
    assert _stable(system, sa) == lot

    system.tx(sa, "bid", r.other, 1, 10 * WAD)
    _at(system, new_end + 1)
    with reverts("surplus auction: has bids"):
        system.tx(sa, "restart", r.keeper, 1)
    with reverts("surplus auction: not running"):
        system.tx(sa, "restart", r.keeper, 2)


# ================================================================ shutdown


def test_shutdown__debt_auctions_stop_and_cancel_refunds_paid_bidder_as_new_bad_debt(system):
    """Money flow: auction 1 (400 BUSD) was paid by the other's bid, which settled 400 of the
    Backstop's bad debt; auction 2 (400) has no bid; the last ~200 were never put on auction.
    Shutdown moves the ~600 not yet raised to settlement debt. Cancelling auction 1 gives the
    other its 400
    back as new stablecoin, owed by the Backstop as unattributed bad debt; no token is ever
    minted. Cancelling auction 2 refunds nothing."""
    r, b, da = system.roles, system.d.backstop, system.d.debt_auction
    loss = _loss_to_debt_auction(system)
    _set_sizes(system, debt_bid=400 * RAD)
    _start_debt_auction(system)
    _start_debt_auction(system)
    _fund_stable(system, r.other, 400 * RAD)
    system.tx(da, "bid", r.other, 1, 200 * WAD)
    assert (_backstop(system, "debt_to_auction"), _backstop(system, "debt_on_auction")) == (
        loss - 800 * RAD,
        400 * RAD,
    )
    with reverts("debt auction: still live"):
        system.tx(da, "cancel", r.keeper, 1)

    _shutdown(system)
    assert (da, "Shutdown", {}) in _events(system)
    assert (
        b,
        "Shutdown",
        {"settlement": system.d.settlement, "settlement_debt": loss - 400 * RAD},
    ) in _events(system)
    assert (_read(system, da, "live"), _backstop(system, "live")) == (False, False)
    assert (_backstop(system, "debt_to_auction"), _backstop(system, "debt_on_auction")) == (0, 0)
    assert _backstop(system, "settlement_debt") == loss - 400 * RAD

    with reverts("backstop: not live"):
        _start_debt_auction(system)
    with reverts("debt auction: not live"):
        system.tx(da, "start", r.governance, 400 * RAD)
    with reverts("debt auction: not live"):
        system.tx(da, "bid", r.other, 1, 100 * WAD)
    system.warp(BID_DURATION)
    with reverts("debt auction: not live"):
        system.tx(da, "finish", r.keeper, 1)

    bad_debt, unattributed = _bad_debt(system, b), _backstop(system, "unattributed_debt")
    system.tx(da, "cancel", r.keeper, 1)
    assert _events(system) == [
        (
            system.d.engine,
            "UnbackedCreated",
            {"debt_dst": b, "stable_dst": r.other, "amount": 400 * RAD},
        ),
        (da, "Cancelled", {"auction_id": 1, "winner": r.other, "refund": 400 * RAD}),
    ]
    assert _stable(system, r.other) == 400 * RAD
    assert _bad_debt(system, b) == bad_debt + 400 * RAD
    assert _backstop(system, "unattributed_debt") == unattributed + 400 * RAD
    assert _debt_auction(system, 1) == NO_AUCTION
    system.tx(da, "cancel", r.keeper, 2)
    assert _events(system) == [(da, "Cancelled", {"auction_id": 2, "winner": b, "refund": 0})]
    assert _bad_debt(system, b) == bad_debt + 400 * RAD
    with reverts("debt auction: not running"):
        system.tx(da, "cancel", r.keeper, 2)
    assert _gov_supply(system) == 0


def test_shutdown__surplus_returns_to_backstop_and_cancel_refunds_bidder_tokens(system):
    """Money flow: two 100 BUSD lots are on auction, the first with the other's 10-token bid.
    Shutdown sends the 200 BUSD back to the Backstop at once (its surplus is whole again);
    cancelling auction 1 returns the other's 10 tokens (none burned); auction 2 refunds nothing."""
    r, b, sa, gov = (
        system.roles,
        system.d.backstop,
        system.d.surplus_auction,
        system.d.governance_token,
    )
    surplus = _fees_to_backstop(system)
    _set_sizes(system, buffer=0, lot=100 * RAD)
    _start_surplus_auction(system)
    _start_surplus_auction(system)
    _fund_gov(system, r.other, 10 * WAD)
    system.tx(sa, "bid", r.other, 1, 10 * WAD)
    assert (_stable(system, b), _stable(system, sa)) == (surplus - 200 * RAD, 200 * RAD)
    with reverts("surplus auction: still live"):
        system.tx(sa, "cancel", r.keeper, 1)

    _shutdown(system)
    events = _events(system)
    returned = events.index(
        (system.d.engine, "StableTransferred", {"src": sa, "dst": b, "amount": 200 * RAD})
    )
    assert events[returned + 1] == (sa, "Shutdown", {})
    assert (_stable(system, b), _stable(system, sa)) == (surplus, 0)
    assert (_read(system, sa, "live"), _backstop(system, "live")) == (False, False)

    with reverts("backstop: not live"):
        _start_surplus_auction(system)
    with reverts("surplus auction: not live"):
        system.tx(sa, "start", r.governance, 100 * RAD)
    with reverts("surplus auction: not live"):
        system.tx(sa, "bid", r.other, 2, 10 * WAD)
    system.warp(BID_DURATION)
    with reverts("surplus auction: not live"):
        system.tx(sa, "finish", r.keeper, 1)

    system.tx(sa, "cancel", r.keeper, 1)
    assert _events(system) == [
        (gov, "Transfer", {"sender": sa, "receiver": r.other, "value": 10 * WAD}),
        (sa, "Cancelled", {"auction_id": 1, "winner": r.other, "refund": 10 * WAD}),
    ]
    assert (_gov_balance(system, r.other), _gov_balance(system, sa), _gov_supply(system)) == (
        10 * WAD,
        0,
        10 * WAD,
    )
    assert _surplus_auction(system, 1) == NO_AUCTION
    system.tx(sa, "cancel", r.keeper, 2)
    assert _events(system) == [(sa, "Cancelled", {"auction_id": 2, "winner": b, "refund": 0})]
    with reverts("surplus auction: not running"):
        system.tx(sa, "cancel", r.keeper, 2)
