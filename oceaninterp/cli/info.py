"""`oceaninterp info FILE`: what a file is (product, cube, maps, checkpoint)."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from oceaninterp.cli.common import console, user_errors


def info(
    path: Path = typer.Argument(..., metavar="FILE", help="Any file oceaninterp reads or writes."),  # noqa: B008
) -> None:
    """Describe FILE: product kind, mission, variables, time span, size or grid shape."""
    with user_errors():
        from rich.table import Table

        from oceaninterp.products import describe

        description = describe(path)
    table = Table(title=str(path), title_justify="left", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key, value in description.items():
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        table.add_row(str(key), text)
    console.print(table)
