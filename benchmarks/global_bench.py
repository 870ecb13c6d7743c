"""Time a global daily map from global input: the 4DVarNet at 1/10 deg, the OI at 1/4 deg.

Usage::

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/global_bench.py \\
        [--real-data ../shared/data/real] [--days 10] [--work runs/global_bench] \\
        [--checkpoint sample_data/checkpoint.pt] [--time-stride 3]

Input: the real Jason-3 cycle of ``--real-data`` (NASA-SSH, ten days,
2022-01-01..10, about 57 000 points a day), gridded over 80 S..80 N and all
longitudes (``oceaninterp grid``, GSHHG land mask). Every measurement runs
as its own ``oceaninterp`` command in a subprocess, whose own peak resident
memory is read by ``os.wait4`` (logs in ``WORK/*.log``):

``grid 1/10`` and ``grid 1/4``
    the cubes.
``4dvarnet 1/10``
    ``reconstruct`` with the checkpoint (``--outside apply``: the shipped
    checkpoint was trained at 33..43 N, so this times the model everywhere;
    its maps outside those latitudes are not a validated product), land
    tiles skipped.
``4dvarnet 1/10, no land mask``
    the same with ``--no-land-mask``: the baseline of the land skipping
    (every tile computed), same process tree, same cube.
``oi 1/4``
    ``reconstruct --method oi`` (defaults: 1 deg, 7 days, 5 cm, prior std
    estimated from the observations), land blocks skipped.

Printed: seconds per map day, pixel-days per second (ocean and land cells of
the grid), peak memory, the fraction of land, and the ratio of the land-skipping
run to its baseline. Results go to ``WORK/global_bench.md``, and figures of
the maps' middle day (``sla`` with the day's observed cells drawn on it, land
grey) to ``WORK/*.png``; ``--figures-only`` redraws them from existing maps.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]


def run(label: str, args: list[str], days: int, log: Path) -> dict[str, float | str]:
    """Run one ``oceaninterp`` command: its wall time and its own peak RSS (``wait4``)."""
    cmd = [sys.executable, "-m", "oceaninterp", *args]
    start = time.perf_counter()
    with open(log, "w") as out:
        child = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{label} failed: see {log}\n{log.read_text()[-2000:]}")
    peak_gb = usage.ru_maxrss / 2**20  # kB on Linux
    return {"label": label, "seconds": seconds, "per_day": seconds / days, "peak_gb": peak_gb}


def figure(maps: Path, cube: Path, out: Path, title: str) -> Path:
    """The middle day's ``sla`` (m), land grey, that day's observed cells in black."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with xr.open_dataset(maps) as ds, xr.open_dataset(cube) as obs:
        day = ds.sizes["time"] // 2
        sla = ds["sla"].isel(time=day)
        seen = obs["ssh"].isel(time=day).notnull()
        land = obs["land"] > 0 if "land" in obs else sla.isnull()
        lon, lat = sla["longitude"].values, sla["latitude"].values
        fig, ax = plt.subplots(figsize=(11, 5.2), layout="constrained")
        ax.pcolormesh(
            lon,
            lat,
            np.where(land.values, 1.0, np.nan),
            cmap="Greys",
            vmin=0,
            vmax=2,
            shading="nearest",
            rasterized=True,
        )
        mesh = ax.pcolormesh(
            lon,
            lat,
            sla.values,
            cmap="RdBu_r",
            vmin=-0.3,
            vmax=0.3,
            shading="nearest",
            rasterized=True,
        )
        jj, ii = np.nonzero(seen.values)
        olat, olon = obs["latitude"].values[jj], obs["longitude"].values[ii]
        ax.plot(olon, olat, ",", color="k", alpha=0.5)
        ax.set_xlabel("longitude (degrees_east)")
        ax.set_ylabel("latitude (degrees_north)")
        ax.set_aspect(1.0)
        day_text = str(ds["time"].values[day])[:10]
        ax.set_title(f"{title}, {day_text} (dots: that day's Jason-3 cells)")
        fig.colorbar(mesh, ax=ax, label="sla: sea level anomaly (m)", shrink=0.8)
        fig.savefig(out, dpi=90)
        plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--real-data", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "global_bench")
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "sample_data" / "checkpoint.pt")
    parser.add_argument("--days", type=int, default=10, help="days of the cycle mapped (1..10)")
    parser.add_argument("--time-stride", type=int, default=None, help="days between tiles")
    parser.add_argument("--skip-baseline", action="store_true", help="no --no-land-mask run")
    parser.add_argument("--figures-only", action="store_true", help="redraw the figures")
    opts = parser.parse_args(argv)
    if opts.figures_only:
        draw(opts.work)
        return
    tracks = opts.real_data / "nadir" / "nasa_ssh_jason3"
    if not tracks.is_dir():
        raise SystemExit(f"error: {tracks}: no such folder (give --real-data)")
    work = opts.work
    work.mkdir(parents=True, exist_ok=True)
    last = f"2022-01-{opts.days:02d}"
    box = ["-x", "-180", "-X", "180", "-y", "-80", "-Y", "80", "-t", "2022-01-01", "-T", last]
    rows: list[dict[str, float | str]] = []

    def step(label: str, args: list[str], log: str) -> None:
        rows.append(run(label, args, opts.days, work / log))
        print(rows[-1], flush=True)

    cubes = {}
    for res, name in ((0.1, "010"), (0.25, "025")):
        cubes[name] = work / f"j3_{name}.nc"
        args = ["grid", str(tracks), "-o", str(cubes[name]), "--resolution", str(res), *box]
        step(f"grid 1/{round(1 / res)} deg", [*args, "--overwrite"], f"grid_{name}.log")
    oi = ["reconstruct", str(cubes["025"]), "--method", "oi", "-o", str(work / "oi.nc")]
    step("oi 1/4 deg", [*oi, "--overwrite"], "oi.log")
    stride = [] if opts.time_stride is None else ["--time-stride", str(opts.time_stride)]
    net = ["reconstruct", str(cubes["010"]), "-c", str(opts.checkpoint), "--outside", "apply"]
    args = [*net, *stride, "-o", str(work / "net.nc"), "--overwrite"]
    step("4dvarnet 1/10 deg", args, "net.log")
    if not opts.skip_baseline:
        baseline = [*net, *stride, "--no-land-mask", "-o", str(work / "net_all.nc"), "--overwrite"]
        step("4dvarnet 1/10 deg, no land mask", baseline, "net_all.log")
    with xr.open_dataset(cubes["010"]) as cube:
        land = float(np.asarray(cube["land"].values).mean())
        cells = cube.sizes["latitude"] * cube.sizes["longitude"]
    with xr.open_dataset(cubes["025"]) as cube:
        cells_oi = cube.sizes["latitude"] * cube.sizes["longitude"]
    lines = [
        f"# Global daily maps from the real Jason-3 cycle ({opts.days} days, 80 S..80 N)",
        "",
        f"Machine: {os.cpu_count()} CPU cores, torch threads as set by the environment; "
        f"land {100 * land:.1f} % of the 1/10 deg grid.",
        "",
        "| step | s | s per map day | pixel-days/s | peak RSS (GB) |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        n = cells_oi if "1/4" in str(row["label"]) else cells
        rate = n * opts.days / float(row["seconds"])
        lines.append(
            f"| {row['label']} | {row['seconds']:.1f} | {row['per_day']:.1f} | {rate:,.0f} | "
            f"{row['peak_gb']:.2f} |"
        )
    if not opts.skip_baseline:
        ratio = float(rows[-1]["seconds"]) / float(rows[-2]["seconds"])
        lines += ["", f"Land skipping: {ratio:.2f}x faster than every tile computed (same cube)."]
    text = "\n".join(lines) + "\n"
    (work / "global_bench.md").write_text(text)
    print(text)
    draw(work)


def draw(work: Path) -> None:
    """The figures of the 4DVarNet and OI maps in ``work``."""
    figure(
        work / "net.nc",
        work / "j3_010.nc",
        work / "global_4dvarnet.png",
        "4DVarNet, shipped checkpoint applied globally (--outside apply), 1/10 deg",
    )
    figure(
        work / "oi.nc",
        work / "j3_025.nc",
        work / "global_oi.png",
        "OI (prior std estimated from the observations), 1/4 deg",
    )


if __name__ == "__main__":
    main()
