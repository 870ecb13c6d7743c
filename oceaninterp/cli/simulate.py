"""`oceaninterp simulate truth|obs|mdt`: make an OSSE (a truth ocean, satellite files, its MDT)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oceaninterp.cli.common import (
    LogLevel,
    Overwrite,
    command_line,
    console,
    progress,
    progress_tasks,
    setup_logging,
    user_errors,
)

app = typer.Typer(
    help="Make an OSSE: a truth ocean, then satellite observations of it.", no_args_is_help=True
)

DEFAULT_MISSIONS = "j3,s3a,s3b,alg,c2,h2b,swot"
Seed = Annotated[int, typer.Option("--seed", help="Random seed (the only source of randomness).")]
Truth = Annotated[Path, typer.Argument(help="Gridded SSH truth, NetCDF or Zarr.")]
TruthVariable = Annotated[
    str | None,
    typer.Option(
        help="SSH variable of the truth (m, cm or mm); default: the first of "
        "ssh, adt, zos, sossheig, sla."
    ),
]
MdtErrorKm = Annotated[float, typer.Option(help="Correlation length of the MDT error, km.")]


@app.command("truth")
def truth(
    output: Annotated[Path, typer.Option("-o", "--output", help="Output folder (gets truth.nc).")],
    days: Annotated[int, typer.Option(help="Days written after the spin-up.")] = 365,
    resolution: Annotated[float, typer.Option(help="Grid spacing, degrees.")] = 0.05,
    seed: Seed = 0,
    start: Annotated[str, typer.Option("-t", "--start-datetime", help="First day.")] = "2022-01-01",
    lon_min: Annotated[
        float, typer.Option("-x", "--minimum-longitude", help="West edge, degrees_east.")
    ] = -65.0,
    lon_max: Annotated[
        float, typer.Option("-X", "--maximum-longitude", help="East edge, degrees_east.")
    ] = -55.0,
    lat_min: Annotated[
        float,
        typer.Option(
            "-y",
            "--minimum-latitude",
            help="South edge, degrees_north (the box centre within 15-60 deg N or S).",
        ),
    ] = 33.0,
    lat_max: Annotated[
        float, typer.Option("-Y", "--maximum-latitude", help="North edge, degrees_north.")
    ] = 43.0,
    grid_points: Annotated[int, typer.Option(help="QG points per side.")] = 256,
    domain_km: Annotated[
        float, typer.Option(help="Side of the periodic QG domain, km (the box fits in 60 %).")
    ] = 2000.0,
    spinup_days: Annotated[
        int | None,
        typer.Option(help="Model days run and discarded first (default: 120 v1, 180 v2)."),
    ] = None,
    physics: Annotated[
        str,
        typer.Option(
            help="QG physics: v2 (f0, beta, Rossby radius and jet of the box's latitude; "
            "free eddies, SSH spectrum near k^-5) or v1 (the 37N set-up of sample_data/truth.nc)."
        ),
    ] = "v2",
    device: Annotated[str, typer.Option(help="Torch device: cpu, cuda, ...")] = "cpu",
    threads: Annotated[int, typer.Option(help="Torch CPU threads (0: torch's default).")] = 1,
    fmt: Annotated[str, typer.Option("--format", help="nc or zarr.")] = "nc",
    overwrite: Overwrite = False,
    log_level: LogLevel = "info",
) -> None:
    """Run the two-layer QG model; write daily SSH + SST truth over a lon/lat box."""
    setup_logging(log_level)
    with user_errors():
        from oceaninterp.simulate.truth import SPINUP_DAYS, simulate_truth

        spinup = SPINUP_DAYS.get(physics, 180) if spinup_days is None else spinup_days
        with progress_tasks("QG model days") as report:
            report("QG model days", 0, spinup + days)
            path = simulate_truth(
                output,
                days=days,
                resolution=resolution,
                seed=seed,
                start=start,
                region=(lon_min, lon_max, lat_min, lat_max),
                grid_points=grid_points,
                domain_km=domain_km,
                spinup_days=spinup,
                physics=physics,
                device=device,
                threads=threads or None,
                fmt=fmt,
                overwrite=overwrite,
                history=command_line(),
                progress=lambda done, total: report("QG model days", done, None),
            )
        from oceaninterp.io import open_dataset

        with open_dataset(path) as ds:
            attrs = dict(ds.attrs)
        console.print(f"[green]wrote[/] {path}")
        console.print(statistics_line(attrs), highlight=False)


def statistics_line(attrs: dict) -> str:
    """The ``stat_*`` attributes of a truth as one line (variances in cm^2)."""

    def stat(name: str) -> float:
        return float(attrs.get(f"stat_{name}", float("nan")))

    line = (
        f"SSH mean {stat('ssh_mean_m'):.3f} m, std {stat('ssh_std_m'):.3f} m "
        f"(variance {1e4 * stat('ssh_std_m') ** 2:.0f} cm2), daily range "
        f"{stat('ssh_range_m'):.2f} m; eddy (SSH minus its time mean) std "
        f"{stat('sla_std_m'):.3f} m (variance {1e4 * stat('sla_std_m') ** 2:.0f} cm2), "
        f"non-zonal std {stat('eddy_std_m'):.3f} m; zonal spectrum slope "
        f"{stat('spectral_slope'):.2f} over 70-250 km (real ocean -4 to -5), dominant "
        f"wavelength {stat('dominant_wavelength_km'):.0f} km"
    )
    if "stat_sst_mean_k" in attrs:
        line += f"; SST mean {stat('sst_mean_k'):.2f} K, std {stat('sst_std_k'):.2f} K"
    return line


@app.command("obs")
def obs(
    truth: Truth,
    output: Annotated[Path, typer.Option("-o", "--output", help="Output folder.")],
    missions: Annotated[str, typer.Option(help="Comma-separated codes.")] = DEFAULT_MISSIONS,
    noise: Annotated[bool, typer.Option("--noise/--no-noise", help="Instrument noise.")] = True,
    sst: Annotated[bool, typer.Option("--sst/--no-sst", help="GHRSST L4 SST files.")] = True,
    systematic: Annotated[
        bool,
        typer.Option(
            "--systematic/--no-systematic",
            help="KaRIn roll/phase/dilation/timing errors left after cross-calibration.",
        ),
    ] = True,
    mdt_error: Annotated[
        float,
        typer.Option(help="Std of the error of the MDT the files carry, m (0: exact mean)."),
    ] = 0.02,
    mdt_error_km: MdtErrorKm = 100.0,
    swot_pixel_km: Annotated[
        float,
        typer.Option(help="SWOT pixel and line spacing, km (2 = native; coarser for small files)."),
    ] = 2.0,
    variable: TruthVariable = None,
    files: Annotated[
        str,
        typer.Option(
            "--files",
            help="File layout: month (one file per mission and month) or product "
            "(one per day / SWOT pass, as distributed).",
        ),
    ] = "month",
    seed: Seed = 0,
    overwrite: Overwrite = False,
    log_level: LogLevel = "info",
) -> None:
    """Fly nadir altimeters and SWOT over a truth; write CMEMS L3, SWOT L3 and L4 SST files."""
    setup_logging(log_level)
    with user_errors():
        from oceaninterp.simulate.observations import MDT_NAME, simulate_obs

        names = [m.strip() for m in missions.split(",") if m.strip()]
        with progress("missions") as bar:
            task = bar.add_task("missions", total=len(names) + int(sst))
            paths = simulate_obs(
                truth,
                output,
                missions=names,
                noise=noise,
                sst=sst,
                seed=seed,
                systematic=systematic,
                mdt_error=mdt_error,
                mdt_error_km=mdt_error_km,
                swot_pixel_km=swot_pixel_km,
                variable=variable,
                files=files,
                overwrite=overwrite,
                history=command_line(),
                progress=lambda name: bar.update(task, advance=1, description=name),
            )
        counts: dict[str, int] = {}
        for path in paths:
            counts[path.parent.name] = counts.get(path.parent.name, 0) + 1
        summary = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        if sst and "sst" not in counts:
            console.print("note: the truth has no SST, so no SST files were written")
        console.print(
            f"[green]wrote[/] {len(paths)} files under {output} ({summary}) and its MDT "
            f"{output / MDT_NAME}",
            highlight=False,
        )


@app.command("mdt")
def mdt(
    truth: Truth,
    output: Annotated[Path, typer.Option("-o", "--output", help="MDT file (.nc or .zarr).")],
    variable: TruthVariable = None,
    mdt_error: Annotated[
        float,
        typer.Option(help="Std of an MDT error, m (0: the exact time mean; as obs with its seed)."),
    ] = 0.0,
    mdt_error_km: MdtErrorKm = 100.0,
    seed: Seed = 0,
    overwrite: Overwrite = False,
    log_level: LogLevel = "info",
) -> None:
    """Write the MDT of a truth (its time mean), the one `simulate obs` puts in its files."""
    setup_logging(log_level)
    with user_errors():
        from oceaninterp.simulate.observations import write_truth_mdt

        path = write_truth_mdt(
            truth,
            output,
            variable=variable,
            mdt_error=mdt_error,
            mdt_error_km=mdt_error_km,
            seed=seed,
            overwrite=overwrite,
            history=command_line(),
        )
        console.print(f"[green]wrote[/] {path}")
