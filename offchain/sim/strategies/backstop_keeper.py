"""The backstop keeper's strategy (keepers.py): accrue fees (and heal the unsettled proceeds
with them), cover queued losses, settle, start debt and surplus auctions, bid in and finish debt
auctions, realize stakers' charges; from what it observes of the Backstop (`BackstopView`).
And, where the waterfall parks a type's loss for the deleveraging layer, charge it to the type's
strongest vaults by the level rule (`deleverage_actions`, from the vault index and a
`DeleverageView`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from offchain.model import deleverage as dl
from offchain.model.backstop import MAX_DELEVERAGE_VAULTS, LossStatus, surplus_room
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.sim.strategies.actions import Action
from offchain.system.deployment import Deployment

# no deleverage is sent while less than one stablecoin is due: the rounding a round leaves due
# (below one wad-th of the charged headroom plus a rate and a rad per vault) would otherwise be
# chased bar after bar, a transaction each, for dust
MIN_DELEVERAGE_CHARGE = RAD


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

    @classmethod
    def of(
        cls, d: Deployment, name: str, keeper: str, bidder: str, gas_price: int
    ) -> BackstopParams:
        """The parameters of type `name`'s backstop keeper: its addresses from the deployment."""
        t = d.types[name]
        return cls(
            keeper,
            bidder,
            d.backstop,
            d.debt_auction,
            d.stability_pool,
            d.fees,
            t.type_id,
            t.auction,
            gas_price,
        )


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
    # the losses this round covers (the fund may pay them first: below)
    covering = 0
    for auction_id, due, created_at, status in v.losses:
        if status == LossStatus.CLOSED and due != 0 and created_at + v.queue_delay <= v.now:
            covering += due
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
    # the surplus the Backstop spends on the debt-auction layer's debt before any mint (issue 63,
    # finding 5): a start repays from it first, and a debt auction nobody has bid on whose bid
    # it covers is repaid (DebtAuction.repay) instead of bid on or restarted; less what this
    # round's covers may take of it first (so that a repay is not sent to be refused)
    room = max(0, surplus_room(v.surplus - v.unsettled_proceeds, v.unattributed_debt) - covering)
    repaid = min(v.debt_to_auction, room)
    room -= repaid
    rest = v.debt_to_auction - repaid
    if v.debt_to_auction != 0 and (v.debt_auction_bid_size != 0 or repaid != 0):
        # one start per bid's worth of what the surplus leaves (the first repays); the last one
        # raises what is left
        starts = max(1, -(-rest // v.debt_auction_bid_size)) if v.debt_auction_bid_size else 1
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
        if a.bid_expiry == 0 and a.bid <= room:
            room -= a.bid
            act(
                "backstop_keeper",
                k,
                p.debt_auction,
                "repay",
                (a.auction_id,),
                ("debt_repay", a.auction_id),
            )
        elif a.bid_expiry != 0 and (a.bid_expiry <= v.now or a.end <= v.now):
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


# ---------------------------------------------------------------- deleveraging


@dataclass(frozen=True)
class DeleverageView:
    """A type's loss parked for the deleveraging layer and what `Backstop.deleverage` prices a
    vault's headroom with: the lowest safe price the type's oracle shows (the engine's, or a
    current, queued or posted oracle price over the liquidation ratio), the max fraction a
    window and the per-vault interval; `allowed`: the keeper may call it (holds the DELEVERAGE
    role or is an admin); `now`: the time the call will carry (at least)."""

    due: int  # rad: Backstop.deleverage_due(type)
    rate: int  # ray
    safe_price: int  # ray: the lowest shown (Backstop._lowest_safe_price)
    size: int  # the type's size margin, packed (offchain/model/size_margin.py)
    buffer: int  # wad: Backstop.deleverage_buffer
    allowed: bool
    max_fraction: int = WAD  # wad: Backstop.deleverage_max_fraction
    interval: int = 0  # seconds: Backstop.deleverage_interval
    now: int = 0

    @property
    def pricing(self) -> dl.Pricing:
        return dl.Pricing(self.rate, self.safe_price, self.size, self.buffer)

    @property
    def limits(self) -> dl.Limits:
        return dl.Limits(self.max_fraction, self.interval)


# the most `deleverage` calls (of 50 vaults each) the keeper sends a type in one round (its gas
# budget may send fewer); the vaults of the level past them are charged in the next round
MAX_DELEVERAGE_BATCHES = 4


@dataclass(frozen=True)
class DeleverageCall:
    """One `deleverage` the keeper sends: its owners (ascending, as the contract requires), each
    one's share [wad] in the same order, and what it charges [rad], to the wei, after the calls
    of the round before it."""

    owners: list[str]
    shares: list[int]
    charge: int


def share_left(window: dl.Window, v: DeleverageView) -> int:
    """The share of its headroom [wad] a vault whose window is `window` may still pay at
    `v.now` (offchain/model/deleverage.py)."""
    return dl.share_left(window, v.max_fraction, v.interval, v.now)


def vault_headroom(collateral: int, normalized_debt: int, v: DeleverageView) -> tuple[int, int]:
    """(limit, headroom) [rad] of a vault as Backstop.deleverage computes them, before its
    window (offchain/model/deleverage.py's vault_headroom)."""
    return dl.vault_headroom(collateral, normalized_debt, v.pricing)


def deleverage_ranked(vaults: Mapping[str, tuple[int, int]], v: DeleverageView) -> list[str]:
    """The owners of the vaults with headroom (`vaults`: owner -> (collateral [wad], normalized
    debt [wad]), the vault index's), strongest first: by collateral value at the lowest shown
    price over the requirement (margin_debt), which splitting a position into vaults of the
    same ratio does not change (finding 45-2); equal strength: the lower address first."""
    return dl.ranked_by_strength(vaults, v.pricing)


def deleverage_shares(
    vaults: Mapping[str, tuple[int, int]],
    v: DeleverageView,
    windows: Mapping[str, dl.Window] | None = None,
) -> dict[str, int]:
    """owner -> the share of its headroom [wad] the keeper charges it this round: the level
    rule (offchain/model/deleverage.py's level_shares) over the vaults with headroom, share
    left in their window (`windows`: owner -> its window, as Backstop.deleverage_window says;
    absent: never charged) and room under their size margin; the strongest come down to one
    strength level, each paying its excess over it (finding 63-2: no cut a tie or a split
    games). None when less than MIN_DELEVERAGE_CHARGE is due."""
    if v.due < MIN_DELEVERAGE_CHARGE:
        return {}
    cands = dl.candidates(vaults, windows or {}, v.pricing, v.limits, v.now)
    return dl.level_shares(cands, v.due)


def deleverage_calls(
    vaults: Mapping[str, tuple[int, int]],
    v: DeleverageView,
    windows: Mapping[str, dl.Window] | None = None,
) -> list[DeleverageCall]:
    """The keeper's `deleverage` calls for a type this round: the vaults with a share
    (deleverage_shares) whose charge is at least one wei of normalized debt, strongest first,
    MAX_DELEVERAGE_VAULTS a call, at most MAX_DELEVERAGE_BATCHES calls (the rest pay in the
    next round, at the same level if nothing else moved); each call's owners in ascending
    order with their shares, and its charge predicted against the due the calls before it
    left (offchain/model/deleverage.py's charges)."""
    windows = windows or {}
    shares = deleverage_shares(vaults, v, windows)
    if not shares:
        return []
    p = v.pricing
    charged = [
        o
        for o in shares  # strongest first (level_shares keeps the candidates' order)
        if vault_headroom(*vaults[o], v)[1] * shares[o] // WAD // v.rate
    ]
    out: list[DeleverageCall] = []
    due = v.due
    for start in range(0, len(charged), MAX_DELEVERAGE_VAULTS):
        if len(out) == MAX_DELEVERAGE_BATCHES:
            break
        owners = sorted(charged[start : start + MAX_DELEVERAGE_VAULTS], key=lambda o: int(o, 16))
        call_shares = [shares[o] for o in owners]
        rows = _rows(vaults, owners, windows, call_shares)
        charge = sum(c.added for c in dl.charges(rows, due, p, v.limits, v.now)) * v.rate
        out.append(DeleverageCall(owners, call_shares, charge))
        due -= charge
    return out


def _rows(
    vaults: Mapping[str, tuple[int, int]],
    owners: list[str],
    windows: Mapping[str, dl.Window],
    shares: list[int],
) -> list[dl.VaultRow]:
    return [
        dl.VaultRow(o, *vaults.get(o, (0, 0)), windows.get(o, dl.Window()), share)
        for o, share in zip(owners, shares, strict=True)
    ]


def deleverage_charges(
    vaults: Mapping[str, tuple[int, int]],
    call: DeleverageCall,
    v: DeleverageView,
    windows: Mapping[str, dl.Window] | None = None,
) -> dict[str, int]:
    """What Backstop.deleverage(type, call.owners, call.shares) would charge each owner [rad]
    in the state `v` shows, to the wei (offchain/model/deleverage.py's charges)."""
    rows = _rows(vaults, call.owners, windows or {}, call.shares)
    return {c.owner: c.added * v.rate for c in dl.charges(rows, v.due, v.pricing, v.limits, v.now)}


def deleverage_actions(
    vaults: Mapping[str, tuple[int, int]],
    v: DeleverageView | None,
    p: BackstopParams,
    in_flight: set[tuple],
    windows: Mapping[str, dl.Window] | None = None,
) -> list[Action]:
    """Charge the type's parked loss to its strongest vaults by the level rule
    (deleverage_calls: 50 a call, up to four calls a round), when the keeper may and nothing
    of it is in flight; what the vaults could not take (their room, the window's bound) stays
    due, and the keeper calls again next bar. Each valued at its charge [wad], for a gas
    budget."""
    target = ("deleverage", p.type_id)
    if v is None or v.due == 0 or not v.allowed or v.safe_price == 0 or target in in_flight:
        return []
    return [
        Action(
            "backstop_keeper",
            p.keeper,
            p.backstop,
            "deleverage",
            (p.type_id, call.owners, call.shares),
            (target if i == 0 else (*target, i),),
            p.gas_price,
            0,
            (call.charge // RAY,),
        )
        for i, call in enumerate(deleverage_calls(vaults, v, windows))
    ]


def deleverage_action(
    vaults: Mapping[str, tuple[int, int]],
    v: DeleverageView | None,
    p: BackstopParams,
    in_flight: set[tuple],
    windows: Mapping[str, dl.Window] | None = None,
) -> Action | None:
    """The first of deleverage_actions (the strongest 50), or None."""
    actions = deleverage_actions(vaults, v, p, in_flight, windows)
    return actions[0] if actions else None


def deleverage_view_from_model(model, backstop: str, type_id: bytes) -> DeleverageView:
    """The DeleverageView of type `type_id` read from the model's twins (`model`: a
    ModelBackend), as the keeper would read it through views, the keeper allowed."""
    b = model.contract(backstop)
    engine = b.engine
    return DeleverageView(
        due=b.deleverage_due(type_id),
        rate=engine.collateral_types[type_id].rate,
        safe_price=b.lowest_safe_price(type_id),
        size=engine.size_margin_word(type_id),
        buffer=b.deleverage_buffer,
        allowed=True,
        max_fraction=b.deleverage_max_fraction,
        interval=b.deleverage_interval,
        now=model.next_block_time,
    )


def keeper_round_from_model(
    model, backstop: str, type_id: bytes
) -> tuple[list[str], list[DeleverageCall]]:
    """(its ranking, its calls) of type `type_id`'s vaults this round, as the keeper decides
    them, read from the model's twins rather than through views: what the fuzz machine's and
    the attacker actor's keeper send (deleverage_ranked, deleverage_calls)."""
    b = model.contract(backstop)
    engine = b.engine
    view = deleverage_view_from_model(model, backstop, type_id)
    vaults = {
        owner: (v.collateral, v.normalized_debt)
        for (t, owner), v in list(engine.vaults.items())
        if t == type_id
    }
    ranked = deleverage_ranked(vaults, view)
    windows = {o: dl.Window(*b.deleverage_window(type_id, o)) for o in ranked}
    return ranked, deleverage_calls(vaults, view, windows)
