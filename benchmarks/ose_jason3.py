"""OSE on the real Jason-3 cycle: map from most passes, score on the withheld ones (2021a way).

Usage::

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/ose_jason3.py \\
        [--real-data ../shared/data/real] [--work runs/ose_jason3] \\
        [--box -75 -45 25 50] [--every 4] [--checkpoint sample_data/checkpoint.pt]

The ten NASA-SSH files of ``--real-data`` (2022-01-01..10, one Jason-3 repeat
cycle) are split by pass number: the passes with ``pass % every == 0`` are
withheld (written to ``WORK/withheld``), the others (``WORK/mapped``) are
gridded over the box at 1/10 deg (``oceaninterp grid``, land masked) and
mapped by

- the 4DVarNet of ``--checkpoint`` with ``--outside oi`` (the default: rows
  outside its training latitudes by the OI) and with ``--outside apply``
  (the model everywhere);
- the OI with its defaults (1 deg, 7 days, 5 cm; prior std estimated from the
  observations) and with the data challenge's unit covariance (``--signal-std 1``);

and every map is scored against the withheld passes by ``oceaninterp score
--tracks`` (SLA against SLA): mu, RMSE and lambda_x of the 2021a data
challenge. The table goes to ``WORK/ose_jason3.md``. One repeat cycle gives a
noisy lambda_x (few long tracks; "-" when a map's spectral score never
crosses 0.5): read mu and RMSE first.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import xarray as xr

ROOT = Path(__file__).resolve().parents[1]


def split_passes(files: list[Path], work: Path, every: int) -> tuple[Path, Path]:
    """Write each file's kept and withheld passes to ``work/mapped`` and ``work/withheld``."""
    kept, held = work / "mapped", work / "withheld"
    for folder in (kept, held):
        folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        with xr.open_dataset(path) as lazy:
            ds = lazy.load()  # fancy indexing of the file itself is very slow
        out = np.asarray(ds["pass"].values).astype(np.int64) % every == 0
        for folder, select in ((kept, ~out), (held, out)):
            ds.isel(time=np.flatnonzero(select)).to_netcdf(folder / path.name)
    return kept, held


def oceaninterp(*args: str) -> None:
    """Run one ``oceaninterp`` command, stopping on failure."""
    done = subprocess.run([sys.executable, "-m", "oceaninterp", *args], check=False)
    if done.returncode != 0:
        raise SystemExit(f"oceaninterp {args[0]} failed (exit {done.returncode})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--real-data", type=Path, default=ROOT.parent / "shared" / "data" / "real")
    parser.add_argument("--work", type=Path, default=ROOT / "runs" / "ose_jason3")
    parser.add_argument(
        "--box",
        type=float,
        nargs=4,
        default=(-75.0, -45.0, 25.0, 50.0),
        metavar=("LON_MIN", "LON_MAX", "LAT_MIN", "LAT_MAX"),
    )
    parser.add_argument("--every", type=int, default=4, help="withhold passes with pass %% N == 0")
    parser.add_argument("--checkpoint", type=Path, default=ROOT / "sample_data" / "checkpoint.pt")
    opts = parser.parse_args(argv)
    files = sorted((opts.real_data / "nadir" / "nasa_ssh_jason3").glob("*.nc"))
    if not files:
        raise SystemExit(f"error: {opts.real_data}: no nadir/nasa_ssh_jason3/*.nc")
    work = opts.work
    kept, held = split_passes(files, work, opts.every)
    x0, x1, y0, y1 = (str(v) for v in opts.box)
    cube = work / "cube.nc"
    oceaninterp(
        "grid",
        str(kept),
        "-o",
        str(cube),
        "-x",
        x0,
        "-X",
        x1,
        "-y",
        y0,
        "-Y",
        y1,
        "--resolution",
        "0.1",
        "--overwrite",
    )
    runs = {
        "4dvarnet (--outside oi)": ["-c", str(opts.checkpoint)],
        "4dvarnet (--outside apply)": ["-c", str(opts.checkpoint), "--outside", "apply"],
        "oi (estimated prior std)": ["--method", "oi"],
        "oi (unit covariance)": ["--method", "oi", "--signal-std", "1"],
    }
    maps = []
    for i, args in enumerate(runs.values()):
        out = work / f"map{i}.nc"
        oceaninterp("reconstruct", str(cube), *args, "-o", str(out), "--overwrite")
        maps.append(out)
    report = work / "scores"
    oceaninterp("score", *map(str, maps), "--tracks", str(held), "-o", str(report), "--overwrite")
    scores = json.loads((report / "scores.json").read_text())
    lines = [
        f"# OSE, real Jason-3 cycle 2022-01-01..10, box {opts.box}, 1/10 deg, "
        f"passes with pass % {opts.every} == 0 withheld",
        "",
        "| map | mu | RMSE (cm) | lambda_x (km) |",
        "|---|---|---|---|",
    ]
    for (label, _), path in zip(runs.items(), maps, strict=True):
        row = _row(scores, path.stem)
        lines.append(f"| {label} | {row['mu']} | {row['rmse']} | {row['lx']} |")
    text = "\n".join(lines) + "\n"
    (work / "ose_jason3.md").write_text(text)
    print(text)


def _row(scores: list[dict], name: str) -> dict[str, str]:
    """mu, RMSE (cm) and lambda_x (km) of one map of ``scores.json``, as text."""
    entry = next((m for m in scores if m.get("name") == name), {})

    def text(key: str, scale: float, fmt: str) -> str:
        value = entry.get(key)
        return "-" if value is None else fmt.format(float(value) * scale)

    return {
        "mu": text("mu", 1.0, "{:.3f}"),
        "rmse": text("rmse_m", 100.0, "{:.2f}"),
        "lx": text("lambda_x_km", 1.0, "{:.0f}"),
    }


if __name__ == "__main__":
    main()
