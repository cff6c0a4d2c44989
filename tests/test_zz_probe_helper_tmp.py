from conftest import reverts
from offchain.backends import Divergence

def test_probe(system):
    g = system.roles.governance
    print("now", system.now, system.chain.last_block_time, system.model.last_block_time)
    try:
        system.lockstep.deploy("CollateralJoin", g, system.d.engine, system.btc.type_id, system.btc.token, 19)
    except Exception as e:
        print("EXC", type(e), e, getattr(e, "reason", None))
    print("now", system.chain.last_block_time, system.model.last_block_time, system.model.nonces[g])
    print(system.chain.rpc("eth_getTransactionCount", [g, "latest"]))
    print(len(system.model.env.contracts), system.model.names.__len__())
    print(system.view(system.eth.oracle, "peek"), system.view(system.eth.oracle, "last_poke"), system.view(system.eth.oracle, "current_time"))
    print(system.view(system.d.stablecoin, "name"), system.view(system.d.stablecoin, "DOMAIN_SEPARATOR"))
    print(system.chain.rpc("eth_chainId", []))
