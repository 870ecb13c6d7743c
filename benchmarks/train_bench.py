"""Speed and memory of the SSH 4DVarNet: one training step, one inference tile.

Two models are timed in the same run, on synthetic tiles (5 % of the pixels
observed), with the code paths that ``oceaninterp train`` and
``oceaninterp reconstruct`` use (:func:`oceaninterp.train.training_step`,
:meth:`SSH4DVarNet.reconstruct`):

- ``default``: :class:`~oceaninterp.config.ModelConfig` defaults (15 x 48 x 48
  tiles, prior 32, ConvLSTM 32 at half resolution, 8 steps, Gaussian first guess);
- ``reference``: the reference's base size (15 x 240 x 240, prior 32, ConvLSTM
  48 at full resolution, 10 steps, started from zeros in the gaps), the
  baseline measured in this run.

The reference code's own figures on a 2-core CPU (REFERENCE.md section 7: 1.22
s per 15 x 240 x 240 tile, 17.6 s per training step of batch 4 with the Sobel
term, peaks 1.7 GB / 6.8 GB) are printed next to the ``reference`` row.

Training steps use batch 4 (reference); inference times are per tile, at batch
1 (and batch 16 on CUDA). On CPU each measurement runs in its own subprocess so
that its peak resident memory (``ru_maxrss``) is its own; on CUDA the peak is
``torch.cuda.max_memory_allocated``.

Usage::

    python benchmarks/train_bench.py [--device cpu|cuda] [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict

import torch

from oceaninterp.config import ModelConfig, TrainConfig
from oceaninterp.model import build_model
from oceaninterp.train import BatchTensors, make_optimizer, tile_window, training_step

CONFIGS = {
    "default": ModelConfig(),
    "reference": ModelConfig(
        tile_latitude=240,
        tile_longitude=240,
        prior_width=32,
        lstm_hidden=48,
        modulator_downsample=1,
        n_step=10,
        lr_grad=250.0,
        first_guess="zeros",
    ),
}
#: REFERENCE.md section 7 (reference code, base model, 2-core CPU, torch 2.13, 2 threads).
QUOTED = {
    "infer_s_per_tile": 1.22,
    "train_s_per_step": 17.6,
    "infer_peak_gb": 1.7,
    "train_peak_gb": 6.8,
}
TRAIN_BATCH = 4
#: The reference's 163 GFLOP tile in 1.22 s: the rate its quiet 2-core CPU sustained.
QUOTED_GFLOPS = 163.0 / 1.22


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Float32 matrix-product rate of this CPU now (GFLOP/s): a gauge of the machine's load."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def _tiles(cfg: ModelConfig, batch: int, device: torch.device, seed: int = 0):
    """Synthetic (obs, truth) ``(batch, T, H, W)`` in metres; 5 % of obs pixels observed."""
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, cfg.tile_time, cfg.tile_latitude, cfg.tile_longitude)
    truth = 0.3 + 0.2 * torch.randn(shape, generator=generator)
    obs = truth.clone()
    obs[torch.rand(shape, generator=generator) > 0.05] = float("nan")
    return obs.to(device), truth.to(device)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure(name: str, mode: str, device: torch.device, repeats: int, batch: int) -> dict:
    """Median seconds of one training step (``mode="train"``) or one inference batch."""
    cfg = CONFIGS[name]
    torch.manual_seed(0)
    model = build_model(cfg).to(device)
    model.set_normalisation(0.3, 0.2)
    obs, truth = _tiles(cfg, batch, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    if mode == "train":
        train_cfg = TrainConfig(batch_size=batch)
        optimizer = make_optimizer(model, train_cfg)
        window = tile_window(cfg, train_cfg.loss_border).to(device)
        model.train()

        def run() -> None:
            training_step(model, optimizer, BatchTensors(obs, truth, None, None), window, train_cfg)
    else:
        model.eval()

        def run() -> None:
            model.reconstruct(obs)

    times = []
    for i in range(repeats + 1):  # the first run warms up (allocator, kernels) and is dropped
        _sync(device)
        start = time.perf_counter()
        run()
        _sync(device)
        if i:
            times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    if device.type == "cuda":
        peak_gb = torch.cuda.max_memory_allocated() / 1e9
    else:
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9
    return {
        "model": name,
        "mode": mode,
        "device": str(device),
        "batch": batch,
        "seconds": seconds,
        "seconds_per_tile": seconds / batch,
        "peak_gb": peak_gb,
        "repeats": repeats,
        "threads": torch.get_num_threads(),
        "parameters": sum(p.numel() for p in model.parameters()),
    }


def _in_subprocess(name: str, mode: str, repeats: int, batch: int, threads: int | None) -> dict:
    command = [sys.executable, __file__, "--child", name, mode, str(repeats), str(batch)]
    if threads:
        command += ["--threads", str(threads)]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--repeats", type=int, default=3, help="Timed runs after one warm-up.")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (CPU).")
    parser.add_argument("--only", choices=tuple(CONFIGS), default=None)
    parser.add_argument("--json", default=None, help="Also write the results to this file.")
    parser.add_argument("--child", nargs=4, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.child:
        name, mode, repeats, batch = args.child
        print(json.dumps(measure(name, mode, torch.device("cpu"), int(repeats), int(batch))))
        return

    device = torch.device(args.device)
    plan = [(n, "infer", 1) for n in CONFIGS] + [(n, "train", TRAIN_BATCH) for n in CONFIGS]
    if device.type == "cuda":
        plan += [(n, "infer", 16) for n in CONFIGS]
    if args.only:
        plan = [p for p in plan if p[0] == args.only]
    gauge = [matmul_gflops()] if device.type == "cpu" else []
    results = []
    for name, mode, batch in plan:
        if device.type == "cpu":
            row = _in_subprocess(name, mode, args.repeats, batch, args.threads)
        else:
            row = measure(name, mode, device, args.repeats, batch)
        results.append(row)
        print(
            f"{name:9s} {mode:5s} batch {batch:2d} on {row['device']}: "
            f"{row['seconds']:8.3f} s per {'step' if mode == 'train' else 'batch'}, "
            f"{row['seconds_per_tile']:8.4f} s per tile, peak {row['peak_gb']:.2f} GB",
            flush=True,
        )
    by_key = {(r["model"], r["mode"], r["batch"]): r for r in results}
    print(
        "\nratios (reference-size / default, same run; a tile of the default holds 25x fewer "
        "pixels, so per pixel-day is the like-for-like figure):"
    )
    for mode, batch in {(r["mode"], r["batch"]) for r in results}:
        ref, ours = by_key.get(("reference", mode, batch)), by_key.get(("default", mode, batch))
        if ref and ours:
            pixels = (240 * 240) / (
                CONFIGS["default"].tile_latitude * CONFIGS["default"].tile_longitude
            )
            print(
                f"  {mode} batch {batch}: {ref['seconds'] / ours['seconds']:.1f}x less time per "
                f"tile; {ref['seconds'] / ours['seconds'] / pixels:.2f}x less per pixel-day"
            )
    print(
        "\nreference-size model vs the reference code (REFERENCE.md section 7, quoted, 2-core CPU):"
    )
    if gauge:
        gauge.append(matmul_gflops())
        rate = statistics.mean(gauge)
        print(
            f"  this run's CPU: {rate:.0f} GFLOP/s on a float32 matmul (start/end "
            f"{gauge[0]:.0f}/{gauge[1]:.0f}), a gauge of how busy the shared CPU was; the "
            f"reference's tile ran at {QUOTED_GFLOPS:.0f} GFLOP/s on its quiet CPU"
        )
    for mode, key, peak in (
        ("infer", "infer_s_per_tile", "infer_peak_gb"),
        ("train", "train_s_per_step", "train_peak_gb"),
    ):
        row = by_key.get(("reference", mode, 1 if mode == "infer" else TRAIN_BATCH))
        if row:
            print(
                f"  {mode}: {row['seconds']:.2f} s vs {QUOTED[key]} s quoted "
                f"(speed ratio {QUOTED[key] / row['seconds']:.2f}x); "
                f"peak {row['peak_gb']:.2f} GB vs {QUOTED[peak]} GB"
            )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "results": results,
                    "quoted": QUOTED,
                    "cpu_matmul_gflops": gauge,
                    "configs": {k: asdict(v) for k, v in CONFIGS.items()},
                },
                f,
                indent=2,
            )


if __name__ == "__main__":
    main()
