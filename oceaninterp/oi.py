"""DUACS-like optimal interpolation (OI) of a cube, solved blockwise.

The baseline of the SSH-mapping data challenges (2020a/2021a): the analysis is
``x = B H^T (H B H^T + R)^-1 (y - m) + m`` with the Gaussian space-time prior
covariance ``B = signal_std**2 * exp(-(dt/lt)**2 - (dlon/lx)**2 - (dlat/ly)**2)``
and a diagonal noise ``R``. By default the prior standard deviation is not
uniform: ``B_ij = s_i s_j C_ij`` with ``s`` a smoothed map estimated from the
observations themselves (:func:`signal_std_map`, the variance of the
observations in boxes of a few correlation lengths less their noise), as
DUACS uses a map of the signal variance; ``signal_std = 1`` m gives back the
data challenge's unit covariance. On a global grid longitudes are periodic.

Each observed cube cell is one observation at (cell centre, day) whose noise
variance is ``noise**2 / count`` (the cube already averages ``count`` raw
observations per cell). ``m`` is one scalar: the count-weighted mean of all
the observations of the cube, removed before the analysis and added back to the map.

The solve is blockwise (:mod:`oceaninterp.oi_solver`): each block of the
output grid uses only the observations near it, and equals the exact OI with
those observations. Land and no-data masking is the caller's business (:mod:`oceaninterp.cube`):
every cell gets a value.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from oceaninterp.config import OIConfig
from oceaninterp.cube import is_global
from oceaninterp.errors import ConfigError, InputError
from oceaninterp.oi_solver import (
    BlockwiseAnalysis,
    Observations,
    ProgressCallback,
    release_freed_memory,
    spacing,
)

log = logging.getLogger(__name__)


def _check_cube(cube: xr.Dataset) -> None:
    source = cube.encoding.get("source")
    if "ssh" not in cube:
        raise InputError(source, "the cube has no variable 'ssh'")
    missing = [d for d in ("time", "latitude", "longitude") if d not in cube["ssh"].dims]
    if missing:
        raise InputError(source, f"'ssh' lacks the dimension(s) {missing}")


def _days(time: xr.DataArray) -> np.ndarray:
    values = np.asarray(time.values)
    if np.issubdtype(values.dtype, np.datetime64):
        return (values - values[0]) / np.timedelta64(1, "D")
    return values.astype(np.float64) - float(values[0])


def cube_observations(cube: xr.Dataset, cfg: OIConfig) -> Observations:
    """The observations of a cube, merged into super-observations if asked.

    Parameters
    ----------
    cube
        A cube (contract 3): ``ssh`` (metres, NaN where unobserved) on
        (time, latitude, longitude), optionally ``count``.
    cfg
        Uses ``superobs``, ``lx`` and ``ly``: when boxes of
        ``superobs * min(lx, ly)`` degrees hold at least 2 x 2 cells, the cells
        of one day in each box are merged (count-weighted mean of value and
        position, counts summed).
    """
    _check_cube(cube)
    ssh = cube["ssh"].transpose("time", "latitude", "longitude").values
    it, iy, ix = np.nonzero(np.isfinite(ssh))
    if "count" in cube:
        count = cube["count"].transpose("time", "latitude", "longitude").values[it, iy, ix]
        count = np.maximum(count.astype(np.float64), 1.0)
    else:
        count = np.ones(it.size)
    days = _days(cube["time"])
    lat = cube["latitude"].values.astype(np.float64)
    lon = cube["longitude"].values.astype(np.float64)
    obs = Observations(days[it], lat[iy], lon[ix], ssh[it, iy, ix].astype(np.float64), count)
    box = cfg.superobs * min(cfg.lx, cfg.ly)
    ky = int(box / spacing(lat) + 1e-6)
    kx = int(box / spacing(lon) + 1e-6)
    if box > 0 and ky >= 2 and kx >= 2:
        key = (it.astype(np.int64) * (lat.size // ky + 1) + iy // ky) * (
            lon.size // kx + 1
        ) + ix // kx
        _, group = np.unique(key, return_inverse=True)

        def weighted(v: np.ndarray) -> np.ndarray:
            return np.bincount(group, obs.count * v) / total

        total = np.bincount(group, obs.count)
        obs = Observations(
            weighted(obs.t), weighted(obs.lat), weighted(obs.lon), weighted(obs.value), total
        )
    order = np.argsort(obs.t, kind="stable")
    return obs.subset(order)


#: Smallest prior standard deviation of the estimated map, metres.
MIN_SIGNAL_STD = 0.01
#: Fewest cube cells (observations) a box needs for its own variance estimate.
MIN_BOX_OBS = 20


def signal_std_map(
    obs: Observations, lat: np.ndarray, lon: np.ndarray, cfg: OIConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A smoothed map of the SSH anomaly's standard deviation, from the observations.

    The observations are binned in boxes of ``max(2, 3 * lx)`` x ``max(2, 3 *
    ly)`` degrees; a box's signal variance is the count-weighted variance of
    its values about the overall mean less the mean noise variance
    (``noise**2 / count``), over all days; boxes with fewer than
    :data:`MIN_BOX_OBS` observations borrow from their neighbours through a
    Gaussian normalised convolution of one box (which also smooths the map;
    periodic in longitude on a global grid). The standard deviation is kept
    at :data:`MIN_SIGNAL_STD` or more.

    Returns
    -------
    box_lat, box_lon, std
        Box centres (degrees_north, degrees_east) and the ``(box_lat,
        box_lon)`` standard deviation, metres.
    """
    from scipy.ndimage import gaussian_filter

    step_y, step_x = max(2.0, 3.0 * cfg.ly), max(2.0, 3.0 * cfg.lx)
    periodic = is_global(lon)
    y0, x0 = float(lat.min()) - 0.5 * spacing(lat), float(lon.min()) - 0.5 * spacing(lon)
    ny = max(1, math.ceil((float(lat.max()) + 0.5 * spacing(lat) - y0) / step_y))
    nx = max(1, math.ceil((float(lon.max()) + 0.5 * spacing(lon) - x0) / step_x))
    iy = np.clip(((obs.lat - y0) / step_y).astype(np.int64), 0, ny - 1)
    ix = np.clip((((obs.lon - x0) % 360.0 if periodic else obs.lon - x0) / step_x), 0, nx - 1)
    flat = iy * nx + ix.astype(np.int64)
    mean = float(np.sum(obs.count * obs.value) / np.sum(obs.count))
    w = obs.count
    n = np.bincount(flat, minlength=ny * nx).astype(np.float64)
    sw = np.bincount(flat, w, ny * nx)
    var = np.bincount(flat, w * (obs.value - mean) ** 2, ny * nx) / np.maximum(sw, 1e-12)
    noise = np.bincount(flat, cfg.noise**2 / obs.count, ny * nx) / np.maximum(n, 1.0)
    signal = np.maximum(var - noise, MIN_SIGNAL_STD**2).reshape(ny, nx)
    trust = (n >= MIN_BOX_OBS).reshape(ny, nx).astype(np.float64)
    modes = ("nearest", "wrap" if periodic else "nearest")
    num = gaussian_filter(signal * trust, sigma=1.0, mode=modes)
    den = gaussian_filter(trust, sigma=1.0, mode=modes)
    overall = float(np.median(signal[trust > 0])) if trust.any() else float(np.mean(signal))
    smooth = np.where(den > 1e-3, num / np.maximum(den, 1e-12), overall)
    box_lat = y0 + (np.arange(ny) + 0.5) * step_y
    box_lon = x0 + (np.arange(nx) + 0.5) * step_x
    return box_lat, box_lon, np.sqrt(np.maximum(smooth, MIN_SIGNAL_STD**2))


def _std_at(
    field: tuple[np.ndarray, np.ndarray, np.ndarray], lat: np.ndarray, lon: np.ndarray
) -> np.ndarray:
    """The standard deviation map (:func:`signal_std_map`) at points, bilinear, metres."""
    box_lat, box_lon, std = field
    da = xr.DataArray(std, dims=("y", "x"), coords={"y": box_lat, "x": box_lon})
    y = xr.DataArray(np.clip(lat, box_lat[0], box_lat[-1]), dims="p")
    x = xr.DataArray(np.clip(lon, box_lon[0], box_lon[-1]), dims="p")
    return np.asarray(da.interp(y=y, x=x).values, dtype=np.float64)


def prior_std(
    obs: Observations, lat: np.ndarray, lon: np.ndarray, cfg: OIConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The prior standard deviation at the observations and on the grid, metres.

    ``cfg.signal_std`` everywhere when it is set, else the estimated map
    (:func:`signal_std_map`) interpolated bilinearly.

    Returns
    -------
    obs_std, grid_std
        ``(n_obs,)`` and ``(latitude, longitude)``, float64 metres.
    """
    if cfg.signal_std is not None:
        return np.full(obs.size, float(cfg.signal_std)), np.full(
            (lat.size, lon.size), float(cfg.signal_std)
        )
    field = signal_std_map(obs, lat, lon, cfg)
    grid_lat, grid_lon = np.meshgrid(lat, lon, indexing="ij")
    grid = _std_at(field, grid_lat.ravel(), grid_lon.ravel()).reshape(lat.size, lon.size)
    return _std_at(field, obs.lat, obs.lon), grid


def _analysis(
    obs: Observations,
    days: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    cfg: OIConfig,
    device: str,
    land: np.ndarray | None = None,
) -> BlockwiseAnalysis:
    """The blockwise OI of ``obs`` on the grid, with its prior standard deviation."""
    obs_std, grid_std = prior_std(obs, lat, lon, cfg)
    return BlockwiseAnalysis(obs, days, lat, lon, cfg, obs_std, grid_std, device, land)


def oi_map(
    cube: xr.Dataset,
    cfg: OIConfig | None = None,
    *,
    device: str = "cpu",
    progress: ProgressCallback | None = None,
    land: np.ndarray | None = None,
) -> xr.Dataset:
    """Map SSH from a cube by optimal interpolation.

    Parameters
    ----------
    cube
        A cube (contract 3): ``ssh`` metres on (time, latitude, longitude),
        NaN where unobserved; ``count`` (observations per cell) if present sets
        each cell's noise variance to ``cfg.noise**2 / count``.
    cfg
        The OI parameters (:class:`~oceaninterp.config.OIConfig`); defaults
        when ``None``.
    device
        Torch device of the linear algebra (``"cpu"``, ``"cuda"``).
    progress
        Called as ``progress(done, total)`` after each batch of blocks.
    land
        Boolean ``(latitude, longitude)``, True on land: blocks wholly on land
        are not solved (their cells keep the mean and the prior std).

    Returns
    -------
    xarray.Dataset
        ``ssh`` (the analysis, metres) and ``err`` (formal error standard
        deviation, metres) on the cube's (time, latitude, longitude), float32,
        everywhere (mask land yourself). The removed scalar mean is in the
        ``oi_mean`` attribute.

    Notes
    -----
    The map of a day uses the observations within ``cfg.time_window * cfg.lt``
    days: to stream a long period, call this on windows padded by that many
    days on each side and keep their middle.
    """
    cfg = cfg or OIConfig()
    release_freed_memory()  # what earlier stages of this process freed: not on top of ours
    obs = cube_observations(cube, cfg)
    if obs.size == 0:
        raise InputError(
            cube.encoding.get("source"), "the cube holds no observation to interpolate"
        )
    analysis = _analysis(
        obs,
        _days(cube["time"]),
        cube["latitude"].values,
        cube["longitude"].values,
        cfg,
        device,
        land,
    )
    ssh, err = analysis.run(with_error=True, progress=progress)
    dims = ("time", "latitude", "longitude")
    coords = {d: cube[d] for d in dims}
    kind = cube["ssh"].attrs.get("ssh_kind", cube.attrs.get("ssh_kind", "sla"))
    return xr.Dataset(
        {
            "ssh": (
                dims,
                ssh.astype(np.float32),
                {"units": "m", "long_name": "optimal interpolation of SSH", "ssh_kind": kind},
            ),
            "err": (
                dims,
                np.asarray(err, dtype=np.float32),
                {"units": "m", "long_name": "formal error standard deviation of the OI"},
            ),
        },
        coords=coords,
        attrs={
            "method": "optimal interpolation (Gaussian space-time covariance)",
            "ssh_kind": kind,
            "oi_mean": analysis.mean,
            **{f"oi_{k}": ("none" if v is None else v) for k, v in dataclasses.asdict(cfg).items()},
            "oi_signal_std": (
                f"estimated from the observations (median {analysis.typical_std:.3f} m)"
                if cfg.signal_std is None
                else cfg.signal_std
            ),
        },
    )


#: Candidates of :func:`tune_oi` for ``reconstruct --method oi --tune``: around the
#: data challenge's defaults (1 deg, 7 days, 5 cm), wide enough to reach both a
#: smooth and a sharp optimum; 24 OIs of the tuning slice.
DEFAULT_CANDIDATES: dict[str, tuple[float, ...]] = {
    "lx": (0.7, 1.0, 1.5, 2.0),
    "lt": (5.0, 8.0, 12.0),
    "noise": (0.03, 0.1),
}


def tune_oi(
    cube: xr.Dataset,
    candidates: Mapping[str, Sequence[float]],
    *,
    base: OIConfig | None = None,
    every: int = 4,
    cluster_deg: float | None = None,
    seed: int = 0,
    device: str = "cpu",
    progress: ProgressCallback | None = None,
    truth: xr.DataArray | None = None,
) -> OIConfig:
    """Pick OI parameters by cross-validation on withheld observation clusters.

    On every ``every``-th day, the observations in about half of the spatial
    clusters (squares of ``cluster_deg`` degrees, by default twice the larger
    base correlation length) are withheld; every candidate maps the rest and is
    scored by its RMSE (metres) on the withheld cells. The cost is one OI of
    the cube (without error) per candidate: tune on a representative slice.
    In an OSSE, give ``truth`` instead: every candidate maps all the
    observations and is scored by its RMSE against the truth, the way a
    learned method is validated.

    Parameters
    ----------
    cube
        A cube (contract 3).
    candidates
        Values to try per :class:`~oceaninterp.config.OIConfig` field, e.g.
        ``{"lx": [0.7, 1, 1.5], "lt": [5, 7, 10], "noise": [0.02, 0.05]}``; all
        combinations are tried. When ``lx`` is given and ``ly`` is not, ``ly``
        follows ``lx`` (isotropic).
    base
        Values of the other fields (defaults when ``None``).
    every, cluster_deg, seed
        The withholding pattern (seeded, reproducible).
    device
        Torch device of the linear algebra.
    progress
        Called as ``progress(done, total)`` after each candidate.
    truth
        The true field of what the cube observes (SLA or ADT as its ``ssh``,
        metres) on the cube's (time, latitude, longitude), NaN where unknown;
        ``every``, ``cluster_deg`` and ``seed`` are then unused.

    Returns
    -------
    OIConfig
        ``base`` with the candidate values of smallest validation RMSE.
    """
    base = base or OIConfig()
    fields = {f.name for f in dataclasses.fields(OIConfig)}
    unknown = sorted(set(candidates) - fields)
    if unknown:
        raise ConfigError(f"tune_oi: unknown OI parameter(s) {unknown}")
    if not candidates or not all(len(v) for v in candidates.values()):
        raise ConfigError("tune_oi: give at least one value for each tuned parameter")
    _check_cube(cube)
    ssh = cube["ssh"].transpose("time", "latitude", "longitude")
    lat, lon = cube["latitude"].values, cube["longitude"].values
    if truth is not None:
        reference = truth.transpose("time", "latitude", "longitude").values
        if reference.shape != ssh.shape:
            raise ConfigError(
                f"tune_oi: truth of shape {reference.shape} is not on the cube's grid {ssh.shape}"
            )
        held = np.isfinite(reference)
        train, expected = cube, reference[held]
    else:
        train, held = _withheld(cube, ssh, base, every, cluster_deg, seed)
        expected = ssh.values[held]
    names = list(candidates)
    combos = list(itertools.product(*(candidates[k] for k in names)))
    best: tuple[float, OIConfig] | None = None
    for done, values in enumerate(combos, start=1):
        changes: dict[str, Any] = dict(zip(names, values, strict=True))
        if "lx" in changes and "ly" not in changes:
            changes["ly"] = changes["lx"]
        cfg = dataclasses.replace(base, **changes)
        obs = cube_observations(train, cfg)
        analysis = _analysis(obs, _days(cube["time"]), lat, lon, cfg, device)
        mapped, _ = analysis.run(with_error=False)
        rmse = float(np.sqrt(np.mean((mapped[held] - expected) ** 2)))
        log.info("tune_oi: %s -> validation RMSE %.4f m (%d cells)", changes, rmse, expected.size)
        if best is None or rmse < best[0]:
            best = (rmse, cfg)
        if progress is not None:
            progress(done, len(combos))
    assert best is not None  # candidates were checked non-empty above
    return best[1]


def _withheld(
    cube: xr.Dataset,
    ssh: xr.DataArray,
    base: OIConfig,
    every: int,
    cluster_deg: float | None,
    seed: int,
) -> tuple[xr.Dataset, np.ndarray]:
    """The cube without the withheld observation clusters, and where they are (bool, t/y/x)."""
    cluster = cluster_deg or 2.0 * max(base.lx, base.ly)
    rng = np.random.default_rng(seed)
    lat, lon = cube["latitude"].values, cube["longitude"].values
    cy = ((lat - lat.min()) // cluster).astype(int)
    cx = ((lon - lon.min()) // cluster).astype(int)
    drawn = rng.random((cy.max() + 1, cx.max() + 1)) < 0.5
    if not drawn.any():  # a small domain of few clusters: withhold one all the same
        drawn.flat[rng.integers(drawn.size)] = True
    held_days = (np.arange(ssh.shape[0]) % every) == every // 2
    held = held_days[:, None, None] & drawn[cy][:, cx][None, :, :] & np.isfinite(ssh.values)
    if not held.any():
        raise InputError(cube.encoding.get("source"), "no observation to withhold for tuning")
    return cube.assign(ssh=ssh.where(~held)), held
