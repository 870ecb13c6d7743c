"""The daily update of ``oceaninterp run`` and gridding throughput on dask workers.

Usage::

    python benchmarks/pipeline_bench.py [--days 30] [--block-days 7] [--oi] [--json FILE]

Inputs are synthetic CMEMS L3 NRT files over the Gulf Stream box (-65..-55 E,
33..43 N): 4 nadir missions, 8 straight passes each a day at 1 Hz (about 6 km
spacing), sampling a meandering jet (metres, ADT); the 4DVarNet is a randomly
initialised default model at 0.1 deg (its speed does not depend on its
weights). Everything is written under a temporary folder.

1. **Daily update.** A pipeline maps ``--days`` days (the baseline: a run from
   scratch, timed); then the files of one more day arrive and the period's end
   moves by one day, as under cron: the update run is timed, and the ratio
   (from scratch / update) printed. The update grids one day and re-maps the
   blocks whose window saw it.
2. **Gridding throughput.** The grid stage alone (no ``[[reconstruct]]``) over
   the same files: in this process, then on a LocalCluster of 1 and of 2
   single-threaded workers (cluster start-up included and also reported apart);
   days and observations per second, ratio 2 workers / 1 worker.

On a shared machine wall times move with the other load: compare ratios
measured in the same run, and say what else was running.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

BOX = (-65.0, -55.0, 33.0, 43.0)
RESOLUTION = 0.1
MISSIONS = ("j3", "s3a", "s3b", "c2")
START = np.datetime64("2024-01-01", "D")
MDT = 0.4


def jet_adt(time_: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """A meandering zonal jet (metres, ADT): a tanh step whose axis drifts east."""
    days = (time_ - START.astype("datetime64[ns]")) / np.timedelta64(1, "D")
    axis = 38.0 + 1.2 * np.sin(np.radians(lon - 0.15 * days) * 60.0)
    return MDT + 0.5 * np.tanh((axis - lat) / 0.8)


def write_day(folder: Path, day: np.datetime64, mission: str, rng: np.random.Generator) -> Path:
    """8 straight passes across the box for one mission and day, as a CMEMS L3 NRT file."""
    from oceaninterp.products import cmems_l3
    from oceaninterp.products.schema import make_tracks

    parts = []
    for _ in range(8):
        t0 = day.astype("datetime64[ns]") + np.timedelta64(int(rng.uniform(0, 85_000)), "s")
        n = 200  # 1200 km at about 6 km per second
        lat = np.linspace(BOX[2] - 0.5, BOX[3] + 0.5, n)
        lon = rng.uniform(BOX[0], BOX[1]) + np.linspace(0.0, rng.uniform(-3, 3), n)
        time_ = t0 + np.arange(n).astype("timedelta64[s]").astype("timedelta64[ns]")
        parts.append((time_, lat, lon))
    time_, lat, lon = (np.concatenate(p) for p in zip(*parts, strict=True))
    ssh = jet_adt(time_, lat, lon) + rng.normal(0.0, 0.02, time_.size)
    adt = {"ssh_variable": "adt", "ssh_kind": "adt"}  # the files carry ADT and its MDT
    extra = {"mdt": np.full(time_.size, MDT)}
    tracks = make_tracks(
        time_, lat, lon, ssh, mission=mission, source="pipeline_bench", extra=extra, **adt
    )
    return cmems_l3.write(tracks, folder / cmems_l3.file_name(mission, day, timeliness="nrt"))


def pipeline_toml(folder: Path, end: np.datetime64, methods: str, dask: str = "") -> Path:
    """A pipeline over ``folder/archive`` from START to ``end``."""
    text = f"""
[pipeline]
name = "bench"
output_root = "out"

[inputs]
observations = ["archive/*.nc"]
variable = "adt"

[grid]
lon_min = {BOX[0]}
lon_max = {BOX[1]}
lat_min = {BOX[2]}
lat_max = {BOX[3]}
resolution = {RESOLUTION}
start = "{START}"
end = "{end}"
{methods}
{dask}
"""
    path = folder / "pipeline.toml"
    path.write_text(text)
    return path


def timed_run(pipeline: Path, **options) -> tuple[float, object]:
    """(wall seconds, summary) of one run."""
    from oceaninterp.pipeline import run_pipeline

    t0 = time.perf_counter()
    summary = run_pipeline(pipeline, **options)
    wall = time.perf_counter() - t0
    if not summary.ok:
        raise SystemExit(f"run failed: {summary.line()}")
    return wall, summary


def daily_update(
    tmp: Path, files: dict[str, list[Path]], days: list[np.datetime64], methods: str
) -> dict:
    """Time a run from scratch over ``days[:-1]``, then the update that adds ``days[-1]``."""
    archive = tmp / "archive"
    archive.mkdir()
    for day in days[:-1]:
        for f in files[str(day)]:
            os.symlink(f, archive / f.name)
    scratch_s, first = timed_run(pipeline_toml(tmp, days[-2], methods))
    for f in files[str(days[-1])]:
        os.symlink(f, archive / f.name)
    update_s, update = timed_run(pipeline_toml(tmp, days[-1], methods))
    again_s, again = timed_run(pipeline_toml(tmp, days[-1], methods))
    assert again.computed == 0
    return {
        "days": len(days) - 1,
        "from_scratch_s": scratch_s,
        "update_s": update_s,
        "nothing_new_s": again_s,
        "speedup": scratch_s / update_s,
        "update_line": update.line(),
        "from_scratch_line": first.line(),
    }


def grid_throughput(tmp: Path, all_files: list[Path], end: np.datetime64, n_obs: int) -> dict:
    """The grid stage alone: in-process, then on LocalClusters of 1 and 2 workers."""
    from distributed import Client, LocalCluster

    archive = tmp / "archive"
    archive.mkdir()
    for f in all_files:
        os.symlink(f, archive / f.name)
    results = {}
    for label, dask in (
        ("in-process", ""),
        ("1 worker", "[dask]\nworkers = 1"),
        ("2 workers", "[dask]\nworkers = 2"),
    ):
        shutil.rmtree(tmp / "out", ignore_errors=True)
        wall, summary = timed_run(pipeline_toml(tmp, end, "", dask))
        n_days = len(summary.stages["grid"].computed)
        results[label] = {"wall_s": wall, "days_per_s": n_days / wall, "obs_per_s": n_obs / wall}
    for workers in (1, 2):  # cluster start-up alone, to read the gridding time net of it
        t0 = time.perf_counter()
        with (
            LocalCluster(
                n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=None
            ) as cluster,
            Client(cluster),
        ):
            pass
        results[f"{workers} worker{'s' if workers > 1 else ''}"]["startup_s"] = (
            time.perf_counter() - t0
        )
    results["ratio_2_vs_1_workers"] = results["1 worker"]["wall_s"] / results["2 workers"]["wall_s"]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=30, help="days of the first run")
    parser.add_argument("--block-days", type=int, default=7)
    parser.add_argument("--oi", action="store_true", help="map with OI too")
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    import torch

    from oceaninterp.config import ModelConfig
    from oceaninterp.model import build_model
    from oceaninterp.model.checkpoint import save_checkpoint

    rng = np.random.default_rng(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="pipeline_bench-"))
    try:
        days = [START + np.timedelta64(k, "D") for k in range(args.days + 1)]
        (tmp / "files").mkdir()
        files = {str(d): [write_day(tmp / "files", d, m, rng) for m in MISSIONS] for d in days}
        n_obs = 8 * 200 * len(MISSIONS) * len(days)
        torch.manual_seed(args.seed)
        checkpoint = save_checkpoint(
            tmp / "net.pt",
            build_model(ModelConfig()),
            {"resolution": RESOLUTION, "ssh_kind": "adt", "training": {}, "validation": {}},
        )
        blocks = f"block_days = {args.block_days}\n"
        methods = (
            f'[[reconstruct]]\nname = "4dvarnet"\nmethod = "4dvarnet"\n'
            f'checkpoint = "{checkpoint}"\ndevice = "auto"\n{blocks}'
        )
        if args.oi:
            methods += f'\n[[reconstruct]]\nname = "oi"\nmethod = "oi"\n{blocks}'
        (tmp / "update").mkdir()
        update = daily_update(tmp / "update", files, days, methods)
        (tmp / "grid").mkdir()
        grid = grid_throughput(
            tmp / "grid", [f for fs in files.values() for f in fs], days[-1], n_obs
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"cpu cores: {os.cpu_count()}, torch threads: {torch.get_num_threads()}, "
        f"cuda: {torch.cuda.is_available()}"
    )
    print(
        f"1. daily update, Gulf Stream box at {RESOLUTION} deg "
        f"({100} x {100} cells), methods: 4dvarnet{' + oi' if args.oi else ''}, "
        f"block_days {args.block_days}"
    )
    print(f"   from scratch, {update['days']} days : {update['from_scratch_s']:8.1f} s")
    print(f"   update with one new day    : {update['update_s']:8.1f} s")
    print(f"   rerun, nothing new         : {update['nothing_new_s']:8.2f} s")
    print(f"   ratio from scratch / update: {update['speedup']:8.1f} x")
    print(f"   {update['update_line']}")
    print(f"2. gridding {len(days)} days, {n_obs} observations")
    for label in ("in-process", "1 worker", "2 workers"):
        r = grid[label]
        extra = f" (cluster start-up {r['startup_s']:.1f} s)" if "startup_s" in r else ""
        print(
            f"   {label:10s}: {r['wall_s']:6.1f} s, {r['days_per_s']:6.2f} days/s, "
            f"{r['obs_per_s']:9.0f} obs/s{extra}"
        )
    print(f"   ratio 2 workers / 1 worker: {grid['ratio_2_vs_1_workers']:.2f} x")
    if args.json:
        args.json.write_text(json.dumps({"update": update, "grid": grid}, indent=2))


if __name__ == "__main__":
    main()
