"""Shared command-line plumbing: error reporting, logging, progress, history."""

from __future__ import annotations

import contextlib
import logging
import shlex
import sys
import time
from collections.abc import Callable, Iterator
from typing import Annotated, Any

import typer
from rich.console import Console

from oceaninterp.errors import OceanInterpError

#: Messages go to stderr; data goes to files (DESIGN: the command line).
console = Console(stderr=True)

LOG_LEVELS = ("debug", "info", "warning", "error")


def flag(name: str, help: str) -> Any:  # noqa: A002 - typer's name
    """A boolean option ``name`` (false unless given), shown without a value in ``--help``."""
    return typer.Option(name, metavar="", help=help, show_default=False)


#: The ``--log-level`` and ``--overwrite`` options of every command.
LogLevel = Annotated[
    str, typer.Option("--log-level", metavar="LEVEL", help=f"One of {', '.join(LOG_LEVELS)}.")
]
Overwrite = Annotated[bool, flag("--overwrite", "Replace existing outputs.")]


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


#: Seconds between two plain progress lines in logs (stderr not a terminal).
LOG_INTERVAL_S = 30.0

_progress_log = logging.getLogger("oceaninterp.progress")


def _duration(seconds: float | None) -> str:
    """``1h02m``, ``3m05s`` or ``12s``; ``?`` when unknown."""
    if seconds is None or seconds != seconds:  # None or NaN
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def progress(description: str = "working", transient: bool = False, **kwargs: Any):
    """Progress of long stages: a rich bar on a terminal, plain log lines otherwise.

    Returns a :class:`StageProgress` (a :class:`rich.progress.Progress`): use it
    as a context manager, add one task per stage with its total when known
    (``bar.add_task("OI blocks", total=n)``) and ``bar.update(task,
    completed=done, total=total)`` as work is done. On a terminal the bar shows
    done/total, elapsed time and time left; when stderr is not a terminal (cron,
    logs) a line ``stage: done/total (pct), elapsed, about T left`` is logged at
    most every :data:`LOG_INTERVAL_S` seconds and once at the end of each task.

    Parameters
    ----------
    description
        Name of the whole step (used in the log lines of unnamed tasks).
    transient
        Remove the bar from the terminal when done.
    kwargs
        ``interval`` (seconds between log lines) and ``console``, for tests.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    class StageProgress(Progress):
        """A rich Progress that also logs plain lines when it cannot draw."""

        def __init__(self, out: Console, interval: float) -> None:
            super().__init__(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=out,
                transient=transient,
                disable=not out.is_terminal,
            )
            self.plain = not out.is_terminal
            self.interval = interval
            self._logged: dict[Any, float] = {}

        def add_task(self, description: str, *args: Any, **options: Any):  # noqa: ANN201
            task = super().add_task(description, *args, **options)
            self._logged[task] = time.monotonic()
            return task

        def update(self, task_id, *args: Any, **options: Any) -> None:  # noqa: ANN001
            super().update(task_id, *args, **options)
            if self.plain:
                self._log(task_id)

        def advance(self, task_id, advance: float = 1) -> None:  # noqa: ANN001
            super().advance(task_id, advance)
            if self.plain:
                self._log(task_id)

        def _log(self, task_id) -> None:  # noqa: ANN001
            task = self._tasks[task_id]
            now = time.monotonic()
            finished = task.total is not None and task.completed >= task.total
            if not finished and now - self._logged.get(task_id, 0.0) < self.interval:
                return
            if finished and self._logged.get(task_id) == -1.0:
                return  # the end of this task is logged once
            self._logged[task_id] = -1.0 if finished else now
            name = task.description or description
            if task.total:
                pct = 100.0 * task.completed / task.total
                _progress_log.info(
                    "%s: %d/%d (%.0f%%), %s elapsed, about %s left",
                    name,
                    task.completed,
                    task.total,
                    pct,
                    _duration(task.elapsed),
                    _duration(0.0 if finished else task.time_remaining),
                )
            else:
                _progress_log.info(
                    "%s: %d done, %s elapsed", name, task.completed, _duration(task.elapsed)
                )

    return StageProgress(kwargs.get("console", console), kwargs.get("interval", LOG_INTERVAL_S))


#: ``report(task, done, total)``: ``done`` of ``total`` units of the named task
#: (``total`` ``None``: unknown, or the one given before).
TaskReport = Callable[[str, float, int | None], None]


@contextlib.contextmanager
def progress_tasks(description: str) -> Iterator[TaskReport]:
    """A :func:`progress` display driven by ``report(task, done, total)`` calls.

    A task (its bar, or its log lines) is added on the first call naming it,
    so a library function reports its phases by name without knowing the display.
    """
    with progress(description) as bar:
        tasks: dict[str, Any] = {}

        def report(name: str, done: float, total: int | None = None) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done, total=total)

        yield report
