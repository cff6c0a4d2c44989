"""The privilege table and its probes (tests/contracts/roles/).

`WHO_MAY_CALL` is the specification, written from the contracts' purpose and independently of the
deployment recipe: for every privileged function of every deployed contract, the kinds of contract
that may call it besides governance (the admin of every contract, which may call everything).
docs/security.md, "Who may call what", is the same table in prose.

For each function, every caller (governance, each deployed contract, a stranger) calls it without
changing state: on chain an `eth_call` from the caller's address (a contract address needs no
key for a call), in the model a transaction rolled back after it runs. The call must be refused
with "authorized: not authorized" exactly when the table says so; an allowed call may revert for
any other reason (its arguments are not meant to be valid).
"""

from __future__ import annotations

from offchain.system.deployment import Deployment, TypeDeployment

AUTH_REASON = "authorized: not authorized"
# the admin functions of modules/authorized.vy, exported by every contract in the table
AUTH_FUNCTIONS = ("add_authority", "remove_authority", "grant_role", "revoke_role")
ADMIN_ONLY: frozenset[str] = frozenset()

# (contract kind, function) -> kinds of deployed contract that may call it, besides governance.
# A kind is the contract's name; every instance of a per-type kind (CollateralJoin, DutchAuction,
# PriceOracle) is listed by the deployment under "<kind> <type>".
WHO_MAY_CALL: dict[tuple[str, str], frozenset[str]] = {
    ("VaultEngine", "init_type"): ADMIN_ONLY,
    ("VaultEngine", "set_global_debt_ceiling"): ADMIN_ONLY,
    ("VaultEngine", "set_dust"): ADMIN_ONLY,
    ("VaultEngine", "set_size_margin"): ADMIN_ONLY,
    ("VaultEngine", "set_debt_ceiling"): frozenset({"CeilingManager"}),
    ("VaultEngine", "set_fee_kink"): frozenset({"FeeAccumulator"}),
    ("VaultEngine", "set_safe_price"): frozenset({"Spotter"}),
    ("VaultEngine", "shutdown"): frozenset({"GlobalSettlement"}),
    ("VaultEngine", "modify_collateral_balance"): frozenset({"CollateralJoin"}),
    ("VaultEngine", "join_vault"): frozenset({"CollateralJoin"}),
    # liquidation; closing vaults and cancelling auctions at settlement
    ("VaultEngine", "seize"): frozenset(
        {"Liquidator", "GlobalSettlement", "DutchAuction", "Backstop"}
    ),
    # fees; the Backstop's redistribution
    ("VaultEngine", "fold_rate"): frozenset({"FeeAccumulator", "Backstop"}),
    # keeper rewards and cancel refunds (auctions), refunds of cancelled debt auctions
    ("VaultEngine", "create_unbacked"): frozenset({"DutchAuction", "DebtAuction"}),
    ("Spotter", "set_oracle"): ADMIN_ONLY,
    ("Spotter", "set_liquidation_ratio"): ADMIN_ONLY,
    ("Backstop", "set_queue_delay"): ADMIN_ONLY,
    ("Backstop", "set_waterfall"): ADMIN_ONLY,
    ("Backstop", "set_layer_contracts"): ADMIN_ONLY,
    ("Backstop", "set_auction_parameters"): ADMIN_ONLY,
    ("Backstop", "set_deleverage_buffer"): ADMIN_ONLY,
    ("Backstop", "set_deleverage_limits"): ADMIN_ONLY,
    ("Backstop", "release_deleverage"): ADMIN_ONLY,
    ("Backstop", "set_margin_call"): ADMIN_ONLY,
    # the DELEVERAGE role: a keeper governance names (no contract holds it)
    ("Backstop", "deleverage"): ADMIN_ONLY,
    ("Backstop", "open_loss"): frozenset({"Liquidator"}),
    ("Backstop", "close_loss"): frozenset({"DutchAuction"}),
    ("Backstop", "shutdown"): frozenset({"GlobalSettlement"}),
    ("FeeAccumulator", "init_type"): ADMIN_ONLY,
    ("FeeAccumulator", "set_base_fee"): ADMIN_ONLY,
    ("FeeAccumulator", "set_multiplier"): ADMIN_ONLY,
    ("FeeAccumulator", "set_fee_recipient"): ADMIN_ONLY,
    ("FeeAccumulator", "set_pool_fee_share"): ADMIN_ONLY,
    ("FeeAccumulator", "set_pool_max_yield"): ADMIN_ONLY,
    ("CeilingManager", "configure"): ADMIN_ONLY,
    ("CeilingManager", "remove"): ADMIN_ONLY,
    ("Liquidator", "set_max_debt_in_auction"): ADMIN_ONLY,
    ("Liquidator", "configure_type"): ADMIN_ONLY,
    ("Liquidator", "shutdown"): frozenset({"GlobalSettlement"}),
    ("Liquidator", "remove_debt_in_auction"): frozenset({"DutchAuction"}),
    ("StabilityPool", "set_cooldown"): ADMIN_ONLY,
    ("StabilityPool", "set_exposure"): ADMIN_ONLY,
    ("StabilityPool", "add_income"): frozenset({"FeeAccumulator"}),
    ("DebtAuction", "set_parameters"): ADMIN_ONLY,
    ("DebtAuction", "start"): frozenset({"Backstop"}),
    ("DebtAuction", "shutdown"): frozenset({"Backstop"}),
    ("SurplusAuction", "set_parameters"): ADMIN_ONLY,
    ("SurplusAuction", "start"): frozenset({"Backstop"}),
    ("SurplusAuction", "shutdown"): frozenset({"Backstop"}),
    ("GlobalSettlement", "set_wait"): ADMIN_ONLY,
    # and the EMERGENCY role (the guardian, an account: no contract holds it), as for void and
    # set_stopped below
    ("GlobalSettlement", "shutdown"): ADMIN_ONLY,
    ("CollateralJoin", "shutdown"): ADMIN_ONLY,
    ("PriceOracle", "set_feeder"): ADMIN_ONLY,
    ("PriceOracle", "set_delay"): ADMIN_ONLY,
    ("PriceOracle", "set_max_age"): ADMIN_ONLY,
    ("PriceOracle", "set_max_change"): ADMIN_ONLY,
    ("PriceOracle", "void"): ADMIN_ONLY,
    ("DutchAuction", "set_parameters"): ADMIN_ONLY,
    ("DutchAuction", "set_curve"): ADMIN_ONLY,
    ("DutchAuction", "set_oracle"): ADMIN_ONLY,
    ("DutchAuction", "set_stopped"): ADMIN_ONLY,
    ("DutchAuction", "start"): frozenset({"Liquidator"}),
    ("DutchAuction", "cancel_for_settlement"): frozenset({"GlobalSettlement"}),
    ("MarginCall", "set_parameters"): ADMIN_ONLY,
    ("MarginCall", "remove"): ADMIN_ONLY,
}
KINDS = sorted({kind for kind, _ in WHO_MAY_CALL})
for _kind in KINDS:
    for _function in AUTH_FUNCTIONS:
        WHO_MAY_CALL[(_kind, _function)] = ADMIN_ONLY


def instances(d: Deployment, kind: str) -> list[tuple[str, TypeDeployment | None]]:
    """(address, its type or None) of every deployed contract of `kind`."""
    singles = {
        "VaultEngine": d.engine,
        "Spotter": d.spotter,
        "Backstop": d.backstop,
        "FeeAccumulator": d.fees,
        "CeilingManager": d.ceiling,
        "Liquidator": d.liquidator,
        "StabilityPool": d.stability_pool,
        "DebtAuction": d.debt_auction,
        "SurplusAuction": d.surplus_auction,
        "GlobalSettlement": d.settlement,
        "MarginCall": d.margin_call,
    }
    if kind in singles:
        return [(singles[kind], None)]
    field = {"CollateralJoin": "join", "PriceOracle": "oracle", "DutchAuction": "auction"}[kind]
    return [(getattr(t, field), t) for t in d.types.values()]
