"""Ape's conventions a user expects: a named devnet network in ape-config.yaml (one set
APE_FOUNDRY_HOST before), and `ape console` loading the devnet's recorded contracts
(ape_console_extras.py), only when the record verifies against the node."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from types import SimpleNamespace

import yaml
from live_support import ROOT

from offchain.live.console import Recorded, recorded_contracts


def _extras():
    spec = importlib.util.spec_from_file_location("extras", ROOT / "ape_console_extras.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Project:
    """Ape's project as the extras use it: `project.<ContractName>.at(address)`."""

    path = ROOT

    def __getattr__(self, name: str):
        return SimpleNamespace(at=lambda address: (name, address))


def test_console_extras__the_devnet_record__every_contract_by_label(devnet, monkeypatch):
    found = recorded_contracts(devnet.node.url, devnet.record_file.parent)
    assert isinstance(found, Recorded)
    assert found.contracts["engine"] == ("VaultEngine", devnet.d.engine)
    assert found.contracts["ETH-A.auction"] == ("DutchAuction", devnet.eth.auction)
    chain = SimpleNamespace(provider=SimpleNamespace(uri=devnet.node.url))
    monkeypatch.setenv("BACKSTOP_DEPLOYMENTS", str(devnet.record_file.parent))
    bs = _extras().ape_init_extras(chain, _Project())["bs"]
    assert bs.engine == ("VaultEngine", devnet.d.engine)
    assert bs["ETH-A.oracle"] == ("PriceOracle", devnet.eth.oracle)
    assert len(vars(bs)) == len(devnet.record.addresses())


def test_console_extras__a_record_of_another_node__one_line_nothing_loaded(devnet, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    text = devnet.record_file.read_text().replace(devnet.record.genesis_hash, "0x" + "ab" * 32)
    (other / devnet.record_file.name).write_text(text)
    found = recorded_contracts(devnet.node.url, other)
    assert isinstance(found, str) and "genesis" in found and "\n" not in found
    missing = recorded_contracts(devnet.node.url, tmp_path / "none")
    assert isinstance(missing, str) and "no deployment record" in missing


def test_ape_config__a_named_devnet_network_on_the_devnets_port():
    config = yaml.safe_load((ROOT / "ape-config.yaml").read_text())
    (network,) = [n for n in config["networks"]["custom"] if n["name"] == "devnet"]
    assert network["chain_id"] == 31337 and network["default_provider"] == "node"
    assert config["node"]["ethereum"]["devnet"]["uri"] == "http://127.0.0.1:8545"
    ape = shutil.which("ape", path=str(ROOT / ".venv" / "bin"))
    assert ape is not None, "no ape in .venv/bin (make setup)"
    out = subprocess.run(
        [ape, "networks", "list", "--ecosystem", "ethereum"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    at = next(i for i, x in enumerate(lines) if x.strip("├└─│ ").startswith("devnet"))
    assert "node" in lines[at + 1], out.stdout


def test_ape_console__loads_the_devnets_contracts(devnet):
    """The real `ape console`, on the test's devnet: `bs` holds Ape contracts at the recorded
    addresses (the network here is ethereum:local:foundry pointed at the devnet, since the named
    network's port, 8545, may be another's on a shared machine)."""
    import os

    ape = shutil.which("ape", path=str(ROOT / ".venv" / "bin"))
    assert ape is not None, "no ape in .venv/bin (make setup)"
    code = "print('engine', bs.engine.address, len(vars(bs)), bs.engine.contract_type.name)"
    out = subprocess.run(
        [ape, "console", "--network", "ethereum:local:foundry", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
        env={
            **os.environ,
            "APE_FOUNDRY_HOST": devnet.node.url,
            "BACKSTOP_DEPLOYMENTS": str(devnet.record_file.parent),
        },
    )
    assert out.returncode == 0, out.stdout + out.stderr
    count = len(devnet.record.addresses())
    assert f"engine {devnet.d.engine} {count} VaultEngine" in out.stdout, out.stdout + out.stderr


def test_ape_console__a_devnet_on_another_port__by_its_url(devnet):
    """A devnet on another port (`make devnet DEVNET_ARGS="--port 8546"`): `ape console
    --network http://127.0.0.1:8546`, the node's URL as the network, as docs/keepers.md says
    (undocumented before: issue 65). The test's devnet runs on a free port, never 8545."""
    import os

    assert not devnet.node.url.endswith(":8545")
    ape = shutil.which("ape", path=str(ROOT / ".venv" / "bin"))
    assert ape is not None, "no ape in .venv/bin (make setup)"
    code = "print('engine', bs.engine.address, bs.engine.total_issued() > 0)"
    out = subprocess.run(
        [ape, "console", "--network", devnet.node.url, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "BACKSTOP_DEPLOYMENTS": str(devnet.record_file.parent)},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"engine {devnet.d.engine} True" in out.stdout, out.stdout + out.stderr


def test_devnet_hint__another_port_or_records__each_command_with_its_rpc(tmp_path):
    """`make devnet`'s "next, in other terminals" dropped --rpc for a devnet on another port:
    the commands it printed looked for a node on 8545 (issue 65)."""
    spec = importlib.util.spec_from_file_location("devnet_script", ROOT / "scripts" / "_devnet.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    default = module.DEFAULT_DIR
    record = default / "31337-abcd.json"
    plain = module.next_commands("http://127.0.0.1:8545", 8545, default, record)
    assert plain.startswith("next, in other terminals: make keepers") and "--rpc" not in plain
    url = "http://127.0.0.1:8546"
    assert module.next_commands(url, 8546, default, record).splitlines()[1:] == [
        f'  make keepers KEEPER_ARGS="--rpc {url}"',
        f'  make market MARKET_ARGS="--rpc {url}"',
        f'  make reconcile RECONCILE_ARGS="--rpc {url}"',
        f"  ape console --network {url}",
    ]
    records = tmp_path / "records"
    other = module.next_commands(url, 8546, records, records / "31337-abcd.json")
    assert f'  make keepers KEEPER_ARGS="--rpc {url} --deployment {records}/31337-abcd.json"' in (
        other.splitlines()
    )
    assert f"  BACKSTOP_DEPLOYMENTS={records} ape console --network {url}" in other.splitlines()
