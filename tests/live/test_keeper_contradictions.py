"""`ape run keeper` start-up contradictions, against a real node: a read-only keeper's
`--checkpoint /nonexistent/dir/c.json` created the directories; a busy `--metrics-port` was
refused only after the checkpoint's lock file had been rewritten; a base port + its role's offset
above 65535. Each: one line, exit 2, nothing created or touched."""

from __future__ import annotations

import socket
import subprocess
import sys

from live_support import ROOT


def _keeper(devnet, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "offchain.live.cli",
            "--rpc",
            devnet.node.url,
            "--deployment",
            str(devnet.record_file),
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _one_line(run: subprocess.CompletedProcess, phrase: str) -> None:
    lines = [x for x in (run.stdout + run.stderr).splitlines() if x.strip()]
    assert run.returncode == 2, lines
    assert len(lines) == 1 and lines[0].startswith("keeper: ") and phrase in lines[0], lines


def test_checkpoint_in_a_directory_that_does_not_exist__refused_nothing_created(devnet, tmp_path):
    missing = tmp_path / "nonexistent" / "dir"
    run = _keeper(
        devnet, "--role", "liquidator", "--read-only", "--checkpoint", str(missing / "c.json")
    )
    _one_line(run, f"the directory {missing} does not exist")
    assert not (tmp_path / "nonexistent").exists()
    (tmp_path / "afile").write_text("x")
    run = _keeper(devnet, "--role", "notifier", "--checkpoint", str(tmp_path / "afile" / "c.json"))
    _one_line(run, "is a file")


def test_busy_metrics_port__refused_before_the_checkpoint_lock_is_touched(devnet, tmp_path):
    checkpoint = tmp_path / "c.json"
    lock = tmp_path / "c.json.lock"
    lock.write_text('{"pid": 1, "role": "earlier"}')
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = _keeper(
            devnet,
            "--role",
            "notifier",
            "--checkpoint",
            str(checkpoint),
            "--metrics-port",
            str(port),
        )
    _one_line(run, f"--metrics-port {port}: ")
    assert lock.read_text() == '{"pid": 1, "role": "earlier"}'  # rewritten before
    assert not checkpoint.exists()


def test_metrics_port_plus_offset_above_65535__refused(devnet, tmp_path):
    run = _keeper(
        devnet,
        "--role",
        "notifier",
        "--checkpoint",
        str(tmp_path / "c.json"),
        "--metrics-port",
        "65534",
        "--metrics-port-offset",
        "3",
    )
    _one_line(run, "--metrics-port 65534 + --metrics-port-offset 3 is above 65535")
    assert not list(tmp_path.glob("c.json*"))
