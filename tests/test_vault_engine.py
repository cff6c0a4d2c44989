def test_scratch(system):
    e = system.engine()
    for t in (system.eth, system.btc):
        print(t.type_id, e.collateral_types[t.type_id])
    print("issued", e.total_issued, "unbacked", e.total_unbacked, "global", e.global_debt_ceiling)
    print(dict(e.stable), dict(e.authorized))
    print(system.roles, system.d)
    print(system.view(system.d.engine, "collateral_types", system.eth.type_id))
    print(system.view(system.d.engine, "is_safe", system.eth.type_id, system.roles.borrower))
