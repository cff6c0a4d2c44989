"""Every state-changing entry point of the deployed contracts, classed by what a queued governance
proposal that calls it can do at its eta (issue 72): the one table the notifier reads to decide
which calls of a queued proposal it announces (offchain/sim/strategies/notice.py, `ape run keeper
--role notifier`; docs/keepers.md, "A queued governance change").

The classes:

- `grant`: hands out a right that, once the proposal has run, acts without the delay (an admin,
  a role, a minter, a feeder, a price source, the governance token's owner, the Timelock's
  proposer or guardian; an allowance or a delegation of the Timelock's own balances);
- `value`: moves value or redirects a flow of value (a vault's collateral seized, stablecoin
  created unbacked, governance token minted, the fee recipient, the Backstop's layer contracts,
  the auction that receives a type's seized lots, a shutdown);
- `vault limit`: changes whether a vault is safe or called, or whether its owner can act to
  keep it so (a liquidation ratio, the size margin, the engine's safe price, the dust, the
  margin calls' parameters, the oracle's staleness and its delay);
- `parameter`: everything else a privileged caller sets (fees, ceilings, the oracle's step, a
  right taken away); a setting that applies to what is already open or queued (the
  auctions' steps, durations and sizes, the losses' order and delay, the pool's pending exits
  and its fee cap, the deleveraging buffer and limits, the cap on debt in auction) is `value`
  (the seventh round);
- `public`: anyone may call it, and made by the Timelock it moves nothing of the Timelock's own
  (pokes, accruals, liquidations, settlement steps): the notifier says nothing of it.

A function anyone may call is classed by what it does with the Timelock as its caller (a
proposal's calls run with the Timelock as `msg.sender`): a transfer of the Timelock's own tokens
is `value`, an allowance of them a `grant`. The Timelock holds no balance in a deployment
(offchain/system/deployment.py, `hand_to_timelock`), but a proposal that first redirects fees or
mints to it could then pay them out; both steps are announced.

Keyed by contract name (the names of offchain/backends' MODEL_FACTORIES: the deployment record's
and the ABIs') and function name. tests/system/test_privileges.py walks every contract's ABI and
fails, naming it, on a state-changing function without a class, and reads each contract's source:
a function with an access check is never `public`.
"""

from __future__ import annotations

__all__ = [
    "CLASSES",
    "FLAGGED",
    "GRANT",
    "PARAMETER",
    "PUBLIC",
    "REVOKES",
    "RIGHTS",
    "TABLE",
    "VALUE",
    "VAULT_LIMIT",
    "class_of",
]

GRANT = "grant"
VALUE = "value"
VAULT_LIMIT = "vault limit"
PARAMETER = "parameter"
PUBLIC = "public"
CLASSES = (GRANT, VALUE, VAULT_LIMIT, PARAMETER, PUBLIC)
# the classes the notifier announces, each call of a queued proposal once
FLAGGED = frozenset({GRANT, VALUE, VAULT_LIMIT})

# what each `grant` function hands out, and which of its arguments receives it: function ->
# (the right, the argument's index). A new feeder's posts wait only the oracle's own delay; a new
# price source (`set_oracle`, its last argument) is whatever that contract reports, at once; the
# token's new owner sets minters and is one itself (snekmate's erc20 makes it so)
RIGHTS: dict[str, tuple[str, int]] = {
    "add_authority": ("admin", 0),
    "grant_role": ("role", 0),
    "set_minter": ("minter", 0),
    "set_feeder": ("feeder", 0),
    "set_oracle": ("price source", -1),
    "set_proposer": ("proposer", 0),
    "set_guardian": ("guardian", 0),
    "transfer_ownership": ("owner", 0),
    "approve": ("allowance", 0),
    "allow": ("delegate", 0),
}
# grant functions whose second argument false (or 0) takes the right away: no grant then
REVOKES = frozenset({"set_minter", "set_feeder", "approve"})

# authorized.vy, exported by every contract with admins
_AUTH = {
    "add_authority": GRANT,
    "grant_role": GRANT,
    # a right taken away: a contract that loses its role stops doing its job (the Spotter without
    # PRICE freezes every safe price, so vaults draw against a price the market left: issue 72's
    # review), an admin removed may be governance itself
    "remove_authority": VALUE,
    "revoke_role": VALUE,
}

# snekmate's erc20 with ownable (Stablecoin, GovernanceToken, TestToken)
_ERC20 = {
    "transfer": VALUE,  # anyone: the Timelock's own tokens
    "transferFrom": VALUE,  # anyone: tokens someone allowed the Timelock to spend
    "burn": VALUE,  # anyone: the Timelock's own tokens destroyed
    "burn_from": VALUE,
    "approve": GRANT,  # anyone: its spender takes the Timelock's own tokens at once
    "permit": PUBLIC,  # an owner's signature: what anyone holding it could submit
    "mint": VALUE,  # minters only (the Timelock is the GovernanceToken's owner, so a minter)
    "set_minter": GRANT,  # the owner only
    "transfer_ownership": GRANT,  # the owner only; the new owner is a minter at once
    "renounce_ownership": PARAMETER,  # nobody sets minters again: irreversible, nobody gains
}

# every contract the deployment deploys (MODEL_FACTORIES) -> function -> class
TABLE: dict[str, dict[str, str]] = {
    "VaultEngine": {
        **_AUTH,
        "allow": GRANT,  # anyone: a delegate of the Timelock's own vaults and balances
        "disallow": PUBLIC,
        "init_type": PARAMETER,  # a new type: no vault yet
        "set_global_debt_ceiling": PARAMETER,  # bounds new debt only
        "set_debt_ceiling": PARAMETER,
        "set_fee_kink": PARAMETER,
        # a vault's debt must end at 0 or at least the dust when it changes: an owner below a
        # raised dust can no longer repay part of it (partial liquidations and dust auctions move
        # with it too)
        "set_dust": VAULT_LIMIT,
        # every vault of the type judged at this price until the Spotter's next poke: 0 makes
        # every vault with debt unsafe, liquidable in the execution's own block
        "set_safe_price": VAULT_LIMIT,
        "set_size_margin": VAULT_LIMIT,
        "shutdown": VALUE,  # every vault and balance frozen, outside settlement's order
        "modify_collateral_balance": VALUE,  # free collateral credited without tokens
        "transfer_collateral": VALUE,  # anyone: the Timelock's own (or delegated) balance
        "transfer_stable": VALUE,
        "modify_vault": VALUE,  # anyone: the Timelock's own balances and vault
        "join_vault": VALUE,  # the JOIN role: collateral locked without tokens
        "seize": VALUE,  # a vault's collateral to any account, its debt to any account
        # raises every vault's debt (judged per vault too) and credits the difference to anyone
        "fold_rate": VALUE,
        "create_unbacked": VALUE,  # stablecoin to anyone against bad debt
        "settle": PUBLIC,  # the caller's own bad debt against its own stablecoin
    },
    "Stablecoin": dict(_ERC20),
    "TestToken": dict(_ERC20),
    "GovernanceToken": dict(_ERC20),
    "StableJoin": {
        "join": VALUE,  # anyone: the Timelock's own tokens
        "exit": VALUE,
    },
    "CollateralJoin": {
        **_AUTH,
        # no owner can deposit the type's tokens any more to keep a vault safe
        "shutdown": VAULT_LIMIT,
        "join": VALUE,  # anyone: the Timelock's own tokens
        "join_and_modify": VALUE,
        "exit": VALUE,
    },
    "PriceOracle": {
        **_AUTH,
        "set_feeder": GRANT,
        # how long a posted price waits before a poke makes it current: a shorter one makes a
        # drop already queued current sooner, so owners lose the warning the delay gave them to
        # keep a vault safe (the seventh round, docs/security.md)
        "set_delay": VAULT_LIMIT,
        # a shorter one can make the current price stale: the Spotter's next poke then sets a
        # safe price of 0, every vault with debt unsafe
        "set_max_age": VAULT_LIMIT,
        "set_max_change": PARAMETER,  # bounds the next posts
        # the current price stays in force (docs/governance.md, the emergency role's bound)
        "void": PARAMETER,
        "post": VAULT_LIMIT,  # feeders only: the next price
        "poke": PUBLIC,
    },
    "Spotter": {
        **_AUTH,
        "set_oracle": GRANT,
        "set_liquidation_ratio": VAULT_LIMIT,
        "poke": PUBLIC,
    },
    "FeeAccumulator": {
        **_AUTH,
        "init_type": PARAMETER,
        "set_base_fee": PARAMETER,  # debt grows faster from the eta, no vault moves at it
        "set_multiplier": PARAMETER,
        "set_fee_recipient": VALUE,  # who receives every accrual
        "set_pool_fee_share": VALUE,  # its pool is any address: a share of every accrual
        # the accruals not yet made are capped at the new yield: 0 sends the pool's whole share
        # to the recipient while its stakers wait out their cooldown (the seventh round)
        "set_pool_max_yield": VALUE,
        "accrue": PUBLIC,
    },
    "CeilingManager": {
        **_AUTH,
        "configure": PARAMETER,
        "remove": PARAMETER,
        "update": PUBLIC,
    },
    "Backstop": {
        **_AUTH,
        # applies to the losses already queued: up to a year before any is covered, and every
        # pool exit maturing after an open shortfall waits for it (the seventh round)
        "set_queue_delay": VALUE,
        # which layers bear every loss not yet covered, queued or at auction, in which order:
        # POOL before FUND moves them onto stakers locked in their cooldown (the seventh round)
        "set_waterfall": VALUE,
        # how near its liquidation line a charged vault may be left, and how much of its
        # headroom a window may take (an interval of 0 opens a window at every call): both
        # apply to the vaults already open (the seventh round)
        "set_deleverage_buffer": VALUE,
        "set_deleverage_limits": VALUE,
        # the contract whose warning factors keep a deleveraging charge out of the called band:
        # another one (any answer) lifts that bound
        "set_margin_call": VAULT_LIMIT,
        # a loss due from the vaults moved onto the debt auctions (new governance token)
        "release_deleverage": VALUE,
        "set_layer_contracts": VALUE,  # the pool, the debt and the surplus auction: any contract
        # the surplus buffer and lot: a buffer of 0 and a lot of all of it puts the whole
        # insurance fund in one surplus auction (the seventh round)
        "set_auction_parameters": VALUE,
        "open_loss": VALUE,  # the OPEN_LOSS role: a loss the waterfall then charges
        "close_loss": VALUE,  # the CLOSE_LOSS role: what an auction did not raise
        "advance_open_losses": PUBLIC,  # loss_book.vy's bookkeeping
        "cover": PUBLIC,
        "deleverage": VALUE,  # the DELEVERAGE role: bad debt moved into the listed vaults
        "settle": PUBLIC,
        "heal": PUBLIC,
        "start_debt_auction": PUBLIC,
        "on_debt_auction_bid": VALUE,  # the debt auction only: cancels bad debt
        "start_surplus_auction": PUBLIC,
        "shutdown": VALUE,
    },
    "Liquidator": {
        **_AUTH,
        # a cap of 0 stops every liquidation of every type, as the shutdown (the seventh round)
        "set_max_debt_in_auction": VALUE,
        # its auction receives every seized lot of the type; its penalty is what a liquidated
        # owner pays
        "configure_type": VALUE,
        "shutdown": VALUE,  # no liquidation any more: bad debt left to grow
        "liquidate": PUBLIC,
        "liquidate_many": PUBLIC,
        "remove_debt_in_auction": PARAMETER,  # the auctions' counter against the cap
    },
    "DutchAuction": {
        **_AUTH,
        # the auction's pace and reset bounds: a max_drop of 0 with a curve cut to a wei sells a
        # running lot for nothing (issue 72's review: a 1,000 ETH lot for under a wei)
        "set_parameters": VALUE,
        "set_curve": VALUE,
        "set_oracle": GRANT,
        # stops (or restarts) the house: no take, no liquidation, as the Liquidator's shutdown
        "set_stopped": VALUE,
        "start": VALUE,  # the START role: sells collateral it holds, rewards any keeper
        "reset": PUBLIC,
        "take": VALUE,  # anyone: pays with the Timelock's own stablecoin
        "close_dust_auction": PUBLIC,
        "cancel_for_settlement": VALUE,  # the CANCEL role: debt put back at any final price
    },
    "CollateralPool": {
        "add_liquidity": VALUE,  # anyone: the Timelock's own tokens
        "remove_liquidity": VALUE,
        "swap": VALUE,
    },
    "OutsideVenue": {
        # a lab and devnet contract (the outside venue on chain), its market's driver only
        "sync": PARAMETER,
        "withdraw": VALUE,
        "swap": VALUE,  # anyone: the Timelock's own tokens
    },
    "FlashTaker": {
        # a keeper's contract, its owner only (the auction only for the callback)
        "take": VALUE,
        "on_auction_take": VALUE,
        "withdraw": VALUE,
    },
    "StabilityPool": {
        **_AUTH,
        # both apply to pending requests: a year's cooldown, or an exit window of a second that
        # lapses every matured request, against stakers who cannot leave within the delay
        "set_cooldown": VALUE,
        "set_exposure": VALUE,
        "add_income": VALUE,  # the INCOME role: stablecoin held beyond assets to the shares
        "stake": VALUE,  # anyone: the Timelock's own stablecoin
        "cancel_pending": VALUE,
        "activate": PUBLIC,  # the caller's own stake changes form: nothing leaves
        "request_withdrawal": PUBLIC,
        "cancel_withdrawal": PUBLIC,
        "withdraw": VALUE,
        "realize": PUBLIC,
        "absorb": VALUE,  # the Backstop only: the pool pays a loss
    },
    "DebtAuction": {
        **_AUTH,
        # the first lot and the bids' step: how much governance token a bad debt mints (the
        # step bounded on chain at 1.5, the seventh round)
        "set_parameters": VALUE,
        "shutdown": VALUE,
        "start": VALUE,  # the START role: governance token for a bid of any size
        "bid": VALUE,  # anyone: the Timelock's own stablecoin
        "restart": PUBLIC,
        "finish": PUBLIC,
        "repay": PUBLIC,
        "cancel": PUBLIC,
    },
    "SurplusAuction": {
        **_AUTH,
        # the bids' step: how little a winner pays for the surplus (bounded on chain at 1.5,
        # the seventh round)
        "set_parameters": VALUE,
        "shutdown": VALUE,
        "start": VALUE,  # the START role: sells the stablecoin it holds
        "bid": VALUE,  # anyone: the Timelock's own governance token
        "restart": PUBLIC,
        "finish": PUBLIC,
        "cancel": PUBLIC,
    },
    "GlobalSettlement": {
        **_AUTH,
        # how long holders wait to redeem after a shutdown (at most 30 days on chain)
        "set_wait": VALUE,
        # every vault closed at a price fixed after it (the guardian's bound, governance.md)
        "shutdown": VALUE,
        "fix_price": PUBLIC,
        "cancel_auction": PUBLIC,
        "close_vault": PUBLIC,
        "free_collateral": VALUE,  # anyone: the Timelock's own vault's collateral
        "thaw": PUBLIC,
        "fix_cash_price": PUBLIC,
        "pack": VALUE,  # anyone: the Timelock's own stablecoin
        "cash": VALUE,
    },
    "MarginCall": {
        **_AUTH,
        "set_parameters": VAULT_LIMIT,  # the warning factor: which vaults are called
        "remove": VAULT_LIMIT,  # no vault of the type called any more
        # the caller's own vaults (the Timelock has none; its VaultEngine.allow, a grant, is
        # needed too)
        "opt_in": PUBLIC,
        "opt_out": PUBLIC,
        "soft_liquidate": VALUE,  # anyone: repays with the Timelock's own stablecoin
    },
    "Timelock": {
        # the proposer's (or the guardian's) own: from a proposal they revert, the Timelock
        # being never its own proposer (a guardian it made itself could cancel)
        "propose": PARAMETER,
        "execute": PARAMETER,
        "cancel": PARAMETER,
        # only through the queue: a shorter delay still announces every later proposal
        "set_delay": PARAMETER,
        "set_grace": PARAMETER,
        "set_proposer": GRANT,
        "set_guardian": GRANT,
    },
}


def class_of(contract: str, function: str) -> str | None:
    """The class of `contract`'s `function` (a contract name of TABLE); None for a function or a
    contract the table does not hold (a view, an unknown contract): the notifier flags a call of
    it as not classed."""
    return TABLE.get(contract, {}).get(function)
