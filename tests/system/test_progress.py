"""Progress of a long command (issue 65: `ape run history` printed nothing for 18 minutes):
runs done, the current run's bars and time left, on stderr; on a terminal one line rewritten at
most every few seconds, in a pipe one line per finished run. The work reports through hooks
(offchain/system/progress.py) that do nothing when no command installed a reporter."""

from __future__ import annotations

import io

from offchain.sim.run.replay import replay
from offchain.sim.scenario.load import load_scenario
from offchain.system.progress import Meter, Reporter, counted_run, plan, reporting


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_reporter__terminal__one_line_rewritten_at_most_every_two_seconds():
    clock, out = Clock(), io.StringIO()
    r = Reporter("history", out, every=2.0, tty=True, clock=clock)
    r.run_started("black-thursday-2020")
    for bar in range(1, 181):
        clock.now = bar * 0.1  # 18 s of bars: 180 reports
        r.bar("model", bar, 180)
    draws = out.getvalue().count("\r")
    assert 9 <= draws <= 11, draws  # the start and one every 2 s, not one per bar
    last = out.getvalue().rsplit("\r\x1b[K", 1)[-1]
    assert last.startswith("history: 0 runs done; now black-thursday-2020: model, bar 180 of 180")
    assert "0:18 elapsed" in last and "this run about 0:00 left" in last
    r.run_finished()
    r.close()
    assert out.getvalue().endswith("\r\x1b[K")  # the line cleared at the end


def test_reporter__pipe__one_line_per_run__the_commands_time_left_once_planned():
    clock, out = Clock(), io.StringIO()
    r = Reporter("history", out, tty=False, clock=clock)
    r.plan(4)
    for k in range(2):
        r.run_started(f"run {k}")
        for bar in range(1, 101):
            r.bar("model", bar, 100)
        clock.now += 60
        r.run_finished()
    assert out.getvalue().splitlines() == [
        "history: run 1 of 4 done (run 0, 1:00); 1:00 elapsed; about 3:00 left",
        "history: run 2 of 4 done (run 1, 1:00); 2:00 elapsed; about 2:00 left",
    ]


def test_hooks__without_a_reporter__the_call_as_it_is():
    calls = []

    @counted_run(lambda x, **kw: f"run {x}")
    def one(x, progress=None):
        calls.append(progress)
        return x * 2

    assert one(3) == 6 and calls == [None]  # no progress injected
    plan(5)  # nothing installed: nothing happens


def test_replay__counted_with_its_bars_through_the_hook():
    """A replay (the runs `ape run history`'s Backstop side and compare-waterfalls make) is one
    line in a pipe, its bars counted: the hook on replay(). (The history command counts its own
    runs, the flip and clip days included, through write()'s progress: scripts/_history.py.)"""
    scenario = load_scenario("black-thursday-2020", vaults=20)
    out = io.StringIO()
    seen = []
    with reporting("history", stream=out, tty=False) as reporter:
        bar = reporter.bar
        reporter.bar = lambda label, done, total: (
            seen.append((label, done, total)) or bar(label, done, total)
        )
        replay(scenario, chain=False)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("history: run 1 done (black-thursday-2020 (model), ")
    assert seen[-1][0] == "model" and seen[-1][1] == seen[-1][2] > 100  # every bar, to the end
    assert "this run" not in lines[0]  # a finished run has no time left of its own


def test_meter__a_line_a_minute_in_a_pipe__rate_and_time_left():
    clock, out = Clock(), io.StringIO()
    meter = Meter("fuzz", "steps", 1_000, out, tty=False, clock=clock)
    for k in range(1, 21):  # a batch every 10 s, 25 steps each, after 500 resumed
        clock.now = 10.0 * k
        meter.update(500 + 25 * k, first=500)
    assert out.getvalue().splitlines() == [
        "fuzz: 650 of 1,000 steps (65.0%), 2 steps/s, 1:00 elapsed, about 2:20 left",
        "fuzz: 800 of 1,000 steps (80.0%), 2 steps/s, 2:00 elapsed, about 1:20 left",
        "fuzz: 950 of 1,000 steps (95.0%), 2 steps/s, 3:00 elapsed, about 0:20 left",
    ]
