"""A sweep's output directory.

    sweep.json        the sweep's identity (spec.Plan.identity): a directory holds one sweep;
                      the same sweep resumes in it, another is refused
    runs/NNNNNNN.parquet   one row per finished run, written as it finishes (to a temporary name,
                      then renamed: a killed sweep leaves whole files only); a resumed sweep
                      skips these runs
    results.parquet, results.csv   every run in run order, without the wall-clock columns: the
                      same sweep gives byte-identical files, however it was run or resumed
    runtimes.parquet  run, runtime_s, worker: how long each run took where (differs every time)

The report (report.py) adds summary.md, summary.html, cells.parquet, cells.csv, plots/ and
verification.json; `.backstop-output.json` marks the folder as a sweep's (offchain/system/
outputs.py: no other command replaces it). A sweep writes into a folder that is new, empty or
its own sweep's, and only when that holds nothing but the names above: a file or a folder (an
empty one too) of the user's in it, or another command's output, is refused, so that nothing
the sweep replaces or clears away (plots/, a run it cannot read, its temporary files) is ever
someone else's.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from offchain.sweep.runs import METRICS, RUN_COLUMNS, RUNTIME_COLUMNS, TYPE_METRICS, type_column
from offchain.sweep.spec import Plan, SweepError
from offchain.system.outputs import MARKER, OutputError, folder_refusal, read_marker, write_marker

SWEEP_FILE = "sweep.json"
LOCK_FILE = ".lock"  # held (flock) by the process running the sweep
RUNS_DIR = "runs"
RESULTS = "results.parquet"
RESULTS_CSV = "results.csv"
RUNTIMES = "runtimes.parquet"
_ARROW = {"float": pa.float64(), "int": pa.int64(), "str": pa.string()}
_RUN_TYPES = {
    "run": pa.int64(),
    "cell": pa.int64(),
    "seed": pa.uint64(),
    "status": pa.string(),
    "error": pa.string(),
}


# what a sweep writes in its folder (the report's names too: report.py), as regular expressions
# of a path relative to it
_OWN = re.compile(
    r"^(?:sweep\.json|\.lock|" + re.escape(MARKER) + r"|results\.parquet|results\.csv"
    r"|runtimes\.parquet|summary\.md|summary\.html|cells\.parquet|cells\.csv"
    r"|verification\.json|runs/[0-9]{7}\.parquet|plots/[A-Za-z0-9_.-]+\.png"
    r"|(?:runs/)?\.[^/]+\.tmp-[0-9a-f]+|\.[^/]+\.partial-[0-9a-f]+(?:/.*)?)$"
)


# the folders a sweep makes in its folder
_OWN_FOLDERS = re.compile(r"^(?:runs|plots|\.[^/]+\.partial-[0-9a-f]+(?:/.*)?)$")


def foreign_files(root: Path) -> list[str]:
    """The files and folders under `root` a sweep does not write (relative paths; a folder's
    ends in "/", an empty one of the user's too), sorted."""
    found = []
    for directory, dirs, names in os.walk(root):
        here = Path(directory)
        for name in [*names, *dirs]:
            path = here / name
            rel = PurePosixPath(path.relative_to(root).as_posix())
            if name in dirs and not path.is_symlink():
                if not _OWN_FOLDERS.match(str(rel)):
                    found.append(f"{rel}/")
            elif path.is_symlink() or not _OWN.match(str(rel)):
                found.append(str(rel))
    return sorted(found)


def atomic_write(path: Path, write: Any) -> None:
    """`write(temporary path)`, then rename it to `path`: readers see the old file or the new."""
    tmp = path.parent / f".{path.name}.tmp-{secrets.token_hex(4)}"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class Store:
    """The output directory of one plan (see the module docstring)."""

    def __init__(self, out_dir: str | Path, plan: Plan):
        self.root = Path(os.path.abspath(out_dir))
        self.plan = plan
        self.identity = plan.identity()
        names = list(plan.names)
        fields = [pa.field("run", pa.int64()), pa.field("scenario", pa.string())]
        fields += [pa.field(c, _RUN_TYPES[c]) for c in RUN_COLUMNS if c != "run"]
        fields += [pa.field(f"grid.{n}", pa.string()) for n in names]
        fields += [pa.field(m, _ARROW[kind]) for m, kind in METRICS.items()]
        fields += [
            pa.field(type_column(m, name), _ARROW[kind])
            for name in plan.collateral_types
            for m, kind in TYPE_METRICS.items()
        ]
        self.results_schema = pa.schema(fields)
        self.run_schema = pa.schema(
            fields + [pa.field("runtime_s", pa.float64()), pa.field("worker", pa.string())]
        )

    # ------------------------------------------------------------ the directory

    def check(self) -> bool:
        """True to resume the same sweep, False for a new one; SweepError (writing nothing) for
        a path that holds something else."""
        root = self.root
        if not root.exists() and not root.is_symlink():
            return False
        if not root.is_dir() or root.is_symlink():
            raise SweepError(f"{root}: exists and is not a directory; choose another --out")
        try:
            output = read_marker(root)
        except OutputError as exc:
            raise SweepError(str(exc)) from None
        marker = root / SWEEP_FILE
        if (output is not None and output["command"] != "sweep") or not marker.is_file():
            problem = folder_refusal(root, "sweep")
            if problem:  # (an empty folder is filled; a folder in it is the user's)
                raise SweepError(problem)
            return False
        foreign = foreign_files(root)
        if foreign:
            shown = ", ".join(foreign[:3]) + (
                f" and {len(foreign) - 3:,} more" if len(foreign) > 3 else ""
            )
            raise SweepError(
                f"{root}: holds {shown}, which a sweep does not write; move "
                f"{'it' if len(foreign) == 1 else 'them'} out, or choose another --out"
            )
        try:
            held = json.loads(marker.read_text())["identity"]
        except (OSError, ValueError, KeyError, TypeError):
            raise SweepError(
                f"{root}: its {SWEEP_FILE} is unreadable; choose another --out"
            ) from None
        if held != self.identity:
            differ = next((k for k in self.identity if held.get(k) != self.identity[k]), "format")
            if differ == "fingerprint":
                raise SweepError(
                    f"{root}: holds another sweep (the same grid and seeds, but its scenarios' "
                    "content differs: a scenario file, its market data or the config changed); "
                    "choose another --out"
                )
            raise SweepError(
                f"{root}: holds another sweep (its {differ}: {_short(held.get(differ))}; this "
                f"one's: {_short(self.identity.get(differ))}); choose another --out"
            )
        return True

    def open(self) -> None:
        """Create the directory (or keep the same sweep's), hold its lock (one process per
        sweep: SweepError if another holds it), clear what a killed process left half-written,
        and record the sweep's identity."""
        (self.root / RUNS_DIR).mkdir(parents=True, exist_ok=True)
        self._lock = open(self.root / LOCK_FILE, "a")  # noqa: SIM115 (held until the process ends)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise SweepError(
                f"{self.root}: another process is running this sweep; wait for it or stop it"
            ) from None
        for leftover in [*self.root.glob(".*.tmp-*"), *(self.root / RUNS_DIR).glob(".*.tmp-*")]:
            leftover.unlink(missing_ok=True)
        for leftover in self.root.glob(".*.partial-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        record = {
            "identity": self.identity,
            "scenarios": list(self.plan.spec.scenarios),
            "vaults": self.plan.spec.vaults,
        }
        atomic_write(
            self.root / SWEEP_FILE,
            lambda p: p.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n"),
        )
        write_marker(self.root, "sweep", listed=False)

    def close(self) -> None:
        """Release the sweep's lock."""
        lock = getattr(self, "_lock", None)
        if lock is not None:
            lock.close()  # closing the file releases its flock
            self._lock = None

    # ------------------------------------------------------------ runs

    def _run_path(self, run: int) -> Path:
        return self.root / RUNS_DIR / f"{run:07d}.parquet"

    def row(self, result: dict[str, Any]) -> dict[str, Any]:
        """A worker's result with the run's scenario and grid values (from the plan)."""
        cell = self.plan.cells[result["cell"]]
        row = dict(result)
        row["scenario"] = cell.scenario.name
        for name, value in zip(self.plan.names, cell.values):
            row[f"grid.{name}"] = value
        return {f.name: row.get(f.name) for f in self.run_schema}

    def write_run(self, row: dict[str, Any]) -> None:
        table = pa.Table.from_pylist([row], schema=self.run_schema)
        # one row: no column statistics, and the schema is the reader's (half the bytes)
        atomic_write(
            self._run_path(row["run"]),
            lambda p: pq.write_table(table, p, write_statistics=False, store_schema=False),
        )

    def finished(self) -> dict[int, dict[str, Any]]:
        """The runs already written, by run number (a file that cannot be read is deleted: its
        run runs again)."""
        out: dict[int, dict[str, Any]] = {}
        directory = self.root / RUNS_DIR
        if not directory.is_dir():
            return out
        for path in sorted(directory.glob("*.parquet")):
            if not path.stem.isdigit() or int(path.stem) >= self.plan.total:
                continue
            try:
                rows = pq.read_table(path, schema=self.run_schema).to_pylist()
            except (OSError, ValueError, pa.ArrowException):
                path.unlink(missing_ok=True)
                continue
            if len(rows) == 1 and rows[0]["run"] == int(path.stem):
                out[int(path.stem)] = rows[0]
        return out

    # ------------------------------------------------------------ results

    def write_results(self, rows: Iterable[dict[str, Any]]) -> pa.Table:
        """results.parquet, results.csv and runtimes.parquet from every run's row; the results
        table (run order, no wall clock)."""
        ordered = sorted(rows, key=lambda r: r["run"])
        results = pa.Table.from_pylist(
            [{f.name: r[f.name] for f in self.results_schema} for r in ordered],
            schema=self.results_schema,
        )
        runtimes = pa.Table.from_pylist(
            [{"run": r["run"], **{c: r[c] for c in RUNTIME_COLUMNS}} for r in ordered],
            schema=pa.schema(
                [
                    pa.field("run", pa.int64()),
                    pa.field("runtime_s", pa.float64()),
                    pa.field("worker", pa.string()),
                ]
            ),
        )
        atomic_write(self.root / RESULTS, lambda p: pq.write_table(results, p))
        atomic_write(self.root / RESULTS_CSV, lambda p: pacsv.write_csv(results, p))
        atomic_write(self.root / RUNTIMES, lambda p: pq.write_table(runtimes, p))
        return results


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."
