"""Issue 72 (security round 6), the liquidation keeper's batches.

1. (low) A front-run top-up pushed honest vaults to the next round. The keeper charged a vault
   unsafe at the base ratio the gas of a liquidation in proportion (140,000) and sized its batch
   so. Its owner could add collateral between the keeper's read and the batch's block, leaving
   the vault safe at the base ratio but unsafe at its size: the Liquidator then runs the size
   cut's bisection on it (up to 350,000), the batch's limit no longer covers what follows, and
   the gas guard skips the honest vaults at its end (no revert; they wait a round).
2. (info) Zombie vaults. A vault under two dusts, safe at the base ratio and unsafe at its size,
   has no cut that leaves the dust: the Liquidator refuses it ("liquidator: no size cut"), yet the
   keeper listed it every round, a size cut's gas each.

Each scenario runs with real contracts on Anvil (a node's gas) and on revm, in lockstep with the
model; what the chain alone would do with the keeper's limits (the guard firing, which the twin
does not model) is measured inside a snapshot that is reverted afterwards.
"""

from __future__ import annotations

from eth_utils import to_checksum_address

from offchain.backends import ChainBackend
from offchain.backends.base import TX_GAS
from offchain.model.fixed_point import RAD, WAD, amount_to_raise
from offchain.sim.strategies.gas_costs import LIQUIDATION_GAS, SIZE_CUT_GAS, batch_limit
from offchain.sim.strategies.keepers import VaultIndex
from offchain.sim.strategies.observe import plan_liquidations, read_liquidation_view
from offchain.testing.harness import move_prices, reverts

# docs/size-margin.md's size margin: threshold 25,000 BUSD, +10% per further threshold, at most
# +50% (a 60,000 vault needs 1.71x at the base ratio of 1.5)
DOC_SIZE = (25_000, 100_000, 500_000)
# the market price after the fall [wad]
CRASH = 1_200 * WAD
# the attack: vaults of 60,000 at 1.30x once the price is CRASH (unsafe at the base ratio, the
# closest to liquidation: the keeper lists them first), topped up to 1.709x before the batch's
# block (safe at the base ratio, 0.06% short of their size requirement: a size cut)
ATTACKER_DEBT, ATTACKER_RATIO, TOPPED_RATIO = 60_000, 1_300, 1_709
# honest vaults of 20,000 (below the threshold) at 1.44x: unsafe at the base ratio
HONEST_DEBT, HONEST_RATIO = 20_000, 1_440
# config/devnet.toml: the liquidation penalty, 1.13 [wad]
PENALTY = 113 * WAD // 100


def _owner(tag: int, i: int) -> str:
    return to_checksum_address(f"0x{0x7200_0000 + tag * 0x1000 + i:040x}")


def _collateral(debt: int, ratio: int) -> int:
    """Collateral [wad] worth `ratio` per mille of `debt` whole BUSD at CRASH."""
    return debt * WAD * ratio // 1000 * WAD // CRASH


def _senders(system, owners: list[str]) -> None:
    """Let `owners` send on a node (their ether and an impersonation: Ape's Anvil signs only for
    its own accounts); revm takes any sender."""
    if isinstance(system.chain, ChainBackend):
        system.chain.fund(owners, 10**21)
        if not system.chain.hardhat:
            system.chain.rpc_batch([("anvil_impersonateAccount", [o]) for o in owners])


def _open(system, owner: str, collateral: int, debt: int) -> None:
    """`owner` joins `collateral` [wad] of ETH and draws `debt` [wad of normalized debt] (at the
    deployment's price, where every vault here is safe)."""
    system.extra_holders.append(owner)
    system.fund(owner, "ETH-A", collateral)
    t = system.eth
    system.tx(
        system.d.engine, "modify_vault", owner, t.type_id, owner, owner, owner, collateral, debt
    )


def _keeper_round(system):
    """The liquidation keeper's round, as the simulator and the live bot make it: its index from
    the engine's events, its view from the chain."""
    t, d = system.eth, system.d
    index = VaultIndex(t.type_id)
    index.apply(d.engine, system.model.env.logs)
    view = read_liquidation_view(system.chain.views, d, t)
    return plan_liquidations(index, view, set(), system.roles.keeper, d.liquidator, 0)


def _on_chain_alone(system, actions) -> list:
    """The keeper's batches on the chain alone, each with its own limit: their events; the chain
    is put back as it was (a snapshot), the model never sees them."""
    snapshot = system.chain.snapshot()
    events = []
    try:
        for a in actions:
            system.chain.transact(a.contract, a.function, a.sender, *a.args, gas=a.gas_limit)
            events += system.chain.last_events
        if isinstance(system.chain, ChainBackend) and system.chain.last_receipt is not None:
            # a node answers a sync send before it has stored the block: wait for it
            mined = int(system.chain.last_receipt["blockNumber"], 16)
            while int(system.chain.rpc("eth_blockNumber", []), 16) < mined:
                pass
        return events
    finally:
        system.chain.revert_to(snapshot)


# ---------------------------------------------------------------- 72.1: the front-run top-up

ATTACKERS, HONEST = 6, 34


def _front_run(system) -> tuple[list[str], list[str], list, list]:
    """ATTACKERS vaults of the attacker and HONEST honest ones, all unsafe at the base ratio once
    the price is CRASH; the keeper plans its round; the attacker tops up each of its vaults
    (mined ahead of the keeper's batches) to safe at the base ratio, short of its size
    requirement. Returns the attacker's and the honest owners, the keeper's actions and what
    its batches do on the chain alone with their own limits (their events)."""
    t, e = system.eth, system.d.engine
    attacker = [_owner(1, i) for i in range(ATTACKERS)]
    honest = [_owner(2, i) for i in range(HONEST)]
    _senders(system, attacker + honest)
    for owner in attacker:
        _open(system, owner, _collateral(ATTACKER_DEBT, ATTACKER_RATIO), ATTACKER_DEBT * WAD)
    for owner in honest:
        _open(system, owner, _collateral(HONEST_DEBT, HONEST_RATIO), HONEST_DEBT * WAD)
    system.tx(e, "set_size_margin", system.roles.governance, t.type_id, *DOC_SIZE)
    move_prices(system, [(t, CRASH)])
    actions = _keeper_round(system)
    listed = [o for a in actions for o in a.args[1]]
    # every vault unsafe at the base ratio, charged a liquidation in proportion; the attacker's,
    # the closest to liquidation, listed first
    assert sorted(listed[:ATTACKERS]) == sorted(attacker)
    assert sorted(listed[ATTACKERS:]) == sorted(honest)
    assert {g for a in actions for g in a.target_gas} == {LIQUIDATION_GAS}
    # the top-up, mined before the keeper's batches
    top_up = _collateral(ATTACKER_DEBT, TOPPED_RATIO) - _collateral(ATTACKER_DEBT, ATTACKER_RATIO)
    c = system.engine().collateral_types[t.type_id]
    for owner in attacker:
        system.fund(owner, "ETH-A", top_up)
        system.tx(e, "modify_vault", owner, t.type_id, owner, owner, owner, top_up, 0)
        collateral, normalized = system.engine().vaults[(t.type_id, owner)]
        # safe at the base ratio, unsafe at its size: the Liquidator's size-cut path
        assert normalized * c.rate <= collateral * c.safe_price
        assert system.view(e, "is_safe", t.type_id, owner) is False
    return attacker, honest, actions, _on_chain_alone(system, actions)


def _front_run_fails(system) -> None:
    t = system.eth
    attacker, honest, actions, alone = _front_run(system)
    # on the chain alone: the guard skipped nothing, every listed vault was liquidated
    skipped = sum(ev.args["vaults"] for ev in alone if ev.name == "SkippedForGas")
    done = [ev.args["owner"] for ev in alone if ev.name == "Liquidated"]
    assert skipped == 0, f"the Liquidator's gas guard skipped {skipped} vault(s)"
    assert sorted(done) == sorted(attacker + honest)
    # the keeper sized every batch for a size cut of each vault (under a size margin any vault
    # may take that path by the block), within a transaction's limit
    assert all(a.target_gas_bound == (SIZE_CUT_GAS,) * len(a.targets) for a in actions)
    assert all(a.gas_limit == batch_limit(a.target_gas_bound) <= TX_GAS for a in actions)
    # and beside the model (the twin has no gas: a guard that fired would be a difference)
    penalties = 0  # [rad]
    for a in actions:
        system.tx(a.contract, a.function, a.sender, *a.args, gas=a.gas_limit)
        for ev in system.events:
            if ev.name == "Liquidated" and ev.args["owner"] in attacker:
                penalties += amount_to_raise(ev.args["debt"], PENALTY) - ev.args["debt"]
    for owner in honest:  # each taken whole in the keeper's round
        assert system.engine().vaults[(t.type_id, owner)] == (0, 0)
    for owner in attacker:  # each cut by its least cure (2,870.75 BUSD), and safe after
        left = system.engine().vaults[(t.type_id, owner)][1]
        assert 2_870 * WAD < ATTACKER_DEBT * WAD - left < 2_871 * WAD
        assert system.view(system.d.engine, "is_safe", t.type_id, owner) is True
    # the attacker's cost: the penalty on its six cuts, 13% of 6 x 2,870.75
    assert penalties // RAD == 2_239
    assert not _keeper_round(system)


def test_finding_72_1__top_up_before_the_batch__every_honest_vault_liquidated__on_anvil(system):
    """Six vaults of 60,000 at 1.30x and 34 honest vaults of 20,000 at 1.44x, all unsafe at the
    base ratio after a fall to 1,200, under docs/size-margin.md's size margin. The keeper plans
    its round; the attacker then tops its six vaults up to 1.709x, mined ahead of the batch:
    each is cut (2,870 BUSD by its least cure) instead of taken whole. At f29127a the keeper
    sent the 40 in one batch sized for 40 liquidations in proportion (6,130,000 gas): on a
    node's count the six cuts took about 140,000 more each than their figure, and the guard
    skipped the last 4 honest vaults (SkippedForGas 4: they waited a round; in lockstep a
    difference), for 2,239.19 of penalties paid by the attacker (on revm, where accounts stay
    warm, 2 were skipped). Now every vault of a type with a size margin is sized as a size cut
    (gas_costs.vault_gas_bound): two batches (26 vaults at 9,830,000 and 14 at 5,630,000), and
    all 40 are liquidated in the round."""
    _front_run_fails(system)


def test_finding_72_1__top_up_before_the_batch__every_honest_vault_liquidated__on_revm(
    revm_system,
):
    _front_run_fails(revm_system)
    revm_system.check()


# ---------------------------------------------------------------- 72.2: zombie vaults

# a size margin whose threshold is the dust (2,500): +10% per further threshold, at most +50%
ZOMBIE_SIZE = (2_500, 100_000, 500_000)
ZOMBIES = 30
# a zombie: 4,000 BUSD (under two dusts) worth 3% more than its base requirement at the safe
# price, its size asking +6%: safe at the base ratio, unsafe at its size, and no cut of at least
# the dust leaves the dust. A cut vault: 60,000 worth 40% more, its size asking +50%
ZOMBIE_DEBT, ZOMBIE_HEADROOM = 4_000, 30_000
CUT_DEBT, CUT_HEADROOM = 60_000, 400_000


def _at_headroom(system, owner: str, debt: int, headroom_ppm: int) -> None:
    c = system.engine().collateral_types[system.eth.type_id]
    debt_rad = debt * WAD * c.rate
    collateral = -(-debt_rad * (10**6 + headroom_ppm) // 10**6 // c.safe_price)
    _open(system, owner, collateral, debt * WAD * 10**27 // c.rate)


def _zombies(system) -> None:
    t, e, liq = system.eth, system.d.engine, system.d.liquidator
    zombies = [_owner(3, i) for i in range(ZOMBIES)]
    cut = _owner(4, 0)
    _senders(system, [*zombies, cut])
    for owner in zombies:
        _at_headroom(system, owner, ZOMBIE_DEBT, ZOMBIE_HEADROOM)
    _at_headroom(system, cut, CUT_DEBT, CUT_HEADROOM)
    system.tx(e, "set_size_margin", system.roles.governance, t.type_id, *ZOMBIE_SIZE)
    c = system.engine().collateral_types[t.type_id]
    for owner in zombies:
        collateral, normalized = system.engine().vaults[(t.type_id, owner)]
        assert normalized * c.rate <= collateral * c.safe_price  # safe at the base ratio
        assert normalized * c.rate < 2 * c.dust
        assert system.view(e, "is_safe", t.type_id, owner) is False  # unsafe at its size
    # the keeper lists the cut, not the 30 the Liquidator refuses
    actions = _keeper_round(system)
    assert [o for a in actions for o in a.args[1]] == [cut]
    # the Liquidator refuses each of them, on chain and in the model: a batch skips them
    for owner in zombies:
        with reverts("liquidator: no size cut"):
            system.tx(liq, "liquidate", system.roles.keeper, t.type_id, owner, system.roles.keeper)
    system.tx(liq, "liquidate_many", system.roles.keeper, t.type_id, zombies, system.roles.keeper)
    assert not [ev for ev in system.events if ev.name == "Liquidated"]
    # the keeper's batch: the cut, with the limit of one vault
    (batch,) = actions
    assert batch.gas_limit == batch_limit([SIZE_CUT_GAS])
    system.tx(batch.contract, batch.function, batch.sender, *batch.args, gas=batch.gas_limit)
    assert [ev.args["owner"] for ev in system.events if ev.name == "Liquidated"] == [cut]
    assert not _keeper_round(system)
    # a fall of 5% leaves each unsafe at the base ratio: no longer refused, listed and taken
    # (with the cut vault's remainder, unsafe at its size again)
    price = system.view(t.oracle, "current_price")
    move_prices(system, [(t, price * 95 // 100)])
    actions = _keeper_round(system)
    assert sorted(o for a in actions for o in a.args[1]) == sorted([*zombies, cut])
    for a in actions:
        system.tx(a.contract, a.function, a.sender, *a.args, gas=a.gas_limit)
    for owner in zombies:
        assert system.engine().vaults[(t.type_id, owner)] == (0, 0)


def test_finding_72_2__zombie_vaults__the_keeper_lists_none_the_liquidator_refuses__on_anvil(
    system,
):
    """Thirty vaults of 4,000 BUSD (under two dusts of 2,500), 3% above their base requirement,
    unsafe at their size (threshold 2,500: +6% at 4,000), and one of 60,000 that a cut cures. At
    f29127a the keeper listed all 31 in two batches sized as 31 size cuts (limits 9,830,000 and
    2,480,000), and after the cut the 30 again every round (9,830,000 and 2,130,000: 11.96M of
    limits reserved; 343,358 gas used on Anvil, each round), since the Liquidator refuses them
    ("liquidator: no size cut"). Now the keeper asks the contract's rule (model/liquidator.py
    `refuses_size_cut`) and lists the cut alone (1,080,000; 349,609 used), then nothing; each of
    the 30 is refused by the Liquidator, chain and model alike; a 5% fall leaves them unsafe at
    the base ratio, and the keeper lists and liquidates them."""
    _zombies(system)


def test_finding_72_2__zombie_vaults__the_keeper_lists_none_the_liquidator_refuses__on_revm(
    revm_system,
):
    _zombies(revm_system)
    revm_system.check()
