"""Where a sweep's runs execute. Every executor answers the same calls (`Executor`): map a
function over tasks and yield the results as they finish, a bounded number in flight (a killed
sweep loses at most those; the runner writes each result as it arrives).

- `PoolExecutor`: the standard library's process pool on the local cores (the default). Workers
  start from a fork server that has imported the worker's module once (not from the parent,
  which may hold threads: Ape's, Dask's).
- `DaskExecutor`: a `distributed.Client` on a `LocalCluster` it starts (`--dask`) or on an
  existing scheduler (`--scheduler tcp://HOST:PORT`; docs/sweeps.md says how to start one and
  its workers). Before the first task it checks that the cluster answers, has workers, and
  that they run the same code (runs.code_fingerprint).
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar, cast

from offchain.sweep.runs import code_fingerprint

T = TypeVar("T")
R = TypeVar("R")

CONNECT_TIMEOUT_S = 5  # to reach a scheduler
WORKER_TIMEOUT_S = 10  # for its first worker to join
IN_FLIGHT_PER_WORKER = 2  # tasks queued per worker: enough to keep it busy


class ExecutorError(RuntimeError):
    """An executor cannot run the sweep (unreachable scheduler, no workers, other code); one
    line."""


class Executor(Protocol):
    description: str  # for the console: what runs the sweep
    workers: int

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        """fn(task) for every task, yielded as each finishes."""
        ...

    def close(self) -> None: ...


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _bounded(
    submit: Callable[[T], Any],
    wait_some: Callable[[set[Any]], tuple[set[Any], set[Any]]],
    result: Callable[[Any], R],
    tasks: Iterable[T],
    limit: Callable[[], int],
) -> Iterator[R]:
    """Submit while fewer than `limit()` are in flight; yield results as they finish."""
    pending: set[Any] = set()
    queue = iter(tasks)
    exhausted = False
    try:
        while True:
            room = limit()
            while not exhausted and len(pending) < room:
                task = next(queue, None)
                if task is None:
                    exhausted = True
                else:
                    pending.add(submit(task))
            if not pending:
                return
            done, pending = wait_some(pending)
            for future in done:
                yield result(future)
    finally:
        for future in pending:
            future.cancel()


class PoolExecutor:
    """The local process pool (concurrent.futures) with `workers` processes."""

    def __init__(self, workers: int):
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["offchain.sweep.runs"])
        self.workers = workers
        self.description = f"process pool, {workers} worker{'s' if workers != 1 else ''}"
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        # start every worker now, as a LocalCluster does: the sweep's clock then counts runs
        started = [self._pool.submit(os.getpid) for _ in range(workers)]
        wait(started)

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        def wait_some(pending: set[Future]) -> tuple[set[Future], set[Future]]:
            done, rest = wait(pending, return_when=FIRST_COMPLETED)
            return set(done), set(rest)

        return _bounded(
            lambda task: self._pool.submit(fn, task),
            wait_some,
            lambda future: future.result(),
            tasks,
            lambda: self.workers * IN_FLIGHT_PER_WORKER,
        )

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """A Dask client: on a LocalCluster of `workers` single-threaded worker processes it starts
    (`address` None), or on the scheduler at `address`."""

    def __init__(self, address: str | None = None, workers: int | None = None):
        from distributed import Client, LocalCluster

        self._cluster = None
        try:
            if address is None:
                n = workers or default_workers()
                options: dict[str, Any] = {  # no dashboard (None: typed as a str, documented)
                    "dashboard_address": None,
                    "silence_logs": logging.ERROR,
                }
                self._cluster = LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True, **options
                )
                self._client = Client(self._cluster, set_as_default=False)
                where = "Dask LocalCluster"
            else:
                self._client = Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
                where = f"Dask scheduler {address}"
        except (OSError, TimeoutError) as exc:
            self._close_cluster()
            raise ExecutorError(
                f"--scheduler {address}: unreachable ({' '.join(str(exc).split())})"
            ) from None
        except ValueError as exc:  # a malformed address
            self._close_cluster()
            raise ExecutorError(f"--scheduler {address}: {' '.join(str(exc).split())}") from None
        try:
            self._client.wait_for_workers(1, timeout=WORKER_TIMEOUT_S)
        except TimeoutError:
            self.close()
            raise ExecutorError(
                f"{where}: no worker joined within {WORKER_TIMEOUT_S} s (start `dask worker "
                f"{address}` on the machines that should run the sweep)"
            ) from None
        fingerprints = cast(dict[str, str], self._client.run(code_fingerprint))
        other = sorted(w for w, f in fingerprints.items() if f != code_fingerprint())
        if other:
            self.close()
            raise ExecutorError(
                f"{where}: worker {other[0]} runs other Backstop code than this checkout "
                "(install the same commit on every worker)"
            )
        self.workers = len(fingerprints)
        self.description = f"{where} ({self.workers} worker{'s' if self.workers != 1 else ''})"

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        from distributed import as_completed

        client = self._client
        queue = iter(tasks)
        pending = as_completed(loop=client.loop)

        def fill() -> None:
            # workers may join (or leave) an existing cluster while it runs
            limit = max(1, len(client.scheduler_info()["workers"])) * IN_FLIGHT_PER_WORKER
            for task in itertools.islice(queue, max(0, limit - pending.count())):
                pending.add(client.submit(fn, task, pure=False))

        fill()
        try:
            for future in pending:  # until none is left: those added meanwhile included
                yield future.result()
                future.release()
                fill()
        finally:
            left = list(pending.futures)
            if left:
                client.cancel(left)

    def _close_cluster(self) -> None:
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def close(self) -> None:
        self._client.close()
        self._close_cluster()
