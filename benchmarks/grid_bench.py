"""Binning speed and memory of ``oceaninterp grid`` against scipy and numpy.

Usage::

    python benchmarks/grid_bench.py [--points 10000000] [--big-points 100000000] [--skip-big]

1. The same random points (days in time order, random latitude, longitude and
   value) are binned into a
   (365, 200, 200) daily grid by oceaninterp's flat-index + bincount binning
   (:func:`oceaninterp.grid.bin_points`), by ``scipy.stats.binned_statistic_dd``
   (statistic "mean") and by ``numpy.histogramdd`` (sums and counts); the
   counts are checked equal, and points per second and ratios are printed.
2. A chunked run bins ``--big-points`` points in blocks of 2 x 10^6 (files) through
   :class:`oceaninterp.grid.CellAccumulator`, in a fresh subprocess whose peak
   resident memory (``VmHWM``, else ``resource.getrusage``) is reported.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

SHAPE = (365, 200, 200)
RESOLUTION = 0.1  # degrees: a 20 x 20 degree box
LAT_MIN, LON_MIN = 20.0, -60.0
BLOCK = 2_000_000  # points per "file" of the chunked run: about three SWOT passes


def make_points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Random points over the grid's box and year (a few percent outside it).

    Points come in time order, day after day, as product files deliver them;
    within a day, positions are uniformly random.
    """
    day = np.repeat(np.arange(SHAPE[0]), rng.multinomial(n, np.full(SHAPE[0], 1 / SHAPE[0])))
    lat = rng.uniform(LAT_MIN - 0.5, LAT_MIN + SHAPE[1] * RESOLUTION + 0.5, n)
    lon = rng.uniform(LON_MIN - 0.5, LON_MIN + SHAPE[2] * RESOLUTION + 0.5, n)
    return day, lat, lon, rng.normal(0.0, 0.1, n)


def timed(fn, repeat: int = 1):  # noqa: ANN001, ANN201
    """(best wall seconds, best CPU seconds of this process, result) over ``repeat`` runs.

    CPU time is printed beside wall time because a shared machine stretches wall
    time unevenly between methods.
    """
    wall, cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, out


def compare(n: int, seed: int) -> None:
    from scipy.stats import binned_statistic_dd

    from oceaninterp.grid import CellGrid, bin_points

    rng = np.random.default_rng(seed)
    day, lat, lon, values = make_points(rng, n)
    grid = CellGrid(np.datetime64("2020-01-01"), LON_MIN, LAT_MIN, RESOLUTION, SHAPE)
    edges = [
        np.arange(SHAPE[0] + 1, dtype=np.float64),
        LAT_MIN + RESOLUTION * np.arange(SHAPE[1] + 1),
        LON_MIN + RESOLUTION * np.arange(SHAPE[2] + 1),
    ]
    sample = np.column_stack([day.astype(np.float64), lat, lon])

    t_ours, c_ours, (sums, counts) = timed(
        lambda: bin_points(grid, day, lat, lon, values), repeat=3
    )
    mean_ours = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)

    t_scipy, c_scipy, res = timed(lambda: binned_statistic_dd(sample, values, "mean", bins=edges))
    t_numpy, c_numpy, (h_sum, h_count) = timed(
        lambda: (
            np.histogramdd(sample, bins=edges, weights=values)[0],
            np.histogramdd(sample, bins=edges)[0],
        )
    )

    # The same answer from all three (edges are float: allow the odd point on an edge).
    differ = int(np.abs(h_count - counts).sum())
    assert differ <= n * 1e-6, f"numpy.histogramdd disagrees on {differ} points"
    finite = np.isfinite(mean_ours) & np.isfinite(res.statistic)
    assert np.allclose(mean_ours[finite], res.statistic[finite], atol=1e-9) or differ > 0

    rows = [
        ("oceaninterp bin_points (best of 3)", t_ours, c_ours),
        ("scipy binned_statistic_dd", t_scipy, c_scipy),
        ("numpy histogramdd (sum+count)", t_numpy, c_numpy),
    ]
    print(
        f"{n:.0e} points into {SHAPE} cells ({int(counts.sum())} inside), seed {seed}; "
        f"results agree"
    )
    print(
        f"{'method':36s} {'wall s':>8s} {'CPU s':>8s} {'points/s (wall)':>16s} "
        f"{'x slower (wall)':>16s} {'x slower (CPU)':>15s}"
    )
    for name, wall, cpu in rows:
        print(
            f"{name:36s} {wall:8.3f} {cpu:8.3f} {n / wall:16.3e} {wall / t_ours:16.1f} "
            f"{cpu / c_ours:15.1f}"
        )


def peak_rss_kib() -> int:
    """Peak resident memory of this process since it started, KiB.

    ``VmHWM`` of /proc/self/status where there is one: unlike ``ru_maxrss``, it
    does not inherit the parent's peak through fork + exec.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def chunked_child(n: int, seed: int) -> None:
    """Bin ``n`` points in blocks through a CellAccumulator; print JSON stats."""
    from oceaninterp.grid import CellAccumulator, CellGrid

    rng = np.random.default_rng(seed)
    grid = CellGrid(np.datetime64("2020-01-01"), LON_MIN, LAT_MIN, RESOLUTION, SHAPE)
    acc = CellAccumulator(grid)
    start = time.perf_counter()
    binned_time = 0.0
    for first in range(0, n, BLOCK):
        day, lat, lon, values = make_points(rng, min(BLOCK, n - first))
        time_ns = np.datetime64("2020-01-01", "ns") + (day * 86400 + 43200).astype("m8[s]")
        t0 = time.perf_counter()
        acc.add(time_ns, lat, lon, values)
        binned_time += time.perf_counter() - t0
        del day, lat, lon, values, time_ns
    mean, count = acc.mean_and_count()
    total = time.perf_counter() - start
    peak_kib = peak_rss_kib()
    print(
        json.dumps(
            {
                "points": n,
                "inside": int(count.sum()),
                "seconds_total": total,
                "seconds_binning": binned_time,
                "peak_rss_mib": peak_kib / 1024,
            }
        )
    )


def chunked(n: int, seed: int) -> None:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(n), "--seed", str(seed)],
        check=True,
        capture_output=True,
        text=True,
    )
    stats = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"chunked run: {stats['points']:.0e} points in blocks of {BLOCK:.0e} into {SHAPE}: "
        f"{stats['inside']} inside, {stats['seconds_total']:.1f} s total "
        f"({stats['points'] / stats['seconds_binning']:.3e} points/s binning, the rest "
        f"is generating the random points), peak RSS {stats['peak_rss_mib']:.0f} MiB "
        f"(whole process, Python + numpy included)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--big-points", type=int, default=100_000_000)
    parser.add_argument("--skip-big", action="store_true", help="skip the chunked run")
    parser.add_argument("--seed", type=int, default=20211)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        chunked_child(args.child, args.seed)
        return
    compare(args.points, args.seed)
    if not args.skip_big:
        chunked(args.big_points, args.seed)


if __name__ == "__main__":
    main()
