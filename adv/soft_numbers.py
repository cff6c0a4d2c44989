"""Numbers of adv45-4 (tests/security/test_adv45.py): the keeper's least cure and most accepted
repayment, and how far one transaction in between moves the least cure."""

import sys

from ape import project

from offchain.backends import load_artifacts, reader_code
from offchain.model import margin_call as mc
from offchain.model.fixed_point import WAD
from offchain.testing.harness import TEST_FACTORIES

sys.path.insert(0, "tests/security")
from test_adv45 import ETH, _called_vault_and_keeper, _revm_system

artifacts = (load_artifacts(project, TEST_FACTORIES), reader_code(project))


def cure_now(system):
    t = system.d.types[ETH]
    terms = mc.twin_terms(system.contract(system.d.margin_call), t.type_id)
    c, n = system.engine().vaults[(t.type_id, system.roles.borrower)]
    return mc.least_cure(terms, c, n, mc.close_factor_limit(n, terms.parameters.close_factor))


for case in ("accrue after 12 s", "1 wei of ETH locked in"):
    system = _revm_system(artifacts)
    r, d, t = system.roles, system.d, system.d.types[ETH]
    cure, most = _called_vault_and_keeper(system)
    if case.startswith("accrue"):
        system.warp(12)
        system.tx(d.fees, "accrue", r.stranger, t.type_id)
    else:
        system.fund(r.stranger, ETH, 1)
        system.tx(
            d.engine,
            "modify_vault",
            r.stranger,
            t.type_id,
            r.borrower,
            r.stranger,
            r.stranger,
            1,
            0,
        )
    after = cure_now(system)
    print(
        f"{case}: cure {cure} ({cure / WAD:.6f}), most {most} (+{most - cure} wei), "
        f"cure after {after} (moved {after - cure:+d} wei); tolerance {mc.cure_step(cure)}"
    )
