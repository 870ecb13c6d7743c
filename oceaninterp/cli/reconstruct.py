"""`oceaninterp reconstruct`: map SSH from a gridded cube (4DVarNet or OI)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from oceaninterp.cli.common import (
    LogLevel,
    Overwrite,
    command_line,
    console,
    flag,
    progress,
    setup_logging,
    user_errors,
)

if TYPE_CHECKING:
    from oceaninterp.kinds import Normalisation


def reconstruct(
    cube: Annotated[
        Path, typer.Argument(help="Gridded observations (output of `oceaninterp grid`).")
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Maps to write: MAPS.nc or MAPS.zarr.")
    ],
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", "-c", help="4DVarNet checkpoint (for --method 4dvarnet)."),
    ] = None,
    method: Annotated[str, typer.Option("--method", help="4dvarnet or oi.")] = "4dvarnet",
    device: Annotated[str, typer.Option("--device", help="auto, cpu or cuda.")] = "auto",
    batch_size: Annotated[int, typer.Option("--batch-size", help="Tiles per model call.")] = 4,
    time_stride: Annotated[
        int | None,
        typer.Option("--time-stride", help="Days between tile starts (default 3; reference 1)."),
    ] = None,
    resample: Annotated[
        bool,
        flag(
            "--resample",
            "Re-grid a cube finer or coarser than the checkpoint onto the checkpoint's "
            "resolution (from cell sums and counts: no observation invented) instead of "
            "refusing it.",
        ),
    ] = False,
    output_resolution: Annotated[
        float | None,
        typer.Option(
            "--output-resolution",
            help="Write the maps on a grid of this many degrees over the cube's box "
            "(e.g. 0.125 or 0.25 as DUACS); default: the cube's grid.",
        ),
    ] = None,
    land_mask: Annotated[
        Path | None,
        typer.Option(
            "--land-mask",
            help="Land mask file (NetCDF/Zarr; variable land/lsm = 1 on land, or sea/mask = 1 "
            "at sea) instead of the cube's own or the GSHHG coastline.",
        ),
    ] = None,
    no_land_mask: Annotated[
        bool,
        flag(
            "--no-land-mask",
            "Map every cell: no coastline (an SST's or MDT's own land still counts).",
        ),
    ] = False,
    outside: Annotated[
        str,
        typer.Option(
            "--outside",
            help="Latitudes outside those the checkpoint was trained on: oi (map them by the "
            "OI, with a warning), refuse, or apply (the model anyway).",
        ),
    ] = "oi",
    normalise: Annotated[
        str,
        typer.Option(
            "--normalise",
            help="4DVarNet: the SSH mean and std it works in: checkpoint (its training's) or "
            "observations (the cube's: a quiet or an energetic ocean seen at the amplitude the "
            "model learnt; advised on real data, see README 'Real data').",
        ),
    ] = "checkpoint",
    oi_weight: Annotated[
        float,
        typer.Option(
            "--oi-weight",
            help="4DVarNet: map (1 - W) x the model + W x the OI of the cube (default OI "
            "settings); 0.5, an equal-weight ensemble, is advised on real data (README 'Real "
            "data'). Default 0: the model alone.",
        ),
    ] = 0.0,
    lx: Annotated[
        float | None, typer.Option("--lx", help="OI: correlation length in longitude, deg.")
    ] = None,
    ly: Annotated[
        float | None, typer.Option("--ly", help="OI: correlation length in latitude, deg.")
    ] = None,
    lt: Annotated[float | None, typer.Option("--lt", help="OI: correlation time, days.")] = None,
    noise: Annotated[
        float | None, typer.Option("--noise", help="OI: observation noise std, m.")
    ] = None,
    signal_std: Annotated[
        float | None,
        typer.Option(
            "--signal-std",
            help="OI: prior std of the SSH anomaly, m, uniform (1 = the data challenge's unit "
            "covariance). Default: a smoothed map estimated from the observations.",
        ),
    ] = None,
    tune: Annotated[
        int,
        typer.Option(
            "--tune",
            help="OI: first pick Lx, Lt and noise by cross-validation on withheld "
            "observations of the first N days (0: no tuning).",
        ),
    ] = 0,
    tune_truth: Annotated[
        Path | None,
        typer.Option(
            "--tune-truth",
            help="OI, OSSE: with --tune, score the candidates against this truth file "
            "(ssh, m) instead of withheld observations.",
        ),
    ] = None,
    mdt: Annotated[
        Path | None,
        typer.Option(
            "--mdt",
            help="Mean dynamic topography file (variable mdt, m): map the SLA and add the "
            "MDT back, writing sla and adt (as DUACS). Needed by a checkpoint trained with one.",
        ),
    ] = None,
    overwrite: Overwrite = False,
    log_level: LogLevel = "info",
) -> None:
    """Reconstruct daily SSH maps from CUBE into -o, with DUACS L4 names.

    The maps hold `adt` (or `sla`, as the cube; both with --mdt), the geostrophic
    velocities `ugos`/`vgos` (`ugosa`/`vgosa` for SLA) and, for OI, `err_sla`; CF-1.11 +
    ACDD-1.3 NetCDF-4 or Zarr v3. Land (the GSHHG coastline by default) is masked.
    The 4DVarNet runs on overlapping tiles batched on the device (bf16 on CUDA),
    wraps around on a global cube and streams over time.
    """
    setup_logging(log_level)
    with user_errors():
        import dataclasses

        from oceaninterp.config import OIConfig
        from oceaninterp.cube import COASTLINE, NO_LAND
        from oceaninterp.errors import ConfigError
        from oceaninterp.reconstruct import reconstruct as run_reconstruct
        from oceaninterp.tiling import TileSpec

        oi_overrides: dict[str, Any] = {
            "lx": lx,
            "ly": ly,
            "lt": lt,
            "noise": noise,
            "signal_std": signal_std,
        }
        try:
            oi_config = dataclasses.replace(
                OIConfig(), **{k: v for k, v in oi_overrides.items() if v is not None}
            )
            tiles = TileSpec() if time_stride is None else TileSpec(time_stride=time_stride)
        except TypeError as exc:
            raise ConfigError(str(exc)) from exc
        start = time.perf_counter()
        with progress("reconstructing") as bar:
            task = bar.add_task(f"{method}: tile batches", total=None)

            def on_batch(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            if land_mask is not None and no_land_mask:
                raise ConfigError("--land-mask and --no-land-mask: give one or the other")
            land = land_mask if land_mask is not None else (NO_LAND if no_land_mask else COASTLINE)
            path = run_reconstruct(
                cube,
                output,
                checkpoint=checkpoint,
                method=method,
                device=device,
                batch_size=batch_size,
                tiles=tiles,
                oi_config=oi_config,
                tune_days=tune,
                tune_truth=tune_truth,
                resample=resample,
                output_resolution=output_resolution,
                land=land,
                outside=outside,
                normalise=cast("Normalisation", normalise),  # checked by reconstruct
                oi_weight=oi_weight,
                overwrite=overwrite,
                history=command_line(),
                progress=on_batch,
                mdt=mdt,
            )
        _summary(path, method, time.perf_counter() - start)


def _summary(path: Path, method: str, seconds: float) -> None:
    """A rich table of what was written."""
    from rich.table import Table

    from oceaninterp.products import duacs_l4

    maps = duacs_l4.open(path)
    sizes = maps.sizes
    days = maps["time"].values
    table = Table(title=f"oceaninterp reconstruct ({method})", show_header=False)
    table.add_row("maps", str(path))
    table.add_row("variables", ", ".join(str(v) for v in maps.data_vars))
    table.add_row(
        "days",
        f"{sizes['time']} ({str(days[0])[:10]} .. {str(days[-1])[:10]})",
    )
    table.add_row("grid", f"{sizes['latitude']} x {sizes['longitude']} cells")
    pixel_days = sizes["time"] * sizes["latitude"] * sizes["longitude"]
    table.add_row("time", f"{seconds:.1f} s ({pixel_days / seconds:,.0f} pixel-days/s)")
    console.print(table)
