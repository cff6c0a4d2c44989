"""Figures quoted in the README and docs/ come from bench/: in every table of README.md,
docs/*.md and bench/results.md headed `| figure | value |` or `| figure | now |`, a row whose
first cell names a benchmark figure (`gas.liquidate`, `sim.model_s`, ...) shows that figure's
value in bench/results.json, to the precision shown. Prose may quote older figures (change
logs, and dated sections say so); these tables state today's."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = {
    k: v
    for k, v in json.loads((ROOT / "bench" / "results.json").read_text()).items()
    if not k.startswith("_")
}
ROW = re.compile(r"^\|\s*`([a-z]+\.[a-z0-9_]+)`\s*\|\s*([^|]*)\|")
HEADER = re.compile(r"^\|\s*figure\s*\|\s*(value|now)\s*\|")
NUMBER = re.compile(r"-?[0-9][0-9,]*(?:\.[0-9]+)?")
PAGES = [ROOT / "README.md", ROOT / "bench" / "results.md", *sorted((ROOT / "docs").glob("*.md"))]


def _rows() -> list[tuple[str, str, str]]:
    rows = []
    for page in PAGES:
        current = False  # inside a table headed | figure | value | (or now)
        for line in page.read_text().splitlines():
            if not line.startswith("|"):
                current = False
            elif HEADER.match(line):
                current = True
            elif current and (row := ROW.match(line)) and row.group(1) in BENCH:
                rows.append((page.relative_to(ROOT).as_posix(), row.group(1), row.group(2).strip()))
    return rows


def test_tables_quote_benchmark_figures():
    # the check must see the tables it is meant for (results.md lists every figure)
    assert len(_rows()) >= len(BENCH)


@pytest.mark.parametrize("page, key, cell", _rows(), ids=lambda x: x if isinstance(x, str) else "")
def test_table_figure__equals_bench_results_json(page, key, cell):
    shown = NUMBER.match(cell)
    assert shown, f"{page}: `{key}` shows {cell!r}, not a number"
    text = shown.group(0)
    value = float(text.replace(",", ""))
    decimals = len(text.split(".")[1]) if "." in text else 0
    # the value as bench/results.json has it, to the precision the page shows
    assert abs(value - float(BENCH[key])) <= 0.5 * 10**-decimals, (
        f"{page}: `{key}` shows {text}, bench/results.json has {BENCH[key]}"
    )
