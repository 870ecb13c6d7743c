"""Peak memory (RSS) and wall time of the sample pipeline and of one OI window.

Each measurement runs in its own child process and reads the child's peak
resident set size from ``os.wait4`` (``ru_maxrss``), so nothing of this
process or of another measurement is counted. Two measurements, each with the
current ``oceaninterp/oi.py`` and with a baseline one taken from git
(``--baseline-ref``, by default the OI before its tiled factorisation: one
dense covariance matrix per block plus its Cholesky copy):

1. ``pipeline``: ``oceaninterp run pipelines/sample.toml`` (grid 49 days,
   4DVarNet and OI maps of 21 days, scores), into a fresh output root under a
   temporary folder (the TOML is copied with absolute paths).
2. ``window``: the OI of the pipeline's one OI window alone (21 mapped days
   plus a 14-day halo each side: a 49-day 100 x 100 cube, 4 blocks of up to
   ~17 000 observations), exactly as the pipeline runs it
   (:func:`oceaninterp.pipeline.tasks.reconstruct_block`, from the cubes the
   current pipeline run wrote).

Prints the peak GB (10^9 bytes) and wall seconds of each, their ratios
(baseline / current) and the largest difference between the two OI maps
(``adt`` and ``err_sla``, metres: round-off). On a shared CPU the wall times
vary; the peaks do not.

Run: ``.venv/bin/python benchmarks/memory_bench.py [--baseline-ref 21fb6c7]
[--only pipeline|window] [--keep DIR]`` (about 25 minutes on 2 busy cores).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: The OI before its tiled factorisation (dense blocks, 512 MiB batches).
BASELINE_REF = "21fb6c7"
#: The sample pipeline's OI window: its 21 days and a 14-day halo each side.
WINDOW = ("2022-10-15", "2022-12-02")
MAPPED = ("2022-10-29", "2022-11-18")


def use_oi_from_git(ref: str) -> None:
    """Make ``oceaninterp.oi`` the module of git revision ``ref`` (before anything imports it)."""
    source = subprocess.run(
        ["git", "show", f"{ref}:oceaninterp/oi.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    import oceaninterp

    spec = importlib.util.spec_from_loader("oceaninterp.oi", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__file__ = f"<git {ref}>/oceaninterp/oi.py"
    sys.modules["oceaninterp.oi"] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102 - our own file
    oceaninterp.oi = module  # type: ignore[attr-defined]


def sample_toml(root: Path) -> Path:
    """A copy of pipelines/sample.toml writing under ``root``, with absolute paths."""
    text = (REPO / "pipelines" / "sample.toml").read_text()
    text = re.sub(r'output_root = "[^"]*"', f'output_root = "{root}"', text)
    text = text.replace('"../', f'"{REPO}/')
    path = root.parent / f"{root.name}.toml"
    path.write_text(text)
    return path


def days(first: str, last: str) -> list[str]:
    import numpy as np

    span = np.arange(np.datetime64(first), np.datetime64(last) + 1)
    return [str(d) for d in span]


def child_pipeline(root: Path) -> None:
    from oceaninterp.cli.app import main

    main(["run", str(sample_toml(root))])  # exits non-zero when anything failed


def child_window(cubes: Path, out: Path) -> None:
    from oceaninterp.pipeline.tasks import reconstruct_block

    window = []
    for day in days(*WINDOW):
        path = cubes / day[:4] / f"oceaninterp_cube_{day.replace('-', '')}.nc"
        window.append((day, str(path) if path.exists() else None))
    out.mkdir(parents=True, exist_ok=True)
    reconstruct_block(
        window,
        [(d, str(out / f"oi_{d}.nc")) for d in days(*MAPPED)],
        method="oi",
        checkpoint=None,
        device="cpu",
        oi=None,
        work_dir=str(out / "work"),
        history="benchmarks/memory_bench.py",
        mdt=str(REPO / "sample_data" / "mdt.nc"),
    )


def measure(args: list[str]) -> tuple[float, float]:
    """Peak RSS (GB) and wall seconds of ``python memory_bench.py ARGS`` in a child."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed with exit code {proc.returncode}")
    return usage.ru_maxrss * 1024 / 1e9, wall  # ru_maxrss: kilobytes on Linux


def max_difference(a: Path, b: Path) -> dict[str, float]:
    import numpy as np
    import xarray as xr

    out: dict[str, float] = {}
    for day in days(*MAPPED):
        with xr.open_dataset(a / f"oi_{day}.nc") as x, xr.open_dataset(b / f"oi_{day}.nc") as y:
            for name in ("adt", "err_sla"):
                diff = float(np.nanmax(np.abs(x[name].values - y[name].values)))
                out[name] = max(out.get(name, 0.0), diff)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    parser.add_argument("--only", choices=("pipeline", "window"))
    parser.add_argument("--keep", type=Path, help="work here instead of a temporary folder")
    parser.add_argument("--child", choices=("pipeline", "window"), help=argparse.SUPPRESS)
    parser.add_argument("--oi", default="current", help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cubes", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.oi != "current":
            use_oi_from_git(args.oi)
        if args.child == "pipeline":
            child_pipeline(args.root)
        else:
            child_window(args.cubes, args.root)
        return

    with tempfile.TemporaryDirectory(prefix="memory_bench_") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        variants = (("current", "current"), ("baseline", args.baseline_ref))
        rows = []
        if args.only in (None, "pipeline"):
            for name, oi in variants:
                rows.append(
                    ("sample pipeline", name)
                    + measure(["--child", "pipeline", "--oi", oi, "--root", str(work / name)])
                )
                print(f"{rows[-1][0]} [{name}]: {rows[-1][2]:.2f} GB, {rows[-1][3]:.0f} s")
        cubes = work / "current" / "cubes"
        if args.only in (None, "window"):
            if not cubes.is_dir():  # grid the cubes first (and map the window: not timed)
                measure(["--child", "pipeline", "--root", str(work / "current")])
            for name, oi in variants:
                rows.append(
                    ("OI window (49 d)", name)
                    + measure(
                        [
                            "--child",
                            "window",
                            "--oi",
                            oi,
                            "--cubes",
                            str(cubes),
                            "--root",
                            str(work / f"window-{name}"),
                        ]
                    )
                )
                print(f"{rows[-1][0]} [{name}]: {rows[-1][2]:.2f} GB, {rows[-1][3]:.0f} s")
        print(f"\nbaseline: oceaninterp/oi.py at {args.baseline_ref}")
        print(f"{'':18} {'peak GB':>8} {'wall s':>7} | {'base GB':>8} {'wall s':>7} | ratios")
        for what in dict.fromkeys(r[0] for r in rows):
            cur = next(r for r in rows if r[0] == what and r[1] == "current")
            base = next(r for r in rows if r[0] == what and r[1] == "baseline")
            print(
                f"{what:18} {cur[2]:8.2f} {cur[3]:7.0f} | {base[2]:8.2f} {base[3]:7.0f} | "
                f"memory {base[2] / cur[2]:.2f}x, time {base[3] / cur[3]:.2f}x"
            )
        if args.only in (None, "window"):
            diff = max_difference(work / "window-current", work / "window-baseline")
            print("largest |current - baseline| of the OI maps, m:", diff)


if __name__ == "__main__":
    main()
