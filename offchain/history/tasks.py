"""The independent runs of `ape run history` (a model of another protocol's day under each
sensitivity row, and Backstop's side in the model under its rows), as tasks a process pool maps
(offchain/sweep/executors.py, as sweeps do): each task is a plain tuple, each function module
level, so a worker started from the fork server imports this module and runs it.

- ("history", day, key, overrides): the day file `day` under its family's runner with
  `overrides`; returns (key, the run's result);
- ("backstop", day, key, changes, phase, directory, overrides): Backstop's side of `day` in
  the model with the day's settings `overrides` (`--set`, as the chain run has them), scenario
  `changes` and the oracle's `phase`, its inputs written under `directory`; returns (key,
  BackstopFigures);
- ("counterfactual", day, key, changes, phase, directory, overrides, caps): the same under the
  day's settings with `overrides` and the auction `caps` (None: the day's rule), for the
  counterfactual's interval and cap sweep (counterfactual.py); returns (key, BackstopFigures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["execute", "run_task"]


def run_task(task: tuple) -> tuple[Any, Any]:
    kind = task[0]
    if kind == "history":
        from offchain.history.days import day
        from offchain.history.replay import clip, flip

        _, name, key, overrides = task
        module = day(name)
        runner = flip if module.FAMILY == "flip" else clip
        return key, runner.run(module, overrides)
    if kind == "backstop":
        from offchain.history import backstop

        _, name, key, changes, phase, directory, overrides = task
        cf = backstop.COUNTERFACTUALS[name]
        done = backstop.run(
            Path(directory),
            chain=False,
            v=backstop.values(overrides, cf),
            changes=changes or None,
            phase=phase,
            cf=cf,
        )
        return key, backstop.BackstopFigures.of(done.done.model)
    if kind == "counterfactual":
        from offchain.history import backstop

        _, name, key, changes, phase, directory, overrides, caps = task
        cf = backstop.COUNTERFACTUALS[name]
        done = backstop.run(
            Path(directory),
            chain=False,
            v=backstop.values(overrides, cf),
            changes=changes or None,
            phase=phase,
            cf=cf,
            caps=caps,
        )
        return key, backstop.BackstopFigures.of(done.done.model)
    raise ValueError(f"unknown task {kind!r}")


def execute(
    tasks: list[tuple],
    workers: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[Any, Any]:
    """Every task's result by its key: on the sweep's process pool with `workers` processes (in
    this process with 1), `progress(done, total)` after each."""
    total = len(tasks)
    out: dict[Any, Any] = {}
    results: Iterable[tuple[Any, Any]]
    pool = None
    if workers > 1 and total > 1:
        from offchain.sweep.executors import PoolExecutor

        pool = PoolExecutor(min(workers, total))
        results = pool.map_unordered(run_task, tasks)
    else:
        results = _serial(tasks)
    try:
        for key, result in results:
            out[key] = result
            if progress is not None:
                progress(len(out), total)
    finally:
        if pool is not None:
            pool.close()
    return out


def _serial(tasks: list[tuple]) -> Iterator[tuple[Any, Any]]:
    for task in tasks:
        yield run_task(task)
