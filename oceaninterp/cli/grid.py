"""`oceaninterp grid`: product files -> masked daily cube (NetCDF or Zarr)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from oceaninterp.cli.common import (
    LOG_LEVELS,
    command_line,
    console,
    progress,
    setup_logging,
    user_errors,
)

if TYPE_CHECKING:
    from rich.progress import TaskID

#: Exit code when the cube was written but some inputs were skipped (--on-error skip).
EXIT_PARTIAL = 3
_TABLE_ROWS = 40


def grid(
    inputs: list[Path] = typer.Argument(  # noqa: B008
        ...,
        metavar="INPUT...",
        help="Product files, folders (their *.nc) or glob patterns: CMEMS L3, NASA-SSH, "
        "SWOT L3 (detected by content).",
    ),
    output: Path = typer.Option(  # noqa: B008
        ..., "-o", "--output", help="Cube to write: .nc (NetCDF-4) or .zarr (Zarr v3)."
    ),
    lon_min: float = typer.Option(
        -180.0, "-x", "--minimum-longitude", help="West edge, degrees_east (-180..180 or 0..360)."
    ),
    lon_max: float = typer.Option(
        180.0, "-X", "--maximum-longitude", help="East edge; smaller than -x: the box crosses 180."
    ),
    lat_min: float = typer.Option(-90.0, "-y", "--minimum-latitude", help="South edge."),
    lat_max: float = typer.Option(90.0, "-Y", "--maximum-latitude", help="North edge."),
    start: str = typer.Option(..., "-t", "--start-datetime", help="First day, YYYY-MM-DD."),
    end: str = typer.Option(..., "-T", "--end-datetime", help="Last day (inclusive)."),
    resolution: float = typer.Option(0.25, "--resolution", help="Cell size in degrees."),
    variable: str = typer.Option(
        "sla_filtered",
        "--variable",
        help="sla_filtered, sla_unfiltered, adt (= sla + mdt, or the file's ADT), "
        "adt_filtered, adt_unfiltered, ssh (NASA-SSH).",
    ),
    sst: list[Path] = typer.Option(  # noqa: B008
        [], "--sst", help="L4 SST file(s) to regrid onto the cube (repeat the option)."
    ),
    on_error: str = typer.Option(
        "fail",
        "--on-error",
        help="fail: stop at the first unusable file, write nothing; skip: leave it out, "
        f"write the cube and exit {EXIT_PARTIAL}.",
    ),
    drop_nadir: bool = typer.Option(
        False, "--drop-nadir", help="Leave out nadir pixels copied into SWOT swaths."
    ),
    time_chunk: int = typer.Option(8, "--time-chunk", help="Days per dask chunk."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    log_level: str = typer.Option("info", "--log-level", help=f"One of {', '.join(LOG_LEVELS)}."),
) -> None:
    """Bin along-track and swath observations into a daily lon/lat cube.

    Per cell: mean sea level (ssh), number of observations (count), mask; plus
    SST with --sst. Writes atomically; prints a table of the files read/skipped.
    """
    setup_logging(log_level)
    with user_errors():
        from oceaninterp.config import GridSpec
        from oceaninterp.errors import ConfigError
        from oceaninterp.grid import ON_ERROR, grid_files

        if on_error not in ON_ERROR:
            expected = ", ".join(ON_ERROR)
            raise ConfigError(f"--on-error: expected one of {expected}, got {on_error!r}")
        spec = GridSpec(
            lon_min=lon_min,
            lon_max=lon_max,
            lat_min=lat_min,
            lat_max=lat_max,
            resolution=resolution,
            start=start,
            end=end,
        )
        with progress("grid") as bar:
            tasks: dict[str, TaskID] = {}

            def report(phase: str, done: int, total: int) -> None:
                if phase not in tasks:
                    tasks[phase] = bar.add_task(phase, total=total)
                bar.update(tasks[phase], completed=done)

            summary = grid_files(
                inputs,
                output,
                spec,
                variable=variable,
                sst=sst,
                on_error=on_error,
                overwrite=overwrite,
                drop_nadir=drop_nadir,
                time_chunk=time_chunk,
                history=command_line(),
                progress=report,
            )
    _print_summary(summary)
    if any(f.status in ("skipped", "duplicate") for f in summary.files):
        raise typer.Exit(code=EXIT_PARTIAL)


def _print_summary(summary) -> None:  # noqa: ANN001
    """Files read/skipped, then the cube, on stderr."""
    from rich.table import Table

    table = Table(title="input files", title_justify="left")
    for column in ("file", "product", "mission", "points", "in grid", "status", "problem"):
        table.add_column(
            column,
            justify="right" if column in ("points", "in grid") else "left",
            overflow="fold",
            min_width=6,
        )
    shown = summary.skipped + summary.read
    for f in shown[:_TABLE_ROWS]:
        style = None if f.status in ("read", "superseded", "outside period") else "red"
        table.add_row(
            f.path.name,
            f.product or "-",
            f.mission or "-",
            str(f.points),
            str(f.in_grid),
            f.status,
            f.problem,
            style=style,
        )
    if len(shown) > _TABLE_ROWS:
        table.add_row(f"... {len(shown) - _TABLE_ROWS} more", "", "", "", "", "", "")
    console.print(table)
    t, y, x = summary.shape
    console.print(
        f"{len(summary.read)} file(s) read, {len(summary.skipped)} not used; "
        f"{summary.points} observations in {summary.observed_cells} of {t * y * x} cells "
        f"({t} days x {y} x {x}, {summary.ssh_kind}) -> {summary.output}",
        highlight=False,
    )
