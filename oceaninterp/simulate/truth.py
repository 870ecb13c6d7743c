"""The OSSE truth: the two-layer QG model mapped onto a longitude/latitude grid.

:func:`simulate_truth` spins the model up from a jet, discards the spin-up,
then writes one snapshot per model day as daily SSH (metres above the geoid,
ADT-like: it includes the mean jet) and SST (kelvin) on a regular grid over a
box such as the Gulf Stream box, as NetCDF or Zarr with CF-1.11/ACDD metadata
(the "truth" contract of the project). Each snapshot is taken to represent
its whole day: the ``time`` coordinate labels the day at 00:00 UTC, like the
gridded cubes, and the observation simulator treats it as the state at
12:00 UTC.

The box is placed on the model's doubly periodic plane with the box centre
on the eastward jet: ``x = L/2 + R cos(lat) (lon - lon_c)``,
``y = L/4 + R (lat - lat_c)`` (``R`` = 6371 km, angles in radians), and the
model fields are interpolated there with periodic cubic splines.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceaninterp.errors import ConfigError
from oceaninterp.simulate.qg import QGParameters, TwoLayerQG, physics_parameters
from oceaninterp.spectrum import SLOPE_BAND_KM, zonal_spacing_km, zonal_spectrum
from oceaninterp.threads import torch_threads

#: Gulf Stream box (lon_min, lon_max, lat_min, lat_max), degrees.
GULF_STREAM_BOX = (-65.0, -55.0, 33.0, 43.0)
#: Added to the model's dynamic height (zero domain mean) so that the box mean of
#: the default truth is near the NATL60 Gulf Stream box mean (0.34 m).
SSH_OFFSET = 0.34
EARTH_RADIUS_KM = 6371.0
TRUTH_NAME = "truth"
#: Default spin-up (model days) per QG physics version.
SPINUP_DAYS = {"v1": 120, "v2": 180}


def truth_grid(
    region: tuple[float, float, float, float], resolution: float
) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre latitudes and longitudes (degrees) of a box at ``resolution`` degrees."""
    lon_min, lon_max, lat_min, lat_max = region
    if not (lon_min < lon_max and lat_min < lat_max and resolution > 0):
        raise ConfigError(
            f"region/resolution: expected lon_min < lon_max, lat_min < lat_max and "
            f"a positive resolution, got {region}, {resolution}"
        )
    nlon = int(round((lon_max - lon_min) / resolution))
    nlat = int(round((lat_max - lat_min) / resolution))
    lon = lon_min + resolution * (np.arange(nlon) + 0.5)
    lat = lat_min + resolution * (np.arange(nlat) + 0.5)
    return lat, lon


def model_coordinates(
    lat: np.ndarray, lon: np.ndarray, params: QGParameters
) -> tuple[np.ndarray, np.ndarray]:
    """Fractional model grid indices (row along y, column along x) of a lon/lat grid.

    Raises
    ------
    ConfigError
        When the box does not fit in 60 % of the model domain (it would see
        the periodic copy of itself or the return jet).
    """
    lat_c, lon_c = 0.5 * (lat.min() + lat.max()), 0.5 * (lon.min() + lon.max())
    radius = EARTH_RADIUS_KM * 1e3
    lat2, lon2 = np.meshgrid(lat, lon, indexing="ij")
    x = params.length / 2 + radius * np.cos(np.radians(lat2)) * np.radians(lon2 - lon_c)
    y = params.length / 4 + radius * np.radians(lat2 - lat_c)
    span = max(np.ptp(x), np.ptp(y))
    if span > 0.6 * params.length:
        raise ConfigError(
            f"region: the box spans {span / 1e3:.0f} km, more than 60 % of the "
            f"{params.length / 1e3:.0f} km model domain; use a smaller box or a larger domain"
        )
    return y / params.dx - 0.5, x / params.dx - 0.5


def truth_statistics(
    ssh: np.ndarray, sst: np.ndarray | None, lat: np.ndarray, resolution: float
) -> dict[str, float]:
    """Summary statistics of a truth.

    Parameters
    ----------
    ssh
        SSH (time, latitude, longitude), metres.
    sst
        SST (time, latitude, longitude), kelvin, or ``None``.
    lat
        Latitudes, degrees (for the zonal grid spacing).
    resolution
        Longitude spacing, degrees.

    Returns
    -------
    dict
        ``ssh_mean_m``, ``ssh_std_m`` (all points), ``ssh_range_m`` (mean
        daily max - min), ``eddy_std_m`` (std of SSH minus its zonal mean, the
        non-zonal part), ``sla_std_m`` (std of SSH minus its time mean at each
        cell, the eddy variability an altimeter sees), ``dominant_wavelength_km``
        (peak of the variance-preserving zonal wavenumber spectrum of SSH minus
        its time mean), ``spectral_slope`` (of the zonal SSH spectrum over
        70-250 km, :mod:`oceaninterp.spectrum`; NaN when the box is too small),
        and ``sst_mean_k``/``sst_std_k`` when SST is given.
    """
    ssh = np.asarray(ssh, dtype=np.float64)
    anomaly = ssh - np.nanmean(ssh, axis=0)
    stats = {
        "ssh_mean_m": float(np.nanmean(ssh)),
        "ssh_std_m": float(np.nanstd(ssh)),
        "ssh_range_m": float(np.nanmean(np.nanmax(ssh, axis=(1, 2)) - np.nanmin(ssh, axis=(1, 2)))),
        "eddy_std_m": float(np.nanstd(ssh - np.nanmean(ssh, axis=2, keepdims=True))),
        "sla_std_m": float(np.nanstd(anomaly)),
    }
    dx_km = zonal_spacing_km(lat, resolution)
    spectrum = zonal_spectrum(np.nan_to_num(anomaly), dx_km)
    power = spectrum.wavenumber * spectrum.psd
    stats["dominant_wavelength_km"] = float(1.0 / spectrum.wavenumber[int(np.argmax(power))])
    try:
        stats["spectral_slope"] = zonal_spectrum(ssh, dx_km).slope(SLOPE_BAND_KM)
    except ValueError:  # too few columns or wavenumbers in 70-250 km, or land everywhere
        stats["spectral_slope"] = float("nan")
    if sst is not None:
        stats["sst_mean_k"] = float(np.nanmean(sst))
        stats["sst_std_k"] = float(np.nanstd(sst))
    return stats


def simulate_truth(
    output_dir: str | Path,
    *,
    days: int = 365,
    resolution: float = 0.05,
    seed: int = 0,
    start: str = "2022-01-01",
    region: tuple[float, float, float, float] = GULF_STREAM_BOX,
    grid_points: int = 256,
    domain_km: float = 2000.0,
    spinup_days: int | None = None,
    physics: str = "v2",
    device: str = "cpu",
    dtype: str = "float64",
    threads: int | None = 1,
    fmt: str = "nc",
    overwrite: bool = False,
    history: str = "oceaninterp.simulate.truth.simulate_truth",
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Run the QG truth and write it as daily SSH and SST on a lon/lat grid.

    Parameters
    ----------
    output_dir
        Folder of the output ``truth.nc`` (or ``truth.zarr``).
    days
        Number of days written (after the spin-up).
    resolution
        Grid spacing, degrees (any value; the model grid is 7.8 km at 256^2).
    seed
        Seed of the initial perturbation (the only randomness).
    start
        First day, ISO date (labels only: the model has no calendar).
    region
        (lon_min, lon_max, lat_min, lat_max) in degrees.
    grid_points
        Model grid points per side over its domain.
    domain_km
        Side of the doubly periodic model domain, km (2000: 7.8 km cells at
        256 points; the box must fit in 60 % of it).
    spinup_days
        Model days run and discarded before the first output day (default
        :data:`SPINUP_DAYS` of the physics: 120 for v1, 180 for v2, whose
        eddies saturate after about 130 days).
    physics
        QG physics version (:func:`~oceaninterp.simulate.qg.physics_parameters`):
        ``"v2"`` (default: parameters of the box's latitude, free eddies, a
        spectrum near ``k^-5``) or ``"v1"`` (the 37N set-up of the
        ``sample_data`` truth, which it reproduces).
    device, dtype
        Torch device and float type of the model.
    threads
        Torch CPU threads while the model runs (``None``: leave torch's setting).
    fmt
        ``"nc"`` or ``"zarr"``.
    overwrite
        Replace an existing output.
    history
        The command line, for the ``history`` attribute.
    progress
        Called as ``progress(done, total)`` after each model day.

    Returns
    -------
    Path
        The written truth. Its global attributes hold the statistics of
        :func:`truth_statistics` (``stat_*``).
    """
    from scipy.ndimage import map_coordinates

    from oceaninterp import cf
    from oceaninterp.io import check_output, output_format, write_dataset

    if spinup_days is None:
        spinup_days = SPINUP_DAYS.get(physics, 180)
    if days < 1 or spinup_days < 0:
        raise ConfigError(
            f"days/spinup_days: expected days >= 1 and spinup_days >= 0, got {days}, {spinup_days}"
        )
    if fmt not in ("nc", "zarr"):
        raise ConfigError(f"format: expected 'nc' or 'zarr', got {fmt!r}")
    path = check_output(Path(output_dir) / f"{TRUTH_NAME}.{fmt}", overwrite)
    lat, lon = truth_grid(region, resolution)
    try:
        params = physics_parameters(
            physics, 0.5 * (region[2] + region[3]), n=grid_points, length=domain_km * 1e3
        )
    except ValueError as exc:
        raise ConfigError(f"region/physics: {exc}") from None
    rows, cols = model_coordinates(lat, lon, params)
    model = TwoLayerQG(params, seed=seed, device=device, dtype=dtype)
    total = spinup_days + days
    ssh = np.empty((days, lat.size, lon.size), np.float32)
    sst = np.empty_like(ssh)
    with torch_threads(threads):
        for done, _ in enumerate(model.run_days(spinup_days), start=1):
            if progress:
                progress(done, total)
        for day, (eta, tracer) in enumerate(model.run_days(days)):
            ssh[day] = map_coordinates(eta, [rows, cols], order=3, mode="grid-wrap") + SSH_OFFSET
            sst[day] = map_coordinates(tracer, [rows, cols], order=3, mode="grid-wrap")
            if progress:
                progress(spinup_days + day + 1, total)
    stats = truth_statistics(ssh, sst, lat, resolution)
    times = np.datetime64(start, "D") + np.arange(days).astype("timedelta64[D]")
    ds = xr.Dataset(
        {
            "ssh": (
                ("time", "latitude", "longitude"),
                ssh,
                {
                    "standard_name": "sea_surface_height_above_geoid",
                    "long_name": "Sea surface height above geoid (QG truth)",
                    "units": "m",
                    "cell_methods": "time: point",
                    "coverage_content_type": "modelResult",
                },
            ),
            "sst": (
                ("time", "latitude", "longitude"),
                sst,
                {
                    "standard_name": "sea_surface_temperature",
                    "long_name": "Sea surface temperature (QG tracer truth)",
                    "units": "K",
                    "cell_methods": "time: point",
                    "coverage_content_type": "modelResult",
                },
            ),
        },
        coords={"time": times.astype("datetime64[ns]"), "latitude": lat, "longitude": lon},
    )
    ds = cf.cf_grid_coords(ds)
    extra: dict[str, Any] = {f"stat_{k}": v for k, v in stats.items()}
    ds.attrs.update(
        cf.global_attributes(
            ds,
            title="oceaninterp OSSE truth: two-layer QG Gulf-Stream-like jet",
            summary=(
                "Daily SSH and SST of a two-layer quasi-geostrophic model (beta-plane, "
                f"f0 {params.f0:.3e} s-1, Rossby radius {params.rossby_radius / 1e3:.1f} km, "
                f"{'zonal-mean ' if params.relaxation == 'zonal' else ''}PV relaxed toward a "
                "jet, SST tracer) interpolated onto a lon/lat box; "
                f"spin-up of {spinup_days} model days discarded."
            ),
            history=history,
            processing_level="model output",
            source="oceaninterp two-layer QG model",
            ssh_kind="adt",
            resolution=float(resolution),
            seed=int(seed),
            spinup_days=int(spinup_days),
            qg_grid_points=int(grid_points),
            qg_domain_km=params.length / 1e3,
            qg_physics=physics,
            qg_f0=params.f0,
            qg_beta=params.beta,
            qg_rossby_radius_km=params.rossby_radius / 1e3,
            **extra,
        )
    )
    encoding = cf.encoding(ds, output_format(path))
    if output_format(path) == "netcdf":
        encoding["ssh"]["least_significant_digit"] = 4
        encoding["sst"]["least_significant_digit"] = 3
    return write_dataset(ds, path, overwrite=overwrite, encoding=encoding)
