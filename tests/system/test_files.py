"""A user's TOML or YAML file (offchain/system/files.py; scenario and sweep files): every problem
is one line naming the file, never a traceback; a byte-order mark is not a problem."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from offchain.sim.scenario.reader import ScenarioError, read_document
from offchain.system.config import parse_config
from offchain.system.files import OutOfRange, read_mapping, toml_text
from offchain.system.governance import merged_document


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


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("s.toml", bytes(range(128, 256)), "not a text TOML file (byte 1 is not UTF-8 text)"),
        ("s.toml", b"a = 1\n\x00\x01\x02", "not a text TOML file (it holds NUL bytes)"),
        ("s.yaml", b"a: 1\n\xff\xfe", "not a text YAML file (byte 6 is not UTF-8 text)"),
    ],
)
def test_read_mapping__binary__one_line_not_a_text_file(tmp_path, name, content, problem):
    """Issue 34: a binary file got Python's codec message ("'utf-8' codec can't decode byte
    0x80 in position 0: invalid start byte")."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(Problem) as caught:
        read_mapping(path, Problem, str(path))
    assert str(caught.value) == f"{path}: {problem}"


def test_read_mapping__a_directory__one_line(tmp_path):
    path = tmp_path / "sweep.toml"
    path.mkdir()
    with pytest.raises(Problem) as caught:
        read_mapping(path, Problem, str(path))
    assert str(caught.value) == f"{path}: a directory, not a file"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[market]\nstart_price = 1e400\n", "market.start_price = 1e400 is out of range (too "
         "large to be a number)"),
        ("[grid]\ndust = [2500, -1.5e999]\n", "grid.dust[1] = -1.5e999 is out of range (too "
         "large to be a number)"),
        ("[market]\ngas_gwei = 1e-400\n", "market.gas_gwei = 1e-400 is out of range (so small "
         "it would be read as 0)"),
    ],
)  # fmt: skip
def test_read_mapping__toml_number_out_of_range__names_the_key(tmp_path, text, problem):
    """Issue 34: an unquoted `1e400` was read as infinity and reported as "got inf"."""
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(Problem) as caught:
        read_mapping(path, Problem, str(path))
    assert str(caught.value) == f"{path}: {problem}"


def test_read_mapping__toml_numbers_out_of_range__every_one_named_with_the_callers_lines(
    tmp_path,
):
    """Issue 47 (#27): the parse named the first number out of range and stopped, so a file with
    three mistakes took three runs. Every number is named, a line each, with the caller's own
    lines for the document's other keys (which see the numbers as `OutOfRange`)."""
    path = tmp_path / "s.toml"
    path.write_text("[market]\na = 1e400\nb = 2\nc = [1, -1e-999]\n[vaults]\nd = 9e999\n")
    seen = []

    def problems(data):
        seen.append(data)
        return ["s.toml: market.b: a line of the caller's", f"{path}: market.a = 1e400 is out of "
                "range (too large to be a number)"]  # fmt: skip

    with pytest.raises(Problem) as caught:
        read_mapping(path, Problem, str(path), problems=problems)
    assert str(caught.value).splitlines() == [
        f"{path}: market.a = 1e400 is out of range (too large to be a number)",
        f"{path}: market.c[1] = -1e-999 is out of range (so small it would be read as 0)",
        f"{path}: vaults.d = 9e999 is out of range (too large to be a number)",
        "s.toml: market.b: a line of the caller's",  # a line named twice is said once
    ]
    assert isinstance(seen[0]["market"]["a"], OutOfRange)
    with pytest.raises(Problem) as caught:  # without the caller's checks: the numbers alone
        read_mapping(path, Problem, str(path))
    assert len(str(caught.value).splitlines()) == 3


def test_read_mapping__toml_numbers_in_range__read_as_they_are(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("a = 1e300\nb = 0.0\nc = -0e5\nd = 2.5e-300\ne = inf\n")
    data = read_mapping(path, Problem, str(path))
    assert data == {"a": 1e300, "b": 0.0, "c": 0.0, "d": 2.5e-300, "e": float("inf")}
    assert all(type(v) is float for v in data.values())


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


def test_toml_text__a_config_written_back_reads_the_same():
    """toml_text (a config with a proposal's keys, for a rehearsal's after run): every shipped
    config, and the devnet's with the shipped proposal merged, read back equal."""
    root = Path(__file__).resolve().parents[2]
    for path in sorted((root / "config").glob("*.toml")):
        document = tomllib.loads(path.read_text())
        assert tomllib.loads(toml_text(document)) == document, path
    devnet = (root / "config" / "devnet.toml").read_text()
    proposal = tomllib.loads((root / "config" / "proposals" / "raise-penalty.toml").read_text())
    merged = tomllib.loads(toml_text(merged_document(proposal, devnet)))
    config = parse_config(merged, "merged")
    assert config.collateral[0].liquidation_penalty == 115 * 10**16
    assert merged["backstop"]["waterfall"][:2] == ["fund", "redistribution"]
