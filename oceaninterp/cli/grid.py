"""`oceaninterp grid`: product files -> masked daily cube (NetCDF or Zarr)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from oceaninterp.cli.common import (
    LogLevel,
    Overwrite,
    command_line,
    console,
    flag,
    progress_tasks,
    setup_logging,
    user_errors,
)
from oceaninterp.kinds import ON_ERROR

if TYPE_CHECKING:
    from oceaninterp.grid import GridSummary

#: Exit code when the cube was written but some inputs were skipped (--on-error skip).
EXIT_PARTIAL = 3
_TABLE_ROWS = 40


_EXTENT = " Default: the observations' extent."
#: Help of the options whose default the observations give.
_FROM_DATA = {
    "-x": "West edge of the box, degrees_east (-180..180 or 0..360)." + _EXTENT,
    "-X": "East edge of the box, degrees_east; smaller than -x: the box crosses 180." + _EXTENT,
    "-y": "South edge of the box, degrees_north (-90..90)." + _EXTENT,
    "-Y": "North edge of the box, degrees_north (-90..90)." + _EXTENT,
    "-t": "First day, YYYY-MM-DD (UTC). Default: the first day of the observations.",
    "-T": "Last day, YYYY-MM-DD (UTC, inclusive). Default: the last day of the observations.",
}


def _from_data(short: str, name: str, metavar: str) -> Any:
    """Option ``short``/``name`` whose default the observations give (none shown in ``--help``)."""
    return typer.Option(
        None, short, name, metavar=metavar, help=_FROM_DATA[short], show_default=False
    )


def grid(
    inputs: list[Path] = typer.Argument(  # noqa: B008
        ...,
        metavar="INPUT...",
        help="Product files, folders (their *.nc, recursively) or glob patterns: CMEMS L3, "
        "NASA-SSH, SWOT L3 (detected by content). L4 SST files found there are used as "
        "with --sst; an MDT file (e.g. the mdt.nc of `simulate obs`) is named and left out.",
        show_default=False,
    ),
    output: Path = typer.Option(  # noqa: B008
        ...,
        "-o",
        "--output",
        metavar="CUBE",
        help="Cube to write: .nc (NetCDF-4) or .zarr (Zarr v3); not one of the inputs.",
    ),
    lon_min: float | None = _from_data("-x", "--minimum-longitude", "DEG_E"),
    lon_max: float | None = _from_data("-X", "--maximum-longitude", "DEG_E"),
    lat_min: float | None = _from_data("-y", "--minimum-latitude", "DEG_N"),
    lat_max: float | None = _from_data("-Y", "--maximum-latitude", "DEG_N"),
    start: str | None = _from_data("-t", "--start-datetime", "DATE"),
    end: str | None = _from_data("-T", "--end-datetime", "DATE"),
    resolution: float = typer.Option(
        0.25, "--resolution", metavar="DEG", help="Cell size, degrees (latitude and longitude)."
    ),
    variable: str = typer.Option(
        "sla_filtered",
        "--variable",
        metavar="NAME",
        help="Sea level read, in metres: sla_filtered, sla_unfiltered, adt (= sla + mdt, or "
        "the file's ADT), adt_filtered, adt_unfiltered, ssh (NASA-SSH).",
    ),
    sst: list[Path] = typer.Option(  # noqa: B008
        [],
        "--sst",
        metavar="FILE",
        help="L4 SST file, folder or pattern to regrid onto the cube (kelvin); repeat the option.",
        show_default=False,
    ),
    land_mask: Path | None = typer.Option(  # noqa: B008
        None,
        "--land-mask",
        metavar="FILE",
        help="Land mask file (latitude/longitude and a land or sea variable) instead of the "
        "GSHHG coastline.",
        show_default=False,
    ),
    no_land_mask: Annotated[
        bool,
        flag(
            "--no-land-mask",
            "Mask no land: every cell may be observed (by default land cells, from the GSHHG "
            "coastline, are never observed and their observations are dropped and counted).",
        ),
    ] = False,
    on_error: str = typer.Option(
        "fail",
        "--on-error",
        metavar="fail|skip",
        help="fail: stop at the first unusable file, write nothing; skip: leave it out, "
        f"write the cube and exit {EXIT_PARTIAL}.",
    ),
    drop_nadir: Annotated[
        bool, flag("--drop-nadir", "Leave out the nadir pixels copied into SWOT swaths.")
    ] = False,
    time_chunk: int = typer.Option(
        8,
        "--time-chunk",
        metavar="DAYS",
        help="Days gridded at once (one dask task and one output chunk); memory grows with it.",
    ),
    overwrite: Overwrite = False,
    log_level: LogLevel = "info",
) -> None:
    """Bin along-track and swath observations into a daily lon/lat cube.

    Per cell: mean sea level (ssh, metres), number of observations (count), mask;
    land cells flagged (land) and never observed; plus SST with --sst. Writes
    atomically; prints a table of the files read and left out.
    """
    setup_logging(log_level)
    with user_errors():
        from oceaninterp.errors import ConfigError
        from oceaninterp.grid import grid_files, spec_from_data

        if on_error not in ON_ERROR:
            expected = ", ".join(ON_ERROR)
            raise ConfigError(f"--on-error: expected one of {expected}, got {on_error!r}")
        if no_land_mask and land_mask is not None:
            raise ConfigError("--land-mask and --no-land-mask: give one of them, not both")
        spec = spec_from_data(
            inputs,
            lon_min=lon_min,
            lon_max=lon_max,
            lat_min=lat_min,
            lat_max=lat_max,
            resolution=resolution,
            start=start,
            end=end,
            time_chunk=time_chunk,
        )
        if start is None or end is None:
            console.print(
                f"dates from the observations: {spec.start} .. {spec.end}", highlight=False
            )
        if None in (lon_min, lon_max, lat_min, lat_max):
            console.print(
                f"box from the observations: {spec.lon_min:g} .. {spec.lon_max:g} E, "
                f"{spec.lat_min:g} .. {spec.lat_max:g} N",
                highlight=False,
            )
        with progress_tasks("grid") as report:
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
                land_mask=False if no_land_mask else (land_mask or True),
            )
    _print_summary(summary)
    if summary.failed:
        raise typer.Exit(code=EXIT_PARTIAL)


def _print_summary(summary: GridSummary) -> None:
    """Files read and left out, then the cube, on stderr."""
    from collections import Counter

    from rich.table import Table

    table = Table(title="input files", title_justify="left")
    for column in ("file", "product", "mission", "points", "in grid", "status", "problem"):
        table.add_column(
            column,
            justify="right" if column in ("points", "in grid") else "left",
            overflow="fold",
            min_width=6,
        )
    shown = summary.failed + [f for f in summary.files if f not in summary.failed]
    for f in shown[:_TABLE_ROWS]:
        style = None if f not in summary.failed else "red"
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
    not_used = Counter(f.status for f in summary.skipped)
    detail = ", ".join(f"{n} {status}" for status, n in sorted(not_used.items()))
    t, y, x = summary.shape
    lines = [
        f"{len(summary.read)} file(s) read, {len(summary.skipped)} not used"
        + (f" ({detail})" if detail else "")
        + f"; {summary.points} observations in {summary.observed_cells} of {t * y * x} cells "
        f"({t} days x {y} x {x}, {summary.ssh_kind}) -> {summary.output}"
    ]
    if summary.implausible:
        files = sum(1 for f in summary.read if f.implausible)
        lines.append(
            f"dropped {summary.implausible} implausible value(s) in {files} file(s) "
            "(outside the physical range; see the table)"
        )
    if summary.land_mask_source:
        lines.append(
            f"land mask: {summary.land_mask_source}, {summary.land_cells} of {y * x} cells "
            f"land; {summary.on_land} observation(s) on land dropped"
        )
    else:
        lines.append("no land mask (--no-land-mask)")
    for path in summary.mdt:
        lines.append(f"MDT file found, not observations (give it to reconstruct --mdt): {path}")
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
