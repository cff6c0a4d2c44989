"""What every command of the project shares: a user mistake is one line on stderr, named by the
command (`simulate: ...`), and exit status 2. Callers check their input before they write
anything, so a refusal leaves nothing half-written."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import math
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click


def failing(command: str) -> Callable[..., NoReturn]:
    """`fail = failing("simulate")`; then `fail(message)` (exit 2) or `fail(message, status)`."""

    def fail(message: str, status: int = 2) -> NoReturn:
        # several mistakes named at once (a file's): one line each, each named by the command
        for line in str(message).splitlines() or [""]:
            click.echo(f"{command}: {line}", err=True)
        sys.exit(status)

    fail.__doc__ = f"A mistake of `{command}`'s user: one line on stderr, exit status 2."
    return fail


def one_line_usage(
    command: str, checks: Callable[[click.Context], list[str]] | None = None
) -> type[click.Command]:
    """`@click.command(cls=one_line_usage("sweep"))`: a value click cannot take (`--seeds
    1e400`, `--port abc`), an unknown option or a missing one is one line on stderr named by the
    command, and exit status 2, as `failing` says the other mistakes, instead of click's usage
    block (four lines: usage, a hint, a blank line, the error). `checks(ctx)`: the command's own
    checks of its options (one line per mistake, from `ctx.params`, which holds the options
    click could convert): where click refuses a value, they run too, so a mistake click finds
    and one the command finds are named in one run (the command calls them first itself)."""

    def refuse(errors: list[click.UsageError], more: list[str] = []) -> NoReturn:  # noqa: B006
        for exc in errors:
            # click words a missing choice over several lines ("Choose from:\n\tliquidator,")
            message = " ".join(x.strip() for x in exc.format_message().splitlines())
            click.echo(f"{command}: {message}", err=True)
        for problem in more:  # (a config's mistakes come as one text, a line each)
            for line in problem.splitlines():
                click.echo(f"{command}: {line}", err=True)
        sys.exit(2)

    class OneLineUsage(click.Command):
        def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
            # click.Command.parse_args, but every option's value is converted and each one that
            # cannot be is named (click stops at the first: `--steps -1 --workers 0` named one)
            try:
                parser = self.make_parser(ctx)
                opts, rest, order = parser.parse_args(args=args)
            except click.UsageError as exc:  # an unknown option, an option without its value
                refuse([exc])
            errors = [click.UsageError(line) for line in repeated_options(order)]
            for param in click.core.iter_params_for_processing(order, self.get_params(ctx)):
                try:
                    _, rest = param.handle_parse_result(ctx, opts, rest)
                except click.UsageError as exc:
                    errors.append(exc)
            if rest and not ctx.allow_extra_args:
                errors.append(click.UsageError(f"unexpected extra arguments: {' '.join(rest)}"))
            if errors:
                refuse(errors, checks(ctx) if checks is not None else [])
            # (the option's last value was taken in silence: `--vaults 10 --vaults 20` ran 20)
            ctx.args = rest
            ctx._opt_prefixes.update(parser._opt_prefixes)
            return rest

    OneLineUsage.__name__ = OneLineUsage.__qualname__ = f"OneLineUsage[{command}]"
    return OneLineUsage


def one_line_group(command: str) -> type[click.Group]:
    """`@click.group(cls=one_line_group("govern"))`: a command that is not one of the group's
    (`govern cancle`) is one line naming the commands, exit status 2, as `one_line_usage` says a
    subcommand's mistakes, instead of click's usage block (four lines: usage, a hint, a blank
    line, the error)."""

    class OneLineGroup(click.Group):
        def resolve_command(
            self, ctx: click.Context, args: list[str]
        ) -> tuple[str | None, click.Command | None, list[str]]:
            try:
                return super().resolve_command(ctx, args)
            except click.UsageError as exc:
                message = " ".join(x.strip() for x in exc.format_message().splitlines())
                message = message.rstrip(".")
                known = ", ".join(self.list_commands(ctx))
                click.echo(f"{command}: {message} (the commands: {known})", err=True)
                sys.exit(2)

    OneLineGroup.__name__ = OneLineGroup.__qualname__ = f"OneLineGroup[{command}]"
    return OneLineGroup


def repeated_options(order: list[click.Parameter]) -> list[str]:
    """An option that takes one value, given more than once (`--vaults 10 --vaults 20`): one
    line each. A flag given twice says the same thing twice, and `multiple` options are lists."""
    seen: dict[str, int] = {}
    for param in order:
        if isinstance(param, click.Option) and not (param.multiple or param.is_flag or param.count):
            seen[param.opts[0]] = seen.get(param.opts[0], 0) + 1
    return [f"{name} given {n} times: give it once" for name, n in seen.items() if n > 1]


class FiniteFloatRange(click.FloatRange):
    """`type=FiniteFloatRange(min=0, min_open=True)`: click's FloatRange, refusing what it lets
    through, `nan` (every comparison with NaN is false, so no bound holds it back), `inf` and
    what overflows to it (`1e400`): "Invalid value for '--speed': 'nan' is not a finite number"
    (a NaN pause was a ValueError traceback in time.sleep, an infinite one no pause at all)."""

    name = "finite float range"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


def empty_out(out: str | None) -> str | None:
    """The text of `--out` of a command that writes a report directory, refused in one line:
    empty (or blanks: it was taken for "not given" and the default directory was written), or
    beginning with an unexpanded `~` (`--out=~/reports`, `OUT="~/x"`: the shell expands `~` only
    at the start of a word; the report was written to a folder named `~` in the working
    directory, a trap for a later `rm -r ~`)."""
    if out is None:
        return None
    if not str(out).strip():
        return f"--out {out!r} is empty: give a directory, or leave --out out for the default"
    return home_unexpanded("--out", out)


def home_unexpanded(option: str, value: str | Path) -> str | None:
    """A path given to `option` that begins with `~`, which no shell expanded (`--out=~/r`, a
    quoted `"~/r"`), refused in one line: it named a folder `~` in the working directory."""
    text = str(value)
    if text.startswith("~"):
        return (
            f"{option} {text!r}: '~' was not expanded to a home folder (a shell expands it only "
            f"at the start of a word, not after {option}=): write the path out"
        )
    return None


def _exists(path: Path) -> bool:
    """Whether `path` (or a symbolic link by its name) is there; a name the file system cannot
    hold is not (Path.exists raises ENAMETOOLONG for it)."""
    try:
        return path.exists() or path.is_symlink()
    except OSError:
        return False


def unwritable(path: Path | str) -> str | None:
    """Why the directory `path` could not be created or replaced by a command's output, or None:
    a file where one of its parents must be a directory (`--out notes.txt/sub`), a folder this
    user may not write in, a virtual or read-only file system (`/proc/nope/x`). Checked before a
    run (a run of minutes, a chain replay, whose result the write would lose): a temporary
    directory is made and removed in the nearest parent that exists, so nothing is left."""
    given = str(path)
    target = Path(os.path.abspath(path))
    for parent in target.parents:  # nearest first
        if _exists(parent):
            if not parent.is_dir():
                return f"{given}: {parent} is a file, not a directory"
            break
    else:  # `/`
        return f"{given}: the root directory cannot be replaced by a report"
    # a name the file system cannot hold (ENAMETOOLONG once the run had ended: a traceback)
    limit = os.pathconf(parent, "PC_NAME_MAX")
    for part in target.relative_to(parent).parts:
        if len(os.fsencode(part)) > limit:
            return (
                f"{given}: the name {part[:24]}... is {len(os.fsencode(part))} bytes, longer "
                f"than the file system allows ({limit})"
            )
    if len(os.fsencode(str(target))) + 64 > os.pathconf(parent, "PC_PATH_MAX"):
        return f"{given}: the path is longer than the file system allows"
    try:
        probe = tempfile.mkdtemp(prefix=".backstop-write-check-", dir=parent)
    except OSError as exc:
        return f"{given}: cannot create a directory in {parent} ({exc.strerror or exc})"
    os.rmdir(probe)
    return None


def directory_problem(option: str, value: str | Path, write: bool = True) -> str | None:
    """Why `value`, given to `option` as the directory a command writes its files in (devnet's
    --records, deploy's --deployments), cannot be one, or None: empty, a file, or (`write`) a
    place no file can be written in (under a file, a read-only or virtual file system). Checked
    before any node starts: the write came after a deployment, a traceback."""
    if not str(value).strip():
        return f"{option} {str(value)!r} is empty: give a directory, or leave {option} out"
    if home := home_unexpanded(option, value):
        return home
    path = Path(value)
    if path.exists() and not path.is_dir():
        return f"{option} {value}: a file, not a directory"
    if write:
        why = unwritable(path / "record.json")
        if why:
            return f"{option} {value}: {why.split(': ', 1)[1]}"
    return None


def choice_list(
    option: str, text: str, choices: tuple[str, ...], what: str, none: str | None = "none"
) -> tuple[list[str], list[str]]:
    """A comma-separated list of `choices` (each `what`, "crash day") given to `option` (`--days
    a,b`): the entries in order, and every mistake, one line each: an entry that is no choice,
    one given twice (it ran once, in silence), `none` (the word for no entry) beside entries (it
    said both at once), no entry at all. Blanks around entries are ignored."""
    given = [x.strip() for x in text.split(",") if x.strip()]
    problems = []
    allowed = f"the {what}s: {', '.join(choices)}" + (f"; or {none}" if none else "")
    unknown = [x for x in dict.fromkeys(given) if x not in choices and x != none]
    if unknown:
        are = f"is no {what}" if len(unknown) == 1 else f"are no {what}s"
        problems.append(f"{option}: {', '.join(unknown)} {are} ({allowed})")
    twice = [x for x in dict.fromkeys(given) if given.count(x) > 1]
    if twice:
        problems.append(f"{option}: {', '.join(twice)} given more than once: give each once")
    if none and none in given and len(set(given)) > 1:
        others = ", ".join(x for x in dict.fromkeys(given) if x != none)
        problems.append(
            f"{option}: {none} and {others} together contradict each other: give {none} alone, "
            f"or the {what}s"
        )
    if not given:
        problems.append(f"{option}: {text!r} is no {what} ({allowed})")
    return ([] if none in given else list(dict.fromkeys(given))), problems


def file_problem(option: str, value: str, what: str) -> str | None:
    """Why `value`, given to `option` as a file to read (`--proposal`), names none, or None:
    empty, a folder ("no such file" said of a folder misled), absent, or no regular file (a
    device, a pipe)."""
    if not str(value).strip():
        return f"{option}: {value!r} is empty: give {what}"
    path = Path(value).expanduser()
    if path.is_dir():
        return f"{option}: {value} is a folder, not a file: give {what}"
    if not _exists(path):
        return f"{option}: {value}: no such file"
    if not path.is_file():
        return f"{option}: {value} is not a regular file: give {what}"
    return None


__all__ = [
    "FiniteFloatRange",
    "choice_list",
    "directory_problem",
    "empty_out",
    "failing",
    "file_problem",
    "home_unexpanded",
    "one_line_group",
    "one_line_usage",
    "repeated_options",
    "unwritable",
]


def vaults_option(in_sweep: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The `--vaults` option of the commands that load a scenario (simulate, compare-waterfalls,
    sweep): the vaults of every collateral type together (sim/scenario/load.py splits them)."""
    return click.option(
        "--vaults",
        type=int,
        default=None,
        help="Vaults of every collateral type together, in the scenario's proportions "
        + (
            "(overrides its counts, but not a count the grid sets)."
            if in_sweep
            else "(overrides its counts)."
        ),
    )


_APE_ANVIL = "ape_foundry.provider"


def _prune_ape_anvil() -> None:
    from offchain.backends.anvil import keep_ape_anvil_history_in_memory

    keep_ape_anvil_history_in_memory()


class _PruneWhenImported(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when ape-foundry's provider module is first imported, hands its
    spec over with the module's execution followed by `_prune_ape_anvil`, then leaves."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != _APE_ANVIL:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            run(module)
            _prune_ape_anvil()

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def prune_ape_anvil_history() -> None:
    """Every `ape run` command's ape-foundry Anvil started with its history pruned (offchain/
    backends/anvil.py's keep_ape_anvil_history_in_memory), without importing ape-foundry's
    provider (~1 s of CPU) in a command that never starts that Anvil: applied when the module
    is first imported (Ape imports it to connect: a command's default network, or the console
    `ape run -I` opens after a failure), at once if it already is."""
    if _APE_ANVIL in sys.modules:
        _prune_ape_anvil()
    elif not any(isinstance(finder, _PruneWhenImported) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PruneWhenImported())


class DeferredCommand(click.Command):
    """`cli = DeferredCommand(__file__)` in scripts/NAME.py: the command of scripts/_NAME.py, loaded
    only when it is run or its help is asked for. `ape run NAME` executes every file in scripts/
    to list their commands before it runs the one asked for, so while the commands themselves
    lay there each run paid for the imports of all of them (pandas, web3, ape-foundry's provider,
    the report and fuzz modules: ~4 s of CPU, the suite starts some 200). Everything click asks
    of a command goes to the one loaded; an option Ape added to this stand-in (its
    `--verbosity`) is added to it first."""

    def __init__(self, stub: str) -> None:
        path = Path(stub)
        super().__init__(path.stem)
        prune_ape_anvil_history()  # (every command's; bench's and deploy's module did it)
        self.source = path.with_name(f"_{path.name}")
        self._loaded: click.Command | None = None

    def loaded(self) -> click.Command:
        """The command of scripts/_NAME.py (executed once, under a module name of its own)."""
        if self._loaded is None:
            name = "backstop_script_" + self.source.stem.lstrip("_").replace("-", "_")
            spec = importlib.util.spec_from_file_location(name, self.source)
            if spec is None or spec.loader is None:
                raise ImportError(f"{self.source}: not a Python file")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]  # (loaded again, whole, if asked again)
                raise
            command: click.Command = module.cli
            known = {p.name for p in command.params}
            command.params.extend(p for p in self.params if p.name not in known)
            command.name = self.name
            self._loaded = command
        return self._loaded

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        # the context's command is the loaded one: click then invokes that one
        return self.loaded().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        return self.loaded().invoke(ctx)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        return self.loaded().main(*args, **kwargs)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return self.loaded().parse_args(ctx, args)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        return self.loaded().get_params(ctx)

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.loaded().get_short_help_str(limit)

    def get_help(self, ctx: click.Context) -> str:
        return self.loaded().get_help(ctx)

    def get_usage(self, ctx: click.Context) -> str:
        return self.loaded().get_usage(ctx)

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.loaded().format_help(ctx, formatter)

    def to_info_dict(self, ctx: click.Context) -> dict[str, Any]:
        return self.loaded().to_info_dict(ctx)
