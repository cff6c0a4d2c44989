"""One strategy code path: a live bot and the simulator's keeper, on the same chain state, intend
the same actions. The bot's knowledge comes from the node's logs (eth_getLogs, and its
checkpoint written and read back); the simulator's from the events of every transaction's
receipt, as its driver feeds its index; both observe through offchain/sim/strategies/observe.py and
decide with offchain/sim/strategies/keepers.py."""

from __future__ import annotations

from live_support import ROOT  # noqa: F401  (the live fixtures)

from offchain.live.bots import Bot, BotOptions
from offchain.live.follower import Watched
from offchain.live.gas import FixedGas
from offchain.sim.strategies.keepers import VaultIndex
from offchain.sim.strategies.observe import VAULT_EVENTS, plan_liquidations, read_liquidation_view


def _simulator_index(devnet) -> VaultIndex:
    """The driver's way: every mined transaction's events, in order, into the index."""
    chain, d = devnet.chain, devnet.d
    index = VaultIndex(devnet.eth.type_id)
    for number in range(devnet.record.first_block, devnet.block() + 1):
        receipts = chain.rpc("eth_getBlockReceipts", [hex(number)]) or []
        for receipt in receipts:
            for log in receipt["logs"]:
                if log["address"].lower() != d.engine.lower():
                    continue
                e = chain._decode_log(log)
                if e.name in VAULT_EVENTS:
                    index.apply_args(e.args)
    return index


def test_bot_and_simulator__same_state__same_liquidations(devnet, artifacts, tmp_path):
    devnet.crash(45, ratio_ppm=1_600_000, drop_ppm=800_000)  # two batches of liquidate_many
    keeper = devnet.d.governance
    options = BotOptions(
        "liquidator",
        devnet.record,
        devnet.node.url,
        tmp_path / "checkpoint.json",
        None,
        FixedGas(10**10, 10**9),
        types=["ETH-A"],
    )
    bot = Bot(options, artifacts[0], artifacts[1])
    bot.follower.catch_up(bot.node.block_number())
    bot_actions = bot.decide()
    # the simulator's keeper on the same chain
    index = _simulator_index(devnet)
    view = read_liquidation_view(devnet.chain.views, devnet.d, devnet.eth)
    sim_actions = plan_liquidations(index, view, set(), keeper, devnet.d.liquidator, 0)
    assert len(sim_actions) == 2
    assert bot_actions == sim_actions
    # and from the bot's checkpoint, written and read back
    bot.save()
    bot.follower.watched = Watched.from_json(devnet.d, bot.store.load()["watched"])  # type: ignore[index]
    assert bot.decide() == sim_actions
    assert bot.follower.watched.indexes["ETH-A"].vaults == index.vaults


def test_backstop_watch__same_auction_id_on_two_types__kept_apart(devnet):
    """Auction ids count per type's auction: ETH-A's loss 1 and WBTC-A's loss 1 are two losses.
    The bot's follower kept one set of ids for every type, so a loss found done on one type was
    dropped from the other's watch, and that type's loss was never covered (found building the
    two-type simulation). Now the watch is per type, also through the checkpoint."""
    from offchain.live.follower import Follower
    from offchain.live.node import Node
    from offchain.model.state import Event

    d = devnet.d
    follower = Follower(devnet.chain, Node(devnet.node.url), d, devnet.record.first_block)
    for t in d.types.values():
        for auction_id in (1, 2):
            follower.apply(
                Event(
                    d.backstop,
                    "LossClosed",
                    {
                        "collateral_type": t.type_id,
                        "auction": t.auction,
                        "auction_id": auction_id,
                        "raised": 0,
                        "covered": 0,
                        "loss": 0,
                    },
                )
            )
    w = follower.watched
    assert set(d.types) == {"ETH-A", "WBTC-A"}
    assert w.backstop_watch("ETH-A").loss_ids == [1, 2]
    assert w.backstop_watch("WBTC-A").loss_ids == [1, 2]
    w.losses["ETH-A"].difference_update([1])  # what the bot's losses_done("ETH-A", [1]) does
    assert w.backstop_watch("ETH-A").loss_ids == [2]
    assert w.backstop_watch("WBTC-A").loss_ids == [1, 2]
    again = Watched.from_json(d, w.to_json())
    assert again.backstop_watch("ETH-A").loss_ids == [2]
    assert again.backstop_watch("WBTC-A").loss_ids == [1, 2]
