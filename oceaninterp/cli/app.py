"""The ``oceaninterp`` command: registers one module per command.

Only typer and rich are imported here, so ``oceaninterp --help`` stays fast;
each command imports its library (torch, dask, ...) inside its body.

:func:`main` is the last line of defence: whatever a command lets through (an
OS error, a bug) ends as one ``error:`` line and exit code 1, never a traceback
on the console; the traceback is logged at DEBUG (``--log-level debug`` shows
it, and a run's log file keeps it).
"""

from __future__ import annotations

import logging
import sys

import typer

from oceaninterp import __version__
from oceaninterp.cli import grid, info, reconstruct, run, score, simulate, train
from oceaninterp.errors import OceanInterpError

logger = logging.getLogger("oceaninterp.cli")

app = typer.Typer(
    name="oceaninterp",
    help=(
        "Map sea surface height from satellite altimetry with a trained 4DVarNet.\n\n"
        "Typical flow: simulate (or download) along-track/swath files -> grid -> "
        "train -> reconstruct -> score; `run` drives all of it from a TOML pipeline."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"oceaninterp {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Map sea surface height from satellite altimetry with a trained 4DVarNet."""


app.add_typer(simulate.app, name="simulate")
app.command("grid")(grid.grid)
app.command("train")(train.train)
app.command("reconstruct")(reconstruct.reconstruct)
app.command("score")(score.score)
app.command("run")(run.run)
app.command("info")(info.info)


def error_line(exc: BaseException) -> str:
    """The one line that reports ``exc`` to the user (without the ``error:`` prefix)."""
    if isinstance(exc, OceanInterpError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename is not None else ""
        return f"{where}{exc.strerror}"
    return (
        f"unexpected {type(exc).__name__}: {exc} "
        "(a bug: please report it with the output of --log-level debug)"
    )


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: any error is one ``error:`` line and exit code 1.

    Parameters
    ----------
    argv
        The arguments (default: ``sys.argv[1:]``).
    """
    try:
        app(args=argv, prog_name="oceaninterp")
    except Exception as exc:  # noqa: BLE001 - the last line of defence, see the module doc
        from rich.markup import escape

        from oceaninterp.cli.common import console

        logger.debug("traceback of the error below", exc_info=exc)
        console.print(
            f"[bold red]error:[/] {escape(error_line(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
