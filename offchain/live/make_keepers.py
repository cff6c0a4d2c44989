"""`make keepers`: the devnet's four bots in one terminal, supervised.

    python -m offchain.live.make_keepers --keeper "ape run keeper" -- [KEEPER_ARGS...]

1. KEEPER_ARGS go to every bot: `--role`, `--account` and `--metrics-port-offset` there are
   refused (each bot has its own), one line, exit 2.
2. Each bot's checks run first (`keeper --check`, the taker first, so that a mistake of all four
   is one line), one at a time; the first that fails ends it with its lines and status, and no
   bot starts. On a terminal a status line says which check runs and for how long (each starts
   Ape: tens of seconds, minutes for the four, which passed in silence); in a pipe, nothing.
3. The four bots start: liquidator (dev:2), taker (dev:3), backstop (dev:4), notifier.

Stopping. Ctrl-C stops all four cleanly and exits 0, and so does SIGTERM to this process. A
terminal's Ctrl-C reaches its foreground process group, make's too, and make dies of it (it
reported "Error 130" or, its recipe's shell having exited, "Error 2") whatever its recipe does:
so, on a terminal, this process takes the terminal's foreground for a process group of its own
and its bots (as a shell does for a job), and gives it back to make at the end; make never sees
the Ctrl-C and exits 0 with it. (Without a terminal, a SIGINT to make's process group stops make
itself: nothing here can change that.) A bot that stops while the others run (it failed, or its
process was killed) stops the others; a line names it and its status, and the exit status is
its own, 1 when that was 0: one bot stopped alone is not a clean end of the four.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from typing import Any

# (role, account, metrics port offset), in the order they start; the checks run the taker first
BOTS = (("liquidator", "dev:2", 0), ("taker", "dev:3", 1), ("backstop", "dev:4", 2))
BOTS += (("notifier", None, 3),)
CHECK_ORDER = ("taker", "liquidator", "backstop", "notifier")
SHARED_ARGS = "BACKSTOP_KEEPER_ARGS_SHARED"  # the bots' cli: one KEEPER_ARGS for four roles
PROGRESS_EVERY_S = 2.0  # the status line's refresh on a terminal
GRACE_S = 1.0  # after a bot's clean exit: a Ctrl-C's signal to this process comes with it

OWN = {
    "--role": "(liquidator dev:2, taker dev:3, backstop dev:4, notifier)",
    "--account": "(liquidator dev:2, taker dev:3, backstop dev:4, notifier)",
    "--metrics-port-offset": "(liquidator 0, taker 1, backstop 2, notifier 3)",
}


def say(line: str) -> None:
    print(f"make keepers: {line}", file=sys.stderr, flush=True)


def argument_problems(args: list[str]) -> list[str]:
    """KEEPER_ARGS' options that make keepers gives each bot itself, one line each."""
    problems = []
    for arg in args:
        name = arg.split("=", 1)[0]
        if name in OWN:
            problems.append(
                f"{name} in KEEPER_ARGS: make keepers gives each bot its own {OWN[name]}, drop it"
            )
    return list(dict.fromkeys(problems))


def bot_args(role: str, account: str | None, offset: int) -> list[str]:
    return ["--role", role, *(["--account", account] if account else [])] + [
        "--metrics-port-offset",
        str(offset),
    ]


class Status:
    """A status line on a terminal (stderr), rewritten in place at most every few seconds;
    nothing at all when stderr is not a terminal (a pipe, a CI log)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.text = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start = time.monotonic()

    def show(self, text: str) -> None:
        if not self.tty:
            return
        self.text, self._start = text, time.monotonic()
        self._draw()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()

    def _draw(self) -> None:
        elapsed = time.monotonic() - self._start
        sys.stderr.write(f"\r\x1b[Kmake keepers: {self.text}, {elapsed:.0f} s")
        sys.stderr.flush()

    def _run(self) -> None:
        while not self._stop.wait(PROGRESS_EVERY_S):
            if self.text:
                self._draw()

    def done(self, line: str | None = None) -> None:
        """End the status line (with `line` in its place, if given)."""
        if not self.tty:
            return
        self.text = ""
        sys.stderr.write("\r\x1b[K" + (f"make keepers: {line}\n" if line else ""))
        sys.stderr.flush()

    def close(self) -> None:
        self._stop.set()


def run_checks(keeper: list[str], args: list[str], env: dict[str, str]) -> int:
    """Each bot's `--check`, the taker first; the first failure's status (0: all passed). The
    checks' own lines (stderr) pass through."""
    status = Status()
    accounts = {role: (account, offset) for role, account, offset in BOTS}
    started = time.monotonic()
    try:
        for i, role in enumerate(CHECK_ORDER, start=1):
            status.show(f"checking the {role} bot ({i} of {len(CHECK_ORDER)})")
            account, offset = accounts[role]
            done = subprocess.run([*keeper, *bot_args(role, account, offset), "--check", *args],
                                  env=env)  # fmt: skip
            if done.returncode != 0:
                status.done()
                return done.returncode
        status.done(f"the four bots' checks passed in {time.monotonic() - started:.0f} s")
        return 0
    finally:
        status.close()


@contextmanager
def terminal_foreground():
    """On a terminal: this process in a process group of its own, made the terminal's
    foreground group (its bots join it), so that Ctrl-C reaches them and not make; the
    terminal given back to make's group at the end. Elsewhere: nothing changes."""
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        yield False
        return
    try:
        if os.tcgetpgrp(tty) != os.getpgrp():  # not in the foreground (make run in background)
            yield False
            return
        old = os.getpgrp()
        previous = signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a background group's tcsetpgrp
        try:
            os.setpgid(0, 0)
            os.tcsetpgrp(tty, os.getpgrp())
            yield True
        finally:
            try:
                os.tcsetpgrp(tty, old)
            except OSError:
                pass  # make is gone: nothing to give the terminal back to
            signal.signal(signal.SIGTTOU, previous)
    finally:
        os.close(tty)


def supervise(keeper: list[str], args: list[str], env: dict[str, str]) -> int:
    """Start the four bots and wait (see the module docstring); the exit status."""
    stopping: list[str] = []

    def on_signal(signum: int, _frame: Any) -> None:
        stopping.append(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    bots: dict[str, subprocess.Popen] = {}
    with terminal_foreground():
        try:
            for role, account, offset in BOTS:
                bots[role] = subprocess.Popen(
                    [*keeper, *bot_args(role, account, offset), *args], env=env
                )
            first: tuple[str, int] | None = None
            while first is None and not stopping:
                for role, process in bots.items():
                    code = process.poll()
                    if code is not None:
                        first = (role, code)
                        break
                else:
                    time.sleep(0.1)
            if first is not None and first[1] == 0 and not stopping:
                # a Ctrl-C stops the bots and signals this process at once: give it a moment
                deadline = time.monotonic() + GRACE_S
                while not stopping and time.monotonic() < deadline:
                    time.sleep(0.05)
        finally:
            for process in bots.values():
                if process.poll() is None:
                    process.terminate()
            for process in bots.values():
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    if stopping:
        # a clean stop: each bot's own (0), or its process ended by the stop's signal
        clean = (0, -signal.SIGINT, -signal.SIGTERM)
        failed = [(r, p.returncode) for r, p in bots.items() if p.returncode not in clean]
        if failed:
            role, code = failed[0]
            say(f"stopped the four bots ({stopping[0]}); the {role} bot exited {code}")
            return code if code > 0 else 1
        say(f"stopped the four bots ({stopping[0]})")
        return 0
    assert first is not None
    role, code = first
    say(f"the {role} bot stopped (exit {code}), so the others were stopped too")
    return code if code != 0 else 1


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2 or argv[0] != "--keeper":
        print(
            "usage: python -m offchain.live.make_keepers --keeper CMD -- [KEEPER_ARGS...]",
            file=sys.stderr,
        )
        return 2
    keeper = shlex.split(argv[1])
    args = argv[3:] if argv[2:3] == ["--"] else argv[2:]
    problems = argument_problems(args)
    if problems:
        for line in problems:
            say(line)
        return 2
    env = {**os.environ, SHARED_ARGS: "1"}
    try:
        code = run_checks(keeper, args, env)
    except KeyboardInterrupt:  # Ctrl-C during the checks (make is stopped by it too)
        say("interrupted during the checks: no bot started")
        return 130
    if code != 0:
        return code
    return supervise(keeper, args, env)


if __name__ == "__main__":
    sys.exit(main())
