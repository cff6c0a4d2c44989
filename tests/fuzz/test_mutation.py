"""The mutation tool itself (offchain/testing/mutation.py; the run is `make mutate`): a mutant
is applied and taken back byte for byte, never half-applied; a mutant that does not apply is a
clear error; the committed list applies to today's sources; the temporary copy goes, however a
run ends."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from offchain.testing.fuzz import ROOT
from offchain.testing.mutation import (
    MUTANTS_FILE,
    Edit,
    Mutant,
    MutantError,
    applied,
    load_mutants,
    mutated_sources,
    project_copy,
)

MIN_MUTANTS = 25  # issue 14


def _tree_with(tmp_path: Path, mutant: Mutant) -> Path:
    """A directory holding copies of the files `mutant` edits."""
    for name in mutant.files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def _contents(root: Path, mutant: Mutant) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in mutant.files}


def test_mutant_list__committed__has_enough_mutants_each_applying_to_a_contract_and_its_twin():
    mutants = load_mutants()
    assert len(mutants) >= MIN_MUTANTS
    contracts = set()
    for mutant in mutants:
        if mutant.offchain:
            # an off-chain bug (a keeper's strategy): off-chain files only
            assert all(f.startswith("offchain/") for f in mutant.files), mutant.id
        else:
            assert any(f.startswith("contracts/") for f in mutant.files), mutant.id
            assert any(f.startswith("offchain/model/") for f in mutant.files), mutant.id
        assert mutant.tests and all((ROOT / t).is_file() for t in mutant.tests), mutant.id
        contracts |= {f for f in mutant.files if f.endswith(".vy")}
        for path, (original, mutated) in mutated_sources(ROOT, mutant).items():
            assert mutated != original, f"{mutant.id}: {path} unchanged"
    assert len(contracts) >= 10  # spread over the system, not one contract


def test_applied__then_taken_back__leaves_every_file_byte_identical(tmp_path):
    mutant = load_mutants()[0]
    root = _tree_with(tmp_path, mutant)
    before = _contents(root, mutant)
    with applied(root, mutant):
        during = _contents(root, mutant)
        assert all(during[name] != before[name] for name in mutant.files)
    assert _contents(root, mutant) == before


def test_applied__block_raises__files_are_restored(tmp_path):
    mutant = load_mutants()[-1]
    root = _tree_with(tmp_path, mutant)
    before = _contents(root, mutant)
    with pytest.raises(KeyboardInterrupt), applied(root, mutant):
        raise KeyboardInterrupt  # Ctrl-C in the middle of a run
    assert _contents(root, mutant) == before


def test_applied__edit_not_found__is_a_clear_error_and_writes_nothing(tmp_path):
    good = load_mutants()[0]
    broken = Mutant(
        "broken",
        "its second edit does not apply",
        (good.edits[0], Edit(good.edits[-1].file, "no such text anywhere", "x")),
        good.tests,
    )
    root = _tree_with(tmp_path, good)
    before = _contents(root, good)
    with pytest.raises(MutantError, match="mutant broken: .*'no such text anywhere' not found"):
        with applied(root, broken):
            pytest.fail("a mutant that does not apply must not run")
    assert _contents(root, good) == before


def test_applied__edit_found_twice__is_a_clear_error(tmp_path):
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "X.vy").write_text("a = 1\na = 1\n")
    mutant = Mutant("twice", "", (Edit("contracts/X.vy", "a = 1", "a = 2"),), ())
    with pytest.raises(MutantError, match="found 2 times"):
        mutated_sources(tmp_path, mutant)


@pytest.mark.parametrize(
    "text, error",
    [
        ("", "empty file \\(a mutant list holds \\[\\[mutant\\]\\] tables\\)"),
        ("[other]\nkey = 1\n", "no \\[\\[mutant\\]\\] entries"),
        ('[[mutant]]\nid = "a"\n', "missing or malformed field"),
        (
            '[[mutant]]\nid = "a"\ndescription = ""\ntests = []\n'
            '[[mutant.edit]]\nfile = "contracts/A.vy"\nfind = "x"\nreplace = "y"\n',
            "must edit a contract and its model twin",
        ),
        (
            '[[mutant]]\nid = "a"\ndescription = ""\ntests = []\noffchain = true\n'
            '[[mutant.edit]]\nfile = "contracts/A.vy"\nfind = "x"\nreplace = "y"\n',
            "an off-chain bug edits offchain/ only",
        ),
        ("[[mutant]\n", "mutants.toml"),
    ],
)
def test_load_mutants__malformed_list__names_the_problem(tmp_path, text, error):
    path = tmp_path / "mutants.toml"
    path.write_text(text)
    with pytest.raises(MutantError, match=error):
        load_mutants(path)


def test_load_mutants__duplicate_id__is_refused(tmp_path):
    entry = MUTANTS_FILE.read_text().split("[[mutant]]")[1]
    path = tmp_path / "mutants.toml"
    path.write_text(f"[[mutant]]{entry}[[mutant]]{entry}")
    with pytest.raises(MutantError, match="duplicate id"):
        load_mutants(path)


def test_project_copy__removed_however_the_block_ends():
    with pytest.raises(RuntimeError), project_copy(ROOT, build_cache=False) as copy:
        assert (copy / "contracts" / "VaultEngine.vy").read_bytes() == (
            ROOT / "contracts" / "VaultEngine.vy"
        ).read_bytes()
        raise RuntimeError
    assert not copy.exists()


def _importers(module: str) -> list[Path]:
    """The top-level contracts that import contracts/modules/`module`.vy (its mutants build
    there)."""
    pattern = f"from modules import {module}"
    return [p for p in sorted((ROOT / "contracts").glob("*.vy")) if pattern in p.read_text()]


@pytest.mark.slow
def test_mutant_list__every_mutant_builds__contract_compiles_and_twin_parses(tmp_path):
    """A mutant that does not build is an error in `make mutate`, not a kill: when the loss book
    moved into modules/loss_book.vy, one mutant's replacement still named `COUNT_BITS`, which
    the Backstop no longer has, and the full run counted 55 of 56. Every mutant's contracts
    (the edited contract, or each contract importing an edited module) compile, and every
    edited twin parses."""
    vyper = shutil.which("vyper")
    assert vyper is not None
    failures = []
    for mutant in load_mutants():
        root = tmp_path / mutant.id
        shutil.copytree(ROOT / "contracts", root / "contracts")
        targets: set[Path] = set()
        for path, (_, mutated) in mutated_sources(ROOT, mutant).items():
            relative = path.relative_to(ROOT)
            if relative.suffix == ".py":
                try:
                    compile(mutated.decode(), str(relative), "exec")
                except SyntaxError as exc:
                    failures.append(f"{mutant.id}: {relative}: {exc}")
                continue
            (root / relative).write_bytes(mutated)
            if relative.parent.name == "modules":
                targets |= {root / "contracts" / p.name for p in _importers(relative.stem)}
            else:
                targets.add(root / relative)
        for target in sorted(targets):
            done = subprocess.run(
                [vyper, "-f", "bytecode_runtime", "-p", str(root / "contracts"), str(target)],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                lines = done.stderr.strip().splitlines() or ["?"]
                said = next((x for x in lines if "Exception" in x or "Error" in x), lines[-1])
                failures.append(f"{mutant.id}: {target.name}: {said.strip()}")
    assert not failures, "\n".join(failures)


def test_mutants_side_by_side__both_workers_busy_at_once__record_in_the_lists_order(
    tmp_path, monkeypatch
):
    """`ape run mutate --workers 2`: two mutants run at once (each here a real child process,
    `sleep`, through the runner's `_run`, which waits at a two-party barrier: run one at a time,
    the barrier breaks), each printed as it ends, the record in the list's order with its
    workers. The killing suite is the runner's own (`run_mutant`); here it is replaced by the
    barrier so that the orchestration is what is tested."""
    import json
    import threading

    from click.testing import CliRunner
    from helpers import script_cli

    from offchain.testing import mutation

    ids = [m.id for m in load_mutants(MUTANTS_FILE)[:4]]
    barrier = threading.Barrier(2, timeout=60)

    def run_mutant(mutant, root, profile, unit, timeout):
        code, _ = mutation._run(["sleep", "0.2" if mutant.id == ids[0] else "0"], root, 60)
        assert code == 0
        barrier.wait()  # the other worker's mutant runs now too
        fuzz = mutation.Verdict(True, True, "a check", 7, 0.1)
        return mutation.MutantResult(
            mutant.id, mutant.files, mutant.description, True, "fuzz: a check", fuzz,
            mutation.Verdict(ran=False),
        )  # fmt: skip

    def run_baseline(root, profile):
        return mutation.Verdict(True, False, None, 11, 0.1)

    cli = script_cli("mutate")
    monkeypatch.setitem(cli.callback.__globals__, "run_mutant", run_mutant)
    monkeypatch.setitem(cli.callback.__globals__, "run_baseline", run_baseline)
    out = tmp_path / "m.json"
    args = [arg for i in ids for arg in ("--only", i)]
    result = CliRunner().invoke(cli, [*args, "--workers", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text())
    assert [m["id"] for m in record["mutants"]] == ids
    assert record["workers"] == 2 and record["killed"] == 4 and record["baseline_steps"] == 11
    lines = [x for x in result.output.splitlines() if x.startswith("[")]
    assert sorted(x.split()[0] for x in lines) == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]
    assert not barrier.broken


def test_stop_children__ends_a_running_child_and_refuses_new_ones():
    """Ctrl-C (or SIGTERM) in `ape run mutate` ends every mutant's child process (each in its own
    session, with its Anvil): the threads running them return at once and remove their copies."""
    import threading

    from offchain.testing import mutation

    said: list[tuple[int, str]] = []
    thread = threading.Thread(
        target=lambda: said.append(mutation._run(["sleep", "600"], ROOT, 900))
    )
    thread.start()
    try:
        while not mutation._CHILDREN and thread.is_alive():
            thread.join(0.01)
        mutation.stop_children()
        thread.join(60)
        assert not thread.is_alive() and said and said[0][0] != 0, said
        assert mutation._run(["true"], ROOT, 60) == (-1, "stopped")
    finally:
        mutation._STOPPING.clear()
        for child in list(mutation._CHILDREN):
            mutation._kill(child)
