"""The ``oceaninterp`` command: registers one module per command.

Only typer and rich are imported here, so ``oceaninterp --help`` stays fast;
each command imports its library (torch, dask, ...) inside its body.
"""

from __future__ import annotations

import typer

from oceaninterp import __version__
from oceaninterp.cli import grid, info, reconstruct, run, score, simulate, train

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


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
