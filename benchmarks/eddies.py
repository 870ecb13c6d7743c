"""Eddy identification by py-eddy-tracker on our maps and on real DUACS L4 maps.

py-eddy-tracker (PyPI ``pyEddyTracker``, AVISO/CLS's eddy atlas code) is a
real client of DUACS L4 files: it reads them with netCDF4, parses units with
pint and walks masked arrays. Running its identification on one of our maps
and on the real DUACS maps checks that our maps are read as a DUACS user's
scripts read DUACS (before issue 13 it crashed on ours: no masked cell, and
velocity units ``m s-1`` that pint cannot parse), and puts the eddy counts
side by side.

py-eddy-tracker pins an old numpy (< 1.23) and numba (< 0.56), so it lives in
its own environment, outside the repository, with Python 3.10::

    python3.10 -m venv /tmp/venv-eddy
    /tmp/venv-eddy/bin/pip install pyEddyTracker "zarr<3" "matplotlib<3.6"

(matplotlib 3.6+ changed the contour internals it uses: it then finds few
contours and almost no eddy, silently.)

This script runs twice over: with the project's Python it lists the maps and
calls itself once per map day under ``--eddy-python`` (``--identify``), which
imports only py-eddy-tracker; each call prints one JSON line. Each DUACS file
is also rewritten by our writer (``oceaninterp.products.duacs_l4.write``) and
identified again: the same counts mean py-eddy-tracker reads our format as it
reads DUACS's. A map with no masked cell (a box of open ocean) makes
py-eddy-tracker 3.6 crash (it indexes numpy's scalar ``nomask``; DUACS files
always hold land): such a map is identified again with that one method
patched (``OpenOceanGrid``), and the table says so.

Run (maps made by ``oceaninterp reconstruct``; DUACS files from
``$OCEANINTERP_REAL_DATA/l4_duacs``)::

    .venv/bin/python benchmarks/eddies.py maps.nc --eddy-python /tmp/venv-eddy/bin/python \\
        [--duacs ../shared/data/real/l4_duacs] [-o benchmarks/results/eddies.md]

Identification as in py-eddy-tracker's own example: geostrophic velocities
from the sea level (``add_uv``), a 500 km Bessel high-pass filter, contours
every 2 mm, eddies of 5 to 2000 pixels with a shape error below 55 %. Counts
are per map day; with several days, the day in the middle of the file.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

#: Identification settings (py-eddy-tracker's example values).
FILTER_KM = 500.0
STEP_M = 0.002
PIXEL_LIMIT = (5, 2000)
SHAPE_ERROR = 55.0


def identify(path: str, variable: str, index: int, patched: bool = False) -> dict:
    """Anticyclones and cyclones of one day of a map (runs in the eddy environment).

    Parameters
    ----------
    path
        A DUACS-L4-like NetCDF file (``latitude``/``longitude``, degrees).
    variable
        The sea level used (``adt`` or ``sla``, metres).
    index
        Time index of the day, or -1 for a file without a time dimension.
    patched
        Work around py-eddy-tracker's crash on a grid with no masked cell.
    """
    import datetime

    import netCDF4
    import numpy as np
    from py_eddy_tracker.dataset.grid import RegularGridDataset

    indexs = {} if index < 0 else {"time": index}
    with netCDF4.Dataset(path) as nc:
        x, y = ("longitude", "latitude") if "longitude" in nc.variables else ("lon", "lat")

    class OpenOceanGrid(RegularGridDataset):
        """py-eddy-tracker 3.6 indexes the speed's mask, numpy's scalar ``nomask`` when no
        cell is masked (a box of open ocean: DUACS files always hold land): a mask array."""

        __slots__ = ()

        def init_speed_coef(self, uname: str = "u", vname: str = "v") -> None:
            super().init_speed_coef(uname, vname)
            speed = self._speed_ev
            self._speed_ev = np.ma.array(speed, mask=np.ma.getmaskarray(speed))

    cls = OpenOceanGrid if patched else RegularGridDataset
    grid = cls(path, x, y, indexs=indexs)
    grid.add_uv(variable)
    grid.bessel_high_filter(variable, FILTER_KM)
    anticyclones, cyclones = grid.eddy_identification(
        variable,
        "u",
        "v",
        datetime.datetime(2000, 1, 1),  # the date only labels the eddies
        STEP_M,
        pixel_limit=PIXEL_LIMIT,
        shape_error=SHAPE_ERROR,
    )
    return {"anticyclones": len(anticyclones), "cyclones": len(cyclones)}


def _plan(path: Path) -> dict:
    """What to identify in ``path``: variable, day index, grid size and area."""
    import numpy as np
    import xarray as xr

    with xr.open_dataset(path) as ds:
        variable = "adt" if "adt" in ds else "sla"
        n_days = ds.sizes.get("time", 0)
        index = n_days // 2 if "time" in ds[variable].dims else -1
        day = str(ds["time"].values[index])[:10] if index >= 0 and "time" in ds else "?"
        lat = ds["latitude"].values if "latitude" in ds else ds["lat"].values
        lon = ds["longitude"].values if "longitude" in ds else ds["lon"].values
        values = ds[variable].values
        sea = np.isfinite(values[index] if index >= 0 else values).squeeze()
        cell_km2 = (
            (111.195 * float(np.median(np.diff(lat))))
            * (111.195 * float(np.median(np.diff(lon))))
            * np.cos(np.deg2rad(lat))[:, None]
        )
        area = float((cell_km2 * sea).sum())
    return {
        "file": path.name,
        "variable": variable,
        "index": index,
        "day": day,
        "cells": f"{lat.size} x {lon.size}",
        "resolution_deg": round(float(np.median(np.diff(lat))), 4),
        "masked_cells": int((~sea).sum()),
        "sea_km2": area,
    }


def _identify_in_subprocess(eddy_python: str, path: Path, plan: dict, patched: bool) -> dict:
    """Counts, or ``{"error": last line}``, from one ``--identify`` call."""
    done = subprocess.run(
        [eddy_python, __file__, "--identify", str(path), plan["variable"], str(plan["index"])]
        + (["--patched"] if patched else []),
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    if done.returncode == 0:
        return json.loads(done.stdout.strip().splitlines()[-1])
    lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip().strip("^")]
    return {"error": (lines or ["?"])[-1][:160]}


def _rewritten(path: Path, folder: Path) -> Path:
    """A DUACS file read and written again by our DUACS L4 writer."""
    from oceaninterp.products import duacs_l4

    maps = duacs_l4.open(path)
    return duacs_l4.write(maps, folder / f"ours_{path.name}", history="benchmarks/eddies.py")


def _truth_day(truth: Path, day: str, folder: Path) -> Path:
    """One day of an OSSE truth (``ssh``, metres, an ADT) as a DUACS-like ``adt`` map."""
    import numpy as np
    import xarray as xr

    from oceaninterp.products import duacs_l4

    with xr.open_dataset(truth) as ds:
        ssh = ds["ssh"].sel(time=[np.datetime64(day, "ns")]).load()
    maps = xr.Dataset({"adt": ssh.astype(np.float32)}).transpose("time", "latitude", "longitude")
    return duacs_l4.write(maps, folder / f"truth_{day}.nc", history="benchmarks/eddies.py")


def run(
    maps: list[Path], duacs: Path | None, eddy_python: str, truth: Path | None = None
) -> list[dict]:
    """Identify eddies in every map (one subprocess per map); one record each.

    With ``truth`` (an OSSE truth file), its day matching the first map's is
    identified too, first.
    """
    import tempfile

    files = [("oceaninterp", p) for p in maps]
    work = Path(tempfile.mkdtemp(prefix="eddies-"))
    if truth is not None and maps:
        files.insert(0, ("OSSE truth", _truth_day(truth, _plan(maps[0])["day"], work)))
    for path in sorted(duacs.glob("*.nc")) if duacs else []:
        files += [("DUACS", path), ("DUACS via our writer", _rewritten(path, work))]
    records = []
    for source, path in files:
        record = {"source": source, **_plan(path)}
        counts = _identify_in_subprocess(eddy_python, path, record, patched=False)
        if "error" in counts and record["masked_cells"] == 0:
            record["note"] = f"unpatched: {counts['error']}"
            counts = _identify_in_subprocess(eddy_python, path, record, patched=True)
            record["source"] += " (patched: no masked cell)"
        record |= counts
        if "error" not in record:
            per = 1e5 / record["sea_km2"] if record["sea_km2"] else float("nan")
            record["eddies_per_1e5_km2"] = (record["anticyclones"] + record["cyclones"]) * per
        records.append(record)
    return records


def table(records: list[dict]) -> str:
    """The records as a Markdown table."""
    head = (
        "| source | file | day | variable | grid (deg) | masked cells | anticyclones "
        "| cyclones | eddies per 10^5 km2 |"
    )
    lines = [head, "|" + "---|" * 9]
    for r in records:
        if "error" in r:
            counts = f"crash: {r['error']} | | "
        else:
            counts = f"{r['anticyclones']} | {r['cyclones']} | {r['eddies_per_1e5_km2']:.1f}"
        lines.append(
            f"| {r['source']} | {r['file']} | {r['day']} | {r['variable']} "
            f"| {r['cells']} ({r['resolution_deg']}) | {r['masked_cells']} | {counts} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("maps", nargs="*", type=Path, help="our maps (NetCDF)")
    parser.add_argument("--eddy-python", default="/tmp/venv-eddy/bin/python")
    parser.add_argument(
        "--duacs",
        type=Path,
        default=(
            Path(os.environ["OCEANINTERP_REAL_DATA"]) / "l4_duacs"
            if os.environ.get("OCEANINTERP_REAL_DATA")
            else None
        ),
        help="folder of real DUACS L4 files (default: $OCEANINTERP_REAL_DATA/l4_duacs)",
    )
    parser.add_argument(
        "--truth", type=Path, help="OSSE truth (ssh): its day of the first map, identified too"
    )
    parser.add_argument("-o", "--output", type=Path, help="also write the table (Markdown)")
    parser.add_argument("--identify", nargs=3, metavar=("FILE", "VARIABLE", "INDEX"))
    parser.add_argument("--patched", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.identify:
        path, variable, index = args.identify
        print(json.dumps(identify(path, variable, int(index), patched=args.patched)))
        return
    if not Path(args.eddy_python).exists():
        sys.exit(f"no py-eddy-tracker environment at {args.eddy_python} (see the docstring)")
    text = table(run(args.maps, args.duacs, args.eddy_python, args.truth))
    print(text)
    if args.output:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
