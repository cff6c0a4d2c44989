"""A user's own book of vaults (a scenario's `[vaults] book`, read by actors.py): a CSV with one
vault per row, read exactly and validated at the edge.

Columns: `collateral` (token units, a decimal: `134304.955788607855233395`) and `debt`
(stablecoin, a decimal); other columns are ignored, a UTF-8 byte-order mark and blank lines are
skipped. Vault i (the i-th data row) is owned by `population.actor_address("vault", i)`, as a
drawn population's vault i is. Amounts become wad exactly: the collateral must be a whole number
of the type's token units (10**-token_decimals of a token), the debt a whole number of wei;
nothing is rounded.

Every mistake is a `DataError` line naming the file, the line and the column (at most
`MAX_ROW_PROBLEMS` lines of rows, then a count of the rest): a file that is not UTF-8 text, an
empty file, a missing column, a row with too few fields, an empty cell, a value that is not a
number, NaN or infinite, a collateral that is not above 0, a debt of 0 (a vault with no debt is
legal in the engine but never liquidated: drop the row) or below the type's dust (the engine's
rule: at least the dust), an amount above `MAX_AMOUNT` or finer than its unit, a vault that
starts unsafe at the scenario's first price (the engine's own check at the set-up's rate of 1,
with the type's size margin), more than `MAX_VAULTS` vaults, no vault at all.
"""

from __future__ import annotations

import csv
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from offchain.model import size_margin as sizing
from offchain.model.fixed_point import RAY, WAD, WAD_TO_RAY
from offchain.sim.scenario.market_data import MAX_ROW_PROBLEMS, DataError, read_text
from offchain.sim.scenario.reader import format_ratio, format_wad
from offchain.sim.scenario.types import Book
from offchain.system.config import CollateralConfig
from offchain.system.schema import MAX_AMOUNT, MAX_VAULTS

COLUMNS = ("collateral", "debt")


def load_book(path: str | Path, coll: CollateralConfig) -> Book:
    """The book at `path` for collateral type `coll` (its token's decimals, its dust, its
    liquidation ratio and size margin, its initial price: the scenario's first price); a
    DataError naming every mistake, one line each (see the module docstring)."""
    path = Path(path)
    text = read_text(path, "a book is a CSV")
    if "\x00" in text:
        raise DataError(
            f"{path}: not a text file (a NUL byte at offset {text.index(chr(0))}); a book is a CSV"
        )
    try:
        rows = list(csv.reader(text.splitlines()))
    except csv.Error as exc:
        raise DataError(f"{path}: not a CSV ({exc})") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise DataError(f"{path}: empty file (expected a header with {', '.join(COLUMNS)})")
    header = [cell.strip() for cell in rows[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DataError(
            f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(has {', '.join(header)})"
        )
    index = {c: header.index(c) for c in COLUMNS}
    collateral: list[int] = []
    debt: list[int] = []
    problems: list[str] = []
    vaults = 0  # the file's data rows, good or bad
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        vaults += 1
        where = f"{path}:{number}"
        if len(row) < len(header):
            problems.append(f"{where}: {len(row)} fields, the header has {len(header)}")
            continue
        vault, row_problems = _vault(row, index, where, coll)
        problems += row_problems
        if vault is not None:
            collateral.append(vault[0])
            debt.append(vault[1])
    if vaults > MAX_VAULTS:
        problems.append(f"{path}: {vaults:,} vaults, at most {MAX_VAULTS:,}")
    if problems:
        more = len(problems) - MAX_ROW_PROBLEMS
        shown = problems[:MAX_ROW_PROBLEMS]
        raise DataError("\n".join(shown + ([f"{path}: and {more:,} more"] if more > 0 else [])))
    if not debt:
        raise DataError(f"{path}: no vault (a header and no rows)")
    return Book(str(path), tuple(collateral), tuple(debt))


def _vault(
    row: list[str], index: dict[str, int], where: str, coll: CollateralConfig
) -> tuple[tuple[int, int] | None, list[str]]:
    """One row's (collateral [wad], debt [wad]), or None, and its mistakes, one line each."""
    problems: list[str] = []
    collateral = _collateral(_raw(row, index, "collateral"), where, coll, problems)
    debt = _debt(_raw(row, index, "debt"), where, coll, problems)
    if collateral is None or debt is None:
        return None, problems
    unsafe = starts_unsafe(collateral, debt, coll)
    if unsafe:
        return None, [f"{where}: {unsafe}"]
    return (collateral, debt), problems


def _collateral(raw: str, where: str, coll: CollateralConfig, problems: list[str]) -> int | None:
    """The cell's collateral [wad]: above 0, a whole number of the token's units."""
    amount = _amount(raw, "collateral", where, problems)
    if amount is None:
        return None
    if amount <= 0:
        problems.append(f"{where}: collateral must be above 0, got {raw}")
        return None
    if (amount * 10**coll.token_decimals).denominator != 1:
        problems.append(
            f"{where}: collateral {raw} is finer than {coll.token_symbol}'s unit "
            f"({coll.token_decimals} decimals)"
        )
        return None
    return int(amount * WAD)


def _debt(raw: str, where: str, coll: CollateralConfig, problems: list[str]) -> int | None:
    """The cell's debt [wad]: a whole number of wei, at least the type's dust (the engine's
    rule for a vault with debt; its draw at the set-up's rate rounds the debt up, never down)."""
    amount = _amount(raw, "debt", where, problems)
    if amount is None:
        return None
    if amount < 0:
        problems.append(f"{where}: debt must not be negative, got {raw}")
    elif amount == 0:
        problems.append(
            f"{where}: debt is 0: a vault without debt is never liquidated; drop the row"
        )
    elif (amount * WAD).denominator != 1:
        problems.append(f"{where}: debt {raw} is finer than a wei (18 decimals)")
    elif amount * WAD * RAY < coll.dust:
        problems.append(
            f"{where}: debt {raw} is below {coll.name}'s dust {format_wad(coll.dust // RAY)}"
        )
    else:
        return int(amount * WAD)
    return None


def _raw(row: list[str], index: dict[str, int], column: str) -> str:
    return (row[index[column]] or "").strip()


def _amount(raw: str, column: str, where: str, problems: list[str]) -> Fraction | None:
    """The cell's number, exactly, within +-MAX_AMOUNT; None with its mistake added."""
    if not raw:
        problems.append(f"{where}: {column} is empty")
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        problems.append(f"{where}: {column} {raw!r} is not a number")
        return None
    if not number.is_finite():
        problems.append(f"{where}: {column} is {raw} (not a finite number)")
        return None
    if abs(number) > MAX_AMOUNT:
        problems.append(f"{where}: {column} {raw} is above {MAX_AMOUNT:,f}")
        return None
    return Fraction(number)


def starts_unsafe(collateral: int, debt: int, coll: CollateralConfig) -> str | None:
    """Why a vault of `collateral` and `debt` [wad] would be refused as unsafe at the type's
    initial price (VaultEngine.modify_vault's check, the safe price as Spotter.poke sets it at a
    rate of 1), or None."""
    price = coll.initial_price
    safe_price = price * WAD_TO_RAY * RAY // coll.liquidation_ratio
    packed = sizing.pack(*coll.size_margin) if coll.size_margin[0] else 0
    weighted = sizing.margin_debt(debt * RAY, packed)
    if weighted <= collateral * safe_price:
        return None
    ratio = format_ratio(collateral * price * 10**6 // (debt * WAD), 10**6)
    size = (
        f" x its size factor {format_ratio(weighted * 10**6 // (debt * RAY), 10**6)}"
        if weighted != debt * RAY
        else ""
    )
    return (
        f"starts unsafe at the first price {format_wad(price)}: collateral x price / debt = "
        f"{ratio}, not above {coll.name}'s liquidation ratio "
        f"{format_ratio(coll.liquidation_ratio, RAY)}{size}"
    )
