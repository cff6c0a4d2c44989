"""The devnet's state file across stops and kills: the chain comes back, and a write torn by a
kill (Anvil writes its dump in place) never becomes the state the node starts from."""

from __future__ import annotations

import json
import time

from live_support import free_port

from offchain.live.devnet import DevnetNode


def _block_number(node: DevnetNode) -> int:
    return int(node._rpc("eth_blockNumber", []), 16)  # type: ignore[arg-type]


def _mine(node: DevnetNode, blocks: int) -> None:
    for _ in range(blocks):
        node._rpc("evm_mine", [])


def test_stop_and_start__the_chain_comes_back(tmp_path):
    node = DevnetNode(free_port(), tmp_path / "state.json")
    with node:
        _mine(node, 7)
        height = _block_number(node)
    json.loads(node.state_file.read_text())  # type: ignore[union-attr]  # complete
    with node:
        assert _block_number(node) == height


def test_killed_while_writing__the_last_complete_write_is_loaded(tmp_path):
    node = DevnetNode(free_port(), tmp_path / "state.json")
    node.start()
    _mine(node, 5)
    deadline = time.monotonic() + 10
    while _promoted_height(node) != 5 and time.monotonic() < deadline:
        time.sleep(0.1)  # the periodic write, promoted by the watcher
    assert _promoted_height(node) == 5
    _mine(node, 3)
    node.kill()
    kept = _promoted_height(node)  # 5, or 8 when the watcher promoted one more write in time
    assert kept in (5, 8)
    # what a kill during Anvil's in-place write leaves: a dump cut short
    dump = node.dump_file
    assert dump is not None
    whole = dump.read_bytes()
    dump.write_bytes(whole[: len(whole) // 2])
    node.start()  # Anvil would refuse the torn file; the node starts from the last complete one
    try:
        assert _block_number(node) == kept
    finally:
        node.kill()


def _promoted_height(node: DevnetNode) -> int | None:
    if node.state_file is None or not node.state_file.exists():
        return None
    number = json.loads(node.state_file.read_text())["block"]["number"]
    return int(number, 16) if isinstance(number, str) else number
