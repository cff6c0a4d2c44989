"""A live liquidator's batch the node cannot estimate (issue 63: sized by the keeper, "split and
retried when an estimate fails"): a batch whose estimate reverts is sent as its halves, each
estimated in turn, down to single vaults, so that one vault whose liquidation reverts holds back
only itself. The bot's `act` with a node that refuses to estimate any batch holding one vault;
everything else of the bot is real (its strategy's batches, its metrics)."""

from __future__ import annotations

from offchain.live.bots import Bot
from offchain.live.metrics import Metrics
from offchain.sim.strategies.gas_costs import LIQUIDATION_GAS, batch_limit
from offchain.sim.strategies.keepers import liquidation_batches, split_batch

ETH = b"ETH-A".ljust(32, b"\0")
POISON = "0x" + "dd" * 20


class _Chain:
    names: dict[str, str] = {}

    def call_data(self, address, function, *args):
        return {"to": address, "data": repr(args)}, None


class _Txs:
    """The node: an estimate of 100,000, or none for a call naming the poisoned vault."""

    address = "0x" + "ee" * 20

    def __init__(self):
        self.sent: list[tuple[str, int]] = []

    def estimate(self, to, data):
        return None if POISON in data else 100_000

    def send(self, to, data, gas, label, targets, head):
        self.sent.append((data, gas))
        return object()


def _bot() -> tuple[Bot, list[tuple[str, dict]], _Txs]:
    bot = Bot.__new__(Bot)
    lines: list[tuple[str, dict]] = []
    bot.chain, bot.txs = _Chain(), _Txs()  # type: ignore[assignment]
    bot.metrics = Metrics("liquidator")
    bot.log = lambda event, **fields: lines.append((event, fields))  # type: ignore[assignment]
    bot.out_of_funds = ""
    return bot, lines, bot.txs  # type: ignore[return-value]


def test_split_batch__two_halves__each_sized_as_the_keeper_sizes_a_batch():
    owners = [f"0x{i:040x}" for i in range(7)]
    (batch,) = liquidation_batches(ETH, owners, list(range(7)), "0xk", "0xliq", 5)
    first, second = split_batch(batch)
    assert first.args[1] == owners[:3] and second.args[1] == owners[3:]
    assert first.values == (0, 1, 2) and second.values == (3, 4, 5, 6)
    assert first.gas_limit == batch_limit([LIQUIDATION_GAS] * 3)
    assert (first.gas_price, second.contract) == (5, "0xliq")


def test_act__a_batch_with_a_vault_that_reverts__the_others_sent_it_alone_moot():
    """Eight vaults, the sixth poisoned: the batch splits into 4 + 4, the second half into 2 + 2,
    the pair holding the poison into 1 + 1: every other vault is sent (the first half, the fifth
    vault alone, the last two), the poisoned one is moot, and nothing is sent twice."""
    bot, lines, txs = _bot()
    owners = [f"0x{i:040x}" for i in range(8)]
    owners[5] = POISON
    batches = liquidation_batches(ETH, owners, [1] * 8, "0xk", "0xliq", 0)
    bot.act(batches, head=1)
    sent = [o for data, _ in txs.sent for o in owners if o in data]
    assert sorted(sent) == sorted(o for o in owners if o != POISON)
    assert len(txs.sent) == 3 and len(sent) == len(set(sent))
    assert [e for e, _ in lines].count("split") == 3
    moot = [f for e, f in lines if e == "moot"]
    assert moot == [{"label": "0xliq.liquidate_many", "targets": [["vault", POISON]]}]
    # each sent with its own sized limit (above the node's 100,000 x 2 + 50,000)
    assert all(gas >= batch_limit([LIQUIDATION_GAS]) for _, gas in txs.sent)
