"""What the specification's checks read: the state before a transaction (`Before`, kept by
`SpecificationBase.before`), the System's model and deployment (`SpecificationBase`, the base of
`Specification`, the type the per-event and per-revert checks take), the constants they share and
the stability pool's share arithmetic both kinds of check use (`least_shares`, `request_forfeit`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from offchain.backends import ModelBackend
from offchain.model.fixed_point import WAD
from offchain.model.stability_pool import MIN_STAKE
from offchain.model.state import ZERO_ADDRESS, Event
from offchain.system.deployment import Deployment
from offchain.testing.past import Journal, PastMap
from offchain.testing.specification.timelock import timelock_state

# (the constants are the model's, one definition each, WAD_TO_RAY among them:
# offchain/model/fixed_point.py; no arithmetic of the model is used)
# the stakers whose realization the withdrawal check looks up before a transaction
SHARE_ACCOUNTS_LIMIT = 64
# the year of the stability pool's yield cap (FeeAccumulator.vy's YEAR) [seconds]
YEAR = 365 * 86400


class SpecViolation(AssertionError):
    """A transaction's result is not what the specification says (the message lists each)."""


class _Copied(dict):
    """A copy of a model mapping that reads missing keys as the mapping's default."""

    def __init__(self, storage: Any):
        super().__init__(storage)
        self.default = getattr(storage, "_default", 0)

    def __missing__(self, key: Any) -> Any:
        return self.default


class _Realized:
    """Whether a staker had realized every charge before the transaction (the pool's
    `is_realized`: no shares, or its next charge past the count), read from the maps before
    it: `get(staker, default)` (default for a staker past SHARE_ACCOUNTS_LIMIT, as the copy
    of the first SHARE_ACCOUNTS_LIMIT stakers it replaces left them)."""

    def __init__(self, shares: PastMap, next_charge: PastMap, charge_count: int):
        self.shares, self.next_charge, self.charge_count = shares, next_charge, charge_count

    def get(self, staker: str, default: Any = None) -> Any:
        if staker not in self.shares:
            return default
        stakers = itertools.islice(self.shares.keys(), SHARE_ACCOUNTS_LIMIT)
        if staker not in set(stakers):
            return default
        return self.shares[staker] == 0 or self.next_charge[staker] > self.charge_count


@dataclass
class Before:
    """What the checks need from the state before one transaction."""

    sender: str
    address: str
    function: str
    args: tuple
    state: dict[str, Any]
    # the transaction's journal when the maps are read from it (offchain/testing/past.py)
    journal: Journal | None = None


class SpecificationBase:
    """What the checks of one System read: its model (`model`, `c`), its deployment, the state
    before a transaction (`before`) and what the checks of one transaction share (`events`,
    `raised`). `Specification` (core.py) adds the checks; `checks` counts them."""

    def __init__(self, model: Callable[[], ModelBackend], d: Deployment):
        self._model = model  # the System's model (what_if swaps it)
        self.d = d
        self.checks = 0
        self.events: list[Event] = []  # of the transaction being checked
        self.raised: dict[bytes, int] = {}  # per type, by its liquidations so far
        self._auctions = {t.auction: name for name, t in d.types.items()}
        self._oracles = {t.oracle: name for name, t in d.types.items()}
        self._pools = {t.pool: name for name, t in d.types.items()}
        self._type_names = {t.type_id: name for name, t in d.types.items()}

    @property
    def model(self) -> ModelBackend:
        return self._model()

    def c(self, address: str) -> Any:
        return self.model.contract(address)

    # ------------------------------------------------------------ before

    def before(
        self, sender: str, address: str, function: str, args: tuple, journal: Journal | None = None
    ) -> Before:
        """What the checks read of the state before a transaction. With `journal` (the
        transaction's, offchain/testing/past.py: System.tx passes it), the maps are read after
        the transaction as they were before it (PastMap: what it wrote from its journal, the rest
        as it is), not copied; without, copied now."""
        d = self.d
        contracts = self.model.env.contracts
        c: Callable[[str], Any] = contracts.__getitem__
        engine, backstop, pool = c(d.engine), c(d.backstop), c(d.stability_pool)
        if journal is None:
            _Copy = _Copied
        else:

            def _Copy(storage: Any) -> Any:  # noqa: N802 - read as the copy it replaces
                return PastMap(storage, journal)

        state: dict[str, Any] = {
            "ctypes": _Copy(engine.collateral_types),
            "vaults": _Copy(engine.vaults),
            "size_margins": {t.type_id: engine.size_margin(t.type_id) for t in d.types.values()},
            "delegates": _Copy(engine.delegates),
            "liquidator_types": _Copy(c(d.liquidator).types),
            "liquidator_room": c(d.liquidator).max_debt_in_auction
            - c(d.liquidator).debt_in_auction,
            "fees": _Copy(c(d.fees).fees),
            "pool_fee_share": c(d.fees).pool_fee_share,
            "pool_max_yield": c(d.fees).pool_max_yield,
            "losses": _Copy(backstop.losses),
            "debt_to_auction": backstop.debt_to_auction,
            "queue_delay": backstop.queue_delay,
            "backstop_live": backstop.live,
            "backstop_unsettled": backstop.unsettled,
            "backstop_open_losses": backstop.open_losses(),
            "backstop_stable": engine.stable[d.backstop],
            # the Backstop's bad debt and what of it loss events, debt auctions and
            # deleveraging account for
            "backstop_debt": (
                engine.bad_debt[d.backstop],
                backstop.attributed_debt,
                backstop.debt_to_auction + backstop.debt_on_auction + backstop.deleverage_total,
            ),
            "deleverage_due": {
                t.type_id: backstop.deleverage_due(t.type_id) for t in d.types.values()
            },
            "deleverage_buffer": backstop.deleverage_buffer,
            "deleverage_limits": (backstop.deleverage_max_fraction, backstop.deleverage_interval),
            "deleverage_windows": _Copy(backstop.deleverage_windows),
            # per type: the engine's safe price, and the prices its oracle shows (current, queued,
            # latest posted) with the Spotter's liquidation ratio
            "deleverage_prices": {
                t.type_id: (
                    engine.collateral_types[t.type_id].safe_price,
                    shown_prices(c, d.spotter, t.type_id),
                )
                for t in d.types.values()
            },
            "pool_shares": _Copy(pool.shares),
            "pool_realized": (
                {who: pool.is_realized(who) for who in list(pool.shares)[:SHARE_ACCOUNTS_LIMIT]}
                if journal is None
                else _Realized(
                    PastMap(pool.shares, journal),
                    PastMap(pool.next_charge, journal),
                    pool.charge_count,
                )
            ),
            "pool_withdrawal_at": _Copy(pool.withdrawal_at),
            "pool_withdrawal_shares": _Copy(pool.withdrawal_shares),
            "pool_withdrawal_value": _Copy(pool.withdrawal_value),
            "pool_pending": pool.pending[sender],
            "pool_assets": (pool.assets, pool.total_shares),
            "pool_timing": (pool.cooldown, pool.exposure_delay, pool.exit_window),
            "debt_auctions": _Copy(c(d.debt_auction).auctions),
            "surplus_auctions": _Copy(c(d.surplus_auction).auctions),
            "ceilings": _Copy(c(d.ceiling).configs),
            # every Timelock's count, delay, grace and proposals (specification/timelock.py)
            "timelocks": timelock_state(self.model, _Copy),
        }
        for name, t in d.types.items():
            auction, oracle, cpool = c(t.auction), c(t.oracle), c(t.pool)
            state[f"auctions:{name}"] = _Copy(auction.auctions)
            state[f"stopped:{name}"] = auction.stopped
            # the guardian's stop (restated: the level written, its lapse, the level it raised)
            state[f"stop:{name}"] = (auction.stop_level, auction.stop_lapses_at, auction.stop_base)
            # the oracle's void lock and what it shows (specification/guardian.py)
            state[f"void:{name}"] = (
                oracle.void_lock,
                oracle.voided_price,
                oracle.current_price,
                oracle.next_price,
                oracle.next_time,
                oracle.source_price,
            )
            # what the settlement's price reads: the Spotter's oracle of the type (governance may
            # have pointed it elsewhere): its shown prices, the latest post, its current time
            o: Any = self.model.env.contracts.get(c(d.spotter).oracles[t.type_id])
            if o is not None and hasattr(o, "void_lock"):
                state[f"fix:{name}"] = (
                    o.void_lock,
                    o.voided_price,
                    o.current_price,
                    o.next_price,
                    o.source_price,
                    o.current_time,
                    o.max_age,
                )
            else:
                state[f"fix:{name}"] = None
            # the type's dust x its penalty, from the engine's and the Liquidator's own state
            # (not the auction's view: a stale or wrong min_auction there must show)
            penalty = c(d.liquidator).types[t.type_id].penalty
            state[f"min_auction:{name}"] = engine.collateral_types[t.type_id].dust * penalty // WAD
            state[f"oracle:{name}"] = (
                oracle.next_price or oracle.current_price,
                oracle.max_change,
                oracle.feeders[sender],
            )
            state[f"pool:{name}"] = (cpool.reserve_collateral, cpool.reserve_stable, cpool.fee)
        return Before(sender, address, function, args, state, journal)

    def _type_of_auction(self, address: str) -> str | None:
        return self._auctions.get(address)


def shown_prices(c: Any, spotter: str, t: bytes) -> tuple[tuple[int, ...], int]:
    """The prices the type's oracle (the Spotter's) shows: current, queued, latest posted [wad],
    and the Spotter's liquidation ratio [ray]; ((), 0) without an oracle."""
    oracle, ratio = c(spotter).oracles[t], c(spotter).liquidation_ratios[t]
    if oracle == ZERO_ADDRESS:
        return (), ratio
    o = c(oracle)
    return (o.current_price, o.next_price, o.source_price), ratio


def caps_allowed(pre: Before, t: bytes, owner: str, raised: tuple[int, int] = (0, 0)) -> int:
    """The normalized debt both liquidation caps leave room for in `owner`'s vault (penalty
    included, rounded down), before the call; `raised`: what earlier liquidations of the same
    transaction raised (this type's, every type's)."""
    ctype, vault = pre.state["ctypes"][t], pre.state["vaults"][(t, owner)]
    config = pre.state["liquidator_types"][t]
    room = min(
        pre.state["liquidator_room"] - raised[1],
        config.max_debt_in_auction - config.debt_in_auction - raised[0],
    )
    return min(vault.normalized_debt, room * WAD // ctype.rate // config.penalty)


def least_shares(total: int, assets: int) -> int:
    """The shares worth MIN_STAKE at the price assets / total, rounded down: one per rad in an
    empty pool, none in a wiped-out one (no count of shares suffices)."""
    if total == 0:
        return MIN_STAKE
    if assets == 0:
        return 2**256
    return MIN_STAKE * total // assets


def request_forfeit(pre: Before, staker: str) -> tuple[int, int]:
    """What a replaced or cancelled request forfeits [rad] and the shares burned for it: the
    requested shares' value above the request's cap, in shares rounded up; a staker is never
    left with some shares but fewer than those worth MIN_STAKE now (then only the shares above
    those, if any, at their value rounded down)."""
    requested = pre.state["pool_withdrawal_shares"][staker]
    if requested == 0:
        return 0, 0
    assets, total = pre.state["pool_assets"]
    value_now = requested * assets // total
    cap = pre.state["pool_withdrawal_value"][staker]
    if value_now <= cap:
        return 0, 0
    forfeited = value_now - cap
    burned = -(-forfeited * total // assets)
    shares = pre.state["pool_shares"][staker]
    least = least_shares(total, assets)
    if 0 < shares - burned < least:
        burned = shares - min(shares, least)
        forfeited = burned * assets // total
    return (forfeited, burned) if burned else (0, 0)
