"""`ape run devnet` on bad input, as a user meets it (issue 34): a port out of range (two
tracebacks before), a port another node holds (the normal start banner before, then a deployment
checked against that other node), a state file that is not one ("is port 8611 in use?" before).
Each: one line naming the problem, exit 2, no banner, the state file left as it was."""

from __future__ import annotations

import socket
import subprocess

import pytest
from live_support import ROOT, free_port


def _devnet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ape"), "run", "devnet", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def _one_line(out: subprocess.CompletedProcess, phrase: str) -> None:
    assert out.returncode == 2, out.stdout + out.stderr
    errors = [line for line in out.stderr.splitlines() if line.startswith("devnet:")]
    assert len(errors) == 1 and phrase in errors[0], out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert "next, in other terminals" not in out.stdout


@pytest.mark.parametrize("port", ["-1", "0", "70000"])
def test_devnet__port_out_of_range__one_line(tmp_path, port):
    out = _devnet("--port", port, "--state", str(tmp_path / "state.json"))
    _one_line(out, f"--port must be from 1 to 65535, got {port}")
    assert not (tmp_path / "state.json").exists()


def test_devnet__port_held_by_another_process__one_line_no_banner(tmp_path):
    port = free_port()
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))
        other.listen()
        out = _devnet("--port", str(port), "--state", str(tmp_path / "state.json"))
    _one_line(out, f"port {port} is in use (another devnet or node?)")
    assert not (tmp_path / "state.json").exists()


@pytest.mark.parametrize(
    "content, reason",
    [(b"{not json", "not JSON"), (b"\xff\xfe\x00binary", "not JSON"), (b"[1, 2]", "no accounts")],
)
def test_devnet__state_file_that_is_not_one__names_it_and_leaves_it(tmp_path, content, reason):
    state = tmp_path / "state.json"
    state.write_bytes(content)
    out = _devnet("--port", str(free_port()), "--state", str(state))
    _one_line(out, f"--state {state} is not a devnet state file ({reason})")
    assert state.read_bytes() == content
