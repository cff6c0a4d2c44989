"""Twin of contracts/DutchAuction.vy: falling-price auctions of seized collateral."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

from offchain.model import price_curves
from offchain.model.errors import Revert, require
from offchain.model.fixed_point import (
    MAX_UINT256,
    RAY,
    WAD,
    WAD_TO_RAY,
    div_up,
    rmul_up,
    to_int256,
    u256,
)
from offchain.model.price_curves import Curve
from offchain.model.state import ZERO_ADDRESS, Authorized, Env, Role
from offchain.model.vault_engine import VaultEngine

# circuit-breaker levels (`stopped`), as in DutchAuction.vy
NOT_STOPPED, STOP_STARTS, STOP_RESETS, STOP_TAKES = 0, 1, 2, 3
# how long the guardian's stop lasts [s] (DutchAuction.vy GUARDIAN_STOP_LIMIT)
GUARDIAN_STOP_LIMIT = 86400
# the running auctions' slots (modules/auction_slots.vy): 2**24, in 2**16 bitmap words of 256
MAX_ACTIVE = 2**24
# an auction id names its storage slot and the slot's generation: (generation << 24 | slot) + 1
SLOT_BITS = 24
RUNNING_WORDS = 2**16
# the most ids one page of active_auctions returns
PAGE = 1024
MAX_GENERATION = 2**32 - 1
MAX_BUFFER = 10 * RAY
MAX_REWARD_RATE = WAD // 10
# the contract packs lot and top into 128-bit halves of a slot
MAX_FIELD = 2**128 - 1
# keeper rewards take at most this share of an auction's penalty income [wad]
MAX_REWARD_SHARE = WAD // 2


# an auction's reward budget is stored in whole units of 2**144 rad, rounded down, above its debt
DEBT_MASK = 2**200 - 1
BUDGET_UNIT = 2**144


def _slot(auction_id: int) -> int:
    """The storage slot an auction id names."""
    return (auction_id - 1) & (MAX_ACTIVE - 1)


def every_running(page: Callable[[int], Sequence[int]]) -> list[int]:
    """Every running auction's id, in slot order, from `page(first_slot)` (a DutchAuction's
    active_auctions, on chain or in the model): pages of PAGE ids are joined, each asked from the
    slot after the last id's."""
    ids = list(page(0))
    last = ids
    while len(last) == PAGE:
        last = list(page(_slot(last[-1]) + 1))
        ids += last
    return ids


def cancel_owed(debt: int, lot: int, final_price: int) -> int:
    """What the owner of an auction cancelled at global settlement re-owes [rad]
    (contracts/DutchAuction.vy's `cancel_for_settlement`, issue 63 finding 4): as if the whole
    lot were sold at the final price (`final_price`: collateral per stablecoin [ray]), min(the
    debt still to raise, the lot's worth), the worth rounded down to a whole wad of stablecoin,
    so closing the vault takes at most the lot for it."""
    worth = u256(lot * RAY) // final_price  # wad
    return worth * RAY if worth <= debt // RAY else debt


def needs_reset_at(
    curve: Curve, max_duration: int, max_drop: int, started: int, top: int, now: int
) -> bool:
    """Whether an auction started (or last reset) at `started` [s] with start price `top` [ray]
    needs a reset at `now` [s] (DutchAuction._needs_reset_at at its price then): older than
    `max_duration`, or priced below `max_drop` x top, or at 0. What a keeper asks of a take
    that will land later (sim/run/sending.py)."""
    price = price_curves.price(curve, top, u256(now - started))
    return now - started > max_duration or u256(price * RAY) // top < max_drop or price == 0


def _whole_units(budget: int) -> int:
    """The budget as the contract stores it: rounded down to a multiple of BUDGET_UNIT [rad]."""
    return budget // BUDGET_UNIT * BUDGET_UNIT


class Auction(NamedTuple):
    position: int = 0  # the auction's storage slot
    debt: int = 0  # rad
    lot: int = 0  # wad
    owner: str = ZERO_ADDRESS
    started: int = 0
    top: int = 0  # ray
    reward_budget: int = 0  # rad, a multiple of BUDGET_UNIT


class DutchAuction(Authorized):
    ROLE_SET = Role.START | Role.CANCEL | Role.EMERGENCY

    def __init__(
        self,
        env: Env,
        address: str,
        deployer: str,
        engine: str,
        collateral_type: bytes,
        liquidator: str,
        backstop: str,
        oracle: str,
    ):
        super().__init__(env, address)
        self.engine: VaultEngine = self.at(engine)
        self.collateral_type = collateral_type
        self.liquidator = liquidator
        self.backstop = backstop
        self.oracle = oracle
        self.engine.allow(self.address, backstop)
        self.buffer = RAY
        self.max_duration = 3600
        self.max_drop = 0
        self.reward_rate = 0
        self.reward_flat = 0
        self.curve = Curve(price_curves.LINEAR, 3600, 0, 0)
        # the level written (packed_limits' field); `stopped` is the level in force
        self.stop_level = NOT_STOPPED
        # the guardian's stop: when it lapses (0: the level is the admins'), the level it raised
        self.stop_lapses_at = 0
        self.stop_base = NOT_STOPPED
        self.auctions = self.storage(Auction())
        # the free-slot bitmap, as the contract keeps it: word -> bits set for free slots (word 0
        # opened at deployment), which opened words have a free slot (summary word -> bits), which
        # summary words are non-zero, how many words are opened
        self.free = self.storage(0)
        self.free[0] = MAX_UINT256
        self.free_words = self.storage(0)
        self.free_words[0] = 1
        self.free_summaries = 1
        self.opened_words = 1
        # slot -> the generation its next auction gets (the contract keeps it in a freed slot's
        # meta word)
        self.generations = self.storage(0)
        self._locked = False
        self._init_auth(deployer)

    # ------------------------------------------------------------ administration

    def set_parameters(
        self,
        sender: str,
        buffer: int,
        max_duration: int,
        max_drop: int,
        reward_rate: int,
        reward_flat: int,
    ) -> None:
        self._check_authorized(sender)
        require(buffer >= RAY, "auction: buffer below 1")
        require(buffer <= MAX_BUFFER, "auction: buffer above 10")
        require(max_duration != 0, "auction: zero max duration")
        require(max_duration < 2**64, "auction: max duration too large")
        require(max_drop < RAY, "auction: max drop not below 1")
        require(reward_rate <= MAX_REWARD_RATE, "auction: reward rate above 10%")
        self.buffer = buffer
        self.max_duration = max_duration
        self.max_drop = max_drop
        self.reward_rate = reward_rate
        self.reward_flat = reward_flat
        self.log(
            "ParametersSet",
            buffer=buffer,
            max_duration=max_duration,
            max_drop=max_drop,
            reward_rate=reward_rate,
            reward_flat=reward_flat,
        )

    def set_curve(self, sender: str, curve: tuple) -> None:
        self._check_authorized(sender)
        curve = Curve(*curve)
        price_curves.validate(curve)
        require(
            curve.duration < 2**64 and curve.step < 2**64 and curve.cut < 2**120,
            "auction: value too large",
        )
        self.curve = curve
        self.log(
            "CurveSet", kind=curve.kind, duration=curve.duration, step=curve.step, cut=curve.cut
        )

    def set_oracle(self, sender: str, oracle: str) -> None:
        self._check_authorized(sender)
        require(oracle != ZERO_ADDRESS, "auction: zero oracle")
        self.oracle = oracle
        self.log("OracleSet", oracle=oracle)

    def set_stopped(self, sender: str, level: int) -> None:
        self._check_role(sender, Role.EMERGENCY)
        require(level <= STOP_TAKES, "auction: level above 3")
        if self.authorized[sender]:
            self.stop_lapses_at = 0
        else:
            in_force = self.stopped
            require(level > in_force, "auction: guardian only stops more")
            if self.stop_lapses_at == 0:
                self.stop_base = in_force
                self.stop_lapses_at = self.now + GUARDIAN_STOP_LIMIT
            else:
                require(self.now < self.stop_lapses_at, "auction: guardian stop used")
        self.stop_level = level
        self.log("StoppedSet", level=level)

    @property
    def stopped(self) -> int:
        """The circuit breaker's level in force: the one written, unless the guardian wrote it
        and it has lapsed (then the level it raised)."""
        if self.stop_level and self.stop_lapses_at and self.now >= self.stop_lapses_at:
            return self.stop_base
        return self.stop_level

    @property
    def min_auction(self) -> int:
        """The type's dust x its liquidation penalty, read now [rad]."""
        dust = self.engine.collateral_types[self.collateral_type].dust
        return u256(dust * self.at(self.liquidator).penalty(self.collateral_type)) // WAD

    # ------------------------------------------------------------ auctions

    def _enter(self) -> None:
        if self._locked:  # Vyper's @nonreentrant lock reverts without a reason
            raise Revert(None)
        self._locked = True

    def start(self, sender: str, debt: int, lot: int, owner: str, keeper: str) -> int:
        self._enter()
        try:
            self._check_role(sender, Role.START)
            require(self.stopped < STOP_STARTS, "auction: stopped")
            require(debt != 0, "auction: zero debt")
            require(lot != 0, "auction: zero lot")
            require(owner != ZERO_ADDRESS, "auction: zero owner")
            slot = self._claim_slot()
            generation = self.generations[slot]
            require(generation < MAX_GENERATION, "auction: slot worn out")
            auction_id = (generation << SLOT_BITS | slot) + 1
            top = self._start_price()
            require(
                lot <= MAX_FIELD and top <= MAX_FIELD and debt <= DEBT_MASK,
                "auction: value too large",
            )
            reward, budget = self._pay_reward(debt, lot, top, keeper, MAX_UINT256)
            self.auctions[auction_id] = Auction(
                slot, debt, lot, owner, self.now, top, _whole_units(budget)
            )
            self.log(
                "Started",
                auction_id=auction_id,
                top=top,
                debt=debt,
                lot=lot,
                owner=owner,
                keeper=keeper,
                reward=reward,
            )
            return auction_id
        finally:
            self._locked = False

    def reset(self, sender: str, auction_id: int, keeper: str) -> None:
        self._enter()
        try:
            require(self.stopped < STOP_RESETS, "auction: stopped")
            auction = self.auctions[auction_id]
            require(auction.owner != ZERO_ADDRESS, "auction: not running")
            require(self._needs_reset(auction), "auction: cannot reset")
            top = self._start_price()
            require(top <= MAX_FIELD, "auction: value too large")
            reward, budget = self._pay_reward(
                auction.debt, auction.lot, top, keeper, auction.reward_budget
            )
            self.auctions[auction_id] = self.auctions[auction_id]._replace(
                started=self.now, top=top, reward_budget=_whole_units(budget)
            )
            self.log(
                "Reset",
                auction_id=auction_id,
                top=top,
                debt=auction.debt,
                lot=auction.lot,
                owner=auction.owner,
                keeper=keeper,
                reward=reward,
            )
        finally:
            self._locked = False

    def take(
        self,
        sender: str,
        auction_id: int,
        max_collateral: int,
        max_price: int,
        recipient: str,
        data: bytes,
    ) -> None:
        if len(data) > 1024:  # the ABI decoder rejects longer Bytes[1024]
            raise Revert(None)
        self._enter()
        try:
            require(self.stopped < STOP_TAKES, "auction: stopped")
            auction = self.auctions[auction_id]
            require(auction.owner != ZERO_ADDRESS, "auction: not running")
            price = self._price(auction)
            require(not self._needs_reset_at(auction, price), "auction: needs reset")
            require(max_price >= price, "auction: price above maximum")

            collateral = min(auction.lot, max_collateral)
            if collateral < auction.lot and (auction.lot - collateral) * price < self.min_auction:
                collateral = auction.lot
            owe = u256(collateral * price)
            if owe > auction.debt:
                owe = auction.debt
                collateral = owe // price
            elif owe < auction.debt and collateral < auction.lot:
                if auction.debt - owe < self.min_auction:
                    require(auction.debt > self.min_auction, "auction: no partial take")
                    owe = auction.debt - self.min_auction
                    collateral = owe // price
            debt = auction.debt - owe
            lot = auction.lot - collateral

            t = self.collateral_type
            self.engine.transfer_collateral(self.address, t, self.address, recipient, collateral)
            if len(data) != 0 and recipient != self.engine.address and recipient != self.liquidator:
                callee = self.at(recipient)
                callback = getattr(callee, "on_auction_take", None)
                if callback is None:  # no such function: the callee's dispatcher reverts
                    raise Revert(None)
                callback(self.address, sender, owe, collateral, data)
            if lot == 0 or debt == 0:
                self.engine.transfer_stable(self.address, sender, self.backstop, owe)
            else:
                self.engine.transfer_stable(self.address, sender, self.address, owe)

            liquidator = self.at(self.liquidator)
            if lot == 0:
                liquidator.remove_debt_in_auction(self.address, t, u256(debt + owe))
                self._remove(auction_id, auction.position)
                self.at(self.backstop).close_loss(self.address, t, auction_id, debt, owe)
                self.log(
                    "Finished", auction_id=auction_id, collateral_returned=0, debt_unraised=debt
                )
            elif debt == 0:
                liquidator.remove_debt_in_auction(self.address, t, owe)
                self.engine.transfer_collateral(self.address, t, self.address, auction.owner, lot)
                self._remove(auction_id, auction.position)
                self.at(self.backstop).close_loss(self.address, t, auction_id, 0, owe)
                self.log(
                    "Finished", auction_id=auction_id, collateral_returned=lot, debt_unraised=0
                )
            else:
                liquidator.remove_debt_in_auction(self.address, t, owe)
                self.auctions[auction_id] = self.auctions[auction_id]._replace(debt=debt, lot=lot)
            self.log(
                "Taken",
                auction_id=auction_id,
                max_price=max_price,
                price=price,
                owe=owe,
                collateral=collateral,
                debt=debt,
                lot=lot,
                owner=auction.owner,
            )
        finally:
            self._locked = False

    def close_dust_auction(self, sender: str, auction_id: int) -> None:
        self._enter()
        try:
            require(self.stopped < 3, "auction: stopped")
            auction = self.auctions[auction_id]
            require(auction.owner != ZERO_ADDRESS, "auction: not running")
            require(self._needs_reset(auction), "auction: not ended")
            top = self._start_price()
            require(auction.lot * top < self.min_auction, "auction: lot not dust")
            require(auction.lot * top < auction.debt, "auction: lot covers the debt")
            t = self.collateral_type
            self.at(self.liquidator).remove_debt_in_auction(self.address, t, auction.debt)
            # the lot goes to the Backstop: a write-off never returns collateral to the owner
            self.engine.transfer_collateral(
                self.address, t, self.address, self.backstop, auction.lot
            )
            self._remove(auction_id, auction.position)
            self.at(self.backstop).close_loss(self.address, t, auction_id, auction.debt, 0)
            self.log("DustClosed", auction_id=auction_id, collateral=auction.lot, debt=auction.debt)
            self.log(
                "Finished",
                auction_id=auction_id,
                collateral_returned=0,
                debt_unraised=auction.debt,
            )
        finally:
            self._locked = False

    def cancel_for_settlement(self, sender: str, auction_id: int, final_price: int) -> int:
        """contracts/DutchAuction.vy: as a sale of the whole lot at the final price (issue 63,
        finding 4): the owner re-owes min(debt to raise, the lot's worth) (`cancel_owed`)."""
        self._enter()
        try:
            self._check_role(sender, Role.CANCEL)
            auction = self.auctions[auction_id]
            require(auction.owner != ZERO_ADDRESS, "auction: not running")
            t = self.collateral_type
            rate = self.engine.collateral_types[t].rate
            if rate == 0 or final_price == 0:  # division by zero reverts without a reason
                raise Revert(None)
            normalized_debt = cancel_owed(auction.debt, auction.lot, final_price) // rate
            returned = normalized_debt * rate
            if returned != 0:
                self.engine.create_unbacked(self.address, self.backstop, self.address, returned)
            self.engine.seize(
                self.address,
                t,
                auction.owner,
                self.address,
                self.backstop,
                to_int256(auction.lot),
                to_int256(normalized_debt),
            )
            self.at(self.liquidator).remove_debt_in_auction(self.address, t, auction.debt)
            self._remove(auction_id, auction.position)
            self.at(self.backstop).close_loss(
                self.address, t, auction_id, auction.debt - returned, 0
            )
            self.log(
                "Cancelled",
                auction_id=auction_id,
                collateral_returned=auction.lot,
                debt=auction.debt,
                normalized_debt=normalized_debt,
            )
            return normalized_debt
        finally:
            self._locked = False

    # ------------------------------------------------------------ keeper views

    def active_auctions(self, first_slot: int = 0) -> list[int]:
        """The running auctions' ids from slot `first_slot` on, in slot order, at most PAGE."""
        ids: list[int] = []
        if first_slot >= MAX_ACTIVE:
            return ids
        free, generations = self.free, self.generations
        for w in range(first_slot >> 8, self.opened_words):
            running = ~free[w] & MAX_UINT256
            if w == first_slot >> 8:
                # the slots below first_slot are not listed
                running &= MAX_UINT256 << (first_slot & 255)
            if not running:
                continue
            # the word's running slots, lowest first (the contract walks every bit up to the
            # highest: the same ids, in the same order): bin() read backwards, bit 0 first
            base = w << 8
            ids += [
                (generations[base | i] << SLOT_BITS | base | i) + 1
                for i, bit in enumerate(bin(running)[:1:-1])
                if bit == "1"
            ]
            if len(ids) >= PAGE:
                return ids[:PAGE]
        return ids

    @property
    def active(self) -> tuple[int, ...]:
        """Every running auction's id, in slot order (active_auctions' pages, joined)."""
        return tuple(every_running(self.active_auctions))

    def next_id(self) -> int:
        slot = self._lowest_free()
        if slot is None:
            return 0
        return (self.generations[slot] << SLOT_BITS | slot) + 1

    def ids(self) -> list[int]:
        """Every id started so far, ascending (finished ones and running ones)."""
        finished = [
            (generation << SLOT_BITS | slot) + 1
            for slot, used in self.generations.items()
            for generation in range(used)
        ]
        return sorted(finished + list(self.active))

    def active_count(self) -> int:
        return sum((~self.free[w] & MAX_UINT256).bit_count() for w in range(self.opened_words))

    def has_room(self) -> bool:
        return self.free[0] != 0 or self.free_summaries != 0 or self.opened_words < RUNNING_WORDS

    def status(self, auction_id: int) -> tuple[bool, int, int, int]:
        auction = self.auctions[auction_id]
        if auction.owner == ZERO_ADDRESS:
            return False, 0, 0, 0
        price = price_curves.price(
            self.curve, auction.top, u256(self.env.timestamp - auction.started)
        )  # _price
        return self._needs_reset_at(auction, price), price, auction.lot, auction.debt

    def statuses(self, auction_ids: Sequence[int]) -> list[tuple[bool, int, int, int]]:
        """[status(i) for i in auction_ids], computed at once (the model's reader answers a
        batch of `status` reads with it: backends/model.py, ModelReader). Not a contract
        function. An auction's reset flag and price are functions of its top, its start and
        the block's time alone, and the auctions a keeper liquidated together share the first
        two, so each pair is priced once a batch."""
        now, curve = self.env.timestamp, self.curve
        price_at, auctions = price_curves.price, self.auctions
        priced: dict[tuple[int, int], tuple[bool, int]] = {}
        out: list[tuple[bool, int, int, int]] = []
        append = out.append
        for auction_id in auction_ids:
            auction = auctions[auction_id]
            if auction.owner == ZERO_ADDRESS:
                append((False, 0, 0, 0))
                continue
            key = (auction.top, auction.started)
            got = priced.get(key)
            if got is None:
                price = price_at(curve, auction.top, u256(now - auction.started))
                got = priced[key] = (self._needs_reset_at(auction, price), price)
            append((got[0], got[1], auction.lot, auction.debt))
        return out

    # ------------------------------------------------------------ internal

    def _start_price(self) -> int:
        price, valid = self.at(self.oracle).peek()
        require(valid, "auction: invalid price")
        return rmul_up(u256(price * WAD_TO_RAY), self.buffer)

    def _price(self, auction: Auction) -> int:
        return price_curves.price(self.curve, auction.top, u256(self.now - auction.started))

    def _needs_reset_at(self, auction: Auction, price: int) -> bool:
        return (
            self.now - auction.started > self.max_duration
            or u256(price * RAY) // auction.top < self.max_drop
            or price == 0
        )

    def _needs_reset(self, auction: Auction) -> bool:
        return self._needs_reset_at(auction, self._price(auction))

    def _pay_reward(
        self, debt: int, lot: int, top: int, keeper: str, budget: int
    ) -> tuple[int, int]:
        """-> (reward paid, budget left); budget MAX_UINT256 at the start."""
        if self.reward_flat == 0 and self.reward_rate == 0:
            return 0, (0 if budget == MAX_UINT256 else budget)
        liquidator = self.at(self.liquidator)
        penalty = liquidator.penalty(self.collateral_type)
        dust = self.engine.collateral_types[self.collateral_type].dust
        min_auction = u256(dust * penalty) // WAD
        if debt < min_auction or u256(lot * top) < min_auction:
            return 0, (0 if budget == MAX_UINT256 else budget)
        if not liquidator.live:
            return 0, 0
        # at most MAX_REWARD_SHARE of the penalty part of the debt (debt - ceil(debt / penalty))
        # and the budget left
        income = debt - div_up(u256(debt * WAD), penalty)
        limit = min(budget, u256(income * MAX_REWARD_SHARE) // WAD)
        reward = min(u256(self.reward_flat + u256(debt * self.reward_rate) // WAD), limit)
        if reward != 0:
            self.engine.create_unbacked(self.address, self.backstop, keeper, reward)
        return reward, limit - reward

    @staticmethod
    def _lowest_bit(word: int) -> int:
        """The index of a non-zero word's lowest set bit (_log2 of the bit, isolated)."""
        return (word & -word).bit_length() - 1

    def _lowest_free(self) -> int | None:
        """The lowest free slot (_claim_slot's search, without the claim); None: every slot runs."""
        word = self.free[0]
        if word != 0:
            return self._lowest_bit(word)
        if self.free_summaries != 0:
            s = self._lowest_bit(self.free_summaries)
            w = s << 8 | self._lowest_bit(self.free_words[s])
            return w << 8 | self._lowest_bit(self.free[w])
        if self.opened_words < RUNNING_WORDS:
            return self.opened_words << 8
        return None

    def _claim_slot(self) -> int:
        """The lowest free slot, marked running: word 0 first, then the lowest opened word with a
        free slot, else a new word (auction_slots._claim_slot)."""
        word = self.free[0]
        w = 0
        if word == 0:
            if self.free_summaries != 0:
                s = self._lowest_bit(self.free_summaries)
                w = s << 8 | self._lowest_bit(self.free_words[s])
                word = self.free[w]
            else:
                w = self.opened_words
                require(w < RUNNING_WORDS, "auction: too many running")
                self.opened_words = w + 1
                word = MAX_UINT256
                self._mark_free_word(w)
        bit = word & -word
        word ^= bit
        self.free[w] = word
        if word == 0:
            summary = self.free_words[w >> 8] ^ (1 << (w & 255))
            self.free_words[w >> 8] = summary
            if summary == 0:
                self.free_summaries ^= 1 << (w >> 8)
        return w << 8 | (bit.bit_length() - 1)

    def _mark_free_word(self, w: int) -> None:
        """Word w has a free slot again (or was just opened): the summary lists it."""
        summary = self.free_words[w >> 8]
        self.free_words[w >> 8] = summary | 1 << (w & 255)
        if summary == 0:
            self.free_summaries |= 1 << (w >> 8)

    def _remove(self, auction_id: int, slot: int) -> None:
        word = self.free[slot >> 8]
        self.free[slot >> 8] = word | 1 << (slot & 255)
        if word == 0:
            self._mark_free_word(slot >> 8)
        self.generations[slot] = ((auction_id - 1) >> SLOT_BITS) + 1
        self.auctions[auction_id] = Auction()
