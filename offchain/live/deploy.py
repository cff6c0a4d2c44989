"""Deploying with signers, and recording it; a bot's own contracts.

`SigningChain` is the chain backend of a deployment whose accounts are keys (dev accounts or
Ape accounts), not accounts the node holds unlocked: every transaction is signed (signers.py)
and sent raw, and its hash kept for the deployment record. `deploy_recorded` runs the
deployment recipe (offchain/system/deployment.py) on it in lockstep with the off-chain model,
and returns the deployment and its record. `ensure_flash_takers` deploys a taker bot's
FlashTaker per collateral type from the bot's account.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from offchain.backends import ChainBackend, Lockstep, ModelBackend
from offchain.backends.base import create_address
from offchain.live.bots import Bot, BotStopped
from offchain.live.devnet import DevnetNode, node_binary
from offchain.live.node import Node
from offchain.live.record import DeploymentRecord, build_record, genesis_hash
from offchain.live.signers import Signer
from offchain.live.venue import read_venues
from offchain.model.errors import Revert
from offchain.model.state import ZERO_ADDRESS
from offchain.system.config import SystemConfig
from offchain.system.deployment import Deployment, deploy_system, hand_to_timelock

PRIORITY_FEE = 10**9  # wei per gas


class DeployError(RuntimeError):
    """A deployment that could not be carried out (one line)."""


class SigningChain(ChainBackend):
    """A ChainBackend whose transactions are signed by `signers` (address -> Signer)."""

    def __init__(
        self,
        rpc_url: str,
        artifacts: dict[str, tuple[list[dict], str]],
        reader_code: str,
        signers: dict[str, Signer],
    ):
        super().__init__(rpc_url, artifacts, reader_code, dev_node=False)
        self.signers = signers
        self.chain_id = int(self.rpc("eth_chainId", []), 16)
        self.nonces: dict[str, int] = {}
        self.sent: list[str] = []  # every transaction hash, in order
        self.gas_log: list[tuple[str, int]] = []  # (what, gas) per transaction

    def _send(self, tx: dict[str, Any]) -> dict[str, Any]:
        sender = tx["from"]
        signer = self.signers.get(sender)
        if signer is None:
            raise DeployError(f"no signer for {sender}")
        nonce = self.nonces.get(sender)
        if nonce is None:
            nonce = int(self.rpc("eth_getTransactionCount", [sender, "pending"]), 16)
        if self._next_time is None:
            # one second per block, as the model counts (a devnet or fork node: the recipe
            # already moves time to wait out the oracle delay)
            self.set_next_block_time(self.last_block_time + 1)
        base_fee = int(self.rpc("eth_getBlockByNumber", ["latest", False])["baseFeePerGas"], 16)
        raw = signer.sign(
            {
                "chainId": self.chain_id,
                "nonce": nonce,
                **({"to": tx["to"]} if tx.get("to") else {}),
                "value": 0,
                "data": tx["data"] if tx["data"].startswith("0x") else "0x" + tx["data"],
                "gas": int(tx["gas"], 16),
                "maxFeePerGas": 2 * base_fee + PRIORITY_FEE,
                "maxPriorityFeePerGas": PRIORITY_FEE,
            }
        )
        self.nonces[sender] = nonce + 1
        tx_hash = self.rpc("eth_sendRawTransaction", ["0x" + raw.hex()])
        self.sent.append(tx_hash)
        receipt = self.rpc("eth_getTransactionReceipt", [tx_hash])
        deadline = time.monotonic() + 60
        while receipt is None:  # automine answers at once; an interval-mining node takes a block
            if time.monotonic() > deadline:
                raise DeployError(f"transaction {tx_hash} not mined within 60 s")
            time.sleep(0.05)
            receipt = self.rpc("eth_getTransactionReceipt", [tx_hash])
        block = self.rpc("eth_getBlockByNumber", [receipt["blockNumber"], False])
        self.last_block_time = int(block["timestamp"], 16)
        self._next_time = None
        self.last_receipt = receipt
        self.gas_log.append((tx.get("to") or "create", int(receipt["gasUsed"], 16)))
        if receipt["status"] != "0x1":
            raise Revert(self._revert_reason(receipt["transactionHash"]))
        self.last_events = [self._decode_log(log) for log in receipt["logs"]]
        return receipt


def deploy_recorded(
    node_url: str,
    artifacts: dict[str, tuple[list[dict], str]],
    reader: str,
    config: SystemConfig,
    config_path: Path,
    governance: Signer,
    feeder: Signer,
    deleverager: str = "",
) -> tuple[Deployment, DeploymentRecord, SigningChain, ModelBackend]:
    """Deploy on the node and in the model in lockstep (a difference raises Divergence);
    `deleverager`: the account granted the DELEVERAGE role when the order has that layer."""
    signers = {governance.address: governance, feeder.address: feeder}
    chain = SigningChain(node_url, artifacts, reader, signers)
    model = _model(chain)
    for account in signers:
        model.nonces[account] = int(chain.rpc("eth_getTransactionCount", [account, "latest"]), 16)
    d = _deploy(Lockstep(chain, model), config, governance, feeder, deleverager)
    extra = {"Timelock": d.timelock} if d.timelock else {}
    record = build_record(
        Node(node_url), d, chain.sent, config_path.read_text(), str(config_path), extra
    )
    return d, record, chain, model


def _model(chain: SigningChain) -> ModelBackend:
    """The deployment's model, beside `chain`: it reads a Timelock proposal's calls with the
    contracts' ABIs."""
    abis = {name: abi for name, (abi, _) in chain.artifacts.items()}
    return ModelBackend(chain.last_block_time, chain_id=chain.chain_id, abis=abis)


def _deploy(
    backend: Lockstep, config: SystemConfig, governance: Signer, feeder: Signer, deleverager: str
) -> Deployment:
    """The recipe (deploy_system), then, where the config has a [governance] table, the
    hand-over of every admin right to governance's Timelock (docs/governance.md)."""
    d = deploy_system(backend, config, governance.address, feeder.address, deleverager=deleverager)
    g = config.governance
    if g is not None:
        hand_to_timelock(backend, d, g.delay, g.grace, g.guardian)
    return d


DEV_CLIENTS = ("anvil", "hardhat")


def require_devnet(node: Node) -> str:
    """The node's client name, if it is a devnet or fork node (the recipe moves block time to wait
    out the oracle delay, which only those allow); DeployError otherwise."""
    client = str(node.rpc("web3_clientVersion"))
    if not any(name in client.lower() for name in DEV_CLIENTS):
        raise DeployError(
            f"{node.url} runs {client}: deploying needs a devnet or a fork (Anvil), since the "
            "recipe moves block time past the oracle delay"
        )
    return client


def ensure_deployment(
    node_url: str,
    artifacts: dict[str, tuple[list[dict], str]],
    reader: str,
    config: SystemConfig,
    config_path: Path,
    governance: Signer,
    feeder: Signer,
    directory: Path,
    deleverager: str = "",
) -> tuple[DeploymentRecord, bool]:
    """(the record, deployed now?): the recorded deployment if it verifies against the node,
    else a new deployment, recorded (`deleverager` as deploy_recorded's). UnrecordedDeployment:
    the chain already holds contracts `governance` created that no record names (a second
    Backstop would be deployed over a kept chain in silence); a deployment that was cut short
    before its record was written (a marker beside the record's path says where it began) is
    not counted: it is deployed again."""
    from offchain.live.record import RecordError, load_record, node_record_path, verify

    node = Node(node_url)
    path = node_record_path(node, directory)
    mismatch = False
    if path.exists() or path.is_symlink():
        try:
            record = load_record(path)
        except RecordError as exc:
            # not a record (a folder, the user's file, another kind of JSON): it was written over
            # by the new deployment's record; only a record of an earlier chain is replaced
            raise DeployError(
                f"{exc}; it would be replaced by this node's record: move it away"
            ) from None
        try:
            verify(record, node)
            return record, False
        except RecordError:
            mismatch = True  # a record of an earlier chain of this genesis
    require_devnet(node)
    marker = deploying_marker(path)
    nonce = node.nonce(governance.address, "latest")
    began = _interrupted_at(marker, node, governance.address)
    began = nonce if began is None else min(began, nonce)
    found = created_contracts(node, governance.address, artifacts, began)
    if found:
        raise UnrecordedDeployment(node, path, governance, found, mismatch)
    _write_json(marker, {"deployer": governance.address, "nonce": began, **_chain(node)})
    _, record, _, _ = deploy_recorded(
        node_url, artifacts, reader, config, config_path, governance, feeder, deleverager
    )
    record.write(path)
    marker.unlink(missing_ok=True)
    return DeploymentRecord.from_json(record.to_json(), path), True


# ---------------------------------------------------------------- a kept chain's deployment


class UnrecordedDeployment(DeployError):
    """The chain already holds contracts of the deployer that no record names (one line; the
    devnet adds what else its user can do)."""

    def __init__(
        self,
        node: Node,
        path: Path,
        deployer: Signer,
        found: list[tuple[int, str, str]],
        mismatch: bool = False,
    ):
        self.path, self.found = path, found
        chain = _chain(node)
        _, address, name = found[0]
        named = [n for _, _, n in found if n]
        what = "a Backstop deployment" if "VaultEngine" in named else "contracts"
        more = f" and {len(found) - 1} more contracts" if len(found) > 1 else ""
        record = (
            f"{path} is not its record (it does not verify against this chain)"
            if mismatch
            else f"{path} does not exist"
        )
        super().__init__(
            f"the chain at {node.url} (genesis {chain['genesis'][:10]}…, block "
            f"{chain['head']:,}) already holds {what} ({name or 'a contract'} at {address}{more} "
            f"created by {deployer.label} {deployer.address}) but no record of it: {record}; put "
            "its record there or give --records the folder that holds it"
        )


def deploying_marker(record_path: Path) -> Path:
    """Beside a record's path while its deployment runs (`<chain id>-<genesis>.deploying`): the
    deployer and its nonce when the deployment began. Removed once the record is written."""
    return record_path.with_name(record_path.stem + ".deploying")


def _chain(node: Node) -> dict[str, Any]:
    return {"genesis": genesis_hash(node), "head": node.block_number()}


def _interrupted_at(marker: Path, node: Node, deployer: str) -> int | None:
    """The deployer's nonce where a deployment on this chain began that was never recorded (its
    marker), or None."""
    try:
        data = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("deployer") != deployer:
        return None
    if data.get("genesis") != _chain(node)["genesis"] or not isinstance(data.get("nonce"), int):
        return None
    return data["nonce"]


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


CODE_BATCH = 200  # eth_getCode requests per JSON-RPC batch


def created_contracts(
    node: Node, deployer: str, artifacts: dict[str, tuple[list[dict], str]], below: int
) -> list[tuple[int, str, str]]:
    """(nonce, address, the contract's name or "") of each contract `deployer` created at a nonce
    below `below` that has code on the node now, named by its artifact (`_named`)."""
    addresses = [(n, create_address(deployer, n)) for n in range(below)]
    found = []
    for at in range(0, len(addresses), CODE_BATCH):
        chunk = addresses[at : at + CODE_BATCH]
        codes = node.batch([("eth_getCode", [a, "latest"]) for _, a in chunk])
        for (n, address), code in zip(chunk, codes, strict=True):
            if code not in (None, "0x", "0x0"):
                found.append((n, address, _named(bytes.fromhex(code[2:]), artifacts)))
    return found


def _named(code: bytes, artifacts: dict[str, tuple[list[dict], str]]) -> str:
    """The artifact whose deployment bytecode holds the longest start of `code` (at least its
    first half: the immutables at its end differ per deployment), or "" (none, or several:
    Stablecoin and GovernanceToken have one code)."""
    best, names = len(code) // 2, [""]
    for candidate, (_, bytecode) in artifacts.items():
        init = bytes.fromhex(bytecode.removeprefix("0x"))
        low, high = 0, len(code)  # the longest start of `code` that `init` holds
        while low < high:
            mid = (low + high + 1) // 2
            low, high = (mid, high) if code[:mid] in init else (low, mid - 1)
        if low > best:
            best, names = low, [candidate]
        elif low == best and names != [""]:
            names.append(candidate)
    return names[0] if len(names) == 1 else ""  # one code of two names (the tokens'): unnamed


# ---------------------------------------------------------------- dry run


@dataclass(frozen=True)
class GasEstimate:
    """One deployment transaction's `eth_estimateGas`, and the gas it then used."""

    what: str  # `create VaultEngine`, `VaultEngine.grant_role`
    contract: str  # the contract created or called
    estimate: int
    used: int


class EstimatingChain(SigningChain):
    """A SigningChain that asks the node for `eth_estimateGas` of every transaction before
    sending it (on a throw-away fork: see `estimate_deployment`)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.estimates: list[GasEstimate] = []
        self._what = ("", "")

    def deploy(self, name: str, sender: str, *args: Any) -> str:
        self._what = (f"create {name}", name)
        return super().deploy(name, sender, *args)

    def transact(
        self, address: str, function: str, sender: str, *args: Any, gas: int | None = None
    ) -> None:
        name = self.names.get(address, address)
        self._what = (f"{name}.{function}", name)
        super().transact(address, function, sender, *args, gas=gas)

    def _send(self, tx: dict[str, Any]) -> dict[str, Any]:
        call = {
            "from": tx["from"],
            "data": tx["data"],
            **({"to": tx["to"]} if tx.get("to") else {}),
        }
        # estimated in the block the transaction will be mined in, at its time: at the latest
        # block's, a FeeAccumulator call after init_type found no time passed since the last
        # accrual and skipped it (38,843 estimated, 70,407 used)
        block = {"time": hex(self.next_block_time)}
        estimate = int(self.rpc("eth_estimateGas", [call, "latest", {}, block]), 16)
        receipt = super()._send(tx)
        self.estimates.append(
            GasEstimate(self._what[0], self._what[1], estimate, int(receipt["gasUsed"], 16))
        )
        return receipt


class ForkNode(DevnetNode):
    """A throw-away Anvil forking `upstream` at its head (same chain id), without a state file:
    what a dry run deploys to, so that the upstream node receives nothing."""

    def __init__(self, upstream: str, chain_id: int, port: int):
        super().__init__(port)
        self.upstream = upstream
        self.chain_id = chain_id

    def command(self) -> list[str]:
        return [
            node_binary(),
            "--port",
            str(self.port),
            "--fork-url",
            self.upstream,
            "--chain-id",
            str(self.chain_id),
            "--hardfork",
            "prague",
            "--silent",
        ]


def estimate_deployment(
    node_url: str,
    artifacts: dict[str, tuple[list[dict], str]],
    reader: str,
    config: SystemConfig,
    governance: Signer,
    feeder: Signer,
) -> list[GasEstimate]:
    """Every deployment transaction's gas estimate, without sending anything to `node_url`: the
    deployment runs, signed by the same accounts and checked against the model, on a fork of
    the node that is thrown away."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fork = ForkNode(node_url, Node(node_url).chain_id(), port)
    with fork:
        signers = {governance.address: governance, feeder.address: feeder}
        chain = EstimatingChain(fork.url, artifacts, reader, signers)
        model = _model(chain)
        for account in signers:
            model.nonces[account] = chain.nonce(account)
        _deploy(Lockstep(chain, model), config, governance, feeder, "")
        return chain.estimates


def deploy_from_bot(bot: Bot, name: str, *args: Any, collateral_type: str | None = None) -> str:
    """Deploy `name` from `bot`'s account and wait for it to be mined; its address. Raises
    BotStopped (a read-only bot, a failed or unmined deployment)."""
    data = "0x" + bot.chain.constructor_data(name, args).hex()
    head = bot.node.block_number()
    sent = bot.txs.send("", data, 5_000_000, f"{name}.deploy", [["deploy", name]], head)
    if sent is None:
        raise BotStopped(f"{name} must be deployed first, and this bot sends nothing")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for m in bot.txs.poll(bot.node.block_number()):
            if m.pending.nonce == sent.nonce:
                receipt = bot.node.rpc("eth_getTransactionReceipt", [m.tx_hash])
                if not m.ok or receipt is None or not receipt.get("contractAddress"):
                    raise BotStopped(f"deploying {name} failed (tx {m.tx_hash})")
                bot.log(
                    "deployed",
                    contract=name,
                    address=receipt["contractAddress"],
                    **({"collateral_type": collateral_type} if collateral_type else {}),
                )
                return to_checksum_address(receipt["contractAddress"])
            bot.on_mined(m)
        if sent.nonce not in bot.txs.pending:  # superseded: it can never be mined
            raise BotStopped(f"deploying {name}: its nonce {sent.nonce} was used by another tx")
        time.sleep(bot.o.poll_seconds)
    raise BotStopped(f"deploying {name}: not mined within 120 s")


def ensure_flash_takers(bot: Bot) -> None:
    """The taker bot's FlashTaker per type: its own contract, deployed once from its account,
    then kept in its checkpoint; deployed again where the chain has no code at the kept address
    (the devnet was started afresh, on another node, or reorganized below the deployment: the
    checkpoint's deployment identity is the same, its FlashTaker is not), or where it is bound to
    another outside venue than the devnet's (offchain/live/venue.py: the venues the market
    session keeps beside the record; a FlashTaker of a devnet without one, bound to the zero
    address, is deployed again once the devnet has one)."""
    d = bot.d
    bot.venues_read = _wanted_venues(bot)
    venues = {
        name: address
        for name, address in bot.venues_read.items()
        if bot.node.rpc("eth_getCode", [address, "latest"]) not in ("0x", "0x0", None)
    }
    for name in bot.types:
        kept = bot.state["flash_takers"].get(name)
        if kept and bot.node.rpc("eth_getCode", [kept, "latest"]) in ("0x", "0x0", None):
            bot.log("flash_taker_missing", collateral_type=name, address=kept)
            kept = None
        # the venue its takes may sell on: the devnet's, or none (the zero address: the pool)
        venue = venues.get(name, ZERO_ADDRESS)
        if kept:
            bot.chain.names[kept] = "FlashTaker"
            bound = bot.chain.views([(kept, "venue", ())])[0]
            if bound.lower() != venue.lower():
                if bot.o.signer is None or bot.o.dry_run:
                    # it sends nothing: it cannot deploy, and its takes are never sent; it
                    # plans with the pool only (said once a change of the venues)
                    bot.log("flash_taker_not_rebound", collateral_type=name, address=kept)
                    venues.pop(name, None)
                    continue
                bot.log("flash_taker_rebound", collateral_type=name, address=kept, venue=venue)
                kept = None
        if not kept:
            t = d.types[name]
            args = (
                d.engine,
                t.auction,
                t.join,
                d.stable_join,
                t.pool,
                venue,
                t.token,
                d.stablecoin,
            )
            bot.state["flash_takers"][name] = deploy_from_bot(
                bot, "FlashTaker", *args, collateral_type=name
            )
            bot.save()
    bot.venues = venues
    for address in bot.state["flash_takers"].values():
        bot.chain.names[address] = "FlashTaker"
    for address in bot.venues.values():
        bot.chain.names[address] = "OutsideVenue"


def rebind_flash_takers(bot: Bot) -> None:
    """At a round's start: where the outside venues kept beside the record changed since the
    FlashTakers were bound (a market session deployed one), bind them again
    (`ensure_flash_takers`)."""
    if _wanted_venues(bot) != bot.venues_read:
        ensure_flash_takers(bot)


def _wanted_venues(bot: Bot) -> dict[str, str]:
    """The venues kept beside the bot's record, of the bot's types."""
    venues = read_venues(bot.record.path, bot.chain_id, bot.record.identity)
    return {name: address for name, address in venues.items() if name in bot.types}
