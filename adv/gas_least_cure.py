"""Gas of a size-cut liquidation on revm (lockstep with the model): a cap-region cure (the
closed-form guess narrows the bisection) against a sloped-region cure (full bisection, about
78 `cures` calls), and a base-unsafe liquidation for reference. Run with `ape run`-free python:
    PYTHONPATH=$PWD python adv/gas_least_cure.py   (needs the compiled artifacts: ape's project)"""

import sys

from ape import project

from offchain.backends import load_artifacts, reader_code
from offchain.model.fixed_point import WAD
from offchain.testing.harness import TEST_FACTORIES, move_prices

sys.path.insert(0, "tests/security")
from test_adv45 import DOC_SIZE, ETH

from offchain.backends import ANVIL_ACCOUNTS, Lockstep, RevmBackend, model_beside
from offchain.system.config import load_config
from offchain.system.deployment import deploy_system
from offchain.testing.fuzz import REVM_GENESIS
from offchain.testing.harness import Roles, System


def _revm_system(artifacts):
    evm = RevmBackend(*artifacts, REVM_GENESIS, exact_gas=True)
    roles = Roles(*ANVIL_ACCOUNTS[:6])
    model = model_beside(evm, roles.users, TEST_FACTORIES)
    d = deploy_system(
        Lockstep(evm, model), load_config(), roles.governance, roles.feeder, seed_pools=False
    )
    return System(evm, model, d, roles)


artifacts = (load_artifacts(project, TEST_FACTORIES), reader_code(project))
for label, debt, ratio in [
    ("cap region 1M at 1.30x base", 1_000_000, 130),
    ("sloped region 100k at 1.13x base", 100_000, 113),
    ("sloped region 149k at 1.14x base", 149_000, 114),
]:
    system = _revm_system(artifacts)
    r, d, t = system.roles, system.d, system.d.types[ETH]
    system.tx(d.engine, "set_size_margin", r.governance, t.type_id, *DOC_SIZE)
    collateral = debt * WAD * 226 // 100 // 2_000
    system.open_vault(r.borrower, ETH, collateral, debt * WAD)
    price = debt * WAD * 15 * ratio // 1000 * WAD // collateral
    move_prices(system, [(t, price)])
    system.tx(d.liquidator, "liquidate", r.keeper, t.type_id, r.borrower, r.keeper)
    print(label, "liquidate gas", system.chain.gas_used())
