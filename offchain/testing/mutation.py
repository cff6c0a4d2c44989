"""Mutation testing: planted bugs, applied identically to a contract and its twin, that the tests
must catch (`ape run mutate`, scripts/_mutate.py; the list is offchain/testing/mutants.toml).

A mutant is a small bug written as exact text replacements (`Edit`: a file, a text that must occur
exactly once in it, its replacement) in one or more contracts (contracts/**.vy) and their twins
(offchain/model/*.py), so that chain == model still holds and only the specification checks
can tell; or, marked `offchain = true`, in off-chain code only (a keeper's strategy, the
model's one home of a formula the keepers call), which only a specification check of what the
fuzz machine's keeper decided can tell. Each mutant is applied in a temporary copy of the
project (`project_copy`), never in the project's own files; the copy is removed when the run
ends, however it ends.

First the fuzz runs against the project unmutated (`run_baseline`): it must pass, or a "kill"
could be the project's own failure. In the copy, the killing suite runs in a child process (so
that the mutated model is the one imported): first the differential machines on revm with a
small derandomized profile (`FUZZ_PROFILE`, both machines, stopping at the first failure),
then, by default only for a mutant the fuzz missed, the unit tests of the touched contracts
(`Mutant.tests`, on Anvil, stopping at the first failure). A mutant is killed when a check
fails; the record says which. `ape run mutate` runs mutants side by side, one per worker (its
`--workers`, one per core by default), each in its own copy and child process (its own session:
`stop_children` ends them all when the run is interrupted).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from offchain.system.files import blank
from offchain.testing.fuzz import ROOT, Profile

MUTANTS_FILE = ROOT / "offchain" / "testing" / "mutants.toml"
# the committed record of the last mutation run (read by the benchmark)
MUTANTS_RECORD = ROOT / "bench" / "mutants.json"
# the differential machines' profile against a mutant, per machine (derandomized: a fixed seed)
FUZZ_PROFILE = Profile(examples=300, steps=100, derandomize=True)
# what a mutant's temporary copy holds besides the files git knows (Ape's compilation cache, so
# that only the mutated contracts are compiled again)
_EXTRA = (".build",)
# the marker before the child's one-line JSON result on its stdout
_RESULT = "MUTANT-RESULT "
UNIT_MODES = ("survivors", "always", "never")


class MutantError(ValueError):
    """A mutant list or a mutant that cannot be applied (the message says which and why)."""


@dataclass(frozen=True)
class Edit:
    """Replace the only occurrence of `find` in `file` (relative to the project) by `replace`."""

    file: str
    find: str
    replace: str


@dataclass(frozen=True)
class Mutant:
    id: str
    description: str
    edits: tuple[Edit, ...]
    tests: tuple[str, ...]  # the unit tests of the touched contracts
    # an off-chain bug (a keeper's strategy, say: `offchain = true` in the list): it edits only
    # offchain/ files (the model's one home of a formula the keepers call, a keeper), no
    # contract, so chain == model holds trivially and only a specification check of what the
    # fuzz machine's keeper decided can kill it
    offchain: bool = False

    @property
    def files(self) -> list[str]:
        return sorted({e.file for e in self.edits})


@dataclass
class Verdict:
    """What one suite said of a mutant: killed (a check failed) and by what."""

    ran: bool
    killed: bool = False
    by: str | None = None  # the failing test or check and its first line
    steps: int = 0  # checked steps (the fuzz)
    seconds: float = 0.0


@dataclass
class MutantResult:
    id: str
    files: list[str]
    description: str
    killed: bool
    by: str | None
    fuzz: Verdict
    unit: Verdict
    error: str | None = None  # the mutant could not be built (compilation failed, say)


# ------------------------------------------------------------------ the list


# the keys of a mutant's table and of its edits (anything else is a mistake: a typo such as
# `tset` would silently drop the tests)
MUTANT_KEYS = ("id", "description", "edit", "tests", "offchain")
EDIT_KEYS = ("file", "find", "replace")


def _unknown(table: object, keys: tuple[str, ...], where: str) -> list[str]:
    extra = sorted(set(table) - set(keys)) if isinstance(table, dict) else []
    if not extra:
        return []
    return [
        f"{where}: unknown key{'s' if len(extra) > 1 else ''} {', '.join(extra)} (has "
        f"{', '.join(keys)})"
    ]


def _unusable(mutant: Mutant, where: str) -> str | None:
    """A mutant whose edits cannot even be tried (the entry is then left out of the mutants):
    a file outside the project (/etc/hostname was read before the entry was refused) or an edit
    whose find is empty (an IndexError traceback)."""
    outside = [f for f in mutant.files if Path(f).is_absolute() or ".." in Path(f).parts]
    if outside:
        return f"{where} ({mutant.id}): {outside[0]} is not a file of the project"
    if any(not e.find.strip() for e in mutant.edits):
        return f"{where} ({mutant.id}): an edit with an empty find"
    return None


def _mutant_problem(mutant: Mutant, where: str) -> str | None:
    files = mutant.files
    if mutant.offchain:
        if not all(f.startswith("offchain/") and f.endswith(".py") for f in files):
            return f"{where} ({mutant.id}): an off-chain bug edits offchain/ only"
    elif not any(f.startswith("contracts/") and f.endswith(".vy") for f in files) or not any(
        f.startswith("offchain/model/") for f in files
    ):
        return f"{where} ({mutant.id}): must edit a contract and its model twin"
    if any(e.find == e.replace for e in mutant.edits):
        return f"{where} ({mutant.id}): an edit that changes nothing"
    return None


def load_mutants(path: Path = MUTANTS_FILE) -> list[Mutant]:
    """The mutants of a TOML list (`[[mutant]]` tables with id, description, tests and
    `[[mutant.edit]]` tables with file, find, replace); a malformed list is a MutantError naming
    every mistake, one line each (read_mutants)."""
    mutants, problems = read_mutants(path)
    if problems:
        raise MutantError("\n".join(problems))
    return mutants


def read_mutants(path: Path = MUTANTS_FILE) -> tuple[list[Mutant], list[str]]:
    """The entries of a TOML list that make a mutant, and the list's mistakes, one line each:
    an entry's missing or malformed field, an unknown key, a duplicate id, an edit that breaks
    the list's rules (the entries named there are among the mutants, so that a caller can check
    their edits too). A file that is not a TOML list at all is a MutantError."""
    try:
        text = path.read_text()
        data = tomllib.loads(text)
    except UnicodeDecodeError:  # a binary file: a traceback before
        raise MutantError(f"{path}: not a text TOML file") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MutantError(
            f"{path}: {(exc.strerror or exc) if isinstance(exc, OSError) else exc}"
        ) from None
    entries = data.get("mutant", [])
    if not isinstance(entries, list):
        raise MutantError(f"{path.name}: mutant: not a list of [[mutant]] tables")
    mutants: list[Mutant] = []
    seen: set[str] = set()
    problems: list[str] = []
    for i, entry in enumerate(entries):
        where = f"{path.name}: mutant {i + 1}"
        problems += _unknown(entry, MUTANT_KEYS, where)
        edits = entry.get("edit") if isinstance(entry, dict) else None
        for j, e in enumerate(edits if isinstance(edits, list) else []):
            problems += _unknown(e, EDIT_KEYS, f"{where}: edit {j + 1}")
        try:
            mutant = Mutant(
                id=str(entry["id"]),
                description=str(entry["description"]),
                edits=tuple(
                    Edit(str(e["file"]), str(e["find"]), str(e["replace"])) for e in entry["edit"]
                ),
                tests=tuple(str(t) for t in entry["tests"]),
                offchain=bool(entry.get("offchain", False)),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            problems.append(f"{where}: missing or malformed field {exc}")
            continue
        if mutant.id in seen:
            problems.append(f"{where}: duplicate id {mutant.id!r}")
        seen.add(mutant.id)
        unusable = _unusable(mutant, where)
        if unusable:
            problems.append(unusable)
            continue
        problem = _mutant_problem(mutant, where)
        if problem:
            problems.append(problem)
        mutants.append(mutant)
    if not entries and blank(text):
        problems.append(f"{path}: empty file (a mutant list holds [[mutant]] tables)")
    elif not entries:
        problems.append(f"{path}: no [[mutant]] entries")
    return mutants, problems


def mutated_sources(root: Path, mutant: Mutant) -> dict[Path, tuple[bytes, bytes]]:
    """Per file the mutant edits under `root`: (original bytes, mutated bytes). Nothing is
    written; a `find` text that does not occur exactly once is a MutantError."""
    out: dict[Path, tuple[bytes, bytes]] = {}
    for edit in mutant.edits:
        path = root / edit.file
        if path not in out:
            try:
                original = path.read_bytes()
            except OSError as exc:
                raise MutantError(f"mutant {mutant.id}: {edit.file}: {exc.strerror}") from None
            out[path] = (original, original)
        original, text = out[path]
        source = text.decode()
        count = source.count(edit.find)
        if count != 1:
            found = "not found" if count == 0 else f"found {count} times"
            first = edit.find.strip().splitlines()[0]
            raise MutantError(f"mutant {mutant.id}: {edit.file}: {first!r} {found}")
        out[path] = (original, source.replace(edit.find, edit.replace).encode())
    return out


@contextmanager
def applied(root: Path, mutant: Mutant) -> Iterator[None]:
    """The mutant written into the files under `root` for the block, the original bytes back
    afterwards, however the block ends. Every edit is checked before any file is written."""
    sources = mutated_sources(root, mutant)
    written: list[Path] = []
    try:
        for path, (_, mutated) in sources.items():
            written.append(path)
            path.write_bytes(mutated)
        yield
    finally:
        for path in written:
            path.write_bytes(sources[path][0])


# ------------------------------------------------------------------ the temporary copy


def _project_files(root: Path) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [f for f in listed.split("\0") if f and (root / f).is_file()]


def _build_cache_valid(mutant: Mutant) -> bool:
    """Whether Ape's build cache can be reused: Ape compiles a changed contract again, but not the
    contracts that import a changed module (contracts/modules/, contracts/interfaces/)."""
    return all(f.count("/") == 1 for f in mutant.files if f.startswith("contracts/"))


@contextmanager
def project_copy(root: Path = ROOT, build_cache: bool = True) -> Iterator[Path]:
    """A temporary copy of the project (the files git knows and, with `build_cache`, Ape's build
    cache), removed afterwards however the block ends (an exception, Ctrl-C)."""
    tmp = Path(tempfile.mkdtemp(prefix="backstop-mutant-"))
    try:
        for name in _project_files(root):
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, target)
        for name in _EXTRA if build_cache else ():
            if (root / name).is_dir():
                shutil.copytree(root / name, tmp / name)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------ running the suites


def _env(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy)
    bins = [str(ROOT / ".venv" / "bin"), str(ROOT / "node_modules" / ".bin")]
    env["PATH"] = os.pathsep.join([*bins, env.get("PATH", "")])
    return env


# the children running now (mutants run side by side on threads: `stop_children` ends them all)
_CHILDREN: set[subprocess.Popen] = set()
_CHILDREN_LOCK = threading.Lock()
_STOPPING = threading.Event()


def _run(cmd: list[str], copy: Path, timeout: float) -> tuple[int, str]:
    if _STOPPING.is_set():
        return -1, "stopped"
    child = subprocess.Popen(
        cmd,
        cwd=copy,
        env=_env(copy),
        # apart: a warning written to stderr while the result line is written cannot cut into it
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group: stop_children ends it and its Anvil
    )
    with _CHILDREN_LOCK:
        _CHILDREN.add(child)
    try:
        output, errors = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(child)
        child.communicate()
        return -1, f"timed out after {timeout:.0f} s"
    except BaseException:  # Ctrl-C in this thread: the child (in its own session) ends too
        _kill(child)
        raise
    finally:
        with _CHILDREN_LOCK:
            _CHILDREN.discard(child)
    return child.returncode, output + errors


def _kill(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_children() -> None:
    """End every child running (and refuse new ones): an interrupted run's threads then finish at
    once, each removing its temporary copy."""
    _STOPPING.set()
    with _CHILDREN_LOCK:
        children = list(_CHILDREN)
    for child in children:
        _kill(child)


def run_fuzz(copy: Path, profile: Profile, timeout: float) -> tuple[Verdict, str | None]:
    """The differential machines on revm in `copy` (a child process): the verdict, or the error
    that kept the mutant from running (compilation, say)."""
    start = time.perf_counter()
    code, output = _run(
        [
            sys.executable,
            "-m",
            "offchain.testing.mutation",
            str(profile.examples),
            str(profile.steps),
        ],
        copy,
        timeout,
    )
    seconds = round(time.perf_counter() - start, 1)
    lines = [line for line in output.splitlines() if line.startswith(_RESULT)]
    if code != 0 or not lines:
        tail = " | ".join(output.strip().splitlines()[-3:])
        return Verdict(ran=False, seconds=seconds), f"fuzz did not run (exit {code}): {tail}"
    result = json.loads(lines[-1][len(_RESULT) :])
    return Verdict(True, result["killed"], result["by"], result["steps"], seconds), None


def run_unit(copy: Path, tests: tuple[str, ...], timeout: float) -> Verdict:
    """The unit tests `tests` in `copy` on Anvil, stopping at the first failure."""
    start = time.perf_counter()
    code, output = _run(
        ["ape", "test", *tests, "-x", "-q", "--disable-isolation", "-p", "no:cacheprovider"],
        copy,
        timeout,
    )
    seconds = round(time.perf_counter() - start, 1)
    if code == 0:
        return Verdict(True, False, None, 0, seconds)
    failed = [line for line in output.splitlines() if line.startswith(("FAILED", "ERROR"))]
    by = failed[0] if failed else " | ".join(output.strip().splitlines()[-2:])
    return Verdict(True, True, by[:300], 0, seconds)


# the unmutated project's fuzz must finish: on a busy machine (a campaign beside it) its run takes
# several times the 5 minutes it takes on a quiet one
BASELINE_TIMEOUT = 3600.0
# a mutant's fuzz runs at most the baseline's steps: one that takes more than MUTANT_SLOWDOWN times
# the baseline's time (and at least MUTANT_TIMEOUT) is stuck, an error, not a kill
MUTANT_TIMEOUT = 600.0
MUTANT_SLOWDOWN = 3


def mutant_timeout(baseline_seconds: float) -> float:
    """The limit of one mutant's run (fuzz, then unit tests, each), from the baseline's time on
    this machine now."""
    return max(MUTANT_TIMEOUT, MUTANT_SLOWDOWN * baseline_seconds)


def run_mutant(
    mutant: Mutant,
    root: Path = ROOT,
    profile: Profile = FUZZ_PROFILE,
    unit: str = "survivors",
    timeout: float = MUTANT_TIMEOUT,
) -> MutantResult:
    """Apply `mutant` in a temporary copy of `root` and run the killing suite against it."""
    with project_copy(root, _build_cache_valid(mutant)) as copy:
        with applied(copy, mutant):
            fuzz, error = run_fuzz(copy, profile, timeout)
            run_units = unit == "always" or (unit == "survivors" and not fuzz.killed)
            units = (
                run_unit(copy, mutant.tests, timeout)
                if run_units and error is None
                else Verdict(ran=False)
            )
    killed = fuzz.killed or units.killed
    by = f"fuzz: {fuzz.by}" if fuzz.killed else (f"unit: {units.by}" if units.killed else None)
    return MutantResult(mutant.id, mutant.files, mutant.description, killed, by, fuzz, units, error)


def run_baseline(
    root: Path = ROOT, profile: Profile = FUZZ_PROFILE, timeout: float = BASELINE_TIMEOUT
) -> Verdict:
    """The fuzz against the project as it is, in a temporary copy: it must pass, or a mutant's
    "kill" could be the project's own failure."""
    with project_copy(root) as copy:
        verdict, error = run_fuzz(copy, profile, timeout)
    if error is not None:
        raise MutantError(f"the unmutated project: {error}")
    return verdict


@dataclass
class MutationRun:
    """The record of a run (bench/mutants.json)."""

    total: int
    killed: int
    killed_by_fuzz: int
    kill_rate: float
    fuzz_profile: dict
    unit_mode: str
    baseline_steps: int  # the fuzz passed on the unmutated project, this many checked steps
    seconds: float
    git_commit: str
    mutants: list[MutantResult] = field(default_factory=list)
    workers: int = 1  # mutants run side by side (each its own copy and child process)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def summarize(
    results: list[MutantResult],
    profile: Profile,
    unit: str,
    baseline_steps: int,
    seconds: float,
    commit: str,
    workers: int = 1,
) -> MutationRun:
    killed = sum(r.killed for r in results)
    return MutationRun(
        total=len(results),
        killed=killed,
        killed_by_fuzz=sum(r.fuzz.killed for r in results),
        kill_rate=round(killed / len(results), 3) if results else 0.0,
        fuzz_profile={"machines": ["full", "liquidations"], **asdict(profile)},
        unit_mode=unit,
        baseline_steps=baseline_steps,
        seconds=round(seconds, 1),
        git_commit=commit,
        mutants=results,
        workers=workers,
    )


# ------------------------------------------------------------------ the child (in the copy)


def _fuzz_child(examples: int, steps: int) -> dict:
    """Run both machines on revm against the project this process imports (the mutated copy):
    killed at the first failing check."""
    from ape import project
    from hypothesis import Phase

    from offchain.backends import load_artifacts, reader_code
    from offchain.testing.fuzz import revm_target, run_machine
    from offchain.testing.harness import TEST_FACTORIES
    from offchain.testing.stats import Totals

    here = Path.cwd().resolve()
    if not Path(__file__).resolve().is_relative_to(here):
        raise RuntimeError(f"the mutant's run imports {__file__}, not the copy at {here}")
    artifacts = (load_artifacts(project, TEST_FACTORIES), reader_code(project))
    run_settings = Profile(examples, steps, True).settings(
        phases=(Phase.explicit, Phase.generate)  # no shrinking: the verdict is enough
    )
    total = 0
    for kind in ("full", "liquidations"):
        totals = Totals()
        try:
            run_machine(revm_target(artifacts), kind, run_settings, totals)
        except Exception as exc:  # noqa: BLE001 - any failing check kills the mutant
            lines = f"{type(exc).__name__}: {exc}".splitlines()
            first = " | ".join(line.strip() for line in lines[:3])[:400]
            total += totals.steps
            return {"killed": True, "by": f"{kind} machine: {first}", "steps": total}
        total += totals.steps
    return {"killed": False, "by": None, "steps": total}


if __name__ == "__main__":
    outcome = _fuzz_child(int(sys.argv[1]), int(sys.argv[2]))
    print(_RESULT + json.dumps(outcome), flush=True)
