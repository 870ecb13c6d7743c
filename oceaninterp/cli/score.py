"""`oceaninterp score`: maps -> scores table and figures (OSSE or OSE)."""

from __future__ import annotations

from pathlib import Path

import typer

from oceaninterp.cli.common import LogLevel, Overwrite, console, setup_logging, user_errors


def score(
    maps: list[Path] = typer.Argument(  # noqa: B008
        ..., metavar="MAPS...", help="Maps to score: ours, OI, DUACS L4 files (NetCDF or Zarr)."
    ),
    truth: Path | None = typer.Option(  # noqa: B008
        None,
        "--truth",
        help="Gridded truth (ssh, metres): OSSE scores mu, sigma, lambda_x, lambda_t.",
    ),
    tracks: list[str] = typer.Option(  # noqa: B008
        [],
        "--tracks",
        help="Withheld along-track files: a file, a folder or a quoted glob ('out/*.nc'), "
        "repeatable; along-track files among MAPS (an unquoted glob) are taken as tracks "
        "too. OSE scores.",
    ),
    output: Path = typer.Option(  # noqa: B008
        ..., "-o", "--output", help="Report folder: scores.json, scores.csv, figures."
    ),
    start: str | None = typer.Option(
        None, "-t", "--start-datetime", help="First day scored, YYYY-MM-DD."
    ),
    end: str | None = typer.Option(
        None, "-T", "--end-datetime", help="Last day scored (inclusive)."
    ),
    variable: str | None = typer.Option(
        None,
        "--variable",
        help="Map variable to compare (default: adt/ssh/sla matching the reference).",
    ),
    track_variable: str | None = typer.Option(
        None,
        "--track-variable",
        help="Variable read from the track files (e.g. sla_unfiltered, adt_unfiltered); "
        "default: like with like, the SLA when every map holds one, else the ADT.",
    ),
    observations: Path | None = typer.Option(  # noqa: B008
        None,
        "--obs",
        help="With --truth: the observation cube (oceaninterp grid output) whose observed "
        "cells are drawn on the snapshots.",
    ),
    overwrite: Overwrite = False,
    log_level: LogLevel = "info",
) -> None:
    """Score maps against a gridded truth (--truth) or withheld tracks (--tracks).

    Scores follow the 2020a (OSSE) and 2021a (OSE) SSH-mapping data challenges;
    all maps are compared on the points where every map and the reference are valid.
    Each map after the first gets its MSE gain over the first (1 - MSE / MSE_first;
    put the baseline first); with --tracks also its 95 % interval from a bootstrap
    over the withheld passes: an interval across 0 is no proven difference.
    """
    setup_logging(log_level)
    with user_errors():
        from oceaninterp.report import score_maps

        records = score_maps(
            maps,
            truth=truth,
            tracks=tracks,
            output_dir=output,
            start=start,
            end=end,
            variable=variable,
            track_variable=track_variable,
            overwrite=overwrite,
            observations=observations,
        )
    _print_table(records, output)


def _print_table(records: list[dict], output: Path) -> None:
    from rich.table import Table

    table = Table(title="scores", title_justify="left")
    columns = (
        ("name", "name", "{}"),
        ("mu", "mu", "{:.3f}"),
        ("sigma", "sigma", "{:.3f}"),
        ("lambda_x (deg)", "lambda_x_deg", "{:.2f}"),
        ("lambda_x (km)", "lambda_x_km", "{:.0f}"),
        ("lambda_t (days)", "lambda_t_days", "{:.1f}"),
        ("RMSE (m)", "rmse_m", "{:.4f}"),
    )
    # Columns no map has (lambda_t of withheld tracks, the gain of a single map) are left out.
    shown = [c for c in columns if any(r[c[1]] is not None for r in records)]
    for title, _, _ in shown:
        table.add_column(title, justify="left" if title == "name" else "right")
    if len(records) > 1:
        table.add_column(f"MSE gain vs {records[0]['name']}", justify="right")
    for record in records:
        cells = ["-" if record[k] is None else fmt.format(record[k]) for _, k, fmt in shown]
        table.add_row(*cells, *([_gain_text(record)] if len(records) > 1 else []))
    console.print(table)
    console.print(f"scores and figures -> {output}", highlight=False)


def _gain_text(record: dict) -> str:
    """``+4.0% [-2.1,+9.8]``: a record's MSE gain and its 95 % interval when known."""
    if record["mse_gain"] is None:
        return "-"
    text = f"{100 * record['mse_gain']:+.1f}%"
    if record["mse_gain_low"] is not None and record["mse_gain_high"] is not None:
        text += f" [{100 * record['mse_gain_low']:+.1f},{100 * record['mse_gain_high']:+.1f}]"
    return text
