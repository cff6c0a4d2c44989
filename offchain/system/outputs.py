"""Output folders and record files: nothing of the user's is ever deleted.

A command that writes a folder (simulate, compare-waterfalls, history, sweep) leaves a marker in
it, `.backstop-output.json`: the command's name and every file it wrote, with its size and
SHA-256. A folder is written only when it is

- absent, or an empty folder (nothing in it at all: nothing to lose), or
- the same command's own earlier output, as it left it: its marker names the command, every
  file in it is one the marker lists, unchanged (one the user deleted since is no matter), and
  every folder in it is one the command wrote (one the marker lists, or one holding a file it
  lists).

Everything else is refused in one line (`OutputError`), before the run and again just before the
swap, and left exactly as it is: a file or a symbolic link where the folder would be, a folder of
the user's files or folders (empty folders too: `drafts/empty/` is the user's all the same),
another command's output, a folder the command wrote to which a file or a folder was added or in
which a file was changed, a marker that cannot be read. An output written before markers
existed (a report's summary.md, a comparison's comparison.md, a history report, a sweep's
sweep.json without the marker) is refused too, by name: whether it holds something of the
user's cannot be told, so the user moves it away (or deletes it) and runs the command again.

A sweep resumes into its folder instead of replacing it (offchain/sweep/store.py): its marker
lists no files (`"files": null`), and the sweep checks its folder holds only names it writes.

A command that writes one file (fuzz's and mutate's records) replaces it only when it is that
command's own kind of record (`file_refusal`).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from offchain.system.cli import home_unexpanded

MARKER = ".backstop-output.json"
FORMAT = 2  # 2: the marker lists the folders it wrote too ("folders")

# what each command's output is called in a refusal (the marker's `command` names one of these)
COMMANDS = {
    "simulate": "ape run simulate (a risk report)",
    "compare-waterfalls": "ape run compare-waterfalls (a comparison)",
    "history": "ape run history (a history report)",
    "sweep": "ape run sweep (a sweep)",
    "govern-rehearse": "ape run govern rehearse (a rehearsal report)",
}

# the outputs of Backstop's commands written before markers: (a file they always hold, what)
_LEGACY = (
    ("sweep.json", "a sweep"),
    ("comparison.md", "a waterfall comparison"),
    ("backstop/report/summary.md", "a history report"),
    ("summary.md", "a report"),
)


class OutputError(ValueError):
    """An output path that may not be written; the message is one line naming it."""


def _files(root: Path) -> list[Path]:
    """Every entry under `root` but directories (files and symbolic links), relative, sorted.
    A symbolic link is not followed: it is an entry of its own (the user's)."""
    found = []
    for directory, dirs, names in os.walk(root, followlinks=False):
        here = Path(directory)
        # a symbolic link to a directory is listed by os.walk among `dirs`: an entry, not a tree
        found += [here / d for d in dirs if (here / d).is_symlink()]
        found += [here / n for n in names]
    return sorted(p.relative_to(root) for p in found)


def _folders(root: Path) -> list[Path]:
    """Every directory under `root` (not `root` itself, nor a symbolic link to one), relative,
    sorted: a folder the user made in an output, even an empty one, is theirs."""
    found = []
    for directory, dirs, _names in os.walk(root, followlinks=False):
        here = Path(directory)
        found += [here / d for d in dirs if not (here / d).is_symlink()]
    return sorted(p.relative_to(root) for p in found)


def _own_folders(listed: dict[str, Any], folders: Any) -> set[str]:
    """The folders an output's marker accounts for: those it lists (`folders`, from markers of
    format 2) and every folder holding a file it lists (a marker of format 1 lists no folders)."""
    own = {str(f) for f in folders} if isinstance(folders, list) else set()
    for name in listed:
        own.update(p.as_posix() for p in Path(name).parents if str(p) != ".")
    return own


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _names(paths: list[Path] | list[str], most: int = 3) -> str:
    shown = ", ".join(str(p) for p in paths[:most])
    return shown + (f" and {len(paths) - most:,} more" if len(paths) > most else "")


def read_marker(root: Path) -> dict[str, Any] | None:
    """The marker of folder `root` (None: it has none); OutputError if it cannot be read."""
    path = root / MARKER
    if not path.exists() and not path.is_symlink():
        return None
    try:
        if path.is_symlink() or not path.is_file():
            raise ValueError("not a file")
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("command"), str):
            raise ValueError("no command in it")
        files = data.get("files")
        if files is not None and not (
            isinstance(files, dict)
            and all(
                isinstance(v, dict) and isinstance(v.get("sha256"), str) for v in files.values()
            )
        ):
            raise ValueError("its list of files is not one")
        folders = data.get("folders")
        if folders is not None and not (
            isinstance(folders, list) and all(isinstance(f, str) for f in folders)
        ):
            raise ValueError("its list of folders is not one")
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if isinstance(exc, UnicodeDecodeError) or "Expecting" in why or "JSON" in why:
            why = "not JSON"
        raise OutputError(
            f"{root}: its {MARKER} cannot be read ({why}), so what the folder holds cannot be "
            "told; move it away, or choose another --out"
        ) from None
    return data


def _what(command: str) -> str:
    return COMMANDS.get(command, f"`{command}`")


def folder_refusal(out_dir: Path | str, command: str) -> str | None:
    """Why `command` may not write its output folder at `out_dir` (one line), or None: absent,
    an empty folder, or its own earlier output as it left it (see the module docstring)."""
    root = Path(os.path.abspath(out_dir))
    try:
        there = root.exists() or root.is_symlink()
    except OSError as exc:  # a name longer than the file system allows
        return f"{root}: {exc.strerror or exc} (choose another --out)"
    if not there:
        return None
    if root.is_symlink():
        return f"{root}: a symbolic link, which {command} does not replace; choose another --out"
    if not root.is_dir():
        return f"{root}: exists and is a file, not a folder; choose another --out"
    try:
        if next(os.scandir(root), None) is None:
            return None  # an empty folder: nothing to lose (a folder in it is the user's)
        marker = read_marker(root)
    except OutputError as exc:
        return str(exc)
    except OSError as exc:
        return f"{root}: cannot be read ({exc.strerror or exc}); choose another --out"
    if marker is None:
        for name, what in _LEGACY:
            if (root / name).is_file():
                return (
                    f"{root}: holds {what} written before Backstop marked its outputs (no "
                    f"{MARKER}), or someone's files: {command} replaces only its own marked "
                    "output; move the folder away (or delete it yourself), or choose another --out"
                )
        # named by its first entries (a whole tree is not walked for a refusal: `--out /`)
        top = sorted(
            entry.name + ("/" if entry.is_dir(follow_symlinks=False) else "")
            for entry in os.scandir(root)
        )
        kind = "folders or files" if any(p.endswith("/") for p in top) else "files"
        return (
            f"{root}: holds {kind} no Backstop command wrote ({_names(top)}); choose another --out"
        )
    try:
        entries = _files(root)
        folders = _folders(root)
    except OSError as exc:
        return f"{root}: cannot be read ({exc.strerror or exc}); choose another --out"
    if marker["command"] != command:
        return (
            f"{root}: holds the output of {_what(marker['command'])}, not of {command}; choose "
            "another --out"
        )
    listed = marker.get("files")
    if listed is None:  # a folder written into as it grows (a sweep): never replaced whole
        return (
            f"{root}: holds {_what(command)} that is added to, not replaced; choose another --out"
        )
    own = _own_folders(listed, marker.get("folders"))
    added = [p.as_posix() for p in entries if str(p) != MARKER and p.as_posix() not in listed]
    added += [f"{p.as_posix()}/" for p in folders if p.as_posix() not in own]  # a folder: "x/"
    added.sort()
    if added:
        return (
            f"{root}: holds {_names(added)}, which {command} did not write there; move "
            f"{'it' if len(added) == 1 else 'them'} out, or choose another --out"
        )
    changed = []
    for p in entries:
        if str(p) == MARKER:
            continue
        entry, path = listed[p.as_posix()], root / p
        try:
            if path.is_symlink() or (
                path.stat().st_size != entry.get("bytes") or _digest(path) != entry["sha256"]
            ):
                changed.append(p)
        except OSError:
            changed.append(p)
    if changed:
        return (
            f"{root}: its {_names(changed)} {'was' if len(changed) == 1 else 'were'} changed "
            f"since {command} wrote {'it' if len(changed) == 1 else 'them'}; move the folder "
            "away, or choose another --out"
        )
    return None


def check_folder(out_dir: Path | str, command: str) -> None:
    """OutputError (one line) where `folder_refusal` says why; else nothing."""
    problem = folder_refusal(out_dir, command)
    if problem:
        raise OutputError(problem)


def write_marker(root: Path, command: str, listed: bool = True) -> None:
    """Mark folder `root` as `command`'s output: with every file in it now (`listed`), or, for
    a folder that grows (a sweep), with none."""
    files = folders = None
    if listed:
        files = {
            p.as_posix(): {"bytes": (root / p).stat().st_size, "sha256": _digest(root / p)}
            for p in _files(root)
            if str(p) != MARKER
        }
        folders = [p.as_posix() for p in _folders(root)]
    data = {
        "command": command,
        "format": FORMAT,
        "written_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "note": "written by Backstop: the command that may replace this folder, and what it wrote",
        "files": files,
        "folders": folders,
    }
    tmp = root / f".{MARKER}.tmp-{secrets.token_hex(4)}"
    try:
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, root / MARKER)
    finally:
        tmp.unlink(missing_ok=True)


def publish_folder(out_dir: Path | str, command: str, build: Callable[[Path], None]) -> None:
    """Run `build` on a fresh hidden sibling of `out_dir`, mark it as `command`'s, then swap it
    in for `out_dir`: a reader sees the old folder or the new one, never half of one. The old
    folder is removed only after it was checked again, just before the swap and once more after
    it was moved aside (a file or folder added meanwhile is refused, the old folder put back, and
    the new output left aside is removed)."""
    out_dir = Path(os.path.abspath(out_dir))
    check_folder(out_dir, command)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    partial = out_dir.parent / f".{out_dir.name}.partial-{secrets.token_hex(6)}"
    partial.mkdir()
    old: Path | None = None
    try:
        build(partial)
        write_marker(partial, command)
        check_folder(out_dir, command)  # what the run's minutes may have brought
        if out_dir.exists():
            if not any(out_dir.iterdir()):
                out_dir.rmdir()  # an empty folder (os.rename replaces one, but say it)
            else:
                old = out_dir.parent / f".{out_dir.name}.old-{secrets.token_hex(6)}"
                out_dir.rename(old)
                # once more where no one writes to it any longer: what came between the check
                # and the rename is refused too, and the folder put back as it was
                problem = folder_refusal(old, command)
                if problem:
                    raise OutputError(problem.replace(str(old), str(out_dir)))
        partial.rename(out_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        if old is not None and not out_dir.exists():
            old.rename(out_dir)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def file_refusal(
    path: Path | str, what: str, is_own: Callable[[Any], bool], option: str = "--out"
) -> str | None:
    """Why a command may not write its record file at `path` (one line), or None: absent, or
    a JSON file `is_own(data)` recognises as the command's own kind of record (`what`, e.g. "a
    fuzz campaign record"). A folder, a symbolic link, a file of another kind (the user's notes,
    another command's record, binary) is refused and left as it is, and so is a path beginning
    with a `~` no shell expanded (it named a folder `~` in the working directory)."""
    given = str(path)
    if home := home_unexpanded(option, given):
        return home
    path = Path(path)
    try:
        if not path.exists() and not path.is_symlink():
            return None
        if path.is_symlink():
            return f"{option} {given}: a symbolic link, not replaced; give another file"
        if path.is_dir():
            return f"{option} {given}: a folder, not a file; give a file for {what}"
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return f"{option} {given}: cannot be read ({exc.strerror or exc}); give another file"
    except ValueError:
        data = None
    if data is not None and is_own(data):
        return None
    kind = describe_json(data) if data is not None else None
    return (
        f"{option} {given}: exists and is not {what}"
        + (f" (it is {kind})" if kind else "")
        + ", so it is not replaced; give another file, or move it away"
    )


def is_fuzz_record(data: Any) -> bool:
    """`data` (a JSON document) is a fuzz campaign's record (offchain/testing/campaign.py), of
    this version or an earlier one: `ape run fuzz --out` may replace it."""
    return isinstance(data, dict) and {"steps", "seeds", "base_seed"} <= set(data)


def is_mutation_record(data: Any) -> bool:
    """`data` is a mutation run's record (offchain/testing/mutation.py: bench/mutants.json)."""
    return isinstance(data, dict) and {"kill_rate", "mutants", "killed"} <= set(data)


def describe_json(data: Any) -> str | None:
    """What one of Backstop's own JSON files `data` is, by its fields (None: none of them): for a
    refusal to say what was given where something else was expected."""
    if not isinstance(data, dict):
        return None
    if "contracts" in data and "code_hashes" in data:
        return "a deployment record"
    if "watched" in data or ("pending" in data and "deployment" in data):
        return "a keeper bot's checkpoint"
    if "deployment" in data and "chain_id" in data and "version" in data:
        return "a keeper bot's checkpoint"
    if is_fuzz_record(data):
        return "a fuzz campaign record"
    if is_mutation_record(data):
        return "a mutation run's record"
    if "identity" in data and "scenarios" in data:
        return "a sweep's sweep.json"
    if "command" in data and "files" in data and "format" in data:
        return f"an output marker ({MARKER})"
    if "accounts" in data:
        return "an Anvil state file"
    if "format" in data and "genesis_timestamp" in data:
        return "a Hardhat devnet journal"
    return None


__all__ = [
    "COMMANDS",
    "MARKER",
    "OutputError",
    "check_folder",
    "describe_json",
    "file_refusal",
    "folder_refusal",
    "is_fuzz_record",
    "is_mutation_record",
    "publish_folder",
    "read_marker",
    "write_marker",
]
