"""The harness itself: a vault opened on chain and in the model ends in the same state."""

from offchain.model.fixed_point import RAY, WAD
from offchain.testing.harness import reverts


def test_open_vault__chain_and_model_agree(system):
    """Money flow: borrower joins 10 ETH, locks it and draws 5,000 BUSD of internal stablecoin."""
    r = system.roles
    system.open_vault(r.borrower, "ETH-A", 10 * WAD, 5_000 * WAD)
    rate = system.engine().collateral_types[system.eth.type_id].rate
    assert rate > RAY  # fees accrued while the deployment configured the type
    assert system.engine().stable[r.borrower] == 5_000 * WAD * rate
    assert system.view(system.d.engine, "stable", r.borrower) == 5_000 * WAD * rate


def test_draw_beyond_safe__reverts_not_safe(system):
    r = system.roles
    system.fund(r.borrower, "ETH-A", 1 * WAD)
    with reverts("engine: not safe"):
        system.tx(
            system.d.engine,
            "modify_vault",
            r.borrower,
            system.eth.type_id,
            r.borrower,
            r.borrower,
            r.borrower,
            WAD,
            1_400 * WAD,
        )
