"use strict";
// Replays a devnet journal (offchain/live/hardhat_devnet.py writes it) into Hardhat Network's
// in-process provider, from the node task's `node:get-provider` subtask: before the JSON-RPC
// server listens, so no client (a keeper bot polling the port) sees or adds to a half-replayed
// chain. Each block is mined again at its time, automine off: the senders' journaled balances
// set (before the block from which they had them), the transactions sent in their order (a signed one as its raw bytes, an impersonated one
// with its fields), then `evm_mine` with the block's time. The head must then have the journaled
// state root. The outcome (or the first error) is written as JSON to `statusPath`; on an error
// the process exits with status 3 before anything listens.
const fs = require("fs");

function sendFields(tx) {
  const out = { from: tx.from, data: tx.input, value: tx.value, gas: tx.gas, nonce: tx.nonce };
  if (tx.to) out.to = tx.to;
  if (parseInt(tx.type ?? "0x0", 16) === 2) {
    out.maxFeePerGas = tx.maxFeePerGas;
    out.maxPriorityFeePerGas = tx.maxPriorityFeePerGas;
  } else {
    out.gasPrice = tx.gasPrice;
  }
  return out;
}

module.exports = async function replay(provider, journalPath, statusPath) {
  const started = process.hrtime.bigint();
  const rpc = (method, params = []) => provider.request({ method, params });
  const status = { blocks: 0, transactions: 0 };
  let at = "the genesis block";
  try {
    const lines = fs.readFileSync(journalPath, "utf8").split("\n");
    lines.pop(); // after the last newline: nothing, or a line a kill cut short (dropped)
    const header = JSON.parse(lines[0]);
    const blocks = lines.slice(1).filter((line) => line.trim()).map((line) => JSON.parse(line));
    const genesis = await rpc("eth_getBlockByNumber", ["0x0", false]);
    if (genesis.hash !== header.genesis_hash) {
      throw new Error(`genesis ${genesis.hash}, journaled ${header.genesis_hash}`);
    }
    // a sender's balance before its block, set again before the block from which it had it
    const balances = new Map();
    for (const block of blocks) {
      for (const [who, wei] of Object.entries(block.balances ?? {})) {
        const from = block.balances_from?.[who] ?? block.number;
        if (!balances.has(from)) balances.set(from, []);
        balances.get(from).push([who, wei]);
      }
    }
    await rpc("evm_setAutomine", [false]);
    const impersonated = new Set();
    for (const block of blocks) {
      at = `block ${block.number}`;
      for (const [who, wei] of balances.get(block.number) ?? []) {
        await rpc("hardhat_setBalance", [who, wei]);
      }
      for (const tx of block.transactions) {
        if (tx.raw) {
          await rpc("eth_sendRawTransaction", [tx.raw]);
        } else {
          if (!impersonated.has(tx.from)) {
            await rpc("hardhat_impersonateAccount", [tx.from]);
            impersonated.add(tx.from);
          }
          await rpc("eth_sendTransaction", [sendFields(tx)]);
        }
        status.transactions += 1;
      }
      await rpc("evm_mine", [block.timestamp]);
      status.blocks += 1;
    }
    for (const who of impersonated) await rpc("hardhat_stopImpersonatingAccount", [who]);
    await rpc("evm_setAutomine", [true]);
    const head = await rpc("eth_getBlockByNumber", ["latest", false]);
    status.head = { number: parseInt(head.number, 16), hash: head.hash, state_root: head.stateRoot };
    const last = blocks[blocks.length - 1];
    if (last !== undefined) {
      at = `block ${last.number}`;
      status.same_hashes = head.hash === last.hash;
      if (status.head.number !== last.number || head.stateRoot !== last.state_root) {
        throw new Error(
          `replayed to state root ${head.stateRoot.slice(0, 14)}…, journaled ` +
            `${last.state_root.slice(0, 14)}…`
        );
      }
    }
  } catch (error) {
    status.error = `${at}: ${error.message ?? error}`.split("\n")[0];
    fs.writeFileSync(statusPath, JSON.stringify(status));
    process.exit(3);
  }
  status.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  fs.writeFileSync(statusPath, JSON.stringify(status));
};
