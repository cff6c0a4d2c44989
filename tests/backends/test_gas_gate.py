"""The gas gate (`ape run gas`, CI) and the gas breakdown: a rise above 1% fails, so does a figure
new or gone; a snapshot that is missing or not a snapshot is one line; the committed snapshot is
what the contracts cost now; the breakdown's frames add up to the transaction's gas.

Money flow: none; gas only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from offchain.backends.anvil import Anvil
from offchain.testing import gas_report
from offchain.testing.fuzz import ROOT


def test_gate__rise_within_one_percent__passes_and_above__fails():
    snapshot = {"gas.a": 100_000, "gas.b": 50_000}
    changes = gas_report.compare({"gas.a": 101_000, "gas.b": 50_000}, snapshot)
    assert [(c.figure, c.fails) for c in changes] == [("gas.a", False)]
    changes = gas_report.compare({"gas.a": 101_001, "gas.b": 49_000}, snapshot)
    assert [(c.figure, c.fails) for c in changes] == [("gas.a", True), ("gas.b", False)]
    assert changes[0].describe() == "gas.a: 100,000 -> 101,001 gas (+1.00%)"


def test_gate__figure_new_or_gone__fails():
    changes = gas_report.compare({"gas.a": 1, "gas.new": 2}, {"gas.a": 1, "gas.old": 3})
    assert [(c.figure, c.fails) for c in changes] == [("gas.new", True), ("gas.old", True)]
    assert "no longer measured" in changes[1].describe()
    assert "new figure" in changes[0].describe()


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no gas snapshot"),
        ("{not json", "not JSON"),
        ('{"gas.a": "12"}', "not a gas snapshot"),
        ("[1, 2]", "not a gas snapshot"),
        # a hand edit: compared as a regression (exit 1) before (issue 47's newcomer, case 28)
        ('{"gas.a": -5, "gas.b": 90000}', "gas.a: gas under 21,000"),
        (b"\x89PNG\r\n\x1a\n\x00\x80\xff", "not a text file"),
    ],
)
def test_snapshot__missing_or_malformed__is_one_line(tmp_path, content, message):
    path = tmp_path / "gas-snapshot.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(gas_report.SnapshotError, match=message) as error:
        gas_report.read_snapshot(path)
    assert "\n" not in str(error.value)


def test_snapshot__committed__is_what_the_contracts_cost_now(artifacts):
    """The CI gate in miniature: the committed snapshot names every figure measured now, none
    more than 1% below what is measured (a rise would fail `ape run gas`)."""
    measured = gas_report.measure(artifacts)
    failing = [
        c.describe() for c in gas_report.compare(measured, gas_report.read_snapshot()) if c.fails
    ]
    assert failing == []


def test_gate_command__a_lowered_snapshot__exits_1_naming_the_figure(tmp_path):
    """`ape run gas` against a snapshot whose liquidation figure is 2% lower than now: exit 1, the
    figure named, the snapshot file untouched; a snapshot that is not one: exit 2, one line."""
    snapshot = gas_report.read_snapshot()
    lowered = dict(snapshot, **{"gas.liquidate": snapshot["gas.liquidate"] * 98 // 100})
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps(lowered))
    ape = str(Path(sys.executable).with_name("ape"))
    run = subprocess.run(
        [ape, "run", "gas", "--snapshot", str(path)], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 1, run.stderr
    assert [line.split(":")[0] for line in run.stdout.splitlines() if line.startswith("FAIL")] == [
        "FAIL gas.liquidate"
    ]
    assert "Traceback" not in run.stderr
    assert json.loads(path.read_text()) == lowered
    path.write_text("{not json")
    run = subprocess.run(
        [ape, "run", "gas", "--snapshot", str(path)], cwd=ROOT, capture_output=True, text=True
    )
    assert run.returncode == 2
    assert run.stderr.strip().startswith("gas: snapshot.json: not JSON")
    assert len(run.stderr.strip().splitlines()) == 1


def test_breakdown__frames_and_intrinsic__add_up_to_the_gas(artifacts):
    """Each traced transaction's frames' own gas plus its intrinsic gas is its gas used, and the
    liquidation creates the auction's and the loss event's records."""
    with Anvil(gas_report.GENESIS) as node:
        items = gas_report.breakdowns(node.url, artifacts)
    by_figure = {b.figure: b for b in items}
    measured = gas_report.measure(artifacts)
    for b in items:
        assert b.intrinsic + sum(f.own_gas for f in b.frames) == b.total
        if b.figure in measured:
            assert b.total == measured[b.figure]
    liquidate = by_figure["gas.liquidate"]
    assert [f"{f.contract}.{f.function}" for f in liquidate.frames if f.depth == 1] == [
        "VaultEngine.collateral_types",
        "VaultEngine.size_margin_word",
        "VaultEngine.vaults",
        "VaultEngine.seize",
        "DutchAuction.start",
        "Backstop.open_loss",
    ]
    assert liquidate.slots["DutchAuction"].created >= 3
    # the loss event: one word while its auction runs
    assert liquidate.slots["Backstop"].created == 1
    assert "## `gas.liquidate`" in gas_report.render(items)


def test_gate_command__unusable_snapshot_paths__one_line_each_before_any_measurement(tmp_path):
    """Issue 47's newcomer: a binary snapshot and one that cannot be written were tracebacks
    (the second after the whole measurement), and --breakdown ignored --update and --snapshot.
    Each is one line now, exit 2, before anything is measured or written."""
    (tmp_path / "afile").write_text("x")
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\x00\x80" * 1000)
    ape = str(Path(sys.executable).with_name("ape"))
    cases = [
        (["--snapshot", str(binary)], f"gas: {binary}: not a text file (byte 2 is not UTF-8)"),
        (
            ["--update", "--snapshot", str(tmp_path / "afile" / "s.json")],
            f"gas: --snapshot {tmp_path}/afile/s.json: {tmp_path}/afile is a file, not a directory",
        ),
        (
            ["--breakdown", "--update"],
            "gas: --breakdown traces on Anvil only: it takes neither --update nor --snapshot",
        ),
        (
            ["--snapshot", str(tmp_path)],
            f"gas: Invalid value for '--snapshot': File '{tmp_path}' is a directory.",
        ),
    ]
    for args, line in cases:
        run = subprocess.run(
            [ape, "run", "gas", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert (run.returncode, run.stderr.strip().splitlines()) == (2, [line]), args
        assert run.stdout.strip() == ""  # nothing measured
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "bin.json"]
