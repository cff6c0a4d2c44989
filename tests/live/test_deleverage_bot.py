"""The backstop bot's deleveraging on a devnet (issue 45, finding 2; issue 63, finding 2): the
live bot (`ape run keeper --role backstop`, read-only here) ranks the type's vaults by strength,
so a position split into vaults of the same ratio ranks, together, where the whole ranks, and
gives each vault its share by the level rule: the parts and the whole, of one strength, the same
share of their headroom; the simulator's keeper, on the same chain, decides the same call (one
code path: offchain/sim/strategies/backstop_keeper.py)."""

from __future__ import annotations

from live_support import ROOT  # noqa: F401  (the live fixtures)

from offchain.live.bots import Bot, BotOptions
from offchain.live.gas import FixedGas
from offchain.live.market import advance, open_vaults, set_price
from offchain.model.backstop import Layer
from offchain.model.fixed_point import RAD, WAD
from offchain.model.state import Role
from offchain.sim.scenario.population import VaultPlan, actor_address
from offchain.sim.strategies.keepers import deleverage_calls, deleverage_ranked
from offchain.sim.strategies.observe import read_deleverage_view, read_windows
from offchain.system import governance


def _plans(price: int) -> tuple[list[VaultPlan], list[VaultPlan], VaultPlan]:
    """At the configured price (wad): four honest vaults of 40,000 at 2.2x their debt (the most
    headroom each), one of 25,000 at 4x (the whole) and five of 5,000 at 4x (its parts)."""

    def plan(who: str, i: int, debt: int, ratio_tenths: int) -> VaultPlan:
        collateral = -(-debt * WAD * ratio_tenths // 10 // price) * WAD
        return VaultPlan(actor_address(who, i), collateral, debt * WAD)

    honest = [plan("honest", i, 40_000, 22) for i in range(4)]
    parts = [plan("part", i, 5_000, 40) for i in range(5)]
    return honest, parts, plan("whole", 0, 25_000, 40)


def _park_loss(devnet, amount: int) -> None:
    """Governance parks `amount` [rad] for the deleveraging layer. One proposal, run after the
    Timelock's delay (the devnet's only admin): governance takes OPEN_LOSS and CLOSE_LOSS, the
    Backstop gets the bad debt (as a seizure would) and the layer is ordered alone; the price is
    posted again (the delay outlasts the oracle's freshness). Governance then opens and closes
    a loss event raising nothing, and covers it after the queue delay."""
    chain, d, t = devnet.chain, devnet.d, devnet.eth
    g, b = d.governance, d.backstop
    calls = [
        (b, "grant_role", (g, int(Role.OPEN_LOSS | Role.CLOSE_LOSS))),
        (d.engine, "create_unbacked", (b, g, amount)),
        (b, "set_waterfall", ([int(Layer.DELEVERAGE)],)),
    ]
    proposal_id, eta = governance.propose(chain, d, calls)
    advance(chain, eta - chain.last_block_time)
    governance.execute(chain, d, proposal_id, calls)
    set_price(chain, d, t, t.config.initial_price)
    chain.transact(b, "open_loss", g, t.type_id, g, 1, amount, WAD)
    chain.transact(b, "close_loss", g, t.type_id, 1, amount, 0)
    advance(chain, chain.view(b, "queue_delay") + 1)
    chain.transact(b, "cover", g, t.type_id, g, 1)


def test_backstop_bot__split_position__ranked_and_listed_as_the_whole(devnet, artifacts, tmp_path):
    chain, d, t = devnet.chain, devnet.d, devnet.eth
    honest, parts, whole = _plans(t.config.initial_price)
    open_vaults(chain, d, t, [*honest, *parts, whole])
    _park_loss(devnet, 1_000 * RAD)
    options = BotOptions(
        "backstop",
        devnet.record,
        devnet.node.url,
        tmp_path / "checkpoint.json",
        None,
        FixedGas(10**10, 10**9),
        types=["ETH-A"],
    )
    bot = Bot(options, artifacts[0], artifacts[1])
    bot.follower.catch_up(bot.node.block_number())
    listed = [a for a in bot.decide() if a.function == "deleverage"]
    assert len(listed) == 1
    _, owners, shares = listed[0].args
    # the bot's own index and the Backstop's prices, as the keeper ranks them
    vaults = bot.follower.watched.indexes["ETH-A"].vaults
    view = read_deleverage_view(chain.views, d, t, d.governance, lambda: chain.next_block_time)
    assert view is not None and view.due == 1_000 * RAD
    ranked = deleverage_ranked(vaults, view)
    split = {p.owner for p in parts} | {whole.owner}
    mine = {p.owner for p in honest}
    # the parts and the whole, of one strength, rank together (by address); the honest vaults
    # (each with more headroom than a part: the old ranking put every part after them) after
    first = min(ranked.index(o) for o in split)
    block = ranked[first : first + len(split)]
    assert block == sorted(split, key=lambda o: int(o, 16))
    assert all(ranked.index(o) > first + len(split) - 1 for o in mine)
    # the level (1,000 due) lies above the honest vaults' strength: the parts and the whole pay,
    # each the same share of its headroom (one strength), the honest vaults nothing
    assert set(owners) == split and owners == sorted(owners, key=lambda o: int(o, 16))
    assert max(shares) - min(shares) <= 1
    # the simulator's keeper, on the same chain and index, decides the same call
    windows = read_windows(chain.views, d, t, ranked, view, vaults)
    calls = deleverage_calls(vaults, view, windows)
    assert [(c.owners, c.shares) for c in calls] == [(owners, shares)]
