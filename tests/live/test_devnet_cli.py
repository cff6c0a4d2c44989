"""`ape run devnet` on bad input, as a user meets it (issue 34): a port out of range (two
tracebacks before), a port another node holds (the normal start banner before, then a deployment
checked against that other node), a state file that is not one ("is port 8611 in use?" before).
Each: one line naming the problem, exit 2, no banner, the state file left as it was."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time

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


@pytest.mark.parametrize("value", ["nan", "inf", "1e400", "0", "-1", "86401"])
def test_devnet__block_time_not_a_finite_positive_number__one_line(tmp_path, value):
    """`--block-time inf` was handed to the node, which failed to start, and the devnet said
    "is port N in use?"; nan, 1e400 likewise (issue 34)."""
    out = _devnet("--port", str(free_port()), "--state", str(tmp_path / "s"), "--block-time", value)
    _one_line(out, "--block-time")
    assert not list(tmp_path.iterdir())  # no state, no log


def test_devnet__records_a_file__one_line_before_the_node_starts(tmp_path):
    """`--records FILE` was a FileExistsError traceback once the node had started and written its
    state (issue 34)."""
    records = tmp_path / "records"
    records.write_text("a file\n")
    out = _devnet(
        "--port", str(free_port()), "--state", str(tmp_path / "s"), "--records", str(records)
    )
    _one_line(out, f"--records {records}: a file, not a directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records"]
    assert records.read_text() == "a file\n"


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
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00binary", "not JSON"),
        (b"[1, 2]", "no accounts"),
        (
            b'{"format": "backstop-devnet-journal", "version": 1, "genesis_timestamp": 1}\n',
            "a Hardhat journal: start it with --node hardhat",
        ),
    ],
)
def test_devnet__state_file_that_is_not_one__names_it_and_leaves_it(tmp_path, content, reason):
    state = tmp_path / "state.json"
    state.write_bytes(content)
    out = _devnet("--port", str(free_port()), "--state", str(state))
    _one_line(out, f"--state {state} is not a devnet state file ({reason})")
    assert state.read_bytes() == content


@pytest.mark.parametrize(
    "content, phrase",
    [
        # a UnicodeDecodeError traceback before (issue 34)
        (b"\x89PNG\r\n\x1a\n\x00\xff", "config.bin: not a text TOML file (byte 1 is not UTF-8"),
        (b"[system]\nname = 1\x00\n", "config.bin: not a text TOML file (it holds NUL bytes)"),
        # an IsADirectoryError traceback
        (None, "config.bin is a directory, not a deployment config (.toml)"),
    ],
)
def test_devnet__config_that_is_not_a_text_file__one_line_nothing_started(
    tmp_path, content, phrase
):
    config = tmp_path / "config.bin"
    if content is None:
        config.mkdir()
    else:
        config.write_bytes(content)
    state = tmp_path / "state.json"
    out = _devnet("--port", str(free_port()), "--state", str(state), "--config", str(config))
    _one_line(out, phrase)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.bin"]


def _stopped_with_ctrl_c(cmd: list[str], tmp_path) -> tuple[int, str]:
    """Run `cmd` as a terminal's foreground job, wait for the devnet's banner, press Ctrl-C (a
    SIGINT to the whole process group, as the terminal sends it); exit status and output."""
    log = tmp_path / "out.txt"
    with open(log, "w") as out:
        job = subprocess.Popen(
            cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 240
        while "Ctrl-C stops the node" not in log.read_text():
            assert job.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        os.killpg(job.pid, signal.SIGINT)
        status = job.wait(timeout=60)
    return status, log.read_text()


def test_devnet__ctrl_c__a_clean_stop_exit_0__also_through_make(tmp_path):
    """Ctrl-C is how the README stops a devnet; `make devnet` then ended with `make: *** ...
    Error 130` (issue 34): Ape's own SIGINT handler exits 130. Now the devnet stops cleanly, says
    where its state is, and exits 0, so make says nothing more; the next start finds the
    deployment."""
    state, records = tmp_path / "state.json", tmp_path / "deployments"
    args = ["--port", str(free_port()), "--state", str(state), "--records", str(records)]
    status, out = _stopped_with_ctrl_c(
        [str(ROOT / ".venv" / "bin" / "ape"), "run", "devnet", *args], tmp_path
    )
    assert status == 0, out
    assert f"devnet: stopped; state kept in {state}" in out and "deployed Backstop" in out
    assert (
        "Traceback" not in out and len(list(records.glob("31337-*.json"))) == 1 and state.exists()
    )
    env_path = f"{ROOT / '.venv' / 'bin'}:{ROOT / 'node_modules' / '.bin'}:{os.environ['PATH']}"
    status, out = _stopped_with_ctrl_c(
        ["env", f"PATH={env_path}", "make", "--no-print-directory", "devnet",
         f"DEVNET_ARGS={' '.join(args)}"],
        tmp_path,
    )  # fmt: skip
    assert "found Backstop deployed" in out and f"state kept in {state}" in out
    assert "Error" not in out and "Traceback" not in out, out


def test_make_keepers__four_bots_in_one_terminal__ctrl_c_stops_all_four(devnet, tmp_path):
    """The README's terminal 2 ran three bots with `&`, which Ctrl-C did not stop (issue 34).
    `make keepers` runs the liquidator, taker and backstop bots and the notifier (issue 35), and a
    Ctrl-C stops each cleanly ("stopped" logged, their checkpoints written), with no error from
    make."""
    env = {
        **os.environ,
        "BACKSTOP_KEEPERS_DIR": str(tmp_path / "keepers"),
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
    }
    log = tmp_path / "keepers.txt"
    args = f"KEEPER_ARGS=--rpc {devnet.node.url} --deployment {devnet.record_file} --poll 0.2"
    with open(log, "w") as out:
        job = subprocess.Popen(
            # the installs are the project's own (never re-run from a test: in a worktree whose
            # files are newer than the stamps, make would reinstall through the shared links)
            ["make", "--no-print-directory", "-o", ".venv/.installed", "-o",
             "node_modules/.installed", "keepers", args], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 180
        while log.read_text().count('"event": "started"') < 4:
            assert job.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        os.killpg(job.pid, signal.SIGINT)
        job.wait(timeout=60)
    text = log.read_text()
    assert text.count('"event": "stopped"') == 4, text
    assert "Error" not in text and "Traceback" not in text, text
    roles = {"liquidator-dev2", "taker-dev3", "backstop-dev4", "notifier-read-only"}
    # in the deployment's folder: .keepers/<chain id>/<the record's identity>/
    folder = tmp_path / "keepers" / "31337" / devnet.record.identity
    assert {p.stem for p in folder.glob("*.json")} == roles


@pytest.mark.parametrize("node", ["anvil", "hardhat"])
def test_devnet__ctrl_c_pressed_again_while_it_stops__the_node_still_stops(tmp_path, node):
    """A newcomer's `timeout ... make devnet` sent Ctrl-C twice (timeout passes it on again):
    the second one interrupted the stop, printed "Aborted!", and left the node running on its
    port with its last blocks unsaved, so the next start was refused (issue 34). Ctrl-C after
    Ctrl-C, every 20 ms for a second: a clean stop, exit 0, the port free."""
    port = free_port()
    args = ["--port", str(port), "--state", str(tmp_path / "state"), "--node", node]
    args += ["--records", str(tmp_path / "deployments")]
    log = tmp_path / "out.txt"
    with open(log, "w") as out:
        job = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "ape"), "run", "devnet", *args], cwd=ROOT, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 240
        while "Ctrl-C stops the node" not in log.read_text():
            assert job.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        for _ in range(50):
            if job.poll() is not None:
                break
            os.killpg(job.pid, signal.SIGINT)
            time.sleep(0.02)
        status = job.wait(timeout=60)
    text = log.read_text()
    assert status == 0 and "devnet: stopped" in text, text
    assert "Aborted" not in text and "Traceback" not in text, text
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, f"the {node} node still listens"


def test_devnet__config_other_than_the_deployment_on_its_state__refused(tmp_path, deployed_state):
    """A newcomer's v-config-vs-record: the devnet restarted on a state with another --config
    (liquidation_penalty 1.2) verified the old deployment and ran; the --config given was
    ignored in silence. One line now, exit 2, the node stopped."""
    state, record_file = deployed_state
    shutil.copy(state, tmp_path / "state.json")
    (tmp_path / "recs").mkdir()
    shutil.copy(record_file, tmp_path / "recs" / record_file.name)
    config = tmp_path / "c.toml"
    text = (ROOT / "config" / "devnet.toml").read_text()
    assert 'liquidation_penalty = "1.13"' in text
    config.write_text(text.replace('liquidation_penalty = "1.13"', 'liquidation_penalty = "1.2"'))
    out = _devnet(
        "--port", str(free_port()), "--state", str(tmp_path / "state.json"),
        "--records", str(tmp_path / "recs"), "--config", str(config),
    )  # fmt: skip
    _one_line(out, f"--config {config}: the deployment on this state (")
    assert "was made with other parameters; start a fresh devnet for it" in out.stderr
    assert sorted(p.name for p in (tmp_path / "recs").iterdir()) == [record_file.name]
    # the node had to be asked which deployment it holds: it ran, and its log is not left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml", "recs", "state.json"]
