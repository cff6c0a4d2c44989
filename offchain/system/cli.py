"""What every command of the project shares: a user mistake is one line on stderr, named by the
command (`simulate: ...`), and exit status 2. Callers check their input before they write
anything, so a refusal leaves nothing half-written."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

import click


def failing(command: str) -> Callable[..., NoReturn]:
    """`fail = failing("simulate")`; then `fail(message)` (exit 2) or `fail(message, status)`."""

    def fail(message: str, status: int = 2) -> NoReturn:
        click.echo(f"{command}: {message}", err=True)
        sys.exit(status)

    fail.__doc__ = f"A mistake of `{command}`'s user: one line on stderr, exit status 2."
    return fail


__all__ = ["failing"]
