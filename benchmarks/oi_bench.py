"""Our blockwise OI against the data challenge's baseline OI, on the same cube.

The baseline is a straightforward reimplementation of the 2020a challenge's
``mod_oi.oi_core``: for each output day, gather the observations within
+/- 2 Lt, fill ``BHt`` and ``HBHt`` one observation (column) at a time,
invert ``HBHt + R`` explicitly and multiply. Both map the same synthetic
observations: 4 nadir-like missions (straight 1-Hz ground tracks, about 6 km
apart along track, 0.6-0.9 passes a day each in the box) binned into a
0.2 deg cube of the Gulf Stream box (lon -65..-55, lat 33..43), values from a
smooth random truth plus 2 cm noise. The baseline uses the same noise
variance per cell (``noise**2 / count``) and removes the same scalar mean, so
the maps are comparable.

Prints seconds per output day for both, their ratio, the largest map
difference, our extrapolated time for a year (measured on a full year of the
same observations with ``--year``, and on the GPU when there is one), and with
``--swot`` the same with a SWOT-like swath every day (exact, and with
super-observations).

Run: ``.venv/bin/python benchmarks/oi_bench.py [--days 5] [--year] [--swot]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import xarray as xr

from oceaninterp.config import OIConfig
from oceaninterp.oi import oi_map

BOX = (-65.0, -55.0, 33.0, 43.0)
RES = 0.2
#: (passes a day in the box, track slope dlon/dlat) per nadir-like mission.
MISSIONS = ((0.7, 0.55), (0.7, -0.55), (0.6, 0.35), (0.9, -0.35))


def truth_field(t: np.ndarray, lat: np.ndarray, lon: np.ndarray, rng: np.random.Generator):
    """A smooth random SSH (metres): 40 propagating waves of 3-8 deg wavelength."""
    k = rng.uniform(2 * np.pi / 8.0, 2 * np.pi / 3.0, 40) * rng.choice([-1, 1], 40)
    ell = rng.uniform(2 * np.pi / 8.0, 2 * np.pi / 3.0, 40) * rng.choice([-1, 1], 40)
    omega = rng.uniform(2 * np.pi / 80.0, 2 * np.pi / 20.0, 40)
    phase = rng.uniform(0, 2 * np.pi, 40)
    amp = 0.1 / np.sqrt(40 / 2)

    def field(tt, yy, xx):
        arg = k * xx[..., None] + ell * yy[..., None] - omega * tt[..., None] + phase
        return amp * np.cos(arg).sum(axis=-1)

    return field


def synthetic_cube(
    days: int, rng: np.random.Generator, swot: bool = False, res: float = RES
) -> xr.Dataset:
    """A cube (default 0.2 deg) of 4 nadir-like missions (plus one SWOT-like swath a day)."""
    lon = BOX[0] + res * (np.arange(round((BOX[1] - BOX[0]) / res)) + 0.5)
    lat = BOX[2] + res * (np.arange(round((BOX[3] - BOX[2]) / res)) + 0.5)
    field = truth_field(np.zeros(1), lat, lon, rng)
    pts_t, pts_y, pts_x = [], [], []
    step = 6.0 / 111.0  # 6 km along track, in degrees of latitude
    track_lat = np.arange(BOX[2], BOX[3], step)
    for day in range(days):
        for rate, slope in MISSIONS:
            for _ in range(rng.poisson(rate)):
                x0 = rng.uniform(BOX[0] - 3, BOX[1] + 3)
                x = x0 + slope * (track_lat - BOX[2])
                keep = (x >= BOX[0]) & (x < BOX[1])
                pts_t.append(np.full(keep.sum(), day + rng.uniform(0, 1)))
                pts_y.append(track_lat[keep])
                pts_x.append(x[keep])
        if swot:
            # A 120 km wide swath (two 50 km sides, 2 km pixels) across the box.
            x0 = rng.uniform(BOX[0] + 2, BOX[1] - 2)
            for across in np.r_[np.arange(-60, -10, 2), np.arange(10, 60, 2)] / 111.0:
                x = x0 + 0.3 * (track_lat - BOX[2]) + across
                keep = (x >= BOX[0]) & (x < BOX[1])
                pts_t.append(np.full(keep.sum(), day + 0.5))
                pts_y.append(track_lat[keep])
                pts_x.append(x[keep])
    t, y, x = (np.concatenate(a) for a in (pts_t, pts_y, pts_x))
    values = field(t, y, x) + rng.normal(0, 0.02, t.size)
    it = np.floor(t).astype(int)
    iy = np.minimum(((y - BOX[2]) // res).astype(int), lat.size - 1)
    ix = np.minimum(((x - BOX[0]) // res).astype(int), lon.size - 1)
    shape = (days, lat.size, lon.size)
    flat = np.ravel_multi_index((it, iy, ix), shape)
    count = np.bincount(flat, minlength=np.prod(shape)).reshape(shape)
    total = np.bincount(flat, values, minlength=np.prod(shape)).reshape(shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        ssh = np.where(count > 0, total / count, np.nan)
    time_ = np.datetime64("2012-10-01", "ns") + np.arange(days) * np.timedelta64(1, "D")
    dims = ("time", "latitude", "longitude")
    return xr.Dataset(
        {"ssh": (dims, ssh.astype(np.float32)), "count": (dims, count.astype(np.int32))},
        coords={"time": time_, "latitude": lat, "longitude": lon},
        attrs={"ssh_kind": "sla", "resolution": res},
    )


def baseline_oi(
    cube: xr.Dataset, cfg: OIConfig, days: list[int], window: float | None = None
) -> np.ndarray:
    """The data challenge's OI (mod_oi.oi_core) on the cube's cells, for ``days``.

    ``window`` (days, default 2 Lt as in the challenge) selects the observations.
    """
    window = 2.0 * cfg.lt if window is None else window
    ssh = cube["ssh"].values
    it, iy, ix = np.nonzero(np.isfinite(ssh))
    lat, lon = cube["latitude"].values, cube["longitude"].values
    o_t, o_y, o_x = it.astype(float), lat[iy], lon[ix]
    values = ssh[it, iy, ix].astype(float)
    noise2 = cfg.noise**2 / cube["count"].values[it, iy, ix]
    glon, glat = (a.ravel() for a in np.meshgrid(lon, lat))
    out = np.empty((len(days), lat.size, lon.size))
    m = float(np.sum(cube["count"].values[it, iy, ix] * values) / cube["count"].values.sum())
    for k, day in enumerate(days):
        ind = np.where(np.abs(o_t - day) < window)[0]
        nobs = ind.size
        bht = np.empty((glon.size, nobs))
        hbht = np.empty((nobs, nobs))
        for iobs in range(nobs):
            j = ind[iobs]
            bht[:, iobs] = np.exp(
                -(((day - o_t[j]) / cfg.lt) ** 2)
                - ((glon - o_x[j]) / cfg.lx) ** 2
                - ((glat - o_y[j]) / cfg.ly) ** 2
            )
            hbht[:, iobs] = np.exp(
                -(((o_t[ind] - o_t[j]) / cfg.lt) ** 2)
                - ((o_x[ind] - o_x[j]) / cfg.lx) ** 2
                - ((o_y[ind] - o_y[j]) / cfg.ly) ** 2
            )
        coo = hbht + np.diag(noise2[ind])
        mi = np.linalg.inv(coo)
        out[k] = m + (bht @ mi @ (values[ind] - m)).reshape(lat.size, lon.size)
    return out


def _timed(func, *args, **kwargs):
    start = time.perf_counter()
    result = func(*args, **kwargs)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=5, help="output days timed for both methods")
    parser.add_argument("--year", action="store_true", help="also time our OI on a full year")
    parser.add_argument("--swot", action="store_true", help="also the SWOT-like case")
    parser.add_argument("--fine", action="store_true", help="also ours on a 1/20 deg cube")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; the CPU may be shared")
    rng = np.random.default_rng(args.seed)
    cfg = OIConfig()
    fast = OIConfig(error_step=1e9)  # the lattice holds only the grid's corners: maps only
    span = 60
    cube = synthetic_cube(span, rng)
    days = list(range(30, 30 + args.days))
    per_day = int(np.isfinite(cube["ssh"].values).sum() / span)
    print(f"nadirs: cube {dict(cube.sizes)}, {per_day} observed cells a day (4 missions)")
    base, t_base = _timed(baseline_oi, cube, cfg, days)
    t_base /= len(days)
    # The same OI without the +/- 2 Lt truncation (every day of the cube).
    untruncated = baseline_oi(cube, cfg, days, window=span)
    print(
        f"  baseline {t_base:.3f} s/day; its +/- 2 Lt truncation moves the map by up to "
        f"{np.abs(base - untruncated).max() * 1000:.1f} mm (vs every day of the cube)"
    )
    # Ours maps every day of the cube: seconds per output day = total / 60.
    runs = (
        ("maps, block_days=1: the baseline's windows", OIConfig(error_step=1e9, block_days=1)),
        ("maps", fast),
        ("maps+err", cfg),
    )
    for label, c in runs:
        ours, t_ours = _timed(oi_map, cube, c)
        t_ours /= span
        mid = ours["ssh"].values[days]
        print(
            f"  ours ({label}) {t_ours:.4f} s/day | ratio {t_base / t_ours:.0f}x | "
            f"max |diff| vs baseline {np.abs(mid - base).max() * 1000:.2g} mm, "
            f"vs untruncated {np.abs(mid - untruncated).max() * 1000:.2g} mm | "
            f"a year: baseline {365 * t_base / 60:.1f} min, ours {365 * t_ours:.1f} s"
        )
    if args.year:
        year = synthetic_cube(365, np.random.default_rng(args.seed + 1))
        for label, c in (("maps", fast), ("maps+err", cfg)):
            _, seconds = _timed(oi_map, year, c)
            print(f"  ours, a measured year (365 days, {label}): {seconds:.1f} s")
            if torch.cuda.is_available():
                oi_map(year.isel(time=slice(0, 30)), c, device="cuda")  # warm-up
                _, seconds = _timed(oi_map, year, c, device="cuda")
                print(
                    f"  ours on {torch.cuda.get_device_name()}, a year ({label}): {seconds:.1f} s"
                )
    if args.fine:
        fine = synthetic_cube(60, np.random.default_rng(args.seed + 3), res=0.05)
        per_day = int(np.isfinite(fine["ssh"].values).sum() / 60)
        print(f"1/20 deg: cube {dict(fine.sizes)}, {per_day} observed cells a day")
        for label, c in (("maps", fast), ("maps+err", cfg)):
            _, seconds = _timed(oi_map, fine, c)
            print(
                f"  ours ({label}, default super-obs of 0.2 deg) {seconds / 60:.3f} s/day, "
                f"a year {365 * seconds / 60:.0f} s"
            )
    if args.swot:
        swot = synthetic_cube(29, np.random.default_rng(args.seed + 2), swot=True)
        n_swot = int(np.isfinite(swot["ssh"].values).sum() / 29)
        print(f"4 nadirs + a SWOT-like swath a day: {n_swot} observed cells a day")
        base, t_base = _timed(baseline_oi, swot, cfg, [14])
        print(f"  baseline {t_base:.1f} s for day 14")
        for label, c in (
            ("exact", fast),
            ("superobs 0.4 L", OIConfig(error_step=1e9, superobs=0.4)),
        ):
            ours, t_ours = _timed(oi_map, swot, c)
            t_ours /= 29
            diff = float(np.abs(ours["ssh"].values[14] - base[0]).max())
            print(
                f"  ours ({label}, maps) {t_ours:.3f} s/day | ratio {t_base / t_ours:.0f}x | "
                f"max |map diff| {diff * 1000:.2f} mm | a year {365 * t_ours:.0f} s"
            )


if __name__ == "__main__":
    main()
