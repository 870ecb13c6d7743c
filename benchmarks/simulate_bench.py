"""Time the OSSE factory: one model year of QG truth at 256^2, one year of 6 nadirs + SWOT.

Usage::

    .venv/bin/python benchmarks/simulate_bench.py [--days 365] [--spinup-days 120]
        [--resolution 0.05] [--baseline-days 3] [--workdir DIR]

Prints, with the baselines measured in the same run:

- truth: wall time of ``simulate_truth`` (spin-up + ``days`` model days at
  256^2, 1/20 deg output), the time per model year, and the ratio against the
  same model run with torch's default CPU threads (measured over
  ``--baseline-days`` model days each);
- observations: wall time to sample a year of j3, s3a, s3b, alg, c2, h2b and
  SWOT (2 km KaRIn pixels) from that truth in memory, against a brute-force
  baseline that computes the ground track every second of the year instead of
  only in the box crossings (measured on Jason-3 alone); then the wall time
  of ``simulate_obs`` writing every file (nadir, SWOT, SST), by month (the
  default) and one per day and pass (``files="product"``), and their sizes;
- the truth statistics.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

NADIRS = ("j3", "s3a", "s3b", "alg", "c2", "h2b")


def _truth(workdir: Path, days: int, spinup: int, resolution: float) -> tuple[Path, float]:
    from oceaninterp.simulate.truth import simulate_truth

    start = time.perf_counter()
    path = simulate_truth(
        workdir, days=days, spinup_days=spinup, resolution=resolution, seed=0, overwrite=True
    )
    return path, time.perf_counter() - start


def _qg_day_seconds(threads: int | None, days: int) -> float:
    from oceaninterp.simulate.qg import TwoLayerQG, physics_parameters
    from oceaninterp.threads import torch_threads

    model = TwoLayerQG(physics_parameters("v2", 38.0, n=256), seed=0)
    with torch_threads(threads):
        start = time.perf_counter()
        for _ in model.run_days(days):
            pass
    return (time.perf_counter() - start) / days


def _sampling(truth: Path) -> tuple[float, int, int]:
    from oceaninterp.simulate.observations import TruthSampler, nadir_tracks, swot_passes
    from oceaninterp.simulate.orbits import ORBITS

    sampler = TruthSampler.open(truth)
    for orbit in ORBITS.values():
        _ = orbit.ground_speed  # solve the orbits outside the timing
    start = time.perf_counter()
    points = sum(nadir_tracks(ORBITS[m], sampler, noise=True, seed=0).sizes["obs"] for m in NADIRS)
    pixels = sum(
        int(np.isfinite(s["ssha_unfiltered"].values).sum())
        for _, _, s in swot_passes(ORBITS["swot"], sampler, noise=True, seed=0)
    )
    return time.perf_counter() - start, points, pixels


def _brute_force_j3(truth: Path) -> tuple[float, float]:
    """(brute-force seconds, windowed seconds) for a year of Jason-3 positions in the box."""
    from oceaninterp.simulate.observations import TruthSampler, nadir_tracks
    from oceaninterp.simulate.orbits import ORBITS

    sampler = TruthSampler.open(truth)
    orbit = ORBITS["j3"]
    start = time.perf_counter()
    seconds = (sampler.end - sampler.start) // np.timedelta64(1, "s")
    kept = 0
    for first in range(0, int(seconds), 86400):  # a day at a time keeps memory modest
        t = sampler.start + np.arange(first, min(first + 86400, seconds)).astype("timedelta64[s]")
        lat, lon = orbit.ground_track(t)
        inside = sampler.inside(lat, lon)
        ssh, _, _ = sampler.sample(t[inside], lat[inside], lon[inside])
        kept += int(np.isfinite(ssh).sum())
    brute = time.perf_counter() - start
    start = time.perf_counter()
    windowed = nadir_tracks(orbit, sampler, noise=False, seed=0)
    fast = time.perf_counter() - start
    if windowed.sizes["obs"] != kept:
        raise SystemExit(
            f"windowed sampling kept {windowed.sizes['obs']} points, brute force {kept}"
        )
    return brute, fast


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--spinup-days", type=int, default=120)
    parser.add_argument("--resolution", type=float, default=0.05)
    parser.add_argument("--baseline-days", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="simulate_bench_"))

    truth, truth_s = _truth(workdir, args.days, args.spinup_days, args.resolution)
    model_days = args.days + args.spinup_days
    one = _qg_day_seconds(1, args.baseline_days)
    default = _qg_day_seconds(None, args.baseline_days)
    print(
        f"truth: {model_days} model days at 256^2 ({args.spinup_days} spin-up) + "
        f"1/{round(1 / args.resolution)} deg output in {truth_s:.1f} s "
        f"= {truth_s * 365 / model_days:.1f} s per model year"
    )
    print(
        f"  QG day: {one:.3f} s with 1 torch thread, {default:.3f} s with torch's default "
        f"threads: ratio {default / one:.1f}x"
    )

    sample_s, points, pixels = _sampling(truth)
    print(
        f"obs sampling, one year, 6 nadirs + SWOT: {sample_s:.1f} s "
        f"({points} nadir points, {pixels} KaRIn pixels in the box)"
    )
    brute, fast = _brute_force_j3(truth)
    print(
        f"  Jason-3 year: brute-force every second {brute:.2f} s, box crossings only "
        f"{fast:.2f} s: ratio {brute / fast:.1f}x"
    )

    from oceaninterp.simulate.observations import simulate_obs

    start = time.perf_counter()
    paths = simulate_obs(truth, workdir / "obs", seed=0, overwrite=True)
    write_s = time.perf_counter() - start
    size = sum(p.stat().st_size for p in paths) / 1e6
    start = time.perf_counter()
    daily = simulate_obs(truth, workdir / "obs_product", seed=0, overwrite=True, files="product")
    daily_s = time.perf_counter() - start
    daily_size = sum(p.stat().st_size for p in daily) / 1e6
    print(
        f"simulate_obs writing every file: {write_s:.1f} s, {len(paths)} monthly files, "
        f"{size:.0f} MB; one file per day/pass (--files product): {daily_s:.1f} s, "
        f"{len(daily)} files, {daily_size:.0f} MB: ratio {daily_size / size:.1f}x in size"
    )

    from oceaninterp.io import open_dataset

    with open_dataset(truth) as ds:
        stats = {k[5:]: v for k, v in ds.attrs.items() if k.startswith("stat_")}
    print("truth statistics: " + ", ".join(f"{k} {float(v):.3f}" for k, v in stats.items()))
    print(f"files under {workdir}")


if __name__ == "__main__":
    main()
