"""The benchmark's transactions (`make bench`, scripts/_bench.py): the gas of each kind of
transaction, measured on a fresh deployment in lockstep with the model, on any EVM backend (Anvil,
or revm with `exact_gas`: tests/backends/test_revm_backend.py checks that both count the same)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eth_utils import to_checksum_address

from offchain.backends import EvmBackend, Lockstep, ModelBackend, model_beside
from offchain.model import margin_call as margin_call_model
from offchain.model import size_margin
from offchain.model.dutch_auction import SLOT_BITS
from offchain.model.fixed_point import RAD, RAY, WAD
from offchain.model.state import Role
from offchain.sim.market.venue import Depth, Venue, VenueParams
from offchain.sim.strategies.backstop_keeper import deleverage_view_from_model, vault_headroom
from offchain.system.config import load_config
from offchain.system.deployment import Deployment, TypeDeployment, deploy_flash_taker, deploy_system

# called after each measured transaction with its figure's name (gas_report's breakdown)
Observer = Callable[[str], None]
# the outside venue's bar for a take sold on it: 20,000 ETH traded, 2% volatility, Y = 0.7
VENUE_PARAMS = VenueParams(coefficient=7 * WAD // 10, share=WAD, decay=600)
VENUE_DEPTH = Depth(volume=20_000 * WAD, sigma=2 * WAD // 100)


def _fresh(
    chain: EvmBackend, roles: list[str], observe: Observer | None = None
) -> tuple[Lockstep, ModelBackend, Any, dict[str, int], Any]:
    """A fresh deployment in lockstep, the gas table, and `measure(key, address, fn, sender, *args)`
    that sends one transaction, records its gas under `key` and tells `observe`."""
    model = model_beside(chain, roles)
    ls = Lockstep(chain, model)
    d = deploy_system(ls, load_config(), roles[0], roles[1])
    gas: dict[str, int] = {}

    def measure(key: str, address: str, fn: str, sender: str, *args) -> int:
        ls.transact(address, fn, sender, *args)
        gas[key] = chain.gas_used()
        if observe is not None:
            observe(key)
        return gas[key]

    return ls, model, d, gas, measure


def _block_measure(
    chain: EvmBackend, model: ModelBackend, gas: dict[str, int], observe: Observer | None
) -> Callable[[str, list[tuple]], int]:
    """`measure_block(key, txs)`: `txs` (address, function, sender, args) mined in one block on
    both, each succeeding with the same events; the last one's gas recorded under `key` (a
    transaction that needs an earlier one in its block: a sale on the OutsideVenue its sync)."""

    def measure_block(key: str, txs: list[tuple]) -> int:
        on_chain, in_model = chain.transact_block(txs), model.transact_block(txs)
        outcomes = [(o.ok, o.reason, o.events) for o in on_chain]
        if outcomes != [(o.ok, o.reason, o.events) for o in in_model] or not all(
            o.ok for o in on_chain
        ):
            raise AssertionError(f"{key}: the block differs or reverted: {outcomes}")
        gas[key] = chain.gas_used()
        if observe is not None:
            observe(key)
        return gas[key]

    return measure_block


def gas_figures(
    chain: EvmBackend, roles: list[str], observe: Observer | None = None
) -> dict[str, int]:
    ls, model, d, gas, measure = _fresh(chain, roles, observe)
    governance, feeder, borrower, second = roles[:4]
    eth = d.types["ETH-A"]

    # a second borrower first, so the borrower measured below is not the type's first vault
    for user in (second, borrower):
        ls.transact(eth.token, "mint", governance, user, 100 * WAD)
        ls.transact(eth.token, "approve", user, eth.join, 2**256 - 1)
    ls.transact(eth.join, "join", second, second, 10 * WAD)
    ls.transact(
        d.engine, "modify_vault", second, eth.type_id, second, second, second, 10 * WAD, 5_000 * WAD
    )

    join = measure("gas.join_collateral", eth.join, "join", borrower, borrower, 10 * WAD)
    lock_draw = measure(
        "gas.open_vault",
        d.engine,
        "modify_vault",
        borrower,
        eth.type_id,
        borrower,
        borrower,
        borrower,
        10 * WAD,
        5_000 * WAD,
    )
    gas["gas.open_vault_two_transactions"] = join + lock_draw  # join, then lock + draw
    # the same vault in one transaction through the join, by a borrower who approved the token
    # and allowed the join in the engine beforehand (once, as the approval)
    one_tx = roles[4]
    ls.transact(eth.token, "mint", governance, one_tx, 100 * WAD)
    ls.transact(eth.token, "approve", one_tx, eth.join, 2**256 - 1)
    ls.transact(d.engine, "allow", one_tx, eth.join)
    measure("gas.open_vault_with_join", eth.join, "join_and_modify", one_tx, 10 * WAD, 5_000 * WAD)
    measure(
        "gas.adjust_vault",
        d.engine,
        "modify_vault",
        borrower,
        eth.type_id,
        borrower,
        borrower,
        borrower,
        0,
        1_000 * WAD,
    )
    ls.transact(d.engine, "allow", borrower, d.stable_join)
    measure("gas.exit_stable", d.stable_join, "exit", borrower, borrower, 1_000 * WAD)
    ls.transact(d.stablecoin, "approve", borrower, d.stable_join, 2**256 - 1)
    ls.transact(d.stable_join, "join", borrower, borrower, 1_000 * WAD)

    # the oracle in steady state: a new post, then the poke that moves it along
    ls.set_next_block_time(ls.last_block_time + eth.config.oracle_delay)
    ls.transact(eth.oracle, "post", feeder, 1_900 * WAD)
    measure("gas.poke_oracle", eth.oracle, "poke", feeder)
    measure("gas.poke_spotter", d.spotter, "poke", feeder, eth.type_id)

    ls.set_next_block_time(ls.last_block_time + 86_400)
    measure("gas.accrue_fees", d.fees, "accrue", feeder, eth.type_id)
    # an hour on: the fee recipient's surplus balance exists now (the first accrual created it)
    ls.set_next_block_time(ls.last_block_time + 3_600)
    measure("gas.accrue_fees_later", d.fees, "accrue", feeder, eth.type_id)
    ls.set_next_block_time(ls.last_block_time + eth.config.ceiling_cooldown)
    measure("gas.update_ceiling", d.ceiling, "update", feeder, eth.type_id)

    # close: cover the accrued fee, then repay everything and free all collateral in one call
    ls.transact(d.engine, "transfer_stable", second, second, borrower, 100 * 10**45)
    vault_debt = model.contract(d.engine).vaults[(eth.type_id, borrower)].normalized_debt
    locked = model.contract(d.engine).vaults[(eth.type_id, borrower)].collateral
    measure(
        "gas.close_vault",
        d.engine,
        "modify_vault",
        borrower,
        eth.type_id,
        borrower,
        borrower,
        borrower,
        -locked,
        -vault_debt,
    )
    return gas


def liquidation_gas(
    chain: EvmBackend, roles: list[str], observe: Observer | None = None
) -> dict[str, int]:
    """Liquidations and auctions on a fresh deployment: 54 vaults at the limit, then a crash."""
    ls, model, d, gas, measure = _fresh(chain, roles, observe)
    measure_block = _block_measure(chain, model, gas, observe)
    governance, feeder, keeper, taker = roles[0], roles[1], roles[4], roles[5]
    eth = d.types["ETH-A"]
    engine = model.contract(d.engine)

    owners = [to_checksum_address(f"0x{i:040x}") for i in range(0x1000, 0x1000 + 54)]
    # the owners are not dev accounts: governance opens the vaults in their name through delegation
    ls.transact(eth.token, "mint", governance, governance, 54 * 10 * WAD)
    ls.transact(eth.token, "approve", governance, eth.join, 2**256 - 1)
    ctype = engine.collateral_types[eth.type_id]
    debt = 10 * WAD * ctype.safe_price // ctype.rate * 99 // 100
    for owner in owners:
        _owned_vault(ls, d, eth, governance, owner, debt)
    # crash: 30% down, through the delayed oracle
    ls.transact(eth.oracle, "post", feeder, 1_400 * WAD)
    for _ in range(2):
        ls.set_next_block_time(ls.last_block_time + eth.config.oracle_delay)
        ls.transact(eth.oracle, "poke", feeder)
    ls.transact(d.spotter, "poke", feeder, eth.type_id)

    measure(
        "gas.liquidate_first", d.liquidator, "liquidate", keeper, eth.type_id, owners[0], keeper
    )
    measure("gas.liquidate", d.liquidator, "liquidate", keeper, eth.type_id, owners[1], keeper)
    measure(
        "gas.liquidate_many_50",
        d.liquidator,
        "liquidate_many",
        keeper,
        eth.type_id,
        owners[3:53],
        keeper,
    )
    gas["gas.liquidate_many_per_vault"] = gas.pop("gas.liquidate_many_50") // 50
    ls.transact(d.liquidator, "liquidate", keeper, eth.type_id, owners[2], keeper)

    # takers: internal stablecoin from governance's surplus-free vault balance
    auction = model.contract(eth.auction)
    ls.transact(
        d.engine, "transfer_stable", governance, governance, taker, engine.stable[governance]
    )
    ls.transact(d.engine, "allow", taker, eth.auction)
    ls.set_next_block_time(ls.last_block_time + 900)
    first, second, third, fourth, fifth, sixth, seventh = auction.active[:7]
    price = auction._price(auction.auctions[first]) + 10**27  # a margin: the price falls, not rises
    # the lot is worth more than the debt: the debt is raised and the rest goes back to the owner
    measure(
        "gas.take_whole_with_refund",
        eth.auction,
        "take",
        taker,
        first,
        2**256 - 1,
        price,
        taker,
        b"",
    )
    # the same kind of take again: the taker's collateral balance and the Backstop's stablecoin
    # balance exist now (the first take created them; the owner's refund still creates one)
    measure(
        "gas.take_whole_with_refund_later",
        eth.auction,
        "take",
        taker,
        sixth,
        2**256 - 1,
        price,
        taker,
        b"",
    )
    lot = auction.auctions[second].lot
    measure("gas.take_partial", eth.auction, "take", taker, second, lot // 3, price, taker, b"")
    # a second partial take of the same auction: its escrow balance exists now
    measure(
        "gas.take_partial_later", eth.auction, "take", taker, second, lot // 3, price, taker, b""
    )
    # 30 minutes on, the lot is worth less than the debt: buying all of it sells the auction out
    ls.set_next_block_time(ls.last_block_time + 1800)
    ls.transact(
        eth.oracle, "post", feeder, 1_400 * WAD
    )  # (any transaction: the clock moves with blocks)
    price = auction._price(auction.auctions[fourth])
    assert auction.auctions[fourth].lot * price < auction.auctions[fourth].debt
    measure("gas.take_whole", eth.auction, "take", taker, fourth, 2**256 - 1, price, taker, b"")
    flash = deploy_flash_taker(ls, d, "ETH-A", keeper)
    measure("gas.flash_take", flash, "take", keeper, third, 2**256 - 1, price, 0)
    # the same take sold on the outside venue (the lab's OutsideVenue, market: governance):
    # synced by the market at the start of the take's block, paying from the stablecoin the
    # taker deposited in it, as a run's driver does (docs/market.md)
    venue = ls.deploy("OutsideVenue", governance, eth.token, d.stablecoin, 18)
    ls.transact(d.engine, "allow", taker, d.stable_join)
    ls.transact(d.stable_join, "exit", taker, venue, 50_000 * WAD)
    on_venue = deploy_flash_taker(ls, d, "ETH-A", keeper, venue)
    num, root_v = Venue(VENUE_PARAMS, [VENUE_DEPTH]).coefficients(0)
    sync = (venue, "sync", governance, (0, num, root_v, 1_400 * WAD))
    take = (on_venue, "take", keeper, (seventh, 2**256 - 1, price, 0, True))
    measure_block("gas.flash_take_venue", [sync, take])
    fourth = fifth
    # past the auction's time limit, with a fresh oracle price to restart from
    ls.set_next_block_time(ls.last_block_time + eth.config.auction_max_duration)
    ls.transact(eth.oracle, "post", feeder, 1_400 * WAD)
    for _ in range(2):
        ls.set_next_block_time(ls.last_block_time + eth.config.oracle_delay)
        ls.transact(eth.oracle, "poke", feeder)
    measure("gas.reset_auction", eth.auction, "reset", keeper, fourth, keeper)
    # a liquidation whose auction takes the slot of a finished one (the first, taken above): its
    # three words are updated, not created, as in any deployment that has finished auctions
    measure(
        "gas.liquidate_reusing_slot",
        d.liquidator,
        "liquidate",
        keeper,
        eth.type_id,
        owners[53],
        keeper,
    )
    (started,) = [e.args["auction_id"] for e in model.last_events if e.name == "Started"]
    assert (
        started == (1 << SLOT_BITS | auction.auctions[started].position) + 1
    )  # a second generation
    return gas


def waterfall_gas(
    chain: EvmBackend, roles: list[str], observe: Observer | None = None
) -> dict[str, int]:
    """The loss waterfall on a fresh deployment: a stake and an unstake, then six vaults
    liquidated in a crash whose auctions sell out below their debt, and their losses covered by
    the insurance fund, by the stability pool (twice: its first charge, then a later one), by
    redistribution, by deleveraging (the cover that parks the loss, then its charge to four
    vaults) and by the debt-auction layer; then a debt auction, its first bid, and a surplus
    auction."""
    ls, model, d, gas, measure = _fresh(chain, roles, observe)
    governance, feeder, staker_a, staker_b, keeper, taker = roles[:6]
    eth = d.types["ETH-A"]
    engine = model.contract(d.engine)

    def warp(seconds: int) -> None:
        ls.set_next_block_time(ls.last_block_time + seconds)

    # stablecoin for everyone: vaults at a comfortable 300% ratio
    for user in (staker_a, staker_b, taker, governance):
        ls.transact(eth.token, "mint", governance, user, 1_000 * WAD)
        ls.transact(eth.token, "approve", user, eth.join, 2**256 - 1)
        ls.transact(eth.join, "join", user, user, 1_000 * WAD)
        ls.transact(
            d.engine,
            "modify_vault",
            user,
            eth.type_id,
            user,
            user,
            user,
            1_000 * WAD,
            600_000 * WAD,
        )
    for staker in (staker_a, staker_b):
        ls.transact(d.engine, "allow", staker, d.stability_pool)
    ls.transact(d.stability_pool, "stake", staker_a, 100_000 * RAD)
    measure("gas.stake", d.stability_pool, "stake", staker_b, 50_000 * RAD)
    # a stake becomes shares after the exposure delay, by its staker
    warp(model.contract(d.stability_pool).exposure_delay)
    ls.transact(d.stability_pool, "activate", staker_a)
    measure("gas.activate", d.stability_pool, "activate", staker_b)
    ls.transact(
        d.stability_pool,
        "request_withdrawal",
        staker_b,
        model.contract(d.stability_pool).shares[staker_b],
    )
    warp(load_config().waterfall.pool_cooldown)
    measure("gas.unstake", d.stability_pool, "withdraw", staker_b)

    # six vaults just under the line, a 30% crash, six liquidations
    owners = [to_checksum_address(f"0x{i:040x}") for i in range(0x2000, 0x2006)]
    ctype = engine.collateral_types[eth.type_id]
    debt = 10 * WAD * ctype.safe_price // ctype.rate * 99 // 100
    for owner in owners:
        ls.transact(eth.token, "mint", governance, governance, 10 * WAD)
        _owned_vault(ls, d, eth, governance, owner, debt)
    ls.transact(eth.oracle, "post", feeder, 1_400 * WAD)
    for _ in range(2):
        warp(eth.config.oracle_delay)
        ls.transact(eth.oracle, "poke", feeder)
    ls.transact(d.spotter, "poke", feeder, eth.type_id)
    ls.transact(d.liquidator, "liquidate_many", keeper, eth.type_id, owners, keeper)
    # the auctions fall until the lots are worth less than the debt, then sell out
    auction = model.contract(eth.auction)
    ids = list(auction.active)
    ls.transact(d.engine, "allow", taker, eth.auction)
    warp(2_700)
    ls.transact(eth.oracle, "post", feeder, 1_400 * WAD)
    for auction_id in ids:
        price = auction._price(auction.auctions[auction_id])
        ls.transact(eth.auction, "take", taker, auction_id, 2**256 - 1, price, taker, b"")
    backstop = model.contract(d.backstop)
    losses = [(eth.type_id, eth.auction, i) for i in ids]
    assert all(backstop.losses[key].status == 2 for key in losses), "the auctions must leave losses"
    # the proceeds of every auction finished so far (the takes above and these sell-outs) are
    # cancelled against the debt they covered in one transaction
    assert backstop.unsettled != 0
    measure("gas.heal", d.backstop, "heal", keeper)
    warp(load_config().backstop_queue_delay)
    # the insurance fund pays: give the Backstop surplus (a holder sends it stablecoin)
    ls.transact(d.engine, "transfer_stable", governance, governance, d.backstop, 100_000 * RAD)
    ls.transact(d.backstop, "set_waterfall", governance, [1])
    measure("gas.settle_bad_debt", d.backstop, "cover", keeper, *losses[0])
    ls.transact(d.backstop, "set_waterfall", governance, [2])
    measure("gas.cover_by_stability_pool", d.backstop, "cover", keeper, *losses[1])
    # the pool's second charge: its charge count and the Backstop's words exist by now
    measure("gas.cover_by_stability_pool_later", d.backstop, "cover", keeper, *losses[4])
    measure("gas.realize_one_charge", d.stability_pool, "realize", keeper, staker_a, 1)
    ls.transact(d.backstop, "set_waterfall", governance, [4])
    measure("gas.redistribute", d.backstop, "cover", keeper, *losses[2])
    # deleveraging: the layer parks the loss, and the keeper (granted the role) charges it to
    # the four comfortable vaults, ranked off chain, listed in ascending order
    ls.transact(d.backstop, "set_waterfall", governance, [6])
    measure("gas.cover_to_deleverage", d.backstop, "cover", keeper, *losses[5])
    ls.transact(d.backstop, "grant_role", governance, keeper, int(Role.DELEVERAGE))
    strong = sorted((staker_a, staker_b, taker, governance), key=lambda a: int(a, 16))
    # one share for all four, the due over their headroom (as one fraction charged them before
    # shares were per vault, issue 63), so that each is charged
    engine = model.contract(d.engine)
    view = deleverage_view_from_model(model, d.backstop, eth.type_id)
    vaults = [engine.vaults[(eth.type_id, o)] for o in strong]
    room = sum(vault_headroom(v.collateral, v.normalized_debt, view)[1] for v in vaults)
    shares = [(view.due - len(strong)) * WAD // room] * len(strong)
    measure(
        "gas.deleverage_4_vaults", d.backstop, "deleverage", keeper, eth.type_id, strong, shares
    )
    assert backstop.deleverage_due(eth.type_id) < RAD, "the strong vaults must absorb the loss"
    ls.transact(d.backstop, "set_waterfall", governance, [3])
    ls.transact(d.backstop, "cover", keeper, *losses[3])
    # a fund with no room for the debt (issue 63, finding 5: it would repay the debt first, and
    # start no auction): governance mints away the free surplus above the unattributed bad debt,
    # against the Backstop's bad debt
    room = backstop._free_surplus() - backstop.unattributed_debt()
    ls.transact(d.engine, "create_unbacked", governance, d.backstop, governance, room)
    measure("gas.debt_auction_start", d.backstop, "start_debt_auction", keeper)
    debt_auction = model.contract(d.debt_auction)
    lot = debt_auction.auctions[debt_auction.count][1]
    ls.transact(d.engine, "allow", taker, d.debt_auction)
    measure(
        "gas.debt_auction_bid",
        d.debt_auction,
        "bid",
        taker,
        debt_auction.count,
        lot * WAD // (105 * WAD // 100),
    )
    # surplus above the buffer: holders send the Backstop more stablecoin
    w = load_config().waterfall
    need = (
        engine.bad_debt[d.backstop] + w.surplus_buffer + w.surplus_lot - engine.stable[d.backstop]
    )
    if need > 0:
        ls.transact(d.engine, "transfer_stable", taker, taker, d.backstop, need)
    measure("gas.surplus_auction_start", d.backstop, "start_surplus_auction", keeper)
    return gas


def size_margin_gas(
    chain: EvmBackend, roles: list[str], observe: Observer | None = None
) -> dict[str, int]:
    """The size-aware margin (issue 35) on a fresh deployment: ETH-A's ratio rises 10% per
    further 2,500 BUSD above 2,500 (the dust: the engine refuses a threshold below it, issue
    45), at most 50%. A draw on a vault above the threshold (the safety check's extra
    arithmetic; an ordinary vault's draw is gas.adjust_vault), and the liquidation that cuts a
    vault unsafe by its size alone: 100 ETH against 75,000 BUSD, after governance raises the
    cap to 100%. Its least cure (about 19,800 BUSD, issue 45) is well above the dust: the cut
    is found by the full bisection (sizing.least_cure), its costliest path."""
    ls, model, d, gas, measure = _fresh(chain, roles, observe)
    governance, borrower, second, keeper = roles[0], roles[2], roles[3], roles[4]
    eth = d.types["ETH-A"]
    ls.transact(d.engine, "set_size_margin", governance, eth.type_id, 2_500, 100_000, 500_000)
    for user in (second, borrower):
        ls.transact(eth.token, "mint", governance, user, 100 * WAD)
        ls.transact(eth.token, "approve", user, eth.join, 2**256 - 1)
        ls.transact(eth.join, "join", user, user, 10 * WAD)
        ls.transact(
            d.engine, "modify_vault", user, eth.type_id, user, user, user, 10 * WAD, 5_000 * WAD
        )
    measure(
        "gas.adjust_vault_above_size_threshold",
        d.engine,
        "modify_vault",
        borrower,
        eth.type_id,
        borrower,
        borrower,
        borrower,
        0,
        2_500 * WAD,
    )
    # 100 ETH (133,333 of safe value) against 75,000 BUSD weighs 112,500 at +50%; at +100%,
    # 150,000 (151,500 with the cut's 1% spare)
    ls.transact(eth.join, "join", borrower, borrower, 90 * WAD)
    ls.transact(
        d.engine,
        "modify_vault",
        borrower,
        eth.type_id,
        borrower,
        borrower,
        borrower,
        90 * WAD,
        67_500 * WAD,
    )
    ls.transact(d.engine, "set_size_margin", governance, eth.type_id, 2_500, 100_000, 10**6)
    measure(
        "gas.liquidate_size_cut", d.liquidator, "liquidate", keeper, eth.type_id, borrower, keeper
    )
    vault = model.contract(d.engine).vaults[(eth.type_id, borrower)]
    assert 0 < vault.normalized_debt < 75_000 * WAD  # cut, not taken whole
    return gas


def size_cut_batch_gas(
    chain: EvmBackend, roles: list[str], observe: Observer | None = None
) -> dict[str, int]:
    """Size cuts in one `liquidate_many` (issue 63), per vault, on fresh deployments: the
    keepers size their batches with these (offchain/sim/strategies/gas_costs.py).

    - `gas.liquidate_many_per_size_cut`: issue 63's vaults, 20 of 60,000 BUSD at 1.139 x their
      debt in safe value, safe at the base ratio and short of their size requirement (1.14 x 1.01
      with the cut's spare) under docs/size-margin.md's margin (25,000 BUSD, +10% per further
      25,000, at most +50%): each cut found by a bisection over the vault's whole bracket (about
      65 halvings: its remainder lies below the knee, where the closed-form guess does not
      hold).
    - `gas.liquidate_many_per_widest_cut`: 5 vaults whose bisection halves a bracket of about
      2**103 wei of normalized debt (104 halvings; a size cut's widest, while the rate is at
      least 1 ray, is below 2**107: a wider one overflows its first probe's tab and reverts):
      2**103 wei of debt each, a threshold of 2e7 BUSD, +1 ppm per further threshold, at most
      +100%, each vault a hair short of its size requirement (its cure, about 1.7e11 BUSD with
      the cut's 1% spare, and four more fit the caps' room of 1e12 BUSD). Governance grants
      itself the engine's PRICE, CEILING and FEE_KINK roles to set the safe price, the ceilings
      such vaults need and no utilization fee (its debt x 1e18 / ceiling would overflow)."""
    gas: dict[str, int] = {}
    governance, keeper = roles[0], roles[4]
    # the figure, the batch's own name (its whole transaction, as the breakdown traces it), its
    # vaults
    for key, batch, count in (
        ("gas.liquidate_many_per_size_cut", "gas.liquidate_many_20_size_cuts", 20),
        ("gas.liquidate_many_per_widest_cut", "gas.liquidate_many_5_widest_cuts", 5),
    ):
        snapshot = chain.snapshot()
        ls, model, d, _, measure = _fresh(chain, roles, observe)
        eth = d.types["ETH-A"]
        engine = model.contract(d.engine)
        ls.transact(d.engine, "grant_role", governance, governance, int(Role.PRICE | Role.CEILING))
        ls.transact(d.engine, "set_global_debt_ceiling", governance, 2**250)
        ls.transact(d.engine, "set_debt_ceiling", governance, eth.type_id, 2**250)
        ls.transact(d.liquidator, "set_max_debt_in_auction", governance, 10**57)
        penalty = eth.config.liquidation_penalty
        ls.transact(
            d.liquidator, "configure_type", governance, eth.type_id, eth.auction, penalty, 10**57
        )
        if key == "gas.liquidate_many_per_size_cut":
            size, debt = (25_000, 100_000, 500_000), 60_000 * WAD
            # 10 collateral worth 1.139 x the debt at the safe price
            safe_price = debt * RAY * 1_139 // 1_000 // (10 * WAD)
        else:
            size, debt = (2 * 10**7, 1, 10**6), 2**103
            ls.transact(d.engine, "grant_role", governance, governance, int(Role.FEE_KINK))
            ls.transact(d.engine, "set_fee_kink", governance, eth.type_id, WAD)
            # value a hair short of the size requirement; the bracket as wide as the debt allows
            need = size_margin.margin_debt(debt * RAY, size_margin.pack(*size))
            safe_price = (need - need // 10**12) // (10 * WAD)
        ls.transact(d.engine, "set_safe_price", governance, eth.type_id, safe_price)
        owners = [to_checksum_address(f"0x{i:040x}") for i in range(0x3000, 0x3000 + count)]
        ls.transact(eth.token, "mint", governance, governance, count * 10 * WAD)
        ls.transact(eth.token, "approve", governance, eth.join, 2**256 - 1)
        for owner in owners:
            _owned_vault(ls, d, eth, governance, owner, debt)
        ls.transact(d.engine, "set_size_margin", governance, eth.type_id, *size)
        assert not any(engine.is_safe(eth.type_id, o) for o in owners)
        # each safe at the base ratio: a size cut, not a liquidation of the whole vault
        assert 10 * WAD * safe_price >= debt * engine.collateral_types[eth.type_id].rate
        total = measure(batch, d.liquidator, "liquidate_many", keeper, eth.type_id, owners, keeper)
        cut = [e for e in model.last_events if e.name == "Liquidated"]
        assert len(cut) == count and all(e.args["normalized_debt"] < debt for e in cut)
        gas[key] = total // count
        chain.revert_to(snapshot)
    return gas


def margin_call_gas(
    chain: EvmBackend, roles: list[str], observe: Observer | None = None
) -> dict[str, int]:
    """A called vault's soft liquidation (issue 35) on a fresh deployment: 10 ETH against 12,000
    BUSD (1.67, called below 1.5 x 1.2), its owner opted in and allowing the MarginCall; a keeper
    repays the least cure (about 2,051 BUSD, the most the contract accepts being that + 1 bp) from
    the stablecoin of its own WBTC vault, for about 1.05 ETH."""
    ls, model, d, gas, measure = _fresh(chain, roles, observe)
    governance, borrower, keeper = roles[0], roles[2], roles[4]
    eth, btc = d.types["ETH-A"], d.types["WBTC-A"]
    for user, t, debt in ((borrower, eth, 12_000 * WAD), (keeper, btc, 7_000 * WAD)):
        scale = 10 ** (18 - t.config.token_decimals)
        ls.transact(t.token, "mint", governance, user, 10 * WAD // scale)
        ls.transact(t.token, "approve", user, t.join, 2**256 - 1)
        ls.transact(t.join, "join", user, user, 10 * WAD // scale)
        ls.transact(d.engine, "modify_vault", user, t.type_id, user, user, user, 10 * WAD, debt)
        ls.transact(d.engine, "allow", user, d.margin_call)
    ls.transact(d.margin_call, "opt_in", borrower)
    margin_call = model.contract(d.margin_call)
    assert margin_call.is_called(eth.type_id, borrower)
    terms = margin_call_model.twin_terms(margin_call, eth.type_id)
    assert terms is not None
    cure = margin_call_model.least_cure(terms, 10 * WAD, 12_000 * WAD, 6_000 * WAD)
    assert cure is not None
    measure(
        "gas.soft_liquidate",
        d.margin_call,
        "soft_liquidate",
        keeper,
        eth.type_id,
        borrower,
        cure,
        0,
    )
    return gas


def _crashed_vaults(
    ls: Any, model: ModelBackend, d: Deployment, roles: list[str], count: int
) -> tuple[TypeDeployment, list[str], list[int]]:
    """`count` vaults of 10 ETH just under the line (owners 0x3000...), a 30% crash through the
    delayed oracle, each vault liquidated by the keeper (roles[4]); governance (roles[0]) holds
    a 1,000 ETH / 600,000 vault's stablecoin for takers and surplus. Returns the type, the
    owners and their auction ids."""
    governance, feeder, keeper = roles[0], roles[1], roles[4]
    eth = d.types["ETH-A"]
    engine = model.contract(d.engine)
    ls.transact(eth.token, "mint", governance, governance, 1_000 * WAD)
    ls.transact(eth.token, "approve", governance, eth.join, 2**256 - 1)
    ls.transact(eth.join, "join", governance, governance, 1_000 * WAD)
    ls.transact(
        d.engine,
        "modify_vault",
        governance,
        eth.type_id,
        governance,
        governance,
        governance,
        1_000 * WAD,
        600_000 * WAD,
    )
    owners: list[str] = [to_checksum_address(f"0x{i:040x}") for i in range(0x3000, 0x3000 + count)]
    ctype = engine.collateral_types[eth.type_id]
    debt = 10 * WAD * ctype.safe_price // ctype.rate * 99 // 100
    for owner in owners:
        ls.transact(eth.token, "mint", governance, governance, 10 * WAD)
        _owned_vault(ls, d, eth, governance, owner, debt)
    ls.transact(eth.oracle, "post", feeder, 1_400 * WAD)
    for _ in range(2):
        ls.set_next_block_time(ls.last_block_time + eth.config.oracle_delay)
        ls.transact(eth.oracle, "poke", feeder)
    ls.transact(d.spotter, "poke", feeder, eth.type_id)
    ids = []
    for owner in owners:
        ls.transact(d.liquidator, "liquidate", keeper, eth.type_id, owner, keeper)
        (started,) = [e.args["auction_id"] for e in model.last_events if e.name == "Started"]
        ids.append(started)
    return eth, owners, ids


def debt_repayment_gas(
    chain: EvmBackend, roles: list[str], observe: Observer | None = None
) -> dict[str, int]:
    """The debt-auction layer's debt repaid from surplus (issue 63, finding 5) on a fresh
    deployment: two auctions sell out below their debt and the losses go to the debt-auction
    layer one after the other. The first is put on auction with no surplus, then surplus arrives
    and ends that auction (`DebtAuction.repay`); the second finds surplus already there and
    `start_debt_auction` repays it whole, starting no auction."""
    ls, model, d, gas, measure = _fresh(chain, roles, observe)
    governance, keeper = roles[0], roles[4]
    eth, _, ids = _crashed_vaults(ls, model, d, roles, 2)
    backstop = model.contract(d.backstop)
    auction = model.contract(eth.auction)
    ls.transact(d.engine, "allow", governance, eth.auction)
    ls.set_next_block_time(ls.last_block_time + 2_700)
    for auction_id in ids:
        price = auction._price(auction.auctions[auction_id])
        ls.transact(eth.auction, "take", governance, auction_id, 2**256 - 1, price, governance, b"")
    ls.transact(d.backstop, "heal", keeper)
    ls.set_next_block_time(ls.last_block_time + load_config().backstop_queue_delay)
    ls.transact(d.backstop, "set_waterfall", governance, [3])

    def surplus_to(room: int) -> None:
        # a holder sends the Backstop what its room for the debt lacks of `room`
        missing = room - (backstop._free_surplus() - backstop.unattributed_debt())
        ls.transact(d.engine, "transfer_stable", governance, governance, d.backstop, missing)

    ls.transact(d.backstop, "cover", keeper, eth.type_id, eth.auction, ids[0])
    ls.transact(d.backstop, "start_debt_auction", keeper)
    debt_auction = model.contract(d.debt_auction)
    surplus_to(debt_auction.auctions[debt_auction.count].bid)
    measure("gas.debt_auction_repay", d.debt_auction, "repay", keeper, debt_auction.count)
    ls.transact(d.backstop, "cover", keeper, eth.type_id, eth.auction, ids[1])
    surplus_to(backstop.debt_to_auction)
    measure("gas.debt_auction_start_repaid", d.backstop, "start_debt_auction", keeper)
    assert backstop.debt_to_auction == 0 and debt_auction.running == 0
    return gas


def settlement_gas(
    chain: EvmBackend, roles: list[str], observe: Observer | None = None
) -> dict[str, int]:
    """Global settlement's cancel of an auction running at shutdown (issue 63, finding 4) on a
    fresh deployment: a vault liquidated in a 30% crash, shutdown, the final price (the crash
    price, posted again so it is fresh) fixed, and the auction cancelled: its lot (10 ETH at
    1,400) is worth less than its tab (about 14,900), so the owner re-owes the lot's worth."""
    ls, model, d, gas, measure = _fresh(chain, roles, observe)
    governance, feeder, keeper = roles[0], roles[1], roles[4]
    eth, _, ids = _crashed_vaults(ls, model, d, roles, 1)
    ls.transact(eth.oracle, "post", feeder, 1_400 * WAD)
    ls.transact(d.settlement, "shutdown", governance)
    ls.transact(d.settlement, "fix_price", keeper, eth.type_id)
    measure(
        "gas.cancel_auction",
        d.settlement,
        "cancel_auction",
        keeper,
        eth.type_id,
        eth.auction,
        ids[0],
    )
    return gas


def timelock_gas(
    chain: EvmBackend, roles: list[str], observe: Observer | None = None
) -> dict[str, int]:
    """Governance's queue (issue 66) beside a fresh deployment: a Timelock (a 2-day delay,
    governance its proposer, roles[5] its guardian) made an admin of the Liquidator and the
    Backstop; a proposal of two calls (ETH-A's liquidation penalty from 1.13 to 1.15, the
    waterfall's first two layers swapped) queued, executed two days later, and a second proposal
    (the same calls) cancelled."""
    ls, model, d, gas, measure = _fresh(chain, roles, observe)
    governance = roles[0]
    eth = d.types["ETH-A"]
    timelock = ls.deploy(
        "Timelock", governance, governance, roles[5], 2 * 86_400, 7 * 86_400, d.settlement
    )
    for address in (d.liquidator, d.backstop):
        ls.transact(address, "add_authority", governance, timelock)
    config = model.contract(d.liquidator).types[eth.type_id]
    order = list(model.contract(d.backstop).waterfall)
    calls = [
        (
            d.liquidator,
            chain.calldata(
                d.liquidator,
                "configure_type",
                eth.type_id,
                config.auction,
                config.penalty + WAD // 50,
                config.max_debt_in_auction,
            ),
        ),
        (d.backstop, chain.calldata(d.backstop, "set_waterfall", order[1::-1] + order[2:])),
    ]
    measure("gas.timelock_propose", timelock, "propose", governance, calls)
    ls.transact(timelock, "propose", governance, calls)
    measure("gas.timelock_cancel", timelock, "cancel", governance, 2)
    ls.set_next_block_time(ls.last_block_time + 2 * 86_400)
    measure("gas.timelock_execute", timelock, "execute", governance, 1, calls)
    return gas


def all_gas_figures(
    chain: EvmBackend, roles: list[str], observe: Observer | None = None
) -> dict[str, int]:
    """Every gas figure: each group on its own fresh deployment, the chain reverted after it."""
    gas: dict[str, int] = {}
    for group in (
        gas_figures,
        liquidation_gas,
        waterfall_gas,
        size_margin_gas,
        size_cut_batch_gas,
        margin_call_gas,
        debt_repayment_gas,
        settlement_gas,
        timelock_gas,
    ):
        snapshot = chain.snapshot()
        gas.update(group(chain, roles, observe))
        chain.revert_to(snapshot)
    return gas


def _owned_vault(
    ls: Any, d: Deployment, eth: TypeDeployment, governance: str, owner: str, debt: int
) -> None:
    """A vault of 10 collateral and `debt` for `owner`, from governance's minted tokens: joined
    and drawn by governance, then moved to the owner (seized by governance, an admin, and given
    back as the owner's)."""
    ls.transact(eth.join, "join", governance, governance, 10 * WAD)
    ls.transact(
        d.engine,
        "modify_vault",
        governance,
        eth.type_id,
        governance,
        governance,
        governance,
        10 * WAD,
        debt,
    )
    for holder, sign in ((governance, -1), (owner, 1)):
        ls.transact(
            d.engine,
            "seize",
            governance,
            eth.type_id,
            holder,
            governance,
            governance,
            sign * 10 * WAD,
            sign * debt,
        )
