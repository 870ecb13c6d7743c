"""Shared command-line plumbing: error reporting, logging, progress, history."""

from __future__ import annotations

import contextlib
import logging
import shlex
import sys
from collections.abc import Iterator

import typer
from rich.console import Console

from oceaninterp.errors import OceanInterpError

#: Messages go to stderr; data goes to files (DESIGN: the command line).
console = Console(stderr=True)

LOG_LEVELS = ("debug", "info", "warning", "error")


def setup_logging(level: str = "info") -> None:
    """Configure the root logger: rich on a terminal, plain lines otherwise."""
    level_no = getattr(logging, level.upper(), logging.INFO)
    if console.is_terminal:
        from rich.logging import RichHandler

        handler: logging.Handler = RichHandler(console=console, show_path=False)
        fmt = "%(message)s"
    else:
        handler = logging.StreamHandler(sys.stderr)
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    logging.basicConfig(level=level_no, format=fmt, handlers=[handler], force=True)


def command_line() -> str:
    """The command line as typed, for the ``history`` attribute of outputs."""
    return " ".join(shlex.quote(a) for a in ["oceaninterp", *sys.argv[1:]])


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn :class:`OceanInterpError` into one red line on stderr and exit code 1."""
    try:
        yield
    except OceanInterpError as exc:
        from rich.markup import escape

        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from None


def progress(description: str = "working", transient: bool = False):
    """A rich progress bar when stderr is a terminal, otherwise a quiet one.

    Returns a :class:`rich.progress.Progress`; use it as a context manager.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
        disable=not console.is_terminal,
    )
