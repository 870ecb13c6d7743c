"""Time a year of Gulf Stream maps: our 4DVarNet tiling, the reference tiling, and OI.

Usage::

    .venv/bin/python benchmarks/reconstruct_bench.py                 # synthetic year, CPU
    .venv/bin/python benchmarks/reconstruct_bench.py --cube CUBE --truth TRUTH \\
        --checkpoint sample_data/checkpoint.pt --strides 1,5          # OSSE, with mu

Every measurement runs in its own subprocess (so its peak resident memory is
its own) on the same machine in the same run:

``ours``
    ``oceaninterp.reconstruct.reconstruct`` on the whole cube with the default
    :class:`~oceaninterp.tiling.TileSpec` (tiles every 3 days, one spatial tile
    up to 256 px over the domain and a margin); the model is ``--checkpoint`` when given (else
    ``sample_data/checkpoint.pt`` when it exists, else a random-init default
    :class:`~oceaninterp.config.ModelConfig`: fine for timing, not for mu).
``reference tiling``
    the same model and code with the reference's tiling: one tile per output
    day, tiles of the training size with a 1/12 border, no margin. On a slow shared CPU
    it can be run on the first ``--baseline-days`` days only: its rate
    (pixel-days per second) is then extrapolated, and mu is compared on those
    days for both (``mu_common``).
``ours stride S``
    optional (``--strides``): our tiling with other time strides.
``oi``
    ``reconstruct(method="oi")`` with the default :class:`~oceaninterp.config.OIConfig`.
``reference base model``
    the reference's base architecture (prior 32, ConvLSTM 48 at full
    resolution, 10 steps) on 15 x 240 x 240 tiles at 1/20 deg, built with our
    classes: ``--reference-tiles`` tiles are timed and a year of the 200 x 200
    box is *extrapolated* for the reference tiling (one tile per output day)
    and for our default tiling.

Without ``--cube`` the cube is synthetic: a meandering jet with drifting
eddies on the 10 x 10 deg box (-65..-55 E, 33..43 N) at the checkpoint's
resolution, sampled along straight repeat-orbit passes of five nadir missions
(about 2 % of the cells a day), which stands in for an OSSE for timing; its
truth is known, so mu is printed too (meaningful with a trained checkpoint).
The cube holds the kind of sea level the checkpoint maps (``sla`` for the
shipped one), so that no MDT is needed.

The CPU is shared with other users while this runs: timings are medians of
nothing (one run each) and should be read as ratios within one run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CHECKPOINT = ROOT / "sample_data" / "checkpoint.pt"
BOX = (-65.0, -55.0, 33.0, 43.0)  # lon_min, lon_max, lat_min, lat_max
REFERENCE_BOX_PX = 200  # the 10-deg box at 1/20 deg
#: (repeat days, passes over the box per repeat) of five nadir missions.
MISSIONS = ((10, 6), (27, 14), (27, 14), (35, 18), (369, 160))


def synthetic_osse(days: int, resolution: float, seed: int = 0, kind: str = "adt"):
    """A synthetic truth and its nadir-sampled cube on the Gulf Stream box (see module doc).

    ``kind`` is the cube's ``ssh_kind`` (``"sla"`` or ``"adt"``): the kind the
    checkpoint maps, so that no MDT is needed.
    """
    import xarray as xr

    rng = np.random.default_rng(seed)
    lon_min, lon_max, lat_min, lat_max = BOX
    lon = lon_min + resolution * (np.arange(round((lon_max - lon_min) / resolution)) + 0.5)
    lat = lat_min + resolution * (np.arange(round((lat_max - lat_min) / resolution)) + 0.5)
    t = np.arange(days, dtype=np.float64)
    x, y = lon[None, None, :], lat[None, :, None]
    meander = 1.2 * np.sin(2 * np.pi * (x - lon_min) / 4.5 - 2 * np.pi * t[:, None, None] / 60.0)
    ssh = 0.6 * np.tanh((y - 38.0 - meander) / 0.7)
    for _ in range(12):  # drifting rings of 0.3 deg .. 0.8 deg radius
        x0 = rng.uniform(lon_min, lon_max) - 0.05 * t
        y0 = rng.uniform(lat_min, lat_max) + 0.01 * np.sin(t / 30.0)
        r = rng.uniform(0.3, 0.8)
        amp = rng.choice([-1, 1]) * rng.uniform(0.15, 0.35)
        d2 = (x - ((x0[:, None, None] - lon_min) % (lon_max - lon_min) + lon_min)) ** 2 + (
            y - y0[:, None, None]
        ) ** 2
        ssh = ssh + amp * np.exp(-d2 / r**2)
    ssh = ssh.astype(np.float32)
    observed = np.zeros(ssh.shape, dtype=bool)
    along = np.arange(0.0, 15.0, resolution / 2)
    for repeat, passes in MISSIONS:
        x0s = rng.uniform(lon_min - 5, lon_max + 5, passes)
        slopes = rng.choice([-1.0, 1.0], passes) * rng.uniform(0.8, 1.6, passes)
        offsets = rng.integers(0, repeat, passes)
        for x0, slope, offset in zip(x0s, slopes, offsets, strict=True):
            px = x0 + along / np.hypot(1, slope) * np.sign(slope)
            py = lat_min + along * abs(slope) / np.hypot(1, slope)
            i = np.floor((py - lat_min) / resolution).astype(int)
            j = np.floor((px - lon_min) / resolution).astype(int)
            inside = (i >= 0) & (i < lat.size) & (j >= 0) & (j < lon.size)
            for day in range(int(offset), days, repeat):
                observed[day, i[inside], j[inside]] = True
    dims = ("time", "latitude", "longitude")
    time_coord = np.datetime64("2019-01-01", "ns") + np.arange(days) * np.timedelta64(1, "D")
    coords = {"time": time_coord, "latitude": lat, "longitude": lon}
    obs = np.where(observed, ssh, np.nan).astype(np.float32)
    cube = xr.Dataset(
        {
            "ssh": (dims, obs, {"units": "m", "ssh_kind": kind}),
            "count": (dims, observed.astype(np.int32)),
            "mask": (dims, observed.astype(np.int8)),
        },
        coords=coords,
        attrs={"ssh_kind": kind, "resolution": resolution, "history": "synthetic benchmark"},
    )
    truth = xr.Dataset({"ssh": (dims, ssh, {"units": "m"})}, coords=coords)
    return cube, truth


def _mu(maps_path: Path, truth_path: Path, days: int | None = None) -> float:
    """mu = 1 - RMSE / RMS(truth) over the space-time domain (REFERENCE section 2).

    ``days``: only the first ``days`` days of the maps.
    """
    from oceaninterp.io import open_dataset
    from oceaninterp.products import duacs_l4

    maps = duacs_l4.open(maps_path).isel(time=slice(0, days))
    truth = open_dataset(truth_path)["ssh"].interp_like(maps, method="nearest")
    est = maps["adt" if "adt" in maps else "sla"].values
    ref = truth.values
    ok = np.isfinite(est) & np.isfinite(ref)
    rmse = np.sqrt(np.mean((est[ok] - ref[ok]) ** 2))
    return float(1.0 - rmse / np.sqrt(np.mean(ref[ok] ** 2)))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_reconstruct(args: argparse.Namespace) -> dict:
    """One reconstruction, timed in this process."""
    import xarray as xr

    from oceaninterp.reconstruct import reconstruct
    from oceaninterp.tiling import TileSpec

    cube = xr.open_dataset(args.cube_path).load()
    if args.days_limit:
        cube = cube.isel(time=slice(0, args.days_limit))
    checkpoint = None
    tiles = TileSpec(time_stride=args.stride)
    if args.method == "4dvarnet":
        checkpoint = _checkpoint(args.checkpoint, float(cube.attrs["resolution"]), args.device)
        if args.training_tiles:
            tile = checkpoint.meta["tile"]
            tiles = TileSpec(
                time_stride=1, latitude=tile["latitude"], longitude=tile["longitude"], margin=0
            )
    out = Path(args.workdir) / f"maps-{args.name.replace(' ', '_')}.zarr"
    start = time.perf_counter()
    reconstruct(
        cube,
        out,
        checkpoint=checkpoint,
        method=args.method,
        device=args.device,
        batch_size=args.batch_size,
        tiles=tiles,
        overwrite=True,
    )
    seconds = time.perf_counter() - start
    pixel_days = int(np.prod([cube.sizes[d] for d in ("time", "latitude", "longitude")]))
    record = {
        "name": args.name,
        "seconds": seconds,
        "days": cube.sizes["time"],
        "peak_rss_mb": _peak_rss_mb(),
        "pixel_days": pixel_days,
        "pixel_days_per_s": pixel_days / seconds,
    }
    if args.truth_path:
        record["mu"] = _mu(out, Path(args.truth_path))
        record["mu_common"] = _mu(out, Path(args.truth_path), days=args.mu_days)
    return record


def _checkpoint(path: str | None, resolution: float, device: str):
    """The checkpoint to time: a file, else a random-init default model."""
    from oceaninterp.config import ModelConfig
    from oceaninterp.model import build_model
    from oceaninterp.model.checkpoint import LoadedCheckpoint, model_meta
    from oceaninterp.model.inference import load_model

    if path:
        return load_model(path, device)
    model = build_model(ModelConfig()).eval()
    meta = {**model_meta(model), "resolution": resolution, "ssh_kind": "adt"}
    return LoadedCheckpoint(model=model, meta=meta)


def child_reference(args: argparse.Namespace) -> dict:
    """Time the reference's base model on 15 x 240 x 240 tiles; extrapolate a year."""
    import torch

    from oceaninterp.config import ModelConfig
    from oceaninterp.model import build_model
    from oceaninterp.model.inference import resolve_device
    from oceaninterp.tiling import TileGrid, TileSpec

    dev = resolve_device(args.device)
    torch.manual_seed(0)
    cfg = ModelConfig(
        tile_latitude=240, tile_longitude=240, lstm_hidden=48, modulator_downsample=1, n_step=10
    )
    model = build_model(cfg).to(dev).eval()
    gen = torch.Generator().manual_seed(0)

    def tiles(batch: int) -> torch.Tensor:
        obs = 0.4 * torch.randn((batch, 15, 240, 240), generator=gen)
        obs[torch.rand(obs.shape, generator=gen) > 0.02] = float("nan")
        return obs.to(dev)

    model.reconstruct(tiles(1))  # warm-up
    per_tile = {}
    for batch in sorted({1, args.batch_size}):
        start = time.perf_counter()
        for _ in range(max(1, args.reference_tiles // batch)):
            model.reconstruct(tiles(batch))
        if dev.type == "cuda":
            torch.cuda.synchronize()
        n = max(1, args.reference_tiles // batch) * batch
        per_tile[batch] = (time.perf_counter() - start) / n
    days, px = args.days, REFERENCE_BOX_PX
    shape = {"time": days, "latitude": px, "longitude": px}
    size, stride, border, margin = TileSpec().resolve(
        {"time": 15, "latitude": 240, "longitude": 240}, shape
    )
    framed = {d: n + 2 * margin[d] for d, n in shape.items()}
    ours = len(TileGrid(framed, size, stride, border=border))
    reference_tiles = days  # one tile per output day
    pixel_days = days * px * px
    best = min(per_tile.values())
    return {
        "name": "reference base model, 1/20 deg",
        "seconds_per_tile": per_tile,
        "peak_rss_mb": _peak_rss_mb(),
        "reference_tiles": reference_tiles,
        "reference_seconds": reference_tiles * per_tile[1],
        "ours_tiles": ours,
        "ours_seconds": ours * best,
        "pixel_days": pixel_days,
        "reference_pixel_days_per_s": pixel_days / (reference_tiles * per_tile[1]),
        "ours_pixel_days_per_s": pixel_days / (ours * best),
    }


def _run_child(argv: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *argv], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"child {argv} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cube", help="A cube (contract 3); default: a synthetic year.")
    parser.add_argument("--truth", help="Its truth (contract 4), for mu.")
    parser.add_argument(
        "--checkpoint", help="Trained checkpoint (default: sample_data's, or random)."
    )
    parser.add_argument("--days", type=int, default=365, help="Days of the synthetic cube.")
    parser.add_argument("--resolution", type=float, default=None, help="Synthetic grid, deg.")
    parser.add_argument(
        "--baseline-days",
        type=int,
        default=0,
        help="Run the reference tiling on the first N days only (0: all); mu_common is on them.",
    )
    parser.add_argument("--strides", default="", help="Extra time strides of our tiling, e.g. 1,5.")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--skip-oi", action="store_true")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--reference-tiles", type=int, default=4)
    parser.add_argument("--json", help="Also write the records to this JSON file.")
    parser.add_argument("--child", choices=["reconstruct", "reference"], help=argparse.SUPPRESS)
    parser.add_argument("--name", default="ours", help=argparse.SUPPRESS)
    parser.add_argument("--method", default="4dvarnet", help=argparse.SUPPRESS)
    parser.add_argument("--stride", type=int, default=3, help=argparse.SUPPRESS)
    parser.add_argument("--training-tiles", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--days-limit", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--mu-days", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--cube-path", help=argparse.SUPPRESS)
    parser.add_argument("--truth-path", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child == "reconstruct":
        print(json.dumps(child_reconstruct(args)))
        return
    if args.child == "reference":
        print(json.dumps(child_reference(args)))
        return

    checkpoint = args.checkpoint or (
        str(DEFAULT_CHECKPOINT) if DEFAULT_CHECKPOINT.exists() else None
    )
    print(f"model: {checkpoint or 'random-init default ModelConfig (timing only)'}")
    common = ["--device", args.device, "--batch-size", str(args.batch_size)]
    records = []
    with tempfile.TemporaryDirectory() as work:
        cube_path, truth_path = args.cube, args.truth
        if cube_path is None:
            grid_resolution, kind = _checkpoint_grid(checkpoint)
            cube, truth = synthetic_osse(args.days, args.resolution or grid_resolution, kind=kind)
            cube_path, truth_path = f"{work}/cube.nc", f"{work}/truth.nc"
            cube.to_netcdf(cube_path)
            truth.to_netcdf(truth_path)
            coverage = float(cube["mask"].mean())
            print(f"synthetic cube {dict(cube.sizes)}, {coverage:.1%} of cells observed")
        base = ["--child", "reconstruct", "--cube-path", cube_path, "--workdir", work, *common]
        if truth_path:
            base += ["--truth-path", truth_path]
        if args.baseline_days:
            base += ["--mu-days", str(args.baseline_days)]
        if checkpoint:
            base += ["--checkpoint", checkpoint]
        runs = [["--name", "ours"]]
        runs += [
            ["--name", f"ours stride {s}", "--stride", s] for s in args.strides.split(",") if s
        ]
        runs.append(
            [
                "--name",
                "reference tiling",
                "--training-tiles",
                "--days-limit",
                str(args.baseline_days),
            ]
        )
        if not args.skip_oi:
            runs.append(["--name", "oi", "--method", "oi"])
        for run in runs:
            records.append(_run_child([*base, *run]))
            print(_line(records[-1]), flush=True)
        if not args.skip_reference:
            ref = _run_child(
                [
                    "--child",
                    "reference",
                    "--days",
                    str(args.days),
                    *common,
                    "--reference-tiles",
                    str(args.reference_tiles),
                ]
            )
            records.append(ref)
            print(
                f"reference base model 15x240x240 ({args.device}): "
                f"{ref['seconds_per_tile']} s/tile by batch size; a year of the 1/20 deg box: "
                f"reference tiling {ref['reference_tiles']} tiles "
                f"~{ref['reference_seconds']:.0f} s "
                f"({ref['reference_pixel_days_per_s']:,.0f} px-days/s), our tiling "
                f"{ref['ours_tiles']} tiles ~{ref['ours_seconds']:.0f} s "
                f"({ref['ours_pixel_days_per_s']:,.0f} px-days/s): "
                f"{ref['reference_seconds'] / ref['ours_seconds']:.1f}x fewer s per pixel-day "
                f"(extrapolated from {args.reference_tiles} timed tiles); peak "
                f"{ref['peak_rss_mb']:.0f} MB",
                flush=True,
            )
    by_name = {r["name"]: r for r in records}
    baseline = by_name["reference tiling"]
    for r in records:
        if r["name"].startswith("ours"):
            gain = r["pixel_days_per_s"] / baseline["pixel_days_per_s"]
            mu = ""
            if "mu_common" in r:
                mu = f" (mu {r['mu_common']:.4f} vs {baseline['mu_common']:.4f} on common days)"
            print(f"{r['name']}: {gain:.1f}x fewer s per pixel-day than the reference tiling{mu}")
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=2))


def _checkpoint_grid(checkpoint: str | None) -> tuple[float, str]:
    """Resolution (deg) and ``ssh_kind`` of the synthetic cube: the checkpoint's.

    Without a checkpoint: 0.1 deg and ADT (the random-init default model's).
    """
    if checkpoint is None:
        return 0.1, "adt"
    from oceaninterp.model.checkpoint import describe_checkpoint

    meta = describe_checkpoint(checkpoint)
    return float(meta["resolution"]), str(meta["ssh_kind"])


def _line(r: dict) -> str:
    mu = f", mu {r['mu']:.4f}" if "mu" in r else ""
    return (
        f"{r['name']}: {r['days']} days in {r['seconds']:.1f} s, "
        f"{r['pixel_days_per_s']:,.0f} pixel-days/s, "
        f"peak {r['peak_rss_mb']:.0f} MB{mu}"
    )


if __name__ == "__main__":
    main()
