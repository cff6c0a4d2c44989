"""`make keepers` as users run it, against a real node: `KEEPER_ARGS="--metrics-port BASE"` (the
README suggests the flag there) gave all four bots the same port, three of them exited "Address
already in use" and make kept running with the liquidator down. Each role now serves on
BASE + its offset (liquidator 0, taker 1, backstop 2, notifier 3), and when a bot cannot start make
stops the others and exits with its status."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from live_support import ROOT, free_port, wait_for

from offchain.live.record import load_record

ROLES = ("liquidator", "taker", "backstop", "notifier")


def _make(
    devnet,
    tmp_path,
    base: int,
    extra: str = "",
    keeper: str = f"{sys.executable} -m offchain.live.cli",
) -> subprocess.Popen:
    args = f"--metrics-port {base} --rpc {devnet.node.url} --deployment {devnet.record_file}"
    args += f" {extra}" if extra else ""
    env = {
        **os.environ,
        "BACKSTOP_KEEPERS_DIR": str(tmp_path / "keepers"),
        "PYTHON": sys.executable,
    }
    return subprocess.Popen(
        [
            "make",
            "--no-print-directory",
            # the installs are main's (never re-run them from a test)
            "-o",
            ".venv/.installed",
            "-o",
            "node_modules/.installed",
            "keepers",
            f"KEEPER={keeper}",
            f"KEEPER_ARGS={args} --poll 0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(tmp_path / "make.out", "wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _finished(make: subprocess.Popen, tmp_path) -> tuple[int, str]:
    """make's exit status once it ends by itself (within two minutes; killed otherwise) and
    its output."""
    try:
        code = make.wait(timeout=120)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
    return code, (tmp_path / "make.out").read_text()


def _health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:  # 503 while catching up: still the bot's answer
        return json.loads(exc.read())
    except OSError:
        return None


def _base() -> int:
    """A base port whose four ports are free."""
    while True:
        base = free_port()
        if base + 3 > 65535:
            continue
        try:
            for port in range(base, base + 4):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue


def test_make_keepers__one_metrics_port__each_role_on_its_own(devnet, tmp_path):
    """--min-profit in KEEPER_ARGS is the taker's: the other bots ignore it (the liquidator
    refused it at start, and make stopped all four)."""
    base = _base()
    make = _make(devnet, tmp_path, base, "--min-profit 300")
    try:
        for offset, role in enumerate(ROLES):
            health = wait_for(
                lambda p=base + offset: _health(p),
                60,
                f"the {role} bot's /health on {base + offset}",
                lambda: (tmp_path / "make.out").read_text()[-2000:],
            )
            assert health["role"] == role
        assert make.poll() is None
        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C: every bot stops (make itself says so)
        make.wait(timeout=60)
        wait_for(lambda: all(_health(base + k) is None for k in range(4)), 30, "every bot stopped")
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
    assert "Address already in use" not in (tmp_path / "make.out").read_text()


def test_make_keepers__a_busy_port__named_before_any_bot_starts(devnet, tmp_path):
    """The backstop's port (base + 2) is taken: its check names it, exit 2, and no bot starts
    (before, three bots started and make stopped them when the backstop could not)."""
    base = _base()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", base + 2))
        busy.listen()
        code, out = _finished(_make(devnet, tmp_path, base), tmp_path)
    assert code == 2, out[-2000:]
    assert [x for x in out.splitlines() if x.startswith("keeper")] == [
        f"keeper: --metrics-port {base + 2}: Address already in use (choose another, or 0)"
    ]
    assert "a bot stopped" not in out
    for port in (base, base + 1, base + 3):
        assert _health(port) is None


def test_make_keepers__a_bot_stops__make_stops_all_with_its_status(devnet, tmp_path):
    """A bot that stops after its check passed (here a KEEPER whose backstop bot exits 3 once
    started; the others are the real bots): make stops the other three, names the status and
    fails (make's own exit status for a failed recipe is 2)."""
    fake = tmp_path / "keeper.sh"
    fake.write_text(
        "#!/bin/sh\n"
        'case " $* " in *" --check "*) exec "$PYTHON" -m offchain.live.cli "$@";; esac\n'
        'case " $* " in *" --role backstop "*) sleep 3; exit 3;; esac\n'
        'exec "$PYTHON" -m offchain.live.cli "$@"\n'
    )
    base = _base()
    make = _make(devnet, tmp_path, base, keeper=f"sh {fake}")
    code, out = _finished(make, tmp_path)
    assert code == 2, out[-2000:]
    assert "make keepers: the backstop bot stopped (exit 3), so the others were stopped too" in out
    for port in (base, base + 1, base + 3):
        assert _health(port) is None


def test_make_keepers__a_mistake_of_one_role__named_before_any_bot_starts(devnet, tmp_path):
    """make checked KEEPER_ARGS as the taker only: a liquidator's checkpoint it cannot read
    passed, four bots started and the liquidator stopped them. Each role is checked now, the
    taker first: one line, exit 2, no bot started."""
    record = load_record(devnet.record_file)
    checkpoint = (
        tmp_path / "keepers" / str(record.chain_id) / record.identity / "liquidator-dev2.json"
    )
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_text("{not json")
    base = _base()
    make = _make(devnet, tmp_path, base)
    code, out = _finished(make, tmp_path)
    assert code == 2, out[-2000:]
    lines = [x for x in out.splitlines() if x.startswith("keeper")]
    assert len(lines) == 1 and "liquidator-dev2.json" in lines[0], out[-2000:]
    assert "a bot stopped" not in out and "Traceback" not in out
    assert all(_health(base + k) is None for k in range(4))


@pytest.mark.parametrize(
    ("args", "line"),
    [
        ("--poll 0", "keeper: Invalid value for '--poll': 0.0 is not in the range 0<x<=3600.0."),
        (
            "--rpc http://127.0.0.1:9",
            "keeper: no JSON-RPC node answers at http://127.0.0.1:9 (start one: make devnet)",
        ),
    ],
)
def test_make_keepers__a_mistake_in_keeper_args__one_line_not_four(tmp_path, args, line):
    """A newcomer's try (issue 47): `make keepers KEEPER_ARGS="--poll 0"` printed the same
    line four times, once per bot (a dead node's line too). make checks KEEPER_ARGS and the
    node once first (keeper --check) now: one line, exit 2, no bot started."""
    out = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", "-o"]
        + ["node_modules/.installed", "keepers", f"KEEPER={sys.executable} -m offchain.live.cli"]
        + [f"KEEPER_ARGS={args}"],
        cwd=ROOT,
        env={**os.environ, "BACKSTOP_KEEPERS_DIR": str(tmp_path / "keepers")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert [x for x in out.stderr.splitlines() if x.startswith("keeper")] == [line]
    assert "Traceback" not in out.stdout + out.stderr
    assert not (tmp_path / "keepers").exists()


# the variables an outer make (`make test`) hands its recipe's commands, and make's own line
# for a recipe that failed (`make: ***`, `make[1]: ***` one level down)
MAKE_ENV = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES")
MAKE_ERROR = re.compile(r"make(\[\d+\])?: \*\*\* ")


def _make_run(tmp_path, args: str) -> tuple[int, list[str]]:
    """`make keepers KEEPER_ARGS=args` to its end (at most 90 s: then its bots are killed):
    (exit status or None, its output's lines)."""
    with open(tmp_path / "make.out", "wb") as out:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "-o", ".venv/.installed", "-o"]
            + ["node_modules/.installed", "keepers"]
            + [f"KEEPER={sys.executable} -m offchain.live.cli", f"KEEPER_ARGS={args} --poll 0.1"],
            cwd=ROOT,
            # as a user's shell runs it: under `make test` the outer make's MAKELEVEL made this
            # one say `make[1]: *** ...`, a line the filter below did not know
            env={
                **{k: v for k, v in os.environ.items() if k not in MAKE_ENV},
                "BACKSTOP_KEEPERS_DIR": str(tmp_path / "keepers"),
            },
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        code = make.wait(timeout=90)
    except subprocess.TimeoutExpired:  # bots started and running: the mistake was taken
        code = None
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()
    text = (tmp_path / "make.out").read_text()
    # (make's own `make: *** [Makefile:N: keepers] Error 2` aside)
    lines = [x for x in text.splitlines() if x.strip() and not MAKE_ERROR.match(x)]
    return code, lines  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            "--role liquidator",
            "make keepers: --role in KEEPER_ARGS: make keepers gives each bot its own (liquidator "
            "dev:2, taker dev:3, backstop dev:4, notifier), drop it",
        ),
        ("--account=dev:5", "make keepers: --account in KEEPER_ARGS: make keepers gives each bot"),
        # (its line named the bots' accounts, not their offsets)
        (
            "--metrics-port-offset 7",
            "make keepers: --metrics-port-offset in KEEPER_ARGS: make keepers gives each bot its "
            "own (liquidator 0, taker 1, backstop 2, notifier 3), drop it",
        ),
    ],
)
def test_make_keepers__role_or_account_in_keeper_args__refused_no_bot(devnet, tmp_path, args, line):
    """A newcomer's try (issue 47): `KEEPER_ARGS="--role liquidator"` overrode each bot's role, and
    four liquidators ran, three of them sending from dev:2..4. One line now, exit 2, no bot."""
    before = devnet.block()
    code, lines = _make_run(tmp_path, f"{args} --rpc {devnet.node.url}")
    assert code == 2, lines
    assert len(lines) == 1 and lines[0].startswith(line), lines
    assert not (tmp_path / "keepers").exists()
    assert devnet.block() == before


def _chain_id_1(data: dict) -> None:
    data["chain_id"] = 1


def _engine_hash(data: dict) -> None:
    engine = data["contracts"]["engine"]
    data["code_hashes"][engine] = data["code_hashes"][engine][:-4] + "beef"


@pytest.mark.parametrize(
    ("change", "phrase"),
    [(_chain_id_1, "recorded for chain id 1, but the node at"), (_engine_hash, ": engine at ")],
    ids=["chain id", "code hash"],
)
def test_make_keepers__record_not_the_nodes__one_line_no_bot_started(
    devnet, tmp_path, change, phrase
):
    """A record of another chain, or whose code hash is not the node's: --check passed, four
    bots started and each printed the same line (four copies). The check catches it now: one
    line, exit 2, no bot started."""
    data = json.loads(devnet.record_file.read_text())
    change(data)
    record = tmp_path / "r.json"
    record.write_text(json.dumps(data))
    before = devnet.block()
    code, lines = _make_run(tmp_path, f"--deployment {record} --rpc {devnet.node.url}")
    assert code == 2, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"keeper: {record}") and phrase in lines[0], lines
    assert not (tmp_path / "keepers").exists()
    assert devnet.block() == before


# a bot as make keepers runs it, without a node: its checks pass, it writes its pid and runs
# until a signal, then says which and exits 0 (as a keeper bot does)
FAKE_BOT = """
import os, signal, sys, time
args = sys.argv[1:]
role = args[args.index("--role") + 1]
if "--check" in args:
    sys.exit(0)
stop = []
signal.signal(signal.SIGINT, lambda *a: stop.append("INT"))
signal.signal(signal.SIGTERM, lambda *a: stop.append("TERM"))
folder = os.environ["FAKE_BOTS"]
with open(os.path.join(folder, role + ".pid"), "w") as f:
    f.write(str(os.getpid()))
while not stop:
    time.sleep(0.05)
with open(os.path.join(folder, role + ".stopped"), "w") as f:
    f.write(stop[0])
"""


def _on_a_terminal(tmp_path, act) -> tuple[int, str]:
    """`make keepers` with the fake bots, run as a user's shell runs it: in the foreground of a
    terminal (a pseudo-terminal). Once the four run, `act(pids)`; then make's exit status and
    what the terminal showed."""
    import pty
    import select
    import time

    bot = tmp_path / "bot.py"
    bot.write_text(FAKE_BOT)
    env = {
        **{k: v for k, v in os.environ.items() if k not in MAKE_ENV},
        "FAKE_BOTS": str(tmp_path),
    }
    command = ["make", "--no-print-directory", "-o", ".venv/.installed", "-o"]
    command += ["node_modules/.installed", "keepers", f"KEEPER={sys.executable} {bot}"]
    pid, fd = pty.fork()
    if pid == 0:  # the child: make, in the terminal's foreground, as a shell starts it
        os.chdir(ROOT)
        os.execvpe(command[0], command, env)
    shown = b""

    def read(seconds: float) -> None:
        nonlocal shown
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    return
                if not data:
                    return
                shown += data

    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("*.pid"))) < 4 and time.monotonic() < deadline:
            read(0.2)
        pids = {p.stem: int(p.read_text()) for p in tmp_path.glob("*.pid")}
        assert len(pids) == 4, shown.decode(errors="replace")
        act(fd, pids)
        read(3)
        finished, status = os.waitpid(pid, 0)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def test_make_keepers__ctrl_c_on_the_terminal__all_four_stop_and_make_exits_0(tmp_path):
    """Ctrl-C stopped the four and make exited 2 (issue 65): the terminal's SIGINT reached make
    too. The bots now run in the terminal's foreground (make_keepers.py): Ctrl-C stops each
    cleanly, make never sees it, and exits 0."""
    code, shown = _on_a_terminal(tmp_path, lambda fd, pids: os.write(fd, b"\x03"))
    assert code == 0, shown
    assert {p.stem: p.read_text() for p in tmp_path.glob("*.stopped")} == {
        role: "INT" for role in ROLES
    }
    assert "make keepers: stopped the four bots (SIGINT)" in shown
    assert "***" not in shown  # no make error


def test_make_keepers__one_bot_killed__the_others_stopped_and_make_fails(tmp_path):
    """`kill <the taker's pid>`: the taker stops (cleanly: SIGTERM), the other three are
    stopped, a line names the taker, and make fails: one bot stopped alone is not the end of
    the four that the user asked for."""
    code, shown = _on_a_terminal(tmp_path, lambda fd, pids: os.kill(pids["taker"], signal.SIGTERM))
    assert code == 2, shown
    assert {p.stem: p.read_text() for p in tmp_path.glob("*.stopped")} == {
        role: "TERM" for role in ROLES
    }
    assert "make keepers: the taker bot stopped (exit 0), so the others were stopped too" in shown
    assert "make: *** [Makefile" in shown and "keepers] Error 1" in shown
