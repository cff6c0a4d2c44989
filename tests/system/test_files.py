"""A user's TOML or YAML file (offchain/system/files.py; scenario and sweep files): every problem
is one line naming the file, never a traceback; a byte-order mark is not a problem."""

from __future__ import annotations

import pytest

from offchain.sim.scenario_reader import ScenarioError, read_document
from offchain.system.files import read_mapping


class Problem(ValueError):
    pass


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("s.yaml", "a: 2020-02-30\n", "not valid YAML (day is out of range for month)"),
        ("s.yaml", "a: !!int abc\n", "not valid YAML ("),
        ("s.yaml", "a: " + "[" * 3000 + "\n", "not valid YAML ("),
        ("s.toml", "a = " + "[" * 3000 + "\n", "not valid TOML ("),
        ("s.yaml", "- 1\n- 2\n", "must be a mapping of tables, got list"),
        ("s.toml", "[market\n", "not valid TOML ("),
    ],
)
def test_read_mapping__malformed__one_line_naming_the_file(tmp_path, name, text, problem):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(Problem) as caught:
        read_mapping(path, Problem, str(path))
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and problem in message and "\n" not in message


def test_read_mapping__not_utf8__one_line(tmp_path):
    path = tmp_path / "s.toml"
    path.write_bytes(bytes(range(128, 256)))
    with pytest.raises(Problem, match="cannot read"):
        read_mapping(path, Problem, str(path))


@pytest.mark.parametrize("name", ["s.toml", "s.yaml"])
def test_read_mapping__byte_order_mark__read_as_without(tmp_path, name):
    path = tmp_path / name
    body = "[market]\ngas_gwei = 50\n" if name.endswith("toml") else "market:\n  gas_gwei: 50\n"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    assert read_mapping(path, Problem, str(path)) == {"market": {"gas_gwei": 50}}


def test_scenario_document__a_table_holding_itself__one_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("market: &x {inner: *x}\n")
    with pytest.raises(ScenarioError, match="a table contains itself"):
        read_document(path)
