"""Twin of contracts/Backstop.vy: surplus and the bad-debt queue (the waterfall builds on it)."""

from __future__ import annotations

from offchain.errors import require
from offchain.fixed_point import u256
from offchain.state import Authorized, Env
from offchain.vault_engine import VaultEngine


class Backstop(Authorized):
    AUTH_REASON = "backstop: not authorized"

    def __init__(self, env: Env, address: str, deployer: str, engine: str, queue_delay: int):
        super().__init__(env, address)
        self.engine: VaultEngine = self.at(engine)
        self.queue_delay = queue_delay
        self.authorized = self.storage(False)
        self.queued = self.storage(0)  # queued_at -> rad
        self.total_queued = 0
        self.authorized[deployer] = True
        self.log("AuthorityAdded", account=deployer)
        self.log("QueueDelaySet", queue_delay=queue_delay)

    def set_queue_delay(self, sender: str, new_delay: int) -> None:
        self._check_authorized(sender)
        self.queue_delay = new_delay
        self.log("QueueDelaySet", queue_delay=new_delay)

    def queue_debt(self, sender: str, amount: int) -> None:
        self._check_authorized(sender)
        self.queued[self.now] = u256(self.queued[self.now] + amount)
        self.total_queued = u256(self.total_queued + amount)
        self.log("DebtQueued", queued_at=self.now, amount=amount)

    def release(self, sender: str, queued_at: int) -> None:
        require(u256(queued_at + self.queue_delay) <= self.now, "backstop: still queued")
        amount = self.queued[queued_at]
        require(amount != 0, "backstop: nothing queued")
        self.queued[queued_at] = 0
        self.total_queued -= amount
        self.log("DebtReleased", queued_at=queued_at, amount=amount)

    def settle(self, sender: str, amount: int) -> None:
        require(amount <= self.engine.stable[self.address], "backstop: insufficient surplus")
        require(u256(amount + self.total_queued) <= self.engine.bad_debt[self.address],
                "backstop: insufficient released debt")
        self.engine.settle(self.address, amount)
        self.log("DebtSettled", amount=amount)

    def released_debt(self) -> int:
        return u256(self.engine.bad_debt[self.address] - self.total_queued)
