"""Twin of contracts/Backstop.vy: the insurance fund, loss events and the loss waterfall
(docs/loss-waterfall.md)."""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

from offchain.model import deleverage as dl
from offchain.model.errors import Revert, require
from offchain.model.fixed_point import (
    PENALTY_STEP,
    RAY,
    WAD,
    WAD_TO_RAY,
    amount_to_raise,
    div_up,
    to_int256,
    u255,
    u256,
)
from offchain.model.state import ZERO_ADDRESS, Authorized, Env, Role
from offchain.model.vault_engine import VaultEngine


class Layer(IntEnum):
    """The loss waterfall's layers, as Backstop.vy numbers them (docs/loss-waterfall.md); `label`
    is the name the config, the scenarios and the reports use."""

    FUND = 1
    STABILITY_POOL = 2
    DEBT_AUCTION = 3
    REDISTRIBUTION = 4
    SETTLEMENT = 5  # after a shutdown only; not part of a governance order
    DELEVERAGE = 6  # parks the loss for `deleverage`: vaults pay by headroom

    @property
    def label(self) -> str:
        return self.name.lower()


# the layers governance may order (`set_waterfall`), by label
ORDERABLE_LAYERS = {layer.label: layer for layer in Layer if layer is not Layer.SETTLEMENT}


class LossStatus(IntEnum):
    """A loss event's status (Backstop.vy's `losses(...).status`)."""

    NO_LOSS = 0  # no such loss event (Backstop.vy's NO_LOSS)
    RUNNING = 1  # its auction runs
    CLOSED = 2  # its auction finished; `due` is what the waterfall must still cover
    DONE = 3  # nothing left to cover


FUND, POOL, DEBT_AUCTION, REDISTRIBUTION, SETTLEMENT, DELEVERAGE = Layer
NO_LOSS, RUNNING, CLOSED, DONE = LossStatus
DEBT_LIMIT = 2**192
# contracts/Backstop.vy keeps a loss event in one word: its penalty in 24 bits, in steps of
# PENALTY_STEP above 1 wad (what the auction must raise is recomputed from it), its number in
# 38 bits
PENALTY_STEPS_LIMIT = 2**24
NUMBER_LIMIT = 2**38
# contracts/Backstop.vy: `range(max_steps, bound=MAX_ADVANCE)`
MAX_ADVANCE = 256
# contracts/Backstop.vy: unsettled proceeds share a word with open_losses, below this
PROCEEDS_LIMIT = 2**192
# contracts/Backstop.vy packs the queue delay in 40 bits and bounds it (as config.py does)
MAX_QUEUE_DELAY = 365 * 86400
# contracts/Backstop.vy: a governance order's DynArray bound, and `deleverage`'s list bound
MAX_LAYERS = 5
MAX_DELEVERAGE_VAULTS = dl.MAX_VAULTS
MAX_DELEVERAGE_BUFFER = dl.MAX_BUFFER
DEFAULT_DELEVERAGE_BUFFER = dl.DEFAULT_BUFFER
DEFAULT_DELEVERAGE_MAX_FRACTION = dl.DEFAULT_MAX_FRACTION
DEFAULT_DELEVERAGE_INTERVAL = dl.DEFAULT_INTERVAL
MAX_DELEVERAGE_INTERVAL = dl.MAX_INTERVAL


def surplus_room(free: int, unattributed: int) -> int:
    """The surplus the Backstop may spend on loss while live [rad]: its free surplus (its
    stablecoin less the unsettled proceeds, owed to attributed debt) less the unattributed bad
    debt (keeper rewards, refunds: costs already incurred that only surplus pays), 0 below. The
    FUND layer pays from it (issue 31, finding 6), and the debt-auction layer's debt is repaid
    from it before any governance token is minted (issue 63, finding 5). The surplus buffer is
    not kept back (it is insurance against loss), and the stability pool's fee share is the
    pool's assets, never the Backstop's stablecoin."""
    return max(0, free - unattributed)


class Loss(NamedTuple):
    debt: int = 0  # rad
    due: int = 0  # rad
    created_at: int = 0
    status: int = NO_LOSS


class Backstop(Authorized):
    ROLE_SET = Role.OPEN_LOSS | Role.CLOSE_LOSS | Role.SHUTDOWN | Role.DELEVERAGE

    def __init__(
        self, env: Env, address: str, deployer: str, engine: str, spotter: str, queue_delay: int
    ):
        super().__init__(env, address)
        self.engine: VaultEngine = self.at(engine)
        self.spotter = spotter
        require(queue_delay <= MAX_QUEUE_DELAY, "backstop: queue delay too long")
        self.live = True
        self.queue_delay = queue_delay
        self.waterfall: tuple[int, ...] = (FUND, POOL, DEBT_AUCTION, REDISTRIBUTION)
        self.stability_pool = ZERO_ADDRESS
        self.debt_auction = ZERO_ADDRESS
        self.surplus_auction = ZERO_ADDRESS
        self.settlement = ZERO_ADDRESS
        self.surplus_buffer = 0
        self.surplus_lot = 0
        self.debt_auction_bid_size = 0
        self.losses = self.storage(Loss())  # (type, auction, id) -> Loss
        self.open_losses_count = 0
        self.loss_count = 0
        self.loss_numbers = self.storage(0)  # (type, auction, id) -> number
        self.numbered_opened_at = self.storage(0)  # number -> unix seconds
        self.numbered_done = self.storage(False)  # number -> done
        self.first_open_loss = 1
        self.attributed_debt = 0  # rad: events not done, and the unsettled proceeds
        # rad: finished auctions' proceeds and the paying layers' payments in `cover`, kept as
        # stablecoin until `heal` cancels as much bad debt
        self.unsettled = 0
        self.debt_to_auction = 0
        self.debt_on_auction = 0
        self.settlement_debt = 0
        self.deleverage_buffer = DEFAULT_DELEVERAGE_BUFFER
        self.deleverage_max_fraction = DEFAULT_DELEVERAGE_MAX_FRACTION
        self.deleverage_interval = DEFAULT_DELEVERAGE_INTERVAL
        # (type, owner) -> the vault's window: start << 64 | used share [wad] (deleverage.py)
        self.deleverage_windows = self.storage(0)
        self.due_to_deleverage = self.storage(0)  # type -> rad
        self.deleverage_total = 0
        # the MarginCall whose warning factors bound the buffer from below (empty: none)
        self.margin_call = ZERO_ADDRESS
        self._init_auth(deployer)
        self.log("QueueDelaySet", queue_delay=queue_delay)
        self.log("WaterfallSet", waterfall=tuple(self.waterfall))
        self.log("DeleverageBufferSet", buffer=DEFAULT_DELEVERAGE_BUFFER)
        self.log(
            "DeleverageLimitsSet",
            max_fraction=DEFAULT_DELEVERAGE_MAX_FRACTION,
            interval=DEFAULT_DELEVERAGE_INTERVAL,
        )

    # ------------------------------------------------------------ administration

    def set_queue_delay(self, sender: str, new_delay: int) -> None:
        self._check_authorized(sender)
        require(new_delay <= MAX_QUEUE_DELAY, "backstop: queue delay too long")
        self.queue_delay = new_delay
        self.log("QueueDelaySet", queue_delay=new_delay)

    def set_waterfall(self, sender: str, order: list[int]) -> None:
        self._check_authorized(sender)
        if len(order) > MAX_LAYERS:  # a longer DynArray[uint8, 5] argument does not decode
            raise Revert(None)
        seen: set[int] = set()
        for layer in order:
            require(FUND <= layer <= DELEVERAGE and layer != SETTLEMENT, "backstop: unknown layer")
            require(layer not in seen, "backstop: layer repeated")
            seen.add(layer)
        self.waterfall = tuple(order)
        self.log("WaterfallSet", waterfall=tuple(order))

    def _check_warnings(self, buffer: int, margin_call: str) -> None:
        """modules/deleverage.vy's `_check_warnings`: every warning factor of the linked
        MarginCall at most 1 + buffer (issue 63, finding 3)."""
        if margin_call != ZERO_ADDRESS:
            highest = self.at(margin_call).highest_warning_factor()
            require(highest <= RAY + buffer * WAD_TO_RAY, "backstop: buffer below a warning factor")

    def set_deleverage_buffer(self, sender: str, buffer: int) -> None:
        self._check_authorized(sender)
        require(buffer <= MAX_DELEVERAGE_BUFFER, "backstop: buffer too large")
        self._check_warnings(buffer, self.margin_call)
        self.deleverage_buffer = buffer
        self.log("DeleverageBufferSet", buffer=buffer)

    def set_margin_call(self, sender: str, margin_call: str) -> None:
        self._check_authorized(sender)
        require(margin_call != ZERO_ADDRESS, "backstop: zero margin call")
        self._check_warnings(self.deleverage_buffer, margin_call)
        self.margin_call = margin_call
        self.log("MarginCallSet", margin_call=margin_call)

    def set_deleverage_limits(self, sender: str, max_fraction: int, interval: int) -> None:
        self._check_authorized(sender)
        require(0 < max_fraction <= WAD, "backstop: bad max fraction")
        require(interval <= MAX_DELEVERAGE_INTERVAL, "backstop: interval too long")
        self.deleverage_max_fraction = max_fraction
        self.deleverage_interval = interval
        self.log("DeleverageLimitsSet", max_fraction=max_fraction, interval=interval)

    def release_deleverage(self, sender: str, collateral_type: bytes, amount: int) -> None:
        self._check_authorized(sender)
        require(self.live, "backstop: not live")
        require(self.debt_auction != ZERO_ADDRESS, "backstop: no debt auction")
        due = self.due_to_deleverage[collateral_type]
        require(0 < amount <= due, "backstop: bad release")
        self.due_to_deleverage[collateral_type] = due - amount
        self.deleverage_total -= amount
        self.debt_to_auction = u256(self.debt_to_auction + amount)
        self.log("DeleverageReleased", collateral_type=collateral_type, amount=amount)

    def set_layer_contracts(
        self, sender: str, pool: str, debt_auction: str, surplus_auction: str
    ) -> None:
        self._check_authorized(sender)
        self.stability_pool = pool
        self.debt_auction = debt_auction
        self.surplus_auction = surplus_auction
        self.log(
            "LayerContractsSet",
            stability_pool=pool,
            debt_auction=debt_auction,
            surplus_auction=surplus_auction,
        )

    def set_auction_parameters(
        self, sender: str, surplus_buffer: int, surplus_lot: int, debt_auction_bid_size: int
    ) -> None:
        self._check_authorized(sender)
        require(surplus_lot != 0 and debt_auction_bid_size != 0, "backstop: zero auction size")
        self.surplus_buffer = surplus_buffer
        self.surplus_lot = surplus_lot
        self.debt_auction_bid_size = debt_auction_bid_size
        self.log(
            "AuctionParametersSet",
            surplus_buffer=surplus_buffer,
            surplus_lot=surplus_lot,
            debt_auction_bid_size=debt_auction_bid_size,
        )

    # ------------------------------------------------------------ loss events

    def open_loss(
        self,
        sender: str,
        collateral_type: bytes,
        auction: str,
        auction_id: int,
        debt: int,
        penalty: int,
    ) -> None:
        self._check_role(sender, Role.OPEN_LOSS)
        key = (collateral_type, auction, auction_id)
        require(self.losses[key].status == NO_LOSS, "backstop: loss exists")
        require(debt < DEBT_LIMIT, "backstop: debt too large")
        steps, rest = divmod(penalty - WAD, PENALTY_STEP)
        require(
            penalty >= WAD and rest == 0 and steps < PENALTY_STEPS_LIMIT,
            "backstop: penalty not representable",
        )
        number = self.loss_count + 1
        require(number < NUMBER_LIMIT, "backstop: too many loss events")
        to_raise = amount_to_raise(debt, penalty)
        self.losses[key] = Loss(debt, to_raise, self.now, RUNNING)
        self.loss_count = number
        self.numbered_opened_at[number] = self.now
        self.loss_numbers[key] = number
        self.open_losses_count = u256(self.open_losses_count + 1)
        self.attributed_debt = u255(self.attributed_debt + debt)
        self.log(
            "LossOpened",
            collateral_type=collateral_type,
            auction=auction,
            auction_id=auction_id,
            debt=debt,
            to_raise=to_raise,
        )

    def close_loss(
        self,
        sender: str,
        collateral_type: bytes,
        auction_id: int,
        unraised: int,
        paid_directly: int,
    ) -> None:
        self._check_role(sender, Role.CLOSE_LOSS)
        key = (collateral_type, sender, auction_id)
        loss = self.losses[key]
        require(loss.status == RUNNING, "backstop: loss not running")
        raised = u256(loss.due - unraised)
        escrowed = u256(raised - paid_directly)
        if escrowed != 0:
            self.engine.transfer_stable(self.address, sender, self.address, escrowed)
        covered = min(raised, loss.debt)
        self._add_unsettled(covered)
        remaining = loss.debt - covered
        if remaining == 0:
            self.losses[key] = loss._replace(due=0, status=DONE)
            self._finish(key)
        else:
            self.losses[key] = loss._replace(due=remaining, status=CLOSED)
        self.log(
            "LossClosed",
            collateral_type=collateral_type,
            auction=sender,
            auction_id=auction_id,
            raised=raised,
            covered=covered,
            loss=remaining,
        )

    def cover(self, sender: str, collateral_type: bytes, auction: str, auction_id: int) -> int:
        key = (collateral_type, auction, auction_id)
        loss = self.losses[key]
        require(loss.status == CLOSED, "backstop: nothing to cover")
        live = self.live
        if live:
            require(u256(loss.created_at + self.queue_delay) <= self.now, "backstop: still queued")
        remaining = loss.due
        layers = [layer for layer in self.waterfall if live or layer in (FUND, POOL)]
        if not live:
            layers.append(SETTLEMENT)
        for layer in layers:
            if remaining == 0:
                break
            paid = 0
            if layer == FUND:
                participant = self.address
                paid = self._fund_payment(remaining)
            elif layer == POOL:
                participant = self.stability_pool
                if participant != ZERO_ADDRESS:
                    paid = self.at(participant).absorb(
                        self.address, collateral_type, auction, auction_id, remaining
                    )
            elif layer == DEBT_AUCTION:
                participant = self.debt_auction
                if participant != ZERO_ADDRESS:
                    paid = remaining
                    self.debt_to_auction = u256(self.debt_to_auction + paid)
            elif layer == REDISTRIBUTION:
                participant = self.engine.address
                paid = self._redistribute(collateral_type, auction, auction_id, remaining)
            elif layer == DELEVERAGE:
                participant = self.engine.address
                if self.engine.collateral_types[collateral_type].normalized_debt != 0:
                    paid = remaining
                    self.due_to_deleverage[collateral_type] = u256(
                        self.due_to_deleverage[collateral_type] + paid
                    )
                    self.deleverage_total = u256(self.deleverage_total + paid)
            else:
                participant = self.settlement
                paid = remaining
                self.settlement_debt = u256(self.settlement_debt + paid)
            if paid != 0:
                remaining -= paid
                if layer in (DEBT_AUCTION, SETTLEMENT, DELEVERAGE):
                    self.attributed_debt -= paid
                else:
                    # the stablecoin paid joins the unsettled proceeds (heal cancels it)
                    self._add_unsettled(paid)
                self.log(
                    "LossAllocated",
                    collateral_type=collateral_type,
                    auction=auction,
                    auction_id=auction_id,
                    layer=layer,
                    participant=participant,
                    amount=paid,
                )
        if remaining == 0:
            self.losses[key] = self.losses[key]._replace(due=0, status=DONE)
            self._finish(key)
        else:
            self.losses[key] = self.losses[key]._replace(due=remaining)
        return remaining

    def deleverage(
        self, sender: str, collateral_type: bytes, owners: list[str], shares: list[int]
    ) -> int:
        """contracts/modules/deleverage.vy's `_deleverage` (offchain/model/deleverage.py has the
        arithmetic): charge the type's due to the listed vaults, each min(its given share, its
        window's share left) of its headroom, every share scaled down by due / the sum when
        they would charge more than the due."""
        if len(owners) > MAX_DELEVERAGE_VAULTS or len(shares) > MAX_DELEVERAGE_VAULTS:
            raise Revert(None)  # a longer DynArray does not decode
        self._check_role(sender, Role.DELEVERAGE)
        require(self.live, "backstop: not live")
        due = self.due_to_deleverage[collateral_type]
        require(due != 0, "backstop: nothing to deleverage")
        require(len(shares) == len(owners), "backstop: one share per owner")
        engine = self.engine
        rate, _ = engine.rate_and_debt(collateral_type)
        pricing = dl.Pricing(
            rate,
            self.lowest_safe_price(collateral_type),
            engine.size_margin_word(collateral_type),
            self.deleverage_buffer,
        )
        limits = dl.Limits(self.deleverage_max_fraction, self.deleverage_interval)
        rows: list[dl.VaultRow] = []
        previous = total = 0
        for owner, share in zip(owners, shares, strict=True):
            key = int(owner, 16)
            require(key > previous, "backstop: owners not ascending")
            previous = key
            vault = engine.vaults[(collateral_type, owner)]
            window = dl.unpack_window(self.deleverage_windows[(collateral_type, owner)])
            row = dl.VaultRow(owner, vault.collateral, vault.normalized_debt, window, share)
            # the contract's first pass runs per owner, between the order checks: its overflows
            # (the headroom, the sum of the shares' charges) come before a later owner's order
            _, total = dl.first_pass(row, pricing, limits, self.now, total)
            rows.append(row)
        charged = 0
        for c in dl.charges(rows, due, pricing, limits, self.now):
            self.deleverage_windows[(collateral_type, c.owner)] = dl.pack_window(c.window)
            engine.seize(
                self.address, collateral_type, c.owner, self.address, self.address, 0, c.added
            )
            charged += c.added * rate
            self.log(
                "VaultDeleveraged",
                collateral_type=collateral_type,
                owner=c.owner,
                normalized_debt=c.added,
                debt=c.added * rate,
            )
        due -= charged
        self.due_to_deleverage[collateral_type] = due
        self.deleverage_total -= charged
        self.log("Deleveraged", collateral_type=collateral_type, charged=charged, due=due)
        return charged

    def deleverage_window(self, collateral_type: bytes, owner: str) -> tuple[int, int]:
        """(start, used share [wad]) of a vault's window as stored (modules/deleverage.vy)."""
        w = dl.unpack_window(self.deleverage_windows[(collateral_type, owner)])
        return w.start, w.used

    def lowest_safe_price(self, collateral_type: bytes) -> int:
        """modules/deleverage.vy's _lowest_safe_price (dl.lowest_safe_price) on the type's
        engine price, oracle and ratio."""
        spotter = self.at(self.spotter)
        oracle = spotter.oracles[collateral_type]
        ratio = spotter.liquidation_ratios[collateral_type]
        if oracle == ZERO_ADDRESS:
            return self.engine.safe_price(collateral_type)
        prices = self.at(oracle)
        shown = (prices.current_price, prices.next_price, prices.source_price)
        return dl.lowest_safe_price(self.engine.safe_price(collateral_type), shown, ratio)

    def deleverage_due(self, collateral_type: bytes) -> int:
        return self.due_to_deleverage[collateral_type] if self.live else 0

    def settle(self, sender: str, amount: int) -> None:
        if not self.live:
            require(self.open_losses() == 0, "backstop: losses open")
        require(amount <= self._free_surplus(), "backstop: insufficient surplus")
        require(amount <= self.unattributed_debt(), "backstop: insufficient unattributed debt")
        self.engine.settle(self.address, amount)
        self.log("DebtSettled", amount=amount)

    def heal(self, sender: str) -> int:
        unsettled = self.unsettled
        if unsettled != 0:
            self.engine.settle(self.address, unsettled)
            self.attributed_debt -= unsettled
            self.unsettled = 0
            self.log("ProceedsHealed", amount=unsettled)
        return unsettled

    # ------------------------------------------------------------ debt and surplus auctions

    def start_debt_auction(self, sender: str) -> int:
        """contracts/Backstop.vy: the free surplus (the FUND layer's room, `surplus_for_debt`)
        pays what it can of the debt to auction first, then a bid of the rest is auctioned
        (issue 63, finding 5); 0 when the surplus paid it all."""
        require(self.live, "backstop: not live")
        debt = self.debt_to_auction
        repaid = self.surplus_for_debt(debt) if debt != 0 else 0
        debt -= repaid
        bid = min(self.debt_auction_bid_size, debt)
        require(repaid != 0 or bid != 0, "backstop: no debt to auction")
        self.debt_to_auction = debt - bid
        if repaid != 0:
            self.engine.settle(self.address, repaid)
            self.log("AuctionDebtRepaid", amount=repaid)
        if bid == 0:
            return 0
        self.debt_on_auction = u256(self.debt_on_auction + bid)
        auction_id = self.at(self.debt_auction).start(self.address, bid)
        self.log("DebtAuctionStarted", auction_id=auction_id, bid=bid)
        return auction_id

    def on_debt_auction_bid(self, sender: str, amount: int) -> None:
        require(sender == self.debt_auction, "backstop: not debt auction")
        self.debt_on_auction = u256(self.debt_on_auction - amount)
        self.engine.settle(self.address, amount)
        self.log("DebtAuctionPaid", amount=amount)

    def start_surplus_auction(self, sender: str) -> int:
        require(self.live, "backstop: not live")
        lot = self.surplus_lot
        require(lot != 0, "backstop: zero auction size")
        require(
            self.engine.stable[self.address]
            >= u256(u256(self.engine.bad_debt[self.address] + self.surplus_buffer) + lot),
            "backstop: surplus below buffer",
        )
        self.engine.transfer_stable(self.address, self.address, self.surplus_auction, lot)
        auction_id = self.at(self.surplus_auction).start(self.address, lot)
        self.log("SurplusAuctionStarted", auction_id=auction_id, lot=lot)
        return auction_id

    def shutdown(self, sender: str) -> None:
        self._check_role(sender, Role.SHUTDOWN)
        require(self.live, "backstop: not live")
        self.live = False
        self.settlement = sender
        moved = u256(u256(self.debt_to_auction + self.debt_on_auction) + self.deleverage_total)
        self.settlement_debt = u256(self.settlement_debt + moved)
        self.debt_to_auction = 0
        self.debt_on_auction = 0
        self.deleverage_total = 0
        if self.debt_auction != ZERO_ADDRESS:
            self.at(self.debt_auction).shutdown(self.address)
        if self.surplus_auction != ZERO_ADDRESS:
            self.at(self.surplus_auction).shutdown(self.address)
        self.log("Shutdown", settlement=sender, settlement_debt=moved)

    # ------------------------------------------------------------ views

    def open_losses(self) -> int:
        return self.open_losses_count

    def unsettled_proceeds(self) -> int:
        return self.unsettled

    def advance_open_losses(self, sender: str, max_steps: int) -> int:
        return self._advance(max_steps)

    def loss_number(self, collateral_type: bytes, auction: str, auction_id: int) -> int:
        return self.loss_numbers[(collateral_type, auction, auction_id)]

    def loss_opened_at(self, number: int) -> int:
        return self.numbered_opened_at[number]

    def loss_done(self, number: int) -> bool:
        return self.numbered_done[number]

    def losses_done_before(self, timestamp: int) -> bool:
        first = self.first_open_loss
        if first > self.loss_count:
            return True
        return not self.numbered_done[first] and self.numbered_opened_at[first] > timestamp

    def _finish(self, key: tuple[bytes, str, int]) -> None:
        self.open_losses_count -= 1
        number = self.loss_numbers[key]
        self.numbered_done[number] = True
        if number == self.first_open_loss:
            self._advance(MAX_ADVANCE)

    def _advance(self, max_steps: int) -> int:
        if max_steps > MAX_ADVANCE:  # the bounded range reverts without a reason
            raise Revert(None)
        first, last = self.first_open_loss, self.loss_count
        for _ in range(max_steps):
            if first > last or not self.numbered_done[first]:
                break
            first += 1
        self.first_open_loss = first
        return first

    def get_waterfall(self) -> list[int]:
        return list(self.waterfall)

    def _free_surplus(self) -> int:
        return u256(self.engine.stable[self.address] - self.unsettled)

    def _fund_payment(self, remaining: int) -> int:
        """contracts/Backstop.vy: while live, the FUND layer pays min(remaining, free surplus -
        unattributed bad debt), 0 if the surplus is not above that debt (finding 31-6: a
        `settle` before or after a cover changes no payment); after shutdown min(remaining,
        free surplus) (`settle` waits for the losses). The contract skips reading the debt words
        when its stablecoin covers all its bad debt: the same amount then (the whole loss)."""
        free = self._free_surplus()
        if not self.live:
            return min(remaining, free)
        return min(remaining, surplus_room(free, self.unattributed_debt()))

    def surplus_for_debt(self, amount: int) -> int:
        """What of `amount` of the debt-auction layer's debt the surplus pays (live only): what
        the FUND layer would pay of it, min(amount, `surplus_room`) (`start_debt_auction`)."""
        return self._fund_payment(amount)

    def unattributed_debt(self) -> int:
        return u256(
            u256(
                u256(
                    u256(self.engine.bad_debt[self.address] - self.attributed_debt)
                    - self.debt_to_auction
                )
                - self.debt_on_auction
            )
            - self.deleverage_total
        )

    # ------------------------------------------------------------ internal

    def _add_unsettled(self, amount: int) -> None:
        # contracts/Backstop.vy: proceeds (a close's covered amount, a layer's payment in cover)
        # join the unsettled proceeds; all of them are cancelled at once instead when the sum
        # would not fit its field
        unsettled = self.unsettled + amount
        if unsettled >= PROCEEDS_LIMIT:
            self.engine.settle(self.address, unsettled)
            self.attributed_debt -= unsettled
            unsettled = 0
        self.unsettled = unsettled

    def _redistribute(
        self, collateral_type: bytes, auction: str, auction_id: int, amount: int
    ) -> int:
        normalized_debt = self.engine.collateral_types[collateral_type].normalized_debt
        if normalized_debt == 0:
            return 0
        delta_rate = div_up(amount, normalized_debt)
        self.engine.fold_rate(self.address, collateral_type, self.address, to_int256(delta_rate))
        self.log(
            "LossRedistributed",
            collateral_type=collateral_type,
            auction=auction,
            auction_id=auction_id,
            delta_rate=delta_rate,
            excess=u256(normalized_debt * delta_rate) - amount,
        )
        return amount
