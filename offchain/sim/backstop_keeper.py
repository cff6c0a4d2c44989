"""The backstop keeper's strategy (keepers.py): accrue fees (and heal the unsettled proceeds
with them), cover queued losses, settle, start debt and surplus auctions, bid in and finish debt
auctions, realize stakers' charges; from what it observes of the Backstop (`BackstopView`).
"""

from __future__ import annotations

from dataclasses import dataclass

from offchain.model.backstop import LossStatus
from offchain.model.fixed_point import RAY, WAD
from offchain.sim.actions import Action


@dataclass(frozen=True)
class DebtAuctionView:
    auction_id: int
    bid: int  # rad
    lot: int  # wad
    winner: str
    bid_expiry: int
    end: int


@dataclass(frozen=True)
class BackstopView:
    now: int
    surplus: int  # rad: the Backstop's stablecoin
    bad_debt: int  # rad
    unattributed_debt: int  # rad
    # rad: finished auctions' proceeds and covers' payments not yet cancelled against bad debt
    # (part of `surplus`)
    unsettled_proceeds: int
    debt_to_auction: int  # rad
    debt_auction_bid_size: int  # rad
    surplus_buffer: int  # rad
    surplus_lot: int  # rad
    queue_delay: int
    losses: list[
        tuple[int, int, int, int]
    ]  # (auction id, due [rad], created_at, status) of known events
    debt_auctions: list[DebtAuctionView]
    min_decrease: int  # wad
    bidder_stable: int  # rad
    charge_count: int
    stakers: list[tuple[str, int, int]]  # (staker, shares, next_charge)
    # running collateral auctions whose whole lot is worth less than min_auction at their start
    # price (lot x top < min_auction) and less than their debt at the current price: no taker
    # will finish them; the keeper closes them (the lot goes to the Backstop)
    dust_auctions: tuple[int, ...] = ()


@dataclass(frozen=True)
class BackstopParams:
    keeper: str
    bidder: str  # "" = nobody bids in debt auctions
    backstop: str
    debt_auction: str
    stability_pool: str
    fees: str
    type_id: bytes
    auction: str
    gas_price: int


def backstop_actions(
    v: BackstopView, p: BackstopParams, accrue: bool, in_flight: set[tuple]
) -> list[Action]:
    """The Backstop's housekeeping, in the order a keeper would do it."""
    out: list[Action] = []

    def act(
        actor: str,
        sender: str,
        contract: str,
        function: str,
        args: tuple,
        target: tuple,
        value: int | None = None,
    ) -> None:
        if target not in in_flight:
            values = () if value is None else (value,)
            out.append(
                Action(actor, sender, contract, function, args, (target,), p.gas_price, 0, values)
            )

    k = p.keeper
    if accrue:
        act("backstop_keeper", k, p.fees, "accrue", (p.type_id,), ("accrue",))
    for auction_id, due, created_at, status in v.losses:
        if status == LossStatus.CLOSED and due != 0 and created_at + v.queue_delay <= v.now:
            act(
                "backstop_keeper",
                k,
                p.backstop,
                "cover",
                (p.type_id, p.auction, auction_id),
                ("cover", auction_id),
                due // RAY,  # wad: the loss it pays
            )
    for auction_id in v.dust_auctions:
        act(
            "backstop_keeper",
            k,
            p.auction,
            "close_dust_auction",
            (auction_id,),
            ("close_dust", auction_id),
        )
    if accrue and v.unsettled_proceeds != 0:
        # cancel the unsettled proceeds (finished auctions', covers' payments) against the debt
        # they paid, with the hourly accrual: one heal (about 52.5k gas) for every auction
        # finished or loss covered since the last one (each saved 15-25k by not doing it);
        # nothing on chain needs it sooner (docs/gas.md)
        act("backstop_keeper", k, p.backstop, "heal", (), ("heal",))
    # the unsettled proceeds are not surplus settle may spend
    settle = min(v.surplus - v.unsettled_proceeds, v.unattributed_debt)
    if settle != 0:
        act("backstop_keeper", k, p.backstop, "settle", (settle,), ("settle",))
    if v.debt_to_auction != 0 and v.debt_auction_bid_size != 0:
        # one start per bid's worth; the last one raises what is left
        starts = -(-v.debt_to_auction // v.debt_auction_bid_size)
        for i in range(starts):
            act(
                "backstop_keeper",
                k,
                p.backstop,
                "start_debt_auction",
                (),
                ("start_debt_auction", i),
            )
    bidder_stable = v.bidder_stable
    for a in v.debt_auctions:
        if a.end == 0:
            continue
        if a.bid_expiry != 0 and (a.bid_expiry <= v.now or a.end <= v.now):
            act(
                "backstop_keeper",
                k,
                p.debt_auction,
                "finish",
                (a.auction_id,),
                ("debt_finish", a.auction_id),
            )
        elif a.bid_expiry == 0 and a.end < v.now:
            act(
                "backstop_keeper",
                k,
                p.debt_auction,
                "restart",
                (a.auction_id,),
                ("debt_restart", a.auction_id),
            )
        elif (
            p.bidder
            and a.winner != p.bidder
            and a.end > v.now
            and (a.bid_expiry == 0 or a.bid_expiry > v.now)
            and bidder_stable >= a.bid
        ):
            lot = a.lot * WAD // v.min_decrease
            if lot != 0:
                bidder_stable -= a.bid
                act(
                    "bidder",
                    p.bidder,
                    p.debt_auction,
                    "bid",
                    (a.auction_id, lot),
                    ("debt_bid", a.auction_id),
                )
    for staker, shares, next_charge in v.stakers:
        if shares != 0 and next_charge <= v.charge_count:
            act(
                "backstop_keeper", k, p.stability_pool, "realize", (staker, 10), ("realize", staker)
            )
    if v.surplus_lot != 0 and v.surplus >= v.bad_debt + v.surplus_buffer + v.surplus_lot:
        act(
            "backstop_keeper",
            k,
            p.backstop,
            "start_surplus_auction",
            (),
            ("start_surplus_auction",),
        )
    return out
