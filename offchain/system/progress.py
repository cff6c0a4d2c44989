"""Progress of a command that runs for minutes: runs done, the current run's bars, time left.

A command installs a `Reporter` (`with reporting("history"):`); the code that does the work
reports through this module's functions, which do nothing when no reporter is installed (a
test, a library caller, a worker process):

- `@counted_run(label)` on a function that is one run (`replay`, a flip-auction day): each call
  counts as a run; a replay's bars come through its `progress` argument, supplied when the
  caller gave none;
- `plan(runs)`: how many runs the command will make, once it knows (then "time left" is the
  command's: the runs left at the mean time of those done; without a plan, the current run's,
  from its bars);
- `finished(label)`: a run done elsewhere (a process pool's), counted by the parent.

On a terminal the reporter rewrites one status line on stderr at most every `every` seconds; in
a pipe or a CI log it writes one line per finished run, nothing in between (no flood).
"""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

EVERY_S = 2.0


def _clock(seconds: float) -> str:
    seconds = max(int(round(seconds)), 0)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Reporter:
    """One command's progress (see the module docstring)."""

    def __init__(
        self,
        command: str,
        stream: TextIO | None = None,
        every: float = EVERY_S,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.command, self.stream = command, stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.every, self.clock = every, clock
        self.start = clock()
        self.total: int | None = None
        self.done = 0
        self.durations: list[float] = []
        self.label = ""
        self.part = ""  # the current run's part (a replay: "model", then the node's name)
        self.run_start = self.start
        self.bars: tuple[int, int] | None = None
        self.last_draw = float("-inf")
        self._lock = threading.Lock()
        self._drawn = False

    # ------------------------------------------------------------ what the work says

    def plan(self, runs: int) -> None:
        with self._lock:
            self.total = runs

    def run_started(self, label: str) -> None:
        with self._lock:
            self.label, self.part, self.run_start, self.bars = label, "", self.clock(), None
            self._draw(force=True)

    def bar(self, label: str, done: int, total: int) -> None:
        with self._lock:
            self.bars, self.part = (done, total), label
            self._draw()

    def run_finished(self, label: str | None = None) -> None:
        with self._lock:
            now = self.clock()
            self.done += 1
            self.durations.append(now - self.run_start)
            label, took = label or self.label, now - self.run_start
            self.label, self.part, self.bars = "", "", None
            if self.tty:
                self._draw(force=True)
            else:
                self._write(
                    f"{self.command}: run {self._count()} done ({label}, {_clock(took)}); "
                    f"{_clock(now - self.start)} elapsed{self._left(now)}\n"
                )

    def close(self) -> None:
        with self._lock:
            if self.tty and self._drawn:
                self._write("\r\x1b[K")
            self._drawn = False

    # ------------------------------------------------------------ the line

    def _count(self) -> str:
        return f"{self.done:,} of {self.total:,}" if self.total else f"{self.done:,}"

    def _left(self, now: float) -> str:
        """ "; about M:SS left" of the command (a plan) or of the current run (its bars)."""
        if self.total and self.durations:
            mean = sum(self.durations) / len(self.durations)
            running = now - self.run_start if self.label else 0.0
            left = max(self.total - self.done, 0) * mean - min(running, mean)
            return f"; about {_clock(left)} left"
        if self.bars and self.bars[0]:
            done, total = self.bars
            rate = (now - self.run_start) / done
            return f"; this run about {_clock((total - done) * rate)} left"
        return ""

    def _draw(self, force: bool = False) -> None:
        if not self.tty:
            return
        now = self.clock()
        if not force and now - self.last_draw < self.every:
            return
        self.last_draw = now
        current = ""
        if self.label:
            current = f"; now {self.label}" + (f": {self.part}" if self.part else "")
            if self.bars:
                current += f", bar {self.bars[0]:,} of {self.bars[1]:,}"
        line = (
            f"{self.command}: {self._count()} runs done{current}; "
            f"{_clock(now - self.start)} elapsed{self._left(now)}"
        )
        self._write("\r\x1b[K" + line)
        self._drawn = True

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


class Meter:
    """A count towards a target (a fuzz campaign's steps): on a terminal one status line
    rewritten at most every `every` seconds; in a pipe one line at most every `pipe_every`
    seconds (a campaign of hours in a CI log: a line a minute, not one per batch)."""

    def __init__(
        self,
        command: str,
        unit: str,
        total: int,
        stream: TextIO | None = None,
        every: float = EVERY_S,
        pipe_every: float = 60.0,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.command, self.unit, self.total = command, unit, total
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.every = every if self.tty else pipe_every
        self.clock = clock
        self.start = clock()
        self.last = self.start
        self.drawn = False

    def update(self, done: int, first: int = 0) -> None:
        """`done` of the total so far, `first` of them before this run (a resumed campaign)."""
        now = self.clock()
        if now - self.last < self.every:
            return
        self.last = now
        rate = (done - first) / (now - self.start) if now > self.start else 0.0
        if done >= self.total:  # (a fuzz campaign ends at its workers' batch boundary)
            count, left = f"{done:,} {self.unit} (the target, {self.total:,}, reached)", ""
        else:
            count = f"{done:,} of {self.total:,} {self.unit} ({done / self.total:.1%})"
            left = f", about {_clock((self.total - done) / rate)} left" if rate > 0 else ""
        line = (
            f"{self.command}: {count}, {rate:,.0f} {self.unit}/s, "
            f"{_clock(now - self.start)} elapsed{left}"
        )
        if self.tty:
            self.stream.write("\r\x1b[K" + line)
            self.drawn = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False


_current: Reporter | None = None


@contextmanager
def reporting(command: str, **kwargs: Any) -> Iterator[Reporter]:
    """Install a reporter for `command` while the block runs."""
    global _current
    previous, _current = _current, Reporter(command, **kwargs)
    try:
        yield _current
    finally:
        _current.close()
        _current = previous


def plan(runs: int) -> None:
    """The command will make `runs` runs in all."""
    if _current is not None:
        _current.plan(runs)


def finished(label: str) -> None:
    """A run made elsewhere (a worker process) is done."""
    if _current is not None:
        _current.run_finished(label)


def counted_run(label: Callable[..., str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a function that is one run: with a reporter installed, each call is counted,
    labelled `label(*args, **kwargs)`, and, if the function takes a `progress(label, done,
    total)` argument the caller left out, its bars reported. Without one: the call as it is."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            reporter = _current
            if reporter is None:
                return fn(*args, **kwargs)
            try:
                name = label(*args, **kwargs)
            except Exception:  # noqa: BLE001 - a label is never worth a failed run
                name = fn.__name__
            reporter.run_started(name)
            if "progress" in fn.__code__.co_varnames and kwargs.get("progress") is None:
                kwargs["progress"] = reporter.bar
            result = fn(*args, **kwargs)
            reporter.run_finished(name)
            return result

        return wrapper

    return decorate


__all__ = ["Meter", "Reporter", "counted_run", "finished", "plan", "reporting"]
