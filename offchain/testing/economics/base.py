"""What the economic checks read and keep: the constants of the valuation, the state before a
transaction (`Snapshot`), `EconomicViolation`, and `AuditorBase` (the Auditor's records, the market
prices, an actor's holdings at them, `before`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from offchain.backends.model import ModelBackend
from offchain.model.collateral_pool import CollateralPool
from offchain.model.fixed_point import RAY, WAD, WAD_TO_RAY
from offchain.model.state import ZERO_ADDRESS
from offchain.system.deployment import Deployment
from offchain.testing.past import Journal

# wad x wad (collateral x price) -> rad
WAD_WAD_TO_RAD = WAD_TO_RAY  # the same factor, named for what it converts
# rounding in the valuation (shares to assets, collateral to value) [rad]: one wei of stablecoin
TOLERANCE = RAY
# the share of an auction's penalty income keeper rewards may take [wad] (the specification's
# figure, stated here on its own: DutchAuction's MAX_REWARD_SHARE must equal it)
REWARD_SHARE = WAD // 2


class EconomicViolation(AssertionError):
    """A transaction moved value in a way no listed honest income explains."""


@dataclass
class Snapshot:
    """What the checks need from the state just before a transaction."""

    sender: str
    target: str
    function: str
    unattributed: int
    liquidator_live: bool
    prices: dict[bytes, int]  # type id -> market price [wad]
    holdings: dict[str, int] | None  # actor -> value at the market prices [rad]
    # staker -> (shares, withdrawal_shares, withdrawal_at, withdrawal_value, pending_at)
    stakers: Mapping[str, tuple[int, int, int, int, int]]
    pool_assets: int
    pool_total_shares: int
    # charge id -> (amount, total_shares, stakers_left, attributed)
    charges: Mapping[int, tuple[int, int, int, int]]
    # loss number -> (opened_at, done)
    losses: Mapping[int, tuple[int, bool]]
    # (auction address, auction id) -> owner, for the running auctions
    auction_owners: Mapping[tuple[str, int], str] = field(default_factory=dict)
    # the transaction's journal (offchain/testing/past.py) when the records above are read from
    # it after the transaction (`holdings` None: the holdings too, of the actors it wrote)
    journal: Journal | None = None


class _Later(Mapping):
    """A record of the state before a transaction, made from its journal when first read (after
    the transaction: offchain/testing/past.py)."""

    def __init__(self, load: Callable[[], dict]):
        self._load = load
        self._data: dict | None = None

    def _records(self) -> dict:
        if self._data is None:
            self._data = self._load()
        return self._data

    def __getitem__(self, key: Any) -> Any:
        return self._records()[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._records())

    def __len__(self) -> int:
        return len(self._records())


class _RunningOwners(Mapping):
    """(auction, id) -> its owner, of the auctions running before the transaction (an owner:
    a finished auction has none), each read from the journal when asked."""

    def __init__(self, auctions: Callable[[str], Any]):
        self._auctions = auctions  # auction address -> its map of auctions before

    def __getitem__(self, key: tuple[str, int]) -> str:
        owner = self._auctions(key[0])[key[1]].owner
        if owner == ZERO_ADDRESS:
            raise KeyError(key)
        return owner

    def __iter__(self) -> Iterator[Any]:
        raise TypeError("the running auctions are looked up one at a time")

    def __len__(self) -> int:
        raise TypeError("the running auctions are looked up one at a time")


class AuditorBase:
    """What the Auditor's checks read and keep: its records (see `__init__`), the model's
    market prices and an actor's holdings at them, the state before a transaction
    (`before`). `EventChecks` (events.py) and `Auditor` (auditor.py) add the checks."""

    def __init__(self, model: ModelBackend, d: Deployment, actors: Iterable[str]):
        self.model = model
        self.d = d
        self.actors = list(actors)
        self.owned: dict[str, str] = {}
        self.checked = 0
        self.holdings_checked = True
        # (auction, id) -> (reward share of the penalty income at the start, rewards paid so far)
        # [rad]
        self.rewards: dict[tuple[str, int], tuple[int, int]] = {}
        # (auction, owner) -> (reward share of the income of every auction of the vault at its
        # start, rewards paid by them all) [rad]: the per-vault bound
        self.vault_rewards: dict[tuple[str, str], tuple[int, int]] = {}
        # (auction, id) -> [owner, lot seized [wad], amount to raise [rad], collateral sold [wad],
        # raised [rad]]: the owner's bound
        self.sales: dict[tuple[str, int], list] = {}
        # loss key -> staker -> shares when the loss was opened
        self.shares_at_open: dict[tuple[bytes, str, int], dict[str, int]] = {}
        # charge id -> the loss key it charged
        self.charged_loss: dict[int, tuple[bytes, str, int]] = {}
        # staker -> (shares requested, the most its withdrawal may pay [rad, exact]): the value
        # at the request less the requested shares' part of each charge realized since
        self.request_bounds: dict[str, tuple[int, Fraction]] = {}
        self._auctions = {t.auction: t for t in d.types.values()}
        self._pools = {t.pool: t for t in d.types.values()}
        # the attacker whose whole run is summed (None: no one); its gains and listed income so
        # far [rad] and the transactions summed
        self.attacker: str | None = None
        self.attacker_gain = 0
        self.attacker_income = 0
        self.attacker_txs = 0

    # ------------------------------------------------------------ reading the model

    def _c(self, address: str) -> Any:
        return self.model.contract(address)

    def market_prices(self) -> dict[bytes, int]:
        """Each type's market price [wad]: the oracle's latest post (its current price before
        any post)."""
        out = {}
        engine, spotter = self._c(self.d.engine), self._c(self.d.spotter)
        for t in self.d.types.values():
            oracle = self._c(t.oracle)
            price = oracle.source_price or oracle.current_price
            if price == 0:
                # no oracle price (a test that sets the engine's safe price directly): the
                # price that safe price stands for
                safe = engine.collateral_types[t.type_id].safe_price
                price = safe * spotter.liquidation_ratios[t.type_id] // RAY // WAD_TO_RAY
            out[t.type_id] = price
        return out

    def holdings(self, actor: str, prices: dict[bytes, int]) -> int:
        """What `actor` (with the contracts it owns) holds, valued at `prices` [rad]: stablecoin
        (internal and ERC-20), collateral (tokens, free, locked) less vault debt, stability-pool
        shares (requested ones at what the withdrawal would pay), pending stakes and standing
        debt-auction bids (refunded if outbid). Governance tokens and pool liquidity shares
        count 0 (not priced; their flows are listed income instead)."""
        return self.holdings_of([actor], prices)[actor]

    def holdings_of(
        self, actors: Iterable[str], prices: dict[bytes, int], journal: Journal | None = None
    ) -> dict[str, int]:
        """`holdings` of each of `actors`, reading what they share (each type's rate, balances
        and scale, the standing bids) once; with `journal`, as they were before its
        transaction (offchain/testing/past.py)."""
        d = self.d
        read: Callable[[Any, str], Any] = getattr if journal is None else journal.attribute
        engine = self._c(d.engine)
        ctypes = read(engine, "collateral_types")
        # per type: its id, price, rate, token balances and decimals' scale
        types = [
            (
                t.type_id,
                prices[t.type_id],
                ctypes[t.type_id].rate,
                read(self._c(t.token), "balance_of"),
                10 ** (18 - t.config.token_decimals),
            )
            for t in d.types.values()
        ]
        vaults, collateral = read(engine, "vaults"), read(engine, "collateral")
        stable, stable_balances = read(engine, "stable"), read(self._c(d.stablecoin), "balance_of")
        pool = self._c(d.stability_pool)
        pending, pool_shares = read(pool, "pending"), read(pool, "shares")
        assets, total_shares = read(pool, "assets"), read(pool, "total_shares")
        bids: dict[str, int] = {}
        for auction in read(self._c(d.debt_auction), "auctions").values():
            if auction.bid_expiry != 0:
                bids[auction.winner] = bids.get(auction.winner, 0) + auction.bid
        out = {}
        for actor in actors:
            accounts = [actor] + [c for c, owner in self.owned.items() if owner == actor]
            value = 0
            for a in accounts:
                value += stable[a] + stable_balances[a] * RAY
                for tid, price, rate, balances, scale in types:
                    vault = vaults[(tid, a)]
                    free = balances[a] * scale + collateral[(tid, a)]
                    value += free * price * WAD_WAD_TO_RAD
                    # a vault is worth its equity, never less than nothing (the owner may walk
                    # away)
                    equity = vault.collateral * price * WAD_WAD_TO_RAD
                    value += max(0, equity - vault.normalized_debt * rate)
            value += pending[actor]
            shares = pool_shares[actor]
            if shares:
                # requested shares too at their value now (a withdrawal pays at most that; the
                # Withdrawn check holds it to the value at the request as well)
                value += shares * assets // total_shares
            out[actor] = value + bids.get(actor, 0)
        return out

    def touched_actors(self, journal: Journal) -> list[str] | None:
        """The actors some of whose holdings' inputs the journal's transaction wrote (their own
        or their contracts' balances, vaults, stakes); None when it wrote an input every actor's
        holdings read (a rate, the pool's assets or shares, a debt auction's bid) or replaced a
        map they read."""
        maps, attributes = journal.written()
        if not maps and not attributes:
            return []
        d = self.d
        engine, pool = self._c(d.engine), self._c(d.stability_pool)
        debt_auction = self._c(d.debt_auction)
        if (
            id(engine.collateral_types) in maps
            or id(debt_auction.auctions) in maps
            or (id(pool), "assets") in attributes
            or (id(pool), "total_shares") in attributes
        ):
            return None
        # the maps of one account each, and those of (type, account)
        single = [engine.stable, self._c(d.stablecoin).balance_of, pool.pending, pool.shares]
        single += [self._c(t.token).balance_of for t in d.types.values()]
        pairs = [engine.vaults, engine.collateral]
        for contract, name in ((engine, "collateral_types"), (debt_auction, "auctions")):
            if (id(contract), name) in attributes:
                return None
        accounts: set[str] = set()
        for m in single:
            accounts.update(maps.get(id(m), ()))
        for m in pairs:
            accounts.update(key[1] for key in maps.get(id(m), ()))
        replaced = {name for (_, name) in attributes}
        if replaced & {"stable", "balance_of", "pending", "shares", "vaults", "collateral"}:
            return None  # a map replaced whole (never, but then every actor)
        owners = {self.owned.get(a, a) for a in accounts}
        return [a for a in self.actors if a in owners]

    def _find_owned(self) -> None:
        # FlashTakers (deployed by tests and the machines) hold their owner's profit; collateral
        # pools a test deploys are markets like the deployed ones. Looked for again only when
        # contracts were deployed since (a contract's owner and token are set at deployment)
        contracts = self.model.env.contracts
        seen = (id(contracts), len(contracts))
        if getattr(self, "_owned_seen", None) == seen:
            return
        self._owned_seen = seen
        by_token = {t.token: t for t in self.d.types.values()}
        for address, contract in self.model.env.contracts.items():
            kind = type(contract).__name__
            owner = getattr(contract, "owner", None)
            if kind == "FlashTaker" and owner in self.actors:
                self.owned[address] = owner
            elif isinstance(contract, CollateralPool) and address not in self._pools:
                t = by_token.get(contract.collateral_token.address)
                if t is not None:
                    self._pools[address] = t

    def before(
        self, sender: str, target: str, function: str, journal: Journal | None = None
    ) -> Snapshot:
        """What the checks need of the state before a transaction. With `journal` (the
        transaction's, System.tx passes it) the records are read after the transaction, from
        it, when a check asks (the holdings of the actors it wrote only: `Auditor._holdings`);
        without, read now (a test that plants a change between `before` and `after`)."""
        self._find_owned()
        b, pool = self._c(self.d.backstop), self._c(self.d.stability_pool)
        prices = self.market_prices()
        # read only where the holdings check will read them (not for governance's own
        # transactions nor the test tokens' faucet: `Auditor.after`)
        unread = sender == self._governance() or self._faucet_call(target, function)
        if journal is not None:
            return Snapshot(
                sender=sender,
                target=target,
                function=function,
                unattributed=b.unattributed_debt(),
                liquidator_live=self._c(self.d.liquidator).live,
                prices=prices,
                holdings={} if unread else None,
                stakers=_Later(lambda: self._stakers(journal.attribute)),
                pool_assets=pool.assets,
                pool_total_shares=pool.total_shares,
                charges=_Later(lambda: self._charges(journal.attribute)),
                losses=_Later(lambda: self._losses(journal.attribute)),
                auction_owners=_RunningOwners(
                    lambda address: journal.attribute(self._c(address), "auctions")
                ),
                journal=journal,
            )
        snapshot = Snapshot(
            sender=sender,
            target=target,
            function=function,
            unattributed=b.unattributed_debt(),
            liquidator_live=self._c(self.d.liquidator).live,
            prices=prices,
            holdings={} if unread else self.holdings_of(self.actors, prices),
            stakers=self._stakers(getattr),
            pool_assets=pool.assets,
            pool_total_shares=pool.total_shares,
            charges=self._charges(getattr),
            losses=self._losses(getattr),
        )
        owners: dict[tuple[str, int], str] = {}
        for address in self._auctions:
            auction = self._c(address)
            for auction_id in auction.active:
                owners[(address, auction_id)] = auction.auctions[auction_id].owner
        snapshot.auction_owners = owners
        return snapshot

    def _stakers(
        self, read: Callable[[Any, str], Any]
    ) -> dict[str, tuple[int, int, int, int, int]]:
        pool = self._c(self.d.stability_pool)
        shares, w_shares, w_at, w_value, pending_at = (
            read(pool, name)
            for name in (
                "shares",
                "withdrawal_shares",
                "withdrawal_at",
                "withdrawal_value",
                "pending_at",
            )
        )
        return {
            s: (shares[s], w_shares[s], w_at[s], w_value[s], pending_at[s]) for s in self.actors
        }

    def _charges(self, read: Callable[[Any, str], Any]) -> dict[int, tuple[int, int, int, int]]:
        pool = self._c(self.d.stability_pool)
        amount, total = read(pool, "charge_amount"), read(pool, "charge_total_shares")
        left, attributed = read(pool, "charge_stakers_left"), read(pool, "charge_attributed")
        return {
            c: (amount[c], total[c], left[c], attributed[c])
            for c in range(1, read(pool, "charge_count") + 1)
        }

    def _losses(self, read: Callable[[Any, str], Any]) -> dict[int, tuple[int, bool]]:
        b = self._c(self.d.backstop)
        opened_at, done = read(b, "numbered_opened_at"), read(b, "numbered_done")
        return {n: (opened_at[n], done[n]) for n in range(1, read(b, "loss_count") + 1)}

    def _governance(self) -> str:
        return self.d.governance

    def _faucet(self, before: Snapshot) -> bool:
        """Minting the test collateral tokens: a faucet of the tests, not the protocol."""
        return self._faucet_call(before.target, before.function)

    def _faucet_call(self, target: str, function: str) -> bool:
        return function == "mint" and any(t.token == target for t in self.d.types.values())

    @contextmanager
    def suspended(self, reason: str) -> Iterator[None]:
        """No holdings check inside (the other checks still run): for a test whose governance
        set-up lets an actor take more than the market value on purpose (`reason` says how)."""
        assert reason
        self.holdings_checked = False
        try:
            yield
        finally:
            self.holdings_checked = True

    @property
    def attacker_unexplained(self) -> int:
        """What the attacker gained over its run beyond its listed income [rad]."""
        return self.attacker_gain - self.attacker_income
