"""The model's state before a transaction, read after it from the transaction's journal (issue
75): what the Specification's checks (and the Auditor's records) read of the state before.

They used to copy, before every transaction, every map they might read (every vault, every
delegation, every stake...), most of which no check then read and the transaction did not
write. A `PastMap` instead reads a map as it was before the transaction: the value the journal
kept for a key the transaction wrote (its first write's: Env.transact journals the old value of
every write, which is how a revert undoes them), the map's own value for any other. So the
copy is what the transaction wrote, and the cost is paid only by the check that reads it.

`Journal` is one transaction's: created before it (`System.tx`), given the model's journal of
the transaction after it (`Env.last_journal`), or nothing when it reverted (a revert undoes
every write: the state is the one before). Until then it reads the maps as they are.

What the journal does not show is not undone: a write outside any transaction between the
Journal's creation and the read (a test's plant in the model, `dict.__setitem__`) reads as if it
had been there before. The checks that plants exercise (the Auditor's holdings and its
unattributed debt, tests/security/test_economics.py) are still read before the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from offchain.model.state import NO_VALUE as MISSING
from offchain.model.state import Storage


class Journal:
    """One transaction's writes: `done(entries)` after it (None: it reverted, nothing written);
    indexed on the first read: id(map) -> key -> the value before."""

    def __init__(self) -> None:
        self._entries: list[tuple] | None = None
        self._index: dict[int, dict[Any, Any]] | None = None
        self._attributes: dict[tuple[int, str], Any] = {}

    def done(self, entries: list[tuple] | None) -> None:
        self._entries = entries or None
        self._index = None
        self._attributes: dict[tuple[int, str], Any] = {}

    def _indexed(self) -> dict[int, dict[Any, Any]]:
        if self._index is None:
            index: dict[int, dict[Any, Any]] = {}
            attributes: dict[tuple[int, str], Any] = {}
            for entry in self._entries or ():
                if entry[0] == "item":
                    keys = index.setdefault(id(entry[1]), {})
                    if entry[2] not in keys:
                        keys[entry[2]] = entry[3]
                else:
                    attributes.setdefault((id(entry[1]), entry[2]), entry[3])
            self._index, self._attributes = index, attributes
        return self._index

    def olds(self, storage: Any) -> dict[Any, Any] | None:
        """Key -> value before the transaction of the keys it wrote in `storage` (None: none)."""
        if self._entries is None:
            return None
        return self._indexed().get(id(storage))

    def attribute(self, contract: Any, name: str) -> Any:
        """A model contract's attribute as it was before the transaction (a map: as a PastMap)."""
        value = getattr(contract, name)
        if self._entries is not None:
            self._indexed()
            value = self._attributes.get((id(contract), name), value)
        return PastMap(value, self) if isinstance(value, Storage) else value

    def wrote(self, contract: Any, name: str) -> bool:
        """Whether the transaction wrote the attribute `name` of `contract` (or its map)."""
        if self._entries is None:
            return False
        index = self._indexed()
        return (id(contract), name) in self._attributes or id(getattr(contract, name)) in index

    def written(self) -> tuple[dict[int, dict[Any, Any]], dict[tuple[int, str], Any]]:
        """Everything the transaction wrote: id(map) -> key -> value before, and (id(contract),
        attribute) -> value before (both empty when it reverted or wrote nothing)."""
        if self._entries is None:
            return {}, {}
        return self._indexed(), self._attributes

    def replaced(self, contract: Any, name: str) -> bool:
        """Whether the transaction set the attribute `name` of `contract` (a map: replaced)."""
        if self._entries is None:
            return False
        self._indexed()
        return (id(contract), name) in self._attributes

    def keys(self, storage: Any) -> Iterable[Any]:
        """The keys of `storage` the transaction wrote."""
        return (self.olds(storage) or {}).keys()


class PastMap:
    """A model map (`Storage`) as it was before the journal's transaction, read like the copies
    it replaces: `m[key]` (the map's default for a key it did not hold), `get`, `in`, `items`,
    `keys`, `values`, iteration, `len`."""

    __slots__ = ("_journal", "_storage")

    def __init__(self, storage: Any, journal: Journal):
        self._storage = storage
        self._journal = journal

    @property
    def default(self) -> Any:
        return getattr(self._storage, "_default", 0)

    def _held(self, key: Any) -> tuple[bool, Any]:
        olds = self._journal.olds(self._storage)
        if olds is not None and key in olds:
            old = olds[key]
            return (False, None) if old is MISSING else (True, old)
        if dict.__contains__(self._storage, key):
            return True, dict.__getitem__(self._storage, key)
        return False, None

    def __getitem__(self, key: Any) -> Any:
        held, value = self._held(key)
        return value if held else self.default

    def get(self, key: Any, default: Any = None) -> Any:
        held, value = self._held(key)
        return value if held else default

    def __contains__(self, key: Any) -> bool:
        return self._held(key)[0]

    def items(self) -> Iterator[tuple[Any, Any]]:
        olds = self._journal.olds(self._storage) or {}
        for key, value in dict.items(self._storage):
            if key in olds:
                if olds[key] is not MISSING:
                    yield key, olds[key]
            else:
                yield key, value
        for key, old in olds.items():  # a key the transaction removed (none does: kept whole)
            if old is not MISSING and not dict.__contains__(self._storage, key):
                yield key, old

    def keys(self) -> Iterator[Any]:
        return (key for key, _ in self.items())

    def values(self) -> Iterator[Any]:
        return (value for _, value in self.items())

    def __iter__(self) -> Iterator[Any]:
        return self.keys()

    def __len__(self) -> int:
        return sum(1 for _ in self.items())


__all__ = ["Journal", "PastMap"]
