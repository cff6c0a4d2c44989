"""The outside security review's findings (issue 13; docs/security.md): one named regression test
per finding, `test_finding_NN__<the attack>__<why it no longer works>`, each running the attack's
scenario on chain and in the model at once (the `system` fixture: Anvil in lockstep with the model,
states compared after the test; finding 11 also on revm, where running 1,027 auctions is fast).
Each docstring gives the attack in two lines; the assertions say, with numbers, why it no longer
pays. A finding with several aspects runs each as a parametrized case of its one test. Every
transaction also goes through the economic checks (offchain/testing/economics/).

Would each test have caught its flaw? docs/security.md, "Failing before the fix": with each flaw
put back in the contract and its twin alike (a scratch copy, the harness's economic checks off),
the test of every fixed finding fails; aspects the old interface cannot express (a function or
argument that did not exist) are reasoned there from the fix's commit. Finding 8 is not fixed
(docs/security.md says why): its test shows that the shipped waterfall leaves the repayment nothing
to escape, and pins the exposure that remains when governance puts redistribution first."""

from __future__ import annotations

import tomllib

import pytest
from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address
from helpers import revm_system, started_auction, storage_slot, vaults_at

from offchain.backends import (
    ChainBackend,
    RpcError,
)
from offchain.model.backstop import FUND, POOL
from offchain.model.dutch_auction import (
    MAX_ACTIVE,
    PAGE,
    RUNNING_WORDS,
    SLOT_BITS,
    every_running,
)
from offchain.model.errors import Revert
from offchain.model.fixed_point import MAX_UINT256, RAD, RAY, WAD, div_up, rmul_up, rpow_up
from offchain.model.state import ZERO_ADDRESS, Role
from offchain.sim.strategies.keepers import (
    AuctionView,
    BackstopParams,
    BackstopView,
    PoolView,
    TakerParams,
    VaultIndex,
    backstop_actions,
    liquidation_actions,
    taker_actions,
)
from offchain.system.config import DEFAULT_CONFIG, ConfigError, parse_config
from offchain.system.deployment import deploy_flash_taker, seed_pool
from offchain.system.invariants import model_invariants
from offchain.testing.fuzz import Artifacts
from offchain.testing.harness import events as _events
from offchain.testing.harness import move_prices, read, reverts

DAY = 86_400
ETH, WBTC = "ETH-A", "WBTC-A"
# config/devnet.toml
COOLDOWN = 604_800
EXIT_WINDOW = 259_200
ORACLE_DELAY = 3_600
QUEUE_DELAY = 3_600
SETTLEMENT_WAIT = 86_400
# offchain/system/deployment.py: three oracle delays
EXPOSURE_DELAY = 3 * ORACLE_DELAY
# contracts/StabilityPool.vy: 1 stablecoin at the first price
MIN_SHARES = 10**45
# the Backstop's layers (contracts/Backstop.vy)
DEBT_AUCTION, REDISTRIBUTION = 3, 4
# the ETH price at which docs/security.md sets the dust from gas economics [BUSD]
GAS_ETH_PRICE = 2_000


def _stable(system, who) -> int:
    return read(system, system.d.engine, "stable", who)


def _ctype(system, t) -> tuple:
    """(normalized_debt [wad], rate [ray], safe_price [ray], debt_ceiling [rad], dust [rad])."""
    return read(system, system.d.engine, "collateral_types", t.type_id)


def _liquidate(system, t, owner) -> int:
    """The keeper liquidates `owner`'s vault of `t`; returns the auction's id."""
    r = system.roles
    system.tx(system.d.liquidator, "liquidate", r.keeper, t.type_id, owner, r.keeper)
    return started_auction(system, t.auction)


def holdings_value(system, actor: str, t, market_price: int) -> int:
    """What `actor` owns, in rad of stablecoin: internal stable + ERC-20 stable + collateral
    (ERC-20 tokens, free in the engine, locked in its vault) at `market_price` [wad] - its vault
    debt (normalized debt x rate). An attacker's value must not rise: value_after <=
    value_before."""
    d = system.d
    scale = 10 ** (18 - t.config.token_decimals)
    stable = _stable(system, actor) + read(system, d.stablecoin, "balanceOf", actor) * RAY
    tokens = read(system, t.token, "balanceOf", actor) * scale
    free = read(system, d.engine, "collateral", t.type_id, actor)
    locked, normalized_debt = read(system, d.engine, "vaults", t.type_id, actor)
    rate = _ctype(system, t)[1]
    # wad x wad = 1e36; x 1e9 = rad
    return stable + (tokens + free + locked) * market_price * 10**9 - normalized_debt * rate


# ================================================================ 1: self-liquidation farming


def _f01_farming(system, reviewed_dust: bool) -> None:
    """Three cycles of the attack: each reward > 0 and <= the auction's penalty income, the
    attacker's holdings at the market price do not rise, and the unattributed bad debt created is
    exactly the rewards, at most the penalty income."""
    r, t, d = system.roles, system.eth, system.d
    if reviewed_dust:  # the reviewed configuration (reward 300 + 0.1% > penalty income 13)
        system.tx(d.engine, "set_dust", r.governance, t.type_id, 100 * RAD)
    attacker = r.other
    penalty = t.config.liquidation_penalty
    market = 2_000 * WAD
    # the attacker's capital: 3 ETH and 1,000 BUSD (to pay the tab above what it drew + the reward)
    system.fund(attacker, ETH, 3 * WAD)
    system.tx(d.engine, "create_unbacked", r.governance, r.governance, attacker, 1_000 * RAD)
    system.tx(d.engine, "allow", attacker, t.auction)
    before = holdings_value(system, attacker, t, market)
    unattributed_0 = read(system, d.backstop, "unattributed_debt")
    income_total = rewards = 0
    for _ in range(3):
        _, rate, spot, _, dust = _ctype(system, t)
        # the smallest vault allowed, exactly at the liquidation limit: collateral x spot ~ debt
        normalized = -(-dust // rate)
        collateral = -(-normalized * rate // spot)
        system.tx(
            d.engine,
            "modify_vault",
            attacker,
            t.type_id,
            attacker,
            attacker,
            attacker,
            collateral,
            normalized,
        )
        system.warp(1)
        system.tx(d.fees, "accrue", attacker, t.type_id)
        stable_0 = _stable(system, attacker)
        system.tx(d.liquidator, "liquidate", attacker, t.type_id, attacker, attacker)
        reward = _stable(system, attacker) - stable_0
        auction_id = started_auction(system, t.auction)
        debt = read(system, t.auction, "auctions", auction_id)[1]
        income = debt - -(-debt * WAD // penalty)
        # the old contract paid 300 + 0.1% here, against an income of 13 at dust 100
        assert 0 < reward <= income
        income_total += income
        rewards += reward
        # buy the whole lot back at once: the rest of the collateral returns to the attacker
        system.tx(t.auction, "take", attacker, auction_id, 2**128 - 1, 2**255, attacker, b"")
        assert read(system, t.auction, "active_count") == 0
    after = holdings_value(system, attacker, t, market)
    assert after <= before
    # the rewards are the only unattributed bad debt created, and never above the penalty income
    assert read(system, d.backstop, "unattributed_debt") - unattributed_0 == rewards <= income_total
    if reviewed_dust:
        # the config loader refuses the reviewed file's combination, naming the parameter and bound
        data = tomllib.loads(DEFAULT_CONFIG.read_text())
        for table in data["collateral"]:
            table["dust"] = "100"
        with pytest.raises(ConfigError, match=r"keeper_reward_flat: .* \(dust x \(penalty - 1\)"):
            parse_config(data, "reviewed")
    else:
        # the shipped dust, from gas economics (finding 13): its income covers the whole reward
        assert t.config.dust == 2_500 * RAD


def _f01_resets(system) -> None:
    """12 resets of a self-liquidated auction nobody takes pay rewards until the auction's budget
    (its penalty income at the start) is spent, then nothing."""
    r, t, d = system.roles, system.eth, system.d
    attacker, penalty = r.other, t.config.liquidation_penalty
    system.open_vault(attacker, ETH, 20 * WAD, 20_000 * WAD)
    move_prices(system, [(t, 1_400 * WAD)])
    unattributed_0 = read(system, d.backstop, "unattributed_debt")
    system.tx(d.liquidator, "liquidate", attacker, t.type_id, attacker, attacker)
    auction_id = started_auction(system, t.auction)
    debt = read(system, t.auction, "auctions", auction_id)[1]
    income = debt - div_up(debt * WAD, penalty)
    rewards = [e.args["reward"] for e in system.events if e.name == "Started"]
    for _ in range(12):  # nobody takes; the attacker resets at every chance
        move_prices(system, [(t, 1_400 * WAD)])  # a fresh price, so that resets can start
        started = read(system, t.auction, "auctions", auction_id)[4]
        due = started + t.config.auction_max_duration
        system.lockstep.set_next_block_time(max(due, system.now + 1))
        system.tx(t.auction, "reset", attacker, auction_id, attacker)
        rewards += [e.args["reward"] for e in system.events if e.name == "Reset"]
        # each payment within the penalty income of the debt still to raise (unchanged: no take)
        assert rewards[-1] <= income
    flat_and_rate = t.config.keeper_reward_flat + debt * t.config.keeper_reward_rate // WAD
    assert rewards[0] == flat_and_rate  # the start pays in full
    # 13 payments of 322 would be 4,189: above the 2,600 the auction earns; the budget stops them
    assert flat_and_rate * 13 > income
    assert sum(rewards) <= income
    assert rewards[-1] == 0, rewards
    # the rewards are exactly the new unattributed bad debt, owed by nothing but the penalty
    assert read(system, d.backstop, "unattributed_debt") - unattributed_0 == sum(rewards)


def _f01_after_shutdown(system) -> None:
    """After global settlement a due reset pays no reward (the old code: 300 + 0.1% of the
    debt, new unbacked stablecoin)."""
    r, t, d = system.roles, system.eth, system.d
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    move_prices(system, [(t, 1_500 * WAD)])
    auction_id = _liquidate(system, t, r.borrower)
    started = read(system, t.auction, "auctions", auction_id)[4]
    system.tx(d.settlement, "shutdown", r.governance)
    assert read(system, d.liquidator, "live") is False
    # a fresh price (posted now, current after two pokes), then past max_duration: the reset is due
    system.tx(t.oracle, "post", r.feeder, 1_500 * WAD)
    for _ in range(2):
        system.warp(t.config.oracle_delay)
        system.tx(t.oracle, "poke", r.keeper)
    due = started + t.config.auction_max_duration + 1
    system.lockstep.set_next_block_time(max(due, system.now + 1))
    keeper_0 = _stable(system, r.keeper)
    unattributed_0 = read(system, d.backstop, "unattributed_debt")
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    assert [e.args["reward"] for e in system.events if e.name == "Reset"] == [0]
    assert _stable(system, r.keeper) == keeper_0
    assert read(system, d.backstop, "unattributed_debt") == unattributed_0


@pytest.mark.parametrize(
    "aspect", ["reviewed-dust-100", "devnet-dust", "resets", "reset-after-shutdown"]
)
def test_finding_01__self_liquidation_farming__no_reward_above_the_penalty_income(system, aspect):
    """Attack: open a minimum vault at the liquidation limit, accrue 1 s of fees, liquidate it as
    its own keeper and buy the lot back; reward 300 + 0.1% > penalty 13: +287 a cycle, unbounded."""
    if aspect == "resets":
        _f01_resets(system)
    elif aspect == "reset-after-shutdown":
        _f01_after_shutdown(system)
    else:
        _f01_farming(system, reviewed_dust=aspect == "reviewed-dust-100")


# ================================================================ 2, 3, 4: the stability pool
# The loss used: a 10 ETH / 13,000 BUSD vault is liquidated after ETH falls from 2,000 to 1,000
# and its whole lot is bought at the auction's top, 1,200: the pool (the insurance fund is empty)
# pays L = 13,000 x rate - 12,000, about 1,000 BUSD.
VAULT_DEBT = 13_000 * WAD
SOLD_FOR = 12_000 * RAD


def _pool(system, getter, *args):
    return read(system, system.d.stability_pool, getter, *args)


def _staker(system, who, draw: int = 12_000) -> None:
    """`who` locks 30 ETH, draws `draw` BUSD (safe after a crash to 1,000) and allows the pool."""
    system.open_vault(who, ETH, 30 * WAD, draw * WAD)
    system.tx(system.d.engine, "allow", who, system.d.stability_pool)


def _stake(system, who, amount: int) -> None:
    """Stake, wait out the exposure delay, activate: `amount` becomes shares."""
    system.tx(system.d.stability_pool, "stake", who, amount)
    system.warp(EXPOSURE_DELAY)
    system.tx(system.d.stability_pool, "activate", who)


def _borrower_and_buyer(system) -> None:
    """The borrower's 10 ETH / 13,000 vault (liquidatable below ETH 1,950) and the keeper's capital
    to buy its lot."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, ETH, 10 * WAD, VAULT_DEBT)
    system.open_vault(r.keeper, ETH, 20 * WAD, 12_000 * WAD)
    system.tx(system.d.engine, "allow", r.keeper, t.auction)


def _liquidate_and_sell_out(system) -> tuple[int, int]:
    """The keeper liquidates the borrower and buys the whole lot at the top (1,200): the loss
    event closes with L, waiting for cover. Returns (auction id, L)."""
    r, t, d = system.roles, system.eth, system.d
    auction_id = _liquidate(system, t, r.borrower)
    _, _, lot, _, _, top = read(system, t.auction, "auctions", auction_id)[:6]
    assert (lot, top) == (10 * WAD, 1_200 * RAY)
    system.tx(t.auction, "take", r.keeper, auction_id, lot, top, r.keeper, b"")
    rate = _ctype(system, t)[1]
    loss = VAULT_DEBT * rate - SOLD_FOR
    assert read(system, d.backstop, "losses", t.type_id, t.auction, auction_id)[1] == loss
    assert read(system, d.backstop, "open_losses") == 1
    return auction_id, loss


def _cover(system, auction_id: int) -> None:
    t = system.eth
    system.tx(system.d.backstop, "cover", system.roles.keeper, t.type_id, t.auction, auction_id)


def _realize(system, staker) -> list[int]:
    """Realize `staker`'s charges; the amounts of its StakerCharged receipts."""
    p = system.d.stability_pool
    system.tx(p, "realize", system.roles.keeper, staker, 10)
    return [args["amount"] for _, name, args in _events(system) if name == "StakerCharged"]


def _at_least(system, timestamp: int) -> None:
    """Move the next block to `timestamp` if it is still ahead."""
    if timestamp > system.now:
        system.lockstep.set_next_block_time(timestamp)


def _f02_request_at_the_post(system) -> None:
    """With the cooldown cut to a minute, A asks to leave when the crash is posted: the old pool
    paid its whole 5,000 a minute later; now the request stays exposed for the exposure delay and
    A pays exactly half of L."""
    r, d, t, p = system.roles, system.d, system.eth, system.d.stability_pool
    a, b = r.other, r.stranger
    for who in (a, b):
        _staker(system, who)
        _stake(system, who, 5_000 * RAD)
    _borrower_and_buyer(system)
    # governance shortens the cooldown to a minute
    system.tx(p, "set_cooldown", r.governance, 60)
    a_start = _stable(system, a)

    # the crash is on chain (posted, not yet in effect); A asks for everything back at once
    system.tx(t.oracle, "post", r.feeder, 1_000 * WAD)
    system.tx(p, "request_withdrawal", a, 5_000 * RAD)
    requested_at = system.now
    system.warp(60)
    with reverts("pool: cooling down"):  # the old pool paid A 5,000 here
        system.tx(p, "withdraw", a)

    # the price takes effect two oracle delays after the post; the vault is liquidated
    for _ in range(2):
        system.warp(ORACLE_DELAY)
        system.tx(t.oracle, "poke", r.keeper)
    system.tx(d.spotter, "poke", r.keeper, t.type_id)
    auction_id, loss = _liquidate_and_sell_out(system)
    assert read(system, d.backstop, "loss_opened_at", 1) <= requested_at + EXPOSURE_DELAY
    _at_least(system, requested_at + EXPOSURE_DELAY)
    with reverts("pool: exposed to open losses"):
        system.tx(p, "withdraw", a)

    # cover: the pool pays L, A and B half each
    _at_least(system, read(system, d.backstop, "loss_opened_at", 1) + QUEUE_DELAY)
    # the fund is empty: the Backstop's stablecoin is the sale's proceeds, owed to the seized debt
    assert _stable(system, d.backstop) == read(system, d.backstop, "unsettled_proceeds") > 0
    _cover(system, auction_id)
    a_charge, b_charge = _realize(system, a)[0], _realize(system, b)[0]
    assert a_charge == loss // 2 and a_charge + b_charge == loss
    system.tx(p, "withdraw", a)
    assert _stable(system, a) == a_start + 5_000 * RAD - a_charge
    assert _pool(system, "value_of", b) == 5_000 * RAD - b_charge


def _f02_request_earns_nothing(system) -> None:
    """A matured request kept open no longer earns: the withdrawal pays the shares' value at the
    request, and the week of fee income on them goes to the Backstop (IncomeForfeited), not to B;
    a request can be carried out at the last second of its exit window and lapses the second
    after."""
    r, d, t, p = system.roles, system.d, system.eth, system.d.stability_pool
    a, b = r.other, r.stranger
    for who in (a, b):
        _staker(system, who)
        _stake(system, who, 5_000 * RAD)
    system.tx(d.fees, "accrue", r.keeper, t.type_id)
    a_value = _pool(system, "value_of", a)
    system.tx(p, "request_withdrawal", a, _pool(system, "shares", a))
    assert _pool(system, "withdrawal_value", a) == a_value
    requested_at = system.now

    # a week of fees: the pool's share raises every share's value
    system.warp(COOLDOWN)
    system.tx(d.fees, "accrue", r.keeper, t.type_id)
    income = [args for _, name, args in _events(system) if name == "IncomeAdded"]
    assert income and income[0]["amount"] > 0
    assert _pool(system, "value_of", a) > a_value
    a_start, backstop_start = _stable(system, a), _stable(system, d.backstop)
    a_now = _pool(system, "value_of", a)
    b_before = _pool(system, "value_of", b)
    system.tx(p, "withdraw", a)
    # A gets its value at the request; the week's income on A's shares goes to the Backstop
    assert _stable(system, a) == a_start + a_value
    assert [args for _, name, args in _events(system) if name == "IncomeForfeited"] == [
        {"staker": a, "amount": a_now - a_value}
    ]
    assert _stable(system, d.backstop) == backstop_start + a_now - a_value
    # B's value is what it was (A's value now left the assets whole, rounded down: B may gain
    # the rounding, less than one wei of stablecoin)
    assert b_before <= _pool(system, "value_of", b) <= b_before + RAY
    assert _pool(system, "staker_count") == 1

    # B's request can be carried out at the last second of its exit window (here for part of
    # B's shares) and lapses the second after
    b_shares = _pool(system, "shares", b)
    system.tx(p, "request_withdrawal", b, b_shares // 2)
    b_at = system.now
    system.lockstep.set_next_block_time(b_at + COOLDOWN + EXIT_WINDOW)
    system.tx(p, "withdraw", b)
    assert _pool(system, "shares", b) == b_shares - b_shares // 2
    system.tx(p, "request_withdrawal", b, _pool(system, "shares", b))
    b_at = system.now
    system.lockstep.set_next_block_time(b_at + COOLDOWN + EXIT_WINDOW + 1)
    with reverts("pool: request lapsed"):
        system.tx(p, "withdraw", b)
    assert requested_at < b_at


@pytest.mark.parametrize("aspect", ["request-when-the-crash-is-posted", "request-earns-nothing"])
def test_finding_02__pool_exit_before_a_posted_crash__the_request_still_pays_its_share(
    system, aspect
):
    """Attack: a staker with a matured (or short) withdrawal request sees the crash queued in the
    delayed oracle and leaves before the liquidation opens the loss; the others pay its part."""
    if aspect == "request-when-the-crash-is-posted":
        _f02_request_at_the_post(system)
    else:
        _f02_request_earns_nothing(system)


def _f03_dust_donation_foreign_activation(system) -> None:
    """The 1 wei activation reverts, the donation is not assets, nobody else can activate the
    victim, whose 10,000 are worth 10,000 (the old pool: 7,500)."""
    r, d, p = system.roles, system.d, system.d.stability_pool
    attacker, victim = r.stranger, r.other
    for who in (attacker, victim):
        _staker(system, who, draw=15_000)
    system.tx(p, "stake", attacker, 1)
    system.warp(EXPOSURE_DELAY)
    with reverts("pool: below minimum shares"):
        system.tx(p, "activate", attacker)
    system.tx(p, "cancel_pending", attacker)
    _stake(system, attacker, MIN_SHARES)
    assert _pool(system, "total_shares") == _pool(system, "assets") == MIN_SHARES

    # the donation: stablecoin sent to the pool is nobody's, and only the FeeAccumulator (or
    # governance) may report income
    system.tx(d.engine, "transfer_stable", attacker, attacker, p, 10_000 * RAD)
    assert _pool(system, "assets") == MIN_SHARES
    with reverts("authorized: not authorized"):
        system.tx(p, "add_income", attacker, 10_000 * RAD)

    # the victim stakes; the attacker cannot activate it (activate is the caller's own stake)
    system.tx(p, "stake", victim, 10_000 * RAD)
    system.warp(EXPOSURE_DELAY)
    with reverts("pool: no pending"):
        system.tx(p, "activate", attacker)
    system.tx(p, "activate", victim)
    assert _pool(system, "shares", victim) == 10_000 * RAD
    assert _pool(system, "value_of", victim) == 10_000 * RAD
    assert _pool(system, "value_of", attacker) == MIN_SHARES
    # the donation sits in the pool, counted by nobody
    assert _stable(system, p) - _pool(system, "assets") - _pool(system, "pending_total") == (
        10_000 * RAD
    )


def _f03_dust_shares_left(system) -> None:
    """The other ways to a dust holder: a withdrawal leaving fewer than MIN_SHARES reverts;
    leaving MIN_SHARES or none is allowed; and a small stake activated while a request for all
    the shares is pending reverts (the withdrawal would leave it alone, below MIN_SHARES: the
    campaign found that way)."""
    r, p = system.roles, system.d.stability_pool
    _staker(system, r.other)
    _stake(system, r.other, 5_000 * RAD)
    with reverts("pool: below minimum shares"):
        system.tx(p, "request_withdrawal", r.other, 5_000 * RAD - MIN_SHARES + 1)
    system.tx(p, "request_withdrawal", r.other, 5_000 * RAD - MIN_SHARES)
    system.tx(p, "request_withdrawal", r.other, 5_000 * RAD)
    system.tx(p, "stake", r.other, MIN_SHARES // 2)
    system.warp(EXPOSURE_DELAY)
    with reverts("pool: below minimum shares"):
        system.tx(p, "activate", r.other)


@pytest.mark.parametrize("aspect", ["dust-stake-donation-foreign-activation", "dust-shares-left"])
def test_finding_03__first_stake_share_inflation__the_victim_keeps_its_whole_stake(system, aspect):
    """Attack: stake 1 wei first, donate to the pool so a share is worth thousands, then activate
    the victim's pending 10,000 so it rounds down to few shares: 2,500 of the 10,000 taken."""
    if aspect == "dust-stake-donation-foreign-activation":
        _f03_dust_donation_foreign_activation(system)
    else:
        _f03_dust_shares_left(system)


def _f04_matured_exit_during_a_loss(system) -> None:
    """A, matured before the crash, leaves with its 5,000 while the loss is open (the old pool:
    "pool: losses open"); B, who asks after the liquidation, waits for that loss and pays it."""
    r, d, t, p = system.roles, system.d, system.eth, system.d.stability_pool
    a, b = r.other, r.stranger
    for who in (a, b):
        _staker(system, who)
        _stake(system, who, 5_000 * RAD)
    _borrower_and_buyer(system)
    system.tx(p, "request_withdrawal", a, 5_000 * RAD)
    system.warp(COOLDOWN)

    move_prices(system, [(t, 1_000 * WAD)])
    auction_id, loss = _liquidate_and_sell_out(system)
    a_start = _stable(system, a)
    system.tx(p, "withdraw", a)  # the old pool: "pool: losses open"
    assert _stable(system, a) == a_start + 5_000 * RAD
    assert read(system, d.backstop, "open_losses") == 1

    system.tx(p, "request_withdrawal", b, 5_000 * RAD)
    system.warp(COOLDOWN)
    with reverts("pool: exposed to open losses"):
        system.tx(p, "withdraw", b)
    _cover(system, auction_id)
    assert _realize(system, b) == [loss]
    b_start = _stable(system, b)
    system.tx(p, "withdraw", b)
    assert _stable(system, b) == b_start + 5_000 * RAD - loss


def _f04_losses_finished_out_of_order(system) -> None:
    """The exposure rule reads the Backstop's first not-done loss number: when the second of two
    losses finishes first, the first still holds exits that matured after it opened
    (`losses_done_before` answers per event time), and first_open_loss jumps past both once the
    first finishes; nothing else holds an exit."""
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.borrower, ETH, 10 * WAD, VAULT_DEBT)
    system.open_vault(r.stranger, ETH, 10 * WAD, VAULT_DEBT)
    system.open_vault(r.keeper, ETH, 40 * WAD, 24_000 * WAD)
    system.tx(d.engine, "allow", r.keeper, t.auction)
    move_prices(system, [(t, 1_000 * WAD)])
    for owner in (r.borrower, r.stranger):
        _liquidate(system, t, owner)
    first_at = read(system, d.backstop, "loss_opened_at", 1)
    counters = (read(system, d.backstop, "loss_count"), read(system, d.backstop, "first_open_loss"))
    assert counters == (2, 1)
    # the second auction sells out (loss closed) and is covered: done
    _, _, lot, _, _, top = read(system, t.auction, "auctions", 2)[:6]
    system.tx(t.auction, "take", r.keeper, 2, lot, top, r.keeper, b"")
    system.warp(QUEUE_DELAY)
    _cover(system, 2)
    assert read(system, d.backstop, "loss_done", 2)
    assert not read(system, d.backstop, "loss_done", 1)
    assert read(system, d.backstop, "first_open_loss") == 1
    assert read(system, d.backstop, "losses_done_before", first_at - 1)
    assert not read(system, d.backstop, "losses_done_before", first_at)
    # the first finishes: the pointer moves past both
    _, _, lot, _, _, top = read(system, t.auction, "auctions", 1)[:6]
    system.tx(t.auction, "take", r.keeper, 1, lot, top, r.keeper, b"")
    _cover(system, 1)
    assert read(system, d.backstop, "first_open_loss") == 3
    assert read(system, d.backstop, "losses_done_before", system.now)
    # nothing left to pass: advancing by hand changes nothing
    system.tx(d.backstop, "advance_open_losses", r.keeper, 5)
    assert read(system, d.backstop, "first_open_loss") == 3


@pytest.mark.parametrize("aspect", ["matured-exit-during-a-loss", "losses-finished-out-of-order"])
def test_finding_04__back_to_back_liquidations__no_longer_freeze_every_pool_exit(system, aspect):
    """Attack: keep some auction running at all times (back-to-back small liquidations): the
    global `open_losses > 0` gate then blocked every stake and exit (48 of 48 over a day)."""
    if aspect == "matured-exit-during-a-loss":
        _f04_matured_exit_during_a_loss(system)
    else:
        _f04_losses_finished_out_of_order(system)


# ================================================================ 5: the utilization fee


def _rate(system, t) -> int:
    return _ctype(system, t)[1]


def _fee_at(base_fee: int, kink: int, max_multiplier: int, excess: int) -> int:
    """FeeAccumulator's docstring: 1 + (base - 1) * (1 + (max - 1) * excess / (1 - kink)) [ray],
    each division rounded up."""
    if excess == 0:
        return base_fee
    multiplier = WAD + div_up((max_multiplier - WAD) * excess, WAD - kink)
    return RAY + div_up((base_fee - RAY) * multiplier, WAD)


def test_finding_05__repay_accrue_redraw__still_pays_the_month_at_its_utilization(system):
    """Attack: a type sits above its fee kink for a month; a borrower repays, calls accrue and
    redraws: the month was priced at the moment's low utilization (fee income 77,794 -> 22,901)."""
    # Now a period is priced by its time-weighted utilization: the attack's accrual charges the
    # month at its real utilization (one second lower), exactly as the formula says, and a
    # one-second spike before an accrual no longer overcharges the period.
    r, t, e = system.roles, system.eth, system.d.engine
    cfg = t.config
    # a ceiling of 10,500 and 10,000 drawn: utilization 0.95, above the 0.8 kink
    system.tx(e, "set_debt_ceiling", r.governance, t.type_id, 10_500 * RAD)
    system.open_vault(r.borrower, ETH, 10 * WAD, 10_000 * WAD)
    system.tx(system.d.fees, "accrue", r.keeper, t.type_id)
    rate_0, debt = _rate(system, t), 10_000 * WAD
    high = div_up(debt * rate_0 * WAD, 10_500 * RAD) - cfg.fee_kink  # excess over the kink [wad]
    month = 30 * DAY

    with system.what_if():  # honest: nobody touches the type for a month
        system.warp(month)
        system.tx(system.d.fees, "accrue", r.keeper, t.type_id)
        honest_rate = _rate(system, t)
    honest_fee = _fee_at(cfg.base_fee, cfg.fee_kink, cfg.fee_max_multiplier, high)
    assert honest_rate == rmul_up(rpow_up(honest_fee, month), rate_0)

    # the attack: after the month, repay 7,500 (utilization 0.24), accrue, redraw
    system.warp(month)
    system.tx(
        e,
        "modify_vault",
        r.borrower,
        t.type_id,
        r.borrower,
        r.borrower,
        r.borrower,
        0,
        -7_500 * WAD,
    )
    system.tx(system.d.fees, "accrue", r.keeper, t.type_id)
    attacked_rate = _rate(system, t)
    # the month at `high`, the last second (after the repay) below the kink
    average = div_up(high * month, month + 1)
    attacked_fee = _fee_at(cfg.base_fee, cfg.fee_kink, cfg.fee_max_multiplier, average)
    assert attacked_rate == rmul_up(rpow_up(attacked_fee, month + 1), rate_0)
    # the borrower saved nothing: the month's income equals the honest month's to 1 part in 10^6
    honest_income = debt * (honest_rate - rate_0)
    attacked_income = debt * (attacked_rate - rate_0)
    assert attacked_income * 1_000_000 >= honest_income * 999_999
    # what the old contract charged (the base fee for the whole month, the spot utilization
    # being below the kink) is far less
    old_income = debt * (rmul_up(rpow_up(cfg.base_fee, month + 1), rate_0) - rate_0)
    assert attacked_income > old_income * 2

    # the reverse: a week later, a spike to a full ceiling one second before the accrual
    system.tx(
        e, "modify_vault", r.borrower, t.type_id, r.borrower, r.borrower, r.borrower, 0, 7_500 * WAD
    )
    system.tx(system.d.fees, "accrue", r.keeper, t.type_id)
    rate_1 = _rate(system, t)
    week_excess = div_up(debt * rate_1 * WAD, 10_500 * RAD) - cfg.fee_kink
    system.warp(7 * DAY)
    system.tx(e, "set_debt_ceiling", r.governance, t.type_id, debt * rate_1)
    system.tx(system.d.fees, "accrue", r.keeper, t.type_id)
    # the week at its utilization, the last second at a full ceiling; the old contract charged
    # the full multiplier for the whole week
    average = div_up(week_excess * 7 * DAY + (WAD - cfg.fee_kink), 7 * DAY + 1)
    week_fee = _fee_at(cfg.base_fee, cfg.fee_kink, cfg.fee_max_multiplier, average)
    assert _rate(system, t) == rmul_up(rpow_up(week_fee, 7 * DAY + 1), rate_1)
    full_fee = _fee_at(cfg.base_fee, cfg.fee_kink, cfg.fee_max_multiplier, WAD - cfg.fee_kink)
    assert _rate(system, t) < rmul_up(rpow_up(full_fee, 7 * DAY + 1), rate_1)


# ================================================================ 6, 7: global settlement


def _gs(system, getter, *args):
    return read(system, system.d.settlement, getter, *args)


def _allow(system, who, spender) -> None:
    system.tx(system.d.engine, "allow", who, spender)


def _top(price: int) -> int:
    """An auction's start price [ray] for an oracle price [wad] (x 1.2, rounded up)."""
    return -(-price * 10**9 * 12 // 10)


def _thaw_after_wait(system) -> None:
    system.lockstep.set_next_block_time(_gs(system, "shutdown_at") + SETTLEMENT_WAIT)
    system.tx(system.d.settlement, "thaw", system.roles.keeper)


def _everyone_packs_and_cashes(system, t) -> None:
    """Every holder packs all its stablecoin and cashes it for the type: each gets exactly its
    pro-rata share (packed x cash_price, rounded down), the last one too, and together they get
    no more than the settlement holds."""
    d = system.d
    held = read(system, d.engine, "collateral", t.type_id, d.settlement)
    cash_price = _gs(system, "cash_price", t.type_id)
    assert cash_price > 0
    paid = 0
    packed_total = 0
    for holder in system.roles.users:
        amount = _stable(system, holder) // RAY
        if amount == 0:
            continue
        _allow(system, holder, d.settlement)
        system.tx(d.settlement, "pack", holder, amount)
        packed_total += amount
        before = read(system, d.engine, "collateral", t.type_id, holder)
        system.tx(d.settlement, "cash", holder, t.type_id, amount)
        got = read(system, d.engine, "collateral", t.type_id, holder) - before
        assert got == amount * cash_price // RAY
        paid += got
    # every outstanding wad was packed and cashed (no holder left out; each drops < 1 wad of rad)
    holders = sum(
        1 for holder in system.roles.users if read(system, d.settlement, "packed", holder)
    )
    assert _gs(system, "debt") // RAY - holders <= packed_total <= _gs(system, "debt") // RAY
    assert paid <= held
    assert read(system, d.engine, "collateral", t.type_id, d.settlement) == held - paid


def _f06_debt_auction_cancelled_after_thaw(system) -> None:
    """Thaw is refused while a debt auction with a bid runs; after its (permissionless) cancel,
    thaw counts the refund and every holder cashes in full."""
    r, d, t = system.roles, system.d, system.eth
    system.tx(d.backstop, "set_waterfall", r.governance, [DEBT_AUCTION])
    system.tx(
        d.backstop,
        "set_auction_parameters",
        r.governance,
        read(system, d.backstop, "surplus_buffer"),
        read(system, d.backstop, "surplus_lot"),
        1_000 * RAD,
    )
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    move_prices(system, [(t, 900 * WAD), (system.btc, 30_000 * WAD)])
    auction_id = _liquidate(system, t, r.borrower)
    _allow(system, r.other, t.auction)
    system.tx(t.auction, "take", r.other, auction_id, 10 * WAD, _top(900 * WAD), r.other, b"")
    system.warp(QUEUE_DELAY)
    system.tx(d.backstop, "cover", r.keeper, t.type_id, t.auction, auction_id)
    system.tx(d.backstop, "start_debt_auction", r.keeper)
    debt_auction_id = read(system, d.debt_auction, "count")
    lot = read(system, d.debt_auction, "auctions", debt_auction_id)[1]
    _allow(system, r.other, d.debt_auction)
    system.tx(d.debt_auction, "bid", r.other, debt_auction_id, lot * 100 // 106)
    assert read(system, d.debt_auction, "running") == 1
    move_prices(system, [(t, 900 * WAD)])  # fresh for fix_price

    system.tx(d.settlement, "shutdown", r.governance)
    system.tx(d.settlement, "fix_price", r.keeper, t.type_id)
    for owner in (r.other, r.borrower):
        system.tx(d.settlement, "close_vault", r.keeper, t.type_id, owner)
    system.lockstep.set_next_block_time(_gs(system, "shutdown_at") + SETTLEMENT_WAIT)
    with reverts("settlement: debt auction running"):
        system.tx(d.settlement, "thaw", r.keeper)

    system.tx(d.debt_auction, "cancel", r.stranger, debt_auction_id)
    assert read(system, d.debt_auction, "running") == 0
    system.tx(d.settlement, "thaw", r.keeper)
    system.tx(d.settlement, "fix_cash_price", r.keeper, t.type_id)
    _everyone_packs_and_cashes(system, t)


def _f06_vault_closed_after_the_cash_price(system) -> None:
    """The cash price is refused while an (underwater) vault of the type is open; once it is
    closed its gap is in the cash price and every holder cashes in full."""
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    system.open_vault(r.stranger, ETH, 10 * WAD, 13_000 * WAD)
    move_prices(system, [(t, 1_200 * WAD), (system.btc, 30_000 * WAD)])
    system.tx(d.settlement, "shutdown", r.governance)
    system.tx(d.settlement, "fix_price", r.keeper, t.type_id)
    system.tx(d.settlement, "close_vault", r.keeper, t.type_id, r.other)
    _thaw_after_wait(system)
    with reverts("settlement: vaults open"):
        system.tx(d.settlement, "fix_cash_price", r.keeper, t.type_id)

    system.tx(d.settlement, "close_vault", r.keeper, t.type_id, r.stranger)
    assert _gs(system, "gap", t.type_id) > 0
    system.tx(d.settlement, "fix_cash_price", r.keeper, t.type_id)
    _everyone_packs_and_cashes(system, t)


@pytest.mark.parametrize(
    "aspect", ["debt-auction-cancelled-after-thaw", "vault-closed-after-the-cash-price"]
)
def test_finding_06__settlement_out_of_order__every_holder_still_cashes_in_full(system, aspect):
    """Attack: cancel a bid debt auction after thaw (its refund is stablecoin the cash price never
    counted) or close an underwater vault after fix_cash_price: the last holders cannot cash."""
    if aspect == "debt-auction-cancelled-after-thaw":
        _f06_debt_auction_cancelled_after_thaw(system)
    else:
        _f06_vault_closed_after_the_cash_price(system)


def _replace_auction(system, t) -> str:
    """Governance deploys a new DutchAuction for `t`, wires it as deployment does, and makes it
    the type's auction in the Liquidator; returns its address."""
    r, d = system.roles, system.d
    new = system.lockstep.deploy(
        "DutchAuction", r.governance, d.engine, t.type_id, d.liquidator, d.backstop, t.oracle
    )
    for target, who, role in (
        (d.engine, new, Role.SEIZE | Role.MINT_UNBACKED),
        (d.liquidator, new, Role.DEBT_IN_AUCTION),
        (d.backstop, new, Role.CLOSE_LOSS),
        (new, d.liquidator, Role.START),
        (new, d.settlement, Role.CANCEL),
    ):
        system.tx(target, "grant_role", r.governance, who, int(role))
    config = read(system, d.liquidator, "types", t.type_id)
    system.tx(d.liquidator, "configure_type", r.governance, t.type_id, new, config[1], config[2])
    return new


def test_finding_07__auction_contract_replaced_mid_auction__its_loss_closes_and_thaw_succeeds(
    system,
):
    """Attack: an auction runs on ETH-A's old auction contract when governance replaces it; at
    shutdown cancel_auction reached only the new one: the old loss stayed open, thaw never ran."""
    # Now cancel_auction names the auction, checked against the Backstop's running loss.
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    system.open_vault(r.borrower, ETH, 20 * WAD, 13_000 * WAD)
    move_prices(system, [(t, 900 * WAD), (system.btc, 30_000 * WAD)])
    auction_id = _liquidate(system, t, r.borrower)
    new = _replace_auction(system, t)
    assert read(system, d.liquidator, "types", t.type_id)[0] == new
    system.tx(d.settlement, "shutdown", r.governance)
    system.tx(d.settlement, "fix_price", r.keeper, t.type_id)

    # the new contract has no such auction: no running loss under (type, new, id)
    with reverts("settlement: no running loss"):
        system.tx(d.settlement, "cancel_auction", r.keeper, t.type_id, new, auction_id)
    # an address of someone's choosing is never called: no loss was opened for it
    with reverts("settlement: no running loss"):
        system.tx(d.settlement, "cancel_auction", r.keeper, t.type_id, r.stranger, auction_id)
    # the old contract's auction, under another type: refused too
    system.tx(d.settlement, "fix_price", r.keeper, system.btc.type_id)
    with reverts("settlement: no running loss"):
        system.tx(
            d.settlement, "cancel_auction", r.keeper, system.btc.type_id, t.auction, auction_id
        )

    system.tx(d.settlement, "cancel_auction", r.keeper, t.type_id, t.auction, auction_id)
    assert read(system, d.backstop, "open_losses") == 0
    for owner in (r.other, r.borrower):
        system.tx(d.settlement, "close_vault", r.keeper, t.type_id, owner)
    _thaw_after_wait(system)
    assert _gs(system, "debt") > 0
    system.tx(d.settlement, "fix_cash_price", r.keeper, t.type_id)
    _everyone_packs_and_cashes(system, t)


# ================================================================ 8: redistribution's window


def _f08_repay_in_the_window(system, waterfall: list[int] | None) -> None:
    """A loss closes and waits its queue delay; C repays all its debt before `cover`. Compare with
    the honest history (C keeps its debt) from the same state."""
    r, d, t = system.roles, system.d, system.eth
    b, c = r.other, r.stranger
    if waterfall is not None:
        system.tx(d.backstop, "set_waterfall", r.governance, waterfall)
    for who in (b, c):
        system.open_vault(who, ETH, 30 * WAD, 10_000 * WAD)
    _borrower_and_buyer(system)
    move_prices(system, [(t, 1_000 * WAD)])
    auction_id, loss = _liquidate_and_sell_out(system)
    rate_0 = _rate(system, t)

    def debt(who) -> int:
        return read(system, d.engine, "vaults", t.type_id, who)[1] * _rate(system, t)

    def cover() -> list[tuple[int, int]]:
        _cover(system, auction_id)
        return [
            (args["layer"], args["amount"])
            for _, name, args in _events(system)
            if name == "LossAllocated"
        ]

    # (each branch sets its own next block time: reverting the chain's snapshot forgets it)
    with system.what_if():  # honest: nobody moves in the window
        system.warp(QUEUE_DELAY)
        honest_layers = cover()
        honest = {who: debt(who) for who in (b, c, r.keeper)}
    # the attack: C repays everything in the window, then anyone covers
    c_debt = read(system, d.engine, "vaults", t.type_id, c)[1]
    system.warp(QUEUE_DELAY)
    system.tx(d.engine, "modify_vault", c, t.type_id, c, c, c, 0, -c_debt)
    attacked_layers = cover()
    attacked = {who: debt(who) for who in (b, r.keeper)}
    if waterfall is None:
        # the shipped order (fund, pool, debt auction, redistribution): with no fund and no
        # stakers the debt auction takes the whole loss, redistribution is never reached, the
        # rate does not move, so C's repayment escapes nothing and nobody pays more for it
        assert honest_layers == attacked_layers == [(DEBT_AUCTION, loss)]
        assert _rate(system, t) == rate_0
        assert honest[c] == c_debt * rate_0
        assert attacked == {who: honest[who] for who in (b, r.keeper)}
        return
    # The documented rule (docs/loss-waterfall.md, "Who pays a redistribution"; finding 8 of
    # docs/security.md): with redistribution ordered first, the debt at `cover` pays. C escapes
    # exactly its pro-rata share of the loss, and B and the keeper pay it in its place; the loss
    # is charged once either way (each fold rounds up by less than one unit per normalized debt).
    assert honest_layers == attacked_layers == [(REDISTRIBUTION, loss)]
    others = (b, r.keeper)
    normalized = {w: read(system, d.engine, "vaults", t.type_id, w)[1] for w in others}
    everyone = c_debt + sum(normalized.values())
    c_share = honest[c] - c_debt * rate_0
    assert c_share == c_debt * div_up(loss, everyone)  # what the escape saves
    extra = sum(attacked[w] - honest[w] for w in others)
    assert abs(extra - c_share) < everyone  # ... is what the others pay in its place
    charged = sum(attacked[w] - normalized[w] * rate_0 for w in others)
    assert loss <= charged < loss + everyone


@pytest.mark.parametrize("aspect", ["shipped-waterfall", "redistribution-first-holders-at-cover"])
def test_finding_08__repay_before_cover__escapes_nothing_under_the_shipped_waterfall(
    system, aspect
):
    """Attack: a borrower sees a loss open (or a crash queued) and repays before `cover` folds the
    loss into the type's rate. Shipped waterfall: it escapes nothing (the debt auction takes the
    loss). Redistribution first: the documented rule (the vaults holding debt at the cover pay,
    docs/loss-waterfall.md), pinned exactly: its share goes to the borrowers left."""
    _f08_repay_in_the_window(system, None if aspect == "shipped-waterfall" else [REDISTRIBUTION])


# ================================================================ 9: sandwiched flash takes


def _f09_keeper_flash_take(system, front_run: bool):
    """The ETH pool seeded with 2,000,000 BUSD a side, the borrower's vault in auction (1,800
    start price) and the keeper's FlashTaker; the taker keeper plans a flash take from what it
    reads on chain (TakerParams' default tolerance, 1% of the expected profit); optionally a
    trader sells 20 ETH into the pool before the take is mined. Returns the planned action, the
    profit the plan expected [rad] and the FlashTaker."""
    r, t, d = system.roles, system.eth, system.d
    seed_pool(system.lockstep, d, t, r.governance, 2_000_000 * WAD)
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    move_prices(system, [(t, 1_500 * WAD)])
    auction_id = _liquidate(system, t, r.borrower)
    flash = deploy_flash_taker(system.lockstep, d, ETH, r.keeper)
    system.extra_holders.append(flash)
    needs_reset, price, lot, debt = read(system, t.auction, "status", auction_id)
    rc, rs = read(system, t.pool, "reserve_collateral"), read(system, t.pool, "reserve_stable")
    params = TakerParams("taker", r.keeper, flash, t.auction, "flash", 0, 0)
    assert params.profit_tolerance == WAD // 100
    actions = taker_actions(
        [AuctionView(auction_id, needs_reset, price, lot, debt)],
        PoolView(rc, rs, t.config.pool_fee, 1),
        2_000 * WAD,
        read(system, t.auction, "min_auction"),
        0,
        params,
        set(),
    )
    assert len(actions) == 1
    action = actions[0]
    size = action.args[1]
    owe = min(size * price, debt)
    tokens = owe // price if owe == debt else size
    after_fee = tokens * (WAD - t.config.pool_fee)
    expected = after_fee * rs // (rc * WAD + after_fee) * RAY - owe
    assert action.args[3] == expected * 99 // 100 > 0
    if front_run:
        system.tx(t.token, "mint", r.governance, r.stranger, 20 * WAD)
        system.tx(t.token, "approve", r.stranger, t.pool, MAX_UINT256)
        system.tx(t.pool, "swap", r.stranger, True, 20 * WAD, 0, r.stranger)
    return action, expected, flash


@pytest.mark.parametrize("aspect", ["front-run", "undisturbed"])
def test_finding_09__sandwiched_flash_take__reverts_instead_of_taking_at_a_loss(system, aspect):
    """Attack: a trader sells 20 ETH into the pool just before the keeper's flash take and buys
    back after it; with min_profit 0 the take went through at ~8% of its profit (6,209 -> 493)."""
    action, expected, flash = _f09_keeper_flash_take(system, front_run=aspect == "front-run")
    if aspect == "front-run":
        with reverts("flash: profit below minimum"):
            system.tx(action.contract, action.function, action.sender, *action.args)
        assert _stable(system, flash) == 0
    else:
        # the same plan with no front-run is mined as planned and earns exactly the profit the
        # keeper expected, so the tolerance does not make honest takes fail
        system.tx(action.contract, action.function, action.sender, *action.args)
        assert [e.args["profit"] for e in system.events if e.name == "FlashTaken"] == [expected]
        assert _stable(system, flash) == expected


# ================================================================ 10: zombie auctions


def _taker(system, amount) -> str:
    """The stranger, funded by governance with `amount` [rad] of internal stablecoin, lets the ETH
    auction collect payment."""
    r, d = system.roles, system.d
    system.tx(d.engine, "create_unbacked", r.governance, r.governance, r.stranger, amount)
    system.tx(d.engine, "allow", r.stranger, system.eth.auction)
    return r.stranger


def _f10_take_all_but_one_wei(system) -> None:
    """The take with max_collateral = lot - 1 buys the whole lot (the collateral left would be
    worth less than min_auction) and the loss closes (the old auction kept 1 wei, active)."""
    r, t, d = system.roles, system.eth, system.d
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    move_prices(system, [(t, 1_000 * WAD)])
    auction_id = _liquidate(system, t, r.borrower)
    _, debt, lot, _, _, top = read(system, t.auction, "auctions", auction_id)[:6]
    assert lot * top < debt  # underwater: 10 ETH x 1,200 < ~14,690
    taker = _taker(system, 20_000 * RAD)
    system.tx(t.auction, "take", taker, auction_id, lot - 1, top, taker, b"")
    assert read(system, t.auction, "active_count") == 0
    assert read(system, d.engine, "collateral", t.type_id, taker) == lot
    finished = [e.args for e in system.events if e.name == "Finished"]
    assert finished == [
        {"auction_id": auction_id, "collateral_returned": 0, "debt_unraised": debt - lot * top}
    ]
    assert read(system, d.liquidator, "debt_in_auction") == 0
    closed_with_a_loss = 2
    loss_status = read(system, d.backstop, "losses", t.type_id, t.auction, auction_id)[3]
    assert loss_status == closed_with_a_loss


def _f10_dust_lot(system) -> None:
    """An auction whose whole lot is worth less than min_auction even at its top price: the
    backstop keeper proposes closing it, anyone may, and its debt goes to the waterfall, freeing
    the slot and the caps (the old contract had no way to close it); its lot goes to the
    Backstop, not to the owner (issue 31, finding 1)."""
    r, t, d = system.roles, system.eth, system.d
    system.open_vault(r.borrower, ETH, 2 * WAD, 2_600 * WAD)
    system.open_vault(r.other, ETH, 60 * WAD, 6_000 * WAD)
    move_prices(system, [(t, 50 * WAD)])
    big = _liquidate(system, t, r.other)
    auction_id = _liquidate(system, t, r.borrower)
    _, debt, lot, _, _, top = read(system, t.auction, "auctions", auction_id)[:6]
    min_auction = read(system, t.auction, "min_auction")
    assert lot * top < min_auction <= debt  # 2 ETH x 60 = 120 < 2,825
    # not before it ran its curve unsold (issue 31: a lot keepers would buy is sold, not closed)
    with reverts("auction: not ended"):
        system.tx(t.auction, "close_dust_auction", r.stranger, auction_id)
    _f31_until_ended(system, t, auction_id)
    _f31_until_ended(system, t, big)
    # an auction whose lot is worth at least min_auction at a fresh start price cannot be closed
    with reverts("auction: lot not dust"):
        system.tx(t.auction, "close_dust_auction", r.stranger, big)
    # the backstop keeper closes what it sees as dust, once (an id already in flight is skipped)
    view = BackstopView(
        now=system.now,
        surplus=0,
        bad_debt=0,
        unattributed_debt=0,
        unsettled_proceeds=0,
        debt_to_auction=0,
        debt_auction_bid_size=0,
        surplus_buffer=0,
        surplus_lot=0,
        queue_delay=0,
        losses=[],
        debt_auctions=[],
        min_decrease=WAD,
        bidder_stable=0,
        charge_count=0,
        stakers=[],
        dust_auctions=(auction_id, auction_id + 1),
    )
    params = BackstopParams(
        r.keeper, "", d.backstop, d.debt_auction, d.stability_pool, d.fees, t.type_id, t.auction, 1
    )
    planned = backstop_actions(view, params, False, {("close_dust", auction_id + 1)})
    assert [(a.contract, a.function, a.args) for a in planned] == [
        (t.auction, "close_dust_auction", (auction_id,))
    ]
    free_0 = read(system, d.engine, "collateral", t.type_id, r.borrower)
    kept_0 = read(system, d.engine, "collateral", t.type_id, d.backstop)
    in_auction_0 = read(system, d.liquidator, "debt_in_auction")
    system.tx(t.auction, "close_dust_auction", r.stranger, auction_id)  # anyone
    assert [e.args for e in system.events if e.name == "Finished"] == [
        {"auction_id": auction_id, "collateral_returned": 0, "debt_unraised": debt}
    ]
    assert [e.args for e in system.events if e.name == "DustClosed"] == [
        {"auction_id": auction_id, "collateral": lot, "debt": debt}
    ]
    assert read(system, d.engine, "collateral", t.type_id, r.borrower) == free_0
    assert read(system, d.engine, "collateral", t.type_id, d.backstop) == kept_0 + lot
    assert read(system, d.liquidator, "debt_in_auction") == in_auction_0 - debt
    assert read(system, t.auction, "active_auctions") == (big,)
    closed_to_the_waterfall = 2
    loss_status = read(system, d.backstop, "losses", t.type_id, t.auction, auction_id)[3]
    assert loss_status == closed_to_the_waterfall
    with reverts("auction: not running"):
        system.tx(t.auction, "close_dust_auction", r.stranger, auction_id)


@pytest.mark.parametrize("aspect", ["take-all-but-one-wei", "lot-worth-less-than-min-auction"])
def test_finding_10__zombie_auction__no_lot_is_left_that_nobody_will_take(system, aspect):
    """Attack: take an underwater auction with max_collateral = lot - 1: 1 wei of collateral keeps
    thousands of debt in auction for good (no taker, no reward), holding open_losses and caps."""
    if aspect == "take-all-but-one-wei":
        _f10_take_all_but_one_wei(system)
    else:
        _f10_dust_lot(system)


# ================================================================ 11: the active-auction cap


def _f11_full_set_on_revm(artifacts: Artifacts) -> None:
    """Past the old cap on revm in lockstep with the model (~2,100 transactions: 1,029 vault
    openings, 26 batches): 1,027 auctions run at once, listed in two pages; a finished one's
    slot is reused first. Then every slot taken (the bitmap's words written as a full set would
    leave them: 2**24 auctions are out of a test's reach): the next batch skips its vaults
    instead of reverting, the strict liquidate reverts with the reason, and the keeper proposes
    at most the room left."""
    system, evm = revm_system(artifacts)
    d, keeper, t = system.d, system.roles.keeper, system.d.types[ETH]
    old_cap = 1024
    owners = [to_checksum_address(f"0x{0x10000 + i:040x}") for i in range(old_cap + 5)]
    vaults_at(system, t, owners, 2 * WAD, 2_600 * WAD)
    move_prices(system, [(t, 1_500 * WAD)])
    for start in range(0, old_cap + 3, 40):
        batch = owners[start : min(start + 40, old_cap + 3)]
        system.tx(d.liquidator, "liquidate_many", keeper, t.type_id, batch, keeper)
    # 1,027 running (the old code: 1,024, and the rest waited); a fifth bitmap word was opened
    assert read(system, t.auction, "active_count") == old_cap + 3
    assert read(system, t.auction, "has_room") is True
    assert read(system, t.auction, "next_id") == old_cap + 4
    # two pages: ids 1 .. 1,024 (slots 0 .. 1,023), then 1,025 .. 1,027 from slot 1,024 on
    # (a plain call: the BatchReader's reads stop at 256 bytes of result)
    running = list(range(1, old_cap + 4))
    assert list(system.chain.call(t.auction, "active_auctions")) == running[:PAGE]
    assert system.contract(t.auction).active_auctions() == running[:PAGE]
    for first in (PAGE, PAGE + 2, PAGE + 3, MAX_ACTIVE):
        page = [i for i in running if i - 1 >= first]
        assert list(system.chain.call(t.auction, "active_auctions", first)) == page
        assert system.contract(t.auction).active_auctions(first) == page
    chain_pages = every_running(
        lambda first: system.chain.call(t.auction, "active_auctions", first)
    )
    assert chain_pages == running
    assert list(system.contract(t.auction).active) == running
    # finishing auction 1,001 (slot 1,000, in word 3) frees that slot only: the next auction takes
    # it in its second generation, id (1 << 24 | 1000) + 1
    buyer, payer = owners[0], owners[1]
    system.tx(d.engine, "transfer_stable", payer, payer, buyer, 2_600 * RAD)
    system.tx(d.engine, "allow", buyer, t.auction)
    system.tx(t.auction, "take", buyer, 1001, 2 * WAD, 10 * 1_500 * RAY, buyer, b"")
    assert read(system, t.auction, "auctions", 1001)[3] == ZERO_ADDRESS
    reused = (1 << SLOT_BITS | 1000) + 1
    assert read(system, t.auction, "next_id") == reused
    system.tx(d.liquidator, "liquidate", keeper, t.type_id, owners[old_cap + 3], keeper)
    running[1000] = reused
    assert every_running(lambda first: system.chain.call(t.auction, "active_auctions", first)) == (
        running
    )
    assert list(system.contract(t.auction).active) == running
    assert read(system, t.auction, "auctions", reused)[3] == owners[old_cap + 3]
    assert read(system, t.auction, "next_id") == old_cap + 4

    assert model_invariants(system.model, d) == []

    # every slot taken: the words as 2**24 auctions would leave them (each word full, none listed
    # as having a free slot, every word opened), written on revm and in the model alike
    auction, slots = system.contract(t.auction), ("auction_slots.free", "auction_slots.free_words")
    free, free_words = (storage_slot("DutchAuction", name) for name in slots)
    full = {
        **{free + w: 0 for w in range(auction.opened_words)},
        free_words: 0,
        storage_slot("DutchAuction", "auction_slots.free_summaries"): 0,
        storage_slot("DutchAuction", "auction_slots.opened_words"): RUNNING_WORDS,
    }
    for slot, value in full.items():
        evm.evm.insert_account_storage(t.auction, slot, value)
    for w in range(auction.opened_words):
        auction.free[w] = 0
    auction.free_words[0] = 0
    auction.free_summaries = 0
    auction.opened_words = RUNNING_WORDS
    assert read(system, t.auction, "has_room") is False
    assert read(system, t.auction, "next_id") == 0
    # the next batch skips the vault left instead of reverting (before finding 11: reverted)
    last = owners[old_cap + 4 :]
    liquidated = system.contract(d.liquidator).types[t.type_id].debt_in_auction
    system.tx(d.liquidator, "liquidate_many", keeper, t.type_id, last, keeper)
    assert system.contract(d.liquidator).types[t.type_id].debt_in_auction == liquidated
    assert read(system, d.engine, "vaults", t.type_id, last[0])[1] == 2_600 * WAD
    with reverts("auction: too many running"):
        system.tx(d.liquidator, "liquidate", keeper, t.type_id, last[0], keeper)
    # the keeper proposes nothing when there is no room, and at most the room otherwise
    index = VaultIndex(t.type_id)
    for o in owners[old_cap:]:
        index.apply_args(
            {
                "collateral_type": t.type_id,
                "owner": o,
                "delta_collateral": 2 * WAD,
                "delta_normalized_debt": 2_600 * WAD,
            }
        )
    _, rate, safe_price, _, _ = _ctype(system, t)
    none = liquidation_actions(index, rate, safe_price, set(), keeper, d.liquidator, 1, room=0)
    assert none == []
    one = liquidation_actions(index, rate, safe_price, set(), keeper, d.liquidator, 1, room=1)
    assert [len(a.args[1]) for a in one] == [1]
    # every owner's vault and collateral, chain == model (`read` compares them; the full-state
    # comparison over 1,029 extra holders would take minutes)
    for o in owners:
        read(system, d.engine, "vaults", t.type_id, o)
        read(system, d.engine, "collateral", t.type_id, o)


def _f11_has_room_on_anvil(system) -> None:
    """The boundary on Anvil: has_room is true below the cap and liquidate_many consults it (a
    liquidation still starts)."""
    r, t, d = system.roles, system.eth, system.d
    assert read(system, t.auction, "has_room") is True
    system.open_vault(r.borrower, ETH, 2 * WAD, 2_600 * WAD)
    move_prices(system, [(t, 1_500 * WAD)])
    system.tx(d.liquidator, "liquidate_many", r.keeper, t.type_id, [r.borrower], r.keeper)
    assert read(system, t.auction, "active_count") == 1
    assert read(system, t.auction, "has_room") is True


@pytest.mark.parametrize("aspect", ["full-auction-set-on-revm", "has-room-on-anvil"])
def test_finding_11__crash_with_a_full_auction_set__batches_skip_instead_of_reverting(
    system, artifacts: Artifacts, aspect
):
    """Attack (or a crash): with MAX_ACTIVE (then 1,024) auctions of a type running, `start`
    reverted and every liquidate_many batch with it: past 984 running, nothing more was
    liquidated. Now batches skip at a full set, and the set holds 2**24 (what bounds the auctions
    in flight is the Liquidator's caps on their debt)."""
    if aspect == "full-auction-set-on-revm":
        _f11_full_set_on_revm(artifacts)
    else:
        _f11_has_room_on_anvil(system)


# ================================================================ 12: the automatic ceiling


def test_finding_12__repay_update_redraw__no_longer_holds_the_ceiling_flat(system):
    """Attack: with the ceiling at 10M and 9.9M drawn, a borrower repays 4.8M, calls update (a 0.1M
    rise restarts the cooldown) and redraws: 10.0M -> 10.1M -> 10.2M instead of 14.9M -> 19.9M."""
    # Now the amount of increase per cooldown window is limited, not their number: the attacker's
    # small rise opens a window based at 10M, and within it anyone raises the ceiling to debt +
    # gap (14.9M, at most 10M + 5M); the attack repeated in the next window cannot hold it.
    r, t, e, ceiling = system.roles, system.eth, system.d.engine, system.d.ceiling
    cfg = t.config
    assert (cfg.ceiling_gap, cfg.ceiling_cooldown) == (5_000_000 * RAD, 43_200)  # devnet
    system.tx(e, "set_debt_ceiling", r.governance, t.type_id, 10_000_000 * RAD)
    # an honest borrower (5.1M) and the attacker (4.8M): 9.9M drawn
    system.open_vault(r.borrower, ETH, 30_000 * WAD, 5_100_000 * WAD)
    system.open_vault(r.stranger, ETH, 6_000 * WAD, 4_800_000 * WAD)

    def vault(who, delta_debt):
        system.tx(e, "modify_vault", who, t.type_id, who, who, who, 0, delta_debt)

    def ceiling_now() -> int:
        return _ctype(system, t)[3]

    def debt_now() -> int:
        normalized, rate = _ctype(system, t)[:2]
        return normalized * rate

    for _ in range(2):  # two cooldown windows
        # the attack: repay 4.8M, update (a small rise), redraw
        start = ceiling_now()
        vault(r.stranger, -4_800_000 * WAD)
        system.tx(ceiling, "update", r.stranger, t.type_id)
        vault(r.stranger, 4_800_000 * WAD)
        # an honest update right after: the ceiling reaches debt + gap within the window
        system.tx(ceiling, "update", r.keeper, t.type_id)
        assert ceiling_now() == min(debt_now() + cfg.ceiling_gap, start + cfg.ceiling_gap)
        assert ceiling_now() >= 14_900_000 * RAD
        # the honest borrower fills it to 9/10 and the window ends
        room = (ceiling_now() - debt_now()) * 9 // 10 // RAD // 1_000 * 1_000 * WAD
        vault(r.borrower, room)
        system.warp(cfg.ceiling_cooldown)
        system.tx(ceiling, "update", r.keeper, t.type_id)
    # the old manager left it at 10.2M after two windows; it follows the debt by a gap each window
    assert ceiling_now() >= 20_000_000 * RAD


# ================================================================ 13: keepers, price and gas


def _f13_invalid_price(system) -> None:
    """The oracle goes stale: the spotter sets the safe price to 0, every vault looks unsafe, and
    the batch the old keeper sent every bar reverts. The keeper now proposes nothing; once a valid
    (crashed) price returns it proposes the unsafe vault and its batch liquidates it."""
    r, t, d = system.roles, system.eth, system.d
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    index = VaultIndex(t.type_id)
    index.apply(d.engine, system.events)
    system.warp(t.config.oracle_max_age + 1)
    system.tx(d.spotter, "poke", r.keeper, t.type_id)
    _, rate, safe_price, _, _ = _ctype(system, t)
    assert safe_price == 0
    assert index.unsafe(rate, safe_price) == [r.borrower]  # what the old keeper acted on
    with reverts("liquidator: no valid price"):
        system.tx(d.liquidator, "liquidate_many", r.keeper, t.type_id, [r.borrower], r.keeper)
    assert liquidation_actions(index, rate, safe_price, set(), r.keeper, d.liquidator, 1) == []

    move_prices(system, [(t, 1_000 * WAD)])
    _, rate, safe_price, _, _ = _ctype(system, t)
    actions = liquidation_actions(index, rate, safe_price, set(), r.keeper, d.liquidator, 1)
    assert [(a.function, a.args[1]) for a in actions] == [("liquidate_many", [r.borrower])]
    for a in actions:
        system.tx(a.contract, a.function, a.sender, *a.args)
    assert read(system, t.auction, "active_count") == 1


def _f13_dust_pays_its_gas(system) -> None:
    """The devnet dust (2,500, set from gas economics): liquidating a dust-size vault pays half
    its penalty income (162.5 BUSD: since issue 31 a reward never takes more, so that a
    self-liquidation costs the other half), and that reward pays the liquidation's gas, as
    measured on chain, up to far above crash-day gas prices at ETH 2,000; the capped reward at the
    reviewed dust 100 (its income, 13 BUSD) would not have paid it even at 40 gwei."""
    r, t = system.roles, system.eth
    cfg = t.config
    assert cfg.dust == 2_500 * RAD
    system.open_vault(r.borrower, ETH, 2 * WAD, 2_500 * WAD)
    move_prices(system, [(t, 1_500 * WAD)])
    keeper_0 = _stable(system, r.keeper)
    auction_id = _liquidate(system, t, r.borrower)
    gas = system.chain.gas_used()
    reward = _stable(system, r.keeper) - keeper_0
    debt = read(system, t.auction, "auctions", auction_id)[1]
    income = debt - div_up(debt * WAD, cfg.liquidation_penalty)
    half_income = income * (WAD // 2) // WAD
    assert reward == half_income < cfg.keeper_reward_flat + debt * cfg.keeper_reward_rate // WAD

    def max_gwei(reward_rad: int) -> int:
        """The gas price [gwei] up to which `reward_rad` pays `gas` at ETH = GAS_ETH_PRICE."""
        return reward_rad * 10**9 // (RAD * gas * GAS_ETH_PRICE)

    assert max_gwei(reward) >= 200, (gas, max_gwei(reward))
    reviewed_tab = 100 * RAD * cfg.liquidation_penalty // WAD
    reviewed_income = reviewed_tab - div_up(reviewed_tab * WAD, cfg.liquidation_penalty)
    assert max_gwei(reviewed_income) < 40, (gas, max_gwei(reviewed_income))


@pytest.mark.parametrize("aspect", ["invalid-price", "dust-pays-its-gas"])
def test_finding_13__stale_price__the_liquidation_keeper_sends_nothing(system, aspect):
    """Attack (self-griefing): with the safe price 0 (a stale oracle) every vault looks unsafe and
    the keeper sent reverting batches every bar; and a capped dust reward stopped paying its gas."""
    if aspect == "invalid-price":
        _f13_invalid_price(system)
    else:
        _f13_dust_pays_its_gas(system)


# ================================================================ 14: oracle, settlement, roles


def _f14_bad_feeder(system) -> None:
    """A post must lie within max_change (50% on the devnet) of the queued price, so one feeder
    moves the price by at most that per delay; governance voids a queued price during the delay:
    the current price stays in effect and pokes wait for a new post."""
    r, t = system.roles, system.eth
    oracle = t.oracle
    assert read(system, oracle, "max_change") == WAD // 2
    queued = read(system, oracle, "next_price")
    for bad in (1, queued // 2 - 1, queued * 3 // 2 + 1):
        with reverts("oracle: price move too large"):
            system.tx(oracle, "post", r.feeder, bad)
    # the most the feeder can do in one delay: half the price
    system.tx(oracle, "post", r.feeder, queued // 2)
    system.warp(t.config.oracle_delay)
    system.tx(oracle, "poke", r.keeper)
    assert read(system, oracle, "next_price") == queued // 2
    current = read(system, oracle, "current_price")
    # governance sees the queued price and voids it before it takes effect
    system.tx(oracle, "void", r.governance)
    assert [(e.name, e.args) for e in system.events] == [("Voided", {"voided_price": queued // 2})]
    assert read(system, oracle, "next_price") == current
    assert read(system, oracle, "source_price") == 0
    system.warp(t.config.oracle_delay)
    with reverts("oracle: no price posted"):
        system.tx(oracle, "poke", r.keeper)
    # a good post and two pokes later the price is the real one again; the bad one never applied
    system.tx(oracle, "post", r.feeder, current)
    system.tx(oracle, "poke", r.keeper)
    assert read(system, oracle, "current_price") == current
    # only governance voids
    with reverts("authorized: not authorized"):
        system.tx(oracle, "void", r.feeder)


def _f14_stale_fix_price(system) -> None:
    """After shutdown nobody pokes the oracle: a price older than max_age (the market has moved)
    no longer fixes every vault's final price; a fresh one does."""
    r, d, t = system.roles, system.d, system.eth
    system.open_vault(r.other, ETH, 100 * WAD, 30_000 * WAD)
    system.tx(d.settlement, "shutdown", r.governance)
    system.warp(t.config.oracle_max_age + 1)
    with reverts("settlement: invalid price"):
        system.tx(d.settlement, "fix_price", r.keeper, t.type_id)
    assert _gs(system, "final_price", t.type_id) == 0

    system.tx(t.oracle, "post", r.feeder, 1_500 * WAD)
    for _ in range(2):
        system.warp(t.config.oracle_delay)
        system.tx(t.oracle, "poke", r.keeper)
    system.tx(d.settlement, "fix_price", r.keeper, t.type_id)
    assert _gs(system, "final_price", t.type_id) == -(-WAD * RAY // (1_500 * WAD))


def _f14_auction_of_another_type(system) -> None:
    """ETH-A pointed at WBTC-A's auction (a governance mistake) would sell seized ETH debt against
    WBTC collateral and price; the Liquidator refuses it."""
    r, d = system.roles, system.d
    config = read(system, d.liquidator, "types", system.eth.type_id)
    with reverts("liquidator: auction of another type"):
        system.tx(
            d.liquidator,
            "configure_type",
            r.governance,
            system.eth.type_id,
            system.btc.auction,
            config[1],
            config[2],
        )
    assert read(system, d.liquidator, "types", system.eth.type_id) == config
    system.tx(
        d.liquidator,
        "configure_type",
        r.governance,
        system.eth.type_id,
        system.eth.auction,
        config[1],
        config[2],
    )


_AUTH_REASON = "authorized: not authorized"
_PROBE_DONE = "findings probe: call went through"
_ERROR_SELECTOR = keccak(text="Error(string)")[:4]


def _reason_on_both(system, address: str, function: str, sender: str, *args) -> str | None:
    """The revert reason of `sender` calling `function` (None if it goes through), without
    changing state: on chain an eth_call from `sender` (a contract needs no key for a call), in the
    model a transaction rolled back after it runs. The two must agree."""
    chain = system.chain
    assert isinstance(chain, ChainBackend)  # the `system` fixture runs on Anvil
    tx, _ = chain.call_data(address, function, *args)
    on_chain: str | None = None
    try:
        chain.rpc("eth_call", [{**tx, "from": sender}, "latest"])
    except RpcError as exc:
        data = bytes.fromhex((exc.data or "0x")[2:])
        on_chain = abi_decode(["string"], data[4:])[0] if data[:4] == _ERROR_SELECTOR else str(exc)
    fn = getattr(system.contract(address), function)

    def probe() -> None:
        fn(sender, *args)
        raise Revert(_PROBE_DONE)

    try:
        system.model.env.transact(probe)
        raise AssertionError("the probe always reverts")
    except Revert as exc:
        in_model = None if exc.reason == _PROBE_DONE else exc.reason
    assert on_chain == in_model, (function, on_chain, in_model)
    return on_chain


def _f14_least_privilege(system) -> None:
    """The review's example of a broad role: each DutchAuction (an admin of the engine and the
    Backstop before the split) could add authorities and reorder the waterfall. Now it holds only
    its capability roles: both are refused, while the calls it needs (a reward mint) still pass.
    tests/contracts/roles/ checks every cell of the privilege table."""
    r, d = system.roles, system.d
    for t in (system.eth, system.btc):
        assert _reason_on_both(system, d.engine, "add_authority", t.auction, r.stranger) == (
            _AUTH_REASON
        )
        assert _reason_on_both(system, d.engine, "grant_role", t.auction, r.stranger, 1) == (
            _AUTH_REASON
        )
        assert _reason_on_both(system, d.backstop, "set_waterfall", t.auction, [1]) == (
            _AUTH_REASON
        )
        assert _reason_on_both(system, d.backstop, "add_authority", t.auction, r.stranger) == (
            _AUTH_REASON
        )
        minted = _reason_on_both(
            system, d.engine, "create_unbacked", t.auction, d.backstop, r.stranger, RAD
        )
        assert minted is None


@pytest.mark.parametrize(
    "aspect",
    ["bounded-feeder-and-void", "stale-fix-price", "auction-of-another-type", "least-privilege"],
)
def test_finding_14__one_feeder_or_one_broad_role__can_no_longer_move_everything(system, aspect):
    """Attack: one feeder posts any price (no void), fix_price takes a stale price, a type's auction
    may be another type's, and each auction may add authorities or reorder the waterfall."""
    {
        "bounded-feeder-and-void": _f14_bad_feeder,
        "stale-fix-price": _f14_stale_fix_price,
        "auction-of-another-type": _f14_auction_of_another_type,
        "least-privilege": _f14_least_privilege,
    }[aspect](system)


# ================================================================ issue 31: the third round
# An owner must never write off its own debt (findings 1-4 of issue 31; docs/security.md, "The
# third round"). Each attack's numbers are the devnet's: dust 2,500, penalty 1.13, ETH at 2,000,
# start price buffer 1.2, stair-step curve (0.99 per 90 s), keeper reward 300 + 0.1%.


def _f31_vault_at_the_limit(system, owner: str, t) -> None:
    """`owner` opens the smallest vault the dust allows, with just enough collateral to be safe
    at the safe price; one second of fees later it is unsafe."""
    d = system.d
    _, rate, spot, _, dust = _ctype(system, t)
    normalized = -(-dust // rate)
    collateral = -(-normalized * rate // spot)
    system.fund(owner, ETH, collateral)
    system.tx(
        d.engine, "modify_vault", owner, t.type_id, owner, owner, owner, collateral, normalized
    )
    system.warp(1)
    system.tx(d.fees, "accrue", owner, t.type_id)


def _f31_self_liquidate(system, owner, t) -> tuple[int, int, int, int, int, int]:
    """`owner` liquidates its own vault, as its own keeper: (auction id, the reward it was paid,
    the auction's debt [rad], lot [wad], top [ray], and its penalty income [rad])."""
    d = system.d
    system.tx(d.liquidator, "liquidate", owner, t.type_id, owner, owner)
    auction_id = started_auction(system, t.auction)
    reward = [e.args["reward"] for e in system.events if e.name == "Started"][0]
    _, debt, lot, _, _, top = read(system, t.auction, "auctions", auction_id)[:6]
    income = debt - div_up(debt * WAD, t.config.liquidation_penalty)
    return auction_id, reward, debt, lot, top, income


def _f31_until_ended(system, t, auction_id) -> None:
    """Let the auction run its curve unsold (15-minute steps) until it needs a reset, then bring
    the oracle's price up to date (a close, like a reset, needs a valid price)."""
    for _ in range(20):
        if read(system, t.auction, "status", auction_id)[0]:
            break
        system.warp(900)
        system.tx(system.d.backstop, "advance_open_losses", system.roles.stranger, 0)
    assert read(system, t.auction, "status", auction_id)[0]
    price = read(system, t.oracle, "current_price")
    system.tx(t.oracle, "post", system.roles.feeder, price)
    for _ in range(2):
        system.warp(t.config.oracle_delay)
        system.tx(t.oracle, "poke", system.roles.keeper)


def _f31_wait_until(system, t, auction_id, price_at_most: int) -> int:
    """Let the auction's price fall (90-second steps) to `price_at_most` [ray] or below, before
    it needs a reset; the price reached."""
    for _ in range(200):
        needs_reset, price, _, _ = read(system, t.auction, "status", auction_id)
        assert not needs_reset
        if price <= price_at_most:
            return price
        # a block 90 s later (a harmless transaction: the views read the latest block)
        system.warp(90)
        system.tx(system.d.backstop, "advance_open_losses", system.roles.stranger, 0)
    raise AssertionError("the price did not fall that far")


def _f31_01_dust_raised(system) -> None:
    """Governance raises the dust 2,500 -> 5,000. The owner of a vault left at 2,500 (collateral
    1.5x its debt) liquidates itself: its lot (3,750 at the market, 4,500 at the start price) is
    below the new min_auction (5,650), so the old close_dust_auction forgave its 2,825 of debt and
    gave it the lot back. Now the close needs the auction to have run its curve unsold and the lot,
    at a fresh start price, to be worth less than the debt: a healthy vault's never is, so its lot
    is sold (to any keeper), and nothing comes back to the owner but what the sale leaves."""
    r, t, d = system.roles, system.eth, system.d
    owner, market = r.other, 2_000 * WAD
    _f31_vault_at_the_limit(system, owner, t)
    system.tx(d.engine, "set_dust", r.governance, t.type_id, 5_000 * RAD)
    locked, normalized = read(system, d.engine, "vaults", t.type_id, owner)
    equity = locked * market * 10**9 - normalized * _ctype(system, t)[1]
    before = holdings_value(system, owner, t, market)
    auction_id, reward, debt, lot, top, income = _f31_self_liquidate(system, owner, t)
    assert reward == 0
    min_auction = read(system, t.auction, "min_auction")
    assert min_auction == 5_650 * RAD  # the new dust at once: no update call to forget
    assert debt < lot * top < min_auction  # ~2,825 < ~4,500 < 5,650: the old close passed here
    with reverts("auction: not ended"):
        system.tx(t.auction, "close_dust_auction", owner, auction_id)
    # nobody takes it over its whole curve: still no write-off, its lot covers its debt
    _f31_until_ended(system, t, auction_id)
    with reverts("auction: lot covers the debt"):
        system.tx(t.auction, "close_dust_auction", owner, auction_id)
    # a keeper resets and buys it at the market price: the owner gets back only what the sale
    # leaves (its collateral less the debt and penalty): its equity less the penalty part
    system.tx(t.auction, "reset", r.keeper, auction_id, r.keeper)
    system.tx(d.engine, "create_unbacked", r.governance, r.governance, r.keeper, 5_000 * RAD)
    system.tx(d.engine, "allow", r.keeper, t.auction)
    _f31_wait_until(system, t, auction_id, market * 10**9)
    system.tx(t.auction, "take", r.keeper, auction_id, lot, 2**255, r.keeper, b"")
    finished = [e.args for e in system.events if e.name == "Finished"]
    assert finished[0]["debt_unraised"] == 0 and finished[0]["collateral_returned"] > 0
    assert read(system, d.engine, "collateral", t.type_id, d.backstop) == 0
    assert holdings_value(system, owner, t, market) <= before - income + RAD
    assert equity > 1_200 * RAD


def _f31_01_dust_lowered(system) -> None:
    """Governance lowers the dust 2,500 -> 1,000 (no follow-up call: min_auction has none). A new
    vault of 1,000 liquidated by its owner is no dust auction (its lot, 1,800 at the start price,
    is above min_auction 1,130, and it is being sold): it cannot be closed, and the reward (half
    its 130 of income) does not pay for the penalty. The old contract kept min_auction at 2,825
    until someone called update_min_auction, so every such vault was dust-closed and handed back
    (+5,000 in the review's 5 loops)."""
    r, t, d = system.roles, system.eth, system.d
    owner, market = r.other, 2_000 * WAD
    system.tx(d.engine, "set_dust", r.governance, t.type_id, 1_000 * RAD)
    assert read(system, t.auction, "min_auction") == 1_130 * RAD
    _f31_vault_at_the_limit(system, owner, t)
    before = holdings_value(system, owner, t, market)
    auction_id, reward, debt, lot, top, income = _f31_self_liquidate(system, owner, t)
    assert lot * top >= 1_130 * RAD and reward == income // 2
    with reverts("auction: not ended"):
        system.tx(t.auction, "close_dust_auction", owner, auction_id)
    # the owner's best exit: buy its own lot back at the market price; it is down the other half
    system.tx(d.engine, "allow", owner, t.auction)
    system.tx(d.engine, "create_unbacked", r.governance, r.governance, owner, 1_000 * RAD)
    before += 1_000 * RAD
    _f31_wait_until(system, t, auction_id, market * 10**9)
    system.tx(t.auction, "take", owner, auction_id, lot, 2**255, owner, b"")
    assert holdings_value(system, owner, t, market) <= before - (income - reward)


@pytest.mark.parametrize("aspect", ["dust-raised", "dust-lowered-without-update"])
def test_finding_31_01__dust_change__no_longer_forgives_a_healthy_vaults_debt(system, aspect):
    """Attack: after a dust change, the owner of a healthy small vault liquidates itself and
    dust-closes its own auction: the debt was written off and the lot handed back to it."""
    if aspect == "dust-raised":
        _f31_01_dust_raised(system)
    else:
        _f31_01_dust_lowered(system)


def _f31_type_cap(system, t, cap: int) -> None:
    config = read(system, system.d.liquidator, "types", t.type_id)
    system.tx(
        system.d.liquidator, "configure_type", system.roles.governance, t.type_id, config[0],
        config[1], cap,
    )  # fmt: skip


def test_finding_31_02__fragment_then_dust_close__recovers_no_collateral(system):
    """Attack: a binding type cap cuts an underwater vault (98,000 of debt, 75 ETH at 1,000) into
    dust-size chunks (2,566 of debt, 1.96 ETH: 2,357 at the start price < min_auction 2,825) that
    its owner dust-closed at once; the old close gave each chunk's lot back (the review: 86,469
    recovered over 37 chunks). Now a chunk can be closed only once it ran its curve unsold, and
    then its lot goes to the Backstop: no one (owner or stranger) can close a chunk keepers
    would buy, so each is sold (a stranger closing them at once stranded the whole vault's
    collateral in the Backstop, the review of the first fix found), and the owner gets nothing
    back: still underwater, the same stablecoin, no reward."""
    r, t, d = system.roles, system.eth, system.d
    owner, market = r.other, 1_000 * WAD
    system.fund(owner, ETH, 75 * WAD)
    system.tx(
        d.engine, "modify_vault", owner, t.type_id, owner, owner, owner, 75 * WAD, 98_000 * WAD
    )
    move_prices(system, [(t, market)])
    _f31_type_cap(system, t, 2_900 * RAD)
    system.tx(d.engine, "create_unbacked", r.governance, r.governance, r.keeper, 10_000 * RAD)
    system.tx(d.engine, "allow", r.keeper, t.auction)
    stable = _stable(system, owner)  # underwater: walking away keeps only the stablecoin

    def equity() -> int:
        locked, normalized = read(system, d.engine, "vaults", t.type_id, owner)
        return locked * market * 10**9 - normalized * _ctype(system, t)[1]

    assert equity() < 0
    sold = 0
    for _ in range(3):
        system.tx(d.liquidator, "liquidate", owner, t.type_id, owner, owner)
        auction_id = started_auction(system, t.auction)
        assert [e.args["reward"] for e in system.events if e.name == "Started"] == [0]
        _, debt, lot, _, _, top = read(system, t.auction, "auctions", auction_id)[:6]
        assert lot * top < read(system, t.auction, "min_auction") and lot * top < debt
        for closer in (owner, r.stranger):
            with reverts("auction: not ended"):
                system.tx(t.auction, "close_dust_auction", closer, auction_id)
        # a keeper buys the chunk at the market price: its debt's shortfall is the loss
        _f31_wait_until(system, t, auction_id, market * 10**9)
        system.tx(t.auction, "take", r.keeper, auction_id, lot, 2**255, r.keeper, b"")
        assert [e.args["collateral_returned"] for e in system.events if e.name == "Finished"] == [0]
        sold += lot
        assert read(system, d.engine, "collateral", t.type_id, owner) == 0
    assert read(system, d.engine, "collateral", t.type_id, d.backstop) == 0
    locked, _ = read(system, d.engine, "vaults", t.type_id, owner)
    assert locked == 75 * WAD - sold and sold > 5 * WAD
    # still underwater, the same stablecoin: nothing recovered beyond walking away
    assert equity() < 0 and _stable(system, owner) == stable


def test_finding_31_03__one_vault_cut_into_chunks__rewards_at_most_half_its_income(system):
    """Attack: the same cap cuts a 13,000 vault (10 ETH at 1,500) into 5 auctions whose lots are
    above min_auction; the old flat reward (300 + 0.1%) was paid per chunk, 90% of each chunk's
    334 of penalty income (the review: 11,510 of 12,740 on one vault). Now each reward, and so
    the vault's sum, is at most half the income: keepers, the owner included, take at most
    half of what the vault's liquidation earns, however it is cut."""
    r, t, d = system.roles, system.eth, system.d
    system.open_vault(r.borrower, ETH, 10 * WAD, 13_000 * WAD)
    move_prices(system, [(t, 1_500 * WAD)])
    _f31_type_cap(system, t, 2_900 * RAD)
    system.tx(d.engine, "create_unbacked", r.governance, r.governance, r.keeper, 20_000 * RAD)
    system.tx(d.engine, "allow", r.keeper, t.auction)
    rewards, incomes = [], []
    while read(system, d.engine, "vaults", t.type_id, r.borrower)[1] != 0:
        system.tx(d.liquidator, "liquidate", r.borrower, t.type_id, r.borrower, r.borrower)
        auction_id = started_auction(system, t.auction)
        rewards += [e.args["reward"] for e in system.events if e.name == "Started"]
        _, debt, lot, _, _, top = read(system, t.auction, "auctions", auction_id)[:6]
        assert lot * top >= read(system, t.auction, "min_auction")  # no dust: it pays a reward
        incomes.append(debt - div_up(debt * WAD, t.config.liquidation_penalty))
        # a keeper buys the chunk at its start price: its debt is raised, the cap room freed
        system.tx(t.auction, "take", r.keeper, auction_id, lot, top, r.keeper, b"")
    assert len(rewards) == 5
    flat = t.config.keeper_reward_flat
    assert all(0 < reward == income // 2 < flat for reward, income in zip(rewards, incomes))
    assert sum(rewards) <= sum(incomes) // 2
    # what the old cap (the whole income) would have paid: 300 + 0.1% per chunk, over 80%
    old = [min(flat + (i * 113 // 13) // 1000, i) for i in incomes]
    assert sum(old) * 100 > 80 * sum(incomes)


def test_finding_31_04__holding_the_auction_slots__costs_half_the_penalty_per_slot(system):
    """Attack: fill the auction slots (then 1,024) with self-liquidated dust vaults, buying each
    lot back and refilling the slot; the old reward (302.83) plus the reset budget (22.17) was the
    whole 325 penalty: a slot cost ~22 a cycle. Now each cycle costs its owner at least half the
    penalty income (the reward is at most the other half): holding 1,024 slots cost at least
    1,024 x 162.5 = 166,400 per cycle, bought back at the market price; the set now holds 2**24,
    so filling it costs 16,384 times that, far beyond the caps on the debt in auction that the
    devnet and the lab set."""
    r, t, d = system.roles, system.eth, system.d
    attacker, market = r.other, 2_000 * WAD
    system.tx(d.engine, "create_unbacked", r.governance, r.governance, attacker, 3_000 * RAD)
    system.tx(d.engine, "allow", attacker, t.auction)
    for _ in range(3):
        _f31_vault_at_the_limit(system, attacker, t)
        before = holdings_value(system, attacker, t, market)
        auction_id, reward, debt, lot, _, income = _f31_self_liquidate(system, attacker, t)
        assert reward == income // 2
        assert read(system, t.auction, "auctions", auction_id)[6] == 0  # no budget for resets
        _f31_wait_until(system, t, auction_id, market * 10**9)
        system.tx(t.auction, "take", attacker, auction_id, lot, 2**255, attacker, b"")
        cost = before - holdings_value(system, attacker, t, market)
        assert cost >= income - reward >= 162 * RAD
        # every slot held so costs as much per cycle
        assert 1024 * (income - reward) > 166_000 * RAD
        assert MAX_ACTIVE * (income - reward) > 2_700_000_000 * RAD


# ---------------------------------------------------------------- 31.5: the automatic ceiling

M = 1_000_000  # stablecoin


def _f31_05_setup(system):
    """The devnet's ETH-A (max 30M, cooldown 12 h) with its gap of 5M set to 5M of normalized debt
    at the type's rate (5,000,003.1 BUSD: the rate has moved since the deployment, and no fee is
    accrued during the test), so that every debt and ceiling below is a whole number of `unit`s,
    a million of normalized debt [rad]. Closures over the system: a vault's change of normalized
    debt in millions, `update` by a sender, the ceiling, the type's debt [rad] and the manager's
    config (max, gap, cooldown, last_increase, window_base, window_high)."""
    r, t, e, ceiling = system.roles, system.eth, system.d.engine, system.d.ceiling
    cfg = t.config
    assert (cfg.ceiling_max, cfg.ceiling_gap, cfg.ceiling_cooldown) == (
        30 * M * RAD,
        5 * M * RAD,
        43_200,
    )  # devnet
    unit = M * WAD * _ctype(system, t)[1]
    gap, cooldown = 5 * unit, cfg.ceiling_cooldown
    assert 5 * M * RAD < gap < 5 * M * RAD + 4 * RAD
    system.tx(ceiling, "configure", r.governance, t.type_id, cfg.ceiling_max, gap, cooldown)

    def vault(who, millions):
        system.tx(e, "modify_vault", who, t.type_id, who, who, who, 0, millions * M * WAD)

    def update(who):
        system.tx(ceiling, "update", who, t.type_id)

    def ceiling_now() -> int:
        return _ctype(system, t)[3]

    def debt_now() -> int:
        normalized, rate = _ctype(system, t)[:2]
        return normalized * rate

    def config() -> tuple:
        return read(system, ceiling, "configs", t.type_id)

    return t, unit, cooldown, vault, update, ceiling_now, debt_now, config


def _f31_05_repay_update_redraw(system):
    """The review's attack, two windows running: the attacker (debt 10M = 2 x gap) repays all,
    calls update (the ceiling falls to debt + gap), redraws half, calls update (a window opens),
    redraws the rest. The old manager based that window at the lowered ceiling: the ceiling stayed
    at 15M and the honest borrower got 0 of new room per window. Now the window is based at the
    previous window's highest (15M, then 20M): after the attack the honest borrower still finds a
    gap of room, and the ceiling rises by a gap each window (15M -> 20M -> 25M)."""
    r = system.roles
    t, unit, cooldown, vault, update, ceiling_now, debt_now, config = _f31_05_setup(system)
    gap = 5 * unit
    honest, attacker = r.borrower, r.stranger
    # window 0: governance puts the ceiling at 10M; the attacker draws 10M, the honest borrower
    # (30,000 ETH) opens at 0; an update opens a window based at 10M (ceiling 15M), which the
    # honest borrower fills: the window's highest is 15M, debt 15M, no room left
    system.tx(system.d.engine, "set_debt_ceiling", r.governance, t.type_id, 10 * unit)
    system.open_vault(attacker, ETH, 15_000 * WAD, 10 * M * WAD)
    system.open_vault(honest, ETH, 30_000 * WAD, 0)
    update(r.keeper)
    assert ceiling_now() == 15 * unit
    vault(honest, 5)
    assert (debt_now(), ceiling_now()) == (15 * unit, 15 * unit)

    for high in (15 * unit, 20 * unit):
        system.warp(cooldown)  # the window ends; the next opens right after it (consecutive)
        # the attack
        vault(attacker, -10)
        update(attacker)  # a fall applies at once (opens no window)
        assert ceiling_now() == debt_now() + gap == high - 5 * unit
        vault(attacker, 5)
        update(attacker)  # opens the window
        opened = system.now
        assert ceiling_now() == debt_now() + gap == high
        vault(attacker, 5)
        update(attacker)  # the old manager: no rise (its cap, high - 5M + gap, was reached)
        # the honest borrower finds a gap of new room (the old manager left it 0)
        update(r.keeper)
        assert ceiling_now() == debt_now() + gap == high + gap
        room = ceiling_now() - debt_now()
        assert room == 5 * unit
        vault(honest, room // unit)
        # the window's cap: a gap above the ended window's highest (not above the fall)
        update(r.keeper)
        assert _events(system) == []
        assert (debt_now(), ceiling_now()) == (high + gap, high + gap)
        assert config()[3:] == (opened, high, high + gap)  # (last_increase, base, highest)
    # the old manager left it at 15M after two windows
    assert ceiling_now() == 25 * unit


def _f31_05_strict_rate_limit(system):
    """What the fix does not loosen. Within a window the ceiling rises to at most its base + gap,
    and a window based at the ended one's highest (15M: the debt fell to 5M before it opened)
    lets the debt rise only a gap above that highest (20M). The last second of consecutive windows
    (one cooldown after the end) keeps the highest; the first second after it (a quiet cooldown)
    opens at the current ceiling (the strict rate limit of finding 12)."""
    r = system.roles
    t, unit, cooldown, vault, update, ceiling_now, debt_now, config = _f31_05_setup(system)
    gap = 5 * unit
    b = r.borrower

    def draw_one_more_is_refused():  # one wei of normalized debt more
        with reverts("engine: type ceiling exceeded"):
            system.tx(system.d.engine, "modify_vault", b, t.type_id, b, b, b, 0, 1)

    # window 1: based at governance's 10M, debt 10M: the ceiling rises to 15M and no further
    system.tx(system.d.engine, "set_debt_ceiling", r.governance, t.type_id, 10 * unit)
    system.open_vault(b, ETH, 40_000 * WAD, 10 * M * WAD)
    update(r.keeper)
    opened = system.now
    vault(b, 5)
    update(r.keeper)
    assert _events(system) == []
    assert (debt_now(), ceiling_now()) == (15 * unit, 15 * unit)
    draw_one_more_is_refused()
    assert config()[3:5] == (opened, 10 * unit)  # (last_increase, base)

    # window 2: the debt falls to 5M (the ceiling to 10M) and is redrawn to 10M; the window
    # opens at the last second that counts as consecutive (one cooldown after window 1 ended,
    # minus one second): based at window 1's highest, 15M, not at the ceiling of 10M
    system.warp(opened + cooldown - system.now)
    vault(b, -10)
    update(r.keeper)
    assert ceiling_now() == 5 * unit + gap
    vault(b, 5)
    system.warp(opened + 2 * cooldown - 1 - system.now)
    update(r.keeper)
    opened = system.now
    assert ceiling_now() == 15 * unit
    vault(b, 5)
    update(r.keeper)
    assert ceiling_now() == 20 * unit  # (the old manager: 15M, its window based at 10M)
    vault(b, 5)
    update(r.keeper)  # a gap above the highest, no more
    assert _events(system) == []
    assert (debt_now(), ceiling_now()) == (20 * unit, 20 * unit)
    draw_one_more_is_refused()
    assert config()[3:] == (opened, 15 * unit, 20 * unit)

    # window 3 after a quiet cooldown: the debt falls to 10M (the ceiling to 15M) and is redrawn
    # to 15M; nothing rises until exactly one cooldown after window 2 ended: the window opens
    # based at the current ceiling, 15M, not at window 2's highest (20M)
    vault(b, -10)
    update(r.keeper)
    assert ceiling_now() == 10 * unit + gap
    vault(b, 5)
    system.warp(opened + 2 * cooldown - system.now)
    update(r.keeper)
    assert ceiling_now() == 20 * unit
    assert config()[3:] == (system.now, 15 * unit, 20 * unit)
    vault(b, 5)
    update(r.keeper)
    assert _events(system) == []
    assert (debt_now(), ceiling_now()) == (20 * unit, 20 * unit)  # 15M + gap, not 25M
    draw_one_more_is_refused()


@pytest.mark.parametrize("aspect", ["repay-update-redraw", "strict-rate-limit"])
def test_finding_31_05__lower_then_open__the_window_keeps_its_cap(system, aspect):
    """Attack: a borrower with 2 x gap of debt (10M) repays all, calls update (the ceiling falls at
    once), redraws half, calls update (a window opens at the lowered ceiling), redraws the rest:
    the ceiling stays at 15M and honest borrowers get 0 of new room per window instead of 5M."""
    # Now a window opening less than a cooldown after the previous one ended is based at least at
    # that window's highest ceiling: the fall before it no longer lowers its cap.
    if aspect == "repay-update-redraw":
        _f31_05_repay_update_redraw(system)
    else:
        _f31_05_strict_rate_limit(system)


# ---------------------------------------------------------------- 31.6-31.8: the fund and the pool
# (the loss used, as above: a 10 ETH / 13,000 BUSD vault liquidated after ETH falls from 2,000 to
# 1,000, its whole lot bought at the auction's top, 1,200)

POOL_MAX_YIELD = WAD // 5  # 20% a year (config/devnet.toml)
YEAR = 365 * DAY  # contracts/FeeAccumulator.vy


def _f31_borrower_and_buyer(system) -> None:
    """The borrower's 10 ETH / 13,000 vault and the keeper's capital to buy its lot."""
    r, t = system.roles, system.eth
    system.open_vault(r.borrower, ETH, 10 * WAD, VAULT_DEBT)
    system.open_vault(r.keeper, ETH, 20 * WAD, 12_000 * WAD)
    system.tx(system.d.engine, "allow", r.keeper, t.auction)


def _f31_liquidate_and_sell_out(system) -> tuple[int, int]:
    """The keeper liquidates the borrower (its reward is the Backstop's unattributed bad debt) and
    buys the whole lot at the top: the loss event closes with L. Returns (auction id, L)."""
    r, t, d = system.roles, system.eth, system.d
    system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper)
    auction_id = started_auction(system, t.auction)
    _, _, lot, _, _, top = read(system, t.auction, "auctions", auction_id)[:6]
    system.tx(t.auction, "take", r.keeper, auction_id, lot, top, r.keeper, b"")
    loss = VAULT_DEBT * _ctype(system, t)[1] - SOLD_FOR
    assert read(system, d.backstop, "losses", t.type_id, t.auction, auction_id)[1] == loss
    return auction_id, loss


def _f31_cover(system, auction_id: int) -> list[tuple[int, int]]:
    """The keeper covers the event; its receipts (layer, amount), in order."""
    t = system.eth
    system.tx(system.d.backstop, "cover", system.roles.keeper, t.type_id, t.auction, auction_id)
    return [
        (args["layer"], args["amount"])
        for _, name, args in _events(system)
        if name == "LossAllocated"
    ]


def _f31_realize(system, staker) -> list[int]:
    system.tx(system.d.stability_pool, "realize", system.roles.keeper, staker, 10)
    return [args["amount"] for _, name, args in _events(system) if name == "StakerCharged"]


# ================================================================ 31-6: settle before cover


def _f31_06(system, shutdown: bool) -> None:
    """A staker's 5,000 in the pool; a loss L (about 1,000) waits for cover; the fund holds 500
    of surplus above the keeper reward (the unattributed bad debt). Live: settled first or not,
    the fund pays 500 and the pool L - 500 (the fund keeps the reward's share for it). After
    shutdown: the fund pays all its free surplus (814.69) and the pool the rest, and a settle
    waits until no loss is open, so it cannot come first."""
    r, d, t = system.roles, system.d, system.eth
    staker = r.other
    _staker(system, staker)
    _stake(system, staker, 5_000 * RAD)
    _f31_borrower_and_buyer(system)
    move_prices(system, [(t, 1_000 * WAD)])
    auction_id, loss = _f31_liquidate_and_sell_out(system)
    unattributed = read(system, d.backstop, "unattributed_debt")
    assert unattributed > 300 * RAD  # the keeper's reward: 300 + 0.1% of the debt to raise
    # the insurance fund: 500 of surplus above the unattributed bad debt (governance mints it to
    # the Backstop against its own bad debt)
    system.tx(
        d.engine,
        "create_unbacked",
        r.governance,
        r.governance,
        d.backstop,
        unattributed + 500 * RAD,
    )
    # free surplus (the proceeds are owed to the seized debt) less the unattributed bad debt
    free = _stable(system, d.backstop) - read(system, d.backstop, "unsettled_proceeds")
    assert free == unattributed + 500 * RAD < loss
    fund = 500 * RAD
    if shutdown:
        system.tx(d.settlement, "shutdown", r.governance)
        fund = free  # the unattributed debt is then mostly closed vaults' debt: thaw settles it
    expected = [(FUND, fund), (POOL, loss - fund)]

    # the stranger settles first
    with system.what_if():
        system.warp(QUEUE_DELAY)
        if shutdown:
            with reverts("backstop: losses open"):  # the old Backstop: settled
                system.tx(d.backstop, "settle", r.stranger, unattributed)
        else:
            system.tx(d.backstop, "settle", r.stranger, unattributed)
        settled_first = _f31_cover(system, auction_id)
        charge_settled_first = _f31_realize(system, staker)
    # the honest order: cover first (the old fund paid all its free surplus here, the reward's
    # share included: (FUND, 814.69), (POOL, 185.32)), then the reward settles from what the
    # fund kept for it
    system.warp(QUEUE_DELAY)
    covered_first = _f31_cover(system, auction_id)
    assert covered_first == settled_first == expected
    assert _f31_realize(system, staker) == charge_settled_first == [loss - fund]
    assert _pool(system, "value_of", staker) == 5_000 * RAD - (loss - fund)
    if not shutdown:
        system.tx(d.backstop, "settle", r.stranger, unattributed)
        assert read(system, d.backstop, "unattributed_debt") == 0


@pytest.mark.parametrize("aspect", ["live", "after-shutdown"])
def test_finding_31_06__settle_before_cover__the_fund_pays_the_same(system, aspect):
    """Attack: before a loss is covered, a stranger settles the keeper-reward bad debt against the
    insurance fund's surplus: the fund then pays less of the loss, the stakers more (+2,611)."""
    _f31_06(system, shutdown=aspect == "after-shutdown")


# ================================================================ 31-7: a lone tiny staker


def _f31_07_lone_staker(system) -> None:
    """One stablecoin alone in the pool for 30 days of a 1,000,000 BUSD type: the pool earns at
    most its yield cap on that stablecoin (0.0164), not the type's fee share (~411); the rest
    of the share goes to the Backstop."""
    r, d, t = system.roles, system.d, system.eth
    attacker = r.stranger
    system.open_vault(r.borrower, ETH, 1_500 * WAD, 1_000_000 * WAD)
    _staker(system, attacker)
    _stake(system, attacker, MIN_SHARES)
    assert read(system, d.fees, "pool_max_yield") == POOL_MAX_YIELD
    # the time since the type's last accrual, capped alike
    since = read(system, d.fees, "fees", t.type_id)[1]
    system.tx(d.fees, "accrue", r.keeper, t.type_id)
    assets = _pool(system, "assets")
    assert assets == MIN_SHARES + MIN_SHARES * POOL_MAX_YIELD * (system.now - since) // (WAD * YEAR)
    system.warp(30 * DAY)
    backstop_0 = _stable(system, d.backstop)
    system.tx(d.fees, "accrue", r.keeper, t.type_id)
    (shared,) = [args for _, name, args in _events(system) if name == "FeesShared"]
    income = shared["to_pool"] + shared["to_recipient"]
    fee_share = income * read(system, d.fees, "pool_fee_share") // WAD
    cap = assets * (POOL_MAX_YIELD * 30 * DAY) // (WAD * YEAR)
    # the old FeeAccumulator paid the pool its whole fee share, here about 411 BUSD
    assert 400 * RAD < fee_share
    # 20% a year on one stablecoin for 30 days: 0.0164
    assert shared["to_pool"] == cap
    assert 164 * RAD // 10_000 < cap < 165 * RAD // 10_000
    assert _stable(system, d.backstop) == backstop_0 + income - cap
    assert _pool(system, "value_of", attacker) == _pool(system, "assets") == assets + cap


def _f31_07_min_entry(system) -> None:
    """The share price rises 5,001-fold (income governance reports to a one-stablecoin pool):
    a newcomer still enters with one stablecoin (the old minimum: 10**45 shares, now worth
    5,001), and half a stablecoin is still refused."""
    r, d, p = system.roles, system.d, system.d.stability_pool
    first, newcomer = r.stranger, r.other
    for who in (first, newcomer, r.feeder):
        _staker(system, who)
    _stake(system, first, MIN_SHARES)
    system.tx(d.engine, "transfer_stable", r.feeder, r.feeder, p, 5_000 * RAD)
    system.tx(p, "add_income", r.governance, 5_000 * RAD)
    assert _pool(system, "value_of", first) == 5_001 * RAD  # 10**45 shares

    system.tx(p, "stake", newcomer, MIN_SHARES // 2)
    system.warp(EXPOSURE_DELAY)
    with reverts("pool: below minimum shares"):
        system.tx(p, "activate", newcomer)
    system.tx(p, "cancel_pending", newcomer)
    _stake(system, newcomer, MIN_SHARES)  # the old pool: "pool: below minimum shares"
    shares = MIN_SHARES * MIN_SHARES // (5_001 * RAD)
    assert _pool(system, "shares", newcomer) == shares < MIN_SHARES
    # worth its stake, less than one share's value of rounding (5,001 rad-wei)
    assert MIN_SHARES - 5_001 <= _pool(system, "value_of", newcomer) <= MIN_SHARES


@pytest.mark.parametrize(
    "aspect", ["lone-staker-fee-share", "min-entry-does-not-grow-with-the-share-price"]
)
def test_finding_31_07__lone_tiny_staker__cannot_take_the_whole_fee_share(system, aspect):
    """Attack: be the pool's only staker with one stablecoin: it takes the pool's whole fee share
    (6,108 in 30 days, 25% of ETH-A's fees), and the minimum entry (10**45 shares) costs 6,143."""
    if aspect == "lone-staker-fee-share":
        _f31_07_lone_staker(system)
    else:
        _f31_07_min_entry(system)


# ================================================================ 31-8: requested shares


def _f31_08(system, cancel: bool) -> None:
    """A asks for all its 5,000; a loss charges the pool (A pays half); fees refill the pool
    for a week. A's withdrawal pays 5,000 less its part of the charge (rounded up), and the
    income after the request goes to the Backstop; cancelling instead forfeits it in shares."""
    r, d, t, p = system.roles, system.d, system.eth, system.d.stability_pool
    a, b = r.other, r.stranger
    for who in (a, b):
        _staker(system, who)
        _stake(system, who, 5_000 * RAD)
    _f31_borrower_and_buyer(system)
    # a large borrower whose fees refill the pool
    system.open_vault(r.feeder, ETH, 1_500 * WAD, 500_000 * WAD)
    system.tx(p, "request_withdrawal", a, 5_000 * RAD)
    assert _pool(system, "withdrawal_value", a) == 5_000 * RAD
    move_prices(system, [(t, 1_000 * WAD)])
    auction_id, loss = _f31_liquidate_and_sell_out(system)
    system.warp(QUEUE_DELAY)
    assert _f31_cover(system, auction_id) == [(POOL, loss)]
    (a_charge,) = _f31_realize(system, a)
    assert a_charge == loss // 2
    cap = 5_000 * RAD - -(-5_000 * RAD * loss // (10_000 * RAD))
    assert _pool(system, "withdrawal_value", a) == cap  # the old pool kept 5,000 here
    _f31_realize(system, b)
    assert _pool(system, "value_of", a) <= cap

    # a week of fees refills the pool: A's shares earn again above the cap (A's request has
    # matured by then, inside its exit window)
    system.warp(COOLDOWN)
    system.tx(d.fees, "accrue", r.keeper, t.type_id)
    (income,) = [args["amount"] for _, name, args in _events(system) if name == "IncomeAdded"]
    value_now = _pool(system, "value_of", a)
    earned = value_now - cap
    assert 0 < earned <= income // 2 + 1
    backstop_0, a_0 = _stable(system, d.backstop), _stable(system, a)
    if cancel:
        system.tx(p, "cancel_withdrawal", a)  # the old pool: nothing forfeited (value < 5,000)
        forfeited = [args for _, name, args in _events(system) if name == "IncomeForfeited"]
        assert forfeited == [{"staker": a, "amount": earned}]
        assert _stable(system, d.backstop) == backstop_0 + earned
        # A keeps the shares worth its cap, the income after the request burned away
        assert cap - RAY <= _pool(system, "value_of", a) <= cap
    else:
        system.tx(p, "withdraw", a)  # the old pool paid A its value now, 0 forfeited
        assert _stable(system, a) == a_0 + cap
        forfeited = [args for _, name, args in _events(system) if name == "IncomeForfeited"]
        assert forfeited == [{"staker": a, "amount": earned}]
        assert _stable(system, d.backstop) == backstop_0 + earned


@pytest.mark.parametrize("aspect", ["withdraw", "cancel"])
def test_finding_31_08__requested_shares_after_a_charge__earn_nothing(system, aspect):
    """Attack: ask to leave, let a loss lower the shares' value below the request's, and let
    income refill it: the payout, min(value at request, value now), earned 664; 0 forfeited."""
    _f31_08(system, cancel=aspect == "cancel")
