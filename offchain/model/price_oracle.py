"""Twin of contracts/PriceOracle.vy: a delayed price (posted -> queued -> current)."""

from __future__ import annotations

from offchain.model.errors import require
from offchain.model.fixed_point import WAD, u256
from offchain.model.state import Authorized, Env, Role

MAX_CHANGE = 10 * WAD
# pokes after a void before the guardian may void again (PriceOracle.vy VOID_LOCK_POKES)
VOID_LOCK_POKES = 2


class PriceOracle(Authorized):
    ROLE_SET = Role.EMERGENCY

    def __init__(self, env: Env, address: str, deployer: str, delay: int, max_age: int):
        super().__init__(env, address)
        require(delay > 0, "oracle: zero delay")
        require(max_age > delay, "oracle: max age not above delay")
        self.feeders = self.storage(False)
        self.max_change = 0
        self.delay = delay
        self.max_age = max_age
        self.last_poke = 0
        self.source_price = 0
        self.source_time = 0
        self.next_price = 0
        self.next_time = 0
        self.current_price = 0
        self.current_time = 0
        self.void_lock = 0
        self.voided_price = 0
        self._init_auth(deployer)
        self.log("DelaySet", delay=delay)
        self.log("MaxAgeSet", max_age=max_age)

    def set_feeder(self, sender: str, feeder: str, allowed: bool) -> None:
        self._check_authorized(sender)
        self.feeders[feeder] = allowed
        self.log("FeederSet", feeder=feeder, allowed=allowed)

    def set_delay(self, sender: str, new_value: int) -> None:
        self._check_authorized(sender)
        require(new_value > 0, "oracle: zero delay")
        require(self.max_age > new_value, "oracle: max age not above delay")
        self.delay = new_value
        self.log("DelaySet", delay=new_value)

    def set_max_age(self, sender: str, new_value: int) -> None:
        self._check_authorized(sender)
        require(new_value > self.delay, "oracle: max age not above delay")
        self.max_age = new_value
        self.log("MaxAgeSet", max_age=new_value)

    def set_max_change(self, sender: str, new_value: int) -> None:
        self._check_authorized(sender)
        require(new_value <= MAX_CHANGE, "oracle: max change above 10")
        self.max_change = new_value
        self.log("MaxChangeSet", max_change=new_value)

    def void(self, sender: str) -> None:
        self._check_role(sender, Role.EMERGENCY)
        if not self.authorized[sender]:
            require(self.void_lock == 0, "oracle: void pending")
        voided = self.next_price
        # the lower of the queued price and the latest post, both discarded
        dropped = min([p for p in (voided, self.source_price) if p], default=0)
        self.next_price = self.current_price
        if voided == 0:  # the held price keeps the voided post's time, else its own
            self.next_time = self.current_time
        self.source_price = 0
        self.source_time = 0
        self.void_lock = VOID_LOCK_POKES
        self.voided_price = dropped
        self.log("Voided", voided_price=voided)

    def post(self, sender: str, price: int) -> None:
        require(self.feeders[sender], "oracle: not a feeder")
        require(price != 0, "oracle: zero price")
        reference = self.next_price or self.current_price
        bound = self.max_change
        if bound != 0 and reference != 0:
            if bound < WAD:
                low = u256(reference * (WAD - bound))
                require(u256(price * WAD) >= low, "oracle: price move too large")
            require(
                u256(price * WAD) <= u256(reference * (WAD + bound)),
                "oracle: price move too large",
            )
        self.source_price = price
        self.source_time = self.now
        self.log("PricePosted", feeder=sender, price=price)

    def poke(self, sender: str) -> None:
        require(self.now >= u256(self.last_poke + self.delay), "oracle: too early")
        require(self.source_price != 0, "oracle: no price posted")
        self.current_price = self.next_price
        self.current_time = self.next_time
        self.next_price = self.source_price
        self.next_time = self.source_time
        self.last_poke = self.now
        if self.void_lock:
            self.void_lock -= 1
            if self.void_lock == 0:
                self.voided_price = 0
        self.log("Poked", current_price=self.current_price, next_price=self.next_price)

    def _fresh(self, price: int, posted_at: int) -> bool:
        return price != 0 and self.now <= u256(posted_at + self.max_age)

    def peek(self) -> tuple[int, bool]:
        return self.current_price, self._fresh(self.current_price, self.current_time)

    def peek_next(self) -> tuple[int, bool]:
        return self.next_price, self._fresh(self.next_price, self.next_time)
