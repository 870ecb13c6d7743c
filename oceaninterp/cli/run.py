"""`oceaninterp run`: the batch entry point (cron-safe, incremental pipelines)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from oceaninterp.cli.common import LogLevel, console, progress_tasks, setup_logging, user_errors

if TYPE_CHECKING:
    from oceaninterp.pipeline import RunSummary


def run(
    pipeline: Annotated[Path, typer.Argument(help="Pipeline TOML file (see pipelines/README.md).")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Output root; overrides \\[pipeline] output_root."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("-t", "--start", help="First day to map (ISO date); default \\[grid] start."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("-T", "--end", help="Last day to map (ISO date); default \\[grid] end."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be computed; write nothing.")
    ] = False,
    wait: Annotated[
        float,
        typer.Option("--wait", help="Seconds to wait for another run on the output root."),
    ] = 0.0,
    log_level: LogLevel = "info",
) -> None:
    """Run a pipeline: ingest -> grid -> reconstruct -> score, only what is new.

    Days whose outputs exist and whose inputs did not change are not recomputed;
    a run killed at any moment is completed by the next one. Each run logs to
    OUTPUT_ROOT/logs/. A bar per stage (units done / to compute, time left) on
    a terminal; progress lines every 30 s in logs. Exit code 0 only when every
    input file was readable and every day succeeded.
    """
    setup_logging(log_level)
    with user_errors(), progress_tasks("run") as report:
        from oceaninterp.pipeline import run_pipeline

        summary = run_pipeline(
            pipeline,
            output_root=output,
            start=start,
            end=end,
            dry_run=dry_run,
            wait=wait,
            progress=report,
        )
    if dry_run:
        _print_plan(summary)
    console.print(summary.line(), highlight=False, soft_wrap=True)
    if summary.log_file is not None:
        console.print(f"log: {summary.log_file}", highlight=False, soft_wrap=True)
    if not summary.ok and not dry_run:
        raise typer.Exit(code=1)


def _print_plan(summary: RunSummary) -> None:
    """The units a dry run would compute, stage by stage."""
    from rich.table import Table

    table = Table(title=f"plan of {summary.name} in {summary.output_root}")
    table.add_column("stage")
    table.add_column("up to date", justify="right")
    table.add_column("to compute", justify="right")
    table.add_column("units to compute")
    for name, stage in summary.stages.items():
        ids = [i.rsplit("/", 1)[-1] for i in stage.computed]
        shown = ", ".join(ids[:6]) + (f", ... ({len(ids)})" if len(ids) > 6 else "")
        table.add_row(name, str(stage.current), str(len(stage.computed)), shown)
    console.print(table)
