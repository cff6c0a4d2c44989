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


def test_killed__the_last_write_on_change_is_loaded_and_a_torn_dump_ignored(tmp_path):
    node = DevnetNode(free_port(), tmp_path / "state.json", state_interval=1)
    node.start()
    _mine(node, 5)
    deadline = time.monotonic() + 10
    while _promoted_height(node) != 5 and time.monotonic() < deadline:
        time.sleep(0.1)  # the watcher saw the head move and wrote the state
    assert _promoted_height(node) == 5
    _mine(node, 3)
    node.kill()
    kept = _promoted_height(node)  # 5, or 8 when the watcher wrote once more in time
    assert kept in (5, 8)
    # what a kill during Anvil's in-place dump at a stop leaves: a dump cut short
    dump = node.dump_file
    assert dump is not None and node.state_file is not None
    whole = node.state_file.read_bytes()
    dump.write_bytes(whole[: len(whole) // 2])
    node.start()  # Anvil would refuse the torn file; the node starts from the last complete one
    try:
        assert _block_number(node) == kept
    finally:
        node.kill()


def test_idle__nothing_is_written__a_block_is_written_once(tmp_path):
    """An idle devnet writes nothing (it rewrote its whole state every second: issue 34); a
    change is written once, not once per second."""
    node = DevnetNode(free_port(), tmp_path / "state.json", state_interval=1)
    with node:
        _mine(node, 2)
        deadline = time.monotonic() + 10
        while _promoted_height(node) != 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert node.writes == 1
        written = node.state_file.stat().st_mtime_ns  # type: ignore[union-attr]
        time.sleep(4)  # four rounds of the watcher, the chain idle
        assert node.writes == 1
        assert node.state_file.stat().st_mtime_ns == written  # type: ignore[union-attr]


def _promoted_height(node: DevnetNode) -> int | None:
    if node.state_file is None or not node.state_file.exists():
        return None
    number = json.loads(node.state_file.read_text())["block"]["number"]
    return int(number, 16) if isinstance(number, str) else number
