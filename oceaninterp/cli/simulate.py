"""`oceaninterp simulate truth|obs` (not built yet)."""

from __future__ import annotations

import typer

from oceaninterp.cli.common import not_built

app = typer.Typer(help="Make an OSSE: a truth ocean, then satellite observations of it.",
                  no_args_is_help=True)


@app.command("truth")
def truth() -> None:
    """Not built yet (exits 2)."""
    not_built("simulate truth")


@app.command("obs")
def obs() -> None:
    """Not built yet (exits 2)."""
    not_built("simulate obs")
